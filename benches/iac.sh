#!/usr/bin/env bash
# Benchmark of `kvaudit iac` (see benches/README.md, "IaC"):
#   bash benches/iac.sh [RUNS]     # default 3
# 1. a Terraform plan with 5,000 resources (1,000 vaults, each with a
#    diagnostic setting, a key and a secret, and 1,000 private endpoints),
#    the vaults made by one for_each in a module;
# 2. 1,000 ARM templates, each declaring a vault and its diagnostic setting.
# Prints the wall time and peak RSS of each run (release build, SARIF to a file).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release --quiet --bin kvaudit
work=${TMPDIR:-/tmp}/kvaudit-bench-iac
rm -rf "$work" && mkdir -p "$work/templates"
python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
SUB = "11111111-2222-3333-4444-555555555555"
changes, config = [], []
def change(addr, typ, index, after, unknown):
    return {"address": addr, "module_address": "module.kv", "mode": "managed", "type": typ, "name": addr.split(".")[3].split("[")[0],
            "index": index, "provider_name": "registry.terraform.io/hashicorp/azurerm",
            "change": {"actions": ["create"], "before": None, "after": after, "after_unknown": unknown}}
for n in range(1000):
    k = f"v{n:04d}"
    changes.append(change(f'module.kv.azurerm_key_vault.this["{k}"]', "azurerm_key_vault", k,
        {"name": f"kv-b-{k}", "location": "westeurope", "resource_group_name": "rg-app", "sku_name": "standard",
         "purge_protection_enabled": n % 2 == 0, "soft_delete_retention_days": 90, "public_network_access_enabled": False,
         "rbac_authorization_enabled": True, "network_acls": [{"bypass": "AzureServices", "default_action": "Deny"}]},
        {"id": True, "vault_uri": True}))
    changes.append(change(f'module.kv.azurerm_monitor_diagnostic_setting.audit["{k}"]', "azurerm_monitor_diagnostic_setting", k,
        {"name": "audit", "log_analytics_workspace_id": f"/subscriptions/{SUB}/resourceGroups/rg-mon/providers/Microsoft.OperationalInsights/workspaces/law",
         "enabled_log": [{"category_group": "audit"}] if n % 3 else []}, {"id": True, "target_resource_id": True}))
    changes.append(change(f'module.kv.azurerm_key_vault_key.cmk["{k}"]', "azurerm_key_vault_key", k,
        {"name": "cmk", "key_type": "RSA", "expiration_date": "2027-12-01T00:00:00Z",
         "rotation_policy": [{"automatic": [{"time_before_expiry": "P30D"}], "expire_after": "P1Y"}]}, {"id": True, "key_vault_id": True}))
    changes.append(change(f'module.kv.azurerm_key_vault_secret.db["{k}"]', "azurerm_key_vault_secret", k,
        {"name": "db-password", "expiration_date": "2027-12-01T00:00:00Z"}, {"id": True, "key_vault_id": True}))
    changes.append(change(f'module.kv.azurerm_private_endpoint.pe["{k}"]', "azurerm_private_endpoint", k,
        {"name": f"pe-{k}", "private_service_connection": [{"name": "vault", "is_manual_connection": False}]},
        {"id": True, "private_service_connection": [{"private_connection_resource_id": True}]}))
ref = lambda field: {field: {"references": ["azurerm_key_vault.this", "each.key"]}}
resources = [{"address": f"{t}.{n}", "mode": "managed", "type": t, "name": n, "expressions": e} for t, n, e in [
    ("azurerm_key_vault", "this", {}),
    ("azurerm_monitor_diagnostic_setting", "audit", ref("target_resource_id")),
    ("azurerm_key_vault_key", "cmk", ref("key_vault_id")),
    ("azurerm_key_vault_secret", "db", ref("key_vault_id")),
    ("azurerm_private_endpoint", "pe", {"private_service_connection": [ref("private_connection_resource_id")]}),
]]
plan = {"format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": changes,
        "configuration": {"root_module": {"module_calls": {"kv": {"source": "./modules/kv", "module": {"resources": resources}}}}}}
json.dump(plan, open(os.path.join(work, "plan.json"), "w"))
S = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
for n in range(1000):
    t = {"$schema": S, "contentVersion": "1.0.0.0", "parameters": {"name": {"type": "string", "defaultValue": f"kv-t-{n:04d}"}},
         "resources": [
            {"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-07-01", "name": "[parameters('name')]", "location": "[resourceGroup().location]",
             "properties": {"tenantId": "[subscription().tenantId]", "sku": {"family": "A", "name": "standard"}, "enablePurgeProtection": True}},
            {"type": "Microsoft.Insights/diagnosticSettings", "apiVersion": "2021-05-01-preview", "name": "audit",
             "scope": "[format('Microsoft.KeyVault/vaults/{0}', parameters('name'))]",
             "properties": {"workspaceId": "[resourceId('Microsoft.OperationalInsights/workspaces', 'law')]", "logs": [{"categoryGroup": "audit", "enabled": True}]}}]}
    json.dump(t, open(os.path.join(work, "templates", f"t{n:04d}.json"), "w"), indent=2)
PY
for what in plan templates; do
  if [[ $what == plan ]]; then input=$work/plan.json; else input=$work/templates; fi
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "$what: %e s wall, %M KB peak" target/release/kvaudit iac "$input" \
      --subscription-id 11111111-2222-3333-4444-555555555555 --format sarif --output "$work/out.sarif" 2>&1 \
      | grep -E "wall|judged" || true
  done
done

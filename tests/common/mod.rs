//! Builders for inventories in Azure's own shapes, shared by the tests.
#![allow(dead_code)]
use serde_json::{Value, json};

/// `--rule` flags for the mission's four rules (audit logging, admin
/// alerts, 401s and 403s).
pub const MISSION: &[&str] = &[
    "--rule",
    "kv/audit-logging",
    "--rule",
    "kv/admin-alert",
    "--rule",
    "kv/*-requests",
];

pub const SUB: &str = "6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7";
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const WINDOW_END: &str = "2026-11-27T09:00:00Z";

pub fn sub_id() -> String {
    format!("/subscriptions/{SUB}")
}

pub fn vault_id(rg: &str, name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}")
}

pub fn workspace_id() -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-sec"
    )
}

pub fn action_group_id(name: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/{name}"
    )
}

/// A vault object as Vaults_Get (2026-02-01) returns it.
pub fn vault(rg: &str, name: &str) -> Value {
    json!({
        "id": vault_id(rg, name),
        "name": name,
        "type": "Microsoft.KeyVault/vaults",
        "location": "westeurope",
        "tags": {},
        "properties": {
            "tenantId": TENANT,
            "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [],
            "vaultUri": format!("https://{name}.vault.azure.net/"),
            "enabledForDeployment": false,
            "enableSoftDelete": true,
            "softDeleteRetentionInDays": 90,
            "enableRbacAuthorization": true,
            "publicNetworkAccess": "Enabled",
            "provisioningState": "Succeeded"
        }
    })
}

/// A diagnostic setting (2021-05-01-preview list item) with the given destination and logs.
pub fn setting(vault: &str, name: &str, workspace: &str, storage: &str, logs: Value) -> Value {
    json!({
        "id": format!("{vault}/providers/microsoft.insights/diagnosticSettings/{name}"),
        "type": "Microsoft.Insights/diagnosticSettings",
        "name": name,
        "properties": {
            "storageAccountId": storage,
            "workspaceId": workspace,
            "eventHubAuthorizationRuleId": null,
            "marketplacePartnerId": null,
            "logAnalyticsDestinationType": null,
            "metrics": [{"category": "AllMetrics", "enabled": false, "retentionPolicy": {"enabled": false, "days": 0}}],
            "logs": logs
        }
    })
}

pub fn audit_to_workspace(vault: &str) -> Value {
    setting(
        vault,
        "audit",
        &workspace_id(),
        "",
        json!([{"categoryGroup": "audit", "enabled": true}]),
    )
}

pub fn ok(v: Value) -> Value {
    json!({"status": "ok", "value": v})
}

pub fn err(code: &str, message: &str, status: u16) -> Value {
    json!({"status": "error", "error": {"code": code, "message": message, "httpStatus": status}})
}

/// An activity-log alert (2020-10-01).
pub fn alert(
    name: &str,
    scopes: Value,
    all_of: Value,
    action_groups: &[&str],
    enabled: bool,
) -> Value {
    json!({
        "id": format!("/subscriptions/{SUB}/resourceGroups/rg-monitoring/providers/microsoft.insights/activityLogAlerts/{name}"),
        "type": "Microsoft.Insights/ActivityLogAlerts",
        "name": name,
        "location": "Global",
        "tags": {},
        "properties": {
            "scopes": scopes,
            "condition": {"allOf": all_of},
            "actions": {"actionGroups": action_groups.iter().map(|g| json!({"actionGroupId": action_group_id(g), "webhookProperties": {}})).collect::<Vec<_>>()},
            "enabled": enabled,
            "description": name
        }
    })
}

/// The common Bicep pattern: category + resourceType + anyOf(write, delete).
pub fn admin_condition() -> Value {
    json!([
        {"field": "category", "equals": "Administrative"},
        {"field": "resourceType", "equals": "Microsoft.KeyVault/vaults"},
        {"anyOf": [
            {"field": "operationName", "equals": "Microsoft.KeyVault/vaults/write"},
            {"field": "operationName", "equals": "Microsoft.KeyVault/vaults/delete"}
        ]}
    ])
}

pub fn action_group(name: &str, enabled: bool, with_receiver: bool) -> Value {
    let emails = if with_receiver {
        json!([{"name": "soc", "emailAddress": "soc@contoso.example", "useCommonAlertSchema": true, "status": "Enabled"}])
    } else {
        json!([])
    };
    json!({
        "id": action_group_id(name),
        "type": "Microsoft.Insights/ActionGroups",
        "name": name,
        "location": "Global",
        "properties": {"groupShortName": name, "enabled": enabled, "emailReceivers": emails, "smsReceivers": [], "webhookReceivers": []}
    })
}

pub fn audit_ok(unauthorized: Value, forbidden: Value) -> Value {
    json!({
        "status": "ok",
        "workspaceId": workspace_id(),
        "tables": ["AzureDiagnostics", "AZKVAuditLogs"],
        "windowStart": "2026-11-26T09:00:00Z",
        "windowEnd": WINDOW_END,
        "challengeWindowSeconds": 60,
        "unauthorized": unauthorized,
        "forbidden": forbidden
    })
}

pub fn unauthorized(ip: &str, client: &str, count: u64, challenges: u64, last: &str) -> Value {
    let mut g = json!({
        "callerIp": ip, "client": client, "identity": {},
        "count": count, "challenges": challenges, "unexplained": count - challenges,
        "firstSeen": "2026-11-26T12:00:00Z", "lastSeen": last, "operations": ["Authentication"]
    });
    if count > challenges {
        g["lastUnexplained"] = json!(last);
    }
    g
}

pub fn forbidden(ip: &str, identity: Value, count: u64, last: &str) -> Value {
    json!({
        "callerIp": ip, "client": "azsdk-python-keyvault-secrets/4.8.0", "identity": identity,
        "count": count, "firstSeen": "2026-11-27T01:00:00Z", "lastSeen": last,
        "operations": ["SecretGet"], "resultDescription": "Caller is not authorized to perform action on resource."
    })
}

pub fn vault_entry(vault: Value, settings: Value, audit: Value) -> Value {
    json!({"vault": vault, "diagnosticSettings": settings, "auditLogs": audit})
}

/// An inventory of one subscription with `alerts`, `groups` and `vaults`.
pub fn inventory(alerts: Value, groups: Value, vaults: Vec<Value>) -> Value {
    json!({
        "schemaVersion": 1,
        "generatedAt": WINDOW_END,
        "generator": {"name": "kvaudit", "version": "test", "kind": "hand-written"},
        "subscriptions": [{
            "subscription": {"id": sub_id(), "subscriptionId": SUB, "displayName": "contoso-test", "state": "Enabled", "tenantId": TENANT},
            "activityLogAlerts": alerts,
            "actionGroups": groups,
            "scheduledQueryRules": ok(json!([]))
        }],
        "vaults": vaults,
        "workspaces": [{
            "id": workspace_id(), "name": "law-sec", "type": "Microsoft.OperationalInsights/workspaces", "location": "westeurope",
            "properties": {"customerId": "0b7a9c3e-2f44-4c1e-9d55-6e8f1a2b3c4d", "retentionInDays": 90}
        }],
        "diagnosticCategories": {}
    })
}

/// Runs the kvaudit binary with `args`: its exit code, stdout and stderr.
pub fn run_kvaudit(args: &[&str]) -> (i32, String, String) {
    let o = assert_cmd::Command::cargo_bin("kvaudit")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The demo tenant's inventory (`fixtures/demo/inventory.json`).
pub fn demo_inventory() -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/inventory.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The findings of `kvaudit eval` on `inv`, with `--rule` for each of `rules`.
pub fn eval_findings(inv: &Value, rules: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("inv.json");
    std::fs::write(&p, inv.to_string()).unwrap();
    let mut args = vec!["eval", p.to_str().unwrap(), "-f", "json"];
    for r in rules {
        args.extend(["--rule", r]);
    }
    let (_, out, err) = run_kvaudit(&args);
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    doc["findings"].as_array().unwrap().clone()
}

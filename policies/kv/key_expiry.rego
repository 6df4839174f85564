# kv/key-expiry: every enabled key has an expiration date.
package kvaudit.kv.key_expiry

import data.kvaudit.lib

metadata := {
	"id": "kv/key-expiry",
	"title": "Every enabled key has an expiration date",
	"description": "Every enabled key of the vault has attributes.exp set, read through the management plane (keys list on ARM), so vaults closed to public networks are judged too. Disabled keys are skipped.",
	"severity": "medium",
	"scope": "vault",
	"help": concat("\n", [
		"A key without an expiration date is used until someone remembers to replace it; with one, Key Vault and Event Grid can warn before it expires and the key cannot be used after.",
		"The check lists the vault's keys through Azure Resource Manager ({vault}/keys), which answers even when the vault's own endpoint is private, and fails for each enabled key without attributes.exp. It is not evaluable when the list is refused (403) or was not collected.",
		"Remediation: az keyvault key set-attributes --vault-name <vault> --name <key> --expires 2027-12-31T00:00:00Z",
	]),
	"markdown": concat("\n", [
		"A key without an **expiration date** stays valid until somebody remembers to replace it. CIS splits",
		"the check by permission model (8.3.1 and 8.3.2 in v6.0, for RBAC and access-policy vaults); kvaudit",
		"judges both in one rule and says which model the vault uses.",
		"",
		"kvaudit lists keys through **Azure Resource Manager** (`GET {vault id}/keys`), never the vault's own",
		"endpoint: the list carries metadata only, and it answers for vaults whose public network access is",
		"disabled, which tools reading the data plane silently skip.",
		"",
		"**Fails** for each enabled key (`attributes.enabled` not `false`) without `attributes.exp`. Disabled",
		"keys are skipped (Azure Policy `152b15f7-8e1f-4c1f-ab71-8c010ba5dbc0` also flags them). **Not evaluable** when the list",
		"is refused (for example 403 without `Microsoft.KeyVault/vaults/keys/read`) or was not collected.",
		"",
		"### Remediation (az CLI)",
		"```sh",
		"az keyvault key set-attributes --vault-name <vault> --name <key> --expires 2027-12-31T00:00:00Z",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource item 'Microsoft.KeyVault/vaults/keys@2026-02-01' = {",
		"  parent: vault",
		"  name: '<key name>'",
		"  properties: {",
		"    attributes: { enabled: true, exp: dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y')) }",
		"  }",
		"}",
		"```",
		"(`utcNow()` is only allowed in a parameter default; pass the expiry in as a parameter.)",
		"",
		"### References",
		"- [About Azure Key Vault keys](https://learn.microsoft.com/azure/key-vault/keys/about-keys)",
		"- [Microsoft.KeyVault vaults/keys (ARM template reference)](https://learn.microsoft.com/azure/templates/microsoft.keyvault/vaults/keys)",
		"- Azure Policy [152b15f7-8e1f-4c1f-ab71-8c010ba5dbc0](https://portal.azure.com/#blade/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2F152b15f7-8e1f-4c1f-ab71-8c010ba5dbc0) \"Key Vault keys should have an expiration date\"",
		"- CIS Microsoft Azure Foundations Benchmark: v2.0 8.1 / 8.2, v2.1 8.1 / 8.2, v3.0 3.3.1 / 3.3.2, v4.0 9.3.1 / 9.3.2, v5.0 8.3.1 / 8.3.2, v6.0 8.3.1 / 8.3.2",
	]),
	"references": [
		{"title": "About Azure Key Vault keys", "url": "https://learn.microsoft.com/azure/key-vault/keys/about-keys"},
		{"title": "Microsoft.KeyVault vaults/keys (ARM template reference)", "url": "https://learn.microsoft.com/azure/templates/microsoft.keyvault/vaults/keys"},
	],
	"compliance": {"cis-azure": {"2.0": {"rbac": "8.1", "accessPolicies": "8.2"}, "2.1": {"rbac": "8.1", "accessPolicies": "8.2"}, "3.0": {"rbac": "3.3.1", "accessPolicies": "3.3.2"}, "4.0": {"rbac": "9.3.1", "accessPolicies": "9.3.2"}, "5.0": {"rbac": "8.3.1", "accessPolicies": "8.3.2"}, "6.0": {"rbac": "8.3.1", "accessPolicies": "8.3.2"}}},
	"azurePolicy": ["152b15f7-8e1f-4c1f-ab71-8c010ba5dbc0"],
	"tags": ["lifecycle", "keys"],
	"inputs": ["keys"],
	"fix": {"az": "az keyvault key set-attributes --vault-name {vault} --name {item} --subscription {subscriptionId} --expires \"$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)\""},
}

listed := input.keys

items := listed.value if listed.status == "ok"

# lib.item_enabled, inlined: a vault can hold thousands of items, and each
# function call costs regorus' VM about as much as the rest of an item's
# work (benches/README.md, "The noisy vault").
enabled := [i | some i in items; object.get(i, ["properties", "attributes", "enabled"], true) != false]

missing := [i.name | some i in enabled; not is_number(object.get(i, ["properties", "attributes", "exp"], null))]

results contains r if {
	reason := lib.not_listed_reason(listed, "keys")
	r := {"status": "not_evaluable", "message": reason, "variant": lib.permission_model}
}

results contains r if {
	listed.status == "ok"
	count(missing) == 0
	r := {
		"status": "pass",
		"message": passed,
		"variant": lib.permission_model,
		"evidence": {"enabled": count(enabled), "disabled": count(items) - count(enabled), "permissionModel": lib.permission_model},
	}
}

passed := "the vault has no keys" if count(items) == 0

else := "the vault has no enabled keys" if count(enabled) == 0

else := sprintf("all %v enabled keys have an expiration date", [count(enabled)])

# One result per key, so each can be waived or fixed on its own.
results contains r if {
	model := lib.permission_model
	some name in missing
	r := {
		"status": "fail",
		"discriminator": name,
		"variant": model,
		"message": sprintf("key '%v' is enabled and never expires (attributes.exp is not set)", [name]),
		"evidence": {"name": name, "permissionModel": model},
	}
}

# kv/secret-expiry: every enabled secret has an expiration date.
package kvaudit.kv.secret_expiry

import data.kvaudit.lib

metadata := {
	"id": "kv/secret-expiry",
	"title": "Every enabled secret has an expiration date",
	"description": "Every enabled secret of the vault has attributes.exp set, read through the management plane (secrets list on ARM), so vaults closed to public networks are judged too. Disabled secrets are skipped.",
	"severity": "medium",
	"scope": "vault",
	"help": concat("\n", [
		"A secret without an expiration date is used until someone remembers to replace it; with one, Key Vault and Event Grid can warn before it expires and the secret cannot be used after.",
		"The check lists the vault's secrets through Azure Resource Manager ({vault}/secrets), which answers even when the vault's own endpoint is private, and fails for each enabled secret without attributes.exp. It is not evaluable when the list is refused (403) or was not collected.",
		"Remediation: az keyvault secret set-attributes --vault-name <vault> --name <secret> --expires 2027-12-31T00:00:00Z",
	]),
	"markdown": concat("\n", [
		"A secret without an **expiration date** stays valid until somebody remembers to replace it. CIS splits",
		"the check by permission model (8.3.3 and 8.3.4 in v6.0, for RBAC and access-policy vaults); kvaudit",
		"judges both in one rule and says which model the vault uses.",
		"",
		"kvaudit lists secrets through **Azure Resource Manager** (`GET {vault id}/secrets`), never the vault's own",
		"endpoint: the list carries metadata only, and it answers for vaults whose public network access is",
		"disabled, which tools reading the data plane silently skip.",
		"",
		"**Fails** for each enabled secret (`attributes.enabled` not `false`) without `attributes.exp`. Disabled",
		"secrets are skipped (Azure Policy `98728c90-32c7-4049-8429-847dc0f4fe37` also flags them). **Not evaluable** when the list",
		"is refused (for example 403 without `Microsoft.KeyVault/vaults/secrets/read`) or was not collected.",
		"",
		"### Remediation (az CLI)",
		"```sh",
		"az keyvault secret set-attributes --vault-name <vault> --name <secret> --expires 2027-12-31T00:00:00Z",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource item 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = {",
		"  parent: vault",
		"  name: '<secret name>'",
		"  properties: {",
		"    attributes: { enabled: true, exp: dateTimeToEpoch(dateTimeAdd(utcNow(), 'P1Y')) }",
		"  }",
		"}",
		"```",
		"(`utcNow()` is only allowed in a parameter default; pass the expiry in as a parameter.)",
		"",
		"### References",
		"- [About Azure Key Vault secrets](https://learn.microsoft.com/azure/key-vault/secrets/about-secrets)",
		"- [Microsoft.KeyVault vaults/secrets (ARM template reference)](https://learn.microsoft.com/azure/templates/microsoft.keyvault/vaults/secrets)",
		"- Azure Policy [98728c90-32c7-4049-8429-847dc0f4fe37](https://portal.azure.com/#blade/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2F98728c90-32c7-4049-8429-847dc0f4fe37) \"Key Vault secrets should have an expiration date\"",
		"- CIS Microsoft Azure Foundations Benchmark: v2.0 8.3 / 8.4, v2.1 8.3 / 8.4, v3.0 3.3.3 / 3.3.4, v4.0 9.3.3 / 9.3.4, v5.0 8.3.3 / 8.3.4, v6.0 8.3.3 / 8.3.4",
	]),
	"references": [
		{"title": "About Azure Key Vault secrets", "url": "https://learn.microsoft.com/azure/key-vault/secrets/about-secrets"},
		{"title": "Microsoft.KeyVault vaults/secrets (ARM template reference)", "url": "https://learn.microsoft.com/azure/templates/microsoft.keyvault/vaults/secrets"},
	],
	"compliance": {"cis-azure": {"2.0": {"rbac": "8.3", "accessPolicies": "8.4"}, "2.1": {"rbac": "8.3", "accessPolicies": "8.4"}, "3.0": {"rbac": "3.3.3", "accessPolicies": "3.3.4"}, "4.0": {"rbac": "9.3.3", "accessPolicies": "9.3.4"}, "5.0": {"rbac": "8.3.3", "accessPolicies": "8.3.4"}, "6.0": {"rbac": "8.3.3", "accessPolicies": "8.3.4"}}},
	"azurePolicy": ["98728c90-32c7-4049-8429-847dc0f4fe37"],
	"tags": ["lifecycle", "secrets"],
	"inputs": ["secrets"],
	"fix": {"az": "az keyvault secret set-attributes --vault-name {vault} --name {item} --subscription {subscriptionId} --expires \"$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)\""},
}

listed := input.secrets

items := listed.value if listed.status == "ok"

# lib.item_enabled, inlined: a vault can hold thousands of items, and each
# function call costs regorus' VM about as much as the rest of an item's
# work (benches/README.md, "The noisy vault").
enabled := [i | some i in items; object.get(i, ["properties", "attributes", "enabled"], true) != false]

missing := [i.name | some i in enabled; not is_number(object.get(i, ["properties", "attributes", "exp"], null))]

results contains r if {
	reason := lib.not_listed_reason(listed, "secrets")
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

passed := "the vault has no secrets" if count(items) == 0

else := "the vault has no enabled secrets" if count(enabled) == 0

else := sprintf("all %v enabled secrets have an expiration date", [count(enabled)])

# One result per secret, so each can be waived or fixed on its own.
results contains r if {
	model := lib.permission_model
	some name in missing
	r := {
		"status": "fail",
		"discriminator": name,
		"variant": model,
		"message": sprintf("secret '%v' is enabled and never expires (attributes.exp is not set)", [name]),
		"evidence": {"name": name, "permissionModel": model},
	}
}

# kv/purge-protection: a deleted vault cannot be purged before its retention ends.
package kvaudit.kv.purge_protection

import data.kvaudit.lib

metadata := {
	"id": "kv/purge-protection",
	"title": "Purge protection is enabled",
	"description": "properties.enablePurgeProtection is true, so neither the vault nor its keys, secrets and certificates can be purged (deleted for good) before the soft-delete retention period ends. Missing or null counts as off.",
	"severity": "high",
	"scope": "vault",
	"help": concat("\n", [
		"Without purge protection anyone who can delete a vault or a key can also purge it, destroying it for good (and every key it encrypted) before anyone can recover it.",
		"The check passes when properties.enablePurgeProtection is true. Azure omits the field, or writes null, while it is off; both count as off.",
		"Remediation: az keyvault update --name <vault> --enable-purge-protection true (it cannot be turned off again).",
	]),
	"markdown": concat("\n", [
		"**Purge protection** makes a deleted vault, key, secret or certificate unrecoverable only after the",
		"soft-delete retention period: nobody, not even a subscription owner, can purge it earlier. Without it, an",
		"attacker or a mistaken script that deletes a vault can purge it at once, and every key it held is gone.",
		"",
		"**Passes when** `properties.enablePurgeProtection` is `true`. Azure leaves the field out (or writes `null`)",
		"while purge protection is off, and it can never be set back to `false` once on, so a missing value is off.",
		"",
		"### Remediation (az CLI)",
		"```sh",
		"az keyvault update --name <vault> --resource-group <rg> --enable-purge-protection true",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource vault 'Microsoft.KeyVault/vaults@2026-02-01' = {",
		"  name: vaultName",
		"  location: location",
		"  properties: {",
		"    tenantId: tenant().tenantId",
		"    sku: { family: 'A', name: 'standard' }",
		"    enableSoftDelete: true",
		"    enablePurgeProtection: true",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Azure Key Vault soft-delete overview](https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview)",
		"- [Microsoft.KeyVault vaults (ARM template reference)](https://learn.microsoft.com/azure/templates/microsoft.keyvault/vaults)",
		"- Azure Policy [0b60c0b2-2dc2-4e1c-b5c9-abbed971de53](https://portal.azure.com/#blade/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2F0b60c0b2-2dc2-4e1c-b5c9-abbed971de53) \"Key vaults should have deletion protection enabled\"",
		"- CIS Microsoft Azure Foundations Benchmark: v2.0 8.5, v2.1 8.5, v3.0 3.3.5, v4.0 9.3.5, v5.0 8.3.5, v6.0 8.3.5",
	]),
	"references": [
		{"title": "Azure Key Vault soft-delete overview", "url": "https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview"},
		{"title": "Microsoft.KeyVault vaults (ARM template reference)", "url": "https://learn.microsoft.com/azure/templates/microsoft.keyvault/vaults"},
	],
	"compliance": {"cis-azure": {"2.0": "8.5", "2.1": "8.5", "3.0": "3.3.5", "4.0": "9.3.5", "5.0": "8.3.5", "6.0": "8.3.5"}},
	"azurePolicy": ["0b60c0b2-2dc2-4e1c-b5c9-abbed971de53"],
	"tags": ["data-protection", "recoverability"],
	"inputs": [],
	"fix": {"az": "az keyvault update --name {vault} --resource-group {resourceGroup} --subscription {subscriptionId} --enable-purge-protection true"},
}

setting := object.get(input.vault, ["properties", "enablePurgeProtection"], null)

results contains r if {
	setting == true
	r := {
		"status": "pass",
		"message": "purge protection is enabled: the vault and its objects cannot be purged before their retention period ends",
		"evidence": {"enablePurgeProtection": true},
	}
}

results contains r if {
	setting != true
	r := {
		"status": "fail",
		"message": sprintf("purge protection is off (enablePurgeProtection is %v): a deleted vault or key can be purged at once and is then lost for good", [lib.shown(setting)]),
		"evidence": {"enablePurgeProtection": setting},
	}
}

# kv/soft-delete-retention: deleted objects stay recoverable long enough.
package kvaudit.kv.soft_delete_retention

import data.kvaudit.lib

metadata := {
	"id": "kv/soft-delete-retention",
	"title": "Soft-delete retention is at least the configured minimum",
	"description": "Soft delete is on and properties.softDeleteRetentionInDays is at least the minimum in the policy data (config.softDeleteRetentionMinDays, default 90, the Azure maximum). A vault that does not state its retention has Azure's default of 90 days.",
	"severity": "low",
	"scope": "vault",
	"help": concat("\n", [
		"The retention period is how long a deleted vault, key, secret or certificate can still be recovered; it is set at creation (7 to 90 days) and cannot be changed afterwards.",
		"The check passes when enableSoftDelete is not false and softDeleteRetentionInDays is at least config.softDeleteRetentionMinDays (default 90). A missing value is Azure's default, 90.",
		"Remediation: the retention of an existing vault cannot be changed; create a new vault with --retention-days 90 and move the objects.",
	]),
	"markdown": concat("\n", [
		"The **soft-delete retention period** is how long a deleted vault or object can still be recovered (and, with",
		"purge protection, how long it must wait before it can be purged). It is chosen when the vault is created,",
		"from 7 to 90 days, and cannot be changed afterwards. A 7-day retention turns a deletion noticed after a long",
		"weekend plus a few days into a permanent loss.",
		"",
		"**Passes when** soft delete is not disabled and `properties.softDeleteRetentionInDays` is at least the",
		"minimum in the policy data, `config.softDeleteRetentionMinDays` (default **90**; 7 to 90 allowed). Azure",
		"fills in 90 when a vault was created without a value; kvaudit reads a missing value the same way and says so.",
		"No CIS version and no built-in Azure Policy checks the retention length; Azure Policy",
		"`1e66c121-a66a-4b1f-9b83-0fd99bf0fc2d` only checks that soft delete is on.",
		"",
		"### Remediation (az CLI)",
		"The retention of an existing vault is fixed. Create a new vault with a longer one and move the objects:",
		"```sh",
		"az keyvault create --name <new vault> --resource-group <rg> --retention-days 90 --enable-purge-protection true",
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
		"    softDeleteRetentionInDays: 90",
		"    enablePurgeProtection: true",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Azure Key Vault soft-delete overview](https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview)",
	]),
	"references": [
		{"title": "Azure Key Vault soft-delete overview", "url": "https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview"},
	],
	"compliance": {},
	"azurePolicy": [],
	"tags": ["data-protection", "recoverability"],
	"inputs": [],
	"fix": {"az": concat("\n", [
		"# the retention of an existing vault is fixed: create a new vault with a longer one and move the objects",
		"az keyvault create --name {newVault} --resource-group {resourceGroup} --subscription {subscriptionId} --location {location} --retention-days 90 --enable-purge-protection true",
	])},
}

minimum := object.get(data.config, "softDeleteRetentionMinDays", 90)

props := object.get(input.vault, "properties", {})

# Azure writes 90 when a vault is created without a value.
stated := object.get(props, "softDeleteRetentionInDays", null)

days := stated if is_number(stated)

else := 90

results contains r if {
	object.get(props, "enableSoftDelete", null) == false
	r := {
		"status": "fail",
		"message": "soft delete is disabled (enableSoftDelete is false): a deleted vault or object cannot be recovered at all",
		"evidence": {"enableSoftDelete": false},
	}
}

results contains r if {
	object.get(props, "enableSoftDelete", null) != false
	days >= minimum
	r := {
		"status": "pass",
		"message": sprintf("deleted objects stay recoverable for %v days%v (minimum %v)", [days, assumed, minimum]),
		"evidence": {"softDeleteRetentionInDays": stated, "minimumDays": minimum},
	}
}

results contains r if {
	object.get(props, "enableSoftDelete", null) != false
	days < minimum
	r := {
		"status": "fail",
		"message": sprintf("deleted objects stay recoverable for only %v days, below the minimum of %v (policy data config.softDeleteRetentionMinDays); the retention cannot be changed on an existing vault", [days, minimum]),
		"evidence": {"softDeleteRetentionInDays": stated, "minimumDays": minimum},
	}
}

assumed := "" if is_number(stated)

else := " (softDeleteRetentionInDays is not set: Azure's default)"

# kv/public-network-access: the vault cannot be reached from public networks.
package kvaudit.kv.public_network_access

import data.kvaudit.lib

metadata := {
	"id": "kv/public-network-access",
	"title": "Public network access is disabled",
	"description": "properties.publicNetworkAccess is Disabled (case-insensitive), so the vault answers only through private endpoints. Missing counts as Enabled, Azure's default.",
	"severity": "medium",
	"scope": "vault",
	"help": concat("\n", [
		"With public network access enabled the vault's endpoint answers from the internet, limited at most by its firewall rules; disabled, only private endpoints reach it (and trusted services when the firewall bypass allows them).",
		"The check passes when properties.publicNetworkAccess equals Disabled, in any case. A missing value is Azure's default, Enabled.",
		"Remediation: create a private endpoint first, then az keyvault update --name <vault> --public-network-access Disabled.",
	]),
	"markdown": concat("\n", [
		"`publicNetworkAccess` decides whether the vault's endpoint answers on the public internet at all. The",
		"firewall (`networkAcls`, see `kv/firewall-default-deny`) filters public traffic; `Disabled` turns it off, so",
		"only private endpoints (see `kv/private-endpoint`) reach the vault. The three are separate controls, and",
		"peers conflate them: Steampipe's CIS 8.3.7 control reads only the firewall's `defaultAction`, Prowler",
		"judges only vaults that already have a private endpoint.",
		"",
		"**Passes when** `properties.publicNetworkAccess` is `Disabled` (compared case-insensitively). A missing",
		"value is Azure's default, `Enabled`.",
		"",
		"### Remediation (az CLI)",
		"Give the vault's clients a private endpoint first, then:",
		"```sh",
		"az keyvault update --name <vault> --resource-group <rg> --public-network-access Disabled",
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
		"    publicNetworkAccess: 'Disabled'",
		"    networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' }",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Configure Azure Key Vault networking settings](https://learn.microsoft.com/azure/key-vault/general/how-to-azure-key-vault-network-security)",
		"- Azure Policy [405c5871-3e91-4644-8a63-58e19d68ff5b](https://portal.azure.com/#blade/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2F405c5871-3e91-4644-8a63-58e19d68ff5b) \"Azure Key Vault should disable public network access\"",
		"- CIS Microsoft Azure Foundations Benchmark: v4.0 9.3.7, v5.0 8.3.7, v6.0 8.3.7",
	]),
	"references": [
		{"title": "Configure Azure Key Vault networking settings", "url": "https://learn.microsoft.com/azure/key-vault/general/how-to-azure-key-vault-network-security"},
	],
	"compliance": {"cis-azure": {"4.0": "9.3.7", "5.0": "8.3.7", "6.0": "8.3.7"}},
	"azurePolicy": ["405c5871-3e91-4644-8a63-58e19d68ff5b"],
	"tags": ["network"],
	"inputs": [],
	"fix": {"az": concat("\n", [
		"# give the vault's clients a private endpoint first (kv/private-endpoint)",
		"az keyvault update --name {vault} --resource-group {resourceGroup} --subscription {subscriptionId} --public-network-access Disabled",
	])},
}

setting := object.get(input.vault, ["properties", "publicNetworkAccess"], null)

default_action := lib.str(object.get(input.vault, ["properties", "networkAcls", "defaultAction"], ""))

results contains r if {
	lower(lib.str(setting)) == "disabled"
	r := {
		"status": "pass",
		"message": sprintf("public network access is %v: only private endpoints reach the vault", [setting]),
		"evidence": {"publicNetworkAccess": setting},
	}
}

results contains r if {
	lower(lib.str(setting)) != "disabled"
	r := {
		"status": "fail",
		"message": sprintf("public network access is %v%v", [shown_setting, firewall_note]),
		"evidence": {"publicNetworkAccess": setting, "networkAclsDefaultAction": default_action},
	}
}

shown_setting := setting if lib.non_empty(setting)

else := "not set (Azure's default, Enabled)"

firewall_note := "; the firewall's defaultAction Deny limits it to the allowed addresses and networks" if {
	lower(default_action) == "deny"
} else := ": the vault's endpoint answers from any network"

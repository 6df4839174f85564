# kv/firewall-default-deny: the firewall denies what it does not allow.
package kvaudit.kv.firewall_default_deny

import data.kvaudit.lib

metadata := {
	"id": "kv/firewall-default-deny",
	"title": "The vault firewall denies by default",
	"description": "properties.networkAcls.defaultAction is Deny (case-insensitive): public traffic reaches the vault only from the allowed IP ranges and virtual networks. Missing networkAcls means Allow.",
	"severity": "medium",
	"scope": "vault",
	"help": concat("\n", [
		"With defaultAction Allow the firewall lets every public address through and its IP rules do nothing; with Deny only the listed IP ranges, virtual network rules and (with bypass AzureServices) trusted services get in.",
		"The check passes when properties.networkAcls.defaultAction equals Deny, in any case. A vault without networkAcls allows all.",
		"Remediation: az keyvault update --name <vault> --default-action Deny --bypass AzureServices, after adding the callers with az keyvault network-rule add.",
	]),
	"markdown": concat("\n", [
		"The vault firewall (`networkAcls`) filters public traffic. With `defaultAction: Allow` every address gets",
		"through and the IP rules are decoration; with `Deny` only the listed IP ranges, virtual-network rules and,",
		"with `bypass: AzureServices`, trusted Microsoft services get in. Steampipe's `keyvault_firewall_enabled`",
		"passes any vault with an IP rule, even under `Allow`, and fails a `Deny` vault that has none.",
		"",
		"**Passes when** `properties.networkAcls.defaultAction` is `Deny` (case-insensitive). It also fails when",
		"public network access is disabled (the message says so): re-enabling public access must not open the vault.",
		"",
		"### Remediation (az CLI)",
		"```sh",
		"az keyvault network-rule add --name <vault> --ip-address 203.0.113.0/24",
		"az keyvault update --name <vault> --resource-group <rg> --default-action Deny --bypass AzureServices",
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
		"    networkAcls: {",
		"      defaultAction: 'Deny'",
		"      bypass: 'AzureServices'",
		"      ipRules: [ { value: '203.0.113.0/24' } ]",
		"    }",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Configure Azure Key Vault firewalls and virtual networks](https://learn.microsoft.com/azure/key-vault/general/network-security)",
		"- Azure Policy [55615ac9-af46-4a59-874e-391cc3dfb490](https://portal.azure.com/#blade/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2F55615ac9-af46-4a59-874e-391cc3dfb490) \"Azure Key Vault should have firewall enabled\"",
	]),
	"references": [
		{"title": "Configure Azure Key Vault firewalls and virtual networks", "url": "https://learn.microsoft.com/azure/key-vault/general/network-security"},
	],
	"compliance": {},
	"azurePolicy": ["55615ac9-af46-4a59-874e-391cc3dfb490"],
	"tags": ["network", "firewall"],
	"inputs": [],
	"fix": {"az": concat("\n", [
		"# first allow the vault's clients: az keyvault network-rule add --name VAULT --ip-address RANGE",
		"az keyvault update --name {vault} --resource-group {resourceGroup} --subscription {subscriptionId} --default-action Deny --bypass AzureServices",
	])},
}

acls := object.get(input.vault, ["properties", "networkAcls"], null)

action := lib.str(object.get(input.vault, ["properties", "networkAcls", "defaultAction"], ""))

public_access := lib.str(object.get(input.vault, ["properties", "publicNetworkAccess"], ""))

evidence := {
	"defaultAction": action,
	"bypass": object.get(input.vault, ["properties", "networkAcls", "bypass"], null),
	"ipRules": count(lib.list(object.get(input.vault, ["properties", "networkAcls", "ipRules"], []))),
	"virtualNetworkRules": count(lib.list(object.get(input.vault, ["properties", "networkAcls", "virtualNetworkRules"], []))),
}

results contains r if {
	lower(action) == "deny"
	r := {
		"status": "pass",
		"message": sprintf("the firewall denies by default (%v IP %v, %v virtual network %v allowed)", [evidence.ipRules, rules_word(evidence.ipRules), evidence.virtualNetworkRules, rules_word(evidence.virtualNetworkRules)]),
		"evidence": evidence,
	}
}

results contains r if {
	lower(action) != "deny"
	r := {
		"status": "fail",
		"message": sprintf("%v%v", [what, public_note]),
		"evidence": evidence,
	}
}

what := "the vault has no firewall (networkAcls is not set, so every address is allowed)" if acls == null

else := sprintf("the firewall's defaultAction is %v: every public address gets through and its %v IP %v change nothing", [action, evidence.ipRules, rules_word(evidence.ipRules)]) if lib.non_empty(action)

else := "the firewall has no defaultAction (Azure treats it as Allow)"

public_note := "; public network access is Disabled today, but re-enabling it would open the vault to all" if lower(public_access) == "disabled"

else := ""

rules_word(1) := "rule"

rules_word(n) := "rules" if n != 1

# kv/rbac-authorization: the vault uses Azure RBAC, not access policies.
package kvaudit.kv.rbac_authorization

import data.kvaudit.lib

metadata := {
	"id": "kv/rbac-authorization",
	"title": "The vault uses the Azure RBAC permission model",
	"description": "properties.enableRbacAuthorization is true. False, missing or null means the legacy vault access policies decide who may read keys, secrets and certificates.",
	"severity": "medium",
	"scope": "vault",
	"help": concat("\n", [
		"With access policies, anyone who may write the vault (Contributor) can grant themselves data access; with Azure RBAC data access is granted by role assignments that only owners and User Access Administrators can make, can be scoped to one secret, and are reviewed with the rest of the tenant's access.",
		"The check passes when properties.enableRbacAuthorization is true. False, missing or null (vaults created with API versions before 2026-02-01) means access policies.",
		"Remediation: assign Key Vault data roles to the identities in the access policies, then az keyvault update --name <vault> --enable-rbac-authorization true.",
	]),
	"markdown": concat("\n", [
		"Key Vault has two permission models for its data plane. With **vault access policies** (legacy), anyone",
		"who may write the vault resource, such as a Contributor, can add an access policy that grants them every",
		"secret. With **Azure RBAC**, data access comes from role assignments (`Key Vault Secrets User`, ...), which",
		"need `Microsoft.Authorization/roleAssignments/write`, can be scoped to a single secret, and show up in",
		"access reviews and Privileged Identity Management.",
		"",
		"**Passes when** `properties.enableRbacAuthorization` is `true`. `false`, a missing value or `null` means",
		"access policies: from api-version 2026-02-01 a new vault defaults to RBAC, but vaults created before keep",
		"`null` and \"continue using access policies\".",
		"",
		"### Remediation (az CLI)",
		"First give each identity of the access policies an equivalent role, then switch:",
		"```sh",
		"az role assignment create --role \"Key Vault Secrets User\" --assignee <object id> \\",
		"  --scope \"<vault resource id>\"",
		"az keyvault update --name <vault> --resource-group <rg> --enable-rbac-authorization true",
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
		"    enableRbacAuthorization: true",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Azure RBAC for Key Vault data plane operations](https://learn.microsoft.com/azure/key-vault/general/rbac-guide)",
		"- [Key Vault access control default (api-version 2026-02-01)](https://learn.microsoft.com/azure/key-vault/general/access-control-default)",
		"- Azure Policy [12d4fa5e-1f9f-4c21-97a9-b99b3c6611b5](https://portal.azure.com/#blade/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2F12d4fa5e-1f9f-4c21-97a9-b99b3c6611b5) \"Azure Key Vault should use RBAC permission model\"",
		"- CIS Microsoft Azure Foundations Benchmark: v2.0 8.6, v2.1 8.6, v3.0 3.3.6, v4.0 9.3.6, v5.0 8.3.6, v6.0 8.3.6",
	]),
	"references": [
		{"title": "Azure RBAC for Key Vault data plane operations", "url": "https://learn.microsoft.com/azure/key-vault/general/rbac-guide"},
		{"title": "Key Vault access control default (api-version 2026-02-01)", "url": "https://learn.microsoft.com/azure/key-vault/general/access-control-default"},
	],
	"compliance": {"cis-azure": {"2.0": "8.6", "2.1": "8.6", "3.0": "3.3.6", "4.0": "9.3.6", "5.0": "8.3.6", "6.0": "8.3.6"}},
	"azurePolicy": ["12d4fa5e-1f9f-4c21-97a9-b99b3c6611b5"],
	"tags": ["access-control", "rbac"],
	"inputs": [],
	"fix": {"az": concat("\n", [
		"# first give each identity of the access policies an equivalent role (az role assignment create --scope VAULT_ID)",
		"az keyvault update --name {vault} --resource-group {resourceGroup} --subscription {subscriptionId} --enable-rbac-authorization true",
	])},
}

setting := object.get(input.vault, ["properties", "enableRbacAuthorization"], null)

policies := lib.list(object.get(input.vault, ["properties", "accessPolicies"], []))

results contains r if {
	setting == true
	r := {
		"status": "pass",
		"message": "the vault uses Azure RBAC for its data plane",
		"evidence": {"enableRbacAuthorization": true},
	}
}

results contains r if {
	setting != true
	r := {
		"status": "fail",
		"message": sprintf("the vault uses access policies (enableRbacAuthorization is %v; %v access %v): anyone who may write the vault can grant themselves its secrets", [lib.shown(setting), count(policies), plural(count(policies))]),
		"evidence": {"enableRbacAuthorization": setting, "accessPolicies": count(policies)},
	}
}

plural(1) := "policy"

plural(n) := "policies" if n != 1

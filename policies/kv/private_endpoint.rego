# kv/private-endpoint: the vault has an approved private endpoint.
package kvaudit.kv.private_endpoint

import data.kvaudit.lib

metadata := {
	"id": "kv/private-endpoint",
	"title": "The vault has an approved private endpoint",
	"description": "At least one of properties.privateEndpointConnections has privateLinkServiceConnectionState.status Approved (case-insensitive). Pending, rejected or disconnected connections carry no traffic and do not count.",
	"severity": "low",
	"scope": "vault",
	"help": concat("\n", [
		"A private endpoint gives the vault an address in a virtual network, so clients reach it without crossing the internet and public network access can be turned off.",
		"The check passes when some private endpoint connection of the vault has status Approved (case-insensitive). Pending, Rejected and Disconnected connections carry no traffic.",
		"Remediation: az network private-endpoint create --name <pe> --resource-group <rg> --vnet-name <vnet> --subnet <subnet> --private-connection-resource-id <vault id> --group-id vault --connection-name <name>, then approve the connection if it is pending.",
	]),
	"markdown": concat("\n", [
		"A **private endpoint** puts the vault on a private IP address in a virtual network, so clients reach it",
		"without the internet and public network access can be disabled (`kv/public-network-access`).",
		"A connection only carries traffic once it is **Approved**: Prowler passes any vault that has a connection,",
		"even one that is still `Pending` or was `Rejected`.",
		"",
		"**Passes when** at least one entry of `properties.privateEndpointConnections` has",
		"`properties.privateLinkServiceConnectionState.status` `Approved` (case-insensitive).",
		"",
		"### Remediation (az CLI)",
		"```sh",
		"az network private-endpoint create --name pe-<vault> --resource-group <rg> \\",
		"  --vnet-name <vnet> --subnet <subnet> --group-id vault --connection-name <vault> \\",
		"  --private-connection-resource-id \"<vault resource id>\"",
		"# a connection requested from another tenant or subscription waits for approval:",
		"az keyvault private-endpoint-connection approve --vault-name <vault> --name <connection name>",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource pe 'Microsoft.Network/privateEndpoints@2024-05-01' = {",
		"  name: 'pe-${vaultName}'",
		"  location: location",
		"  properties: {",
		"    subnet: { id: subnetId }",
		"    privateLinkServiceConnections: [",
		"      { name: vaultName, properties: { privateLinkServiceId: vault.id, groupIds: [ 'vault' ] } }",
		"    ]",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Integrate Key Vault with Azure Private Link](https://learn.microsoft.com/azure/key-vault/general/private-link-service)",
		"- Azure Policy [a6abeaec-4d90-4a02-805f-6b26c4d3fbe9](https://portal.azure.com/#blade/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2Fa6abeaec-4d90-4a02-805f-6b26c4d3fbe9) \"Azure Key Vaults should use private link\"",
		"- CIS Microsoft Azure Foundations Benchmark: v2.0 8.7, v2.1 8.7, v3.0 3.3.7, v4.0 9.3.8, v5.0 8.3.8, v6.0 8.3.8",
	]),
	"references": [
		{"title": "Integrate Key Vault with Azure Private Link", "url": "https://learn.microsoft.com/azure/key-vault/general/private-link-service"},
	],
	"compliance": {"cis-azure": {"2.0": "8.7", "2.1": "8.7", "3.0": "3.3.7", "4.0": "9.3.8", "5.0": "8.3.8", "6.0": "8.3.8"}},
	"azurePolicy": ["a6abeaec-4d90-4a02-805f-6b26c4d3fbe9"],
	"tags": ["network", "private-link"],
	"inputs": [],
	"fix": {
		"az": "az network private-endpoint create --name pe-{vault} --resource-group {resourceGroup} --subscription {subscriptionId} --vnet-name {vnet} --subnet {subnet} --group-id vault --connection-name pe-{vault} --private-connection-resource-id {vaultId}",
		"bicep": {"scope": "resourceGroup", "resourceGroup": "resourceGroup", "template": `resource subnetRef 'Microsoft.Network/virtualNetworks/subnets@2023-11-01' existing = {
  name: '${{vnet}}/${{subnet}}'
}

resource pe 'Microsoft.Network/privateEndpoints@2023-11-01' = {
  name: 'pe-${{vault}}'
  location: {location}
  properties: {
    subnet: {
      id: subnetRef.id
    }
    privateLinkServiceConnections: [
      {
        name: 'pe-${{vault}}'
        properties: {
          privateLinkServiceId: {vaultId}
          groupIds: [
            'vault'
          ]
        }
      }
    ]
  }
}`},
	},
}

connections := [c | some c in lib.list(object.get(input.vault, ["properties", "privateEndpointConnections"], [])); is_object(c)]

status(c) := lib.str(object.get(c, ["properties", "privateLinkServiceConnectionState", "status"], ""))

approved := [object.get(c, "id", "(a connection without id)") | some c in connections; lower(status(c)) == "approved"]

results contains r if {
	count(approved) > 0
	r := {
		"status": "pass",
		"message": sprintf("%v approved private endpoint %v", [count(approved), connection_word(count(approved))]),
		"evidence": {"approved": approved},
	}
}

results contains r if {
	count(approved) == 0
	r := {
		"status": "fail",
		"message": why,
		"evidence": {"connections": [{"id": object.get(c, "id", ""), "status": status(c)} | some c in connections]},
	}
}

why := "the vault has no private endpoint connection" if count(connections) == 0

else := sprintf("none of the vault's %v private endpoint %v is approved (%v), so none carries traffic", [count(connections), connection_word(count(connections)), concat(", ", [shown_status(c) | some c in connections])])

shown_status(c) := status(c) if lib.non_empty(status(c))

else := "no status"

connection_word(1) := "connection"

connection_word(n) := "connections" if n != 1

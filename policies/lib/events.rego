# Activity-log events the built-in alert rules look for. Its own package so
# that reading it does not evaluate every rule of `kvaudit.lib`.
package kvaudit.events

# Keyed by lower-case
# operation name, without the fields that depend on the vault (resourcegroup,
# resourceid). Rules build their events from these, so the per-subscription
# facts can answer "does this alert match the operation" once.
templates := {
	"microsoft.keyvault/vaults/write": {
		"category": "administrative", "resourcetype": "microsoft.keyvault/vaults",
		"resourceprovider": "microsoft.keyvault", "operationname": "microsoft.keyvault/vaults/write",
	},
	"microsoft.keyvault/vaults/delete": {
		"category": "administrative", "resourcetype": "microsoft.keyvault/vaults",
		"resourceprovider": "microsoft.keyvault", "operationname": "microsoft.keyvault/vaults/delete",
	},
	# resourceId V.id/accessPolicies/{add,replace,remove}: not known in advance.
	"microsoft.keyvault/vaults/accesspolicies/write": {
		"category": "administrative", "resourcetype": "microsoft.keyvault/vaults/accesspolicies",
		"resourceprovider": "microsoft.keyvault", "operationname": "microsoft.keyvault/vaults/accesspolicies/write",
	},
	# resourceId V.id/providers/microsoft.insights/diagnosticSettings/NAME.
	"microsoft.insights/diagnosticsettings/write": {
		"category": "administrative", "resourcetype": "microsoft.insights/diagnosticsettings",
		"resourceprovider": "microsoft.insights", "operationname": "microsoft.insights/diagnosticsettings/write",
	},
	"microsoft.insights/diagnosticsettings/delete": {
		"category": "administrative", "resourcetype": "microsoft.insights/diagnosticsettings",
		"resourceprovider": "microsoft.insights", "operationname": "microsoft.insights/diagnosticsettings/delete",
	},
	# resourceId /subscriptions/S/providers/Microsoft.KeyVault/locations/L/deletedVaults/NAME:
	# no resource group, so only a subscription scope covers it.
	"microsoft.keyvault/locations/deletedvaults/purge/action": {
		"category": "administrative", "resourcetype": "microsoft.keyvault/locations/deletedvaults",
		"resourceprovider": "microsoft.keyvault", "operationname": "microsoft.keyvault/locations/deletedvaults/purge/action",
	},
}


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
}


# kv/purge-alert: someone is alerted when a deleted vault is purged.
package kvaudit.kv.purge_alert

import data.kvaudit.lib

metadata := {
	"id": "kv/purge-alert",
	"title": "Purging a deleted vault raises an activity-log alert",
	"description": "An enabled subscription-scoped activity-log alert with a working action group covers Microsoft.KeyVault/locations/deletedVaults/purge/action. Judged once per subscription that holds vaults.",
	"severity": "high",
	"scope": "subscription",
	"help": concat("\n", [
		"Purging a deleted vault destroys it and every key it held for good. The Activity Log records it as Microsoft.KeyVault/locations/deletedVaults/purge/action on /subscriptions/{id}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}, a resource in no resource group.",
		"The check passes when an enabled alert scoped to the subscription (only that scope covers the event) matches it (resourceType microsoft.keyvault/locations/deletedvaults; no resourceId or resourceGroup leaf; no level/status/subStatus/caller filter) and names a usable action group.",
		"Remediation: az monitor activity-log alert create --name kv-purge --resource-group <rg> --scope /subscriptions/<id> --condition \"category=Administrative and operationName=Microsoft.KeyVault/locations/deletedVaults/purge/action\" --action-group <action group id>",
	]),
	"markdown": concat("\n", [
		"**Purging** a deleted vault destroys it, and every key it encrypted data with, for good. The Activity Log",
		"records it as `Microsoft.KeyVault/locations/deletedVaults/purge/action` on",
		"`/subscriptions/<id>/providers/Microsoft.KeyVault/locations/<location>/deletedVaults/<name>`: a resource",
		"in **no resource group**, so an alert scoped to a resource group or to the (deleted) vault never sees it.",
		"kvaudit judges this once per subscription that holds vaults.",
		"",
		"**Passes when** the operation is covered.",
		"An alert covers an operation when:",
		"- it is enabled;",
		"- one of its `scopes` (normalised: leading `/`, lower case, no trailing `/`) covers the event: only the subscription itself;",
		"- every `allOf` element matches the Administrative event of that operation (`equals`, `containsAny`, `anyOf`,",
		"  case-insensitive). The event's `resourceId` ends in segments nobody knows in advance, so a leaf on",
		"  `resourceId` never matches; a leaf on `level`, `status`, `subStatus` or `caller` filters events out and",
		"  disqualifies the alert;",
		"- it names an action group that exists, is enabled and has at least one receiver.",
		"  A `resourceGroup` leaf never matches either, since the event has no resource group.",
		"",
		"### Remediation (az CLI)",
		"```sh",
		"az monitor activity-log alert create --name kv-purge \\",
		"  --resource-group rg-monitoring --scope \"/subscriptions/<subscription id>\" \\",
		"  --condition \"category=Administrative and operationName=Microsoft.KeyVault/locations/deletedVaults/purge/action\" \\",
		"  --action-group \"<action group id>\"",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {",
		"  name: 'kv-purge'",
		"  location: 'Global'",
		"  properties: {",
		"    enabled: true",
		"    scopes: [ subscription().id ]",
		"    condition: {",
		"      allOf: [",
		"        { field: 'category', equals: 'Administrative' }",
		"        { field: 'operationName', equals: 'Microsoft.KeyVault/locations/deletedVaults/purge/action' }",
		"      ]",
		"    }",
		"    actions: { actionGroups: [ { actionGroupId: secOpsActionGroup.id } ] }",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Activity log alerts](https://learn.microsoft.com/azure/azure-monitor/alerts/activity-log-alerts)",
		"- [Microsoft.Insights activityLogAlerts 2020-10-01](https://learn.microsoft.com/azure/templates/microsoft.insights/activitylogalerts)",
		"- [Azure Key Vault soft-delete overview](https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview)",
	]),
	"references": [
		{"title": "Activity log alerts", "url": "https://learn.microsoft.com/azure/azure-monitor/alerts/activity-log-alerts"},
		{"title": "Microsoft.Insights activityLogAlerts 2020-10-01", "url": "https://learn.microsoft.com/azure/templates/microsoft.insights/activitylogalerts"},
		{"title": "Azure Key Vault soft-delete overview", "url": "https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview"},
	],
	"compliance": {},
	"azurePolicy": [],
	"tags": ["alerting", "activity-log", "recoverability"],
	"inputs": ["activityLogAlerts"],
	"fix": {
		"az": "az monitor activity-log alert create --name kv-purge --subscription {subscriptionId} --resource-group {actionGroupResourceGroup} --scope /subscriptions/{subscriptionId} --condition 'category=Administrative and operationName=Microsoft.KeyVault/locations/deletedVaults/purge/action' --action-group {actionGroupId}",
		"bicep": {"scope": "resourceGroup", "resourceGroup": "actionGroupResourceGroup", "template": `resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {
  name: 'kv-purge'
  location: 'global'
  properties: {
    enabled: true
    scopes: [
      '/subscriptions/${{subscriptionId}}'
    ]
    condition: {
      allOf: [
        {
          field: 'category'
          equals: 'Administrative'
        }
        {
          field: 'operationName'
          equals: 'Microsoft.KeyVault/locations/deletedVaults/purge/action'
        }
      ]
    }
    actions: {
      actionGroups: [
        {
          actionGroupId: {actionGroupId}
        }
      ]
    }
  }
}`},
	},
}

operations := ["Microsoft.KeyVault/locations/deletedVaults/purge/action"]

# No resource group, no known resource id: only the operation's own fields.
events := {op: data.kvaudit.events.templates[lower(op)] | some op in operations}

# Only a subscription scope covers /subscriptions/S/providers/Microsoft.KeyVault/locations/...
results := lib.alert_results(operations, events, sprintf("/subscriptions/%v", [input.subscription.subscriptionId]))

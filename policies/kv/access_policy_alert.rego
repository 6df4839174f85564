# kv/access-policy-alert: someone is alerted when the vault's access policies change.
package kvaudit.kv.access_policy_alert

import data.kvaudit.lib

metadata := {
	"id": "kv/access-policy-alert",
	"title": "Access policy changes raise an activity-log alert",
	"description": "An enabled activity-log alert with a working action group covers Microsoft.KeyVault/vaults/accessPolicies/write on the vault (resourceType microsoft.keyvault/vaults/accesspolicies).",
	"severity": "high",
	"scope": "vault",
	"help": concat("\n", [
		"Adding an access policy grants data access to keys, secrets and certificates. It is written to the Activity Log as Microsoft.KeyVault/vaults/accessPolicies/write; without an alert nobody notices. RBAC vaults need it too: access policies written while RBAC is on become live the moment someone switches the vault back.",
		"The check passes when an enabled activity-log alert whose scope covers the vault (its subscription, resource group or the vault), whose condition matches that event (resourceType microsoft.keyvault/vaults/accesspolicies, no resourceId leaf, no level/status/subStatus/caller filter) and which names a usable action group exists.",
		"Remediation: az monitor activity-log alert create --name kv-access-policies --resource-group <rg> --scope /subscriptions/<id> --condition \"category=Administrative and operationName=Microsoft.KeyVault/vaults/accessPolicies/write\" --action-group <action group id>",
	]),
	"markdown": concat("\n", [
		"Adding a vault **access policy** grants an identity keys, secrets or certificates. Azure writes it to the",
		"Activity Log as `Microsoft.KeyVault/vaults/accessPolicies/write`, on the resource",
		"`<vault id>/accessPolicies/{add,replace,remove}` with resource type",
		"`Microsoft.KeyVault/vaults/accessPolicies`. An alert on `resourceType = Microsoft.KeyVault/vaults` does",
		"**not** catch it. RBAC vaults need the alert as well: policies written while RBAC is on take effect the",
		"moment the vault is switched back to access policies. No CIS version and no common tool checks this.",
		"",
		"**Passes when** the operation is covered.",
		"An alert covers an operation when:",
		"- it is enabled;",
		"- one of its `scopes` (normalised: leading `/`, lower case, no trailing `/`) covers the event: the vault's subscription, its resource group or the vault itself;",
		"- every `allOf` element matches the Administrative event of that operation (`equals`, `containsAny`, `anyOf`,",
		"  case-insensitive). The event's `resourceId` ends in segments nobody knows in advance, so a leaf on",
		"  `resourceId` never matches; a leaf on `level`, `status`, `subStatus` or `caller` filters events out and",
		"  disqualifies the alert;",
		"- it names an action group that exists, is enabled and has at least one receiver.",
		"",
		"### Remediation (az CLI)",
		"```sh",
		"az monitor activity-log alert create --name kv-access-policies \\",
		"  --resource-group rg-monitoring --scope \"/subscriptions/<subscription id>\" \\",
		"  --condition \"category=Administrative and operationName=Microsoft.KeyVault/vaults/accessPolicies/write\" \\",
		"  --action-group \"<action group id>\"",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {",
		"  name: 'kv-access-policies'",
		"  location: 'Global'",
		"  properties: {",
		"    enabled: true",
		"    scopes: [ subscription().id ]",
		"    condition: {",
		"      allOf: [",
		"        { field: 'category', equals: 'Administrative' }",
		"        { field: 'operationName', equals: 'Microsoft.KeyVault/vaults/accessPolicies/write' }",
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
	]),
	"references": [
		{"title": "Activity log alerts", "url": "https://learn.microsoft.com/azure/azure-monitor/alerts/activity-log-alerts"},
		{"title": "Microsoft.Insights activityLogAlerts 2020-10-01", "url": "https://learn.microsoft.com/azure/templates/microsoft.insights/activitylogalerts"},
	],
	"compliance": {},
	"azurePolicy": [],
	"tags": ["alerting", "activity-log", "access-control"],
	"inputs": ["activityLogAlerts"],
	"fix": {
		"az": "az monitor activity-log alert create --name kv-access-policy-changes --subscription {subscriptionId} --resource-group {actionGroupResourceGroup} --scope /subscriptions/{subscriptionId} --condition 'category=Administrative and operationName=Microsoft.KeyVault/vaults/accessPolicies/write' --action-group {actionGroupId}",
		"bicep": {"scope": "resourceGroup", "resourceGroup": "actionGroupResourceGroup", "template": `resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {
  name: 'kv-access-policy-changes'
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
          equals: 'Microsoft.KeyVault/vaults/accessPolicies/write'
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

operations := ["Microsoft.KeyVault/vaults/accessPolicies/write"]

events := {op: lib.child_event(op, input.vault.id) | some op in operations}

results := lib.alert_results(operations, events, input.vault.id)

# The results depend only on this (see data.kvaudit.alerting.memo_key), so
# vaults that share it are evaluated once.
memo_key := data.kvaudit.alerting.vault_memo_key

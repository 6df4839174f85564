# kv/admin-alert: someone is alerted when the vault is changed or deleted.
package kvaudit.kv.admin_alert

import data.kvaudit.lib

metadata := {
	"id": "kv/admin-alert",
	"title": "Vault changes and deletions raise an activity-log alert",
	"description": "An enabled activity-log alert with a working action group covers both Microsoft.KeyVault/vaults/write and Microsoft.KeyVault/vaults/delete on the vault.",
	"severity": "high",
	"scope": "vault",
	"help": concat("\n", [
		"Changes to a vault (network rules, RBAC mode, access policies) and its deletion are written to the Activity Log; without an alert they go unnoticed.",
		"The check passes when an enabled activity-log alert whose scope covers the vault, whose condition matches the Administrative event of each operation (write and delete) without filtering on level, status, subStatus or caller, and which names an enabled action group with a receiver, exists for both operations.",
		"Remediation: az monitor activity-log alert create --name kv-admin-changes --resource-group <rg> --scope /subscriptions/<id> --condition \"category=Administrative and resourceType=Microsoft.KeyVault/vaults\" --action-group <action group id>",
	]),
	"markdown": concat("\n", [
		"Changes to the vault itself (create, update of its network, RBAC or access-policy settings, deletion) are",
		"written to the Azure **Activity Log**. Unless an activity-log alert sends them to someone, a disabled",
		"firewall or a deleted vault goes unnoticed. CIS lists such alerts for other services but not for Key Vault,",
		"and the common tools only read the alert's top-level `allOf` and a subscription scope.",
		"",
		"**Passes when** both `Microsoft.KeyVault/vaults/write` and `Microsoft.KeyVault/vaults/delete` are covered.",
		"An alert covers an operation on the vault when:",
		"- it is enabled;",
		"- one of its `scopes` (normalised: leading `/`, lower case, no trailing `/`) is the vault's id or a path",
		"  prefix of it (its subscription or resource group);",
		"- every `allOf` element matches the Administrative event of that operation on this vault (`equals`,",
		"  `containsAny`, `anyOf`, case-insensitive); a leaf on `level`, `status`, `subStatus` or `caller` filters",
		"  events out and disqualifies the alert;",
		"- it names an action group that exists, is enabled and has at least one receiver.",
		"",
		"### Remediation (az CLI)",
		"```sh",
		"az monitor activity-log alert create --name kv-admin-changes \\",
		"  --resource-group rg-monitoring --scope \"/subscriptions/<subscription id>\" \\",
		"  --condition \"category=Administrative and resourceType=Microsoft.KeyVault/vaults\" \\",
		"  --action-group \"<action group id>\" \\",
		"  --description \"Key Vault created, changed or deleted\"",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource kvAdminAlert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {",
		"  name: 'kv-admin-changes'",
		"  location: 'Global'",
		"  properties: {",
		"    enabled: true",
		"    scopes: [ subscription().id ]",
		"    condition: {",
		"      allOf: [",
		"        { field: 'category', equals: 'Administrative' }",
		"        { field: 'resourceType', equals: 'Microsoft.KeyVault/vaults' }",
		"        { anyOf: [",
		"          { field: 'operationName', equals: 'Microsoft.KeyVault/vaults/write' }",
		"          { field: 'operationName', equals: 'Microsoft.KeyVault/vaults/delete' }",
		"        ] }",
		"      ]",
		"    }",
		"    actions: { actionGroups: [ { actionGroupId: secOpsActionGroup.id } ] }",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Activity log alerts](https://learn.microsoft.com/azure/azure-monitor/alerts/activity-log-alerts)",
		"- [Activity log alert condition schema (2020-10-01)](https://learn.microsoft.com/azure/templates/microsoft.insights/activitylogalerts)",
		"- No CIS Azure version (2.0 to 6.0) has a Key Vault alert control; this follows the pattern of CIS 6.1.2.x (v6.0).",
	]),
	"references": [
		{"title": "Activity log alerts", "url": "https://learn.microsoft.com/azure/azure-monitor/alerts/activity-log-alerts"},
		{"title": "Microsoft.Insights activityLogAlerts 2020-10-01", "url": "https://learn.microsoft.com/azure/templates/microsoft.insights/activitylogalerts"},
	],
	"compliance": {},
	"azurePolicy": [],
	"tags": ["alerting", "activity-log"],
	"inputs": ["activityLogAlerts"],
	"fix": {
		"az": "az monitor activity-log alert create --name kv-admin-changes --subscription {subscriptionId} --resource-group {actionGroupResourceGroup} --scope /subscriptions/{subscriptionId} --condition 'category=Administrative and resourceType=Microsoft.KeyVault/vaults' --action-group {actionGroupId}",
		"bicep": {"scope": "resourceGroup", "resourceGroup": "actionGroupResourceGroup", "template": `resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {
  name: 'kv-admin-changes'
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
          field: 'resourceType'
          equals: 'Microsoft.KeyVault/vaults'
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

operations := ["Microsoft.KeyVault/vaults/write", "Microsoft.KeyVault/vaults/delete"]

# The Administrative event each operation writes for this vault.
events := {op: lib.vault_event(op, input.vault.id) | some op in operations}

results := lib.alert_results(operations, events, input.vault.id)

# The results depend only on this (see data.kvaudit.alerting.memo_key), so
# vaults that share it are evaluated once.
memo_key := data.kvaudit.alerting.vault_memo_key

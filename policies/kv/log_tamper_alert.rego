# kv/log-tamper-alert: someone is alerted when the vault's logging is changed or removed.
package kvaudit.kv.log_tamper_alert

import data.kvaudit.lib

metadata := {
	"id": "kv/log-tamper-alert",
	"title": "Changes to the vault's diagnostic settings raise an activity-log alert",
	"description": "Enabled activity-log alerts with a working action group cover both Microsoft.Insights/diagnosticSettings/write and Microsoft.Insights/diagnosticSettings/delete on the vault.",
	"severity": "high",
	"scope": "vault",
	"help": concat("\n", [
		"An attacker who turns the vault's audit logging off, or points it elsewhere, blinds every other control; the change is written to the Activity Log as Microsoft.Insights/diagnosticSettings/write or /delete.",
		"The check passes when both operations are covered by enabled activity-log alerts whose scope covers the vault, whose condition matches the event (resourceType microsoft.insights/diagnosticsettings, no resourceId leaf, no level/status/subStatus/caller filter) and which name a usable action group.",
		"Remediation: az monitor activity-log alert create --name kv-log-tamper --resource-group <rg> --scope /subscriptions/<id> --condition \"category=Administrative and resourceType=Microsoft.Insights/diagnosticSettings\" --action-group <action group id>",
	]),
	"markdown": concat("\n", [
		"Whoever can delete or rewrite the vault's **diagnostic settings** can switch its audit logging off, or",
		"send it where nobody looks, before doing anything else: every log-based control goes blind. Azure writes",
		"such a change to the Activity Log as `Microsoft.Insights/diagnosticSettings/write` or `/delete` on",
		"`<vault id>/providers/microsoft.insights/diagnosticSettings/<name>`. Both need an alert: a rewrite that",
		"disables `AuditEvent` is a write, not a delete.",
		"",
		"**Passes when** both operations are covered (one alert may cover both).",
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
		"az monitor activity-log alert create --name kv-log-tamper \\",
		"  --resource-group rg-monitoring --scope \"/subscriptions/<subscription id>\" \\",
		"  --condition \"category=Administrative and resourceType=Microsoft.Insights/diagnosticSettings\" \\",
		"  --action-group \"<action group id>\"",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {",
		"  name: 'kv-log-tamper'",
		"  location: 'Global'",
		"  properties: {",
		"    enabled: true",
		"    scopes: [ subscription().id ]",
		"    condition: {",
		"      allOf: [",
		"        { field: 'category', equals: 'Administrative' }",
		"        { field: 'resourceType', equals: 'Microsoft.Insights/diagnosticSettings' }",
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
		"- [Diagnostic settings in Azure Monitor](https://learn.microsoft.com/azure/azure-monitor/essentials/diagnostic-settings)",
	]),
	"references": [
		{"title": "Activity log alerts", "url": "https://learn.microsoft.com/azure/azure-monitor/alerts/activity-log-alerts"},
		{"title": "Microsoft.Insights activityLogAlerts 2020-10-01", "url": "https://learn.microsoft.com/azure/templates/microsoft.insights/activitylogalerts"},
		{"title": "Diagnostic settings in Azure Monitor", "url": "https://learn.microsoft.com/azure/azure-monitor/essentials/diagnostic-settings"},
	],
	"compliance": {},
	"azurePolicy": [],
	"tags": ["alerting", "activity-log", "logging"],
	"inputs": ["activityLogAlerts"],
	"fix": {
		"az": "az monitor activity-log alert create --name kv-diagnostic-settings-changes --subscription {subscriptionId} --resource-group {actionGroupResourceGroup} --scope /subscriptions/{subscriptionId} --condition 'category=Administrative and resourceType=Microsoft.Insights/diagnosticSettings' --action-group {actionGroupId}",
		"bicep": {"scope": "resourceGroup", "resourceGroup": "actionGroupResourceGroup", "template": `resource alert 'Microsoft.Insights/activityLogAlerts@2020-10-01' = {
  name: 'kv-diagnostic-settings-changes'
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
          equals: 'Microsoft.Insights/diagnosticSettings'
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

operations := ["Microsoft.Insights/diagnosticSettings/write", "Microsoft.Insights/diagnosticSettings/delete"]

events := {op: lib.child_event(op, input.vault.id) | some op in operations}

results := lib.alert_results(operations, events, input.vault.id)

# The results depend only on this (see data.kvaudit.alerting.memo_key), so
# vaults that share it are evaluated once.
memo_key := data.kvaudit.alerting.vault_memo_key

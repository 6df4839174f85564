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
}

operations := ["Microsoft.KeyVault/vaults/write", "Microsoft.KeyVault/vaults/delete"]

vault_id := lib.norm_id(input.vault.id)

# The Administrative event each operation writes for this vault (values lower-case).
event(op) := object.union(data.kvaudit.events.templates[lower(op)], {
	"resourcegroup": resource_group,
	"resourceid": vault_id,
})

resource_group := lib.resource_group(input.vault.id)

alerts := input.subscription.activityLogAlerts.value if input.subscription.activityLogAlerts.status == "ok"

events := {op: event(op) | some op in operations}

# coverage[op] names the alerts that cover op on this vault.
live := lib.live_alerts(alerts, vault_id)

coverage := {op: [pair[0] | some pair in live; lib.fact_matches(pair[1], events[op])] | some op in operations}

covering(op) := coverage[op]

# problems[op][alert id] says why an alert does not cover op (only computed
# for the failing message).
problems := {op: {a.id: lib.alert_problem(a, events[op], vault_id) | some a in alerts} | some op in uncovered}

# Undefined when the alerts could not be read: then the not_evaluable result
# stands alone (no fail for "no alerts").
uncovered := [op | some op in operations; count(coverage[op]) == 0] if input.subscription.activityLogAlerts.status == "ok"

# Why each alert did not count, per uncovered operation.
candidates := [{"alert": a.name, "id": a.id, "reasons": {op: problems[op][a.id] | some op in uncovered}} |
	some a in alerts
]

results contains r if {
	input.subscription.activityLogAlerts.status != "ok"
	r := {
		"status": "not_evaluable",
		"message": sprintf("activity-log alerts of subscription %v could not be read: %v", [input.subscription.subscriptionId, lib.error_text(input.subscription.activityLogAlerts)]),
	}
}

results contains r if {
	count(alerts) >= 0
	count(uncovered) == 0
	r := {
		"status": "pass",
		"message": concat("; ", [sprintf("%v is alerted by %v", [op, concat(", ", covering(op))]) | some op in operations]),
		"evidence": {"coverage": {op: covering(op) | some op in operations}},
	}
}

# Action groups we could not read may be the ones that would have covered.
results contains r if {
	count(uncovered) > 0
	input.actionGroups.status != "ok"
	r := {
		"status": "not_evaluable",
		"message": sprintf("%v not covered by a usable alert, but action groups could not be read: %v", [concat(" and ", uncovered), lib.error_text(input.actionGroups)]),
		"evidence": {"uncovered": uncovered, "candidates": candidates},
	}
}

results contains r if {
	count(uncovered) > 0
	input.actionGroups.status == "ok"
	why := [sprintf("'%v' %v", [c.alert, concat(", ", {p | some p in c.reasons})]) | some c in candidates]
	r := {
		"status": "fail",
		"message": sprintf("no usable activity-log alert covers %v%v", [concat(" and ", uncovered), because(why)]),
		"evidence": {"uncovered": uncovered, "candidates": candidates},
	}
}

because(why) := " (the subscription has no activity-log alerts)" if count(why) == 0

else := sprintf(": %v", [concat("; ", why)])

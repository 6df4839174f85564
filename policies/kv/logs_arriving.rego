# kv/logs-arriving: the vault's audit logs really reach the workspace its setting names.
package kvaudit.kv.logs_arriving

import data.kvaudit.lib
import data.kvaudit.evidence

metadata := {
	"id": "kv/logs-arriving",
	"title": "Audit events of a busy vault arrive in its workspace",
	"description": "When a diagnostic setting sends the vault's AuditEvent logs to a Log Analytics workspace and Azure Monitor metrics (ServiceApiHit) show the vault served requests in the last days (config.logsArrivingDays, default 7), that workspace holds AuditEvent rows of the vault from those days.",
	"severity": "high",
	"scope": "vault",
	"help": concat("\n", [
		"A diagnostic setting can look right and deliver nothing: the workspace was deleted or moved, the setting points at another workspace than the one the SOC queries, or its destination type sends the rows to a table nobody reads. Configuration checks pass; the logs are not there.",
		"The check counts the vault's AuditEvent rows (AzureDiagnostics and AZKVAuditLogs) in the workspace over the last config.logsArrivingDays days (default 7) and compares with the vault's ServiceApiHit metric for the same days: requests but no rows fails. It is not evaluable where the anomaly rules are (no workspace destination, settings or workspace unreadable) and when there are no rows and the metrics cannot be read.",
		"Remediation: check the setting's workspaceId and logAnalyticsDestinationType, then query the workspace: AZKVAuditLogs | where _ResourceId =~ '<vault id>' | take 10",
	]),
	"markdown": concat("\n", [
		"A diagnostic setting can be configured perfectly and deliver nothing: the workspace was deleted and",
		"re-created, the setting points at a workspace other than the one the SOC queries, or ingestion is capped.",
		"Every configuration check (kvaudit's `kv/audit-logging` included, and every peer tool's) passes; the logs",
		"are simply not there. kvaudit checks the outcome: it counts the vault's AuditEvent rows in the workspace",
		"its setting names (both `AzureDiagnostics` and `AZKVAuditLogs`) and compares with what Azure Monitor's",
		"platform metrics say the vault served (`ServiceApiHit`), over the last `config.logsArrivingDays` days",
		"(default 7).",
		"",
		"- **Passes** when the workspace holds AuditEvent rows of the vault in those days, or when the metrics",
		"  show the vault served no request (nothing to log).",
		"- **Fails** when the metrics show requests and the workspace holds no row of the vault.",
		"- **Not evaluable** where the anomaly rules are (diagnostic settings unreadable, no setting sending",
		"  AuditEvent to a workspace, the workspace unreadable, the count not collected), when Log Analytics",
		"  answered only partially, and when there are no rows and the metrics cannot be read.",
		"",
		"### Investigate",
		"```kusto",
		"union isfuzzy=true AZKVAuditLogs, (AzureDiagnostics | where Category == \"AuditEvent\")",
		"| where _ResourceId =~ \"<vault resource id>\"",
		"| summarize rows = count(), last = max(TimeGenerated)",
		"```",
		"",
		"### Remediation (az CLI)",
		"Look at where the setting really sends the logs, and recreate it if the workspace is wrong or gone:",
		"```sh",
		"az monitor diagnostic-settings list --resource \"<vault resource id>\" \\",
		"  --query \"[].{name:name, workspace:workspaceId, type:logAnalyticsDestinationType}\"",
		"az monitor diagnostic-settings create --name kv-audit --resource \"<vault resource id>\" \\",
		"  --workspace \"<workspace resource id>\" --export-to-resource-specific true \\",
		"  --logs '[{\"categoryGroup\":\"audit\",\"enabled\":true},{\"categoryGroup\":\"allLogs\",\"enabled\":true}]'",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource kvAudit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {",
		"  name: 'kv-audit'",
		"  scope: keyVault",
		"  properties: {",
		"    workspaceId: workspace.id",
		"    logAnalyticsDestinationType: 'Dedicated'",
		"    logs: [ { categoryGroup: 'audit', enabled: true }, { categoryGroup: 'allLogs', enabled: true } ]",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Monitor Azure Key Vault](https://learn.microsoft.com/azure/key-vault/general/monitor-key-vault)",
		"- [Supported metrics for Microsoft.KeyVault/vaults](https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-keyvault-vaults-metrics)",
	]),
	"references": [
		{"title": "Monitor Azure Key Vault", "url": "https://learn.microsoft.com/azure/key-vault/general/monitor-key-vault"},
		{"title": "Supported metrics for Microsoft.KeyVault/vaults", "url": "https://learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-keyvault-vaults-metrics"},
	],
	"compliance": {},
	"azurePolicy": [],
	"tags": ["logging", "audit-logs"],
	"inputs": ["diagnosticSettings", "auditVolume", "apiHits"],
	"fix": {"az": concat("\n", [
		"# where does the AuditEvent setting send the logs? recreate it if the workspace is wrong or gone",
		"az monitor diagnostic-settings list --resource {vaultId} --query '[].{name:name, workspace:workspaceId, type:logAnalyticsDestinationType}'",
	])},
}

volume := input.auditVolume

hits := input.apiHits

# The period the counts cover, from the collected window (the scan used
# config.logsArrivingDays, which may differ from this evaluation's data).
days(v) := round((time.parse_rfc3339_ns(v.windowEnd) - time.parse_rfc3339_ns(v.windowStart)) / 86400000000000)

# The ServiceApiHit series of the metrics answer (an answer without it
# proves nothing).
api_hit_metrics := [m |
	some m in hits.value.value
	lower(m.name.value) == "serviceapihit"
]

# The anomaly rules' preconditions, with the volume count in place of the
# 401/403 evidence.
unevaluable := msg if {
	input.diagnosticSettings.status != "ok"
	msg := sprintf("diagnostic settings could not be read (%v), so it is unknown which workspace should hold the logs", [lib.error_text(input.diagnosticSettings)])
} else := "AuditEvent logs of this vault reach no Log Analytics workspace, so there is nothing to count (see kv/audit-logging)" if {
	count(evidence.audit_workspace_settings) == 0
} else := msg if {
	volume.status == "error"
	msg := sprintf("the Log Analytics workspace could not be queried (%v)", [lib.error_text(volume)])
} else := msg if {
	volume.status != "ok"
	msg := sprintf("the vault's AuditEvent rows were not counted (%v)", [object.get(volume, "reason", "not in the inventory")])
} else := "Log Analytics answered only partially, so a count of 0 proves nothing" if {
	volume.value.events == 0
	volume.value.partial == true
} else := msg if {
	volume.value.events == 0
	hits.status != "ok"
	msg := sprintf("the workspace holds no AuditEvent row of the vault, and its ServiceApiHit metrics could not be read (%v), so it is unknown whether it served requests", [hits_error])
} else := "the workspace holds no AuditEvent row of the vault, and the metrics answer has no ServiceApiHit series, so it is unknown whether it served requests" if {
	volume.value.events == 0
	count(api_hit_metrics) == 0
}

hits_error := lib.error_text(hits) if hits.status == "error"

else := object.get(hits, "reason", "not in the inventory")

# Requests the vault served per Azure Monitor (count, else total, per point).
requests := sum([point_value(p) |
	some m in api_hit_metrics
	some ts in object.get(m, "timeseries", [])
	some p in object.get(ts, "data", [])
])

point_value(p) := p.count if is_number(object.get(p, "count", null))

else := p.total if is_number(object.get(p, "total", null))

else := 0

# The settings that send AuditEvent to the workspace that was queried.
setting_names := sort([s.name |
	some s in evidence.audit_workspace_settings
	lib.norm_id(s.properties.workspaceId) == lib.norm_id(volume.value.workspaceId)
])

results contains r if {
	r := {"status": "not_evaluable", "message": unevaluable}
}

results contains r if {
	not unevaluable
	volume.value.events > 0
	r := {
		"status": "pass",
		"message": sprintf("%v AuditEvent rows of the vault arrived in the workspace in the last %v days (latest %v)", [volume.value.events, days(volume.value), object.get(volume.value, "lastEvent", "unknown")]),
		"evidence": {"workspace": volume.value.workspaceId, "events": volume.value.events, "lastEvent": object.get(volume.value, "lastEvent", null)},
	}
}

results contains r if {
	not unevaluable
	volume.value.events == 0
	requests == 0
	r := {
		"status": "pass",
		"message": sprintf("the vault served no request in the last %v days (ServiceApiHit 0), so no AuditEvent row was expected", [days(volume.value)]),
		"evidence": {"workspace": volume.value.workspaceId, "events": 0, "serviceApiHits": 0},
	}
}

results contains r if {
	not unevaluable
	volume.value.events == 0
	requests > 0
	r := {
		"status": "fail",
		"message": sprintf("diagnostic setting %v sends AuditEvent to workspace %v, but it holds no AuditEvent row of the vault from the last %v days although Azure Monitor counted %v API requests: the logging pipeline is broken or points at the wrong workspace", [concat(", ", [sprintf("'%v'", [n]) | some n in setting_names]), volume.value.workspaceId, days(volume.value), requests]),
		"evidence": {"workspace": volume.value.workspaceId, "settings": setting_names, "events": 0, "serviceApiHits": requests, "windowStart": volume.value.windowStart, "windowEnd": volume.value.windowEnd},
	}
}

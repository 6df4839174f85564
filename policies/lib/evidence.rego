# Whether a vault's audit logs can be judged at all: the precondition of the
# anomaly rules. A package of its own because a reference to any rule of a
# package makes regorus evaluate all of that package's rules for each vault;
# keep `kvaudit.lib` to functions and cheap constants.
package kvaudit.evidence

import data.kvaudit.lib

# audit_workspace_settings is the set of settings whose AuditEvent logs reach a
# Log Analytics workspace: the precondition of the anomaly rules.
audit_workspace_settings contains s if {
	input.diagnosticSettings.status == "ok"
	some s in input.diagnosticSettings.value
	lib.non_empty(object.get(s, ["properties", "workspaceId"], ""))
	count(lib.audit_entries(s)) > 0
}

# ---------------------------------------------------------------------------
# Audit-log evidence and its evaluability
# ---------------------------------------------------------------------------

# logs_unevaluable_reason is defined when the anomaly rules cannot judge the
# vault: nothing unread may pass.
logs_unevaluable_reason := msg if {
	input.diagnosticSettings.status != "ok"
	msg := sprintf("diagnostic settings could not be read (%v), so it is unknown whether AuditEvent logs reach a workspace", [lib.error_text(input.diagnosticSettings)])
} else := "AuditEvent logs of this vault reach no Log Analytics workspace, so failed requests cannot be seen (see kv/audit-logging)" if {
	count(audit_workspace_settings) == 0
} else := msg if {
	input.auditLogs.status == "error"
	msg := sprintf("the Log Analytics workspace could not be queried (%v)", [lib.error_text(input.auditLogs)])
} else := msg if {
	not logs_readable
	msg := sprintf("audit logs were not collected (%v)", [object.get(input.auditLogs, "reason", "no evidence in the inventory")])
}

logs_readable if input.auditLogs.status in {"ok", "partial"}


# ---------------------------------------------------------------------------
# Per-vault constants of the anomaly rules, computed once per vault rather
# than once per caller group (a public vault can have thousands).
# ---------------------------------------------------------------------------

# window_ns: [start, end] of the configured window in nanoseconds; the window
# ends where the evidence ends.
window_ns := [end - data.config.windowHours * 3600000000000, end] if {
	end := time.parse_rfc3339_ns(input.auditLogs.windowEnd)
}

# allow_list_empty: no allow-list entry at all, so no caller is allowed.
allow_list_empty if {
	count(object.get(data.config, ["allowList", "ips"], [])) == 0
	count(object.get(data.config, ["allowList", "objectIds"], [])) == 0
	count(object.get(data.config, ["allowList", "appIds"], [])) == 0
}

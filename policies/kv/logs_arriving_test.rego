# Unit tests of kv/logs-arriving. Run: kvaudit policy test policies
#
# Inputs: diagnosticSettings (2021-05-01-preview settings), auditVolume (the
# vault's AuditEvent rows in the workspace its first audit setting names) and
# apiHits (the Azure Monitor ServiceApiHit metrics answer), each Collected:
# {"status": "ok", "value": ...}, {"status": "error", "error": {...}} or
# {"status": "notCollected", "reason": ...}.
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.logs_arriving

sub_id := "00000000-0000-0000-0000-000000000000"

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

workspace_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-sec"

other_workspace_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-team/providers/Microsoft.OperationalInsights/workspaces/law-team"

# The collector reports the workspace it queried normalised (lower case).
queried_workspace := lower(workspace_id)

storage_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stkvlogs"

window_start := "2024-05-24T00:00:00Z"

window_end := "2024-05-31T00:00:00Z"

# diag(name, props) is a diagnostic setting in the 2021-05-01-preview shape;
# unset destinations are "".
diag(name, props) := {
	"id": sprintf("%v/providers/microsoft.insights/diagnosticSettings/%v", [kv_id, name]),
	"type": "Microsoft.Insights/diagnosticSettings",
	"name": name,
	"properties": object.union(
		{
			"storageAccountId": "",
			"eventHubAuthorizationRuleId": "",
			"workspaceId": "",
			"marketplacePartnerId": "",
			"metrics": [{"category": "AllMetrics", "enabled": true}],
			"logs": [],
		},
		props,
	),
}

audit_group_on := {"categoryGroup": "audit", "enabled": true}

# kv-audit: the vault's audit group to the workspace law-sec.
audit_to_workspace := diag("kv-audit", {"workspaceId": workspace_id, "logAnalyticsDestinationType": "Dedicated", "logs": [audit_group_on]})

# volume(events, extra) is an auditVolume that was counted: `events` rows in
# law-sec over the window, merged with `extra` (lastEvent, partial).
volume(events, extra) := {"status": "ok", "value": object.union(
	{"workspaceId": queried_workspace, "windowStart": window_start, "windowEnd": window_end, "events": events},
	extra,
)}

# point(day, values) is one daily data point of a metric: `values` holds
# count and/or total; Azure Monitor leaves both out of a point without data.
point(day, values) := object.union({"timeStamp": sprintf("2024-05-%vT00:00:00Z", [day])}, values)

# metric(name, series) is one metric of a metrics answer with the
# timeseries `series` (each a list of points).
metric(name, series) := {
	"id": sprintf("%v/providers/Microsoft.Insights/metrics/%v", [kv_id, name]),
	"type": "Microsoft.Insights/metrics",
	"name": {"value": name, "localizedValue": name},
	"unit": "Count",
	"errorCode": "Success",
	"timeseries": [{"metadatavalues": [], "data": points} | some points in series],
}

# answer(metrics) is an apiHits that was read: a metrics answer of `metrics`.
answer(metrics) := {"status": "ok", "value": {
	"cost": 0,
	"timespan": sprintf("%v/%v", [window_start, window_end]),
	"interval": "P1D",
	"namespace": "Microsoft.KeyVault/vaults",
	"resourceregion": "westeurope",
	"value": metrics,
}}

# hits(points) is an apiHits answer: the ServiceApiHit metric with one
# timeseries of `points`.
hits(points) := answer([metric("ServiceApiHit", [points])])

no_requests := hits([point(24, {"count": 0, "total": 0}), point(25, {}), point(26, {"count": 0})])

# 12 + 30 = 42 requests by count (the totals say otherwise).
busy_points := [point(24, {"count": 12, "total": 99}), point(25, {}), point(26, {"count": 30, "total": 1})]

busy := hits(busy_points)

denied(what) := {"status": "error", "error": {"code": "AuthorizationFailed", "message": sprintf("The client does not have authorization to perform action '%v'", [what]), "httpStatus": 403}}

# vault_input(settings, vol, api) is the input of kv-prod whose diagnostic
# settings were read as `settings`, with auditVolume `vol` and apiHits `api`.
vault_input(settings, vol, api) := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": sub_id},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": {}},
	"diagnosticSettings": {"status": "ok", "value": settings},
	"auditLogs": {"status": "notCollected", "reason": "not in the inventory"},
	"auditVolume": vol,
	"apiHits": api,
	"subscription": {"subscriptionId": sub_id},
	"actionGroups": {"status": "ok", "byId": {}},
	"workspaces": {"byId": {}},
	"diagnosticCategories": {},
}

# with_evidence(vol, api) has the one setting kv-audit to law-sec.
with_evidence(vol, api) := vault_input([audit_to_workspace], vol, api)

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_rows_arrived if {
	vol := volume(1234, {"lastEvent": "2024-05-30T23:58:12Z"})
	inp := with_evidence(vol, busy)
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "1234 AuditEvent rows of the vault arrived in the workspace in the last 7 days (latest 2024-05-30T23:58:12Z)"
	r.evidence == {"workspace": queried_workspace, "events": 1234, "lastEvent": "2024-05-30T23:58:12Z"}
}

test_pass_when_rows_arrived_without_a_last_event if {
	vol := volume(3, {})
	inp := with_evidence(vol, busy)
	r := sole(results) with input as inp
	r.status == "pass"
	endswith(r.message, "(latest unknown)")
	r.evidence.lastEvent == null
}

# The period comes from the collected window, not from this evaluation's
# data (an inventory collected over 3 days says 3, whatever the config).
test_pass_reports_the_collected_number_of_days if {
	vol := volume(5, {"lastEvent": "2024-05-30T10:00:00Z", "windowStart": "2024-05-28T09:00:00Z"})
	inp := with_evidence(vol, busy)
	r := sole(results) with input as inp with data.config.logsArrivingDays as 14
	r.status == "pass"
	contains(r.message, "in the last 3 days")
}

# A partial answer that found rows still proves they arrive.
test_pass_when_partial_answer_has_rows if {
	vol := volume(7, {"partial": true})
	inp := with_evidence(vol, busy)
	r := sole(results) with input as inp
	r.status == "pass"
	startswith(r.message, "7 AuditEvent rows")
}

# The metrics are only needed when there are no rows.
test_pass_when_rows_arrived_and_metrics_cannot_be_read if {
	vol := volume(10, {})
	api := denied("Microsoft.Insights/metrics/read")
	inp := with_evidence(vol, api)
	r := sole(results) with input as inp
	r.status == "pass"
	startswith(r.message, "10 AuditEvent rows")
}

test_pass_when_no_rows_and_no_requests if {
	vol := volume(0, {})
	inp := with_evidence(vol, no_requests)
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the vault served no request in the last 7 days (ServiceApiHit 0), so no AuditEvent row was expected"
	r.evidence == {"workspace": queried_workspace, "events": 0, "serviceApiHits": 0}
}

test_pass_when_no_rows_and_metric_has_no_timeseries if {
	vol := volume(0, {})
	empty := answer([metric("ServiceApiHit", [])])
	inp := with_evidence(vol, empty)
	r := sole(results) with input as inp
	r.status == "pass"
	contains(r.message, "(ServiceApiHit 0)")
}

# ---------------------------------------------------------------------------
# fail
# ---------------------------------------------------------------------------

test_fail_when_no_rows_but_requests_were_served if {
	vol := volume(0, {})
	inp := with_evidence(vol, busy)
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == sprintf("diagnostic setting 'kv-audit' sends AuditEvent to workspace %v, but it holds no AuditEvent row of the vault from the last 7 days although Azure Monitor counted 42 API requests: the logging pipeline is broken or points at the wrong workspace", [queried_workspace])
	r.evidence == {
		"workspace": queried_workspace, "settings": ["kv-audit"], "events": 0, "serviceApiHits": 42,
		"windowStart": window_start, "windowEnd": window_end,
	}
}

# count is used where a point has it (above: 42, not the totals' 100).
# A point without count uses its total.
test_fail_counts_total_where_a_point_has_no_count if {
	vol := volume(0, {})
	api := hits([point(24, {"total": 5}), point(25, {"count": 2, "total": 50}), point(26, {"count": null, "total": 1})])
	inp := with_evidence(vol, api)
	r := sole(results) with input as inp
	r.status == "fail"
	r.evidence.serviceApiHits == 8
	contains(r.message, "counted 8 API requests")
}

test_fail_sums_every_timeseries_of_the_metric if {
	vol := volume(0, {})
	two := answer([metric("ServiceApiHit", [busy_points, [point(27, {"count": 8})]])])
	inp := with_evidence(vol, two)
	r := sole(results) with input as inp
	r.status == "fail"
	r.evidence.serviceApiHits == 50
}

# Another metric in the answer is not a request count.
# An answer without a ServiceApiHit series proves nothing about requests.
test_not_evaluable_when_no_service_api_hit_series if {
	vol := volume(0, {})
	other := answer([metric("ServiceApiLatency", [busy_points])])
	inp := with_evidence(vol, other)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	contains(r.message, "no ServiceApiHit series")
}

test_not_evaluable_when_the_metrics_answer_is_empty if {
	vol := volume(0, {})
	empty := answer([])
	inp := with_evidence(vol, empty)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
}

# Only ServiceApiHit counts, its name compared case-insensitively.
test_fail_counts_only_service_api_hit_among_several_metrics if {
	vol := volume(0, {})
	api := answer([
		metric("ServiceApiLatency", [[point(24, {"count": 1000, "total": 5000})]]),
		metric("serviceapihit", [busy_points]),
	])
	inp := with_evidence(vol, api)
	r := sole(results) with input as inp
	r.status == "fail"
	r.evidence.serviceApiHits == 42
}

# The message names the setting whose workspace was queried, not a setting
# that sends to another workspace.
test_fail_names_only_the_setting_of_the_queried_workspace if {
	vol := volume(0, {})
	team := diag("kv-team", {"workspaceId": other_workspace_id, "logs": [{"category": "AuditEvent", "enabled": true}]})
	inp := vault_input([audit_to_workspace, team], vol, busy)
	r := sole(results) with input as inp
	r.status == "fail"
	startswith(r.message, sprintf("diagnostic setting 'kv-audit' sends AuditEvent to workspace %v,", [queried_workspace]))
	not contains(r.message, "kv-team")
	r.evidence.settings == ["kv-audit"]
}

# Two settings to the same workspace are both named.
test_fail_names_every_setting_of_the_queried_workspace if {
	vol := volume(0, {})
	second := diag("kv-audit-2", {"workspaceId": upper(workspace_id), "logs": [{"categoryGroup": "allLogs", "enabled": true}]})
	inp := vault_input([second, audit_to_workspace], vol, busy)
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-audit', 'kv-audit-2' sends AuditEvent")
	r.evidence.settings == ["kv-audit", "kv-audit-2"]
}

# ---------------------------------------------------------------------------
# not evaluable
# ---------------------------------------------------------------------------

test_not_evaluable_when_diagnostic_settings_cannot_be_read if {
	base := with_evidence(volume(0, {}), busy)
	inp := object.union(base, {"diagnosticSettings": denied("microsoft.insights/diagnosticSettings/read")})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "diagnostic settings could not be read (AuthorizationFailed: The client does not have authorization to perform action 'microsoft.insights/diagnosticSettings/read'), so it is unknown which workspace should hold the logs"
}

test_not_evaluable_when_audit_logs_go_to_storage_only if {
	storage_only := diag("kv-archive", {"storageAccountId": storage_id, "logs": [audit_group_on]})
	inp := vault_input([storage_only], {"status": "notCollected", "reason": "no diagnostic setting sends AuditEvent to a Log Analytics workspace"}, busy)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "AuditEvent logs of this vault reach no Log Analytics workspace, so there is nothing to count (see kv/audit-logging)"
}

test_not_evaluable_when_the_workspace_setting_exports_no_audit_event if {
	policy_only := diag("kv-policy", {"workspaceId": workspace_id, "logs": [{"category": "AzurePolicyEvaluationDetails", "enabled": true}]})
	inp := vault_input([policy_only], volume(0, {}), busy)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	startswith(r.message, "AuditEvent logs of this vault reach no Log Analytics workspace")
}

test_not_evaluable_when_the_vault_has_no_diagnostic_settings if {
	inp := vault_input([], {"status": "notCollected", "reason": "no diagnostic setting sends AuditEvent to a Log Analytics workspace"}, busy)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	contains(r.message, "reach no Log Analytics workspace")
}

test_not_evaluable_when_the_workspace_cannot_be_queried if {
	vol := {"status": "error", "error": {"code": "InsufficientAccessError", "message": "The provided credentials have insufficient access to perform the requested operation", "httpStatus": 403}}
	inp := with_evidence(vol, busy)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the Log Analytics workspace could not be queried (InsufficientAccessError: The provided credentials have insufficient access to perform the requested operation)"
}

test_not_evaluable_when_volume_was_not_collected if {
	vol := {"status": "notCollected", "reason": "kv/logs-arriving was not selected"}
	inp := with_evidence(vol, busy)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the vault's AuditEvent rows were not counted (kv/logs-arriving was not selected)"
}

test_not_evaluable_when_partial_answer_counts_no_rows if {
	vol := volume(0, {"partial": true})
	inp := with_evidence(vol, busy)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "Log Analytics answered only partially, so a count of 0 proves nothing"
}

test_not_evaluable_when_no_rows_and_metrics_cannot_be_read if {
	vol := volume(0, {})
	api := {"status": "error", "error": {"code": "BadRequest", "message": "Metric ServiceApiHit failed", "httpStatus": 200}}
	inp := with_evidence(vol, api)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the workspace holds no AuditEvent row of the vault, and its ServiceApiHit metrics could not be read (BadRequest: Metric ServiceApiHit failed), so it is unknown whether it served requests"
}

test_not_evaluable_when_no_rows_and_metrics_were_not_collected if {
	vol := volume(0, {})
	api := {"status": "notCollected", "reason": "not in the inventory"}
	inp := with_evidence(vol, api)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	contains(r.message, "its ServiceApiHit metrics could not be read (not in the inventory)")
}

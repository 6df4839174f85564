# Unit tests of kv/unauthorized-requests. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input and config is
# bound to a variable first.
package kvaudit.kv.unauthorized_requests

sub_id := "00000000-0000-0000-0000-000000000000"

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

workspace_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-sec"

storage_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stkvlogs"

# A diagnostic setting sending the audit group to the workspace (AZKVAuditLogs).
workspace_setting := {
	"id": concat("", [kv_id, "/providers/microsoft.insights/diagnosticSettings/kv-audit"]),
	"type": "Microsoft.Insights/diagnosticSettings",
	"name": "kv-audit",
	"properties": {
		"workspaceId": workspace_id,
		"storageAccountId": "",
		"eventHubAuthorizationRuleId": "",
		"marketplacePartnerId": "",
		"logAnalyticsDestinationType": "Dedicated",
		"logs": [{"categoryGroup": "audit", "enabled": true}],
	},
}

# The window is the 24 hours before windowEnd.
window_end := "2025-06-10T12:00:00Z"

base_input := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": sub_id},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": {}},
	"diagnosticSettings": {"status": "ok", "value": [workspace_setting]},
	"auditLogs": {
		"status": "ok",
		"workspaceId": workspace_id,
		"tables": ["AZKVAuditLogs"],
		"windowStart": "2025-06-09T12:00:00Z",
		"windowEnd": window_end,
		"challengeWindowSeconds": 60,
		"unauthorized": [],
		"forbidden": [],
	},
	"subscription": {"subscriptionId": sub_id},
	"actionGroups": {"status": "ok", "byId": {}},
	"workspaces": {"byId": {}},
	"diagnosticCategories": {},
}

# SDK challenges: every 401 answered by a 2xx from the same IP and client.
challenge_group := {
	"callerIp": "10.1.2.3",
	"client": "azsdk-net-Security.KeyVault.Secrets/4.5.0 (.NET 8.0.0; Ubuntu 22.04)",
	"identity": {},
	"count": 12,
	"challenges": 12,
	"unexplained": 0,
	"firstSeen": "2025-06-10T08:00:00Z",
	"lastSeen": "2025-06-10T11:00:00Z",
	"operations": ["Authentication"],
}

# Unanswered 401s from an unknown address.
probe_group := {
	"callerIp": "203.0.113.7",
	"client": "python-requests/2.31.0",
	"identity": {},
	"count": 5,
	"challenges": 0,
	"unexplained": 5,
	"firstSeen": "2025-06-10T09:00:00Z",
	"lastSeen": "2025-06-10T09:05:00Z",
	"lastUnexplained": "2025-06-10T09:05:00Z",
	"operations": ["Authentication", "SecretGet"],
}

# with_groups(groups) is base_input with these 401 groups.
with_groups(groups) := object.union(base_input, {"auditLogs": {"unauthorized": groups}})

# with_logs(logs) replaces auditLogs entirely.
with_logs(logs) := object.union(object.remove(base_input, ["auditLogs"]), {"auditLogs": logs})

# cfg(allow) is the default policy data with allowList overridden.
cfg(allow) := {"windowHours": 24, "challengeSeconds": 60, "allowList": object.union({"ips": [], "objectIds": [], "appIds": []}, allow), "severities": {}}

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

# An unexplained 401 whose latest occurrence is at `ts`.
probe_at(ts) := object.union(probe_group, {"lastSeen": ts, "lastUnexplained": ts})

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_only_benign_challenges if {
	inp := with_groups([challenge_group])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "no unexplained 401 in the last 24h (12 401s, 12 authentication challenges, 0 from allow-listed callers)"
	r.evidence == {"unauthorized": 12, "challenges": 12, "allowListed": 0}
}

test_pass_when_no_401_at_all if {
	r := sole(results) with input as base_input
	r.status == "pass"
	r.message == "no unexplained 401 in the last 24h (0 401s, 0 authentication challenges, 0 from allow-listed callers)"
}

test_pass_when_ip_is_allow_listed_exactly if {
	inp := with_groups([challenge_group, probe_group])
	c := cfg({"ips": ["203.0.113.7"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "pass"
	r.message == "no unexplained 401 in the last 24h (17 401s, 12 authentication challenges, 5 from allow-listed callers)"
}

test_pass_when_ip_is_allow_listed_by_cidr if {
	inp := with_groups([probe_group])
	c := cfg({"ips": ["198.51.100.0/24", "203.0.113.0/24"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "pass"
	r.evidence.allowListed == 5
}

test_pass_when_object_id_is_allow_listed if {
	g := object.union(probe_group, {"identity": {"objectId": "aaaaaaaa-1111-2222-3333-444444444444"}})
	inp := with_groups([g])
	c := cfg({"objectIds": ["AAAAAAAA-1111-2222-3333-444444444444"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "pass"
}

test_pass_when_app_id_is_allow_listed if {
	g := object.union(probe_group, {"identity": {"appId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "objectId": "bbbbbbbb-1111-2222-3333-444444444444"}})
	inp := with_groups([g])
	c := cfg({"appIds": ["04b07795-8ddb-461a-bbee-02f9e1bf7b46"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "pass"
}

test_pass_when_last_unexplained_is_older_than_the_window if {
	inp := with_groups([probe_at("2025-06-09T08:00:00Z")])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_when_last_unexplained_is_exactly_window_hours_before_window_end if {
	inp := with_groups([probe_at("2025-06-09T12:00:00Z")])
	r := sole(results) with input as inp
	r.status == "pass"
}

# lastUnexplained, not lastSeen, dates the group: later challenges do not
# bring an old unexplained 401 back into the window.
test_pass_when_last_seen_is_recent_but_last_unexplained_is_old if {
	g := object.union(probe_group, {"lastSeen": "2025-06-10T11:59:00Z", "lastUnexplained": "2025-06-09T11:00:00Z"})
	inp := with_groups([g])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_when_outside_a_shorter_configured_window if {
	inp := with_groups([probe_at("2025-06-10T10:00:00Z")])
	c := object.union(cfg({}), {"windowHours": 1})
	r := sole(results) with input as inp with data.config as c
	r.status == "pass"
	contains(r.message, "in the last 1h")
}

# ---------------------------------------------------------------------------
# fail
# ---------------------------------------------------------------------------

test_fail_when_unexplained_401s_come_from_an_ip if {
	inp := with_groups([challenge_group, probe_group])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "203.0.113.7"
	r.message == "5 unexplained 401 response(s) to 203.0.113.7 (client 'python-requests/2.31.0') between 2025-06-10T09:00:00Z and 2025-06-10T09:05:00Z: no 2xx from the same IP and client followed within 60s"
	r.evidence == {"callerIp": "203.0.113.7", "unexplained": 5, "groups": [probe_group]}
}

test_fail_when_last_unexplained_is_one_second_inside_the_window if {
	inp := with_groups([probe_at("2025-06-09T12:00:01Z")])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "203.0.113.7"
}

test_fail_once_per_ip_when_two_clients_share_it if {
	curl := object.union(probe_group, {"client": "curl/8.4.0", "count": 3, "unexplained": 3, "firstSeen": "2025-06-10T07:00:00Z", "lastSeen": "2025-06-10T10:00:00Z", "lastUnexplained": "2025-06-10T10:00:00Z"})
	inp := with_groups([probe_group, curl])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "203.0.113.7"
	r.evidence.unexplained == 8
	count(r.evidence.groups) == 2
	r.message == "8 unexplained 401 response(s) to 203.0.113.7 (client 'curl/8.4.0', 'python-requests/2.31.0') between 2025-06-10T07:00:00Z and 2025-06-10T10:00:00Z: no 2xx from the same IP and client followed within 60s"
}

test_fail_once_per_ip_for_two_ips if {
	other := object.union(probe_group, {"callerIp": "198.51.100.9", "unexplained": 2, "count": 2})
	inp := with_groups([probe_group, other, challenge_group])
	rs := results with input as inp
	count(rs) == 2
	{r.discriminator | some r in rs} == {"203.0.113.7", "198.51.100.9"}
	every r in rs {
		r.status == "fail"
	}
}

test_fail_only_for_the_ip_that_is_not_allow_listed if {
	other := object.union(probe_group, {"callerIp": "198.51.100.9"})
	inp := with_groups([probe_group, other])
	c := cfg({"ips": ["203.0.113.7"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "fail"
	r.discriminator == "198.51.100.9"
}

test_fail_when_last_unexplained_is_absent_and_last_seen_is_in_window if {
	g := object.remove(probe_group, ["lastUnexplained"])
	inp := with_groups([g])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "and 2025-06-10T09:05:00Z")
}

test_fail_labels_empty_ip_and_client_as_unknown if {
	g := object.union(probe_group, {"callerIp": "", "client": ""})
	inp := with_groups([g])
	c := cfg({"ips": ["10.0.0.0/8"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "fail"
	r.discriminator == "unknown IP"
	contains(r.message, "to unknown IP (client unknown)")
}

test_fail_reports_the_collected_challenge_window if {
	inp := object.union(with_groups([probe_group]), {"auditLogs": {"challengeWindowSeconds": 10}})
	r := sole(results) with input as inp
	endswith(r.message, "followed within 10s")
}

test_fail_when_partial_result_has_an_offending_ip if {
	inp := object.union(with_groups([probe_group]), {"auditLogs": {"status": "partial"}})
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "203.0.113.7"
}

# ---------------------------------------------------------------------------
# not evaluable
# ---------------------------------------------------------------------------

no_workspace_message := "AuditEvent logs of this vault reach no Log Analytics workspace, so failed requests cannot be seen (see kv/audit-logging)"

test_not_evaluable_when_vault_has_no_diagnostic_settings if {
	inp := object.union(with_groups([probe_group]), {"diagnosticSettings": {"status": "ok", "value": []}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == no_workspace_message
}

test_not_evaluable_when_audit_event_goes_only_to_storage if {
	storage_only := object.union(workspace_setting, {"name": "kv-archive", "properties": {"workspaceId": "", "storageAccountId": storage_id}})
	inp := object.union(with_groups([probe_group]), {"diagnosticSettings": {"status": "ok", "value": [storage_only]}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == no_workspace_message
}

test_not_evaluable_when_workspace_gets_only_policy_logs if {
	policy_only := object.union(workspace_setting, {"properties": {"logs": [{"category": "AzurePolicyEvaluationDetails", "enabled": true}, {"category": "AuditEvent", "enabled": false}]}})
	inp := object.union(with_groups([probe_group]), {"diagnosticSettings": {"status": "ok", "value": [policy_only]}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == no_workspace_message
}

test_not_evaluable_when_diagnostic_settings_cannot_be_read if {
	inp := object.union(with_groups([probe_group]), {"diagnosticSettings": {"status": "error", "error": {"code": "AuthorizationFailed", "message": "denied"}}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "diagnostic settings could not be read (AuthorizationFailed: denied), so it is unknown whether AuditEvent logs reach a workspace"
}

test_not_evaluable_when_audit_logs_query_failed if {
	inp := with_logs({"status": "error", "workspaceId": workspace_id, "error": {"code": "PathNotFound", "message": "The requested path does not exist"}, "unauthorized": [], "forbidden": []})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the Log Analytics workspace could not be queried (PathNotFound: The requested path does not exist)"
}

test_not_evaluable_when_audit_logs_not_collected if {
	inp := with_logs({"status": "notCollected", "reason": "--no-logs was given", "unauthorized": [], "forbidden": []})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "audit logs were not collected (--no-logs was given)"
}

test_not_evaluable_when_partial_result_has_no_offending_ip if {
	inp := object.union(with_groups([challenge_group]), {"auditLogs": {"status": "partial"}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the Log Analytics query returned a partial result, so a clean verdict cannot be given"
}

# Even groups that would fail are not reported when the logs cannot be trusted.
test_not_evaluable_and_no_fail_when_audit_logs_errored_with_stale_groups if {
	inp := object.union(with_groups([probe_group]), {"auditLogs": {"status": "error", "error": {"code": "BadRequest", "message": "x"}}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
}

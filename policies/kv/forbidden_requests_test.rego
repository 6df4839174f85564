# Unit tests of kv/forbidden-requests. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input and config is
# bound to a variable first.
package kvaudit.kv.forbidden_requests

sub_id := "00000000-0000-0000-0000-000000000000"

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

workspace_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-sec"

storage_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stkvlogs"

workspace_setting := {
	"id": concat("", [kv_id, "/providers/microsoft.insights/diagnosticSettings/kv-audit"]),
	"type": "Microsoft.Insights/diagnosticSettings",
	"name": "kv-audit",
	"properties": {
		"workspaceId": workspace_id,
		"storageAccountId": "",
		"eventHubAuthorizationRuleId": "",
		"marketplacePartnerId": "",
		"logs": [{"category": "AuditEvent", "enabled": true}, {"category": "AzurePolicyEvaluationDetails", "enabled": false}],
	},
}

base_input := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": sub_id},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": {}},
	"diagnosticSettings": {"status": "ok", "value": [workspace_setting]},
	"auditLogs": {
		"status": "ok",
		"workspaceId": workspace_id,
		"tables": ["AzureDiagnostics"],
		"windowStart": "2025-06-09T12:00:00Z",
		"windowEnd": "2025-06-10T12:00:00Z",
		"challengeWindowSeconds": 60,
		"unauthorized": [],
		"forbidden": [],
	},
	"subscription": {"subscriptionId": sub_id},
	"actionGroups": {"status": "ok", "byId": {}},
	"workspaces": {"byId": {}},
	"diagnosticCategories": {},
}

mallory := {"upn": "mallory@contoso.com", "appId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "objectId": "11111111-2222-3333-4444-555555555555"}

# 403s to a user on an RBAC vault.
refused_group := {
	"callerIp": "198.51.100.20",
	"client": "azsdk-python-keyvault-secrets/4.7.0 Python/3.11.4 (Linux)",
	"identity": mallory,
	"count": 3,
	"firstSeen": "2025-06-10T10:00:00Z",
	"lastSeen": "2025-06-10T10:30:00Z",
	"operations": ["SecretList", "SecretGet"],
	"resultDescription": "Caller is not authorized to perform action on resource.",
}

with_groups(groups) := object.union(base_input, {"auditLogs": {"forbidden": groups}})

with_logs(logs) := object.union(object.remove(base_input, ["auditLogs"]), {"auditLogs": logs})

cfg(allow) := {"windowHours": 24, "challengeSeconds": 60, "allowList": object.union({"ips": [], "objectIds": [], "appIds": []}, allow), "severities": {}}

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

# refused_as(identity) is refused_group with another identity.
refused_as(identity) := object.union(object.remove(refused_group, ["identity"]), {"identity": identity})

# ---------------------------------------------------------------------------
# fail
# ---------------------------------------------------------------------------

test_fail_when_a_user_is_refused if {
	inp := with_groups([refused_group])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "mallory@contoso.com|198.51.100.20"
	r.message == "mallory@contoso.com refused 3 time(s) from 198.51.100.20 between 2025-06-10T10:00:00Z and 2025-06-10T10:30:00Z (operations: SecretGet, SecretList): Caller is not authorized to perform action on resource."
	r.evidence == {"identity": mallory, "callerIp": "198.51.100.20", "count": 3, "groups": [refused_group]}
}

test_fail_discriminator_uses_app_id_without_upn if {
	inp := with_groups([refused_as({"appId": "a0a0a0a0-0000-0000-0000-000000000001", "objectId": "o"})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "app a0a0a0a0-0000-0000-0000-000000000001|198.51.100.20"
	startswith(r.message, "app a0a0a0a0-0000-0000-0000-000000000001 refused 3 time(s)")
}

test_fail_discriminator_uses_app_id_when_upn_is_empty if {
	inp := with_groups([refused_as({"upn": "", "appId": "a0a0a0a0-0000-0000-0000-000000000001"})])
	r := sole(results) with input as inp
	r.discriminator == "app a0a0a0a0-0000-0000-0000-000000000001|198.51.100.20"
}

test_fail_discriminator_uses_object_id_alone if {
	inp := with_groups([refused_as({"objectId": "22222222-0000-0000-0000-000000000002"})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "object 22222222-0000-0000-0000-000000000002|198.51.100.20"
}

test_fail_discriminator_is_anonymous_without_identity if {
	g := object.union(refused_as({}), {"resultDescription": "Client address is not authorized and caller is not a trusted service."})
	inp := with_groups([g])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "anonymous|198.51.100.20"
	endswith(r.message, ": Client address is not authorized and caller is not a trusted service.")
}

test_fail_labels_empty_ip_as_unknown if {
	g := object.union(refused_group, {"callerIp": ""})
	inp := with_groups([g])
	c := cfg({"ips": ["10.0.0.0/8"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "fail"
	r.discriminator == "mallory@contoso.com|unknown IP"
}

test_fail_twice_for_two_identities_from_one_ip if {
	other := refused_as({"upn": "eve@contoso.com", "objectId": "33333333-0000-0000-0000-000000000003"})
	inp := with_groups([refused_group, other])
	rs := results with input as inp
	count(rs) == 2
	{r.discriminator | some r in rs} == {"mallory@contoso.com|198.51.100.20", "eve@contoso.com|198.51.100.20"}
	every r in rs {
		r.status == "fail"
		r.evidence.count == 3
	}
}

test_fail_once_for_one_identity_from_one_ip_with_two_clients if {
	cli := object.union(refused_group, {"client": "azure-cli/2.61.0", "count": 2, "firstSeen": "2025-06-10T09:00:00Z", "lastSeen": "2025-06-10T11:00:00Z", "operations": ["KeyGet"]})
	inp := with_groups([refused_group, cli])
	r := sole(results) with input as inp
	r.status == "fail"
	r.evidence.count == 5
	count(r.evidence.groups) == 2
	contains(r.message, "refused 5 time(s) from 198.51.100.20 between 2025-06-10T09:00:00Z and 2025-06-10T11:00:00Z (operations: KeyGet, SecretGet, SecretList)")
}

test_fail_for_same_identity_from_two_ips if {
	other := object.union(refused_group, {"callerIp": "198.51.100.21"})
	inp := with_groups([refused_group, other])
	rs := results with input as inp
	{r.discriminator | some r in rs} == {"mallory@contoso.com|198.51.100.20", "mallory@contoso.com|198.51.100.21"}
}

test_fail_without_result_description_ends_at_operations if {
	g := object.remove(refused_group, ["resultDescription"])
	inp := with_groups([g])
	r := sole(results) with input as inp
	endswith(r.message, "(operations: SecretGet, SecretList)")
}

test_fail_when_last_seen_is_one_second_inside_the_window if {
	g := object.union(refused_group, {"firstSeen": "2025-06-09T12:00:01Z", "lastSeen": "2025-06-09T12:00:01Z"})
	inp := with_groups([g])
	r := sole(results) with input as inp
	r.status == "fail"
}

test_fail_when_partial_result_has_a_refused_caller if {
	inp := object.union(with_groups([refused_group]), {"auditLogs": {"status": "partial"}})
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "mallory@contoso.com|198.51.100.20"
}

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_no_403 if {
	r := sole(results) with input as base_input
	r.status == "pass"
	r.message == "no 403 to an unknown caller in the last 24h (0 403s from allow-listed callers)"
}

test_pass_when_ip_is_allow_listed if {
	inp := with_groups([refused_group])
	c := cfg({"ips": ["198.51.100.20"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "pass"
	r.message == "no 403 to an unknown caller in the last 24h (3 403s from allow-listed callers)"
}

test_pass_when_ip_is_allow_listed_by_cidr if {
	inp := with_groups([refused_group])
	c := cfg({"ips": ["198.51.100.0/25"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "pass"
}

test_pass_when_object_id_is_allow_listed if {
	inp := with_groups([refused_group])
	c := cfg({"objectIds": ["11111111-2222-3333-4444-555555555555"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "pass"
}

test_pass_when_app_id_is_allow_listed if {
	inp := with_groups([refused_group])
	c := cfg({"appIds": ["04B07795-8DDB-461A-BBEE-02F9E1BF7B46"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "pass"
}

test_pass_when_last_seen_is_outside_the_window if {
	g := object.union(refused_group, {"firstSeen": "2025-06-08T10:00:00Z", "lastSeen": "2025-06-09T11:59:59Z"})
	inp := with_groups([g])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_when_last_seen_is_exactly_window_hours_before_window_end if {
	g := object.union(refused_group, {"firstSeen": "2025-06-09T12:00:00Z", "lastSeen": "2025-06-09T12:00:00Z"})
	inp := with_groups([g])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_when_group_count_is_zero if {
	inp := with_groups([object.union(refused_group, {"count": 0})])
	r := sole(results) with input as inp
	r.status == "pass"
}

# ---------------------------------------------------------------------------
# not evaluable
# ---------------------------------------------------------------------------

no_workspace_message := "AuditEvent logs of this vault reach no Log Analytics workspace, so failed requests cannot be seen (see kv/audit-logging)"

test_not_evaluable_when_vault_has_no_diagnostic_settings if {
	inp := object.union(with_groups([refused_group]), {"diagnosticSettings": {"status": "ok", "value": []}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == no_workspace_message
}

test_not_evaluable_when_audit_event_goes_only_to_storage if {
	storage_only := object.union(workspace_setting, {"name": "kv-archive", "properties": {"workspaceId": "", "storageAccountId": storage_id}})
	inp := object.union(with_groups([refused_group]), {"diagnosticSettings": {"status": "ok", "value": [storage_only]}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == no_workspace_message
}

test_not_evaluable_when_diagnostic_settings_cannot_be_read if {
	inp := object.union(with_groups([refused_group]), {"diagnosticSettings": {"status": "error", "error": {"code": "AuthorizationFailed", "message": "denied"}}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	startswith(r.message, "diagnostic settings could not be read (AuthorizationFailed: denied)")
}

test_not_evaluable_when_audit_logs_query_failed if {
	inp := with_logs({"status": "error", "workspaceId": workspace_id, "error": {"code": "InsufficientAccessError", "message": "The provided credentials have insufficient access"}, "unauthorized": [], "forbidden": []})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the Log Analytics workspace could not be queried (InsufficientAccessError: The provided credentials have insufficient access)"
}

test_not_evaluable_when_audit_logs_not_collected if {
	inp := with_logs({"status": "notCollected", "reason": "not in the inventory", "unauthorized": [], "forbidden": []})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "audit logs were not collected (not in the inventory)"
}

test_not_evaluable_when_partial_result_has_no_refused_caller if {
	inp := object.union(base_input, {"auditLogs": {"status": "partial"}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the Log Analytics query returned a partial result, so a clean verdict cannot be given"
}

test_not_evaluable_when_partial_result_has_only_allow_listed_callers if {
	inp := object.union(with_groups([refused_group]), {"auditLogs": {"status": "partial"}})
	c := cfg({"ips": ["198.51.100.20"]})
	r := sole(results) with input as inp with data.config as c
	r.status == "not_evaluable"
}

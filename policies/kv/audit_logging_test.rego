# Unit tests of kv/audit-logging. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.audit_logging

sub_id := "00000000-0000-0000-0000-000000000000"

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

workspace_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-sec"

storage_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stkvlogs"

eventhub_rule_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-logs/providers/Microsoft.EventHub/namespaces/eh-logs/authorizationrules/RootManageSharedAccessKey"

partner_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-logs/providers/Microsoft.Datadog/monitors/dd1"

# diag(name, props) is a diagnostic setting in the 2021-05-01-preview shape.
# Like the official examples, unset destinations are "" (not absent).
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

base_input := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": sub_id},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": {}},
	"diagnosticSettings": {"status": "ok", "value": []},
	"auditLogs": {"status": "notCollected", "reason": "not in the inventory"},
	"subscription": {"subscriptionId": sub_id},
	"actionGroups": {"status": "ok", "byId": {}},
	"workspaces": {"byId": {}},
	"diagnosticCategories": {},
}

# with_settings(list) is base_input whose diagnostic settings are `list`.
with_settings(list) := object.union(base_input, {"diagnosticSettings": {"status": "ok", "value": list}})

# sole(rs) is the only element of rs; undefined when rs has 0 or 2+ elements.
sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

audit_event_on := {"category": "AuditEvent", "enabled": true, "retentionPolicy": {"enabled": false, "days": 0}}

policy_details_on := {"category": "AzurePolicyEvaluationDetails", "enabled": true, "retentionPolicy": {"enabled": false, "days": 0}}

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_audit_event_is_enabled_to_a_workspace if {
	inp := with_settings([diag("kv-audit", {"workspaceId": workspace_id, "logs": [audit_event_on, object.union(policy_details_on, {"enabled": false})]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "diagnostic setting 'kv-audit' exports AuditEvent (category AuditEvent) to workspaceId"
	r.evidence.matched == [{"setting": "kv-audit", "entry": "category AuditEvent", "destinations": ["workspaceId"]}]
}

test_pass_when_only_category_group_all_logs_is_enabled if {
	inp := with_settings([diag("kv-all", {"workspaceId": workspace_id, "logs": [{"categoryGroup": "allLogs", "enabled": true}]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "diagnostic setting 'kv-all' exports AuditEvent (categoryGroup allLogs) to workspaceId"
}

test_pass_when_only_category_group_audit_is_enabled if {
	inp := with_settings([diag("kv-audit-group", {"workspaceId": workspace_id, "logs": [{"categoryGroup": "audit", "enabled": true}]})])
	r := sole(results) with input as inp
	r.status == "pass"
	contains(r.message, "(categoryGroup audit)")
}

test_pass_when_category_is_lower_case_auditevent if {
	inp := with_settings([diag("kv-lc", {"workspaceId": workspace_id, "logs": [{"category": "auditevent", "enabled": true}]})])
	r := sole(results) with input as inp
	r.status == "pass"
	contains(r.message, "(category auditevent)")
}

test_pass_when_category_group_is_mixed_case_all_logs if {
	inp := with_settings([diag("kv-mixed", {"workspaceId": workspace_id, "logs": [{"categoryGroup": "AllLogs", "enabled": true}]})])
	r := sole(results) with input as inp
	r.status == "pass"
	contains(r.message, "(categoryGroup AllLogs)")
}

test_pass_when_category_is_null_and_category_group_is_set if {
	inp := with_settings([diag("kv-null-cat", {"workspaceId": workspace_id, "logs": [{"category": null, "categoryGroup": "audit", "enabled": true}]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.matched[0].entry == "categoryGroup audit"
}

test_pass_when_destination_is_storage_only if {
	inp := with_settings([diag("kv-archive", {"storageAccountId": storage_id, "logs": [audit_event_on]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "diagnostic setting 'kv-archive' exports AuditEvent (category AuditEvent) to storageAccountId"
}

test_pass_when_destination_is_event_hub_only if {
	inp := with_settings([diag("kv-siem", {"eventHubAuthorizationRuleId": eventhub_rule_id, "eventHubName": "kv-logs", "logs": [audit_event_on]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.matched[0].destinations == ["eventHubAuthorizationRuleId"]
}

test_pass_when_destination_is_marketplace_partner_only if {
	inp := with_settings([diag("kv-datadog", {"marketplacePartnerId": partner_id, "logs": [{"categoryGroup": "allLogs", "enabled": true}]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.matched[0].destinations == ["marketplacePartnerId"]
}

# The official listDiagnosticSettings example: storage, event hub and partner, workspaceId "".
test_pass_lists_every_destination_of_the_official_example if {
	inp := with_settings([diag("mysetting", {"storageAccountId": storage_id, "eventHubAuthorizationRuleId": eventhub_rule_id, "marketplacePartnerId": partner_id, "logs": [{"categoryGroup": "allLogs", "enabled": true}]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "diagnostic setting 'mysetting' exports AuditEvent (categoryGroup allLogs) to eventHubAuthorizationRuleId, marketplacePartnerId, storageAccountId"
}

test_pass_when_one_of_two_settings_falls_short_and_the_other_matches if {
	short := diag("kv-short", {"workspaceId": workspace_id, "logs": [policy_details_on]})
	good := diag("kv-good", {"storageAccountId": storage_id, "logs": [{"categoryGroup": "audit", "enabled": true}]})
	inp := with_settings([short, good])
	r := sole(results) with input as inp
	r.status == "pass"
	contains(r.message, "'kv-good'")
	not contains(r.message, "kv-short")
	r.evidence.matched == [{"setting": "kv-good", "entry": "categoryGroup audit", "destinations": ["storageAccountId"]}]
}

test_pass_when_null_destinations_and_one_real_destination if {
	inp := with_settings([diag("kv-nulls", {"workspaceId": null, "storageAccountId": storage_id, "eventHubAuthorizationRuleId": null, "logs": [audit_event_on]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.matched[0].destinations == ["storageAccountId"]
}

# ---------------------------------------------------------------------------
# fail
# ---------------------------------------------------------------------------

test_fail_when_audit_event_entry_is_disabled if {
	inp := with_settings([diag("kv-off", {"workspaceId": workspace_id, "logs": [object.union(audit_event_on, {"enabled": false})]})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "no diagnostic setting exports AuditEvent to a destination: 'kv-off' exports no AuditEvent (category AuditEvent is disabled)"
	r.evidence.settings == [{"setting": "kv-off", "shortfalls": ["exports no AuditEvent (category AuditEvent is disabled)"]}]
}

test_fail_when_all_log_groups_are_disabled if {
	inp := with_settings([diag("kv-off", {"workspaceId": workspace_id, "logs": [{"categoryGroup": "audit", "enabled": false}, {"categoryGroup": "allLogs", "enabled": false}]})])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "categoryGroup audit is disabled, categoryGroup allLogs is disabled")
}

test_fail_when_only_azure_policy_evaluation_details_is_exported if {
	inp := with_settings([diag("kv-policy", {"workspaceId": workspace_id, "logs": [policy_details_on]})])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-policy' exports no AuditEvent (category AzurePolicyEvaluationDetails does not contain AuditEvent)")
	not contains(r.message, "no destination")
}

test_fail_when_every_destination_is_an_empty_string if {
	inp := with_settings([diag("kv-nowhere", {"logs": [audit_event_on]})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "no diagnostic setting exports AuditEvent to a destination: 'kv-nowhere' has no destination (workspaceId, storageAccountId, eventHubAuthorizationRuleId and marketplacePartnerId are empty)"
	not contains(r.message, "exports no AuditEvent")
}

test_fail_when_destination_is_whitespace_only if {
	inp := with_settings([diag("kv-blank", {"workspaceId": "  ", "logs": [audit_event_on]})])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "has no destination")
}

test_fail_names_both_shortfalls_of_one_setting if {
	inp := with_settings([diag("kv-bad", {"logs": [policy_details_on]})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.evidence.settings[0].shortfalls == [
		"has no destination (workspaceId, storageAccountId, eventHubAuthorizationRuleId and marketplacePartnerId are empty)",
		"exports no AuditEvent (category AzurePolicyEvaluationDetails does not contain AuditEvent)",
	]
	contains(r.message, "are empty) and exports no AuditEvent")
}

test_fail_when_setting_has_no_log_entries if {
	inp := with_settings([diag("kv-metrics", {"workspaceId": workspace_id})])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-metrics' has no log entries")
}

# The destination and the AuditEvent entry must be in the same setting.
test_fail_when_destination_and_audit_entry_are_in_different_settings if {
	a := diag("kv-dest-only", {"workspaceId": workspace_id, "logs": [policy_details_on]})
	b := diag("kv-entry-only", {"logs": [audit_event_on]})
	inp := with_settings([a, b])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-dest-only' exports no AuditEvent")
	contains(r.message, "; 'kv-entry-only' has no destination")
	count(r.evidence.settings) == 2
}

test_fail_when_vault_has_no_diagnostic_settings if {
	r := sole(results) with input as base_input
	r.status == "fail"
	r.message == "the vault has no diagnostic setting, so its AuditEvent logs go nowhere"
	r.evidence.settings == []
}

# ---------------------------------------------------------------------------
# not evaluable
# ---------------------------------------------------------------------------

test_not_evaluable_when_diagnostic_settings_cannot_be_read if {
	inp := object.union(base_input, {"diagnosticSettings": {"status": "error", "error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action 'microsoft.insights/diagnosticSettings/read'", "httpStatus": 403}}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "diagnostic settings could not be read: AuthorizationFailed: The client does not have authorization to perform action 'microsoft.insights/diagnosticSettings/read'"
}

test_not_evaluable_when_diagnostic_settings_not_collected if {
	inp := object.union(base_input, {"diagnosticSettings": {"status": "notCollected", "reason": "skipped"}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "diagnostic settings were not collected (skipped)"
}

# ---------------------------------------------------------------------------
# strict mode (CIS v3.0+): the verdict matrix
# ---------------------------------------------------------------------------

all_logs_on := {"categoryGroup": "allLogs", "enabled": true}

audit_group_on := {"categoryGroup": "audit", "enabled": true}

# matrix_cases: one setting each, with what lenient and strict mode say:
# [status, a fragment of the message].
matrix_cases := {
	"AuditEvent only": {
		"setting": diag("kv-audit", {"workspaceId": workspace_id, "logs": [audit_event_on]}),
		"lenient": ["pass", "diagnostic setting 'kv-audit' exports AuditEvent (category AuditEvent) to workspaceId"],
		"strict": ["fail", "'kv-audit' does not enable categoryGroup audit and does not enable categoryGroup allLogs"],
	},
	"categoryGroup audit only": {
		"setting": diag("kv-audit", {"workspaceId": workspace_id, "logs": [audit_group_on]}),
		"lenient": ["pass", "exports AuditEvent (categoryGroup audit) to workspaceId"],
		"strict": ["fail", ": 'kv-audit' does not enable categoryGroup allLogs"],
	},
	"allLogs only": {
		"setting": diag("kv-audit", {"workspaceId": workspace_id, "logs": [all_logs_on]}),
		"lenient": ["pass", "exports AuditEvent (categoryGroup allLogs) to workspaceId"],
		"strict": ["fail", ": 'kv-audit' does not enable categoryGroup audit"],
	},
	"audit and allLogs": {
		"setting": diag("kv-audit", {"workspaceId": workspace_id, "logs": [audit_group_on, all_logs_on]}),
		"lenient": ["pass", "exports AuditEvent (categoryGroup audit) to workspaceId"],
		"strict": ["pass", "diagnostic setting 'kv-audit' exports the audit and allLogs category groups to workspaceId (strict mode)"],
	},
	"AzurePolicyEvaluationDetails only": {
		"setting": diag("kv-audit", {"workspaceId": workspace_id, "logs": [policy_details_on]}),
		"lenient": ["fail", "'kv-audit' exports no AuditEvent (category AzurePolicyEvaluationDetails does not contain AuditEvent)"],
		"strict": ["fail", "'kv-audit' does not enable categoryGroup audit and does not enable categoryGroup allLogs"],
	},
	"AuditEvent disabled": {
		"setting": diag("kv-audit", {"workspaceId": workspace_id, "logs": [object.union(audit_event_on, {"enabled": false})]}),
		"lenient": ["fail", "'kv-audit' exports no AuditEvent (category AuditEvent is disabled)"],
		"strict": ["fail", "'kv-audit' does not enable categoryGroup audit and does not enable categoryGroup allLogs"],
	},
	"empty destination": {
		"setting": diag("kv-audit", {"workspaceId": "", "logs": [audit_group_on, all_logs_on]}),
		"lenient": ["fail", "'kv-audit' has no destination"],
		"strict": ["fail", "'kv-audit' has no destination (workspaceId, storageAccountId, eventHubAuthorizationRuleId and marketplacePartnerId are empty)"],
	},
	"Dedicated destination with audit and allLogs": {
		"setting": diag("kv-audit", {"workspaceId": workspace_id, "logAnalyticsDestinationType": "Dedicated", "logs": [audit_group_on, all_logs_on]}),
		"lenient": ["pass", "exports AuditEvent (categoryGroup audit) to workspaceId"],
		"strict": ["pass", "exports the audit and allLogs category groups to workspaceId (strict mode)"],
	},
}

# matrix_modes: the policy data of each mode, and which column it must give.
matrix_modes := {
	"lenient": {"config": {"auditLoggingMode": "lenient"}, "expect": "lenient"},
	"strict": {"config": {"auditLoggingMode": "strict"}, "expect": "strict"},
	"auto, cis-azure-6.0": {"config": {"auditLoggingMode": "auto", "benchmark": "cis-azure-6.0"}, "expect": "strict"},
	"auto, cis-azure-2.0": {"config": {"auditLoggingMode": "auto", "benchmark": "cis-azure-2.0"}, "expect": "lenient"},
}

# matrix_verdict(c, m) is [[status, message, evidence mode]] of every result
# for the case's setting under the mode's policy data.
matrix_verdict(c, m) := rs if {
	inp := with_settings([c.setting])
	cfg := object.union(data.config, m.config)
	rs := [[r.status, r.message, object.get(object.get(r, "evidence", {}), "mode", "lenient")] | some r in results] with input as inp with data.config as cfg
}

# matrix_problem(c, m, rs) says what is wrong with a verdict ("" when right).
matrix_problem(c, m, rs) := "not exactly one result" if {
	count(rs) != 1
} else := sprintf("status %v, want %v", [rs[0][0], c[m.expect][0]]) if {
	rs[0][0] != c[m.expect][0]
} else := sprintf("message %q lacks %q", [rs[0][1], c[m.expect][1]]) if {
	not contains(rs[0][1], c[m.expect][1])
} else := sprintf("evidence mode %v", [rs[0][2]]) if {
	# Strict verdicts say so in their evidence, lenient ones do not.
	rs[0][2] != m.expect
} else := "strict message lacks the lenient note" if {
	m.expect == "strict"
	rs[0][0] == "fail"
	c.lenient[0] == "pass"
	not contains(rs[0][1], "; AuditEvent itself is exported, so lenient mode would pass")
} else := "strict message has a lenient note although lenient mode fails" if {
	m.expect == "strict"
	c.lenient[0] == "fail"
	contains(rs[0][1], "lenient mode would pass")
} else := "strict failure does not say it is strict mode" if {
	m.expect == "strict"
	rs[0][0] == "fail"
	not startswith(rs[0][1], "strict mode (CIS v3.0+): no diagnostic setting sends both the audit and allLogs category groups to a destination")
} else := ""

matrix_rows := [[name, mode, matrix_problem(c, m, rs)] |
	some name, c in matrix_cases
	some mode, m in matrix_modes
	rs := matrix_verdict(c, m)
]

test_strict_mode_verdict_matrix if {
	# Every case was judged in every mode (a comprehension skips silently).
	count(matrix_rows) == count(matrix_cases) * count(matrix_modes)
	count(matrix_rows) == 32
	wrong := [row | some row in matrix_rows; row[2] != ""]
	not matrix_mismatch(wrong)
}

# matrix_mismatch prints the wrong [case, mode, problem] rows, if any.
matrix_mismatch(wrong) if {
	wrong != []
	print("strict-mode matrix mismatches:", wrong)
}

# The matrix itself: strict passes only both groups, lenient all four that
# export AuditEvent somewhere.
test_strict_mode_matrix_expectations if {
	{name | some name, c in matrix_cases; c.strict[0] == "pass"} == {"audit and allLogs", "Dedicated destination with audit and allLogs"}
	{name | some name, c in matrix_cases; c.lenient[0] == "pass"} == {"AuditEvent only", "categoryGroup audit only", "allLogs only", "audit and allLogs", "Dedicated destination with audit and allLogs"}
}

test_strict_mode_evidence_lists_the_matching_setting if {
	inp := with_settings([diag("kv-both", {"storageAccountId": storage_id, "workspaceId": workspace_id, "logs": [audit_group_on, all_logs_on]})])
	r := sole(results) with input as inp with data.config.auditLoggingMode as "strict"
	r.status == "pass"
	r.evidence == {"mode": "strict", "matched": [{"setting": "kv-both", "destinations": ["storageAccountId", "workspaceId"]}]}
}

# Both groups must be in the same setting.
test_strict_mode_fails_when_the_groups_are_in_different_settings if {
	a := diag("kv-a", {"workspaceId": workspace_id, "logs": [audit_group_on]})
	b := diag("kv-b", {"workspaceId": workspace_id, "logs": [all_logs_on]})
	inp := with_settings([a, b])
	r := sole(results) with input as inp with data.config.auditLoggingMode as "strict"
	r.status == "fail"
	endswith(r.message, ": 'kv-a' does not enable categoryGroup allLogs; 'kv-b' does not enable categoryGroup audit")
	r.evidence.settings == [
		{"setting": "kv-a", "shortfalls": ["does not enable categoryGroup allLogs"]},
		{"setting": "kv-b", "shortfalls": ["does not enable categoryGroup audit"]},
	]
}

test_strict_mode_ignores_a_disabled_group if {
	inp := with_settings([diag("kv-half", {"workspaceId": workspace_id, "logs": [audit_group_on, object.union(all_logs_on, {"enabled": false})]})])
	r := sole(results) with input as inp with data.config.auditLoggingMode as "strict"
	r.status == "fail"
	contains(r.message, "'kv-half' does not enable categoryGroup allLogs")
}

test_strict_mode_compares_groups_case_insensitively if {
	inp := with_settings([diag("kv-case", {"workspaceId": workspace_id, "logs": [{"categoryGroup": "AUDIT", "enabled": true}, {"categoryGroup": "alllogs", "enabled": true}]})])
	r := sole(results) with input as inp with data.config.auditLoggingMode as "strict"
	r.status == "pass"
}

test_strict_mode_value_is_case_insensitive if {
	inp := with_settings([diag("kv-audit", {"workspaceId": workspace_id, "logs": [audit_event_on]})])
	r := sole(results) with input as inp with data.config.auditLoggingMode as "Strict"
	r.status == "fail"
	startswith(r.message, "strict mode (CIS v3.0+)")
}

test_auto_mode_without_benchmark_is_lenient if {
	inp := with_settings([diag("kv-audit", {"workspaceId": workspace_id, "logs": [audit_event_on]})])
	r := sole(results) with input as inp with data.config.auditLoggingMode as "auto"
	r.status == "pass"
}

test_auto_mode_is_strict_for_cis_azure_3_0 if {
	inp := with_settings([diag("kv-audit", {"workspaceId": workspace_id, "logs": [audit_event_on]})])
	r := sole(results) with input as inp with data.config.auditLoggingMode as "auto" with data.config.benchmark as "cis-azure-3.0"
	r.status == "fail"
	r.evidence.mode == "strict"
}

# An explicit lenient mode wins over a strict benchmark.
test_lenient_mode_wins_over_a_strict_benchmark if {
	inp := with_settings([diag("kv-audit", {"workspaceId": workspace_id, "logs": [audit_event_on]})])
	r := sole(results) with input as inp with data.config.auditLoggingMode as "lenient" with data.config.benchmark as "cis-azure-6.0"
	r.status == "pass"
}

test_strict_mode_fails_once_when_the_vault_has_no_settings if {
	r := sole(results) with input as base_input with data.config.auditLoggingMode as "strict"
	r.status == "fail"
	r.message == "the vault has no diagnostic setting, so its AuditEvent logs go nowhere"
}

test_strict_mode_not_evaluable_when_settings_cannot_be_read if {
	inp := object.union(base_input, {"diagnosticSettings": {"status": "error", "error": {"code": "AuthorizationFailed", "message": "denied"}}})
	r := sole(results) with input as inp with data.config.auditLoggingMode as "strict"
	r.status == "not_evaluable"
	r.message == "diagnostic settings could not be read: AuthorizationFailed: denied"
}

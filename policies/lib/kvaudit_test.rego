# Unit tests of the kvaudit.lib helpers. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so inputs and configs are
# bound to a variable first.
#
# They live in their own package: regorus evaluates the rules of package
# kvaudit.lib (test_ rules included) when a rule package refers to it, so lib
# tests in that package would run (and, when one errors, fail) inside every
# other test.
package kvaudit.lib_test

import data.kvaudit.lib

t_vault_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

t_workspace_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-sec"

t_ag_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-secops"

# The Administrative event kv/admin-alert builds for a write of t_vault_id.
t_write_event := {
	"category": "administrative",
	"resourcetype": "microsoft.keyvault/vaults",
	"resourceprovider": "microsoft.keyvault",
	"operationname": "microsoft.keyvault/vaults/write",
	"resourcegroup": "rg-prod",
	"resourceid": lib.norm_id(t_vault_id),
}

t_config(allow) := {"windowHours": 24, "challengeSeconds": 60, "allowList": object.union({"ips": [], "objectIds": [], "appIds": []}, allow)}

t_window_input := {"auditLogs": {"status": "ok", "windowEnd": "2025-06-10T12:00:00Z"}}

# ---------------------------------------------------------------------------
# norm_id, is_id_prefix, resource_group, str, non_empty
# ---------------------------------------------------------------------------

test_norm_id_adds_leading_slash_and_lowercases if {
	lib.norm_id("subscriptions/ABC/resourceGroups/RG-Prod") == "/subscriptions/abc/resourcegroups/rg-prod"
}

test_norm_id_strips_trailing_slash_and_spaces if {
	lib.norm_id("  /Subscriptions/abc/ ") == "/subscriptions/abc"
}

test_norm_id_keeps_a_normal_id if {
	lib.norm_id("/subscriptions/abc/resourcegroups/rg") == "/subscriptions/abc/resourcegroups/rg"
}

test_is_id_prefix_when_equal_ignoring_case_and_slashes if {
	lib.is_id_prefix("subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/RG-PROD/providers/microsoft.keyvault/vaults/KV-PROD/", t_vault_id)
}

test_is_id_prefix_for_subscription_and_resource_group if {
	lib.is_id_prefix("/subscriptions/00000000-0000-0000-0000-000000000000", t_vault_id)
	lib.is_id_prefix("subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/", t_vault_id)
}

test_is_id_prefix_requires_whole_segments if {
	not lib.is_id_prefix("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-pro", t_vault_id)
	not lib.is_id_prefix("/subscriptions/00000000-0000-0000-0000-00000000000", t_vault_id)
}

test_is_id_prefix_rejects_other_resource_group_and_longer_ids if {
	not lib.is_id_prefix("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-other", t_vault_id)
	not lib.is_id_prefix(concat("", [t_vault_id, "/secrets/s1"]), t_vault_id)
}

test_resource_group_is_lower_cased_segment if {
	lib.resource_group(t_vault_id) == "rg-prod"
	lib.resource_group("subscriptions/x/RESOURCEGROUPS/RG-Upper/providers/a/b/c") == "rg-upper"
}

test_resource_group_undefined_without_segment if {
	not lib.resource_group("/subscriptions/00000000-0000-0000-0000-000000000000")
}

test_str_maps_non_strings_to_empty if {
	lib.str(null) == ""
	lib.str(3) == ""
	lib.str("AuditEvent") == "AuditEvent"
}

test_non_empty_rejects_blank_null_and_non_strings if {
	lib.non_empty("x")
	not lib.non_empty("")
	not lib.non_empty("   ")
	not lib.non_empty(null)
	not lib.non_empty(1)
}

test_error_text_formats_code_and_message if {
	lib.error_text({"status": "error", "error": {"code": "AuthorizationFailed", "message": "no access"}}) == "AuthorizationFailed: no access"
	lib.error_text({"status": "notCollected", "reason": "skipped"}) == "not collected: skipped"
	lib.error_text({"status": "error"}) == "unknown error"
}

# ---------------------------------------------------------------------------
# Diagnostic settings
# ---------------------------------------------------------------------------

test_destinations_ignores_empty_and_null if {
	s := {"name": "s", "properties": {"workspaceId": "", "storageAccountId": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z", "eventHubAuthorizationRuleId": null, "logs": []}}
	lib.destinations(s) == {"storageAccountId"}
}

test_destinations_lists_every_set_field if {
	s := {"name": "s", "properties": {"workspaceId": "w", "storageAccountId": "s", "eventHubAuthorizationRuleId": "e", "marketplacePartnerId": "m"}}
	lib.destinations(s) == {"workspaceId", "storageAccountId", "eventHubAuthorizationRuleId", "marketplacePartnerId"}
}

test_audit_entry_matches_audit_event_category if {
	lib.audit_entry({"category": "AuditEvent", "enabled": true})
	lib.audit_entry({"category": "auditevent", "enabled": true})
}

test_audit_entry_matches_audit_and_all_logs_groups_case_insensitively if {
	lib.audit_entry({"categoryGroup": "audit", "enabled": true})
	lib.audit_entry({"categoryGroup": "allLogs", "enabled": true})
	lib.audit_entry({"categoryGroup": "AllLogs", "enabled": true})
	lib.audit_entry({"category": null, "categoryGroup": "Audit", "enabled": true})
}

test_audit_entry_rejects_disabled_entries if {
	not lib.audit_entry({"category": "AuditEvent", "enabled": false})
	not lib.audit_entry({"categoryGroup": "allLogs", "enabled": false})
	not lib.audit_entry({"category": "AuditEvent", "enabled": "true"})
	not lib.audit_entry({"category": "AuditEvent"})
}

test_audit_entry_rejects_other_categories if {
	not lib.audit_entry({"category": "AzurePolicyEvaluationDetails", "enabled": true})
	not lib.audit_entry({"categoryGroup": "policy", "enabled": true})
	not lib.audit_entry({"category": null, "categoryGroup": null, "enabled": true})
}

test_entry_label_names_category_then_group if {
	lib.entry_label({"category": "AuditEvent", "enabled": true}) == "category AuditEvent"
	lib.entry_label({"category": null, "categoryGroup": "allLogs", "enabled": true}) == "categoryGroup allLogs"
	lib.entry_label({"category": "", "enabled": true}) == "an entry with neither category nor categoryGroup"
}

test_exports_audit_needs_destination_and_entry if {
	logs := [{"category": "AuditEvent", "enabled": true}]
	lib.exports_audit({"name": "a", "properties": {"workspaceId": t_workspace_id, "logs": logs}})
	not lib.exports_audit({"name": "b", "properties": {"workspaceId": "", "storageAccountId": "", "logs": logs}})
	not lib.exports_audit({"name": "c", "properties": {"workspaceId": t_workspace_id, "logs": [{"category": "AuditEvent", "enabled": false}]}})
}

test_audit_workspace_settings_only_counts_workspace_destinations if {
	ws := {"name": "to-law", "properties": {"workspaceId": t_workspace_id, "logs": [{"categoryGroup": "audit", "enabled": true}]}}
	st := {"name": "to-storage", "properties": {"workspaceId": "", "storageAccountId": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Storage/storageAccounts/z", "logs": [{"categoryGroup": "audit", "enabled": true}]}}
	names := {s.name | some s in data.kvaudit.evidence.audit_workspace_settings} with input as {"diagnosticSettings": {"status": "ok", "value": [ws, st]}}
	names == {"to-law"}
}

test_audit_workspace_settings_empty_when_settings_unreadable if {
	n := count(data.kvaudit.evidence.audit_workspace_settings) with input as {"diagnosticSettings": {"status": "error", "error": {"code": "X", "message": "y"}}}
	n == 0
}

# ---------------------------------------------------------------------------
# Audit-log evaluability and window
# ---------------------------------------------------------------------------

t_ws_setting := {"name": "kv-audit", "properties": {"workspaceId": t_workspace_id, "logs": [{"categoryGroup": "audit", "enabled": true}]}}

test_logs_unevaluable_reason_undefined_when_logs_read if {
	not data.kvaudit.evidence.logs_unevaluable_reason with input as {"diagnosticSettings": {"status": "ok", "value": [t_ws_setting]}, "auditLogs": {"status": "ok"}}
	not data.kvaudit.evidence.logs_unevaluable_reason with input as {"diagnosticSettings": {"status": "ok", "value": [t_ws_setting]}, "auditLogs": {"status": "partial"}}
}

test_logs_unevaluable_reason_prefers_settings_error_over_logs_error if {
	msg := data.kvaudit.evidence.logs_unevaluable_reason with input as {
		"diagnosticSettings": {"status": "error", "error": {"code": "AuthorizationFailed", "message": "denied"}},
		"auditLogs": {"status": "error", "error": {"code": "PathNotFound", "message": "gone"}},
	}
	msg == "diagnostic settings could not be read (AuthorizationFailed: denied), so it is unknown whether AuditEvent logs reach a workspace"
}

test_logs_unevaluable_reason_when_not_collected if {
	msg := data.kvaudit.evidence.logs_unevaluable_reason with input as {"diagnosticSettings": {"status": "ok", "value": [t_ws_setting]}, "auditLogs": {"status": "notCollected", "reason": "--no-logs was given"}}
	msg == "audit logs were not collected (--no-logs was given)"
}

test_in_window_excludes_exactly_window_hours_before_end if {
	not lib.in_window("2025-06-09T12:00:00Z") with input as t_window_input
}

test_in_window_includes_one_second_after_window_start if {
	lib.in_window("2025-06-09T12:00:01Z") with input as t_window_input
}

test_in_window_includes_window_end_and_excludes_later if {
	lib.in_window("2025-06-10T12:00:00Z") with input as t_window_input
	not lib.in_window("2025-06-10T12:00:01Z") with input as t_window_input
}

test_in_window_handles_offsets_and_fractions if {
	# 13:30+02:00 is 11:30Z, inside; 2025-06-09T13:59:59.5+02:00 is 11:59:59.5Z, outside.
	lib.in_window("2025-06-10T13:30:00+02:00") with input as t_window_input
	not lib.in_window("2025-06-09T13:59:59.5+02:00") with input as t_window_input
}

test_in_window_follows_configured_window_hours if {
	cfg := object.union(t_config({}), {"windowHours": 1})
	lib.in_window("2025-06-10T11:00:01Z") with input as t_window_input with data.config as cfg
	not lib.in_window("2025-06-10T11:00:00Z") with input as t_window_input with data.config as cfg
	not lib.in_window("2025-06-10T10:59:59Z") with input as t_window_input with data.config as cfg
}

# ---------------------------------------------------------------------------
# Allow-list and identity labels
# ---------------------------------------------------------------------------

test_ip_allowed_by_exact_address if {
	cfg := t_config({"ips": ["203.0.113.7"]})
	lib.ip_allowed("203.0.113.7") with data.config as cfg
	not lib.ip_allowed("203.0.113.8") with data.config as cfg
}

test_ip_allowed_by_cidr if {
	cfg := t_config({"ips": ["203.0.113.0/24", "2001:db8::/32"]})
	lib.ip_allowed("203.0.113.200") with data.config as cfg
	not lib.ip_allowed("203.0.114.1") with data.config as cfg
	lib.ip_allowed("2001:db8::5") with data.config as cfg
}

test_ip_allowed_nothing_with_default_empty_list if {
	not lib.ip_allowed("203.0.113.7")
}

# A group's callerIp may be empty (the rules label it "unknown IP"); with a
# CIDR on the allow-list this must not be an evaluation error.
test_ip_not_allowed_and_no_error_for_empty_or_bad_ip_with_cidr_list if {
	cfg := t_config({"ips": ["10.0.0.0/8"]})
	not lib.ip_allowed("") with data.config as cfg
	not lib.ip_allowed("unknown") with data.config as cfg
	not lib.ip_allowed("2001:db8::1") with data.config as cfg
}

test_ip_not_allowed_and_no_error_for_invalid_cidr_entry if {
	bad := t_config({"ips": ["10.0.0.0/99"]})
	not lib.ip_allowed("10.1.1.1") with data.config as bad
	mixed := t_config({"ips": ["10.0.0.0/99", "10.0.0.0/8"]})
	lib.ip_allowed("10.1.1.1") with data.config as mixed
}

test_identity_allowed_by_object_id_case_insensitively if {
	cfg := t_config({"objectIds": ["aaaaaaaa-0000-0000-0000-000000000001"]})
	lib.identity_allowed({"objectId": "AAAAAAAA-0000-0000-0000-000000000001"}) with data.config as cfg
	not lib.identity_allowed({"objectId": "aaaaaaaa-0000-0000-0000-000000000002"}) with data.config as cfg
}

test_identity_allowed_by_app_id if {
	cfg := t_config({"appIds": ["04B07795-8DDB-461A-BBEE-02F9E1BF7B46"]})
	lib.identity_allowed({"appId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "objectId": "x"}) with data.config as cfg
	not lib.identity_allowed({"objectId": "04b07795-8ddb-461a-bbee-02f9e1bf7b46"}) with data.config as cfg
}

test_identity_not_allowed_for_anonymous_even_with_empty_entries if {
	cfg := t_config({"objectIds": [""], "appIds": [""]})
	not lib.identity_allowed({}) with data.config as cfg
	not lib.identity_allowed({"objectId": "", "appId": ""}) with data.config as cfg
}

test_allowed_group_by_ip_or_identity if {
	cfg := t_config({"ips": ["10.0.0.0/8"], "appIds": ["app-1"]})
	lib.allowed({"callerIp": "10.2.3.4", "identity": {}}) with data.config as cfg
	lib.allowed({"callerIp": "198.51.100.1", "identity": {"appId": "app-1"}}) with data.config as cfg
	not lib.allowed({"callerIp": "198.51.100.1", "identity": {"appId": "app-2"}}) with data.config as cfg
	not lib.allowed({"callerIp": "198.51.100.1"}) with data.config as cfg
}

test_identity_label_prefers_upn_then_app_then_object if {
	lib.identity_label({"upn": "alice@contoso.com", "appId": "a", "objectId": "o"}) == "alice@contoso.com"
	lib.identity_label({"upn": "", "appId": "a", "objectId": "o"}) == "app a"
	lib.identity_label({"objectId": "o"}) == "object o"
	lib.identity_label({}) == "anonymous"
}

# ---------------------------------------------------------------------------
# Activity-log alert conditions
# ---------------------------------------------------------------------------

test_leaf_equals_is_case_insensitive if {
	lib.leaf_satisfied({"field": "Category", "equals": "ADMINISTRATIVE"}, t_write_event)
	lib.leaf_satisfied({"field": "resourceType", "equals": "Microsoft.KeyVault/vaults"}, t_write_event)
	lib.leaf_satisfied({"field": "operationName", "equals": " Microsoft.KeyVault/vaults/write "}, t_write_event)
}

test_leaf_equals_rejects_other_value if {
	not lib.leaf_satisfied({"field": "operationName", "equals": "Microsoft.KeyVault/vaults/delete"}, t_write_event)
	not lib.leaf_satisfied({"field": "resourceType", "equals": "Microsoft.Storage/storageAccounts"}, t_write_event)
}

test_leaf_resource_id_is_normalised if {
	lib.leaf_satisfied({"field": "resourceId", "equals": "SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/resourceGroups/RG-PROD/providers/Microsoft.KeyVault/vaults/KV-PROD/"}, t_write_event)
	not lib.leaf_satisfied({"field": "resourceId", "equals": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-other"}, t_write_event)
}

test_leaf_contains_any if {
	lib.leaf_satisfied({"field": "operationName", "containsAny": ["Microsoft.KeyVault/vaults/delete", "microsoft.keyvault/VAULTS/write"]}, t_write_event)
	not lib.leaf_satisfied({"field": "operationName", "containsAny": ["Microsoft.KeyVault/vaults/delete"]}, t_write_event)
	not lib.leaf_satisfied({"field": "operationName", "containsAny": []}, t_write_event)
}

test_leaf_on_unknown_field_is_not_satisfied if {
	not lib.leaf_satisfied({"field": "properties.x", "equals": "y"}, t_write_event)
	not lib.leaf_satisfied({"field": "properties.x", "containsAny": ["y"]}, t_write_event)
}

test_leaf_without_equals_or_contains_any_is_not_satisfied if {
	not lib.leaf_satisfied({"field": "category"}, t_write_event)
	not lib.leaf_satisfied({"equals": "Administrative"}, t_write_event)
}

test_element_any_of_needs_one_matching_leaf if {
	lib.element_satisfied({"anyOf": [
		{"field": "operationName", "equals": "Microsoft.KeyVault/vaults/delete"},
		{"field": "operationName", "equals": "Microsoft.KeyVault/vaults/write"},
	]}, t_write_event)
	not lib.element_satisfied({"anyOf": [{"field": "operationName", "equals": "Microsoft.KeyVault/vaults/delete"}]}, t_write_event)
	not lib.element_satisfied({"anyOf": []}, t_write_event)
}

test_element_nested_any_of_is_not_supported if {
	not lib.element_satisfied({"anyOf": [{"anyOf": [{"field": "category", "equals": "Administrative"}]}]}, t_write_event)
}

test_alert_leaves_flattens_any_of if {
	alert := {"properties": {"condition": {"allOf": [
		{"field": "category", "equals": "Administrative"},
		{"anyOf": [{"field": "status", "equals": "Succeeded"}, {"field": "operationName", "equals": "x"}]},
	]}}}
	{lib.leaf_field(l) | some l in lib.alert_leaves(alert)} == {"category", "status", "operationname"}
	count(lib.alert_leaves(alert)) == 3
}

test_element_text_describes_leaves if {
	lib.element_text({"field": "operationName", "equals": "Microsoft.KeyVault/vaults/delete"}) == "operationName equals 'Microsoft.KeyVault/vaults/delete'"
	lib.element_text({"anyOf": [{"field": "a", "equals": "1"}, {"field": "b", "equals": "2"}]}) == "anyOf(a equals '1' or b equals '2')"
	startswith(lib.element_text({"field": "operationName", "containsAny": ["x"]}), "operationName containsAny ")
	lib.element_text({"field": "x"}) == "a condition without field/equals/containsAny"
}

test_alert_enabled_defaults_to_true if {
	lib.alert_enabled({"properties": {}})
	lib.alert_enabled({"properties": {"enabled": true}})
	not lib.alert_enabled({"properties": {"enabled": false}})
}

# ---------------------------------------------------------------------------
# Action groups and alert_problem
# ---------------------------------------------------------------------------

t_ag(props) := {"id": t_ag_id, "name": "ag-secops", "properties": object.union({"groupShortName": "secops", "enabled": true, "emailReceivers": [{"name": "soc", "emailAddress": "soc@contoso.com"}]}, props)}

t_ag_input(ag) := {"actionGroups": {"status": "ok", "byId": {lib.norm_id(t_ag_id): ag}}}

test_action_group_problem_empty_for_usable_group if {
	inp := t_ag_input(t_ag({}))
	p := lib.action_group_problem(t_ag_id) with input as inp
	p == ""
}

test_action_group_problem_matches_id_case_insensitively if {
	inp := t_ag_input(t_ag({}))
	p := lib.action_group_problem(upper(t_ag_id)) with input as inp
	p == ""
}

test_action_group_problem_missing if {
	p := lib.action_group_problem(t_ag_id) with input as {"actionGroups": {"status": "ok", "byId": {}}}
	p == "does not exist (not found among the inventory's action groups)"
}

test_action_group_problem_disabled if {
	inp := t_ag_input(t_ag({"enabled": false}))
	p := lib.action_group_problem(t_ag_id) with input as inp
	p == "is disabled"
}

test_action_group_problem_no_receivers if {
	inp := t_ag_input(t_ag({"emailReceivers": [], "smsReceivers": []}))
	p := lib.action_group_problem(t_ag_id) with input as inp
	p == "has no receivers"
}

test_action_group_problem_any_receiver_kind_counts if {
	inp := t_ag_input(t_ag({"emailReceivers": [], "webhookReceivers": [{"name": "hook", "serviceUri": "https://example.com/hook"}]}))
	p := lib.action_group_problem(t_ag_id) with input as inp
	p == ""
}

t_alert(props) := {"name": "a", "properties": object.union(
	{
		"scopes": ["/subscriptions/00000000-0000-0000-0000-000000000000"],
		"condition": {"allOf": [{"field": "category", "equals": "Administrative"}, {"field": "operationName", "equals": "Microsoft.KeyVault/vaults/write"}]},
		"actions": {"actionGroups": [{"actionGroupId": t_ag_id}]},
		"enabled": true,
	},
	props,
)}

test_alert_problem_empty_when_alert_covers_event if {
	inp := t_ag_input(t_ag({}))
	p := lib.alert_problem(t_alert({}), t_write_event, lib.norm_id(t_vault_id)) with input as inp
	p == ""
}

test_alert_problem_names_no_action_group if {
	inp := t_ag_input(t_ag({}))
	p := lib.alert_problem(t_alert({"actions": {"actionGroups": []}}), t_write_event, lib.norm_id(t_vault_id)) with input as inp
	p == "names no action group"
}

test_alert_problem_checks_disabled_before_scope if {
	inp := t_ag_input(t_ag({}))
	p := lib.alert_problem(t_alert({"enabled": false, "scopes": ["/subscriptions/other"]}), t_write_event, lib.norm_id(t_vault_id)) with input as inp
	p == "is disabled"
}

test_alert_problem_filter_lists_every_filter_field if {
	a := t_alert({"condition": {"allOf": [
		{"field": "category", "equals": "Administrative"},
		{"field": "level", "equals": "Error"},
		{"anyOf": [{"field": "caller", "equals": "x@contoso.com"}]},
	]}})
	inp := t_ag_input(t_ag({}))
	p := lib.alert_problem(a, t_write_event, lib.norm_id(t_vault_id)) with input as inp
	p == "filters events out on caller, level"
}

# ---------------------------------------------------------------------------
# data.kvaudit.alerting.memo_key: vaults judged alike share a key
# ---------------------------------------------------------------------------

t_rg := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod"

t_memo_alert(name, scopes, all_of) := {
	"id": sprintf("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/microsoft.insights/activityLogAlerts/%v", [name]),
	"name": name,
	"properties": {"enabled": true, "scopes": scopes, "condition": {"allOf": all_of}},
}

t_memo_input(alerts) := {
	"subscription": {"subscriptionId": "00000000-0000-0000-0000-000000000000", "activityLogAlerts": {"status": "ok", "value": alerts}},
	"actionGroups": {"status": "ok", "byId": {}},
}

t_memo_keys(alerts) := {name: k |
	inp := t_memo_input(alerts)
	some name in ["kv-prod", "kv-other", "KV-NAMED", "kv-scoped"]
	k := data.kvaudit.alerting.memo_key(sprintf("%v/providers/Microsoft.KeyVault/vaults/%v", [t_rg, name])) with input as inp
}

test_memo_key_shared_by_vaults_no_alert_singles_out if {
	keys := t_memo_keys([
		t_memo_alert("rg", [t_rg], [{"field": "category", "equals": "Administrative"}]),
		t_memo_alert("named", [t_rg], [{"field": "resourceId", "equals": sprintf("%v/providers/Microsoft.KeyVault/vaults/kv-named", [t_rg])}]),
		t_memo_alert("scoped", [sprintf("%v/providers/microsoft.keyvault/vaults/KV-SCOPED/", [t_rg])], []),
	])
	keys["kv-prod"] == keys["kv-other"]
	keys["kv-prod"].resourceGroup == "rg-prod"
	keys["KV-NAMED"] == {"resource": lower(sprintf("%v/providers/Microsoft.KeyVault/vaults/kv-named", [t_rg]))}
	keys["kv-scoped"] == {"resource": lower(sprintf("%v/providers/Microsoft.KeyVault/vaults/kv-scoped", [t_rg]))}
}

# The rule the alert rules share is the function on the input's vault.
test_vault_memo_key_is_memo_key_of_the_input_vault if {
	named := sprintf("%v/providers/Microsoft.KeyVault/vaults/kv-named", [t_rg])
	inp := object.union(t_memo_input([t_memo_alert("named", [t_rg], [{"field": "resourceId", "equals": named}])]), {"vault": {"id": named}})
	data.kvaudit.alerting.vault_memo_key == {"resource": lower(named)} with input as inp
	other := object.union(inp, {"vault": {"id": replace(named, "kv-named", "kv-other")}})
	data.kvaudit.alerting.vault_memo_key == data.kvaudit.alerting.memo_key(other.vault.id) with input as other
	data.kvaudit.alerting.vault_memo_key.resourceGroup == "rg-prod" with input as other
}

test_memo_key_differs_by_resource_group_and_subscription if {
	inp := t_memo_input([])
	a := data.kvaudit.alerting.memo_key(t_vault_id) with input as inp
	b := data.kvaudit.alerting.memo_key(replace(t_vault_id, "rg-prod", "rg-dev")) with input as inp
	c := data.kvaudit.alerting.memo_key(replace(t_vault_id, "00000000-0000-0000-0000-000000000000", "11111111-1111-1111-1111-111111111111")) with input as inp
	a != b
	a != c
	b != c
}

# ---------------------------------------------------------------------------
# data.kvaudit.lib.group_by_key: one sort, keys ascending, items in order
# ---------------------------------------------------------------------------

test_group_by_key_with_every_key_distinct if {
	lib.group_by_key(["x", "y", "z"], ["b", "c", "a"]) == [["a", ["z"]], ["b", ["x"]], ["c", ["y"]]]
}

test_group_by_key_with_repeated_keys if {
	lib.group_by_key(["x", "y", "z", "w", "v"], ["b", "a", "b", "c", "a"]) == [["a", ["y", "v"]], ["b", ["x", "z"]], ["c", ["w"]]]
}

test_group_by_key_with_one_key if {
	lib.group_by_key([1, 2, 3], ["k", "k", "k"]) == [["k", [1, 2, 3]]]
}

test_group_by_key_of_nothing if {
	lib.group_by_key([], []) == []
}

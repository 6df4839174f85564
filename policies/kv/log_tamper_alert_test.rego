# Unit tests of kv/log-tamper-alert. Run: kvaudit policy test policies
#
# The events: Microsoft.Insights/diagnosticSettings/write and .../delete
# (Administrative), both needed, with resourceId
# {vault}/providers/microsoft.insights/diagnosticSettings/{name}, resourceType
# microsoft.insights/diagnosticsettings, resourceProvider microsoft.insights
# and the vault's resource group. The setting's name is not known in advance,
# so a resourceId leaf never covers them.
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.log_tamper_alert

import data.kvaudit.lib

sub_id := "00000000-0000-0000-0000-000000000000"

sub_scope := sprintf("/subscriptions/%v", [sub_id])

rg_scope := sprintf("/subscriptions/%v/resourceGroups/rg-prod", [sub_id])

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

ag_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-secops"

write_op := "Microsoft.Insights/diagnosticSettings/write"

delete_op := "Microsoft.Insights/diagnosticSettings/delete"

# An action group as the inventory stores it (Microsoft.Insights/actionGroups).
action_group(props) := {
	"id": ag_id,
	"name": "ag-secops",
	"location": "Global",
	"properties": object.union(
		{
			"groupShortName": "secops",
			"enabled": true,
			"emailReceivers": [{"name": "soc", "emailAddress": "soc@contoso.com", "useCommonAlertSchema": true, "status": "Enabled"}],
			"smsReceivers": [],
			"webhookReceivers": [],
		},
		props,
	),
}

category_leaf := {"field": "category", "equals": "Administrative"}

write_leaf := {"field": "operationName", "equals": write_op}

delete_leaf := {"field": "operationName", "equals": delete_op}

write_or_delete := {"anyOf": [write_leaf, delete_leaf]}

# alert(name, props) is an activity-log alert (2020-10-01): by default the
# recommended one, subscription scope, category + anyOf(write, delete).
alert(name, props) := {
	"id": sprintf("/subscriptions/%v/resourceGroups/rg-monitoring/providers/microsoft.insights/activityLogAlerts/%v", [sub_id, name]),
	"type": "Microsoft.Insights/ActivityLogAlerts",
	"name": name,
	"location": "Global",
	"tags": {},
	"properties": object.union(
		{
			"scopes": [sub_scope],
			"condition": {"allOf": [category_leaf, write_or_delete]},
			"actions": {"actionGroups": [{"actionGroupId": ag_id, "webhookProperties": {}}]},
			"enabled": true,
			"description": "Diagnostic settings changed or deleted",
		},
		props,
	),
}

# with_condition(name, allOf) is a default alert whose allOf is replaced.
with_condition(name, all_of) := alert(name, {"condition": {"allOf": all_of}})

# vault_input(alerts, groups) is the input of kv-prod whose subscription has
# `alerts`, and whose inventory has the action groups `groups`.
vault_input(alerts, groups) := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": sub_id},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": {}},
	"diagnosticSettings": {"status": "ok", "value": []},
	"auditLogs": {"status": "notCollected", "reason": "not in the inventory"},
	"subscription": {
		"subscriptionId": sub_id,
		"displayName": "Production",
		"activityLogAlerts": {"status": "ok", "value": alerts},
		"actionGroups": {"status": "ok", "value": groups},
		"scheduledQueryRules": {"status": "ok", "value": []},
	},
	"actionGroups": {"status": "ok", "byId": {lib.norm_id(g.id): g | some g in groups}},
	"workspaces": {"byId": {}},
	"diagnosticCategories": {},
}

# with_alerts(alerts) uses the working action group ag-secops.
with_alerts(alerts) := vault_input(alerts, [action_group({})])

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

both_covered_by(name) := sprintf("%v is alerted by %v; %v is alerted by %v", [write_op, name, delete_op, name])

nothing_covers := "no usable activity-log alert covers Microsoft.Insights/diagnosticSettings/write and Microsoft.Insights/diagnosticSettings/delete"

# because(text) is the failing message (both uncovered) with one explanation.
because(text) := sprintf("%v: %v", [nothing_covers, text])

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_subscription_alert_covers_write_and_delete if {
	inp := with_alerts([alert("kv-log-tamper", {})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-log-tamper")
	r.evidence.coverage == {write_op: ["kv-log-tamper"], delete_op: ["kv-log-tamper"]}
}

test_pass_when_scope_is_the_vault_resource_group if {
	inp := with_alerts([alert("kv-rg", {"scopes": [rg_scope]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-rg")
}

# The setting's id is {vault}/providers/microsoft.insights/...: the vault is a prefix.
test_pass_when_scope_is_the_vault_id if {
	inp := with_alerts([alert("kv-vault-scope", {"scopes": [kv_id]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-vault-scope")
}

test_pass_when_resource_type_is_diagnostic_settings if {
	inp := with_alerts([with_condition("kv-type", [category_leaf, {"field": "resourceType", "equals": "Microsoft.Insights/diagnosticSettings"}])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-type")
}

test_pass_when_operations_use_contains_any if {
	inp := with_alerts([with_condition("kv-contains-any", [category_leaf, {"field": "operationName", "containsAny": [write_op, delete_op]}])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-contains-any")
}

test_pass_when_two_alerts_each_cover_one_operation if {
	w := with_condition("kv-diag-write", [category_leaf, write_leaf])
	d := alert("kv-diag-delete", {"scopes": [rg_scope], "condition": {"allOf": [category_leaf, delete_leaf]}})
	inp := with_alerts([w, d])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == sprintf("%v is alerted by kv-diag-write; %v is alerted by kv-diag-delete", [write_op, delete_op])
}

test_pass_when_field_names_and_values_are_in_mixed_case if {
	inp := with_alerts([alert("kv-mixed", {
		"scopes": [upper(trim_left(kv_id, "/"))],
		"condition": {"allOf": [
			{"field": "Category", "equals": "ADMINISTRATIVE"},
			{"field": "RESOURCEPROVIDER", "equals": "microsoft.INSIGHTS"},
			{"field": "resourceGroup", "equals": "Rg-Prod"},
			{"anyOf": [
				{"field": "operationname", "equals": "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/WRITE"},
				{"field": "operationname", "equals": "microsoft.insights/diagnosticsettings/delete"},
			]},
		]},
	})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-mixed")
}

# ---------------------------------------------------------------------------
# fail: the alert itself
# ---------------------------------------------------------------------------

test_fail_when_subscription_has_no_alerts if {
	inp := with_alerts([])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == concat("", [nothing_covers, " (the subscription has no activity-log alerts)"])
	r.evidence.uncovered == [write_op, delete_op]
	r.evidence.candidates == []
}

test_fail_naming_delete_when_only_write_is_covered if {
	inp := with_alerts([with_condition("kv-diag-write", [category_leaf, write_leaf])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "no usable activity-log alert covers Microsoft.Insights/diagnosticSettings/delete: 'kv-diag-write' its condition operationName equals 'Microsoft.Insights/diagnosticSettings/write' does not match microsoft.insights/diagnosticsettings/delete"
	r.evidence.uncovered == [delete_op]
	r.evidence.candidates[0].reasons == {delete_op: "its condition operationName equals 'Microsoft.Insights/diagnosticSettings/write' does not match microsoft.insights/diagnosticsettings/delete"}
}

test_fail_naming_write_when_only_delete_is_covered if {
	inp := with_alerts([with_condition("kv-diag-delete", [category_leaf, delete_leaf])])
	r := sole(results) with input as inp
	r.status == "fail"
	startswith(r.message, "no usable activity-log alert covers Microsoft.Insights/diagnosticSettings/write: ")
	r.evidence.uncovered == [write_op]
}

test_fail_when_alert_is_on_resource_type_key_vaults if {
	inp := with_alerts([with_condition("kv-admin-changes", [category_leaf, {"field": "resourceType", "equals": "Microsoft.KeyVault/vaults"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-admin-changes' its condition resourceType equals 'Microsoft.KeyVault/vaults' does not match microsoft.insights/diagnosticsettings/")
	r.evidence.uncovered == [write_op, delete_op]
}

test_fail_when_resource_id_leaf_names_the_vault if {
	inp := with_alerts([with_condition("kv-id-leaf", [category_leaf, write_or_delete, {"field": "resourceId", "equals": kv_id}])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, sprintf("'kv-id-leaf' its condition resourceId equals '%v' does not match", [kv_id]))
	r.evidence.uncovered == [write_op, delete_op]
}

test_fail_when_resource_id_leaf_names_one_setting if {
	setting_id := concat("", [kv_id, "/providers/microsoft.insights/diagnosticSettings/kv-audit"])
	inp := with_alerts([with_condition("kv-setting-leaf", [category_leaf, write_or_delete, {"field": "resourceId", "equals": setting_id}])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, sprintf("'kv-setting-leaf' its condition resourceId equals '%v' does not match", [setting_id]))
}

test_fail_when_scope_is_another_resource_group if {
	other := sprintf("/subscriptions/%v/resourceGroups/rg-other", [sub_id])
	inp := with_alerts([alert("kv-other-rg", {"scopes": [other]})])
	r := sole(results) with input as inp
	r.status == "fail"
	startswith(r.message, because("'kv-other-rg' is scoped elsewhere ("))
	contains(r.message, sprintf("'kv-other-rg' is scoped elsewhere (%v)", [other]))
}

test_fail_when_alert_filters_on_level if {
	inp := with_alerts([with_condition("kv-level", [category_leaf, write_or_delete, {"field": "level", "containsAny": ["Error", "Critical"]}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-level' filters events out on level")
}

test_fail_when_alert_filters_on_sub_status if {
	inp := with_alerts([with_condition("kv-substatus", [category_leaf, write_or_delete, {"field": "subStatus", "equals": "OK"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-substatus' filters events out on subStatus")
}

test_fail_when_alert_is_disabled if {
	inp := with_alerts([alert("kv-log-tamper", {"enabled": false})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-log-tamper' is disabled")
}

# ---------------------------------------------------------------------------
# fail: the action group
# ---------------------------------------------------------------------------

test_fail_when_action_group_is_missing if {
	inp := vault_input([alert("kv-log-tamper", {})], [])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because(sprintf("'kv-log-tamper' names no usable action group (%v does not exist (not found among the inventory's action groups))", [ag_id]))
}

test_fail_when_action_group_is_disabled if {
	inp := vault_input([alert("kv-log-tamper", {})], [action_group({"enabled": false})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because(sprintf("'kv-log-tamper' names no usable action group (%v is disabled)", [ag_id]))
}

test_fail_when_action_group_has_no_receivers if {
	inp := vault_input([alert("kv-log-tamper", {})], [action_group({"emailReceivers": []})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because(sprintf("'kv-log-tamper' names no usable action group (%v has no receivers)", [ag_id]))
}

# ---------------------------------------------------------------------------
# not evaluable
# ---------------------------------------------------------------------------

test_not_evaluable_when_activity_log_alerts_cannot_be_read if {
	base := with_alerts([])
	inp := object.union(base, {"subscription": {"activityLogAlerts": {"status": "error", "error": {"code": "AuthorizationFailed", "message": "denied"}}}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == sprintf("activity-log alerts of subscription %v could not be read: AuthorizationFailed: denied", [sub_id])
}

test_not_evaluable_when_action_groups_cannot_be_read_and_nothing_covers if {
	base := vault_input([alert("kv-log-tamper", {})], [])
	inp := object.union(base, {"actionGroups": {
		"status": "error",
		"byId": {},
		"error": {"code": "AuthorizationFailed", "message": "denied"},
	}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == sprintf("%v and %v not covered by a usable alert, but action groups could not be read: AuthorizationFailed: denied", [write_op, delete_op])
	r.evidence.uncovered == [write_op, delete_op]
}

# With action groups unreadable, the operation left uncovered is named.
test_not_evaluable_names_only_delete_when_write_is_covered_and_action_groups_unreadable if {
	w := with_condition("kv-diag-write", [category_leaf, write_leaf])
	base := with_alerts([w])
	inp := object.union(base, {"actionGroups": {"status": "error", "error": {"code": "AuthorizationFailed", "message": "denied"}}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	startswith(r.message, sprintf("%v not covered by a usable alert", [delete_op]))
}

# ---------------------------------------------------------------------------
# kvaudit passes per-subscription alert facts in; the verdict is the same
# ---------------------------------------------------------------------------

# with_facts(inp) is inp with input.subscription.alertFacts as kvaudit
# precomputes them.
with_facts(inp) := out if {
	pre := {"subscription": inp.subscription, "actionGroups": inp.actionGroups}
	facts := data.kvaudit.precompute.subscription_alert_facts with input as pre
	count(facts) == count(inp.subscription.activityLogAlerts.value)
	out := object.union(inp, {"subscription": {"alertFacts": facts}})
}

test_precomputed_facts_give_the_same_failure if {
	base := with_alerts([
		with_condition("kv-diag-write", [category_leaf, write_leaf]),
		with_condition("kv-setting-leaf", [category_leaf, write_or_delete, {"field": "resourceId", "equals": kv_id}]),
		with_condition("kv-level", [category_leaf, write_or_delete, {"field": "level", "equals": "Error"}]),
	])
	inp := with_facts(base)
	computed := sole(results) with input as base
	precomputed := sole(results) with input as inp
	precomputed.status == "fail"
	precomputed.evidence.uncovered == [delete_op]
	precomputed == computed
}

test_precomputed_facts_give_the_same_pass if {
	base := with_alerts([
		with_condition("kv-diag-write", [category_leaf, write_leaf, {"field": "resourceGroup", "equals": "rg-prod"}]),
		with_condition("kv-diag-delete", [category_leaf, delete_leaf]),
	])
	inp := with_facts(base)
	computed := sole(results) with input as base
	precomputed := sole(results) with input as inp
	precomputed.status == "pass"
	precomputed == computed
	precomputed.evidence.coverage == {write_op: ["kv-diag-write"], delete_op: ["kv-diag-delete"]}
}

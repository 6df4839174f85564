# Unit tests of kv/admin-alert. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.admin_alert

import data.kvaudit.lib

sub_id := "00000000-0000-0000-0000-000000000000"

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

ag_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-secops"

write_op := "Microsoft.KeyVault/vaults/write"

delete_op := "Microsoft.KeyVault/vaults/delete"

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

category_leaf := {"field": "category", "equals": "Administrative", "odata.type": null}

resource_type_leaf := {"field": "resourceType", "equals": "Microsoft.KeyVault/vaults", "odata.type": null}

write_or_delete := {"anyOf": [
	{"field": "operationName", "equals": write_op},
	{"field": "operationName", "equals": delete_op},
]}

# alert(name, props) is an activity-log alert (2020-10-01): by default the
# recommended one, subscription scope, category + resourceType + anyOf(write, delete).
alert(name, props) := {
	"id": sprintf("/subscriptions/%v/resourceGroups/rg-monitoring/providers/microsoft.insights/activityLogAlerts/%v", [sub_id, name]),
	"type": "Microsoft.Insights/ActivityLogAlerts",
	"name": name,
	"location": "Global",
	"tags": {},
	"properties": object.union(
		{
			"scopes": [sprintf("/subscriptions/%v", [sub_id])],
			"condition": {"allOf": [category_leaf, resource_type_leaf, write_or_delete]},
			"actions": {"actionGroups": [{"actionGroupId": ag_id, "webhookProperties": {}}]},
			"enabled": true,
			"description": "Key Vault create/update/delete",
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

nothing_covers := "no usable activity-log alert covers Microsoft.KeyVault/vaults/write and Microsoft.KeyVault/vaults/delete"

vault_id_lower := lower(kv_id)

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_subscription_alert_has_nested_any_of_write_and_delete if {
	inp := with_alerts([alert("kv-admin-changes", {})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-admin-changes")
	r.evidence.coverage == {write_op: ["kv-admin-changes"], delete_op: ["kv-admin-changes"]}
}

# The alert enabled flag defaults to true when absent.
test_pass_when_enabled_is_absent if {
	a := alert("kv-admin-changes", {})
	inp := with_alerts([json.remove(a, ["properties/enabled"])])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_when_resource_group_scope_has_no_leading_slash if {
	inp := with_alerts([alert("kv-rg", {"scopes": [sprintf("subscriptions/%v/resourceGroups/rg-prod", [sub_id])]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-rg")
}

test_pass_when_resource_group_scope_has_trailing_slash_and_other_case if {
	inp := with_alerts([alert("kv-rg", {"scopes": [sprintf("/SUBSCRIPTIONS/%v/resourcegroups/RG-PROD/", [sub_id])]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-rg")
}

test_pass_when_scope_is_the_vault_id if {
	inp := with_alerts([alert("kv-vault-scope", {"scopes": [kv_id]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-vault-scope")
}

test_pass_when_one_of_several_scopes_covers_the_vault if {
	other := sprintf("/subscriptions/%v/resourceGroups/rg-other", [sub_id])
	inp := with_alerts([alert("kv-multi", {"scopes": [other, sprintf("/subscriptions/%v/resourceGroups/rg-prod", [sub_id])]})])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_when_operation_name_uses_contains_any if {
	inp := with_alerts([with_condition("kv-contains-any", [
		category_leaf,
		{"field": "operationName", "containsAny": [write_op, delete_op, "Microsoft.KeyVault/vaults/accessPolicies/write"]},
	])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-contains-any")
}

test_pass_when_resource_type_equals_key_vaults_in_any_case if {
	inp := with_alerts([with_condition("kv-type", [
		{"field": "Category", "equals": "administrative"},
		{"field": "ResourceType", "equals": "microsoft.keyvault/VAULTS"},
	])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == both_covered_by("kv-type")
}

test_pass_when_resource_group_leaf_equals_vault_group_in_other_case if {
	inp := with_alerts([with_condition("kv-rg-leaf", [category_leaf, {"field": "resourceGroup", "equals": "RG-Prod"}, write_or_delete])])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_when_resource_id_leaf_equals_the_vault_id if {
	inp := with_alerts([with_condition("kv-id-leaf", [
		category_leaf,
		{"field": "resourceId", "equals": upper(trim_left(kv_id, "/"))},
		write_or_delete,
	])])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_when_resource_provider_leaf_equals_key_vault if {
	inp := with_alerts([with_condition("kv-provider", [category_leaf, {"field": "resourceProvider", "equals": "Microsoft.KeyVault"}])])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_when_two_alerts_each_cover_one_operation if {
	w := with_condition("kv-write", [category_leaf, {"field": "operationName", "equals": write_op}])
	d := with_condition("kv-delete", [category_leaf, {"field": "operationName", "equals": delete_op}])
	inp := with_alerts([w, d])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "Microsoft.KeyVault/vaults/write is alerted by kv-write; Microsoft.KeyVault/vaults/delete is alerted by kv-delete"
	r.evidence.coverage == {write_op: ["kv-write"], delete_op: ["kv-delete"]}
}

test_pass_when_one_of_two_action_groups_is_usable if {
	broken := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-gone"
	a := alert("kv-admin-changes", {"actions": {"actionGroups": [{"actionGroupId": broken}, {"actionGroupId": upper(ag_id)}]}})
	inp := with_alerts([a])
	r := sole(results) with input as inp
	r.status == "pass"
}

# The derived ListBySubscriptionId fixture: one good alert, one disabled, one
# filtering on status. Only the good one counts.
test_pass_with_reference_fixture_counts_only_the_usable_alert if {
	good := alert("kv-admin-changes", {})
	disabled := alert("kv-delete-only", {
		"scopes": [sprintf("/subscriptions/%v/resourceGroups/rg-prod", [sub_id])],
		"condition": {"allOf": [{"field": "category", "equals": "Administrative"}, {"field": "operationName", "equals": delete_op}]},
		"enabled": false,
	})
	filtered := with_condition("kv-accesspolicy-changes", [
		{"field": "category", "equals": "Administrative"},
		{"field": "operationName", "equals": "Microsoft.KeyVault/vaults/accessPolicies/write"},
		{"field": "status", "equals": "Succeeded"},
	])
	inp := with_alerts([good, disabled, filtered])
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.coverage == {write_op: ["kv-admin-changes"], delete_op: ["kv-admin-changes"]}
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

test_fail_when_scope_is_another_resource_group if {
	other := sprintf("/subscriptions/%v/resourceGroups/rg-other", [sub_id])
	inp := with_alerts([alert("kv-other-rg", {"scopes": [other]})])
	r := sole(results) with input as inp
	r.status == "fail"
	startswith(r.message, concat("", [nothing_covers, ": 'kv-other-rg' is scoped elsewhere ("]))
	contains(r.message, other)
	contains(r.message, sprintf("'kv-other-rg' is scoped elsewhere (%v)", [other]))
	r.evidence.candidates[0].reasons[write_op] == r.evidence.candidates[0].reasons[delete_op]
}

test_fail_when_scope_is_a_resource_group_name_prefix if {
	inp := with_alerts([alert("kv-rg-pro", {"scopes": [sprintf("/subscriptions/%v/resourceGroups/rg-pro", [sub_id])]})])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "is scoped elsewhere")
}

test_fail_when_scope_is_another_subscription if {
	inp := with_alerts([alert("kv-other-sub", {"scopes": ["/subscriptions/11111111-1111-1111-1111-111111111111"]})])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-other-sub' is scoped elsewhere")
}

test_fail_when_alert_is_disabled if {
	inp := with_alerts([alert("kv-admin-changes", {"enabled": false})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == concat("", [nothing_covers, ": 'kv-admin-changes' is disabled"])
}

test_fail_when_alert_filters_on_status if {
	inp := with_alerts([with_condition("kv-succeeded", [category_leaf, resource_type_leaf, {"field": "status", "equals": "Succeeded"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == concat("", [nothing_covers, ": 'kv-succeeded' filters events out on status"])
}

test_fail_when_alert_filters_on_caller if {
	inp := with_alerts([with_condition("kv-caller", [category_leaf, resource_type_leaf, {"field": "caller", "equals": "admin@contoso.com"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-caller' filters events out on caller")
}

test_fail_when_alert_filters_on_level if {
	inp := with_alerts([with_condition("kv-level", [category_leaf, resource_type_leaf, {"field": "level", "containsAny": ["Error", "Critical"]}])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-level' filters events out on level")
}

test_fail_when_alert_filters_on_sub_status_inside_any_of if {
	inp := with_alerts([with_condition("kv-substatus", [category_leaf, resource_type_leaf, {"anyOf": [{"field": "subStatus", "equals": "Created"}, {"field": "subStatus", "equals": "OK"}]}])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-substatus' filters events out on subStatus")
}

test_fail_naming_write_when_alert_covers_only_delete if {
	inp := with_alerts([with_condition("kv-delete-only", [category_leaf, {"field": "operationName", "equals": delete_op}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "no usable activity-log alert covers Microsoft.KeyVault/vaults/write: 'kv-delete-only' its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match microsoft.keyvault/vaults/write"
	r.evidence.uncovered == [write_op]
	r.evidence.candidates[0].reasons == {write_op: "its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match microsoft.keyvault/vaults/write"}
}

test_fail_when_condition_has_a_leaf_on_an_unknown_field if {
	inp := with_alerts([with_condition("kv-props", [category_leaf, resource_type_leaf, {"field": "properties.x", "equals": "y"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-props' its condition properties.x equals 'y' does not match microsoft.keyvault/vaults/")
	r.evidence.uncovered == [write_op, delete_op]
}

test_fail_when_resource_type_is_another_type if {
	inp := with_alerts([with_condition("kv-storage", [category_leaf, {"field": "resourceType", "equals": "Microsoft.Storage/storageAccounts"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "its condition resourceType equals 'Microsoft.Storage/storageAccounts' does not match")
}

test_fail_when_resource_group_leaf_names_another_group if {
	inp := with_alerts([with_condition("kv-rg-leaf", [category_leaf, {"field": "resourceGroup", "equals": "rg-other"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "resourceGroup equals 'rg-other'")
}

test_fail_when_category_is_not_administrative if {
	inp := with_alerts([with_condition("kv-security", [{"field": "category", "equals": "Security"}, resource_type_leaf])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "category equals 'Security'")
}

# ---------------------------------------------------------------------------
# fail: the action group
# ---------------------------------------------------------------------------

test_fail_when_alert_names_no_action_group if {
	inp := with_alerts([alert("kv-silent", {"actions": {"actionGroups": []}})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == concat("", [nothing_covers, ": 'kv-silent' names no action group"])
}

test_fail_when_action_group_is_missing if {
	inp := vault_input([alert("kv-admin-changes", {})], [])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == sprintf("%v: 'kv-admin-changes' names no usable action group (%v does not exist (not found among the inventory's action groups))", [nothing_covers, ag_id])
}

test_fail_when_action_group_is_disabled if {
	inp := vault_input([alert("kv-admin-changes", {})], [action_group({"enabled": false})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == sprintf("%v: 'kv-admin-changes' names no usable action group (%v is disabled)", [nothing_covers, ag_id])
}

test_fail_when_action_group_has_no_receivers if {
	inp := vault_input([alert("kv-admin-changes", {})], [action_group({"emailReceivers": []})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == sprintf("%v: 'kv-admin-changes' names no usable action group (%v has no receivers)", [nothing_covers, ag_id])
}

# ---------------------------------------------------------------------------
# not evaluable
# ---------------------------------------------------------------------------

test_not_evaluable_when_action_groups_cannot_be_read if {
	# The failed subscription contributed nothing to byId.
	base := vault_input([alert("kv-admin-changes", {})], [])
	inp := object.union(base, {"actionGroups": {
		"status": "error",
		"error": {"code": "AuthorizationFailed", "message": "action groups of subscription 00000000-0000-0000-0000-000000000000 could not be read: denied"},
	}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "Microsoft.KeyVault/vaults/write and Microsoft.KeyVault/vaults/delete not covered by a usable alert, but action groups could not be read: AuthorizationFailed: action groups of subscription 00000000-0000-0000-0000-000000000000 could not be read: denied"
	r.evidence.uncovered == [write_op, delete_op]
}

# Action groups of another subscription failed, but the named one was read.
test_pass_when_action_groups_partly_unreadable_but_named_group_was_read if {
	base := with_alerts([alert("kv-admin-changes", {})])
	inp := object.union(base, {"actionGroups": {"status": "error", "error": {"code": "AuthorizationFailed", "message": "action groups of subscription 11111111-1111-1111-1111-111111111111 could not be read: denied"}}})
	r := sole(results) with input as inp
	r.status == "pass"
}

test_not_evaluable_when_activity_log_alerts_cannot_be_read if {
	base := with_alerts([])
	inp := object.union(base, {"subscription": {"activityLogAlerts": {"status": "error", "error": {"code": "AuthorizationFailed", "message": "denied"}}}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "activity-log alerts of subscription 00000000-0000-0000-0000-000000000000 could not be read: AuthorizationFailed: denied"
}

test_not_evaluable_once_when_alerts_and_action_groups_cannot_be_read if {
	base := with_alerts([])
	inp := object.union(base, {
		"subscription": {"activityLogAlerts": {"status": "error", "error": {"code": "AuthorizationFailed", "message": "denied"}}},
		"actionGroups": {"status": "error", "byId": {}, "error": {"code": "AuthorizationFailed", "message": "denied too"}},
	})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	startswith(r.message, "activity-log alerts of subscription")
}

test_not_evaluable_when_subscription_not_in_inventory if {
	base := with_alerts([])
	missing := {"status": "notCollected", "reason": "subscription 00000000-0000-0000-0000-000000000000 is not in the inventory"}
	inp := object.union(base, {"subscription": {"activityLogAlerts": missing, "actionGroups": missing, "scheduledQueryRules": missing}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
}


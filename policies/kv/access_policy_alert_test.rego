# Unit tests of kv/access-policy-alert. Run: kvaudit policy test policies
#
# The event: Microsoft.KeyVault/vaults/accessPolicies/write (Administrative)
# with resourceId {vault}/accessPolicies/{add,replace,remove}, resourceType
# microsoft.keyvault/vaults/accesspolicies, resourceProvider
# microsoft.keyvault and the vault's resource group. The resource id ends in
# a segment not known in advance, so a resourceId leaf never covers it.
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.access_policy_alert

import data.kvaudit.lib

sub_id := "00000000-0000-0000-0000-000000000000"

sub_scope := sprintf("/subscriptions/%v", [sub_id])

rg_scope := sprintf("/subscriptions/%v/resourceGroups/rg-prod", [sub_id])

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

ag_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-secops"

policy_op := "Microsoft.KeyVault/vaults/accessPolicies/write"

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

operation_leaf := {"field": "operationName", "equals": policy_op}

# alert(name, props) is an activity-log alert (2020-10-01): by default the
# recommended one, subscription scope, category + operationName.
alert(name, props) := {
	"id": sprintf("/subscriptions/%v/resourceGroups/rg-monitoring/providers/microsoft.insights/activityLogAlerts/%v", [sub_id, name]),
	"type": "Microsoft.Insights/ActivityLogAlerts",
	"name": name,
	"location": "Global",
	"tags": {},
	"properties": object.union(
		{
			"scopes": [sub_scope],
			"condition": {"allOf": [category_leaf, operation_leaf]},
			"actions": {"actionGroups": [{"actionGroupId": ag_id, "webhookProperties": {}}]},
			"enabled": true,
			"description": "Key Vault access policy changes",
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

covered_by(name) := sprintf("%v is alerted by %v", [policy_op, name])

nothing_covers := "no usable activity-log alert covers Microsoft.KeyVault/vaults/accessPolicies/write"

# because(text) is the failing message with one candidate explanation.
because(text) := sprintf("%v: %v", [nothing_covers, text])

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_subscription_alert_names_the_operation if {
	inp := with_alerts([alert("kv-policy-changes", {})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-policy-changes")
	r.evidence.coverage == {policy_op: ["kv-policy-changes"]}
}

test_pass_when_scope_is_the_vault_resource_group if {
	inp := with_alerts([alert("kv-rg", {"scopes": [rg_scope]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-rg")
}

# The event's resource id is {vault}/accessPolicies/...: the vault is a prefix.
test_pass_when_scope_is_the_vault_id if {
	inp := with_alerts([alert("kv-vault-scope", {"scopes": [kv_id]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-vault-scope")
}

test_pass_when_resource_type_is_access_policies if {
	inp := with_alerts([with_condition("kv-type", [category_leaf, {"field": "resourceType", "equals": "Microsoft.KeyVault/vaults/accessPolicies"}])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-type")
}

test_pass_when_field_names_and_values_are_in_mixed_case if {
	inp := with_alerts([alert("kv-mixed", {
		"scopes": [sprintf("SUBSCRIPTIONS/%v/RESOURCEGROUPS/RG-Prod/", [sub_id])],
		"condition": {"allOf": [
			{"field": "CATEGORY", "equals": "administrative"},
			{"field": "OperationName", "equals": "microsoft.keyvault/VAULTS/ACCESSPOLICIES/write"},
			{"field": "resourcegroup", "equals": "RG-PROD"},
		]},
	})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-mixed")
}

test_pass_when_operation_is_in_an_any_of if {
	inp := with_alerts([with_condition("kv-any-of", [category_leaf, {"anyOf": [
		{"field": "operationName", "equals": "Microsoft.KeyVault/vaults/write"},
		{"field": "operationName", "equals": policy_op},
	]}])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-any-of")
}

test_pass_when_operation_is_in_contains_any if {
	inp := with_alerts([with_condition("kv-contains-any", [category_leaf, {"field": "operationName", "containsAny": ["Microsoft.KeyVault/vaults/delete", policy_op]}])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-contains-any")
}

test_pass_when_resource_provider_is_key_vault if {
	inp := with_alerts([with_condition("kv-provider", [category_leaf, {"field": "resourceProvider", "equals": "Microsoft.KeyVault"}])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-provider")
}

# Only the usable alert is named; the disabled one is not counted.
test_pass_names_only_the_usable_alerts if {
	inp := with_alerts([alert("kv-off", {"enabled": false}), alert("kv-on", {"scopes": [rg_scope]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.coverage == {policy_op: ["kv-on"]}
}

# ---------------------------------------------------------------------------
# fail: the alert itself
# ---------------------------------------------------------------------------

test_fail_when_subscription_has_no_alerts if {
	inp := with_alerts([])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == concat("", [nothing_covers, " (the subscription has no activity-log alerts)"])
	r.evidence.uncovered == [policy_op]
	r.evidence.candidates == []
}

# The admin alert's resourceType Microsoft.KeyVault/vaults is another
# resource type than the access policies'.
test_fail_when_alert_is_on_resource_type_key_vaults if {
	inp := with_alerts([with_condition("kv-admin-changes", [category_leaf, {"field": "resourceType", "equals": "Microsoft.KeyVault/vaults"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-admin-changes' its condition resourceType equals 'Microsoft.KeyVault/vaults' does not match microsoft.keyvault/vaults/accesspolicies/write")
	r.evidence.candidates[0].reasons == {policy_op: "its condition resourceType equals 'Microsoft.KeyVault/vaults' does not match microsoft.keyvault/vaults/accesspolicies/write"}
}

test_fail_when_resource_id_leaf_names_the_vault if {
	inp := with_alerts([with_condition("kv-id-leaf", [category_leaf, operation_leaf, {"field": "resourceId", "equals": kv_id}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because(sprintf("'kv-id-leaf' its condition resourceId equals '%v' does not match microsoft.keyvault/vaults/accesspolicies/write", [kv_id]))
}

# Even the id of one access-policy kind does not cover the others.
test_fail_when_resource_id_leaf_names_one_access_policy_kind if {
	add_id := concat("", [kv_id, "/accessPolicies/add"])
	inp := with_alerts([with_condition("kv-add-leaf", [category_leaf, operation_leaf, {"field": "resourceId", "equals": add_id}])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, sprintf("'kv-add-leaf' its condition resourceId equals '%v' does not match", [add_id]))
}

test_fail_when_scope_is_another_resource_group if {
	other := sprintf("/subscriptions/%v/resourceGroups/rg-other", [sub_id])
	inp := with_alerts([alert("kv-other-rg", {"scopes": [other]})])
	r := sole(results) with input as inp
	r.status == "fail"
	startswith(r.message, because("'kv-other-rg' is scoped elsewhere ("))
	contains(r.message, other)
	contains(r.message, sprintf("'kv-other-rg' is scoped elsewhere (%v)", [other]))
}

test_fail_when_scope_is_another_vault if {
	inp := with_alerts([alert("kv-other-vault", {"scopes": [concat("", [kv_id, "2"])]})])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-other-vault' is scoped elsewhere")
}

test_fail_when_operation_is_the_vault_write if {
	inp := with_alerts([with_condition("kv-write", [category_leaf, {"field": "operationName", "equals": "Microsoft.KeyVault/vaults/write"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-write' its condition operationName equals 'Microsoft.KeyVault/vaults/write' does not match")
}

test_fail_when_alert_filters_on_status if {
	inp := with_alerts([with_condition("kv-succeeded", [category_leaf, operation_leaf, {"field": "status", "equals": "Succeeded"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-succeeded' filters events out on status")
}

test_fail_when_alert_filters_on_caller_inside_any_of if {
	inp := with_alerts([with_condition("kv-caller", [category_leaf, operation_leaf, {"anyOf": [{"field": "caller", "equals": "admin@contoso.com"}, {"field": "caller", "equals": "ops@contoso.com"}]}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-caller' filters events out on caller")
}

test_fail_when_alert_is_disabled if {
	inp := with_alerts([alert("kv-policy-changes", {"enabled": false})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-policy-changes' is disabled")
}

# ---------------------------------------------------------------------------
# fail: the action group
# ---------------------------------------------------------------------------

test_fail_when_alert_names_no_action_group if {
	inp := with_alerts([alert("kv-silent", {"actions": {"actionGroups": []}})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-silent' names no action group")
}

test_fail_when_action_group_is_missing if {
	inp := vault_input([alert("kv-policy-changes", {})], [])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because(sprintf("'kv-policy-changes' names no usable action group (%v does not exist (not found among the inventory's action groups))", [ag_id]))
}

test_fail_when_action_group_is_disabled if {
	inp := vault_input([alert("kv-policy-changes", {})], [action_group({"enabled": false})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because(sprintf("'kv-policy-changes' names no usable action group (%v is disabled)", [ag_id]))
}

test_fail_when_action_group_has_no_receivers if {
	inp := vault_input([alert("kv-policy-changes", {})], [action_group({"emailReceivers": []})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because(sprintf("'kv-policy-changes' names no usable action group (%v has no receivers)", [ag_id]))
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
	base := vault_input([alert("kv-policy-changes", {})], [])
	inp := object.union(base, {"actionGroups": {
		"status": "error",
		"byId": {},
		"error": {"code": "AuthorizationFailed", "message": "action groups of subscription 00000000-0000-0000-0000-000000000000 could not be read: denied"},
	}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == sprintf("%v not covered by a usable alert, but action groups could not be read: AuthorizationFailed: action groups of subscription %v could not be read: denied", [policy_op, sub_id])
	r.evidence.uncovered == [policy_op]
}

# Unreadable action groups do not matter once a usable alert covers the event.
test_pass_when_action_groups_partly_unreadable_but_named_group_was_read if {
	base := with_alerts([alert("kv-policy-changes", {})])
	inp := object.union(base, {"actionGroups": {"status": "error", "error": {"code": "AuthorizationFailed", "message": "action groups of subscription 11111111-1111-1111-1111-111111111111 could not be read: denied"}}})
	r := sole(results) with input as inp
	r.status == "pass"
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
		with_condition("kv-admin-changes", [category_leaf, {"field": "resourceType", "equals": "Microsoft.KeyVault/vaults"}]),
		with_condition("kv-id-leaf", [category_leaf, operation_leaf, {"field": "resourceId", "equals": kv_id}]),
		alert("kv-off", {"enabled": false}),
	])
	inp := with_facts(base)
	computed := sole(results) with input as base
	precomputed := sole(results) with input as inp
	precomputed.status == "fail"
	count(precomputed.evidence.candidates) == 3
	precomputed == computed
}

test_precomputed_facts_give_the_same_pass if {
	base := with_alerts([alert("kv-off", {"enabled": false}), alert("kv-rg", {"scopes": [rg_scope]})])
	inp := with_facts(base)
	computed := sole(results) with input as base
	precomputed := sole(results) with input as inp
	precomputed.status == "pass"
	precomputed == computed
	precomputed.message == covered_by("kv-rg")
}

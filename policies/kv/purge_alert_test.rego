# Unit tests of kv/purge-alert. Run: kvaudit policy test policies
#
# kv/purge-alert is a `scope: subscription` rule: its input is the
# subscription (`resource`), `subscription`, `actionGroups` and `vaults`.
# The event: Microsoft.KeyVault/locations/deletedVaults/purge/action
# (Administrative) with resourceId
# /subscriptions/S/providers/Microsoft.KeyVault/locations/L/deletedVaults/NAME,
# resourceType microsoft.keyvault/locations/deletedvaults, resourceProvider
# microsoft.keyvault and NO resource group: only a subscription scope covers
# it, and neither a resourceGroup nor a resourceId leaf matches it.
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.purge_alert

import data.kvaudit.lib

sub_id := "00000000-0000-0000-0000-000000000000"

sub_scope := sprintf("/subscriptions/%v", [sub_id])

rg_scope := sprintf("/subscriptions/%v/resourceGroups/rg-prod", [sub_id])

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

ag_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-secops"

purge_op := "Microsoft.KeyVault/locations/deletedVaults/purge/action"

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

operation_leaf := {"field": "operationName", "equals": purge_op}

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
			"description": "Deleted Key Vault purged",
		},
		props,
	),
}

# with_condition(name, allOf) is a default alert whose allOf is replaced.
with_condition(name, all_of) := alert(name, {"condition": {"allOf": all_of}})

# sub_input(alerts, groups) is the subscription-scope input of the
# subscription holding kv-prod, whose alerts are `alerts` and whose inventory
# has the action groups `groups`. There is no input.vault.
sub_input(alerts, groups) := {
	"resource": {"id": sub_scope, "type": "Microsoft.Resources/subscriptions", "name": "Production", "subscriptionId": sub_id},
	"subscription": {
		"subscriptionId": sub_id,
		"displayName": "Production",
		"activityLogAlerts": {"status": "ok", "value": alerts},
		"actionGroups": {"status": "ok", "value": groups},
		"scheduledQueryRules": {"status": "ok", "value": []},
		"pricings": {"status": "notCollected", "reason": "not requested"},
	},
	"actionGroups": {"status": "ok", "byId": {lib.norm_id(g.id): g | some g in groups}},
	"vaults": [{"id": kv_id, "name": "kv-prod", "location": "westeurope"}],
}

# with_alerts(alerts) uses the working action group ag-secops.
with_alerts(alerts) := sub_input(alerts, [action_group({})])

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

covered_by(name) := sprintf("%v is alerted by %v", [purge_op, name])

nothing_covers := "no usable activity-log alert covers Microsoft.KeyVault/locations/deletedVaults/purge/action"

because(text) := sprintf("%v: %v", [nothing_covers, text])

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_subscription_alert_names_the_operation if {
	inp := with_alerts([alert("kv-purge", {})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-purge")
	r.evidence.coverage == {purge_op: ["kv-purge"]}
}

test_pass_when_subscription_scope_has_no_leading_slash_and_other_case if {
	inp := with_alerts([alert("kv-purge", {"scopes": [sprintf("SUBSCRIPTIONS/%v/", [upper(sub_id)])]})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-purge")
}

test_pass_when_resource_type_is_deleted_vaults if {
	inp := with_alerts([with_condition("kv-deleted-vaults", [category_leaf, {"field": "resourceType", "equals": "Microsoft.KeyVault/locations/deletedVaults"}])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-deleted-vaults")
}

test_pass_when_resource_provider_is_key_vault if {
	inp := with_alerts([with_condition("kv-provider", [category_leaf, {"field": "resourceProvider", "equals": "Microsoft.KeyVault"}])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-provider")
}

test_pass_when_operation_is_in_any_of_and_values_are_in_mixed_case if {
	inp := with_alerts([with_condition("kv-mixed", [
		{"field": "CATEGORY", "equals": "administrative"},
		{"anyOf": [
			{"field": "operationName", "equals": "Microsoft.KeyVault/vaults/delete"},
			{"field": "OperationName", "equals": "MICROSOFT.KEYVAULT/LOCATIONS/DELETEDVAULTS/PURGE/ACTION"},
		]},
	])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-mixed")
}

test_pass_when_operation_is_in_contains_any if {
	inp := with_alerts([with_condition("kv-contains-any", [category_leaf, {"field": "operationName", "containsAny": ["Microsoft.KeyVault/vaults/delete", purge_op]}])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == covered_by("kv-contains-any")
}

# ---------------------------------------------------------------------------
# fail: the alert itself
# ---------------------------------------------------------------------------

test_fail_when_subscription_has_no_alerts if {
	inp := with_alerts([])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == concat("", [nothing_covers, " (the subscription has no activity-log alerts)"])
	r.evidence.uncovered == [purge_op]
	r.evidence.candidates == []
}

# The purge event carries no resource group: a resource-group scope never covers it.
test_fail_when_alert_is_scoped_to_a_resource_group if {
	inp := with_alerts([alert("kv-purge-rg", {"scopes": [rg_scope]})])
	r := sole(results) with input as inp
	r.status == "fail"
	startswith(r.message, because("'kv-purge-rg' is scoped elsewhere ("))
	contains(r.message, rg_scope)
	contains(r.message, "is scoped elsewhere")
}

test_fail_when_alert_is_scoped_to_the_vault if {
	inp := with_alerts([alert("kv-purge-vault", {"scopes": [kv_id]})])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-purge-vault' is scoped elsewhere")
	contains(r.message, "is scoped elsewhere")
}

test_fail_when_condition_has_a_resource_group_leaf if {
	inp := with_alerts([with_condition("kv-purge-rg-leaf", [category_leaf, operation_leaf, {"field": "resourceGroup", "equals": "rg-prod"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-purge-rg-leaf' its condition resourceGroup equals 'rg-prod' does not match microsoft.keyvault/locations/deletedvaults/purge/action")
}

test_fail_when_condition_has_a_resource_id_leaf if {
	deleted := sprintf("/subscriptions/%v/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-prod", [sub_id])
	inp := with_alerts([with_condition("kv-purge-id-leaf", [category_leaf, operation_leaf, {"field": "resourceId", "equals": deleted}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because(sprintf("'kv-purge-id-leaf' its condition resourceId equals '%v' does not match microsoft.keyvault/locations/deletedvaults/purge/action", [deleted]))
}

test_fail_when_alert_is_on_resource_type_key_vaults if {
	inp := with_alerts([with_condition("kv-admin-changes", [category_leaf, {"field": "resourceType", "equals": "Microsoft.KeyVault/vaults"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-admin-changes' its condition resourceType equals 'Microsoft.KeyVault/vaults' does not match microsoft.keyvault/locations/deletedvaults/purge/action")
}

test_fail_when_scope_is_another_subscription if {
	inp := with_alerts([alert("kv-other-sub", {"scopes": ["/subscriptions/11111111-1111-1111-1111-111111111111"]})])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "'kv-other-sub' is scoped elsewhere")
}

test_fail_when_alert_filters_on_status if {
	inp := with_alerts([with_condition("kv-purge-ok", [category_leaf, operation_leaf, {"field": "status", "equals": "Succeeded"}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-purge-ok' filters events out on status")
}

test_fail_when_alert_is_disabled if {
	inp := with_alerts([alert("kv-purge", {"enabled": false})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because("'kv-purge' is disabled")
}

# ---------------------------------------------------------------------------
# fail: the action group
# ---------------------------------------------------------------------------

test_fail_when_action_group_is_missing if {
	inp := sub_input([alert("kv-purge", {})], [])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because(sprintf("'kv-purge' names no usable action group (%v does not exist (not found among the inventory's action groups))", [ag_id]))
}

test_fail_when_action_group_is_disabled if {
	inp := sub_input([alert("kv-purge", {})], [action_group({"enabled": false})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because(sprintf("'kv-purge' names no usable action group (%v is disabled)", [ag_id]))
}

test_fail_when_action_group_has_no_receivers if {
	inp := sub_input([alert("kv-purge", {})], [action_group({"emailReceivers": []})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == because(sprintf("'kv-purge' names no usable action group (%v has no receivers)", [ag_id]))
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
	base := sub_input([alert("kv-purge", {})], [])
	inp := object.union(base, {"actionGroups": {
		"status": "error",
		"byId": {},
		"error": {"code": "AuthorizationFailed", "message": "denied"},
	}})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == sprintf("%v not covered by a usable alert, but action groups could not be read: AuthorizationFailed: denied", [purge_op])
	r.evidence.uncovered == [purge_op]
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
		alert("kv-purge-rg", {"scopes": [rg_scope]}),
		with_condition("kv-purge-rg-leaf", [category_leaf, operation_leaf, {"field": "resourceGroup", "equals": "rg-prod"}]),
		with_condition("kv-admin-changes", [category_leaf, {"field": "resourceType", "equals": "Microsoft.KeyVault/vaults"}]),
	])
	inp := with_facts(base)
	computed := sole(results) with input as base
	precomputed := sole(results) with input as inp
	precomputed.status == "fail"
	count(precomputed.evidence.candidates) == 3
	precomputed == computed
}

# A resourceGroup leaf inside an anyOf with the operation still matches.
test_precomputed_facts_give_the_same_pass if {
	base := with_alerts([with_condition("kv-purge-any", [category_leaf, {"anyOf": [{"field": "resourceGroup", "equals": "rg-prod"}, operation_leaf]}])])
	inp := with_facts(base)
	computed := sole(results) with input as base
	precomputed := sole(results) with input as inp
	precomputed.status == "pass"
	precomputed == computed
	precomputed.message == covered_by("kv-purge-any")
}

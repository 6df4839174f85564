# Unit tests of kv/defender. Run: kvaudit policy test policies
#
# kv/defender is a `scope: subscription` rule: its input is the subscription
# (`resource`), `subscription` (with `pricings`), `actionGroups` and `vaults`.
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.defender

sub_id := "00000000-0000-0000-0000-000000000000"

sub_arm_id := sprintf("/subscriptions/%v", [sub_id])

kv_prod := {
	"id": sprintf("/subscriptions/%v/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod", [sub_id]),
	"name": "kv-prod",
	"location": "westeurope",
}

kv_dev := {
	"id": sprintf("/subscriptions/%v/resourceGroups/rg-dev/providers/Microsoft.KeyVault/vaults/kv-dev", [sub_id]),
	"name": "kv-dev",
	"location": "northeurope",
}

# pricing(name, props) is a Microsoft.Security/pricings object (2024-01-01)
# as the GET of pricings/{name} returns it; by default the KeyVaults plan on
# Standard with sub-plan PerTransaction.
pricing(name, props) := {
	"id": sprintf("/subscriptions/%v/providers/Microsoft.Security/pricings/%v", [sub_id, name]),
	"name": name,
	"type": "Microsoft.Security/pricings",
	"properties": object.union(
		{
			"pricingTier": "Standard",
			"subPlan": "PerTransaction",
			"freeTrialRemainingTime": "PT0S",
			"enablementTime": "2024-03-01T10:00:00.000Z",
		},
		props,
	),
}

key_vaults(props) := pricing("KeyVaults", props)

# sub_input(pricings, vaults) is the input of the subscription whose pricings
# were collected as `pricings` (a Collected value) and which holds `vaults`.
sub_input(pricings, vaults) := {
	"resource": {"id": sub_arm_id, "type": "Microsoft.Resources/subscriptions", "name": "Production", "subscriptionId": sub_id},
	"subscription": {
		"subscriptionId": sub_id,
		"displayName": "Production",
		"activityLogAlerts": {"status": "ok", "value": []},
		"actionGroups": {"status": "ok", "value": []},
		"scheduledQueryRules": {"status": "ok", "value": []},
		"pricings": pricings,
	},
	"actionGroups": {"status": "ok", "byId": {}},
	"vaults": vaults,
}

# with_pricings(list) is the input whose pricings were read as `list`, with
# the two vaults kv-prod and kv-dev.
with_pricings(list) := sub_input({"status": "ok", "value": list}, [kv_prod, kv_dev])

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_key_vaults_plan_is_standard if {
	inp := with_pricings([key_vaults({})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "Defender for Key Vault is on (pricingTier Standard, plan PerTransaction) for the subscription's 2 vaults"
	r.evidence == {"pricingTier": "Standard", "subPlan": "PerTransaction"}
}

test_pass_when_pricing_tier_is_lower_case_standard if {
	inp := with_pricings([key_vaults({"pricingTier": "standard"})])
	r := sole(results) with input as inp
	r.status == "pass"
	contains(r.message, "(pricingTier standard, plan PerTransaction)")
}

test_pass_when_pricing_tier_is_upper_case_standard if {
	inp := with_pricings([key_vaults({"pricingTier": "STANDARD"})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.pricingTier == "STANDARD"
}

test_pass_without_sub_plan_omits_the_plan_and_counts_one_vault if {
	p := key_vaults({})
	no_sub_plan := json.remove(p, ["properties/subPlan"])
	inp := sub_input({"status": "ok", "value": [no_sub_plan]}, [kv_prod])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "Defender for Key Vault is on (pricingTier Standard) for the subscription's 1 vault"
	r.evidence.subPlan == null
}

test_pass_when_plan_name_is_in_another_case_among_other_plans if {
	inp := with_pricings([
		pricing("VirtualMachines", {"pricingTier": "Free"}),
		pricing("keyvaults", {}),
		pricing("StorageAccounts", {"pricingTier": "Free"}),
	])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "Defender for Key Vault is on (pricingTier Standard, plan PerTransaction) for the subscription's 2 vaults"
}

# ---------------------------------------------------------------------------
# fail
# ---------------------------------------------------------------------------

test_fail_when_key_vaults_plan_is_free if {
	inp := with_pricings([key_vaults({"pricingTier": "Free", "subPlan": null})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "Defender for Key Vault is off (pricingTier Free) for the subscription's 2 vaults"
	r.evidence == {"pricingTier": "Free"}
}

test_fail_when_free_plan_covers_a_single_vault if {
	inp := sub_input({"status": "ok", "value": [key_vaults({"pricingTier": "free"})]}, [kv_prod])
	r := sole(results) with input as inp
	r.status == "fail"
	endswith(r.message, "for the subscription's 1 vault")
}

test_fail_when_pricings_have_no_key_vaults_plan if {
	inp := with_pricings([pricing("VirtualMachines", {}), pricing("StorageAccounts", {})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == sprintf("subscription %v has no KeyVaults Defender plan in its pricings, so Defender for Key Vault is off for its 2 vaults", [sub_id])
	r.evidence.pricings == ["VirtualMachines", "StorageAccounts"]
}

test_fail_when_pricings_are_empty if {
	inp := with_pricings([])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "has no KeyVaults Defender plan")
	r.evidence.pricings == []
}

# ---------------------------------------------------------------------------
# not evaluable
# ---------------------------------------------------------------------------

test_not_evaluable_when_pricing_cannot_be_read if {
	inp := with_pricings([])
	denied := {"status": "error", "error": {
		"code": "AuthorizationFailed",
		"message": "The client does not have authorization to perform action 'Microsoft.Security/pricings/read'",
		"httpStatus": 403,
	}}
	inp2 := object.union(inp, {"subscription": {"pricings": denied}})
	r := sole(results) with input as inp2
	r.status == "not_evaluable"
	r.message == sprintf("the Defender for Cloud pricing of subscription %v could not be read (AuthorizationFailed: The client does not have authorization to perform action 'Microsoft.Security/pricings/read')", [sub_id])
}

test_not_evaluable_when_pricing_was_not_collected if {
	inp := sub_input({"status": "notCollected", "reason": "pricings were not requested"}, [kv_prod])
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == sprintf("the Defender for Cloud pricing of subscription %v was not collected (pricings were not requested)", [sub_id])
}

test_not_evaluable_when_subscription_is_missing_from_the_inventory if {
	missing := {"status": "notCollected", "reason": sprintf("subscription %v is not in the inventory", [sub_id])}
	inp := sub_input(missing, [kv_prod])
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	contains(r.message, "is not in the inventory")
}

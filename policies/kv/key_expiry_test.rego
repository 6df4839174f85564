# Unit tests of kv/key-expiry. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.key_expiry

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

# vault(rbac) is kv-prod with enableRbacAuthorization `rbac`.
vault(rbac) := {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": {"enableRbacAuthorization": rbac}}

# keys_input(rbac, listed) is the input of kv-prod whose keys list is the
# Collected wrapper `listed`.
keys_input(rbac, listed) := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": "00000000-0000-0000-0000-000000000000"},
	"vault": vault(rbac),
	"keys": listed,
}

# with_keys(list): an RBAC vault whose keys were listed.
with_keys(list) := keys_input(true, {"status": "ok", "value": list})

# key(name, attributes) is a key as the management plane lists it
# (Microsoft.KeyVault/vaults/keys); exp is in Unix seconds.
key(name, attributes) := {
	"id": sprintf("%v/keys/%v", [kv_id, name]),
	"name": name,
	"type": "Microsoft.KeyVault/vaults/keys",
	"properties": {
		"attributes": object.union({"enabled": true, "created": 1767225600, "updated": 1767225600}, attributes),
		"kty": "RSA",
		"keyUri": sprintf("https://kv-prod.vault.azure.net/keys/%v", [name]),
	},
}

expiring(name) := key(name, {"exp": 1830297600})

never_expiring(name) := key(name, {})

forbidden := {"status": "error", "error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/keys/read'.", "httpStatus": 403}}

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

fails(rs) := {r | some r in rs; r.status == "fail"}

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_every_enabled_key_expires if {
	inp := with_keys([expiring("cmk"), expiring("signing")])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "all 2 enabled keys have an expiration date"
	r.evidence == {"enabled": 2, "disabled": 0, "permissionModel": "rbac"}
}

test_pass_when_the_vault_has_no_keys if {
	inp := with_keys([])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the vault has no keys"
	r.evidence == {"enabled": 0, "disabled": 0, "permissionModel": "rbac"}
}

test_pass_skips_a_disabled_key_without_expiry if {
	inp := with_keys([expiring("cmk"), key("retired", {"enabled": false})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "all 1 enabled keys have an expiration date"
	r.evidence == {"enabled": 1, "disabled": 1, "permissionModel": "rbac"}
}

# Every key disabled: nothing to judge, and the message says so.
test_pass_when_every_key_is_disabled if {
	inp := with_keys([key("retired", {"enabled": false}), key("old", {"enabled": false})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the vault has no enabled keys"
	r.evidence == {"enabled": 0, "disabled": 2, "permissionModel": "rbac"}
}

test_pass_names_the_access_policy_model if {
	inp := keys_input(null, {"status": "ok", "value": [expiring("cmk")]})
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.permissionModel == "accessPolicies"
}

# ---------------------------------------------------------------------------
# fail
# ---------------------------------------------------------------------------

test_fail_for_a_key_without_exp if {
	inp := with_keys([expiring("cmk"), never_expiring("signing")])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "signing"
	r.message == "key 'signing' is enabled and never expires (attributes.exp is not set)"
	r.evidence == {"name": "signing", "permissionModel": "rbac"}
}

test_fail_for_a_key_whose_exp_is_null if {
	inp := with_keys([key("signing", {"exp": null})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "signing"
}

# exp is Unix seconds; an RFC 3339 string is not an expiry the rule reads.
test_fail_for_a_key_whose_exp_is_not_a_number if {
	inp := with_keys([key("signing", {"exp": "2027-12-31T00:00:00Z"})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "signing"
}

test_fail_for_a_key_whose_enabled_is_null if {
	inp := with_keys([key("signing", {"enabled": null})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "signing"
}

test_fail_for_a_key_whose_enabled_is_missing if {
	k := never_expiring("signing")
	attributes := object.remove(k.properties.attributes, ["enabled"])
	inp := with_keys([object.union(object.remove(k, ["properties"]), {"properties": {"attributes": attributes, "kty": "RSA"}})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "signing"
}

test_fail_for_a_key_without_attributes if {
	k := {"id": sprintf("%v/keys/bare", [kv_id]), "name": "bare", "type": "Microsoft.KeyVault/vaults/keys", "properties": {"kty": "EC"}}
	inp := with_keys([k])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "bare"
}

test_fail_once_per_key_with_the_name_as_discriminator if {
	inp := with_keys([never_expiring("a"), expiring("b"), never_expiring("c"), key("d", {"enabled": false})])
	rs := results with input as inp
	count(rs) == 2
	fails(rs) == rs
	{r.discriminator | some r in rs} == {"a", "c"}
	{r.message | some r in rs} == {
		"key 'a' is enabled and never expires (attributes.exp is not set)",
		"key 'c' is enabled and never expires (attributes.exp is not set)",
	}
}

test_fail_names_the_access_policy_model if {
	inp := keys_input(false, {"status": "ok", "value": [never_expiring("signing")]})
	r := sole(results) with input as inp
	r.status == "fail"
	r.evidence == {"name": "signing", "permissionModel": "accessPolicies"}
}

# ---------------------------------------------------------------------------
# not evaluable
# ---------------------------------------------------------------------------

test_not_evaluable_when_the_list_is_refused if {
	inp := keys_input(true, forbidden)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the vault's keys could not be listed through the management plane (AuthorizationFailed: The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/keys/read'.)"
}

test_not_evaluable_when_not_collected if {
	inp := keys_input(true, {"status": "notCollected", "reason": "not in the inventory"})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the vault's keys were not collected (not in the inventory)"
}

test_not_evaluable_when_not_collected_without_reason if {
	inp := keys_input(true, {"status": "notCollected"})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the vault's keys were not collected (not in the inventory)"
}

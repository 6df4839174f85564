# Unit tests of kv/key-rotation. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.key_rotation

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

# keys_input(listed) is the input of kv-prod whose keys are the Collected
# wrapper `listed`.
keys_input(listed) := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": "00000000-0000-0000-0000-000000000000"},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": {"enableRbacAuthorization": true}},
	"keys": listed,
}

with_keys(list) := keys_input({"status": "ok", "value": list})

# bare_key(name, enabled) is a key as Keys_Get returns it, without a
# rotation policy.
bare_key(name, enabled) := {
	"id": sprintf("%v/keys/%v", [kv_id, name]),
	"name": name,
	"type": "Microsoft.KeyVault/vaults/keys",
	"properties": {
		"attributes": {"enabled": enabled, "exp": 1830297600, "created": 1767225600, "updated": 1767225600},
		"kty": "RSA",
		"keyUri": sprintf("https://kv-prod.vault.azure.net/keys/%v", [name]),
	},
}

# key(name, actions) is an enabled key whose rotation policy has the
# lifetime actions `actions`.
key(name, actions) := with_policy(bare_key(name, true), {"attributes": {"expiryTime": "P1Y"}, "lifetimeActions": actions})

with_policy(k, policy) := object.union(k, {"properties": {"rotationPolicy": policy}})

after_create(type) := {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": type}}

before_expiry(type) := {"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": type}}

rotating(name) := key(name, [after_create("Rotate")])

notify_only(name) := key(name, [before_expiry("Notify")])

forbidden := {"status": "error", "error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/keys/read'.", "httpStatus": 403}}

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

with_status(rs, status) := {r | some r in rs; r.status == status}

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_every_enabled_key_rotates if {
	inp := with_keys([rotating("cmk"), rotating("signing")])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "all 2 enabled keys rotate automatically"
	r.evidence == {"enabled": 2}
}

test_pass_with_rotate_before_expiry if {
	inp := with_keys([key("cmk", [before_expiry("Rotate")])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "all 1 enabled keys rotate automatically"
}

test_pass_when_rotate_is_lower_case if {
	inp := with_keys([key("cmk", [after_create("rotate")])])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_when_rotate_is_upper_case if {
	inp := with_keys([key("cmk", [after_create("ROTATE")])])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_when_notify_comes_before_rotate if {
	inp := with_keys([key("cmk", [before_expiry("Notify"), after_create("Rotate")])])
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence == {"enabled": 1}
}

test_pass_when_the_vault_has_no_keys if {
	inp := with_keys([])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the vault has no enabled keys"
	r.evidence == {"enabled": 0}
}

test_pass_skips_disabled_keys_without_policy_or_rotation if {
	old := with_policy(bare_key("old", false), {"lifetimeActions": [before_expiry("Notify")]})
	inp := with_keys([rotating("cmk"), bare_key("retired", false), old])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "all 1 enabled keys rotate automatically"
	r.evidence == {"enabled": 1}
}

test_pass_when_every_key_is_disabled if {
	inp := with_keys([bare_key("retired", false)])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the vault has no enabled keys"
}

# ---------------------------------------------------------------------------
# fail
# ---------------------------------------------------------------------------

test_fail_when_the_policy_only_notifies if {
	k := notify_only("cmk")
	inp := with_keys([k])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "cmk"
	r.message == "key 'cmk' has a rotation policy without a Rotate action (actions: Notify), so it is never rotated automatically"
	r.evidence == {"name": "cmk", "rotationPolicy": k.properties.rotationPolicy, "readThrough": "Keys_Get (management plane)"}
}

test_fail_when_lifetime_actions_are_empty if {
	inp := with_keys([key("cmk", [])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "cmk"
	r.message == "key 'cmk' has a rotation policy without a Rotate action (no lifetime actions), so it is never rotated automatically"
}

test_fail_when_the_policy_has_no_lifetime_actions_field if {
	inp := with_keys([with_policy(bare_key("cmk", true), {"attributes": {"expiryTime": "P1Y"}})])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "(no lifetime actions)")
}

test_fail_lists_every_action_type if {
	inp := with_keys([key("cmk", [before_expiry("Notify"), {"trigger": {"timeAfterCreate": "P90D"}}])])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "key 'cmk' has a rotation policy without a Rotate action (actions: Notify, ?), so it is never rotated automatically"
}

test_fail_once_per_key_with_the_name_as_discriminator if {
	inp := with_keys([notify_only("a"), rotating("b"), key("c", [])])
	rs := results with input as inp
	count(rs) == 2
	with_status(rs, "fail") == rs
	{[r.discriminator, r.message] | some r in rs} == {
		["a", "key 'a' has a rotation policy without a Rotate action (actions: Notify), so it is never rotated automatically"],
		["c", "key 'c' has a rotation policy without a Rotate action (no lifetime actions), so it is never rotated automatically"],
	}
}

# ---------------------------------------------------------------------------
# not evaluable
# ---------------------------------------------------------------------------

# read(k): the scan's Keys_Get for k answered (kvaudit writes rotationPolicyRead).
read(k) := object.union(k, {"rotationPolicyRead": {"status": "ok"}})

read_failed(k) := object.union(k, {"rotationPolicyRead": {"status": "error", "error": {"code": "TooManyRequests", "message": "throttled", "httpStatus": 429}}})

# The Keys_Get answered without a policy: the key has none (the API omits an
# empty policy), and fails, saying how it was read.
test_fail_for_a_key_without_rotation_policy if {
	inp := with_keys([rotating("cmk"), read(bare_key("signing", true))])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "signing"
	r.message == "key 'signing' has no rotation policy (its Keys_Get answer through Azure Resource Manager carries none), so it is never rotated automatically"
	r.evidence.rotationPolicy == null
}

test_fail_for_a_key_whose_rotation_policy_is_null if {
	inp := with_keys([read(with_policy(bare_key("signing", true), null))])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "signing"
}

test_fail_once_per_key_without_policy if {
	inp := with_keys([read(bare_key("a", true)), read(bare_key("b", null))])
	rs := results with input as inp
	{r.discriminator | some r in rs; r.status == "fail"} == {"a", "b"}
	count(rs) == 2
}

# A Keys_Get that failed is named with its error, not taken for "no policy".
test_not_evaluable_names_a_failed_read_with_its_error if {
	inp := with_keys([read_failed(bare_key("signing", true))])
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	contains(r.message, "the rotation policy of 1 key could not be read (signing: TooManyRequests: throttled)")
	r.evidence.errors.signing.code == "TooManyRequests"
}

# An inventory collected without kv/key-rotation has no Keys_Get at all.
test_not_evaluable_says_when_policies_were_never_read if {
	inp := with_keys([bare_key("signing", true)])
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	contains(r.message, "was not read (signing; the inventory was collected without kv/key-rotation)")
}

# One message names each kind of unknown key; a key read without a policy fails beside it.
test_not_evaluable_groups_the_reasons if {
	inp := with_keys([read(bare_key("a", true)), read_failed(bare_key("b", true)), bare_key("c", true)])
	rs := results with input as inp
	r := sole(with_status(rs, "not_evaluable"))
	contains(r.message, "could not be read (b: TooManyRequests: throttled)")
	contains(r.message, "was not read (c;")
	r.evidence.unknown == ["b", "c"]
	f := sole(with_status(rs, "fail"))
	f.discriminator == "a"
}

# A key without a policy does not hide another key that fails.
test_fail_and_not_evaluable_together if {
	inp := with_keys([notify_only("a"), bare_key("b", true)])
	rs := results with input as inp
	count(rs) == 2
	f := sole(with_status(rs, "fail"))
	f.discriminator == "a"
	n := sole(with_status(rs, "not_evaluable"))
	n.evidence.unknown == ["b"]
}

test_not_evaluable_when_the_list_is_refused if {
	inp := keys_input(forbidden)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the vault's keys could not be listed through the management plane (AuthorizationFailed: The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/keys/read'.)"
}

test_not_evaluable_when_not_collected if {
	inp := keys_input({"status": "notCollected", "reason": "not in the inventory"})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the vault's keys were not collected (not in the inventory)"
}

# RULE BUG (reported): `some a in null` raises an error when a policy's
# lifetimeActions is null, so the rule gives no verdict for the whole vault;
# null should read like an empty list.
test_fail_when_lifetime_actions_is_null if {
	inp := with_keys([with_policy(bare_key("cmk", true), {"lifetimeActions": null})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "cmk"
	contains(r.message, "(no lifetime actions)")
}

# ---------------------------------------------------------------------------
# scan --data-plane: the vault's own answer wins
# ---------------------------------------------------------------------------

from_data_plane(k, policy) := object.union(k, {"rotationPolicyDataPlane": {"status": "ok", "value": policy}})

data_plane_refused(k) := object.union(k, {"rotationPolicyDataPlane": {"status": "error", "error": {"code": "Forbidden", "message": "Client address is not authorized and caller is not a trusted service", "httpStatus": 403}}})

test_pass_when_the_data_plane_has_a_rotate_policy_arm_omitted if {
	k := from_data_plane(read(bare_key("cmk", true)), {"lifetimeActions": [after_create("Rotate")]})
	inp := with_keys([k])
	r := sole(results) with input as inp
	r.status == "pass"
}

test_fail_when_the_data_plane_only_notifies_whatever_arm_says if {
	k := from_data_plane(rotating("cmk"), {"lifetimeActions": [before_expiry("Notify")]})
	inp := with_keys([k])
	r := sole(results) with input as inp
	r.status == "fail"
	r.evidence.readThrough == "the vault's data plane"
}

test_a_refused_data_plane_changes_nothing if {
	inp := with_keys([data_plane_refused(read(bare_key("cmk", true))), data_plane_refused(rotating("ok"))])
	rs := results with input as inp
	f := sole(with_status(rs, "fail"))
	f.discriminator == "cmk"
	count(rs) == 1
}

# A data-plane answer makes the key read even when Keys_Get failed.
test_the_data_plane_answers_for_a_failed_keys_get if {
	k := from_data_plane(read_failed(bare_key("cmk", true)), {"lifetimeActions": [after_create("Rotate")]})
	inp := with_keys([k])
	r := sole(results) with input as inp
	r.status == "pass"
}

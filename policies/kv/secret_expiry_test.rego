# Unit tests of kv/secret-expiry. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.secret_expiry

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

# vault(rbac) is kv-prod with enableRbacAuthorization `rbac`.
vault(rbac) := {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": {"enableRbacAuthorization": rbac}}

# secrets_input(rbac, listed) is the input of kv-prod whose secrets list is
# the Collected wrapper `listed`.
secrets_input(rbac, listed) := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": "00000000-0000-0000-0000-000000000000"},
	"vault": vault(rbac),
	"secrets": listed,
}

# with_secrets(list): an RBAC vault whose secrets were listed.
with_secrets(list) := secrets_input(true, {"status": "ok", "value": list})

# secret(name, attributes) is a secret as the management plane lists it
# (Microsoft.KeyVault/vaults/secrets, metadata only); exp is in Unix seconds.
secret(name, attributes) := {
	"id": sprintf("%v/secrets/%v", [kv_id, name]),
	"name": name,
	"type": "Microsoft.KeyVault/vaults/secrets",
	"properties": {
		"attributes": object.union({"enabled": true, "created": 1767225600, "updated": 1767225600}, attributes),
		"contentType": "text/plain",
		"secretUri": sprintf("https://kv-prod.vault.azure.net/secrets/%v", [name]),
	},
}

expiring(name) := secret(name, {"exp": 1830297600})

never_expiring(name) := secret(name, {})

forbidden := {"status": "error", "error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/secrets/read'.", "httpStatus": 403}}

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

fails(rs) := {r | some r in rs; r.status == "fail"}

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_every_enabled_secret_expires if {
	inp := with_secrets([expiring("db-password"), expiring("api-token")])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "all 2 enabled secrets have an expiration date"
	r.evidence == {"enabled": 2, "disabled": 0, "permissionModel": "rbac"}
}

test_pass_when_the_vault_has_no_secrets if {
	inp := with_secrets([])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the vault has no secrets"
	r.evidence == {"enabled": 0, "disabled": 0, "permissionModel": "rbac"}
}

test_pass_skips_a_disabled_secret_without_expiry if {
	inp := with_secrets([expiring("db-password"), secret("old-token", {"enabled": false})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "all 1 enabled secrets have an expiration date"
	r.evidence == {"enabled": 1, "disabled": 1, "permissionModel": "rbac"}
}

# Every secret disabled: nothing to judge, and the message says so.
test_pass_when_every_secret_is_disabled if {
	inp := with_secrets([secret("old-token", {"enabled": false})])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the vault has no enabled secrets"
	r.evidence == {"enabled": 0, "disabled": 1, "permissionModel": "rbac"}
}

test_pass_names_the_access_policy_model if {
	inp := secrets_input(null, {"status": "ok", "value": [expiring("db-password")]})
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.permissionModel == "accessPolicies"
}

# ---------------------------------------------------------------------------
# fail
# ---------------------------------------------------------------------------

test_fail_for_a_secret_without_exp if {
	inp := with_secrets([expiring("db-password"), never_expiring("api-token")])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "api-token"
	r.message == "secret 'api-token' is enabled and never expires (attributes.exp is not set)"
	r.evidence == {"name": "api-token", "permissionModel": "rbac"}
}

test_fail_for_a_secret_whose_exp_is_null if {
	inp := with_secrets([secret("api-token", {"exp": null})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "api-token"
}

# exp is Unix seconds; an RFC 3339 string is not an expiry the rule reads.
test_fail_for_a_secret_whose_exp_is_not_a_number if {
	inp := with_secrets([secret("api-token", {"exp": "2027-12-31T00:00:00Z"})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "api-token"
}

test_fail_for_a_secret_whose_enabled_is_null if {
	inp := with_secrets([secret("api-token", {"enabled": null})])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "api-token"
}

test_fail_for_a_secret_without_attributes if {
	s := {"id": sprintf("%v/secrets/bare", [kv_id]), "name": "bare", "type": "Microsoft.KeyVault/vaults/secrets", "properties": {}}
	inp := with_secrets([s])
	r := sole(results) with input as inp
	r.status == "fail"
	r.discriminator == "bare"
}

test_fail_once_per_secret_with_the_name_as_discriminator if {
	inp := with_secrets([never_expiring("a"), expiring("b"), never_expiring("c"), secret("d", {"enabled": false})])
	rs := results with input as inp
	count(rs) == 2
	fails(rs) == rs
	{r.discriminator | some r in rs} == {"a", "c"}
	{r.message | some r in rs} == {
		"secret 'a' is enabled and never expires (attributes.exp is not set)",
		"secret 'c' is enabled and never expires (attributes.exp is not set)",
	}
}

test_fail_names_the_access_policy_model if {
	inp := secrets_input(false, {"status": "ok", "value": [never_expiring("api-token")]})
	r := sole(results) with input as inp
	r.status == "fail"
	r.evidence == {"name": "api-token", "permissionModel": "accessPolicies"}
}

# ---------------------------------------------------------------------------
# not evaluable
# ---------------------------------------------------------------------------

test_not_evaluable_when_the_list_is_refused if {
	inp := secrets_input(true, forbidden)
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the vault's secrets could not be listed through the management plane (AuthorizationFailed: The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/secrets/read'.)"
}

test_not_evaluable_when_not_collected if {
	inp := secrets_input(true, {"status": "notCollected", "reason": "not selected: no rule reads secrets"})
	r := sole(results) with input as inp
	r.status == "not_evaluable"
	r.message == "the vault's secrets were not collected (not selected: no rule reads secrets)"
}

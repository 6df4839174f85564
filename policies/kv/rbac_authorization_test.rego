# Unit tests of kv/rbac-authorization. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.rbac_authorization

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

tenant_id := "11111111-1111-1111-1111-111111111111"

# vault_input(props) is the input of kv-prod whose vault has `props` as its
# properties (api-version 2026-02-01 shape).
vault_input(props) := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": "00000000-0000-0000-0000-000000000000"},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": props},
}

# access_policy(oid) grants an identity the secret permissions.
access_policy(oid) := {
	"tenantId": tenant_id,
	"objectId": oid,
	"permissions": {"keys": [], "secrets": ["get", "list"], "certificates": []},
}

# model(rbac, policies) is a vault with enableRbacAuthorization `rbac` and
# the access policies `policies`.
model(rbac, policies) := {
	"tenantId": tenant_id,
	"sku": {"family": "A", "name": "standard"},
	"enableRbacAuthorization": rbac,
	"accessPolicies": policies,
}

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

test_pass_when_rbac_is_true if {
	inp := vault_input(model(true, []))
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the vault uses Azure RBAC for its data plane"
	r.evidence == {"enableRbacAuthorization": true}
}

# Leftover access policies are ignored once RBAC decides.
test_pass_when_rbac_is_true_and_old_access_policies_remain if {
	inp := vault_input(model(true, [access_policy("a"), access_policy("b")]))
	r := sole(results) with input as inp
	r.status == "pass"
}

test_fail_when_rbac_is_false_counts_access_policies if {
	inp := vault_input(model(false, [access_policy("a"), access_policy("b")]))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the vault uses access policies (enableRbacAuthorization is false; 2 access policies): anyone who may write the vault can grant themselves its secrets"
	r.evidence == {"enableRbacAuthorization": false, "accessPolicies": 2}
}

test_fail_when_rbac_is_null_with_one_access_policy if {
	inp := vault_input(model(null, [access_policy("a")]))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the vault uses access policies (enableRbacAuthorization is not set; 1 access policy): anyone who may write the vault can grant themselves its secrets"
	r.evidence == {"enableRbacAuthorization": null, "accessPolicies": 1}
}

test_fail_when_rbac_and_access_policies_are_missing if {
	inp := vault_input({"tenantId": tenant_id, "sku": {"family": "A", "name": "standard"}})
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "(enableRbacAuthorization is not set; 0 access policies)")
	r.evidence == {"enableRbacAuthorization": null, "accessPolicies": 0}
}

# RULE BUG (reported): `count(policies)` raises an error on a null
# accessPolicies, so the rule gives no verdict; it should read null as none.
test_fail_when_rbac_is_false_and_access_policies_is_null if {
	inp := vault_input(model(false, null))
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "(enableRbacAuthorization is false; 0 access policies)")
	r.evidence == {"enableRbacAuthorization": false, "accessPolicies": 0}
}

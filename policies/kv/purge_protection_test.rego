# Unit tests of kv/purge-protection. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.purge_protection

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

# vault_input(props) is the input of kv-prod whose vault has `props` as its
# properties (api-version 2026-02-01 shape).
vault_input(props) := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": "00000000-0000-0000-0000-000000000000"},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": props},
}

base_props := {
	"tenantId": "11111111-1111-1111-1111-111111111111",
	"sku": {"family": "A", "name": "standard"},
	"enableSoftDelete": true,
	"softDeleteRetentionInDays": 90,
}

# sole(rs) is the only element of rs; undefined when rs has 0 or 2+ elements.
sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

test_pass_when_purge_protection_is_true if {
	inp := vault_input(object.union(base_props, {"enablePurgeProtection": true}))
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "purge protection is enabled: the vault and its objects cannot be purged before their retention period ends"
	r.evidence == {"enablePurgeProtection": true}
}

test_fail_when_purge_protection_is_missing if {
	inp := vault_input(base_props)
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "purge protection is off (enablePurgeProtection is not set): a deleted vault or key can be purged at once and is then lost for good"
	r.evidence == {"enablePurgeProtection": null}
}

test_fail_when_purge_protection_is_null if {
	inp := vault_input(object.union(base_props, {"enablePurgeProtection": null}))
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "(enablePurgeProtection is not set)")
	r.evidence == {"enablePurgeProtection": null}
}

test_fail_when_purge_protection_is_false if {
	inp := vault_input(object.union(base_props, {"enablePurgeProtection": false}))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "purge protection is off (enablePurgeProtection is false): a deleted vault or key can be purged at once and is then lost for good"
	r.evidence == {"enablePurgeProtection": false}
}

# Only the boolean true counts: a string is not a setting Azure writes.
test_fail_when_purge_protection_is_the_string_true if {
	inp := vault_input(object.union(base_props, {"enablePurgeProtection": "true"}))
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "(enablePurgeProtection is true)")
	r.evidence == {"enablePurgeProtection": "true"}
}

test_fail_when_the_vault_has_no_properties if {
	inp := {"vault": {"id": kv_id, "name": "kv-prod"}}
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "(enablePurgeProtection is not set)")
}

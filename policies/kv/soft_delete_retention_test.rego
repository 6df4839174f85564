# Unit tests of kv/soft-delete-retention. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.soft_delete_retention

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

# vault_input(props) is the input of kv-prod whose vault has `props` as its
# properties (api-version 2026-02-01 shape).
vault_input(props) := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": "00000000-0000-0000-0000-000000000000"},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": props},
}

# retention(days) is a soft-deleting vault keeping deleted objects `days` days.
retention(days) := {
	"tenantId": "11111111-1111-1111-1111-111111111111",
	"sku": {"family": "A", "name": "standard"},
	"enableSoftDelete": true,
	"softDeleteRetentionInDays": days,
	"enablePurgeProtection": true,
}

# no_retention is a soft-deleting vault that does not state its retention.
no_retention := object.remove(retention(90), ["softDeleteRetentionInDays"])

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_with_90_days_and_the_default_minimum if {
	inp := vault_input(retention(90))
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "deleted objects stay recoverable for 90 days (minimum 90)"
	r.evidence == {"softDeleteRetentionInDays": 90, "minimumDays": 90}
}

test_pass_when_retention_is_missing_reads_azure_default_90_with_a_note if {
	inp := vault_input(no_retention)
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "deleted objects stay recoverable for 90 days (softDeleteRetentionInDays is not set: Azure's default) (minimum 90)"
	r.evidence == {"softDeleteRetentionInDays": null, "minimumDays": 90}
}

test_pass_when_retention_is_null_reads_azure_default_90_with_a_note if {
	inp := vault_input(retention(null))
	r := sole(results) with input as inp
	r.status == "pass"
	contains(r.message, "90 days (softDeleteRetentionInDays is not set: Azure's default)")
	r.evidence.softDeleteRetentionInDays == null
}

test_pass_when_enable_soft_delete_is_missing if {
	inp := vault_input(object.remove(retention(90), ["enableSoftDelete"]))
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "deleted objects stay recoverable for 90 days (minimum 90)"
}

test_pass_when_enable_soft_delete_is_null if {
	inp := vault_input(object.union(retention(90), {"enableSoftDelete": null}))
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_at_exactly_a_custom_minimum_of_30 if {
	inp := vault_input(retention(30))
	r := sole(results) with input as inp with data.config.softDeleteRetentionMinDays as 30
	r.status == "pass"
	r.message == "deleted objects stay recoverable for 30 days (minimum 30)"
	r.evidence == {"softDeleteRetentionInDays": 30, "minimumDays": 30}
}

test_pass_above_a_custom_minimum_of_30 if {
	inp := vault_input(retention(45))
	r := sole(results) with input as inp with data.config.softDeleteRetentionMinDays as 30
	r.status == "pass"
	r.message == "deleted objects stay recoverable for 45 days (minimum 30)"
}

test_pass_missing_retention_with_a_custom_minimum_of_30 if {
	inp := vault_input(no_retention)
	r := sole(results) with input as inp with data.config.softDeleteRetentionMinDays as 30
	r.status == "pass"
	r.message == "deleted objects stay recoverable for 90 days (softDeleteRetentionInDays is not set: Azure's default) (minimum 30)"
}

# Policy data without the setting falls back to 90.
test_minimum_defaults_to_90_when_policy_data_omits_it if {
	inp := vault_input(retention(89))
	c := {"windowHours": 24}
	r := sole(results) with input as inp with data.config as c
	r.status == "fail"
	r.evidence.minimumDays == 90
}

# ---------------------------------------------------------------------------
# fail
# ---------------------------------------------------------------------------

test_fail_with_7_days_and_the_default_minimum if {
	inp := vault_input(retention(7))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "deleted objects stay recoverable for only 7 days, below the minimum of 90 (policy data config.softDeleteRetentionMinDays); the retention cannot be changed on an existing vault"
	r.evidence == {"softDeleteRetentionInDays": 7, "minimumDays": 90}
}

test_fail_one_day_below_the_default_minimum if {
	inp := vault_input(retention(89))
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "only 89 days, below the minimum of 90")
}

test_fail_one_day_below_a_custom_minimum_of_30 if {
	inp := vault_input(retention(29))
	r := sole(results) with input as inp with data.config.softDeleteRetentionMinDays as 30
	r.status == "fail"
	r.message == "deleted objects stay recoverable for only 29 days, below the minimum of 30 (policy data config.softDeleteRetentionMinDays); the retention cannot be changed on an existing vault"
	r.evidence == {"softDeleteRetentionInDays": 29, "minimumDays": 30}
}

test_fail_when_soft_delete_is_disabled if {
	inp := vault_input(object.union(retention(90), {"enableSoftDelete": false}))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "soft delete is disabled (enableSoftDelete is false): a deleted vault or object cannot be recovered at all"
	r.evidence == {"enableSoftDelete": false}
}

# Soft delete off is the only verdict, even when the retention is also short.
test_fail_only_once_when_soft_delete_is_disabled_and_retention_is_short if {
	inp := vault_input(object.union(retention(7), {"enableSoftDelete": false}))
	r := sole(results) with input as inp
	r.status == "fail"
	startswith(r.message, "soft delete is disabled")
}

# Unit tests of kv/private-endpoint. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.private_endpoint

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

# vault_input(props) is the input of kv-prod whose vault has `props` as its
# properties (api-version 2026-02-01 shape).
vault_input(props) := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": "00000000-0000-0000-0000-000000000000"},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": props},
}

with_connections(list) := vault_input({"publicNetworkAccess": "Disabled", "privateEndpointConnections": list})

pec_id(name) := sprintf("%v/privateEndpointConnections/%v", [kv_id, name])

# pec(name, state) is a private endpoint connection whose
# privateLinkServiceConnectionState is `state`.
pec(name, state) := {
	"id": pec_id(name),
	"etag": "",
	"properties": {
		"privateEndpoint": {"id": sprintf("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/%v", [name])},
		"privateLinkServiceConnectionState": state,
		"provisioningState": "Succeeded",
	},
}

# connection(name, status) is a connection in the given status.
connection(name, status) := pec(name, {"status": status, "description": "", "actionsRequired": "None"})

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_with_one_approved_connection if {
	inp := with_connections([connection("pe-app", "Approved")])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "1 approved private endpoint connection"
	r.evidence == {"approved": [pec_id("pe-app")]}
}

test_pass_counts_only_the_approved_of_mixed_connections if {
	inp := with_connections([connection("pe-old", "Rejected"), connection("pe-app", "Approved"), connection("pe-new", "Pending"), connection("pe-batch", "Approved")])
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "2 approved private endpoint connections"
	r.evidence == {"approved": [pec_id("pe-app"), pec_id("pe-batch")]}
}

test_pass_when_approved_is_lower_case if {
	inp := with_connections([connection("pe-app", "approved")])
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.approved == [pec_id("pe-app")]
}

test_pass_when_approved_is_upper_case if {
	inp := with_connections([connection("pe-app", "APPROVED")])
	r := sole(results) with input as inp
	r.status == "pass"
}

# ---------------------------------------------------------------------------
# fail
# ---------------------------------------------------------------------------

test_fail_when_connections_are_missing if {
	inp := vault_input({"publicNetworkAccess": "Enabled"})
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the vault has no private endpoint connection"
	r.evidence == {"connections": []}
}

test_fail_when_connections_are_empty if {
	inp := with_connections([])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the vault has no private endpoint connection"
}

test_fail_with_mixed_pending_and_rejected if {
	inp := with_connections([connection("pe-new", "Pending"), connection("pe-old", "Rejected")])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "none of the vault's 2 private endpoint connections is approved (Pending, Rejected), so none carries traffic"
	r.evidence == {"connections": [{"id": pec_id("pe-new"), "status": "Pending"}, {"id": pec_id("pe-old"), "status": "Rejected"}]}
}

test_fail_with_one_disconnected_connection if {
	inp := with_connections([connection("pe-gone", "Disconnected")])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "none of the vault's 1 private endpoint connection is approved (Disconnected), so none carries traffic"
}

test_fail_with_a_connection_without_status if {
	inp := with_connections([pec("pe-odd", {"description": "", "actionsRequired": "None"}), connection("pe-new", "Pending")])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "none of the vault's 2 private endpoint connections is approved (no status, Pending), so none carries traffic"
	r.evidence.connections == [{"id": pec_id("pe-odd"), "status": ""}, {"id": pec_id("pe-new"), "status": "Pending"}]
}

test_fail_with_a_connection_whose_state_is_null if {
	inp := with_connections([pec("pe-odd", null)])
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "(no status)")
}

# A non-object entry is no connection.
test_fail_ignores_null_entries if {
	inp := with_connections([null])
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the vault has no private endpoint connection"
}

# RULE BUG (reported): `some c in null` raises an error when
# privateEndpointConnections is null, so the rule gives no verdict; null
# should read as no connection, like a missing field.
test_fail_when_connections_are_null if {
	inp := with_connections(null)
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the vault has no private endpoint connection"
}

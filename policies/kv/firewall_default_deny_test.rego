# Unit tests of kv/firewall-default-deny. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.firewall_default_deny

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

subnet_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-app/subnets/snet-app"

other_subnet_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet-app/subnets/snet-batch"

# vault_input(props) is the input of kv-prod whose vault has `props` as its
# properties (api-version 2026-02-01 shape).
vault_input(props) := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": "00000000-0000-0000-0000-000000000000"},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": props},
}

ip(v) := {"value": v}

vnet(id) := {"id": id, "ignoreMissingVnetServiceEndpoint": false}

# firewall(pna, acls) is a vault with publicNetworkAccess `pna` and the
# networkAcls `acls`.
firewall(pna, acls) := {
	"tenantId": "11111111-1111-1111-1111-111111111111",
	"sku": {"family": "A", "name": "standard"},
	"publicNetworkAccess": pna,
	"networkAcls": acls,
}

# acls(action, ips, vnets) is networkAcls with bypass AzureServices.
acls(action, ips, vnets) := {"bypass": "AzureServices", "defaultAction": action, "ipRules": ips, "virtualNetworkRules": vnets}

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

# ---------------------------------------------------------------------------
# pass
# ---------------------------------------------------------------------------

test_pass_when_deny_with_rules if {
	inp := vault_input(firewall("Enabled", acls("Deny", [ip("203.0.113.0/24"), ip("198.51.100.7")], [vnet(subnet_id)])))
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the firewall denies by default (2 IP rules, 1 virtual network rule allowed)"
	r.evidence == {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": 2, "virtualNetworkRules": 1}
}

test_pass_when_deny_with_no_rules if {
	inp := vault_input(firewall("Enabled", acls("Deny", [], [])))
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the firewall denies by default (0 IP rules, 0 virtual network rules allowed)"
}

test_pass_singular_ip_rule_and_plural_vnet_rules if {
	inp := vault_input(firewall("Enabled", acls("Deny", [ip("203.0.113.9")], [vnet(subnet_id), vnet(other_subnet_id)])))
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the firewall denies by default (1 IP rule, 2 virtual network rules allowed)"
}

test_pass_when_deny_is_upper_case if {
	inp := vault_input(firewall("Enabled", acls("DENY", [], [])))
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.defaultAction == "DENY"
}

test_pass_when_deny_is_lower_case if {
	inp := vault_input(firewall("Enabled", acls("deny", [], [])))
	r := sole(results) with input as inp
	r.status == "pass"
}

test_pass_without_rule_lists_counts_zero if {
	inp := vault_input(firewall("Enabled", {"bypass": "None", "defaultAction": "Deny"}))
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the firewall denies by default (0 IP rules, 0 virtual network rules allowed)"
	r.evidence == {"defaultAction": "Deny", "bypass": "None", "ipRules": 0, "virtualNetworkRules": 0}
}

# ---------------------------------------------------------------------------
# fail
# ---------------------------------------------------------------------------

test_fail_when_allow_says_ip_rules_change_nothing if {
	inp := vault_input(firewall("Enabled", acls("Allow", [ip("203.0.113.0/24"), ip("198.51.100.7")], [])))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the firewall's defaultAction is Allow: every public address gets through and its 2 IP rules change nothing"
	r.evidence == {"defaultAction": "Allow", "bypass": "AzureServices", "ipRules": 2, "virtualNetworkRules": 0}
}

test_fail_when_allow_with_one_ip_rule if {
	inp := vault_input(firewall("Enabled", acls("Allow", [ip("203.0.113.9")], [])))
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "its 1 IP rule change nothing")
}

test_fail_when_network_acls_is_missing if {
	inp := vault_input({"publicNetworkAccess": "Enabled"})
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the vault has no firewall (networkAcls is not set, so every address is allowed)"
	r.evidence == {"defaultAction": "", "bypass": null, "ipRules": 0, "virtualNetworkRules": 0}
}

test_fail_when_network_acls_is_null if {
	inp := vault_input(firewall("Enabled", null))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the vault has no firewall (networkAcls is not set, so every address is allowed)"
}

test_fail_when_default_action_is_missing if {
	inp := vault_input(firewall("Enabled", {"bypass": "AzureServices", "ipRules": [ip("203.0.113.9")], "virtualNetworkRules": []}))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the firewall has no defaultAction (Azure treats it as Allow)"
	r.evidence.defaultAction == ""
	r.evidence.ipRules == 1
}

test_fail_when_default_action_is_null if {
	inp := vault_input(firewall("Enabled", acls(null, [], [])))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the firewall has no defaultAction (Azure treats it as Allow)"
}

test_fail_with_public_access_disabled_mentions_it if {
	inp := vault_input(firewall("Disabled", acls("Allow", [], [])))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the firewall's defaultAction is Allow: every public address gets through and its 0 IP rules change nothing; public network access is Disabled today, but re-enabling it would open the vault to all"
}

test_fail_with_public_access_lower_case_disabled_mentions_it if {
	inp := vault_input(firewall("disabled", null))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "the vault has no firewall (networkAcls is not set, so every address is allowed); public network access is Disabled today, but re-enabling it would open the vault to all"
}

test_fail_with_public_access_enabled_has_no_note if {
	inp := vault_input(firewall("Enabled", acls("Allow", [], [])))
	r := sole(results) with input as inp
	r.status == "fail"
	not contains(r.message, "public network access")
}

# RULE BUG (reported): `count` of a null ipRules or virtualNetworkRules
# raises an error, so the rule gives no verdict; null should count as none.
test_pass_when_rule_lists_are_null if {
	inp := vault_input(firewall("Enabled", acls("Deny", null, null)))
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "the firewall denies by default (0 IP rules, 0 virtual network rules allowed)"
}

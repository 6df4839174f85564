# Unit tests of kv/public-network-access. Run: kvaudit policy test policies
#
# regorus quirk: a function call written directly as the value of `with`
# (`with input as f(x)`) evaluates to undefined, so every input is bound to a
# variable first.
package kvaudit.kv.public_network_access

kv_id := "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.KeyVault/vaults/kv-prod"

# vault_input(props) is the input of kv-prod whose vault has `props` as its
# properties (api-version 2026-02-01 shape).
vault_input(props) := {
	"resource": {"id": kv_id, "type": "Microsoft.KeyVault/vaults", "name": "kv-prod", "subscriptionId": "00000000-0000-0000-0000-000000000000"},
	"vault": {"id": kv_id, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": props},
}

acls(default_action) := {"bypass": "AzureServices", "defaultAction": default_action, "ipRules": [], "virtualNetworkRules": []}

# network(pna, default_action) is a vault with publicNetworkAccess `pna` and
# a firewall whose defaultAction is `default_action`.
network(pna, default_action) := {
	"tenantId": "11111111-1111-1111-1111-111111111111",
	"sku": {"family": "A", "name": "standard"},
	"publicNetworkAccess": pna,
	"networkAcls": acls(default_action),
}

sole(rs) := r if {
	count(rs) == 1
	some r in rs
}

test_pass_when_disabled if {
	inp := vault_input(network("Disabled", "Deny"))
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "public network access is Disabled: only private endpoints reach the vault"
	r.evidence == {"publicNetworkAccess": "Disabled"}
}

test_pass_when_disabled_is_lower_case if {
	inp := vault_input(network("disabled", "Allow"))
	r := sole(results) with input as inp
	r.status == "pass"
	r.message == "public network access is disabled: only private endpoints reach the vault"
}

test_pass_when_disabled_is_upper_case if {
	inp := vault_input(network("DISABLED", "Allow"))
	r := sole(results) with input as inp
	r.status == "pass"
	r.evidence.publicNetworkAccess == "DISABLED"
}

test_fail_when_enabled_and_firewall_allows if {
	inp := vault_input(network("Enabled", "Allow"))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "public network access is Enabled: the vault's endpoint answers from any network"
	r.evidence == {"publicNetworkAccess": "Enabled", "networkAclsDefaultAction": "Allow"}
}

test_fail_when_enabled_and_firewall_denies_mentions_the_firewall if {
	inp := vault_input(network("Enabled", "Deny"))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "public network access is Enabled; the firewall's defaultAction Deny limits it to the allowed addresses and networks"
	r.evidence == {"publicNetworkAccess": "Enabled", "networkAclsDefaultAction": "Deny"}
}

test_fail_firewall_deny_is_case_insensitive if {
	inp := vault_input(network("Enabled", "DENY"))
	r := sole(results) with input as inp
	r.status == "fail"
	contains(r.message, "; the firewall's defaultAction Deny limits it")
	r.evidence.networkAclsDefaultAction == "DENY"
}

test_fail_when_missing_reads_azure_default_enabled if {
	inp := vault_input(object.remove(network("x", "Allow"), ["publicNetworkAccess"]))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "public network access is not set (Azure's default, Enabled): the vault's endpoint answers from any network"
	r.evidence == {"publicNetworkAccess": null, "networkAclsDefaultAction": "Allow"}
}

test_fail_when_null_reads_azure_default_enabled if {
	inp := vault_input(network(null, "Deny"))
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "public network access is not set (Azure's default, Enabled); the firewall's defaultAction Deny limits it to the allowed addresses and networks"
	r.evidence.publicNetworkAccess == null
}

test_fail_without_network_acls if {
	inp := vault_input({"publicNetworkAccess": "Enabled"})
	r := sole(results) with input as inp
	r.status == "fail"
	r.message == "public network access is Enabled: the vault's endpoint answers from any network"
	r.evidence == {"publicNetworkAccess": "Enabled", "networkAclsDefaultAction": ""}
}

# A Network Security Perimeter setting is not Disabled.
test_fail_when_secured_by_perimeter if {
	inp := vault_input(network("SecuredByPerimeter", "Allow"))
	r := sole(results) with input as inp
	r.status == "fail"
	startswith(r.message, "public network access is SecuredByPerimeter:")
}

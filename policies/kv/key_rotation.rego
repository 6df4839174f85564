# kv/key-rotation: every enabled key rotates itself.
package kvaudit.kv.key_rotation

import data.kvaudit.lib

metadata := {
	"id": "kv/key-rotation",
	"title": "Every enabled key has a rotation policy that rotates it",
	"description": "Every enabled key has a rotation policy with a lifetime action of type Rotate (case-insensitive), read through the management plane (Keys_Get). A key whose Keys_Get answer carries no rotation policy has none and fails; a key whose Keys_Get failed or was not sent is not evaluable.",
	"severity": "low",
	"scope": "vault",
	"help": concat("\n", [
		"A key that rotates itself gets a new version on schedule, so a leaked version stops being current without anyone remembering to act.",
		"The check reads each enabled key through Azure Resource Manager ({vault}/keys/{name}), whose answer carries rotationPolicy when the key has one (the API omits it when empty); it fails a key without one or whose policy has no lifetime action of type Rotate, and is not evaluable for a key whose read failed.",
		"Remediation: az keyvault key rotation-policy update --vault-name <vault> --name <key> --value '{\"lifetimeActions\":[{\"trigger\":{\"timeAfterCreate\":\"P90D\"},\"action\":{\"type\":\"Rotate\"}}],\"attributes\":{\"expiryTime\":\"P1Y\"}}'",
	]),
	"markdown": concat("\n", [
		"With **automatic rotation** Key Vault creates a new key version on schedule; services that reference the",
		"key without a version pick it up, and a leaked version stops being current without anyone acting.",
		"",
		"kvaudit reads each enabled key through **Azure Resource Manager** (`GET {vault id}/keys/{name}`), whose",
		"answer carries `properties.rotationPolicy` when the key has one (the Microsoft.KeyVault API omits it when",
		"empty; the key *list* does not carry it reliably, so kvaudit reads each key). **Fails** for an enabled key",
		"whose answer has no rotation policy, and for one whose policy has no lifetime action of type `Rotate`",
		"(only `Notify`, for example); the message says how the key was read. **Not evaluable** for a key whose",
		"read failed (named with its error) or was not sent (an inventory collected without this rule).",
		"With `kvaudit scan --data-plane`, each key's policy is also read from the vault's own data plane",
		"(`GET {vaultUri}/keys/{name}/rotationpolicy`); where that answers, its policy is the one judged, and",
		"a refused or unreachable data plane (a firewall, a private endpoint, no data-plane role) changes nothing.",
		"Prowler checks only the first lifetime action and Steampipe also requires a `timeAfterCreate` trigger;",
		"kvaudit accepts `Rotate` with either trigger.",
		"",
		"### Remediation (az CLI)",
		"```sh",
		"az keyvault key rotation-policy update --vault-name <vault> --name <key> --value '{",
		"  \"lifetimeActions\": [ { \"trigger\": { \"timeAfterCreate\": \"P90D\" }, \"action\": { \"type\": \"Rotate\" } } ],",
		"  \"attributes\": { \"expiryTime\": \"P1Y\" } }'",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource key 'Microsoft.KeyVault/vaults/keys@2026-02-01' = {",
		"  parent: vault",
		"  name: keyName",
		"  properties: {",
		"    kty: 'RSA'",
		"    keySize: 3072",
		"    rotationPolicy: {",
		"      attributes: { expiryTime: 'P1Y' }",
		"      lifetimeActions: [ { trigger: { timeAfterCreate: 'P90D' }, action: { type: 'rotate' } } ]",
		"    }",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Configure cryptographic key auto-rotation in Azure Key Vault](https://learn.microsoft.com/azure/key-vault/keys/how-to-configure-key-rotation)",
		"- Azure Policy [d8cf8476-a2ec-4916-896e-992351803c44](https://portal.azure.com/#blade/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2Fd8cf8476-a2ec-4916-896e-992351803c44) \"Keys should have a rotation policy ensuring that their rotation is scheduled within the specified number of days after creation\"",
		"- CIS Microsoft Azure Foundations Benchmark: v2.0 8.8, v2.1 8.8, v3.0 3.3.8, v4.0 9.3.9, v5.0 8.3.9, v6.0 8.3.9",
	]),
	"references": [
		{"title": "Configure cryptographic key auto-rotation in Azure Key Vault", "url": "https://learn.microsoft.com/azure/key-vault/keys/how-to-configure-key-rotation"},
	],
	"compliance": {"cis-azure": {"2.0": "8.8", "2.1": "8.8", "3.0": "3.3.8", "4.0": "9.3.9", "5.0": "8.3.9", "6.0": "8.3.9"}},
	"azurePolicy": ["d8cf8476-a2ec-4916-896e-992351803c44"],
	"tags": ["lifecycle", "keys", "rotation"],
	"inputs": ["keys", "keyRotation"],
	"fix": {"az": "az keyvault key rotation-policy update --vault-name {vault} --name {item} --subscription {subscriptionId} --value '{\"lifetimeActions\":[{\"trigger\":{\"timeAfterCreate\":\"P90D\"},\"action\":{\"type\":\"Rotate\"}}],\"attributes\":{\"expiryTime\":\"P1Y\"}}'"},
}

listed := input.keys

keys := listed.value if listed.status == "ok"

# lib.item_enabled, inlined (see `facts`).
enabled := [k | some k in keys; object.get(k, ["properties", "attributes", "enabled"], true) != false]

rotates(p) if {
	some a in actions(p)
	lower(lib.str(object.get(a, ["action", "type"], ""))) == "rotate"
}

# Each enabled key with its policy, the state of its read and where it was
# read, computed once and with no function call per key: a vault may hold
# thousands of keys, and each call costs regorus' VM about as much as the
# rest of a key's work (benches/README.md, "The noisy vault").
# - With `scan --data-plane`, kvaudit also reads the policy from the vault's
#   own data plane (rotationPolicyDataPlane); an answer from there wins, and
#   a refused or unreachable data plane leaves the management plane's answer.
# - state: why a key has no rotation policy in the inventory. The scan's own
#   Keys_Get for it ("rotationPolicyRead", written by kvaudit) answered
#   without one ("ok"), failed ("error"), or was never sent ("not read": an
#   inventory collected without kv/key-rotation).
facts := [{"key": k, "policy": p, "state": state, "through": through} |
	some k in enabled
	raw := object.get(k, "rotationPolicyDataPlane", {})
	dp := {true: raw, false: {}}[is_object(raw)]
	from_dp := [object.get(dp, "status", ""), is_object(object.get(dp, "value", null))] == ["ok", true]
	p := {true: object.get(dp, "value", null), false: object.get(k, ["properties", "rotationPolicy"], null)}[from_dp]
	state := {true: "ok", false: object.get({"ok": "ok", "error": "error"}, object.get(k, ["rotationPolicyRead", "status"], ""), "not read")}[from_dp]
	through := {true: "the vault's data plane", false: "Keys_Get (management plane)"}[from_dp]
]

# A key whose Keys_Get answered without a policy has none (the API omits an
# empty policy); one whose read failed or was never sent is unknown.
without_policy := [f.key.name | some f in facts; not is_object(f.policy); f.state == "ok"]

unknown := [f.key.name | some f in facts; not is_object(f.policy); f.state != "ok"]

# Keys whose policy has no Rotate action, judged once each.
not_rotating_facts := [f | some f in facts; is_object(f.policy); not rotates(f.policy)]

not_rotating := [f.key.name | some f in not_rotating_facts]

results contains r if {
	reason := lib.not_listed_reason(listed, "keys")
	r := {"status": "not_evaluable", "message": reason}
}

results contains r if {
	listed.status == "ok"
	count(unknown) == 0
	count(not_rotating) == 0
	count(without_policy) == 0
	r := {
		"status": "pass",
		"message": passed,
		"evidence": {"enabled": count(enabled)},
	}
}

passed := "the vault has no enabled keys" if count(enabled) == 0

else := sprintf("all %v enabled keys rotate automatically", [count(enabled)])

results contains r if {
	some f in not_rotating_facts
	name := f.key.name
	r := {
		"status": "fail",
		"discriminator": name,
		"message": sprintf("key '%v' has a rotation policy without a Rotate action (%v), so it is never rotated automatically", [name, actions_text(f.policy)]),
		"evidence": {"name": name, "rotationPolicy": f.policy, "readThrough": f.through},
	}
}

results contains r if {
	some name in without_policy
	r := {
		"status": "fail",
		"discriminator": name,
		"message": sprintf("key '%v' has no rotation policy (its Keys_Get answer through Azure Resource Manager carries none), so it is never rotated automatically", [name]),
		"evidence": {"name": name, "rotationPolicy": null, "readThrough": "Keys_Get (management plane)"},
	}
}

actions(p) := lib.list(object.get(p, "lifetimeActions", []))

actions_text(p) := "no lifetime actions" if count(actions(p)) == 0

else := sprintf("actions: %v", [concat(", ", [lib.str(object.get(a, ["action", "type"], "?")) | some a in actions(p)])])

unknown_by(state) := [f.key.name | some f in facts; not is_object(f.policy); f.state == state]

results contains r if {
	count(unknown) > 0
	clauses := [c |
		some state in ["error", "not read"]
		names := unknown_by(state)
		count(names) > 0
		c := unknown_clause(state, names)
	]
	r := {
		"status": "not_evaluable",
		"message": sprintf("%v: kvaudit does not guess; check with az keyvault key rotation-policy show", [concat("; ", clauses)]),
		"evidence": {"unknown": unknown, "errors": {f.key.name: f.key.rotationPolicyRead.error | some f in facts; f.state == "error"; not is_object(f.policy)}},
	}
}

unknown_clause("error", names) := sprintf("the rotation policy of %v %v could not be read (%v)", [count(names), key_word(count(names)), concat(", ", [sprintf("%v: %v", [f.key.name, lib.error_text(f.key.rotationPolicyRead)]) | some f in facts; not is_object(f.policy); f.state == "error"])])

unknown_clause("not read", names) := sprintf("the rotation policy of %v %v was not read (%v; the inventory was collected without kv/key-rotation)", [count(names), key_word(count(names)), concat(", ", names)])

key_word(1) := "key"

key_word(n) := "keys" if n != 1

# kv/forbidden-requests: authenticated callers refused by the vault.
package kvaudit.kv.forbidden_requests

import data.kvaudit.lib

metadata := {
	"id": "kv/forbidden-requests",
	"title": "No 403 responses to unknown callers",
	"description": "No identity or caller IP outside the allow-list was refused (HTTP 403) by the vault in the window.",
	"severity": "medium",
	"scope": "vault",
	"help": concat("\n", [
		"A 403 is an authenticated caller without permission, or an address the firewall refused: a misconfigured workload or permission probing.",
		"The check fails for each identity and caller IP with a 403 in the window (policy data windowHours, default 24), unless allow-listed (policy data allowList: ips, objectIds, appIds).",
		"It is not evaluable when the vault's AuditEvent logs reach no Log Analytics workspace or the workspace could not be queried.",
		"Remediation: grant the workload the least role it needs (az role assignment create --role \"Key Vault Secrets User\" ...) or stop the caller.",
	]),
	"markdown": concat("\n", [
		"A **403** from Key Vault means the caller was authenticated but not allowed: its identity lacks the RBAC",
		"role or access-policy permission (`IsRbacAuthorized`/`IsAccessPolicyMatch` false), or the firewall refused",
		"its address. Either it is a misconfigured workload or someone is probing what a stolen identity can reach.",
		"",
		"**Fails** for each identity and caller IP with a 403 on the vault in the window (default 24 hours, policy",
		"data `windowHours`), unless the caller is on the allow-list (policy data `allowList`: `ips` as addresses or",
		"CIDRs, `objectIds`, `appIds`).",
		"",
		"**Not evaluable** when the vault's AuditEvent logs reach no Log Analytics workspace or the workspace could",
		"not be queried.",
		"",
		"### Investigate",
		"```kusto",
		"AZKVAuditLogs",
		"| where TimeGenerated > ago(1d) and HttpStatusCode == 403",
		"| project TimeGenerated, OperationName, CallerIpAddress, Identity, ResultDescription, IsRbacAuthorized, IsAddressAuthorized",
		"```",
		"",
		"### Remediation (az CLI)",
		"Grant the workload the least role it needs, or remove the identity's attempts at the source:",
		"```sh",
		"az role assignment create --assignee <object id> --role \"Key Vault Secrets User\" --scope <vault id>",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {",
		"  name: guid(vault.id, principalId, '4633458b-17de-408a-b874-0445c86b69e6')",
		"  scope: vault",
		"  properties: {",
		"    principalId: principalId",
		"    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Azure RBAC for Key Vault](https://learn.microsoft.com/azure/key-vault/general/rbac-guide)",
		"- [Key Vault REST API error codes](https://learn.microsoft.com/azure/key-vault/general/rest-error-codes)",
	]),
	"references": [
		{"title": "Azure RBAC for Key Vault", "url": "https://learn.microsoft.com/azure/key-vault/general/rbac-guide"},
		{"title": "Key Vault REST API error codes", "url": "https://learn.microsoft.com/azure/key-vault/general/rest-error-codes"},
	],
	"compliance": {},
	"azurePolicy": [],
	"tags": ["audit-logs", "anomaly", "authorization"],
	"inputs": ["diagnosticSettings", "auditLogs"],
}

unevaluable := data.kvaudit.evidence.logs_unevaluable_reason

results contains r if {
	r := {"status": "not_evaluable", "message": unevaluable}
}

window := data.kvaudit.evidence.window_ns

# The 403 groups of the window with at least one refusal. Per group, the
# rule does as little as it can: a public vault can have thousands of
# distinct callers, and each function call costs regorus' VM about as much
# as the rest of the group's work (benches/README.md, "The noisy vault").
in_window := [g |
	not unevaluable
	some g in object.get(input.auditLogs, "forbidden", [])
	g.count > 0
	t := time.parse_rfc3339_ns(g.lastSeen)
	t > window[0]
	t <= window[1]
]

# Those no allow-list entry explains (an empty allow-list explains none).
refused := in_window if data.kvaudit.evidence.allow_list_empty

else := [g | some g in in_window; not lib.allowed(g)]

# Each refused group's caller, computed once: [key, identity, IP]. An empty
# caller IP reads "unknown IP".
callers := [[sprintf("%v|%v", [who, ip]), who, ip] |
	some g in refused
	who := lib.identity_label(object.get(g, "identity", {}))
	raw := object.get(g, "callerIp", "")
	ip := object.get({"": "unknown IP"}, trim_space(raw), raw)
]

# The refused groups' positions by caller, grouped once.
by_key := lib.group_by_key(numbers.range(0, count(refused) - 1), [c[0] | some c in callers]) if count(refused) > 0

else := []

results contains r if {
	some entry in by_key
	caller := callers[entry[1][0]]
	groups := [refused[i] | some i in entry[1]]
	g0 := groups[0]
	s := summary(groups)
	r := {
		"status": "fail",
		"discriminator": entry[0],
		"message": sprintf("%v refused %v time(s) from %v between %v and %v (operations: %v)%v", [
			caller[1], s.total, caller[2], s.first, s.last,
			concat(", ", s.ops), description(g0),
		]),
		"evidence": {"identity": object.get(g0, "identity", {}), "callerIp": caller[2], "count": s.total, "groups": groups},
	}
}

# summary(groups): one caller's refusals, summed (most callers have one group).
summary(groups) := {
	"total": g.count,
	"first": g.firstSeen,
	"last": g.lastSeen,
	"ops": sort({op | some op in object.get(g, "operations", [])}),
} if {
	count(groups) == 1
	g := groups[0]
} else := {
	"total": sum([g.count | some g in groups]),
	"first": min({g.firstSeen | some g in groups}),
	"last": max({g.lastSeen | some g in groups}),
	"ops": sort({op | some g in groups; some op in object.get(g, "operations", [])}),
}

description(g) := sprintf(": %v", [g.resultDescription]) if lib.non_empty(object.get(g, "resultDescription", ""))

else := ""

results contains r if {
	not unevaluable
	input.auditLogs.status == "ok"
	count(refused) == 0
	all := object.get(input.auditLogs, "forbidden", [])
	r := {
		"status": "pass",
		"message": sprintf("no 403 to an unknown caller in the last %vh (%v 403s from allow-listed callers)", [data.config.windowHours, sum([g.count | some g in all; lib.allowed(g)])]),
	}
}

results contains r if {
	not unevaluable
	input.auditLogs.status == "partial"
	count(refused) == 0
	r := {"status": "not_evaluable", "message": "the Log Analytics query returned a partial result, so a clean verdict cannot be given"}
}

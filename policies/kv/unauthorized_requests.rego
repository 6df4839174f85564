# kv/unauthorized-requests: 401s that are not the SDK's authentication challenge.
package kvaudit.kv.unauthorized_requests

import data.kvaudit.lib

metadata := {
	"id": "kv/unauthorized-requests",
	"title": "No unexplained 401 responses from the vault",
	"description": "Every 401 the vault returned in the window was an authentication challenge (followed within the challenge window by a 2xx from the same caller IP and client) or came from an allow-listed caller.",
	"severity": "medium",
	"scope": "vault",
	"help": concat("\n", [
		"A 401 that no success from the same IP and client follows is a caller with a bad token, or someone probing the vault.",
		"The check fails for each caller IP with such a 401 in the window (policy data windowHours, default 24), unless the caller is allow-listed (policy data allowList: ips, objectIds, appIds).",
		"It is not evaluable when the vault's AuditEvent logs reach no Log Analytics workspace or the workspace could not be queried.",
		"Remediation: find the caller in AZKVAuditLogs/AzureDiagnostics, then restrict network access (az keyvault update --default-action Deny) or fix the client's credentials.",
	]),
	"markdown": concat("\n", [
		"A **401** from Key Vault means a request came without a valid token. Most are harmless: every Azure SDK",
		"client first sends its request without a token, receives a 401 *authentication challenge*, and retries",
		"with one a fraction of a second later. A 401 that no success follows is something else: a caller with an",
		"expired, wrong-tenant or wrong-audience token, or someone probing the vault's endpoint.",
		"",
		"**Fails** for each caller IP with a 401 in the window (default 24 hours, policy data `windowHours`) that is",
		"not explained. A 401 is explained when a 2xx from the same caller IP and client (user agent) reached the",
		"same vault within `challengeSeconds` (default 60) after it, or when the caller is on the allow-list",
		"(policy data `allowList`: `ips` as addresses or CIDRs, `objectIds`, `appIds`).",
		"",
		"**Not evaluable** when the vault's AuditEvent logs reach no Log Analytics workspace or the workspace could",
		"not be queried: kvaudit never passes a vault whose logs it did not read.",
		"",
		"### Investigate",
		"```kusto",
		"AZKVAuditLogs",
		"| where TimeGenerated > ago(1d) and HttpStatusCode == 401 and CallerIpAddress == \"<ip>\"",
		"| project TimeGenerated, OperationName, ClientInfo, RequestUri, ResultDescription",
		"```",
		"",
		"### Remediation (az CLI)",
		"Restrict who can reach the vault, then fix or block the caller:",
		"```sh",
		"az keyvault update --name <vault> --default-action Deny --bypass AzureServices",
		"az keyvault network-rule add --name <vault> --ip-address <trusted range>",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource vault 'Microsoft.KeyVault/vaults@2026-02-01' = {",
		"  name: vaultName",
		"  location: location",
		"  properties: {",
		"    tenantId: tenant().tenantId",
		"    sku: { family: 'A', name: 'standard' }",
		"    publicNetworkAccess: 'Disabled'",
		"    networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' }",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Key Vault authentication flow (the 401 challenge)](https://learn.microsoft.com/azure/key-vault/general/authentication#key-vault-authentication-flow)",
		"- [Monitor Azure Key Vault: failures query](https://learn.microsoft.com/azure/key-vault/general/monitor-key-vault)",
	]),
	"references": [
		{"title": "Key Vault authentication flow", "url": "https://learn.microsoft.com/azure/key-vault/general/authentication"},
		{"title": "Monitor Azure Key Vault", "url": "https://learn.microsoft.com/azure/key-vault/general/monitor-key-vault"},
	],
	"compliance": {},
	"azurePolicy": [],
	"tags": ["audit-logs", "anomaly", "authentication"],
	"inputs": ["diagnosticSettings", "auditLogs"],
}

unevaluable := data.kvaudit.evidence.logs_unevaluable_reason

results contains r if {
	r := {"status": "not_evaluable", "message": unevaluable}
}

window := data.kvaudit.evidence.window_ns

# Groups (caller IP, client, identity) with unexplained 401s in the window.
# Per group, the rule does as little as it can: a public vault can have
# thousands of distinct callers, and each function call costs regorus' VM
# about as much as the rest of the group's work (benches/README.md, "The
# noisy vault").
in_window := [g |
	not unevaluable
	some g in object.get(input.auditLogs, "unauthorized", [])
	g.unexplained > 0
	t := time.parse_rfc3339_ns(object.get(g, "lastUnexplained", g.lastSeen))
	t > window[0]
	t <= window[1]
]

# Those no allow-list entry explains (an empty allow-list explains none).
suspicious := in_window if data.kvaudit.evidence.allow_list_empty

else := [g | some g in in_window; not lib.allowed(g)]

# The suspicious groups by caller IP ("unknown IP" when empty), grouped once.
by_ip := lib.group_by_key(suspicious, [ip |
	some g in suspicious
	raw := object.get(g, "callerIp", "")
	ip := object.get({"": "unknown IP"}, trim_space(raw), raw)
])

offending_ips := {entry[0] | some entry in by_ip}

results contains r if {
	some entry in by_ip
	ip := entry[0]
	groups := entry[1]
	s := summary(groups)
	r := {
		"status": "fail",
		"discriminator": ip,
		"message": sprintf("%v unexplained 401 response(s) to %v (client %v) between %v and %v: no 2xx from the same IP and client followed within %vs", [s.total, ip, concat(", ", [quote(c) | some c in s.clients]), s.first, s.last, object.get(input.auditLogs, "challengeWindowSeconds", data.config.challengeSeconds)]),
		"evidence": {"callerIp": ip, "unexplained": s.total, "groups": groups},
	}
}

# summary(groups): one IP's unexplained 401s, summed (most IPs have one group).
summary(groups) := {
	"total": g.unexplained,
	"clients": [object.get(g, "client", "")],
	"first": g.firstSeen,
	"last": object.get(g, "lastUnexplained", g.lastSeen),
} if {
	count(groups) == 1
	g := groups[0]
} else := {
	"total": sum([g.unexplained | some g in groups]),
	"clients": sort({object.get(g, "client", "") | some g in groups}),
	"first": min({g.firstSeen | some g in groups}),
	"last": max({object.get(g, "lastUnexplained", g.lastSeen) | some g in groups}),
}

quote(c) := sprintf("'%v'", [c]) if c != ""

else := "unknown"

totals := {
	"unauthorized": sum([g.count | some g in object.get(input.auditLogs, "unauthorized", [])]),
	"challenges": sum([g.challenges | some g in object.get(input.auditLogs, "unauthorized", [])]),
	"allowListed": sum([g.unexplained | some g in object.get(input.auditLogs, "unauthorized", []); g.unexplained > 0; lib.allowed(g)]),
}

results contains r if {
	not unevaluable
	input.auditLogs.status == "ok"
	count(offending_ips) == 0
	r := {
		"status": "pass",
		"message": sprintf("no unexplained 401 in the last %vh (%v 401s, %v authentication challenges, %v from allow-listed callers)", [data.config.windowHours, totals.unauthorized, totals.challenges, totals.allowListed]),
		"evidence": totals,
	}
}

results contains r if {
	not unevaluable
	input.auditLogs.status == "partial"
	count(offending_ips) == 0
	r := {"status": "not_evaluable", "message": "the Log Analytics query returned a partial result, so a clean verdict cannot be given"}
}

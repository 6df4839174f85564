# kv/audit-logging: the vault's AuditEvent logs are exported somewhere.
package kvaudit.kv.audit_logging

import data.kvaudit.lib

metadata := {
	"id": "kv/audit-logging",
	"title": "Key Vault audit logging is enabled",
	"description": "Some diagnostic setting of the vault sends the AuditEvent category (directly, or through the audit or allLogs category group) to a destination: a Log Analytics workspace, a storage account, an event hub or a partner solution.",
	"severity": "high",
	"scope": "vault",
	"help": concat("\n", [
		"Without AuditEvent logs nobody can tell who read, changed or deleted a key, secret or certificate, or who tried and was refused.",
		"The check passes when a diagnostic setting has a non-empty destination (workspaceId, storageAccountId, eventHubAuthorizationRuleId or marketplacePartnerId) and an enabled log entry whose category is AuditEvent or whose categoryGroup is audit or allLogs (case-insensitive).",
		"Remediation: az monitor diagnostic-settings create --name kv-audit --resource <vault id> --workspace <workspace id> --logs '[{\"categoryGroup\":\"audit\",\"enabled\":true}]'",
	]),
	"markdown": concat("\n", [
		"Without **AuditEvent** logs nobody can tell who read, changed or deleted a key, secret or certificate,",
		"or who tried and was refused. kvaudit's anomaly rules (`kv/unauthorized-requests`, `kv/forbidden-requests`)",
		"also need these logs in a Log Analytics workspace.",
		"",
		"**Passes when** a diagnostic setting of the vault has a non-empty destination (`workspaceId`,",
		"`storageAccountId`, `eventHubAuthorizationRuleId` or `marketplacePartnerId`) **and** an enabled log entry",
		"whose `category` is `AuditEvent` or whose `categoryGroup` is `audit` or `allLogs` (case-insensitive).",
		"A disabled entry, an empty-string destination or only `AzurePolicyEvaluationDetails` does not count.",
		"",
		"**Strict mode** follows the CIS v3.0+ audit procedure: one setting with a destination must enable **both**",
		"category groups `audit` and `allLogs`; `category: AuditEvent` alone, or one group alone, fails. Set it",
		"in the policy data (`{\"config\": {\"auditLoggingMode\": \"strict\"}}`); the default `auto` is lenient",
		"except under `--benchmark cis-azure-3.0` and later, `lenient` never is strict.",
		"",
		"### Remediation (az CLI)",
		"```sh",
		"az monitor diagnostic-settings create --name kv-audit \\",
		"  --resource \"<vault resource id>\" \\",
		"  --workspace \"<log analytics workspace resource id>\" \\",
		"  --export-to-resource-specific true \\",
		"  --logs '[{\"categoryGroup\":\"audit\",\"enabled\":true},{\"categoryGroup\":\"allLogs\",\"enabled\":true}]'",
		"```",
		"",
		"### Remediation (Bicep)",
		"```bicep",
		"resource kvAudit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {",
		"  name: 'kv-audit'",
		"  scope: keyVault",
		"  properties: {",
		"    workspaceId: workspace.id",
		"    logAnalyticsDestinationType: 'Dedicated'",
		"    logs: [",
		"      { categoryGroup: 'audit', enabled: true }",
		"      { categoryGroup: 'allLogs', enabled: true }",
		"    ]",
		"  }",
		"}",
		"```",
		"",
		"### References",
		"- [Azure Key Vault logging](https://learn.microsoft.com/azure/key-vault/general/logging)",
		"- Azure Policy [cf820ca0-f99e-4f3e-84fb-66e913812d21](https://portal.azure.com/#blade/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2Fcf820ca0-f99e-4f3e-84fb-66e913812d21) \"Resource logs in Key Vault should be enabled\"",
		"- CIS Microsoft Azure Foundations Benchmark: v2.0 5.1.5, v2.1 5.1.4, v3.0 6.1.4, v4.0 7.1.1.4, v5.0 6.1.1.4, v6.0 6.1.1.4",
	]),
	"references": [
		{"title": "Azure Key Vault logging", "url": "https://learn.microsoft.com/azure/key-vault/general/logging"},
		{"title": "Diagnostic settings in Azure Monitor", "url": "https://learn.microsoft.com/azure/azure-monitor/essentials/diagnostic-settings"},
	],
	"compliance": {"cis-azure": {"2.0": "5.1.5", "2.1": "5.1.4", "3.0": "6.1.4", "4.0": "7.1.1.4", "5.0": "6.1.1.4", "6.0": "6.1.1.4"}},
	"azurePolicy": ["cf820ca0-f99e-4f3e-84fb-66e913812d21"],
	"tags": ["logging", "audit"],
	"inputs": ["diagnosticSettings"],
	"fix": {
		"az": "az monitor diagnostic-settings create --name kv-audit --resource {vaultId} --workspace {workspaceId} --export-to-resource-specific true --logs '[{\"categoryGroup\":\"audit\",\"enabled\":true},{\"categoryGroup\":\"allLogs\",\"enabled\":true}]'",
		"bicep": {"scope": "resourceGroup", "resourceGroup": "resourceGroup", "template": `resource kv 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: {vault}
}

resource audit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'kv-audit'
  scope: kv
  properties: {
    workspaceId: {workspaceId}
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}`},
	},
}

# Strict mode (CIS v3.0+): both category groups in one setting with a destination.
strict_benchmarks := {"cis-azure-3.0", "cis-azure-4.0", "cis-azure-5.0", "cis-azure-6.0"}

configured_mode := lower(object.get(data.config, "auditLoggingMode", "auto"))

strict if configured_mode == "strict"

strict if {
	configured_mode == "auto"
	object.get(data.config, "benchmark", "") in strict_benchmarks
}

group_enabled(s, group) if {
	some log in object.get(s, ["properties", "logs"], [])
	log.enabled == true
	lower(lib.str(object.get(log, "categoryGroup", ""))) == group
}

# A function, not a rule: regorus evaluates every rule of a package for each
# vault, and this is only needed in strict mode.
strict_matches(settings) := [m |
	some s in settings
	count(lib.destinations(s)) > 0
	group_enabled(s, "audit")
	group_enabled(s, "alllogs")
	m := {"setting": s.name, "destinations": sort([d | some d in lib.destinations(s)])}
]

strict_shortfalls(s) := [x |
	some x in [
		destination_shortfall(s),
		group_shortfall(s, "audit"),
		group_shortfall(s, "alllogs"),
	]
	x != ""
]

group_shortfall(s, group) := "" if group_enabled(s, group)

else := sprintf("does not enable categoryGroup %v", [{"audit": "audit", "alllogs": "allLogs"}[group]])

settings := input.diagnosticSettings.value if input.diagnosticSettings.status == "ok"

# The results depend only on this (and data.config), so kvaudit evaluates the
# rule once per distinct key ("memo_key" in docs/policies.md): each setting
# but its id, which names the vault and is never shown. The rule reads a
# setting's name, log entries and destinations; the key keeps the rest too,
# which can only split keys, never merge two that judge differently. Vaults
# whose settings were deployed alike, by Azure Policy or a shared template,
# share one evaluation. Dropping the id is one builtin call per setting; a
# projection of the read fields made the whole rule cost 5 times as much in
# regorus' VM (330 M against 66 M instructions for 1,000 vaults at Azure's
# limits, benches/README.md "The noisy vault"). An unread answer is its own
# key (its message is shown).
memo_key := {"settings": [object.remove(s, ["id"]) | some s in settings]} if {
	input.diagnosticSettings.status == "ok"
} else := {"unread": input.diagnosticSettings}

results contains r if {
	input.diagnosticSettings.status != "ok"
	r := {
		"status": "not_evaluable",
		"message": sprintf("diagnostic settings %v", [lib.unread_text(input.diagnosticSettings)]),
	}
}

# matches lists every (setting, entry) pair that satisfies the rule.
matches := [m |
	some s in settings
	count(lib.destinations(s)) > 0
	some e in lib.audit_entries(s)
	m := {"setting": s.name, "entry": lib.entry_label(e), "destinations": sort([d | some d in lib.destinations(s)])}
]

results contains r if {
	not strict
	count(matches) > 0
	m := matches[0]
	r := {
		"status": "pass",
		"message": sprintf("diagnostic setting '%v' exports AuditEvent (%v) to %v", [m.setting, m.entry, concat(", ", m.destinations)]),
		"evidence": {"matched": matches},
	}
}

results contains r if {
	count(settings) == 0
	r := {
		"status": "fail",
		"message": "the vault has no diagnostic setting, so its AuditEvent logs go nowhere",
		"evidence": {"settings": []},
	}
}

results contains r if {
	strict
	found := strict_matches(settings)
	count(found) > 0
	m := found[0]
	r := {
		"status": "pass",
		"message": sprintf("diagnostic setting '%v' exports the audit and allLogs category groups to %v (strict mode)", [m.setting, concat(", ", m.destinations)]),
		"evidence": {"mode": "strict", "matched": found},
	}
}

results contains r if {
	strict
	count(settings) > 0
	count(strict_matches(settings)) == 0
	reasons := [sprintf("'%v' %v", [s.name, concat(" and ", strict_shortfalls(s))]) | some s in settings]
	r := {
		"status": "fail",
		"message": sprintf("strict mode (CIS v3.0+): no diagnostic setting sends both the audit and allLogs category groups to a destination%v: %v", [lenient_note(matches), concat("; ", reasons)]),
		"evidence": {"mode": "strict", "settings": [{"setting": s.name, "shortfalls": strict_shortfalls(s)} | some s in settings]},
	}
}

lenient_note(matches) := "; AuditEvent itself is exported, so lenient mode would pass" if count(matches) > 0

else := ""

results contains r if {
	not strict
	count(settings) > 0
	count(matches) == 0
	reasons := [sprintf("'%v' %v", [s.name, concat(" and ", shortfalls(s))]) | some s in settings]
	r := {
		"status": "fail",
		"message": sprintf("no diagnostic setting exports AuditEvent to a destination: %v", [concat("; ", reasons)]),
		"evidence": {"settings": [{"setting": s.name, "shortfalls": shortfalls(s)} | some s in settings]},
	}
}

# shortfalls(s) says why one setting does not count.
shortfalls(s) := [x | some x in [destination_shortfall(s), entry_shortfall(s)]; x != ""]

destination_shortfall(s) := "has no destination (workspaceId, storageAccountId, eventHubAuthorizationRuleId and marketplacePartnerId are empty)" if {
	count(lib.destinations(s)) == 0
} else := ""

entry_shortfall(s) := "has no log entries" if {
	count(object.get(s, ["properties", "logs"], [])) == 0
} else := "" if {
	count(lib.audit_entries(s)) > 0
} else := sprintf("exports no AuditEvent (%v)", [concat(", ", [describe(log) | some log in s.properties.logs])])

describe(log) := sprintf("%v is disabled", [lib.entry_label(log)]) if {
	log.enabled != true
} else := sprintf("%v does not contain AuditEvent", [lib.entry_label(log)])

# kv/defender: Microsoft Defender for Key Vault watches the subscription's vaults.
package kvaudit.kv.defender

import data.kvaudit.lib

metadata := {
	"id": "kv/defender",
	"title": "Microsoft Defender for Key Vault is on",
	"description": "The subscription's Defender for Cloud plan KeyVaults (Microsoft.Security/pricings/KeyVaults) has pricingTier Standard (case-insensitive). Judged once per subscription that holds vaults.",
	"severity": "medium",
	"scope": "subscription",
	"help": concat("\n", [
		"Defender for Key Vault raises alerts on unusual access: access from Tor exit nodes or suspicious IPs, unusual volumes of secret reads, a user or app doing something it never did before.",
		"The check reads GET /subscriptions/{id}/providers/Microsoft.Security/pricings/KeyVaults and passes when properties.pricingTier is Standard (any case). It is not evaluable when the pricing cannot be read.",
		"Remediation: az security pricing create --name KeyVaults --tier Standard --subscription <id>",
	]),
	"markdown": concat("\n", [
		"**Microsoft Defender for Key Vault** detects unusual access to vaults (from Tor or known-malicious IPs,",
		"unusual secret-read volumes, a principal accessing a vault for the first time) and raises Defender for Cloud",
		"alerts. It is enabled per subscription, so kvaudit reports it once per subscription that holds vaults.",
		"",
		"**Passes when** the subscription's `KeyVaults` plan has `pricingTier` `Standard` (case-insensitive; the",
		"sub-plan does not matter). **Fails** on `Free`. **Not evaluable** when the pricing cannot be read (for example",
		"403 without `Microsoft.Security/pricings/read`, which Security Reader grants). Prowler and Steampipe report",
		"nothing for a subscription whose answer has no `KeyVaults` plan; kvaudit reads that plan by name.",
		"",
		"### Remediation (az CLI)",
		"```sh",
		"az security pricing create --name KeyVaults --tier Standard --subscription <subscription id>",
		"```",
		"",
		"### Remediation (Bicep, subscription scope)",
		"```bicep",
		"targetScope = 'subscription'",
		"resource defenderKv 'Microsoft.Security/pricings@2024-01-01' = {",
		"  name: 'KeyVaults'",
		"  properties: { pricingTier: 'Standard', subPlan: 'PerTransaction' }",
		"}",
		"```",
		"",
		"### References",
		"- [Overview of Microsoft Defender for Key Vault](https://learn.microsoft.com/azure/defender-for-cloud/defender-for-key-vault-introduction)",
		"- [Microsoft.Security pricings (ARM template reference)](https://learn.microsoft.com/azure/templates/microsoft.security/pricings)",
		"- Azure Policy [0e6763cc-5078-4e64-889d-ff4d9a839047](https://portal.azure.com/#blade/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2F0e6763cc-5078-4e64-889d-ff4d9a839047) \"Azure Defender for Key Vault should be enabled\"",
		"- CIS Microsoft Azure Foundations Benchmark: v2.0 2.1.10, v2.1 2.1.9, v3.0 3.1.8.1, v4.0 9.1.8.1, v5.0 8.1.8.1, v6.0 8.1.8.1",
	]),
	"references": [
		{"title": "Overview of Microsoft Defender for Key Vault", "url": "https://learn.microsoft.com/azure/defender-for-cloud/defender-for-key-vault-introduction"},
		{"title": "Microsoft.Security pricings (ARM template reference)", "url": "https://learn.microsoft.com/azure/templates/microsoft.security/pricings"},
	],
	"compliance": {"cis-azure": {"2.0": "2.1.10", "2.1": "2.1.9", "3.0": "3.1.8.1", "4.0": "9.1.8.1", "5.0": "8.1.8.1", "6.0": "8.1.8.1"}},
	"azurePolicy": ["0e6763cc-5078-4e64-889d-ff4d9a839047"],
	"tags": ["threat-detection", "defender"],
	"inputs": ["pricings"],
	"fix": {
		"az": "az security pricing create --name KeyVaults --tier Standard --subscription {subscriptionId}",
		"bicep": {"scope": "subscription", "template": `resource keyVaults 'Microsoft.Security/pricings@2024-01-01' = {
  name: 'KeyVaults'
  properties: {
    pricingTier: 'Standard'
  }
}`},
	},
}

pricings := input.subscription.pricings

plan := [p | some p in pricings.value; lower(lib.str(p.name)) == "keyvaults"] if pricings.status == "ok"

vault_count := count(object.get(input, "vaults", []))

results contains r if {
	pricings.status == "error"
	r := {
		"status": "not_evaluable",
		"message": sprintf("the Defender for Cloud pricing of subscription %v could not be read (%v)", [input.subscription.subscriptionId, lib.error_text(pricings)]),
	}
}

results contains r if {
	not pricings.status in {"ok", "error"}
	r := {
		"status": "not_evaluable",
		"message": sprintf("the Defender for Cloud pricing of subscription %v was not collected (%v)", [input.subscription.subscriptionId, object.get(pricings, "reason", "not in the inventory")]),
	}
}

results contains r if {
	count(plan) == 0
	r := {
		"status": "fail",
		"message": sprintf("subscription %v has no KeyVaults Defender plan in its pricings, so Defender for Key Vault is off for its %v %v", [input.subscription.subscriptionId, vault_count, vault_word]),
		"evidence": {"pricings": [p.name | some p in pricings.value]},
	}
}

tier := lib.str(plan[0].properties.pricingTier)

results contains r if {
	lower(tier) == "standard"
	r := {
		"status": "pass",
		"message": sprintf("Defender for Key Vault is on (pricingTier %v%v) for the subscription's %v %v", [tier, sub_plan, vault_count, vault_word]),
		"evidence": {"pricingTier": tier, "subPlan": object.get(plan[0].properties, "subPlan", null)},
	}
}

results contains r if {
	count(plan) > 0
	lower(tier) != "standard"
	r := {
		"status": "fail",
		"message": sprintf("Defender for Key Vault is off (pricingTier %v) for the subscription's %v %v", [tier_shown, vault_count, vault_word]),
		"evidence": {"pricingTier": tier},
	}
}

tier_shown := tier if lib.non_empty(tier)

else := "not set"

sub_plan := sprintf(", plan %v", [plan[0].properties.subPlan]) if lib.non_empty(object.get(plan[0].properties, "subPlan", ""))

else := ""

vault_word := "vault" if vault_count == 1

else := "vaults"

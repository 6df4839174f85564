//! `kvaudit scan` on a tenant at the sizes Azure documents, served by the
//! in-repo fake Azure: per subscription 100 active activity-log alerts (most
//! scoped to single vaults) plus 40 disabled, 300 log search alerts, a vault
//! with 1,000 keys and 5,000 secrets (paged by 25), 5 diagnostic settings per
//! vault; and a subscription whose vault list is refused. The scan must
//! finish, name the refused subscription, and give for every vault exactly
//! the verdicts that evaluating the tenant's own inventory gives.
mod common;
#[path = "support/fake_azure.rs"]
mod fake_azure;
#[allow(dead_code)]
#[path = "../benches/gen_inventory.rs"]
mod gen_inventory;
#[path = "support/tenant.rs"]
mod tenant;

use std::collections::{BTreeMap, HashMap};

use fake_azure::{FakeAzure, Faults, Tenant};
use kvaudit::inventory::Inventory;
use kvaudit::policy::data::PolicyData;
use kvaudit::policy::{PolicySet, builtin};
use serde_json::Value;
use tenant::{Setup, kvaudit};

/// Rules whose verdicts depend only on what ARM and the metrics API answer
/// (the fake's workspaces hold no audit rows, unlike the generated
/// inventory's evidence).
const ARM_RULES: &[&str] = &[
    "kv/admin-alert",
    "kv/access-policy-alert",
    "kv/log-tamper-alert",
    "kv/purge-alert",
    "kv/audit-logging",
    "kv/key-expiry",
    "kv/secret-expiry",
    "kv/key-rotation",
    "kv/purge-protection",
    "kv/firewall-default-deny",
    "kv/defender",
];

#[test]
fn a_tenant_at_azure_limits_scans_to_the_same_verdicts_as_its_inventory() {
    let doc = gen_inventory::generate(90, 3, true);
    let subs: Vec<String> = doc["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["subscription"]["subscriptionId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let alerts = doc["subscriptions"][0]["activityLogAlerts"]["value"]
        .as_array()
        .unwrap();
    let active = alerts
        .iter()
        .filter(|a| a["properties"]["enabled"] == true)
        .count();
    assert_eq!(
        (active, alerts.len()),
        (100, 141),
        "the tenant is at the limit"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let refused = &subs[2];
    let faults = Faults {
        empty_workspaces: true,
        page_size: 100,
        forbidden: vec![format!(
            "/subscriptions/{refused}/providers/microsoft.keyvault/vaults"
        )],
        ..Faults::default()
    };
    let setup = Setup {
        fake: FakeAzure::start(Tenant::load(&file, HashMap::new()), faults),
        dir,
    };
    let saved = setup.dir.path().join("scanned.json");
    let out = kvaudit(
        &setup,
        "scan",
        &[
            "--format",
            "json",
            "--save-inventory",
            saved.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "vaults of subscription {refused} could not be listed"
        )),
        "{}",
        out.stderr
    );
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();

    // The refused subscription: every rule not evaluable for it, by name.
    let on_refused: Vec<&Value> = findings
        .iter()
        .filter(|f| f["resource"]["id"] == format!("/subscriptions/{refused}"))
        .collect();
    assert_eq!(on_refused.len(), 18, "{on_refused:#?}");
    assert!(on_refused.iter().all(|f| {
        f["status"] == "not_evaluable"
            && f["message"]
                .as_str()
                .unwrap()
                .contains("could not be listed (InsufficientAccessError")
    }));

    // The heavy vault's keys and secrets were read through every page.
    let scanned = Inventory::load(&saved).unwrap();
    let heavy = scanned
        .vaults
        .iter()
        .find(|v| v.vault.name == "kv-syn-000000")
        .unwrap();
    let n = |c: &kvaudit::inventory::Collected<Vec<kvaudit::azure::models::Key>>| match c {
        kvaudit::inventory::Collected::Ok { value } => value.len(),
        _ => 0,
    };
    assert_eq!(n(&heavy.keys), 1_000);
    match &heavy.secrets {
        kvaudit::inventory::Collected::Ok { value } => assert_eq!(value.len(), 5_000),
        other => panic!("{other:?}"),
    }

    // Every vault of the listed subscriptions: the scan's verdicts equal
    // those of the tenant's own inventory, rule by rule.
    let mut source = doc.clone();
    source["subscriptions"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["subscription"]["subscriptionId"] != refused.as_str());
    source["vaults"].as_array_mut().unwrap().retain(|v| {
        !v["vault"]["id"]
            .as_str()
            .unwrap()
            .contains(refused.as_str())
    });
    let inv = Inventory::from_json(&source.to_string(), "generated").unwrap();
    let set = PolicySet::compile(&builtin::files(), PolicyData::defaults()).unwrap();
    let expected: BTreeMap<(String, String), Vec<(String, String)>> = set
        .evaluate(&inv)
        .unwrap()
        .into_iter()
        .filter(|f| ARM_RULES.contains(&f.rule_id.as_str()))
        .fold(BTreeMap::new(), |mut m, f| {
            m.entry((f.resource.name.to_string(), f.rule_id.clone()))
                .or_default()
                .push((f.status.as_str().to_string(), f.discriminator.clone()));
            m
        });
    let got: BTreeMap<(String, String), Vec<(String, String)>> = tenant::verdicts(&report)
        .into_iter()
        .filter(|((name, rule), _)| ARM_RULES.contains(&rule.as_str()) && name != "synthetic-2")
        .collect();
    assert_eq!(
        expected.len(),
        60 * 9 + 2 * 2,
        "{} verdicts",
        expected.len()
    );
    for (k, v) in &expected {
        assert_eq!(got.get(k), Some(v), "{k:?}");
    }
    assert_eq!(got.len(), expected.len());
}

/// The noisy public vault of the same generator (1,000 IPs with an
/// unanswered 401, 1,000 identities refused) and the vault with 1,000 keys
/// and 5,000 secrets evaluate with the default budget: one failing result
/// per caller, per key and per secret without expiry, and no rule anywhere
/// reported not evaluable because its evaluation failed (regorus' own
/// budget, 25,000 instructions, stopped the whole run on these).
#[test]
fn the_noisy_and_the_heavy_vault_evaluate_within_the_default_budget() {
    let doc = gen_inventory::generate(30, 3, true);
    let inv = Inventory::from_json(&doc.to_string(), "generated").unwrap();
    let set = PolicySet::compile(&builtin::files(), PolicyData::defaults()).unwrap();
    let findings = set.evaluate(&inv).unwrap();
    let failed = |rule: &str, vault: &str| {
        findings
            .iter()
            .filter(|f| {
                f.rule_id == rule
                    && f.resource.name == vault
                    && f.status == kvaudit::finding::Status::Fail
            })
            .map(|f| f.discriminator.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    // With 3 subscriptions, vaults 3..6 are the second of each: the noisy ones.
    assert_eq!(
        failed("kv/unauthorized-requests", "kv-syn-000003").len(),
        1_000
    );
    assert_eq!(
        failed("kv/forbidden-requests", "kv-syn-000003").len(),
        1_000
    );
    let expected_secrets = doc["vaults"][0]["secrets"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["properties"]["attributes"]["enabled"] != false
                && s["properties"]["attributes"]["exp"].is_null()
        })
        .count();
    assert!(expected_secrets > 1_000, "{expected_secrets}");
    assert_eq!(
        failed("kv/secret-expiry", "kv-syn-000000").len(),
        expected_secrets
    );
    let errors: Vec<_> = findings
        .iter()
        .filter(|f| f.message.starts_with("the policy could not be evaluated"))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

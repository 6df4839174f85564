//! Remediation with real names: every failing result of a rule with a `fix`
//! gets its az command filled from the inventory (JSON, SARIF), `kvaudit
//! fix` writes a script shellcheck accepts, and the commands are right:
//! applied to the demo inventory, they make their rules pass.
use std::path::Path;
use std::process::Command as Process;

use serde_json::{Value, json};

mod common;
use common::{demo_inventory, eval_findings as findings, run_kvaudit as kvaudit};

#[test]
fn failing_results_carry_their_fix_with_the_inventorys_names() {
    let (_, out, _) = kvaudit(&["eval", "--demo", "-f", "json"]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let all = doc["findings"].as_array().unwrap();
    let fix = |rule: &str, vault: &str| -> String {
        all.iter()
            .find(|f| f["ruleId"] == rule && f["resource"]["name"] == vault)
            .and_then(|f| f["fix"]["az"].as_str())
            .unwrap_or_else(|| panic!("{rule} on {vault} has no fix"))
            .to_string()
    };
    assert_eq!(
        fix("kv/purge-protection", "kv-legacy-app"),
        "az keyvault update --name kv-legacy-app --resource-group rg-legacy-apps --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --enable-purge-protection true"
    );
    // The workspace is the one the subscription's other vaults log to.
    assert!(
        fix("kv/audit-logging", "kv-sandbox-dev")
            .contains("--workspace /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-corpit-weu")
    );
    // The key is the result's own.
    assert!(fix("kv/key-expiry", "kv-sandbox-dev").contains("--name dev-test-key"));
    // Only failing results, and no template placeholder left unfilled
    // except the ones the inventory cannot know (listed).
    for f in all {
        if f["status"] != "fail" {
            assert!(f.get("fix").is_none(), "{f}");
            continue;
        }
        if let Some(az) = f["fix"]["az"].as_str() {
            let unresolved = f["fix"]["unresolved"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for name in [
                "vault",
                "resourceGroup",
                "subscriptionId",
                "vaultId",
                "item",
            ] {
                assert!(!az.contains(&format!("{{{name}}}")), "{az}");
            }
            assert_eq!(az.contains('<'), !unresolved.is_empty(), "{az}");
        }
    }
    // SARIF carries it in the result's properties.
    let (_, sarif, _) = kvaudit(&["eval", "--demo", "-f", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let with_fix = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["properties"]["fix"].is_string())
        .count();
    assert!(with_fix > 30, "{with_fix} SARIF results with a fix");
}

#[test]
fn the_fix_script_passes_shellcheck_and_runs_nothing_unresolved() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("out/fix.sh");
    let (code, _, err) = kvaudit(&["fix", "--demo", "-o", script.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("kvaudit ran none"), "{err}");
    let text = std::fs::read_to_string(&script).unwrap();
    let check = Process::new("shellcheck")
        .args(["--shell=bash", "--severity=style"])
        .arg(&script)
        .output()
        .expect("shellcheck is installed (scripts/test.sh installs it)");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // Every command line is an az command; unresolved ones are comments.
    let commands: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter(|l| !l.starts_with("set "))
        .collect();
    assert!(
        commands.iter().all(|l| l.starts_with("az ")),
        "{commands:?}"
    );
    assert!(commands.iter().all(|l| !l.contains('<')), "{commands:?}");
    assert!(text.contains("# needs newVault (not in the inventory)"));
    // One command per subscription for an alert all its vaults lack.
    assert_eq!(
        commands
            .iter()
            .filter(|l| l.contains("--name kv-admin-changes"))
            .count(),
        1,
        "{text}"
    );
}

/// The demo inventory with the script's `az monitor activity-log alert
/// create` and `az keyvault update` commands applied the way Azure would.
fn apply(inv: &mut Value, script: &str) -> usize {
    let mut applied = 0;
    for line in script.lines().filter(|l| l.starts_with("az ")) {
        let words = shlex::split(line).unwrap();
        let arg = |flag: &str| -> Option<String> {
            words
                .iter()
                .position(|w| w == flag)
                .and_then(|i| words.get(i + 1).cloned())
        };
        if line.starts_with("az monitor activity-log alert create") {
            let sub = arg("--subscription").unwrap();
            let all_of: Vec<Value> = arg("--condition")
                .unwrap()
                .split(" and ")
                .map(|leaf| {
                    let (field, value) = leaf.split_once('=').unwrap();
                    json!({"field": field, "equals": value})
                })
                .collect();
            let name = arg("--name").unwrap();
            let alert = json!({
                "id": format!("/subscriptions/{sub}/resourceGroups/{}/providers/microsoft.insights/activityLogAlerts/{name}", arg("--resource-group").unwrap()),
                "name": name,
                "type": "Microsoft.Insights/ActivityLogAlerts",
                "location": "Global",
                "properties": {
                    "enabled": true,
                    "scopes": [arg("--scope").unwrap()],
                    "condition": {"allOf": all_of},
                    "actions": {"actionGroups": [{"actionGroupId": arg("--action-group").unwrap()}]},
                },
            });
            let s = inv["subscriptions"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|s| s["subscription"]["subscriptionId"] == sub.as_str())
                .unwrap();
            s["activityLogAlerts"]["value"]
                .as_array_mut()
                .unwrap()
                .push(alert);
            applied += 1;
        } else if line.starts_with("az keyvault update") {
            let name = arg("--name").unwrap();
            let v = inv["vaults"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .find(|v| v["vault"]["name"] == name.as_str())
                .unwrap();
            let p = &mut v["vault"]["properties"];
            if arg("--enable-purge-protection").as_deref() == Some("true") {
                p["enablePurgeProtection"] = json!(true);
            }
            if arg("--enable-rbac-authorization").as_deref() == Some("true") {
                p["enableRbacAuthorization"] = json!(true);
            }
            applied += 1;
        }
    }
    applied
}

#[test]
fn applying_the_commands_makes_their_rules_pass() {
    let rules = [
        "kv/admin-alert",
        "kv/access-policy-alert",
        "kv/log-tamper-alert",
        "kv/purge-alert",
        "kv/purge-protection",
        "kv/rbac-authorization",
    ];
    let mut inv = demo_inventory();
    let before = findings(&inv, &rules);
    let failing = before.iter().filter(|f| f["status"] == "fail").count();
    assert!(failing >= 10, "{failing}");
    let mut args = vec!["fix", "--demo"];
    for r in &rules {
        args.extend(["--rule", r]);
    }
    let (code, script, err) = kvaudit(&args);
    assert_eq!(code, 0, "{err}");
    assert!(apply(&mut inv, &script) >= 5, "{script}");
    let after = findings(&inv, &rules);
    let still: Vec<String> = after
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| {
            format!(
                "{} {}: {}",
                f["ruleId"], f["resource"]["name"], f["message"]
            )
        })
        .collect();
    assert!(still.is_empty(), "still failing after the fix: {still:#?}");
}

#[test]
fn the_demo_fix_script_snapshot() {
    let (code, script, err) = kvaudit(&["fix", "--demo"]);
    assert_eq!(code, 0, "{err}");
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/fix-demo.sh");
    if std::env::var_os("KVAUDIT_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snap, &script).unwrap();
    }
    let want = std::fs::read_to_string(&snap)
        .expect("snapshot exists (KVAUDIT_UPDATE_SNAPSHOTS=1 writes it)");
    assert_eq!(
        script, want,
        "the fix script changed; review it and rerun with KVAUDIT_UPDATE_SNAPSHOTS=1"
    );
}

/// Results whose fixes read the same values share one filled fix (a
/// subscription's missing alert, failing on each of its vaults), and
/// sharing never merges fixes that differ: each result's fix is the one it
/// gets when filled on its own.
#[test]
fn identical_fixes_are_filled_once_and_shared() {
    use kvaudit::inventory::Inventory;
    use kvaudit::policy::data::PolicyData;
    use kvaudit::policy::{PolicySet, builtin};
    use kvaudit::remediation::{Facts, apply};
    use std::sync::Arc;

    let inv = Inventory::from_json(&demo_inventory().to_string(), "demo").unwrap();
    let set = PolicySet::compile(&builtin::files(), PolicyData::defaults()).unwrap();
    let facts = Facts::of(&inv);
    let mut findings = set.evaluate(&inv).unwrap();
    apply(&mut findings, set.rules(), &facts);
    let fixed: Vec<_> = findings.iter().filter(|f| f.fix.is_some()).collect();
    assert!(fixed.len() > 10, "{}", fixed.len());
    let mut shared = 0;
    for (i, a) in fixed.iter().enumerate() {
        // Filled alone, the same fix.
        let mut alone = vec![(*a).clone()];
        alone[0].fix = None;
        apply(&mut alone, set.rules(), &facts);
        assert_eq!(alone[0].fix, a.fix, "{} on {}", a.rule_id, a.resource.name);
        for b in &fixed[i + 1..] {
            let (x, y) = (a.fix.as_ref().unwrap(), b.fix.as_ref().unwrap());
            assert_eq!(x == y, Arc::ptr_eq(x, y), "{} / {}", a.rule_id, b.rule_id);
            shared += usize::from(Arc::ptr_eq(x, y));
        }
    }
    // The demo's alert rules fail on several vaults of one subscription.
    assert!(shared > 0);
}

//! A gate teams can adopt: right key-rotation verdicts from a real scan,
//! typos in the scope refused, not-evaluable results that can be accepted
//! (waived, or gated by --not-evaluable), shared waiver files under --rule,
//! and a pull-request summary that stays within GitHub's limits.
mod common;
#[path = "support/fake_azure.rs"]
mod fake_azure;
#[allow(dead_code)]
#[path = "../benches/gen_inventory.rs"]
mod gen_inventory;
#[path = "support/tenant.rs"]
mod tenant;

use fake_azure::{Answer, Faults, Override};
use serde_json::Value;
use tenant::*;

/// kv-app-01's key `cmk` rotates; this makes its Keys_Get answer lack the policy.
fn no_arm_rotation_policy() -> Override {
    Override::new(
        "/vaults/kv-app-01/keys/cmk",
        Answer::rewrite(|mut v, _| {
            v["properties"]
                .as_object_mut()
                .unwrap()
                .remove("rotationPolicy");
            v
        }),
    )
}

/// The demo's full-profile SARIF (every result, not-evaluable ones included), for baselines.
fn write_full_sarif(path: &std::path::Path) {
    let o = eval(&[
        "--demo",
        "--format",
        "sarif",
        "--sarif-profile",
        "full",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
}

#[test]
fn a_key_whose_keys_get_has_no_rotation_policy_fails() {
    // kv-app-01's key `cmk` rotates; its Keys_Get answer without the policy
    // is a key without one.
    let setup = start(Faults {
        overrides: vec![no_arm_rotation_policy()],
        ..Faults::default()
    });
    let out = kvaudit(
        &setup,
        "scan",
        &["--rule", "kv/key-rotation", "--format", "json"],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let v = verdicts(&report);
    let app = &v[&("kv-app-01".to_string(), "kv/key-rotation".to_string())];
    assert_eq!(app, &vec![("fail".to_string(), "cmk".to_string())]);
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "kv-app-01")
        .unwrap();
    assert!(
        f["message"].as_str().unwrap().contains(
            "no rotation policy (its Keys_Get answer through Azure Resource Manager carries none)"
        ),
        "{f}"
    );
    // A key whose read failed stays not evaluable, never a guessed failure.
    let setup = start(Faults {
        overrides: vec![Override::new(
            "/vaults/kv-app-01/keys/cmk",
            Answer::json(
                403,
                serde_json::json!({"error": {"code": "Forbidden", "message": "no"}}),
            ),
        )],
        ..Faults::default()
    });
    let out = kvaudit(
        &setup,
        "scan",
        &["--rule", "kv/key-rotation", "--format", "json"],
        &[],
    );
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let v = verdicts(&report);
    assert_eq!(
        v[&("kv-app-01".to_string(), "kv/key-rotation".to_string())][0].0,
        "not_evaluable"
    );
}

#[test]
fn a_scope_that_matches_nothing_is_an_error_not_an_empty_report() {
    let setup = start(Faults::default());
    for (args, fragment) in [
        (
            vec!["--vault", "kv-nope"],
            "--vault kv-nope matched no Key Vault",
        ),
        (
            vec!["--vault", "kv-app-01", "--vault", "kv-typo"],
            "--vault kv-typo matched no Key Vault",
        ),
        (
            vec!["--resource-group", "rg-nope"],
            "--resource-group rg-nope holds no Key Vault",
        ),
    ] {
        let out = kvaudit(&setup, "scan", &args, &[]);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        let last = out.stderr.lines().last().unwrap_or("");
        assert!(
            last.starts_with("kvaudit: error: ") && last.contains(fragment),
            "{args:?}: {}",
            out.stderr
        );
    }
    // Matching by name and by ARM id both work.
    let id = vid(SUB_A, "rg-app", "kv-app-01");
    let out = kvaudit(
        &setup,
        "scan",
        &["--vault", &id, "--rule", "kv/audit-logging"],
        &[],
    );
    assert!([0, 1, 3].contains(&out.code), "{}", out.stderr);
}

const STORAGE_ONLY_WAIVER: &str = "waivers:
  - rule: kv/*-requests
    resource: kv-archive
    status: not_evaluable
    justification: AuditEvent goes to an immutable storage archive by design
    owner: platform-team@contoso.com
    expires: 2099-01-01
";

#[test]
fn not_evaluable_results_can_be_accepted_by_waiver_or_gate() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w.yaml");
    std::fs::write(&w, STORAGE_ONLY_WAIVER).unwrap();
    let ws = w.to_str().unwrap();
    let json = |args: &[&str]| -> Value {
        let out = eval(&[&["--demo", "--format", "json"], args].concat());
        serde_json::from_str(&out.stdout).unwrap()
    };
    // Without the waiver, kv-archive's request rules are not evaluable.
    let before = json(&[]);
    let after = json(&["--waivers", ws]);
    assert_eq!(
        before["summary"]["notEvaluable"].as_u64().unwrap() - 2,
        after["summary"]["notEvaluable"].as_u64().unwrap()
    );
    assert_eq!(after["summary"]["waived"], 2);
    // A waiver for failing results (the default) does not accept them.
    std::fs::write(
        &w,
        STORAGE_ONLY_WAIVER.replace("    status: not_evaluable\n", ""),
    )
    .unwrap();
    let plain = json(&["--waivers", ws]);
    assert_eq!(
        plain["summary"]["notEvaluable"],
        before["summary"]["notEvaluable"]
    );

    // The gate: fail (exit 3), warn (exit 0), new (exit 3 only for new ones).
    let code = |args: &[&str]| eval(&[&["--demo", "--fail-on", "critical"], args].concat()).code;
    assert_eq!(code(&[]), 3);
    assert_eq!(code(&["--not-evaluable", "warn"]), 0);
    let full = dir.path().join("full.sarif");
    write_full_sarif(&full);
    let fs = full.to_str().unwrap();
    assert_eq!(code(&["--baseline", fs, "--not-evaluable", "new"]), 0);
    // With a baseline that lacks them (the GitHub profile), they are new.
    let gh = dir.path().join("gh.sarif");
    eval(&[
        "--demo",
        "--format",
        "sarif",
        "--output",
        gh.to_str().unwrap(),
    ]);
    assert_eq!(
        code(&["--baseline", gh.to_str().unwrap(), "--not-evaluable", "new"]),
        3
    );
}

#[test]
fn shared_waiver_files_work_under_rule_selections() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("w.yaml");
    std::fs::write(
        &w,
        "waivers:
  - rule: kv/admin-alert
    resource: \"*\"
    justification: j
    owner: o
    expires: 2099-01-01
  - rule: kv/forbidden-requests
    resource: kv-identity-prod
    discriminator: 198.51.100.61
    justification: batch job, ticket SEC-9
    owner: o
    expires: 2099-01-01
",
    )
    .unwrap();
    // The admin-alert waiver names a loaded rule that is not selected: left out, no error.
    let out = eval(&[
        "--demo",
        "--rule",
        "kv/forbidden-requests",
        "--waivers",
        w.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).unwrap();
    // A bare vault name and a bare IP discriminator match `identity|IP`.
    assert_eq!(doc["summary"]["waived"], 1, "{}", doc["summary"]);
    assert!(doc["waivers"]["unmatched"].as_array().unwrap().is_empty());
    // A rule that exists nowhere is still an error.
    std::fs::write(
        &w,
        "waivers:\n  - rule: kv/nope\n    resource: \"*\"\n    justification: j\n    owner: o\n    expires: 2099-01-01\n",
    )
    .unwrap();
    let out = eval(&["--demo", "--waivers", w.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown rule"), "{}", out.stderr);
}

#[test]
fn the_pr_summary_stays_within_githubs_limits_at_2000_vaults() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.json");
    std::fs::write(&inv, gen_inventory::generate(2000, 4, false).to_string()).unwrap();
    let out = eval(&[
        inv.to_str().unwrap(),
        "--format",
        "markdown",
        "--show-passed",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let chars = out.stdout.chars().count();
    assert!(chars <= 65_536, "{chars} characters");
    assert!(chars > 50_000, "the budget is used: {chars}");
    assert!(
        out.stdout.contains("more result(s) not shown"),
        "{}",
        &out.stdout[..2000]
    );
    // Every <details> opened is closed, so the cut leaves valid markup.
    assert_eq!(
        out.stdout.matches("<details").count(),
        out.stdout.matches("</details>").count()
    );
    assert!(out.stdout.starts_with("## ❌ kvaudit: gate failed: "));
    // And what a reviewer reads, kept as a snapshot (the generator is
    // seeded; the temporary inventory path is the one varying part).
    let text = out.stdout.replace(inv.to_str().unwrap(), "inv.json");
    let snap = root().join("tests/snapshots/pr-summary-2000.md");
    if std::env::var_os("KVAUDIT_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snap, &text).unwrap();
    }
    assert_eq!(
        text,
        std::fs::read_to_string(&snap).expect("snapshot (KVAUDIT_UPDATE_SNAPSHOTS=1 writes it)"),
        "the 2,000-vault summary changed; review it and rerun with KVAUDIT_UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn the_data_plane_confirms_rotation_policies_when_asked() {
    let rotation = |setup: &Setup, extra: &[&str]| -> Vec<(String, String)> {
        let out = kvaudit(
            setup,
            "scan",
            &[&["--rule", "kv/key-rotation", "--format", "json"], extra].concat(),
            &[],
        );
        assert!([0, 1, 3].contains(&out.code), "{}", out.stderr);
        let report: Value = serde_json::from_str(&out.stdout).unwrap();
        verdicts(&report)[&("kv-app-01".to_string(), "kv/key-rotation".to_string())].clone()
    };
    // ARM's answer lacks the policy; the vault's data plane has it (Rotate): it wins.
    let setup = start(Faults {
        overrides: vec![no_arm_rotation_policy()],
        ..Faults::default()
    });
    assert_eq!(rotation(&setup, &[])[0].0, "fail");
    let before = setup
        .fake
        .counters
        .by_kind
        .lock()
        .unwrap()
        .get("dataplane-rotationpolicy")
        .copied();
    assert_eq!(before, None, "no data-plane read without --data-plane");
    assert_eq!(rotation(&setup, &["--data-plane"])[0].0, "pass");
    let reads = setup
        .fake
        .counters
        .by_kind
        .lock()
        .unwrap()
        .get("dataplane-rotationpolicy")
        .copied();
    assert!(reads.unwrap_or(0) >= 1, "{reads:?}");

    // A refused data plane (a firewall) changes nothing: ARM's answer stands.
    let setup = start(Faults {
        overrides: vec![
            no_arm_rotation_policy(),
            Override::new(
                "/dataplane/kv-app-01/",
                Answer::json(
                    403,
                    serde_json::json!({"error": {"code": "Forbidden", "message": "Client address is not authorized and caller is not a trusted service.", "innererror": {"code": "ForbiddenByFirewall"}}}),
                ),
            ),
        ],
        ..Faults::default()
    });
    assert_eq!(rotation(&setup, &["--data-plane"])[0].0, "fail");
}

#[test]
fn a_failing_result_that_turns_not_evaluable_is_not_counted_as_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.sarif");
    write_full_sarif(&full);
    // kv-legacy-app fails kv/audit-logging in the demo; now its settings cannot be read.
    let mut inv: Value = serde_json::from_str(kvaudit::demo::DEMO_INVENTORY).unwrap();
    let v = inv["vaults"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|v| v["vault"]["name"] == "kv-legacy-app")
        .unwrap();
    v["diagnosticSettings"] = serde_json::json!({"status": "error", "error": {"code": "AuthorizationFailed", "message": "denied", "httpStatus": 403}});
    let path = dir.path().join("inv.json");
    std::fs::write(&path, inv.to_string()).unwrap();
    let out = eval(&[
        path.to_str().unwrap(),
        "--rule",
        "kv/audit-logging",
        "--baseline",
        full.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc: Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stderr));
    let legacy = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "kv-legacy-app")
        .unwrap();
    assert_eq!(legacy["status"], "not_evaluable");
    let absent = doc["absent"].as_array().unwrap();
    assert!(
        !absent.iter().any(|a| a["ruleId"] == "kv/audit-logging"
            && a["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("kv-legacy-app:")),
        "counted as fixed: {absent:?}"
    );
    // Results of rules this run did not select are not "fixed" either.
    assert!(
        absent.iter().all(|a| a["ruleId"] == "kv/audit-logging"),
        "{absent:?}"
    );
}

/// On GitHub an alert closes when an upload no longer reports it. A result
/// that was failing and cannot be evaluated now stays in the GitHub SARIF
/// (same fingerprint, kind open, level warning, saying so), run after run,
/// until a run can tell; one that was not failing stays out.
#[test]
fn a_failing_result_that_turns_not_evaluable_keeps_its_github_alert_open() {
    let dir = tempfile::tempdir().unwrap();
    let sarif_of =
        |inv: &std::path::Path, baseline: Option<&std::path::Path>, out: &str| -> Value {
            let out = dir.path().join(out);
            let mut args = vec![
                inv.to_str().unwrap(),
                "--rule",
                "kv/audit-logging",
                "--format",
                "sarif",
                "--output",
                out.to_str().unwrap(),
            ];
            if let Some(b) = baseline {
                args.extend(["--baseline", b.to_str().unwrap()]);
            }
            let o = eval(&args);
            assert!([0, 1, 3].contains(&o.code), "{}", o.stderr);
            serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
        };
    let results =
        |log: &Value| -> Vec<Value> { log["runs"][0]["results"].as_array().unwrap().clone() };
    let about = |log: &Value, vault: &str| -> Option<Value> {
        results(log)
            .into_iter()
            .find(|r| r["locations"][0]["logicalLocations"][0]["name"] == vault)
    };
    let demo = dir.path().join("demo.json");
    std::fs::write(&demo, kvaudit::demo::DEMO_INVENTORY).unwrap();
    let first = sarif_of(&demo, None, "first.sarif");
    let failing =
        about(&first, "kv-legacy-app").expect("kv-legacy-app fails kv/audit-logging in the demo");
    assert_eq!(failing["kind"], "fail");
    assert!(
        about(&first, "kv-identity-prod").is_none(),
        "a passing vault is not uploaded"
    );

    // Now neither vault's diagnostic settings can be read.
    let mut inv: Value = serde_json::from_str(kvaudit::demo::DEMO_INVENTORY).unwrap();
    for v in inv["vaults"].as_array_mut().unwrap() {
        if ["kv-legacy-app", "kv-identity-prod"].contains(&v["vault"]["name"].as_str().unwrap()) {
            v["diagnosticSettings"] = serde_json::json!({"status": "error", "error": {"code": "AuthorizationFailed", "message": "denied", "httpStatus": 403}});
        }
    }
    let denied = dir.path().join("denied.json");
    std::fs::write(&denied, inv.to_string()).unwrap();
    let second = sarif_of(
        &denied,
        Some(&dir.path().join("first.sarif")),
        "second.sarif",
    );
    let kept = about(&second, "kv-legacy-app").expect("the alert is still reported");
    assert_eq!(kept["kind"], "open");
    assert_eq!(kept["level"], "warning");
    assert_eq!(kept["properties"]["failingBefore"], true);
    assert_eq!(
        kept["partialFingerprints"]["primaryLocationLineHash"],
        failing["partialFingerprints"]["primaryLocationLineHash"],
        "the same alert"
    );
    let text = kept["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("not evaluable in this run, failing in the baseline"),
        "{text}"
    );
    assert!(
        about(&second, "kv-identity-prod").is_none(),
        "was passing: not uploaded"
    );
    // Another run that cannot tell, against the previous upload: still kept.
    let third = sarif_of(
        &denied,
        Some(&dir.path().join("second.sarif")),
        "third.sarif",
    );
    assert_eq!(
        about(&third, "kv-legacy-app").unwrap()["properties"]["failingBefore"],
        true
    );
    // Without a baseline nothing says it was failing: the caveat the README states.
    let alone = sarif_of(&denied, None, "alone.sarif");
    assert!(about(&alone, "kv-legacy-app").is_none());
}

//! The CI workflow: waivers (active, expired, unmatched, malformed), baselines
//! (new, unchanged, updated, absent; another tool's refused), both SARIF
//! profiles against the schema and GitHub's rules, and the PR summary.
mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::MISSION;
use serde_json::{Value, json};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

// Every `eval` here judges the demo with the mission's four rules
// (MISSION): waivers, baselines and summaries work the same for every
// rule, and four keep the snapshot readable.
fn run(args: &[&str]) -> Out {
    let mut cmd = Command::cargo_bin("kvaudit").unwrap();
    cmd.env("COLUMNS", "200")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(args);
    if args.first() == Some(&"eval") {
        cmd.args(MISSION);
    }
    let o = cmd.output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const WAIVERS: &str = "# accepted exceptions\nwaivers:\n  - rule: kv/admin-alert\n    resource: /subscriptions/*/resourceGroups/rg-sandbox/providers/Microsoft.KeyVault/vaults/*\n    justification: sandbox vaults are recreated every night\n    owner: platform-team@contoso.com\n    expires: 2099-03-31\n  - rule: kv/forbidden-requests\n    resource: \"*/vaults/kv-identity-prod\"\n    discriminator: \"d.reyes@contoso.com|*\"\n    justification: migration job, ticket SEC-142\n    owner: identity-team@contoso.com\n    expires: 2020-01-01\n  - rule: kv/audit-logging\n    resource: /subscriptions/*/resourceGroups/nowhere/*\n    justification: placeholder\n    owner: nobody@contoso.com\n    expires: 2099-01-01\n";

fn sarif_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemas/sarif-schema-2.1.0.json"
    ))
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn assert_valid(log: &Value) {
    let errors: Vec<String> = sarif_schema()
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn demo_sarif(dir: &Path, name: &str, extra: &[&str]) -> (Out, Value) {
    let p = dir.join(name);
    let mut args = vec![
        "eval",
        "--demo",
        "--format",
        "sarif",
        "--output",
        p.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    let log = serde_json::from_str(
        &std::fs::read_to_string(&p).unwrap_or_else(|_| panic!("{}", out.stderr)),
    )
    .unwrap();
    (out, log)
}

#[test]
fn waivers_accept_expire_and_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let w = write(dir.path(), "waivers.yaml", WAIVERS);
    let ws = w.to_str().unwrap();
    let (out, full) = demo_sarif(
        dir.path(),
        "full.sarif",
        &["--waivers", ws, "--sarif-profile", "full"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("expired waiver, no longer applied")
            && out.stderr.contains("waivers.yaml:8:"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("waiver matched no failing result")
            && out.stderr.contains("waivers.yaml:14:"),
        "{}",
        out.stderr
    );
    assert_valid(&full);
    let results = full["runs"][0]["results"].as_array().unwrap();
    // Every result carries suppressions (all or none per run); exactly one is accepted.
    assert!(results.iter().all(|r| r["suppressions"].is_array()));
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| !r["suppressions"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(suppressed.len(), 1);
    let s = &suppressed[0]["suppressions"][0];
    assert_eq!(
        (s["kind"].as_str(), s["status"].as_str()),
        (Some("external"), Some("accepted"))
    );
    assert!(s["justification"].as_str().unwrap().contains("sandbox vaults are recreated every night (owner platform-team@contoso.com, expires 2099-03-31"));
    assert!(
        suppressed[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap()
            .ends_with("kv-sandbox-dev")
    );
    // The GitHub profile keeps the waived result, suppressed (the action then
    // dismisses its alert instead of letting it close as fixed); the expired
    // waiver waives nothing.
    let (_, gh) = demo_sarif(dir.path(), "gh.sarif", &["--waivers", ws]);
    assert_valid(&gh);
    let gh_results = gh["runs"][0]["results"].as_array().unwrap();
    assert_eq!(gh_results.len(), 8);
    assert!(gh_results.iter().all(|r| r["kind"] == "fail"));
    let suppressed: Vec<&Value> = gh_results
        .iter()
        .filter(|r| !r["suppressions"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressions"][0]["status"], "accepted");
    assert!(gh_results.iter().any(|r| {
        r["properties"]["discriminator"]
            .as_str()
            .is_some_and(|d| d.starts_with("d.reyes@contoso.com|"))
    }));
    // A waived failure does not gate: only waived high failures and --fail-on high ... still 1 from the others.
    let json = run(&["eval", "--demo", "--format", "json", "--waivers", ws]);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["summary"]["waived"], 1);
    assert_eq!(doc["summary"]["fail"], 7);
    assert_eq!(doc["waivers"]["expired"].as_array().unwrap().len(), 1);
    assert_eq!(doc["waivers"]["unmatched"].as_array().unwrap().len(), 1);
}

#[test]
fn a_waiver_is_what_stands_between_a_vault_and_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    // Waive every failing result of the demo: the gate then reports only what was not evaluable.
    let all = "waivers:\n  - rule: kv/admin-alert\n    resource: \"*\"\n    justification: x\n    owner: o\n    expires: 2099-01-01\n  - rule: kv/audit-logging\n    resource: \"*\"\n    justification: x\n    owner: o\n    expires: 2099-01-01\n  - rule: kv/forbidden-requests\n    resource: \"*\"\n    justification: x\n    owner: o\n    expires: 2099-01-01\n  - rule: kv/unauthorized-requests\n    resource: \"*\"\n    justification: x\n    owner: o\n    expires: 2099-01-01\n";
    let w = write(dir.path(), "all.yaml", all);
    assert_eq!(
        run(&["eval", "--demo", "--waivers", w.to_str().unwrap()]).code,
        3
    );
}

#[test]
fn bad_waivers_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            WAIVERS.replace("rule: kv/audit-logging", "rule: kv/no-such-rule"),
            "waivers.yaml:14: waiver names unknown rule \"kv/no-such-rule\"",
        ),
        (
            WAIVERS.replace("expires: 2099-03-31", "expires: 31/03/2099"),
            "waivers.yaml:3: expires \"31/03/2099\" is not a date",
        ),
        (
            WAIVERS.replace("    owner: nobody@contoso.com\n", ""),
            "waivers.yaml:",
        ),
        (
            "waivers:\n  - rule: kv/admin-alert\n    resource: [oops\n".to_string(),
            "waivers.yaml:3:",
        ),
    ];
    for (text, want) in cases {
        let w = write(dir.path(), "waivers.yaml", &text);
        let out = run(&["eval", "--demo", "--waivers", w.to_str().unwrap()]);
        assert_eq!(out.code, 2, "{text}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains(want), "{:?} lacks {want:?}", out.stderr);
    }
}

#[test]
fn baselines_mark_new_unchanged_updated_and_absent() {
    let dir = tempfile::tempdir().unwrap();
    let (_, base) = demo_sarif(dir.path(), "base.sarif", &["--sarif-profile", "full"]);
    // Same run against itself: nothing new; --fail-on-new then gates on nothing (exit 3: not evaluable).
    let b = dir.path().join("base.sarif");
    let bs = b.to_str().unwrap();
    let same = run(&["eval", "--demo", "--baseline", bs, "--fail-on-new"]);
    assert_eq!(same.code, 3, "{}", same.stderr);
    assert!(
        same.stdout
            .contains("8 failing (5 high, 3 medium), 0 new since the baseline"),
        "{}",
        same.stdout
    );
    // Drop one failing result, change another's message, add one that is gone now.
    let mut edited = base.clone();
    let results = edited["runs"][0]["results"].as_array_mut().unwrap();
    let first_fail = results.iter().position(|r| r["kind"] == "fail").unwrap();
    let dropped = results.remove(first_fail);
    let second_fail = results.iter().position(|r| r["kind"] == "fail").unwrap();
    results[second_fail]["message"]["text"] = json!("an older wording.");
    let mut gone = results[second_fail].clone();
    gone["partialFingerprints"]["primaryLocationLineHash"] = json!("0000000000000000:1");
    gone["message"]["text"] = json!("a finding that has since been fixed.");
    results.push(gone);
    let e = write(dir.path(), "edited.sarif", &edited.to_string());
    let es = e.to_str().unwrap();
    let (out, full) = demo_sarif(
        dir.path(),
        "full.sarif",
        &["--baseline", es, "--sarif-profile", "full"],
    );
    assert_eq!(out.code, 1);
    assert_valid(&full);
    let states: Vec<(String, String)> = full["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("baselineState").is_some())
        .map(|r| {
            (
                r["baselineState"].as_str().unwrap().to_string(),
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let count = |s: &str| states.iter().filter(|(k, _)| k == s).count();
    assert_eq!(
        (
            count("new"),
            count("updated"),
            count("unchanged"),
            count("absent")
        ),
        // 6 failing and the 11 not-evaluable results of the full-profile
        // baseline are unchanged (not-evaluable results are compared too).
        (1, 1, 17, 1),
        "{states:?}"
    );
    assert!(
        states.contains(&(
            "new".into(),
            dropped["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap()
                .into()
        ))
    );
    assert!(states.contains(&("absent".into(), "0000000000000000:1".into())));
    // The GitHub profile never carries absent results; --fail-on-new now gates on the new one.
    let (gh_out, gh) = demo_sarif(dir.path(), "gh.sarif", &["--baseline", es, "--fail-on-new"]);
    assert_eq!(gh_out.code, 1);
    assert!(
        gh["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["baselineState"] != "absent")
    );
    // --fail-on-new with the one new result below --fail-on: no gate.
    let sev = dropped["level"].as_str().unwrap();
    let above = if sev == "error" { "critical" } else { "high" };
    assert_ne!(
        run(&[
            "eval",
            "--demo",
            "--baseline",
            es,
            "--fail-on-new",
            "--fail-on",
            above
        ])
        .code,
        1
    );
}

#[test]
fn foreign_baselines_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let other = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "checkov"}}, "results": []}]});
    let p = write(dir.path(), "other.sarif", &other.to_string());
    let out = run(&["eval", "--demo", "--baseline", p.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(
            "other.sarif: not usable as a baseline: it was written by \"checkov\", not kvaudit"
        ),
        "{}",
        out.stderr
    );
    let old = json!({"version": "2.0.0", "runs": []});
    let p = write(dir.path(), "old.sarif", &old.to_string());
    let out = run(&["eval", "--demo", "--baseline", p.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("SARIF version \"2.0.0\""),
        "{}",
        out.stderr
    );
    let out = run(&["eval", "--demo", "--fail-on-new"]);
    assert_eq!(out.code, 2, "--fail-on-new needs --baseline");
}

#[test]
fn pr_summary_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (_, base) = demo_sarif(dir.path(), "base.sarif", &["--sarif-profile", "full"]);
    let mut edited = base.clone();
    let results = edited["runs"][0]["results"].as_array_mut().unwrap();
    let i = results
        .iter()
        .position(|r| r["kind"] == "fail" && r["ruleId"] == "kv/unauthorized-requests")
        .unwrap();
    results.remove(i);
    let b = write(dir.path(), "base.sarif", &edited.to_string());
    let w = write(dir.path(), "waivers.yaml", WAIVERS);
    let out = run(&[
        "eval",
        "--demo",
        "--format",
        "markdown",
        "--baseline",
        b.to_str().unwrap(),
        "--waivers",
        w.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1);
    // Paths of the temporary files differ per run.
    let text = out.stdout.replace(w.to_str().unwrap(), "waivers.yaml");
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/pr-summary.md");
    if std::env::var_os("KVAUDIT_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snap, &text).unwrap();
    }
    let want = std::fs::read_to_string(&snap)
        .expect("snapshot exists (KVAUDIT_UPDATE_SNAPSHOTS=1 writes it)");
    assert_eq!(
        text, want,
        "the PR summary changed; review it and rerun with KVAUDIT_UPDATE_SNAPSHOTS=1"
    );
}

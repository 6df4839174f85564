//! The real binary, end to end: the demo, every format, exit codes, custom
//! policies, policy tests, and the one-line errors for bad input.
mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::*;
use serde_json::{Value, json};

fn kvaudit() -> Command {
    let mut c = Command::cargo_bin("kvaudit").unwrap();
    c.env_remove("NO_COLOR").env("COLUMNS", "200");
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = kvaudit().args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

/// An error must be one line on stderr, exit 2, and never a panic.
fn assert_one_line_error(r: &Run, fragments: &[&str]) {
    assert_eq!(r.code, 2, "stderr: {}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {}", r.stderr);
    assert!(lines[0].starts_with("kvaudit: error: "), "{}", r.stderr);
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("backtrace"),
        "{}",
        r.stderr
    );
    for f in fragments {
        assert!(lines[0].contains(f), "{:?} lacks {f:?}", lines[0]);
    }
}

fn demo_json() -> Value {
    let r = run(&["eval", "--demo", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn demo_prints_findings_and_exits_1() {
    let r = run(&["eval", "--demo"]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert!(r.stdout.contains("FAIL"), "{}", r.stdout);
    assert!(r.stdout.contains("NOT EVALUABLE"), "{}", r.stdout);
    for rule in [
        "kv/audit-logging",
        "kv/admin-alert",
        "kv/unauthorized-requests",
        "kv/forbidden-requests",
    ] {
        assert!(r.stdout.contains(rule), "table lacks {rule}");
    }
    // No colour codes when stdout is not a terminal.
    assert!(!r.stdout.contains('\u{1b}'));
    // The summary comes first: the gate's outcome, then the counts.
    let mut lines = r.stdout.lines();
    assert!(lines.next().unwrap().starts_with("kvaudit: gate failed"));
    let counts = lines.next().unwrap();
    assert!(
        counts.contains("failing") && counts.contains("not evaluable") && counts.contains("passed"),
        "{counts}"
    );
}

#[test]
fn demo_has_every_verdict_for_every_rule() {
    let doc = demo_json();
    let findings = doc["findings"].as_array().unwrap();
    // Rules that read only the vault object are always evaluable; the
    // demo's alert lists and pricings are all readable.
    let always_evaluable = [
        "kv/admin-alert",
        "kv/access-policy-alert",
        "kv/log-tamper-alert",
        "kv/purge-alert",
        "kv/defender",
        "kv/purge-protection",
        "kv/soft-delete-retention",
        "kv/rbac-authorization",
        "kv/public-network-access",
        "kv/firewall-default-deny",
        "kv/private-endpoint",
    ];
    let rules: Vec<String> = doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rules.len(), 18, "{rules:?}");
    for rule in &rules {
        for status in ["pass", "fail", "not_evaluable"] {
            if always_evaluable.contains(&rule.as_str()) && status == "not_evaluable" {
                continue;
            }
            assert!(
                findings
                    .iter()
                    .any(|f| f["ruleId"] == rule.as_str() && f["status"] == status),
                "demo has no {status} for {rule}"
            );
        }
    }
    let s = &doc["summary"];
    assert_eq!(
        s["pass"].as_u64().unwrap()
            + s["fail"].as_u64().unwrap()
            + s["notEvaluable"].as_u64().unwrap(),
        findings.len() as u64
    );
}

#[test]
fn every_format_renders_the_demo() {
    let md = run(&["eval", "--demo", "--format", "markdown"]);
    assert_eq!(md.code, 1);
    assert!(md.stdout.starts_with("## ❌ kvaudit: "), "{}", md.stdout);
    assert!(md.stdout.contains("### Failing") && md.stdout.contains("### Not evaluable"));
    let sarif = run(&["eval", "--demo", "--format", "sarif"]);
    assert_eq!(sarif.code, 1);
    let v: Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
}

#[test]
fn output_file_is_written_and_summarised_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.sarif");
    let r = run(&[
        "eval",
        "--demo",
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("wrote") && r.stderr.contains("failing"),
        "{}",
        r.stderr
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(!v["runs"][0]["results"].as_array().unwrap().is_empty());
}

// The hand-written inventories below describe the mission's rules (MISSION).
fn eval_mission(path: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec!["eval", path.to_str().unwrap()];
    args.extend_from_slice(MISSION);
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn exit_codes_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let id = vault_id("rg-app", "kv-good");
    let alerts = ok(json!([alert(
        "kv-admin",
        json!([sub_id()]),
        admin_condition(),
        &["ag-secops"],
        true
    )]));
    let groups = ok(json!([action_group("ag-secops", true, true)]));
    // Everything passes: 0.
    let good = inventory(
        alerts.clone(),
        groups.clone(),
        vec![vault_entry(
            vault("rg-app", "kv-good"),
            ok(json!([audit_to_workspace(&id)])),
            audit_ok(json!([]), json!([])),
        )],
    );
    let p = write(dir.path(), "good.json", &good.to_string());
    let r = eval_mission(&p, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // Nothing fails, a workspace could not be queried: 3.
    let ne = inventory(
        alerts.clone(),
        groups.clone(),
        vec![vault_entry(
            vault("rg-app", "kv-good"),
            ok(json!([audit_to_workspace(&id)])),
            err("InsufficientAccessError", "no access", 403),
        )],
    );
    let p = write(dir.path(), "ne.json", &ne.to_string());
    assert_eq!(eval_mission(&p, &[]).code, 3);
    // Only a medium failure: 1 by default, 0 with --fail-on high.
    let medium = inventory(
        alerts,
        groups,
        vec![vault_entry(
            vault("rg-app", "kv-good"),
            ok(json!([audit_to_workspace(&id)])),
            audit_ok(
                json!([unauthorized(
                    "203.0.113.9",
                    "curl/8.5.0",
                    4,
                    0,
                    "2026-11-27T08:00:00Z"
                )]),
                json!([]),
            ),
        )],
    );
    let p = write(dir.path(), "medium.json", &medium.to_string());
    assert_eq!(eval_mission(&p, &[]).code, 1);
    assert_eq!(eval_mission(&p, &["--fail-on", "high"]).code, 0);
    // Standard input works too.
    let out = kvaudit()
        .args(["eval", "-", "--format", "json"])
        .args(MISSION)
        .write_stdin(medium.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bad_inventories_get_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&["eval", dir.path().join("missing.json").to_str().unwrap()]);
    assert_one_line_error(&r, &["missing.json", "cannot read", "no such file"]);

    let p = write(
        dir.path(),
        "syntax.json",
        "{\"schemaVersion\": 1,\n  \"generatedAt\": \"x\",,\n}",
    );
    assert_one_line_error(
        &run(&["eval", p.to_str().unwrap()]),
        &["syntax.json:2:22:", "not a valid kvaudit inventory"],
    );

    let mut inv = inventory(ok(json!([])), ok(json!([])), vec![]);
    inv["schemaVersion"] = json!(7);
    let p = write(dir.path(), "future.json", &inv.to_string());
    assert_one_line_error(
        &run(&["eval", p.to_str().unwrap()]),
        &["future.json", "schemaVersion 7 is not supported"],
    );

    let mut inv = inventory(
        ok(json!([])),
        ok(json!([])),
        vec![vault_entry(
            vault("rg", "kv"),
            ok(json!([])),
            json!({"status": "ok"}),
        )],
    );
    inv["vaults"][0]["vault"]["properties"]["enablePurgeProtection"] = json!("yes");
    let p = write(
        dir.path(),
        "types.json",
        &serde_json::to_string_pretty(&inv).unwrap(),
    );
    assert_one_line_error(
        &run(&["eval", p.to_str().unwrap()]),
        &["types.json:", "expected a boolean"],
    );

    let mut inv = inventory(ok(json!([])), ok(json!([])), vec![]);
    inv["vault"] = json!([]);
    let p = write(dir.path(), "typo.json", &inv.to_string());
    assert_one_line_error(
        &run(&["eval", p.to_str().unwrap()]),
        &["typo.json:", "unknown field `vault`"],
    );
}

const CUSTOM_RULE: &str = r#"package acme.kv.tagged_owner

import data.kvaudit.lib

metadata := {
	"id": "acme/tagged-owner",
	"title": "Vaults carry an owner tag",
	"description": "Every vault has a non-empty owner tag.",
	"severity": "low",
	"help": "Tag the vault.\nRemediation: az keyvault update --name <vault> --set tags.owner=<team>",
	"markdown": "Tag the vault with `owner`.",
	"tags": ["governance"],
}

results contains {"status": "pass", "message": sprintf("owner is %v", [input.vault.tags.owner])} if lib.non_empty(object.get(input.vault, ["tags", "owner"], ""))

results contains {"status": "fail", "message": "the vault has no owner tag"} if not lib.non_empty(object.get(input.vault, ["tags", "owner"], ""))
"#;

const CUSTOM_TEST: &str = r#"package acme.kv.tagged_owner

test_pass_with_owner if {
	some r in results with input as {"vault": {"tags": {"owner": "payments"}}}
	r.status == "pass"
}

test_fail_without_owner if {
	some r in results with input as {"vault": {"tags": {}}}
	r.status == "fail"
}
"#;

#[test]
fn custom_policies_run_beside_or_instead_of_the_builtins() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "acme/tagged_owner.rego", CUSTOM_RULE);
    write(dir.path(), "acme/tagged_owner_test.rego", CUSTOM_TEST);
    let pol = dir.path().to_str().unwrap();
    let r = run(&["eval", "--demo", "--policy", pol, "--format", "json"]);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let rules: Vec<&str> = doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"acme/tagged-owner") && rules.contains(&"kv/audit-logging"),
        "{rules:?}"
    );
    let only = run(&[
        "eval",
        "--demo",
        "--policy",
        pol,
        "--no-builtin",
        "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_str(&only.stdout).unwrap();
    assert_eq!(doc["rules"].as_array().unwrap().len(), 1);
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["ruleId"] == "acme/tagged-owner")
    );

    let list = run(&["policy", "list", "--policy", pol]);
    assert_eq!(list.code, 0);
    assert!(
        list.stdout.contains("acme/tagged-owner") && list.stdout.contains("19 rule(s)"),
        "{}",
        list.stdout
    );

    let t = run(&["policy", "test", pol]);
    assert_eq!(t.code, 0, "{}{}", t.stdout, t.stderr);
    assert_eq!(
        t.stdout.trim_end().lines().last().unwrap(),
        "2 passed, 0 failed"
    );

    // A failing test is reported by name and exits 1.
    write(
        dir.path(),
        "acme/tagged_owner_test.rego",
        &CUSTOM_TEST.replace("r.status == \"fail\"", "r.status == \"pass\""),
    );
    let t = run(&["policy", "test", pol]);
    assert_eq!(t.code, 1);
    assert!(
        t.stdout.contains("FAIL") && t.stdout.contains("test_fail_without_owner"),
        "{}",
        t.stdout
    );
    assert_eq!(
        t.stdout.trim_end().lines().last().unwrap(),
        "1 passed, 1 failed"
    );
}

#[test]
fn builtin_policy_tests_pass() {
    let t = run(&["policy", "test"]);
    assert_eq!(t.code, 0, "{}{}", t.stdout, t.stderr);
    let last = t.stdout.trim_end().lines().last().unwrap().to_string();
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(
        passed >= 40,
        "expected the built-in suites to hold at least 40 tests: {last}"
    );
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
}

#[test]
fn bad_policies_get_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let syntax = write(
        dir.path(),
        "syntax/x.rego",
        "package acme.x\n\nmetadata := {\"id\": \"acme/x\"\nresults contains r if {\n  r := 1\n}\n",
    );
    let r = run(&[
        "eval",
        "--demo",
        "--policy",
        syntax.parent().unwrap().to_str().unwrap(),
    ]);
    assert_one_line_error(&r, &["x.rego:4:1:", "expecting `}`"]);

    let meta = write(
        dir.path(),
        "meta/y.rego",
        "package acme.y\nmetadata := {\"id\": \"acme/y\", \"title\": \"t\", \"description\": \"d\", \"severity\": \"high\", \"markdown\": \"m\"}\nresults contains {\"status\": \"pass\", \"message\": \"ok\"} if true\n",
    );
    let r = run(&[
        "eval",
        "--demo",
        "--policy",
        meta.parent().unwrap().to_str().unwrap(),
    ]);
    assert_one_line_error(&r, &["y.rego", "acme.y", "missing field `help`"]);

    let nometa = write(
        dir.path(),
        "nometa/z.rego",
        "package acme.z\nresults contains {\"status\": \"pass\", \"message\": \"ok\"} if true\n",
    );
    let r = run(&[
        "policy",
        "list",
        "--policy",
        nometa.parent().unwrap().to_str().unwrap(),
    ]);
    assert_one_line_error(&r, &["z.rego", "no `metadata` rule"]);

    let sev = write(
        dir.path(),
        "sev/s.rego",
        "package acme.s\nmetadata := {\"id\": \"acme/s\", \"title\": \"t\", \"description\": \"d\", \"severity\": \"urgent\", \"help\": \"h\", \"markdown\": \"m\"}\nresults contains {\"status\": \"pass\", \"message\": \"ok\"} if true\n",
    );
    let r = run(&[
        "policy",
        "list",
        "--policy",
        sev.parent().unwrap().to_str().unwrap(),
    ]);
    assert_one_line_error(&r, &["s.rego", "unknown variant `urgent`"]);

    let dup = write(
        dir.path(),
        "dup/d.rego",
        &CUSTOM_RULE
            .replace("acme/tagged-owner", "kv/audit-logging")
            .replace("acme.kv.tagged_owner", "acme.dup"),
    );
    let r = run(&[
        "policy",
        "list",
        "--policy",
        dup.parent().unwrap().to_str().unwrap(),
    ]);
    assert_one_line_error(&r, &["d.rego", "kv/audit-logging is already defined"]);

    let net = write(dir.path(), "net/n.rego", &CUSTOM_RULE.replace("if lib.non_empty(object.get(input.vault, [\"tags\", \"owner\"], \"\"))\n\nresults", "if {\n\tresp := http.send({\"method\": \"get\", \"url\": \"https://example.com\"})\n\tresp.status_code == 200\n}\n\nresults"));
    let r = run(&[
        "eval",
        "--demo",
        "--policy",
        net.parent().unwrap().to_str().unwrap(),
    ]);
    assert_one_line_error(
        &r,
        &[
            "n.rego:",
            "`http.send` is not available",
            "cannot reach the network",
        ],
    );

    let r = run(&[
        "eval",
        "--demo",
        "--policy",
        dir.path().join("nowhere").to_str().unwrap(),
    ]);
    assert_one_line_error(&r, &["nowhere", "does not exist"]);

    let r = run(&[
        "eval",
        "--demo",
        "--data",
        write(
            dir.path(),
            "data.json",
            "{\"config\": {\"windowHours\": -1}}",
        )
        .to_str()
        .unwrap(),
    ]);
    assert_one_line_error(&r, &["data.json", "windowHours must be a number of hours"]);
}

#[test]
fn allow_list_data_clears_known_callers() {
    let dir = tempfile::tempdir().unwrap();
    let before = demo_json();
    let fails = |doc: &Value, rule: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["ruleId"] == rule && f["status"] == "fail")
            .count()
    };
    let n = fails(&before, "kv/unauthorized-requests");
    assert!(n > 0);
    // Allow every IPv4 address: no unexplained 401 remains a failure.
    let data = write(
        dir.path(),
        "allow.json",
        r#"{"config": {"allowList": {"ips": ["0.0.0.0/0"]}}}"#,
    );
    let r = run(&[
        "eval",
        "--demo",
        "--format",
        "json",
        "--data",
        data.to_str().unwrap(),
    ]);
    let after: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(fails(&after, "kv/unauthorized-requests"), 0);
    assert_eq!(fails(&after, "kv/forbidden-requests"), 0);
}

#[test]
fn help_explains_the_tool() {
    let r = run(&["--help"]);
    assert_eq!(r.code, 0);
    for s in ["eval", "policy", "Exit codes", "kvaudit eval --demo"] {
        assert!(r.stdout.contains(s), "--help lacks {s}");
    }
    let r = run(&["eval", "--format", "yaml", "--demo"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("invalid value 'yaml'"), "{}", r.stderr);
}

#[test]
fn rule_reference_is_in_sync_with_the_policies() {
    let r = run(&["policy", "docs"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    assert!(
        r.stdout == committed,
        "docs/rules.md is stale: run `cargo run -- policy docs --output docs/rules.md`"
    );
    for id in [
        "kv/audit-logging",
        "kv/admin-alert",
        "kv/unauthorized-requests",
        "kv/forbidden-requests",
    ] {
        assert!(committed.contains(&format!("\n## {id}\n")), "{id} missing");
    }
}

#[test]
fn policy_new_scaffolds_a_package_whose_tests_pass() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let r = run(&["policy", "new", "acme/purge-guard", "--dir", d]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        dir.path().join("acme/purge_guard.rego").is_file()
            && dir.path().join("acme/purge_guard_test.rego").is_file()
    );
    let t = run(&["policy", "test", d]);
    assert_eq!(t.code, 0, "{}{}", t.stdout, t.stderr);
    assert_eq!(
        t.stdout.trim_end().lines().last().unwrap(),
        "2 passed, 0 failed"
    );
    let list = run(&["policy", "list", "--policy", d]);
    assert!(list.stdout.contains("acme/purge-guard"), "{}", list.stdout);
    // A second time it refuses to overwrite; a bad id is refused.
    assert_one_line_error(
        &run(&["policy", "new", "acme/purge-guard", "--dir", d]),
        &["already exists"],
    );
    assert_one_line_error(
        &run(&["policy", "new", "NoSlash", "--dir", d]),
        &["must look like `team/rule-name`"],
    );
}

/// The heading states the gate's outcome, not merely whether anything failed.
#[test]
fn the_markdown_heading_states_the_gate() {
    let heading = |args: &[&str]| {
        let out = kvaudit()
            .args(["eval", "--demo", "--format", "markdown"])
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.code(),
            text.lines().next().unwrap_or("").to_string(),
        )
    };
    let (code, h) = heading(&["--fail-on", "critical"]);
    assert_eq!(code, Some(3));
    assert!(
        h.starts_with(
            "## ⚠️ kvaudit: 19 check(s) could not be evaluated; nothing failed at or above critical"
        ),
        "{h}"
    );
    let (code, h) = heading(&["--fail-on", "critical", "--not-evaluable", "warn"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        h,
        "## ✅ kvaudit: gate passed: nothing failed at or above critical"
    );
    let (code, h) = heading(&["--fail-on", "high"]);
    assert_eq!(code, Some(1));
    assert!(h.starts_with("## ❌ kvaudit: gate failed: "), "{h}");
}

#[test]
fn markdown_is_appended_to_the_github_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = write(dir.path(), "summary.md", "earlier step\n");
    let out = kvaudit()
        .args(["eval", "--demo", "--format", "markdown"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n## ❌ kvaudit: gate failed: 47 failing result(s) at or above low\n\n47 failing, 19 not evaluable"),
        "{text}"
    );
    assert_eq!(
        text.trim_start_matches("earlier step\n"),
        String::from_utf8_lossy(&out.stdout)
    );
    // Other formats leave it alone.
    kvaudit()
        .args(["eval", "--demo", "--format", "json"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), text);
}

fn rule_ids(doc: &Value) -> Vec<String> {
    doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rules_are_selected_by_id_glob_and_skip() {
    let r = run(&[
        "eval",
        "--demo",
        "--format",
        "json",
        "--rule",
        "kv/*-alert",
        "--skip-rule",
        "kv/purge-alert",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        rule_ids(&doc),
        [
            "kv/access-policy-alert",
            "kv/admin-alert",
            "kv/log-tamper-alert"
        ]
    );
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["ruleId"].as_str().unwrap().ends_with("-alert")
                && f["ruleId"] != "kv/purge-alert")
    );
    // A pattern that matches nothing is an error, not an empty run.
    assert_one_line_error(
        &run(&["eval", "--demo", "--rule", "kv/audit-loging"]),
        &[
            "--rule kv/audit-loging",
            "matches no rule",
            "kv/audit-logging",
        ],
    );
    assert_one_line_error(
        &run(&["eval", "--demo", "--skip-rule", "kv/nothing*"]),
        &["--skip-rule kv/nothing*", "matches no rule"],
    );
    assert_one_line_error(
        &run(&[
            "eval",
            "--demo",
            "--rule",
            "kv/purge-alert",
            "--skip-rule",
            "kv/*",
        ]),
        &["leave no rule to run"],
    );
}

#[test]
fn a_benchmark_runs_its_controls_and_reports_by_control_id() {
    let r = run(&[
        "eval",
        "--demo",
        "--format",
        "json",
        "--benchmark",
        "cis-azure-6.0",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        rule_ids(&doc),
        [
            "kv/audit-logging",
            "kv/defender",
            "kv/key-expiry",
            "kv/key-rotation",
            "kv/private-endpoint",
            "kv/public-network-access",
            "kv/purge-protection",
            "kv/rbac-authorization",
            "kv/secret-expiry"
        ]
    );
    let controls: Vec<(String, String)> = doc["benchmark"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["control"].as_str().unwrap().to_string(),
                c["ruleId"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(doc["benchmark"]["name"], "cis-azure-6.0");
    assert_eq!(controls[0], ("6.1.1.4".into(), "kv/audit-logging".into()));
    // One row per control: key expiry answers 8.3.1 for RBAC vaults and
    // 8.3.2 for access-policy vaults, each finding under its own.
    assert!(controls.contains(&("8.3.1".into(), "kv/key-expiry".into())));
    assert!(controls.contains(&("8.3.2".into(), "kv/key-expiry".into())));
    let row = |c: &str| {
        doc["benchmark"]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["control"] == c)
            .unwrap()
            .clone()
    };
    // Secrets: kv-legacy-app (access policies) fails 8.3.4; kv-shared-secrets
    // (RBAC, two secrets) fails 8.3.3.
    assert_eq!(row("8.3.4")["fail"], 1);
    assert_eq!(row("8.3.3")["fail"], 2);
    assert!(controls.contains(&("8.1.8.1".into(), "kv/defender".into())));
    // Under CIS v3.0+ audit logging is strict: payments exports `audit` and
    // `allLogs` from two different settings, which lenient mode passes.
    let payments = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["ruleId"] == "kv/audit-logging" && f["resource"]["name"] == "kv-payments-prod")
        .unwrap();
    assert_eq!(payments["status"], "fail", "{payments}");
    let audit = &doc["benchmark"]["controls"][0];
    assert_eq!(
        (audit["pass"].as_u64(), audit["fail"].as_u64()),
        (Some(0), Some(7))
    );

    // The table and markdown show the control ids; SARIF results carry them.
    let t = run(&[
        "eval",
        "--demo",
        "--benchmark",
        "cis-azure-6.0",
        "--color",
        "never",
    ]);
    assert!(
        t.stdout.contains("cis-azure-6.0")
            && t.stdout.contains("8.3.5")
            && t.stdout.contains("Control"),
        "{}",
        t.stdout
    );
    let md = run(&[
        "eval",
        "--demo",
        "--benchmark",
        "cis-azure-6.0",
        "--format",
        "markdown",
    ]);
    assert!(md.stdout.contains("### cis-azure-6.0"), "{}", md.stdout);
    assert!(
        md.stdout.contains("| 8.3.5 | `kv/purge-protection` |"),
        "{}",
        md.stdout
    );
    let sarif = run(&[
        "eval",
        "--demo",
        "--benchmark",
        "cis-azure-6.0",
        "--format",
        "sarif",
    ]);
    let log: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(
        results
            .iter()
            .all(|r| r["properties"]["benchmarkControls"].is_string())
    );
    let legacy_secret = results
        .iter()
        .find(|r| {
            r["ruleId"] == "kv/secret-expiry"
                && r["properties"]["discriminator"] == "legacy-db-password"
        })
        .unwrap();
    assert_eq!(legacy_secret["properties"]["benchmarkControls"], "8.3.4");

    // v2.0 has no public-network-access control; an unknown version is refused.
    let v2 = run(&[
        "eval",
        "--demo",
        "--format",
        "json",
        "--benchmark",
        "cis-azure-2.0",
    ]);
    let v2: Value = serde_json::from_str(&v2.stdout).unwrap();
    let ids = rule_ids(&v2);
    assert!(
        !ids.contains(&"kv/public-network-access".to_string()),
        "{ids:?}"
    );
    assert!(ids.contains(&"kv/private-endpoint".to_string()), "{ids:?}");
    assert_one_line_error(
        &run(&["eval", "--demo", "--benchmark", "cis-azure-9.9"]),
        &[
            "--benchmark cis-azure-9.9",
            "unknown benchmark",
            "cis-azure-6.0",
        ],
    );
}

#[test]
fn policy_list_shows_each_rules_cis_ids() {
    let r = run(&["policy", "list", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rules: Value = serde_json::from_str(&r.stdout).unwrap();
    let meta = |id: &str| {
        rules
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metadata"]["id"] == id)
            .unwrap()["metadata"]
            .clone()
    };
    assert_eq!(
        meta("kv/purge-protection")["compliance"]["cis-azure"],
        json!({"2.0": "8.5", "2.1": "8.5", "3.0": "3.3.5", "4.0": "9.3.5", "5.0": "8.3.5", "6.0": "8.3.5"})
    );
    assert_eq!(
        meta("kv/defender")["compliance"]["cis-azure"]["2.1"],
        json!("2.1.9")
    );
    assert_eq!(
        meta("kv/key-expiry")["compliance"]["cis-azure"]["4.0"],
        json!({"rbac": "9.3.1", "accessPolicies": "9.3.2"})
    );
    assert_eq!(meta("kv/defender")["scope"], "subscription");
    let table = run(&["policy", "list", "--benchmark", "cis-azure-6.0"]);
    assert!(table.stdout.contains("v6.0 8.3.5"), "{}", table.stdout);
    assert!(table.stdout.contains("9 rule(s)"), "{}", table.stdout);
}

/// `--version` names the commit it was built from.
#[test]
fn version_names_the_commit() {
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git runs (the tests run in a clone)");
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    let out = kvaudit().arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("kvaudit {} ({head})", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn one_run_writes_several_formats_into_an_output_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("reports/nested");
    let r = run(&[
        "eval",
        "--demo",
        "--format",
        "table,sarif",
        "--format",
        "markdown,json",
        "--output-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    for name in ["kvaudit.txt", "kvaudit.sarif", "kvaudit.md", "kvaudit.json"] {
        assert!(
            r.stderr
                .contains(&format!("wrote {}", out_dir.join(name).display())),
            "{}",
            r.stderr
        );
    }
    // Each file is what the single-format run writes.
    let read = |name: &str| std::fs::read_to_string(out_dir.join(name)).unwrap();
    assert_eq!(read("kvaudit.txt"), run(&["eval", "--demo"]).stdout);
    let one_json: Value =
        serde_json::from_str(&run(&["eval", "--demo", "-f", "json"]).stdout).unwrap();
    let json: Value = serde_json::from_str(&read("kvaudit.json")).unwrap();
    assert_eq!(json["findings"], one_json["findings"]);
    let sarif: Value = serde_json::from_str(&read("kvaudit.sarif")).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        json["summary"]["fail"].as_u64().unwrap() as usize
    );
    assert!(read("kvaudit.md").starts_with("## ❌ kvaudit: gate failed"));

    // Several formats without a directory, or both --output and
    // --output-dir, are one-line errors before anything is evaluated.
    let r = run(&["eval", "--demo", "-f", "table,json"]);
    assert_one_line_error(&r, &["--format table,json", "--output-dir"]);
    // --output creates its directory.
    let file = dir.path().join("a/b/report.json");
    let r = run(&["eval", "--demo", "-f", "json", "-o", file.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(file.exists());
}

#[test]
fn eval_without_input_and_a_sarif_given_as_inventory_say_what_to_do() {
    let r = run(&["eval"]);
    assert_one_line_error(&r, &["no inventory given", "--demo"]);
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("k.sarif");
    let r = run(&[
        "eval",
        "--demo",
        "-f",
        "sarif",
        "-o",
        sarif.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    let r = run(&["eval", sarif.to_str().unwrap()]);
    assert_one_line_error(&r, &["k.sarif", "SARIF log", "--baseline"]);
}

#[test]
fn completions_man_pages_and_comma_separated_lists() {
    let r = run(&["completions", "bash"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "kvaudit.bash", &r.stdout);
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    assert!(r.stdout.contains("_kvaudit") && r.stdout.contains("fix"));
    let man = run(&["man"]);
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.contains(".TH kvaudit 1"),
        "{}",
        &man.stdout[..200]
    );
    let pages = dir.path().join("man");
    assert_eq!(
        run(&["man", "--output-dir", pages.to_str().unwrap()]).code,
        0
    );
    let eval_page = std::fs::read_to_string(pages.join("kvaudit-eval.1")).unwrap();
    assert!(
        eval_page.contains("output\\-dir"),
        "the eval page documents --output-dir"
    );
    // --rule a,b is --rule a --rule b.
    let both = demo_json_with(&["--rule", "kv/purge-protection,kv/rbac-authorization"]);
    let apart = demo_json_with(&[
        "--rule",
        "kv/purge-protection",
        "--rule",
        "kv/rbac-authorization",
    ]);
    assert_eq!(both["findings"], apart["findings"]);
    assert_eq!(both["rules"].as_array().unwrap().len(), 2);
}

fn demo_json_with(extra: &[&str]) -> Value {
    let mut args = vec!["eval", "--demo", "--format", "json"];
    args.extend(extra);
    let r = run(&args);
    serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{}", r.stderr))
}

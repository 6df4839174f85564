//! `kvaudit scan` end to end: the real binary, the real azure_identity
//! AzureCliCredential (a fake `az` first on PATH), against the fake Azure of
//! tests/support, whose Log Analytics answers come from executing the real
//! query with duckdb-kql over seeded rows (tests/fixtures/audit).
mod common;
#[path = "support/fake_azure.rs"]
mod fake_azure;
#[path = "support/tenant.rs"]
mod tenant;

use std::collections::{BTreeMap, BTreeSet};

use assert_cmd::Command;
use fake_azure::Faults;
use serde_json::Value;
use tenant::*;

fn scan(setup: &Setup, extra: &[&str], envs: &[(&str, &str)]) -> Out {
    kvaudit(setup, "scan", extra, envs)
}

/// The expected 401/403 groups of each listed vault, from tests/fixtures/audit/expected.json.
fn expected_groups() -> BTreeMap<String, Vec<Value>> {
    let e: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/audit/expected.json")).unwrap(),
    )
    .unwrap();
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for ws in ["workspace-a.json", "workspace-b.json"] {
        let w = &e["workspaces"][ws];
        for v in w["vaults"]
            .as_array()
            .unwrap_or_else(|| panic!("expected.json has no {ws}"))
        {
            out.entry(v.as_str().unwrap().to_lowercase()).or_default();
        }
        for row in w["rows"].as_array().unwrap() {
            out.entry(row["vault"].as_str().unwrap().to_lowercase())
                .or_default()
                .push(row.clone());
        }
    }
    out
}

fn identity_label(row: &Value) -> String {
    let s = |k: &str| row[k].as_str().unwrap_or("").to_string();
    if !s("upn").is_empty() {
        s("upn")
    } else if !s("appId").is_empty() {
        format!("app {}", s("appId"))
    } else if !s("objectId").is_empty() {
        format!("object {}", s("objectId"))
    } else {
        "anonymous".into()
    }
}

#[test]
fn scan_collects_what_the_rules_need_and_reports_exactly_their_findings() {
    let setup = start(Faults {
        page_size: 2,
        transient_every: 9,
        throttle_first: 1,
        ..Faults::default()
    });
    let inv_path = setup.dir.path().join("inventory.json");
    let out = scan(
        &setup,
        &[
            "--format",
            "json",
            "--save-inventory",
            inv_path.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 1, "stderr: {}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let got = verdicts(&report);

    // Audit evidence: exactly the groups the KQL engine computed from the seeded rows.
    let inv: Value = serde_json::from_str(&std::fs::read_to_string(&inv_path).unwrap()).unwrap();
    let expected = expected_groups();
    for v in inv["vaults"].as_array().unwrap() {
        let id = v["vault"]["id"].as_str().unwrap().to_lowercase();
        let Some(rows) = expected.get(&id) else {
            continue;
        };
        let logs = &v["auditLogs"];
        assert_eq!(logs["status"], "ok", "{id}: {logs}");
        for row in rows {
            let list = if row["kind"] == "unauthorized" {
                &logs["unauthorized"]
            } else {
                &logs["forbidden"]
            };
            let found = list.as_array().unwrap().iter().find(|g| {
                g["callerIp"] == row["callerIp"]
                    && g["client"] == row["client"]
                    && identity_label(&g["identity"]) == identity_label(row)
            });
            let g = found.unwrap_or_else(|| panic!("{id}: group {row} missing from {list}"));
            assert_eq!(g["count"], row["count"], "{id} {row}");
            if row["kind"] == "unauthorized" {
                assert_eq!(g["challenges"], row["challenges"], "{id} {row}");
            }
        }
        let n = logs["unauthorized"].as_array().unwrap().len()
            + logs["forbidden"].as_array().unwrap().len();
        assert_eq!(n, rows.len(), "{id}: extra groups in {logs}");
    }

    // Verdicts: the anomaly rules fail per IP / identity exactly where the seeded rows say.
    for (vault, rows) in &expected {
        let name = vault.rsplit('/').next().unwrap().to_string();
        let ips: BTreeSet<String> = rows
            .iter()
            .filter(|r| {
                r["kind"] == "unauthorized" && r["count"].as_u64() > r["challenges"].as_u64()
            })
            .map(|r| r["callerIp"].as_str().unwrap().to_string())
            .collect();
        let want: Vec<(String, String)> = if ips.is_empty() {
            vec![("pass".into(), String::new())]
        } else {
            ips.into_iter().map(|ip| ("fail".into(), ip)).collect()
        };
        assert_eq!(
            got[&(name.clone(), "kv/unauthorized-requests".into())],
            want,
            "{name}"
        );
        let keys: BTreeSet<String> = rows
            .iter()
            .filter(|r| r["kind"] == "forbidden")
            .map(|r| format!("{}|{}", identity_label(r), r["callerIp"].as_str().unwrap()))
            .collect();
        let want: Vec<(String, String)> = if keys.is_empty() {
            vec![("pass".into(), String::new())]
        } else {
            keys.into_iter().map(|k| ("fail".into(), k)).collect()
        };
        assert_eq!(
            got[&(name.clone(), "kv/forbidden-requests".into())],
            want,
            "{name}"
        );
    }
    let one = |v: &str, r: &str| got[&(v.to_string(), r.to_string())].clone();
    let st = |s: &str| vec![(s.to_string(), String::new())];
    // No rows at all: the quiet vaults pass.
    assert_eq!(one("kv-quiet-01", "kv/unauthorized-requests"), st("pass"));
    assert_eq!(one("kv-empty-01", "kv/forbidden-requests"), st("pass"));
    // Not evaluable, named: storage-only logs, unreadable settings, a workspace that answers 403.
    for v in ["kv-app-legacy", "kv-denied", "kv-sandbox-01"] {
        assert_eq!(
            one(v, "kv/unauthorized-requests"),
            st("not_evaluable"),
            "{v}"
        );
    }
    assert_eq!(one("kv-denied", "kv/audit-logging"), st("not_evaluable"));
    assert_eq!(one("kv-app-legacy", "kv/audit-logging"), st("pass"));
    // Subscription A's alert covers its vaults; B's alert list answered 403.
    assert_eq!(one("kv-app-01", "kv/admin-alert"), st("pass"));
    assert_eq!(one("kv-ops-01", "kv/admin-alert"), st("not_evaluable"));

    // The saved inventory re-evaluates to the same findings.
    let again = Command::cargo_bin("kvaudit")
        .unwrap()
        .args(["eval", inv_path.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["findings"], report["findings"]);
}

#[test]
fn requests_are_the_minimum() {
    let setup = start(Faults::default());
    let out = scan(&setup, &["--format", "json"], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let kinds = setup.fake.counters.by_kind.lock().unwrap().clone();
    let n = |k: &str| kinds.get(k).copied().unwrap_or(0);
    // One query per workspace the vaults log to (the locked one answers 403 and is counted before the fault).
    assert_eq!(
        setup
            .fake
            .counters
            .queries
            .load(std::sync::atomic::Ordering::SeqCst),
        3,
        "{kinds:?}"
    );
    assert_eq!(n("workspace"), 4, "{kinds:?}");
    assert_eq!(
        n("diagnosticSettings"),
        8,
        "{kinds:?} (the ninth vault's settings answer 403 before routing)"
    );
    assert_eq!(n("diagnosticSettingsCategories"), 1, "{kinds:?}");
    assert_eq!(n("subscriptions"), 1, "{kinds:?}");
    assert_eq!(n("vaults"), 2, "{kinds:?}");
    assert_eq!(
        n("actionGroups") + n("scheduledQueryRules") + n("activityLogAlerts"),
        6,
        "{kinds:?}"
    );
    let total = setup
        .fake
        .counters
        .requests
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(total, 1 + 2 + 6 + 9 + 1 + 4 + 4, "{kinds:?}");
    // Each query names only the vaults of its workspace; the storage-only vault is never queried.
    for q in setup.fake.counters.query_texts.lock().unwrap().iter() {
        assert!(!q.contains("kv-app-legacy"), "{q}");
        assert!(!q.contains("{{"), "{q}");
    }
}

#[test]
fn tokens_never_leave_the_requests() {
    let setup = start(Faults::default());
    let inv = setup.dir.path().join("inv.json");
    let sarif = setup.dir.path().join("out.sarif");
    let out = scan(
        &setup,
        &[
            "-vv",
            "--format",
            "sarif",
            "--output",
            sarif.to_str().unwrap(),
            "--save-inventory",
            inv.to_str().unwrap(),
        ],
        &[],
    );
    assert!(matches!(out.code, 1 | 3), "{}", out.stderr);
    for text in [
        out.stdout,
        out.stderr,
        std::fs::read_to_string(&inv).unwrap(),
        std::fs::read_to_string(&sarif).unwrap(),
    ] {
        assert!(
            !text.contains(fake_azure::ARM_TOKEN) && !text.contains(fake_azure::LA_TOKEN),
            "a token leaked"
        );
    }
}

#[test]
fn auth_failure_exits_2_with_what_to_do() {
    let setup = start(Faults::default());
    let out = scan(&setup, &[], &[("FAKE_AZ_FAIL", "1")]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("authentication failed (cli)") && out.stderr.contains("az login"),
        "{}",
        out.stderr
    );
    assert_eq!(
        setup
            .fake
            .counters
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let out = Command::cargo_bin("kvaudit")
        .unwrap()
        .args([
            "scan",
            "--auth",
            "cli",
            "--arm-endpoint",
            "http://203.0.113.10:8080",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("refusing to send a bearer token over plain http"),
        "{e}"
    );
}

#[test]
fn throttling_and_transient_faults_are_survived() {
    let setup = start(Faults {
        throttle_first: 3,
        transient_every: 4,
        page_size: 1,
        ..Faults::default()
    });
    let out = scan(&setup, &["--format", "json", "-v"], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        report["summary"]["resources"], 9,
        "paging over single-vault pages found every vault"
    );
    assert!(
        setup
            .fake
            .counters
            .throttled
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 3
    );
}

#[test]
fn scope_options_narrow_the_scan() {
    let setup = start(Faults::default());
    let out = scan(
        &setup,
        &[
            "--subscription",
            SUB_B,
            "--resource-group",
            "rg-ops",
            "--format",
            "json",
        ],
        &[],
    );
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let names: BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["kv-empty-01", "kv-ops-01", "kv-ops-02"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    let out = scan(
        &setup,
        &[
            "--vault",
            "kv-app-01",
            "--vault",
            &vid(SUB_B, "rg-ops", "KV-OPS-02"),
            "--format",
            "json",
        ],
        &[],
    );
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let names: BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["kv-app-01", "kv-ops-02"]
            .into_iter()
            .map(String::from)
            .collect()
    );
}

#[test]
fn missing_credential_inputs_are_named() {
    let run = |auth: &str, envs: &[(&str, &str)]| {
        let mut c = Command::cargo_bin("kvaudit").unwrap();
        c.args([
            "scan",
            "--auth",
            auth,
            "--arm-endpoint",
            "http://127.0.0.1:9",
        ])
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_FEDERATED_TOKEN_FILE");
        for (k, v) in envs {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let (code, e) = run(
        "env",
        &[("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")],
    );
    assert_eq!(code, Some(2));
    assert!(
        e.contains("AZURE_CLIENT_ID, AZURE_CLIENT_SECRET not set")
            && e.contains("service principal"),
        "{e}"
    );
    let (code, e) = run(
        "workload-identity",
        &[
            ("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47"),
            ("AZURE_CLIENT_ID", "x"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token"),
        ],
    );
    assert_eq!(code, Some(2));
    assert!(
        e.contains("AZURE_FEDERATED_TOKEN_FILE /nonexistent/token does not exist"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn pr_gate_scan_with_waivers_and_a_baseline() {
    let setup = start(Faults::default());
    let d = setup.dir.path();
    let base = d.join("nightly.sarif");
    let out = scan(
        &setup,
        &[
            "--format",
            "sarif",
            "--sarif-profile",
            "full",
            "--category",
            "kvaudit/test",
            "--output",
            base.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let waivers = d.join("waivers.yaml");
    std::fs::write(
        &waivers,
        "waivers:\n  - rule: kv/unauthorized-requests\n    resource: \"*/vaults/kv-app-01\"\n    justification: pen test window\n    owner: secops@contoso.com\n    expires: 2099-01-01\n  - rule: kv/forbidden-requests\n    resource: \"*/vaults/kv-ops-*\"\n    justification: expired exception\n    owner: ops@contoso.com\n    expires: 2021-06-30\n  - rule: kv/admin-alert\n    resource: \"*/vaults/kv-none\"\n    justification: matches nothing\n    owner: ops@contoso.com\n    expires: 2099-01-01\n",
    )
    .unwrap();
    let pr = d.join("pr.sarif");
    let out = scan(
        &setup,
        &[
            "--format",
            "sarif",
            "--category",
            "kvaudit/test",
            "--output",
            pr.to_str().unwrap(),
            "--baseline",
            base.to_str().unwrap(),
            "--fail-on-new",
            "--waivers",
            waivers.to_str().unwrap(),
        ],
        &[],
    );
    // Nothing is new since the nightly run: the gate passes on failures, and exits 3 for what was not evaluable.
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("expired waiver") && out.stderr.contains("matched no failing result"),
        "{}",
        out.stderr
    );
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&pr).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| r["baselineState"] == "unchanged"
        && r["kind"] == "fail"
        && r.get("suppressions").is_none()));
    assert!(results.iter().all(|r| {
        !r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap()
            .ends_with("kv-app-01")
            || r["ruleId"] != "kv/unauthorized-requests"
    }));
    assert_eq!(log["runs"][0]["automationDetails"]["id"], "kvaudit/test/");
}

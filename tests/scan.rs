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
    // And regorus' interpreter, the reference, agrees with its VM on it.
    let reference = Command::cargo_bin("kvaudit")
        .unwrap()
        .env("KVAUDIT_ENGINE", "interpreter")
        .args(["eval", inv_path.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let reference: Value = serde_json::from_slice(&reference.stdout).unwrap();
    assert_eq!(reference["findings"], report["findings"]);
}

/// Keys, secrets, Defender pricings, metrics and the audit-volume query,
/// collected from the fake and judged.
#[test]
fn posture_collectors_read_the_management_plane_and_metrics() {
    let setup = start(Faults::default());
    let out = scan(&setup, &["--format", "json"], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let got = verdicts(&report);
    let one = |v: &str, r: &str| -> Vec<(String, String)> {
        got.get(&(v.to_string(), r.to_string()))
            .cloned()
            .unwrap_or_else(|| panic!("no finding for {v} {r}"))
    };
    let st = |s: &str| vec![(s.to_string(), String::new())];
    let named = |s: &str, d: &str| vec![(s.to_string(), d.to_string())];
    // Four secrets over two pages, one disabled; a key whose rotation policy
    // only Keys_Get returns.
    assert_eq!(one("kv-app-01", "kv/secret-expiry"), st("pass"));
    assert_eq!(one("kv-app-01", "kv/key-expiry"), st("pass"));
    assert_eq!(one("kv-app-01", "kv/key-rotation"), st("pass"));
    assert_eq!(
        one("kv-data-01", "kv/key-expiry"),
        named("fail", "no-expiry")
    );
    assert_eq!(
        one("kv-data-01", "kv/secret-expiry"),
        named("fail", "forever")
    );
    assert_eq!(
        one("kv-data-01", "kv/key-rotation"),
        named("fail", "no-expiry")
    );
    // 403 on the lists: not evaluable, never passing.
    assert_eq!(one("kv-denied", "kv/key-expiry"), st("not_evaluable"));
    assert_eq!(one("kv-denied", "kv/secret-expiry"), st("not_evaluable"));
    // Defender per subscription: Standard in app-prod; ops' pricing answers 403.
    assert_eq!(one("app-prod", "kv/defender"), st("pass"));
    assert_eq!(one("ops", "kv/defender"), st("not_evaluable"));
    // Purge alerts: app-prod's only alert covers vault write/delete; ops' list is unreadable.
    assert_eq!(one("app-prod", "kv/purge-alert"), st("fail"));
    assert_eq!(one("ops", "kv/purge-alert"), st("not_evaluable"));
    // Logs arriving: workspace-a holds kv-app-01's rows; kv-quiet-01 served
    // 12 requests and has none; kv-empty-01 served none; the locked
    // workspace and storage-only logs cannot be counted.
    assert_eq!(one("kv-app-01", "kv/logs-arriving"), st("pass"));
    assert_eq!(one("kv-ops-01", "kv/logs-arriving"), st("pass"));
    assert_eq!(one("kv-quiet-01", "kv/logs-arriving"), st("fail"));
    assert_eq!(one("kv-empty-01", "kv/logs-arriving"), st("pass"));
    for v in ["kv-sandbox-01", "kv-app-legacy", "kv-denied"] {
        assert_eq!(one(v, "kv/logs-arriving"), st("not_evaluable"), "{v}");
    }
    let quiet = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["ruleId"] == "kv/logs-arriving" && f["resource"]["name"] == "kv-quiet-01")
        .unwrap();
    assert!(
        quiet["message"]
            .as_str()
            .unwrap()
            .contains("12 API requests"),
        "{quiet}"
    );
    assert_eq!(quiet["evidence"]["serviceApiHits"], 12);
    // The volume query covers the seven days before --until, for the
    // workspace's vaults only.
    let texts = setup.fake.counters.query_texts.lock().unwrap().clone();
    let volume: Vec<&String> = texts
        .iter()
        .filter(|q| q.contains("summarize events = count()"))
        .collect();
    assert_eq!(volume.len(), 3, "{texts:?}");
    assert!(
        volume
            .iter()
            .all(|q| q.contains("datetime(2026-11-20T09:00:00Z)") && !q.contains("{{")),
        "{volume:?}"
    );
}

fn requests_by_kind(setup: &Setup) -> (BTreeMap<String, u64>, u64, u64) {
    use std::sync::atomic::Ordering::SeqCst;
    let c = &setup.fake.counters;
    (
        c.by_kind.lock().unwrap().clone(),
        c.queries.load(SeqCst),
        c.requests.load(SeqCst),
    )
}

#[test]
fn requests_are_the_minimum() {
    let setup = start(Faults::default());
    let out = scan(&setup, &["--format", "json"], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let (kinds, queries, total) = requests_by_kind(&setup);
    let n = |k: &str| kinds.get(k).copied().unwrap_or(0);
    // Two queries per workspace the vaults log to: the 401/403 evidence and
    // the AuditEvent volume (the locked one answers 403 before routing).
    assert_eq!(queries, 6, "{kinds:?}");
    assert_eq!(n("workspace"), 4, "{kinds:?}");
    assert_eq!(
        n("diagnosticSettings"),
        8,
        "{kinds:?} (the ninth vault's settings answer 403 before routing)"
    );
    assert_eq!(n("diagnosticSettingsCategories"), 1, "{kinds:?}");
    assert_eq!(n("subscriptions"), 1, "{kinds:?}");
    assert_eq!(n("vaults"), 2, "{kinds:?}");
    assert_eq!(n("actionGroups") + n("activityLogAlerts"), 4, "{kinds:?}");
    // No built-in rule reads log search alerts: not requested.
    assert_eq!(n("scheduledQueryRules"), 0, "{kinds:?}");
    assert_eq!(n("pricings"), 2, "{kinds:?}");
    assert_eq!(n("keys"), 9, "{kinds:?}");
    // Keys_Get for each listed key (kv/key-rotation): kv-app-01 and kv-data-01.
    assert_eq!(n("key"), 2, "{kinds:?}");
    // kv-app-01's four secrets come in two pages.
    assert_eq!(n("secrets"), 10, "{kinds:?}");
    // ServiceApiHit through metrics:getBatch, not one ARM read per vault: one
    // call for subscription A's five vaults; subscription B's four fail as
    // a batch because kv-sandbox-01's metrics are refused, so the batch is
    // halved (2 + 2) and the refused pair again (1 + 1): 1 + 5 calls.
    assert_eq!(n("metrics"), 0, "{kinds:?}");
    assert_eq!(n("metrics-batch"), 6, "{kinds:?}");
    assert_eq!(
        total,
        1 + 2 + 4 + 2 + 9 + 9 + 2 + 10 + 6 + 1 + 4 + 8,
        "{kinds:?}"
    );
}

/// Under ARM's read bucket (emulated small: 10 reads, refilled at 25 per
/// second, per subscription), the client waits for refills instead of being
/// refused: no 429, the same requests as without the bucket, and the same
/// findings.
#[test]
fn a_drained_read_bucket_paces_the_scan_instead_of_drawing_429s() {
    let free = start(Faults::default());
    let unthrottled = scan(&free, &["--format", "json", "--concurrency", "8"], &[]);
    assert_eq!(unthrottled.code, 1, "{}", unthrottled.stderr);
    let (_, _, free_total) = requests_by_kind(&free);

    let setup = start(Faults {
        bucket: Some((10.0, 25.0)),
        ..Faults::default()
    });
    let out = scan(&setup, &["--format", "json", "--concurrency", "8"], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let (kinds, _, total) = requests_by_kind(&setup);
    let throttled = setup
        .fake
        .counters
        .throttled
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(throttled, 0, "429s under the bucket: {kinds:?}");
    assert_eq!(total, free_total, "no retries: {kinds:?}");
    // The bucket was drained: each subscription needed more than its 10
    // reads (ARM reads: all but the subscription list, metrics and queries).
    let arm_reads: u64 = kinds
        .iter()
        .filter(|(kind, _)| {
            !["subscriptions", "metrics", "metrics-batch", "query"].contains(&kind.as_str())
        })
        .map(|(_, n)| n)
        .sum();
    assert!(arm_reads / 2 > 10, "{kinds:?}");
    let findings = |o: &Out| -> Vec<Value> {
        let v: Value = serde_json::from_str(&o.stdout).unwrap();
        v["findings"].as_array().unwrap().clone()
    };
    assert_eq!(findings(&out), findings(&unthrottled));
}

/// The mission's rules read no keys, secrets, metrics or pricings, and need
/// one query per workspace: selecting them costs what a scan cost before
/// the posture rules existed (less: log search alerts are no longer read).
#[test]
fn a_scan_reads_only_what_the_selected_rules_need() {
    let setup = start(Faults::default());
    let saved = setup.dir.path().join("mission.json");
    let mut args = common::MISSION.to_vec();
    args.extend([
        "--format",
        "json",
        "--save-inventory",
        saved.to_str().unwrap(),
    ]);
    let out = scan(&setup, &args, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let (kinds, queries, total) = requests_by_kind(&setup);
    let n = |k: &str| kinds.get(k).copied().unwrap_or(0);
    for k in [
        "keys",
        "key",
        "secrets",
        "metrics",
        "metrics-batch",
        "pricings",
        "scheduledQueryRules",
    ] {
        assert_eq!(n(k), 0, "{k} requested: {kinds:?}");
    }
    assert_eq!(queries, 3, "{kinds:?}");
    assert_eq!(total, 1 + 2 + 4 + 9 + 1 + 4 + 4, "{kinds:?}");
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let rules: BTreeSet<&str> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        BTreeSet::from([
            "kv/admin-alert",
            "kv/audit-logging",
            "kv/forbidden-requests",
            "kv/unauthorized-requests"
        ])
    );
    // What was skipped is recorded as such, so re-evaluating the inventory
    // with every rule reports it not evaluable, never passing.
    let inv: Value = serde_json::from_str(
        &std::fs::read_to_string(setup.dir.path().join("mission.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(inv["schemaVersion"], 2);
    let v = &inv["vaults"][0];
    for part in ["keys", "secrets", "apiHits", "auditVolume"] {
        assert_eq!(v[part]["status"], "notCollected", "{part}: {}", v[part]);
        assert!(
            v[part]["reason"]
                .as_str()
                .unwrap()
                .contains("no selected rule"),
            "{}",
            v[part]
        );
    }
    assert_eq!(
        inv["subscriptions"][0]["pricings"]["status"],
        "notCollected"
    );
}

/// The names of the resources a JSON report has findings on.
fn resource_names(report: &str) -> BTreeSet<String> {
    let report: Value = serde_json::from_str(report).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"]["name"].as_str().unwrap().to_string())
        .collect()
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
    let names = resource_names(&out.stdout);
    // The three vaults of rg-ops, and subscription "ops" (kv/defender,
    // kv/purge-alert).
    assert_eq!(
        names,
        ["kv-empty-01", "kv-ops-01", "kv-ops-02", "ops"]
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
    let names = resource_names(&out.stdout);
    // Both vaults, and the subscriptions that hold them.
    assert_eq!(
        names,
        ["app-prod", "kv-app-01", "kv-ops-02", "ops"]
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
    assert!(
        results
            .iter()
            .all(|r| r["baselineState"] == "unchanged" && r["kind"] == "fail")
    );
    // The waived results stay in, suppressed (the action dismisses their
    // alerts); every other result carries `suppressions: []`.
    let waived = |r: &&Value| {
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap()
            .ends_with("kv-app-01")
            && r["ruleId"] == "kv/unauthorized-requests"
    };
    assert!(results.iter().filter(waived).count() > 0);
    for r in results {
        let s = r["suppressions"].as_array().unwrap();
        if waived(&r) {
            assert_eq!(s[0]["status"], "accepted", "{r}");
        } else {
            assert!(s.is_empty(), "{r}");
        }
    }
    assert_eq!(log["runs"][0]["automationDetails"]["id"], "kvaudit/test/");
}

/// A key whose Keys_Get fails is reported with the error; an inventory
/// scanned without kv/key-rotation says its policies were never read.
#[test]
fn key_rotation_names_failed_and_missing_reads() {
    let setup = start(Faults {
        forbidden: vec!["/vaults/kv-app-01/keys/cmk".into()],
        ..Faults::default()
    });
    let out = scan(
        &setup,
        &["--rule", "kv/key-rotation", "--format", "json"],
        &[],
    );
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let finding = |report: &Value, vault: &str| -> Value {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["resource"]["name"] == vault)
            .unwrap()
            .clone()
    };
    let f = finding(&report, "kv-app-01");
    assert_eq!(f["status"], "not_evaluable", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("could not be read (cmk: InsufficientAccessError"),
        "{f}"
    );
    // Scanned for key expiry only: no Keys_Get was sent.
    let inv = setup.dir.path().join("expiry.json");
    scan(
        &setup,
        &[
            "--rule",
            "kv/key-expiry",
            "--format",
            "json",
            "--save-inventory",
            inv.to_str().unwrap(),
        ],
        &[],
    );
    let again = Command::cargo_bin("kvaudit")
        .unwrap()
        .args([
            "eval",
            inv.to_str().unwrap(),
            "--rule",
            "kv/key-rotation",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    let f = finding(&again, "kv-app-01");
    assert_eq!(f["status"], "not_evaluable", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("was not read (cmk;"),
        "{f}"
    );
}

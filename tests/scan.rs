//! `kvaudit scan` end to end: the real binary, the real azure_identity
//! AzureCliCredential (a fake `az` first on PATH), against the fake Azure of
//! tests/support, whose Log Analytics answers come from executing the real
//! query with duckdb-kql over seeded rows (tests/fixtures/audit).
mod common;
#[path = "support/fake_azure.rs"]
mod fake_azure;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use assert_cmd::Command;
use common::*;
use fake_azure::{FakeAzure, Faults, Tenant};
use serde_json::{Value, json};

const SUB_A: &str = "0b1f6471-1bf0-4dda-aec3-111122223333";
const SUB_B: &str = "0b1f6471-1bf0-4dda-aec3-444455556666";
const WS_A: (&str, &str) = ("law-a", "a0000000-0000-4000-8000-00000000000a");
const WS_B: (&str, &str) = ("law-b", "b0000000-0000-4000-8000-00000000000b");
const WS_C: (&str, &str) = ("law-locked", "c0000000-0000-4000-8000-00000000000c");
const WS_D: (&str, &str) = ("law-empty", "d0000000-0000-4000-8000-00000000000d");
const UNTIL: &str = "2026-11-27T09:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn vid(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}")
}

fn ws_id(sub: &str, ws: (&str, &str)) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/{}",
        ws.0
    )
}

fn kv(sub: &str, rg: &str, name: &str) -> Value {
    let mut v = vault(rg, name);
    v["id"] = json!(vid(sub, rg, name));
    v
}

fn to_workspace(sub: &str, rg: &str, name: &str, ws: (&str, &str), dedicated: bool) -> Value {
    let id = vid(sub, rg, name);
    let mut s = setting(
        &id,
        "audit-to-law",
        &ws_id(SUB_A, ws),
        "",
        json!([{"categoryGroup": "audit", "enabled": true}]),
    );
    if dedicated {
        s["properties"]["logAnalyticsDestinationType"] = json!("Dedicated");
    }
    vault_entry(
        kv(sub, rg, name),
        ok(json!([s])),
        json!({"status": "notCollected", "reason": "fake"}),
    )
}

/// The tenant the fake serves, in inventory format.
fn tenant_json() -> Value {
    let storage_only = setting(
        &vid(SUB_A, "rg-app", "kv-app-legacy"),
        "archive",
        "",
        "/subscriptions/x/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/starchive",
        json!([{"category": "AuditEvent", "enabled": true}]),
    );
    let mut alert_a = alert(
        "kv-admin",
        json!([format!("/subscriptions/{SUB_A}")]),
        admin_condition(),
        &["ag-secops"],
        true,
    );
    alert_a["id"] = json!(format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-monitoring/providers/microsoft.insights/activityLogAlerts/kv-admin"
    ));
    alert_a["properties"]["actions"]["actionGroups"][0]["actionGroupId"] = json!(format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-secops"
    ));
    let mut ag = action_group("ag-secops", true, true);
    ag["id"] = json!(format!(
        "/subscriptions/{SUB_A}/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-secops"
    ));
    let sub = |id: &str, name: &str, alerts: Value, groups: Value| {
        json!({
            "subscription": {"id": format!("/subscriptions/{id}"), "subscriptionId": id, "displayName": name, "state": "Enabled", "tenantId": TENANT},
            "activityLogAlerts": alerts, "actionGroups": groups, "scheduledQueryRules": ok(json!([]))
        })
    };
    let ws = |w: (&str, &str)| {
        json!({"id": ws_id(SUB_A, w), "name": w.0, "type": "Microsoft.OperationalInsights/workspaces", "location": "westeurope",
               "properties": {"customerId": w.1, "retentionInDays": 90}})
    };
    json!({
        "schemaVersion": 1,
        "generatedAt": UNTIL,
        "generator": {"name": "kvaudit", "version": "test", "kind": "hand-written"},
        "subscriptions": [
            sub(SUB_A, "app-prod", ok(json!([alert_a])), ok(json!([ag]))),
            sub(SUB_B, "ops", json!({"status": "error", "error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action 'microsoft.insights/activityLogAlerts/read'."}}), ok(json!([]))),
        ],
        "vaults": [
            to_workspace(SUB_A, "rg-app", "kv-app-01", WS_A, false),
            to_workspace(SUB_A, "rg-data", "kv-data-01", WS_A, true),
            to_workspace(SUB_A, "rg-data", "kv-quiet-01", WS_A, false),
            vault_entry(kv(SUB_A, "rg-app", "kv-app-legacy"), ok(json!([storage_only])), json!({"status": "notCollected", "reason": "fake"})),
            vault_entry(kv(SUB_A, "rg-app", "kv-denied"), err("AuthorizationFailed", "denied", 403), json!({"status": "notCollected", "reason": "fake"})),
            to_workspace(SUB_B, "rg-ops", "kv-ops-01", WS_B, true),
            to_workspace(SUB_B, "rg-ops", "kv-ops-02", WS_B, true),
            to_workspace(SUB_B, "rg-sandbox", "kv-sandbox-01", WS_C, true),
            to_workspace(SUB_B, "rg-ops", "kv-empty-01", WS_D, false),
        ],
        "workspaces": [ws(WS_A), ws(WS_B), ws(WS_C), ws(WS_D)],
        "diagnosticCategories": {"microsoft.keyvault/vaults": [
            {"id": "x/providers/microsoft.insights/diagnosticSettingsCategories/AuditEvent", "name": "AuditEvent", "type": "microsoft.insights/diagnosticSettingsCategories", "properties": {"categoryType": "Logs", "categoryGroups": ["audit", "allLogs"]}}
        ]}
    })
}

struct Setup {
    fake: FakeAzure,
    dir: tempfile::TempDir,
}

fn start(faults: Faults) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let tenant_file = dir.path().join("tenant.json");
    std::fs::write(&tenant_file, tenant_json().to_string()).unwrap();
    let audit = root().join("tests/fixtures/audit");
    let tables: HashMap<String, PathBuf> = [
        (WS_A.1.to_string(), audit.join("workspace-a.json")),
        (WS_B.1.to_string(), audit.join("workspace-b.json")),
        (WS_D.1.to_string(), audit.join("workspace-empty.json")),
    ]
    .into();
    let mut faults = faults;
    // Persistent 403s: one vault's diagnostic settings and one workspace's query.
    faults
        .forbidden
        .push("/vaults/kv-denied/providers/microsoft.insights/diagnosticsettings".into());
    faults
        .forbidden
        .push(format!("/v1/workspaces/{}/query", WS_C.1));
    let fake = FakeAzure::start(Tenant::load(&tenant_file, tables), faults);
    Setup { fake, dir }
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn scan(setup: &Setup, extra: &[&str], envs: &[(&str, &str)]) -> Out {
    let path = format!(
        "{}:{}",
        root().join("tests/support/bin").display(),
        std::env::var("PATH").unwrap()
    );
    let url = setup.fake.url();
    let mut cmd = Command::cargo_bin("kvaudit").unwrap();
    cmd.env("PATH", path)
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_FEDERATED_TOKEN_FILE")
        .env_remove("IDENTITY_ENDPOINT")
        .env_remove("MSI_ENDPOINT")
        .args([
            "scan",
            "--auth",
            "cli",
            "--arm-endpoint",
            &url,
            "--log-analytics-endpoint",
            &url,
            "--until",
            UNTIL,
            "--since",
            "24h",
        ])
        .args(extra);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn verdicts(report: &Value) -> BTreeMap<(String, String), Vec<(String, String)>> {
    let mut m: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        m.entry((
            f["resource"]["name"].as_str().unwrap().into(),
            f["ruleId"].as_str().unwrap().into(),
        ))
        .or_default()
        .push((
            f["status"].as_str().unwrap().into(),
            f["discriminator"].as_str().unwrap_or("").into(),
        ));
    }
    m
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

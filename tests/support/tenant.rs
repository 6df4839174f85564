//! The fake tenant shared by the scan and access tests: two subscriptions,
//! four workspaces (two seeded with audit rows, one locked, one empty) and
//! vaults in every state the collectors distinguish.
#![allow(dead_code)]
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::{Value, json};

use super::common::*;
use super::fake_azure::{FakeAzure, Faults, Tenant};

pub const SUB_A: &str = "0b1f6471-1bf0-4dda-aec3-111122223333";
pub const SUB_B: &str = "0b1f6471-1bf0-4dda-aec3-444455556666";
pub const WS_A: (&str, &str) = ("law-a", "a0000000-0000-4000-8000-00000000000a");
pub const WS_B: (&str, &str) = ("law-b", "b0000000-0000-4000-8000-00000000000b");
pub const WS_C: (&str, &str) = ("law-locked", "c0000000-0000-4000-8000-00000000000c");
pub const WS_D: (&str, &str) = ("law-empty", "d0000000-0000-4000-8000-00000000000d");
pub const UNTIL: &str = "2026-11-27T09:00:00Z";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn vid(sub: &str, rg: &str, name: &str) -> String {
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

/// 2028-01-01, Unix seconds.
const EXPIRES: i64 = 1_830_297_600;

/// A key or secret as the management plane lists it; `rotation` adds a
/// rotation policy with one lifetime action of that type.
fn item(
    vault: &str,
    what: &str,
    name: &str,
    enabled: bool,
    exp: Option<i64>,
    rotation: Option<&str>,
) -> Value {
    let mut attributes =
        json!({"enabled": enabled, "created": 1_735_689_600, "updated": 1_735_689_600});
    if let Some(e) = exp {
        attributes["exp"] = json!(e);
    }
    let mut v = json!({
        "id": format!("{vault}/{what}/{name}"), "name": name,
        "type": format!("Microsoft.KeyVault/vaults/{what}"), "location": "westeurope",
        "properties": {"attributes": attributes}
    });
    if let Some(action) = rotation {
        v["properties"]["rotationPolicy"] = json!({
            "attributes": {"expiryTime": "P1Y"},
            "lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": action}}]
        });
    }
    v
}

/// A ServiceApiHit answer with one daily point per count.
fn hits(vault: &str, per_day: &[f64]) -> Value {
    let data: Vec<Value> = per_day
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"timeStamp": format!("2026-11-2{}T09:00:00Z", i), "count": n}))
        .collect();
    ok(
        json!({"cost": 0, "timespan": "2026-11-20T09:00:00Z/2026-11-27T09:00:00Z", "interval": "P1D",
              "value": [{"id": format!("{vault}/providers/Microsoft.Insights/metrics/ServiceApiHit"), "type": "Microsoft.Insights/metrics",
                         "name": {"value": "ServiceApiHit", "localizedValue": "Total Service Api Hits"}, "unit": "Count",
                         "timeseries": [{"metadatavalues": [], "data": data}], "errorCode": "Success"}]}),
    )
}

/// The tenant the fake serves, in inventory format.
pub fn tenant_json() -> Value {
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
    let pricing = |id: &str, tier: &str| {
        ok(
            json!([{"id": format!("/subscriptions/{id}/providers/Microsoft.Security/pricings/KeyVaults"),
                   "name": "KeyVaults", "type": "Microsoft.Security/pricings",
                   "properties": {"pricingTier": tier, "subPlan": "PerTransaction"}}]),
        )
    };
    let mut sub_a = sub(SUB_A, "app-prod", ok(json!([alert_a])), ok(json!([ag])));
    sub_a["pricings"] = pricing(SUB_A, "Standard");
    let mut sub_b = sub(
        SUB_B,
        "ops",
        json!({"status": "error", "error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action 'microsoft.insights/activityLogAlerts/read'."}}),
        ok(json!([])),
    );
    sub_b["pricings"] = err(
        "AuthorizationFailed",
        "The client does not have authorization to perform action 'Microsoft.Security/pricings/read'.",
        403,
    );
    let mut vaults = vec![
        to_workspace(SUB_A, "rg-app", "kv-app-01", WS_A, false),
        to_workspace(SUB_A, "rg-data", "kv-data-01", WS_A, true),
        to_workspace(SUB_A, "rg-data", "kv-quiet-01", WS_A, false),
        vault_entry(
            kv(SUB_A, "rg-app", "kv-app-legacy"),
            ok(json!([storage_only])),
            json!({"status": "notCollected", "reason": "fake"}),
        ),
        vault_entry(
            kv(SUB_A, "rg-app", "kv-denied"),
            err("AuthorizationFailed", "denied", 403),
            json!({"status": "notCollected", "reason": "fake"}),
        ),
        to_workspace(SUB_B, "rg-ops", "kv-ops-01", WS_B, true),
        to_workspace(SUB_B, "rg-ops", "kv-ops-02", WS_B, true),
        to_workspace(SUB_B, "rg-sandbox", "kv-sandbox-01", WS_C, true),
        to_workspace(SUB_B, "rg-ops", "kv-empty-01", WS_D, false),
    ];
    // Keys, secrets and ServiceApiHit metrics, as the fake serves them (a
    // key list never carries rotationPolicy; Keys_Get does).
    for v in &mut vaults {
        let id = v["vault"]["id"].as_str().unwrap().to_string();
        let name = v["vault"]["name"].as_str().unwrap().to_string();
        let (keys, secrets, hits) = match name.as_str() {
            "kv-app-01" => (
                ok(json!([item(
                    &id,
                    "keys",
                    "cmk",
                    true,
                    Some(EXPIRES),
                    Some("Rotate")
                )])),
                ok(json!([
                    item(&id, "secrets", "s1", true, Some(EXPIRES), None),
                    item(&id, "secrets", "s2", true, Some(EXPIRES), None),
                    item(&id, "secrets", "s3", true, Some(EXPIRES), None),
                    item(&id, "secrets", "s4-off", false, None, None),
                ])),
                hits(&id, &[40.0, 52.0]),
            ),
            "kv-data-01" => (
                ok(json!([item(
                    &id,
                    "keys",
                    "no-expiry",
                    true,
                    None,
                    Some("Notify")
                )])),
                ok(json!([item(&id, "secrets", "forever", true, None, None)])),
                hits(&id, &[7.0]),
            ),
            "kv-quiet-01" => (ok(json!([])), ok(json!([])), hits(&id, &[3.0, 0.0, 9.0])),
            "kv-denied" => (
                err(
                    "AuthorizationFailed",
                    "The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/keys/read'.",
                    403,
                ),
                err(
                    "AuthorizationFailed",
                    "The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/secrets/read'.",
                    403,
                ),
                hits(&id, &[1.0]),
            ),
            "kv-sandbox-01" => (
                ok(json!([])),
                ok(json!([])),
                err("AuthorizationFailed", "no metrics", 403),
            ),
            _ => (ok(json!([])), ok(json!([])), hits(&id, &[])),
        };
        v["keys"] = keys;
        v["secrets"] = secrets;
        v["apiHits"] = hits;
    }
    let ws = |w: (&str, &str)| {
        json!({"id": ws_id(SUB_A, w), "name": w.0, "type": "Microsoft.OperationalInsights/workspaces", "location": "westeurope",
               "properties": {"customerId": w.1, "retentionInDays": 90}})
    };
    json!({
        "schemaVersion": 1,
        "generatedAt": UNTIL,
        "generator": {"name": "kvaudit", "version": "test", "kind": "hand-written"},
        "subscriptions": [sub_a, sub_b],
        "vaults": vaults,
        "workspaces": [ws(WS_A), ws(WS_B), ws(WS_C), ws(WS_D)],
        "diagnosticCategories": {"microsoft.keyvault/vaults": [
            {"id": "x/providers/microsoft.insights/diagnosticSettingsCategories/AuditEvent", "name": "AuditEvent", "type": "microsoft.insights/diagnosticSettingsCategories", "properties": {"categoryType": "Logs", "categoryGroups": ["audit", "allLogs"]}}
        ]}
    })
}

pub struct Setup {
    pub fake: FakeAzure,
    pub dir: tempfile::TempDir,
}

pub fn start(faults: Faults) -> Setup {
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

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `kvaudit eval ARGS` (no Azure).
pub fn eval(args: &[&str]) -> Out {
    let o = Command::cargo_bin("kvaudit")
        .unwrap()
        .arg("eval")
        .args(args)
        .output()
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs `kvaudit SUBCOMMAND --auth cli --arm-endpoint URL --log-analytics-endpoint URL --until UNTIL ARGS`
/// with the fake `az` first on PATH.
pub fn kvaudit(setup: &Setup, subcommand: &str, extra: &[&str], envs: &[(&str, &str)]) -> Out {
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
            subcommand,
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

pub fn verdicts(report: &Value) -> BTreeMap<(String, String), Vec<(String, String)>> {
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

//! The built-in rules, judged through the library on hand-built inventories:
//! one test per branch the rules define.
mod common;

use common::*;
use kvaudit::finding::{Finding, Status};
use kvaudit::inventory::Inventory;
use kvaudit::policy::data::PolicyData;
use kvaudit::policy::{PolicySet, builtin};
use serde_json::{Value, json};

/// Evaluates with regorus' VM (what kvaudit runs) and checks that the
/// interpreter (the reference) gives the same findings: regorus 0.14.1's VM
/// once evaluated an `every` differently, and every case here is a probe.
fn evaluate_with(inv: Value, data: PolicyData) -> Vec<Finding> {
    let inv = Inventory::from_json(&inv.to_string(), "test").expect("test inventory parses");
    let mut set = PolicySet::compile(&builtin::files(), data).expect("built-in policies compile");
    let vm = set.evaluate(&inv).expect("evaluation succeeds");
    set.set_evaluator(kvaudit::policy::engine::Evaluator::Interpreter);
    let reference = set.evaluate(&inv).expect("interpreted evaluation succeeds");
    assert_eq!(vm, reference, "the VM and the interpreter disagree");
    vm
}

fn evaluate(inv: Value) -> Vec<Finding> {
    evaluate_with(inv, PolicyData::defaults())
}

fn of<'a>(findings: &'a [Finding], rule: &str, vault: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| f.rule_id == rule && f.resource.name == vault)
        .collect()
}

/// The single verdict of `rule` on `vault`, with its message.
fn one(findings: &[Finding], rule: &str, vault: &str) -> (Status, String) {
    let v = of(findings, rule, vault);
    assert_eq!(
        v.len(),
        1,
        "expected one {rule} result on {vault}, got {v:#?}"
    );
    (v[0].status, v[0].message.to_string())
}

fn working_alerts() -> Value {
    ok(json!([alert(
        "kv-admin",
        json!([sub_id()]),
        admin_condition(),
        &["ag-secops"],
        true
    )]))
}

fn groups() -> Value {
    ok(json!([action_group("ag-secops", true, true)]))
}

// ---------------------------------------------------------------- audit logging

fn logging_case_with(
    logs: Value,
    workspace: &str,
    storage: &str,
    dedicated: bool,
    data: PolicyData,
) -> (Status, String) {
    let id = vault_id("rg-app", "kv-a");
    let mut s = setting(&id, "diag", workspace, storage, logs);
    if dedicated {
        s["properties"]["logAnalyticsDestinationType"] = json!("Dedicated");
    }
    let inv = inventory(
        working_alerts(),
        groups(),
        vec![vault_entry(
            vault("rg-app", "kv-a"),
            ok(json!([s])),
            audit_ok(json!([]), json!([])),
        )],
    );
    one(&evaluate_with(inv, data), "kv/audit-logging", "kv-a")
}

fn logging_case(logs: Value, workspace: &str, storage: &str) -> (Status, String) {
    logging_case_with(logs, workspace, storage, false, PolicyData::defaults())
}

fn mode(m: &str) -> PolicyData {
    PolicyData::with_text(
        &json!({"config": {"auditLoggingMode": m}}).to_string(),
        "test",
    )
    .unwrap()
}

/// The verdict matrix of the issue, in lenient and strict mode (CIS v3.0+
/// asks for both category groups in one setting).
#[test]
fn audit_logging_lenient_and_strict_matrix() {
    use Status::{Fail, Pass};
    let ws = workspace_id();
    let group = |g: &str| json!({"categoryGroup": g, "enabled": true});
    // (case, logs, workspace, dedicated, lenient, strict)
    let cases: Vec<(&str, Value, &str, bool, Status, Status)> = vec![
        (
            "AuditEvent only",
            json!([{"category": "AuditEvent", "enabled": true}]),
            &ws,
            false,
            Pass,
            Fail,
        ),
        (
            "audit only",
            json!([group("audit")]),
            &ws,
            false,
            Pass,
            Fail,
        ),
        (
            "allLogs only",
            json!([group("allLogs")]),
            &ws,
            false,
            Pass,
            Fail,
        ),
        (
            "both groups",
            json!([group("audit"), group("allLogs")]),
            &ws,
            false,
            Pass,
            Pass,
        ),
        (
            "both groups, other case",
            json!([group("AUDIT"), group("alllogs")]),
            &ws,
            false,
            Pass,
            Pass,
        ),
        (
            "only AzurePolicyEvaluationDetails",
            json!([{"category": "AzurePolicyEvaluationDetails", "enabled": true}]),
            &ws,
            false,
            Fail,
            Fail,
        ),
        (
            "AuditEvent disabled",
            json!([{"category": "AuditEvent", "enabled": false}]),
            &ws,
            false,
            Fail,
            Fail,
        ),
        (
            "allLogs disabled beside audit",
            json!([group("audit"), {"categoryGroup": "allLogs", "enabled": false}]),
            &ws,
            false,
            Pass,
            Fail,
        ),
        (
            "empty destination",
            json!([group("audit"), group("allLogs")]),
            "",
            false,
            Fail,
            Fail,
        ),
        (
            "Dedicated table",
            json!([group("audit"), group("allLogs")]),
            &ws,
            true,
            Pass,
            Pass,
        ),
        (
            "Dedicated table, AuditEvent only",
            json!([{"category": "AuditEvent", "enabled": true}]),
            &ws,
            true,
            Pass,
            Fail,
        ),
    ];
    for (name, logs, w, dedicated, lenient, strict) in cases {
        let (got, msg) = logging_case_with(logs.clone(), w, "", dedicated, mode("lenient"));
        assert_eq!(got, lenient, "lenient, {name}: {msg}");
        let (got, msg) = logging_case_with(logs, w, "", dedicated, mode("strict"));
        assert_eq!(got, strict, "strict, {name}: {msg}");
        if strict == Fail && lenient == Pass {
            assert!(
                msg.contains("strict mode") && msg.contains("lenient mode would pass"),
                "{name}: {msg}"
            );
        }
        if strict == Pass {
            assert!(msg.contains("(strict mode)"), "{name}: {msg}");
        }
    }
}

/// `auto` (the default) is lenient, and strict under a CIS v3.0+ benchmark.
#[test]
fn audit_logging_auto_mode_follows_the_benchmark() {
    let ws = workspace_id();
    let logs = json!([{"category": "AuditEvent", "enabled": true}]);
    let with_benchmark = |b: Option<&str>| {
        let mut d = PolicyData::defaults();
        if let Some(b) = b {
            d.set_benchmark(b);
        }
        logging_case_with(logs.clone(), &ws, "", false, d).0
    };
    assert_eq!(with_benchmark(None), Status::Pass);
    assert_eq!(with_benchmark(Some("cis-azure-2.0")), Status::Pass);
    assert_eq!(with_benchmark(Some("cis-azure-3.0")), Status::Fail);
    assert_eq!(with_benchmark(Some("cis-azure-6.0")), Status::Fail);
    // An explicit mode wins over the benchmark.
    let mut d = mode("lenient");
    d.set_benchmark("cis-azure-6.0");
    assert_eq!(
        logging_case_with(logs.clone(), &ws, "", false, d).0,
        Status::Pass
    );
    // A bad mode is refused with the key and the allowed values.
    let e = PolicyData::with_text(r#"{"config": {"auditLoggingMode": "strictest"}}"#, "d.json")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("auditLoggingMode") && e.contains("\"strict\""),
        "{e}"
    );
}

#[test]
fn audit_logging_verdict_matrix() {
    let ws = workspace_id();
    let st = "/subscriptions/x/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stlogs";
    let cases: Vec<(&str, Value, &str, &str, Status, &str)> = vec![
        (
            "AuditEvent to a workspace",
            json!([{"category": "AuditEvent", "enabled": true}]),
            &ws,
            "",
            Status::Pass,
            "category AuditEvent",
        ),
        (
            "allLogs group only",
            json!([{"categoryGroup": "allLogs", "enabled": true}]),
            &ws,
            "",
            Status::Pass,
            "categoryGroup allLogs",
        ),
        (
            "audit group only",
            json!([{"categoryGroup": "audit", "enabled": true}]),
            &ws,
            "",
            Status::Pass,
            "categoryGroup audit",
        ),
        (
            "case-insensitive category",
            json!([{"category": "auditevent", "categoryGroup": null, "enabled": true}]),
            &ws,
            "",
            Status::Pass,
            "exports AuditEvent",
        ),
        (
            "case-insensitive group",
            json!([{"category": null, "categoryGroup": "AllLogs", "enabled": true}]),
            &ws,
            "",
            Status::Pass,
            "AllLogs",
        ),
        (
            "storage destination only",
            json!([{"category": "AuditEvent", "enabled": true}]),
            "",
            st,
            Status::Pass,
            "storageAccountId",
        ),
        (
            "AuditEvent disabled",
            json!([{"category": "AuditEvent", "enabled": false}]),
            &ws,
            "",
            Status::Fail,
            "category AuditEvent is disabled",
        ),
        (
            "only policy evaluation details",
            json!([{"category": "AzurePolicyEvaluationDetails", "enabled": true}]),
            &ws,
            "",
            Status::Fail,
            "AzurePolicyEvaluationDetails does not contain AuditEvent",
        ),
        (
            "empty-string destination",
            json!([{"category": "AuditEvent", "enabled": true}]),
            "",
            "",
            Status::Fail,
            "has no destination",
        ),
        (
            "no log entries",
            json!([]),
            &ws,
            "",
            Status::Fail,
            "has no log entries",
        ),
    ];
    for (name, logs, ws, st, want, fragment) in cases {
        let (status, message) = logging_case(logs, ws, st);
        assert_eq!(status, want, "{name}: {message}");
        assert!(
            message.contains(fragment),
            "{name}: {message:?} lacks {fragment:?}"
        );
    }
}

#[test]
fn audit_logging_fails_without_settings_and_is_not_evaluable_when_unreadable() {
    let inv = inventory(
        working_alerts(),
        groups(),
        vec![
            vault_entry(
                vault("rg-app", "kv-none"),
                ok(json!([])),
                json!({"status": "notCollected", "reason": "no workspace"}),
            ),
            vault_entry(
                vault("rg-app", "kv-denied"),
                err(
                    "AuthorizationFailed",
                    "The client does not have authorization to perform action 'microsoft.insights/diagnosticSettings/read'",
                    403,
                ),
                json!({"status": "notCollected", "reason": "settings unreadable"}),
            ),
        ],
    );
    let f = evaluate(inv);
    let (s, m) = one(&f, "kv/audit-logging", "kv-none");
    assert_eq!(s, Status::Fail);
    assert!(m.contains("no diagnostic setting"), "{m}");
    let (s, m) = one(&f, "kv/audit-logging", "kv-denied");
    assert_eq!(s, Status::NotEvaluable);
    assert!(m.contains("AuthorizationFailed"), "{m}");
    // Anomaly rules on a vault whose settings are unreadable are not evaluable either.
    assert_eq!(
        one(&f, "kv/unauthorized-requests", "kv-denied").0,
        Status::NotEvaluable
    );
    assert_eq!(
        one(&f, "kv/forbidden-requests", "kv-none").0,
        Status::NotEvaluable
    );
}

// ---------------------------------------------------------------- admin alert

fn alert_case(alerts: Value, groups: Value) -> (Status, String) {
    let id = vault_id("rg-app", "kv-a");
    let inv = inventory(
        alerts,
        groups,
        vec![vault_entry(
            vault("rg-app", "kv-a"),
            ok(json!([audit_to_workspace(&id)])),
            audit_ok(json!([]), json!([])),
        )],
    );
    one(&evaluate(inv), "kv/admin-alert", "kv-a")
}

#[test]
fn admin_alert_passes_for_the_usual_shapes() {
    let rg_scope_no_slash = format!("subscriptions/{SUB}/resourceGroups/RG-APP/");
    let cases = vec![
        (
            "subscription scope, nested anyOf",
            json!([sub_id()]),
            admin_condition(),
        ),
        (
            "resource-group scope without leading slash, other case, trailing slash",
            json!([rg_scope_no_slash]),
            admin_condition(),
        ),
        (
            "vault scope",
            json!([vault_id("rg-app", "kv-a")]),
            admin_condition(),
        ),
        (
            "containsAny on operationName",
            json!([sub_id()]),
            json!([{"field": "category", "equals": "Administrative"},
                   {"field": "operationName", "containsAny": ["microsoft.keyvault/vaults/WRITE", "Microsoft.KeyVault/vaults/delete"]}]),
        ),
        (
            "resourceGroup, resourceProvider and resourceId leaves",
            json!([sub_id()]),
            json!([{"field": "resourceGroup", "equals": "Rg-App"},
                   {"field": "resourceProvider", "equals": "Microsoft.KeyVault"},
                   {"field": "resourceId", "equals": vault_id("rg-app", "kv-a").to_uppercase()},
                   {"field": "category", "equals": "administrative"}]),
        ),
    ];
    for (name, scopes, cond) in cases {
        let (s, m) = alert_case(
            ok(json!([alert(
                "kv-admin",
                scopes,
                cond,
                &["ag-secops"],
                true
            )])),
            groups(),
        );
        assert_eq!(s, Status::Pass, "{name}: {m}");
        assert!(m.contains("kv-admin"), "{name}: {m}");
    }
    // Two alerts, one per operation, cover together.
    let write = json!([{"field": "category", "equals": "Administrative"}, {"field": "operationName", "equals": "Microsoft.KeyVault/vaults/write"}]);
    let delete = json!([{"field": "category", "equals": "Administrative"}, {"field": "operationName", "equals": "Microsoft.KeyVault/vaults/delete"}]);
    let (s, m) = alert_case(
        ok(json!([
            alert("w", json!([sub_id()]), write, &["ag-secops"], true),
            alert("d", json!([sub_id()]), delete, &["ag-secops"], true)
        ])),
        groups(),
    );
    assert_eq!(s, Status::Pass, "{m}");
}

#[test]
fn admin_alert_fails_and_says_why_each_alert_did_not_count() {
    let status_filter = json!([{"field": "category", "equals": "Administrative"},
        {"field": "operationName", "containsAny": ["Microsoft.KeyVault/vaults/write", "Microsoft.KeyVault/vaults/delete"]},
        {"field": "status", "equals": "Succeeded"}]);
    let caller_in_any_of = json!([{"field": "category", "equals": "Administrative"},
        {"anyOf": [{"field": "caller", "equals": "ops@contoso.example"}, {"field": "operationName", "equals": "Microsoft.KeyVault/vaults/write"}]}]);
    let unknown_field = json!([{"field": "properties.policy", "equals": "x"}, {"field": "category", "equals": "Administrative"}]);
    let delete_only = json!([{"field": "category", "equals": "Administrative"}, {"field": "operationName", "equals": "Microsoft.KeyVault/vaults/delete"}]);
    let other_rg = format!("/subscriptions/{SUB}/resourceGroups/rg-other");
    let cases: Vec<(&str, Value, Value, &str)> = vec![
        (
            "disabled",
            ok(json!([alert(
                "a",
                json!([sub_id()]),
                admin_condition(),
                &["ag-secops"],
                false
            )])),
            groups(),
            "'a' is disabled",
        ),
        (
            "filtered on status",
            ok(json!([alert(
                "a",
                json!([sub_id()]),
                status_filter,
                &["ag-secops"],
                true
            )])),
            groups(),
            "filters events out on status",
        ),
        (
            "caller leaf inside anyOf",
            ok(json!([alert(
                "a",
                json!([sub_id()]),
                caller_in_any_of,
                &["ag-secops"],
                true
            )])),
            groups(),
            "filters events out on caller",
        ),
        (
            "leaf on another field",
            ok(json!([alert(
                "a",
                json!([sub_id()]),
                unknown_field,
                &["ag-secops"],
                true
            )])),
            groups(),
            "properties.policy equals 'x'",
        ),
        (
            "other resource group",
            ok(json!([alert(
                "a",
                json!([other_rg]),
                admin_condition(),
                &["ag-secops"],
                true
            )])),
            groups(),
            "is scoped elsewhere",
        ),
        (
            "delete only",
            ok(json!([alert(
                "a",
                json!([sub_id()]),
                delete_only,
                &["ag-secops"],
                true
            )])),
            groups(),
            "covers Microsoft.KeyVault/vaults/write",
        ),
        (
            "missing action group",
            ok(json!([alert(
                "a",
                json!([sub_id()]),
                admin_condition(),
                &["ag-gone"],
                true
            )])),
            groups(),
            "does not exist",
        ),
        (
            "disabled action group",
            ok(json!([alert(
                "a",
                json!([sub_id()]),
                admin_condition(),
                &["ag-off"],
                true
            )])),
            ok(json!([action_group("ag-off", false, true)])),
            "is disabled",
        ),
        (
            "action group without receivers",
            ok(json!([alert(
                "a",
                json!([sub_id()]),
                admin_condition(),
                &["ag-empty"],
                true
            )])),
            ok(json!([action_group("ag-empty", true, false)])),
            "has no receivers",
        ),
        (
            "no action group at all",
            ok(json!([alert(
                "a",
                json!([sub_id()]),
                admin_condition(),
                &[],
                true
            )])),
            groups(),
            "names no action group",
        ),
        (
            "no alerts",
            ok(json!([])),
            groups(),
            "has no activity-log alerts",
        ),
    ];
    for (name, alerts, groups, fragment) in cases {
        let (s, m) = alert_case(alerts, groups);
        assert_eq!(s, Status::Fail, "{name}: {m}");
        assert!(m.contains(fragment), "{name}: {m:?} lacks {fragment:?}");
    }
    // A delete-only alert leaves write uncovered but not delete.
    let (_, m) = alert_case(
        ok(json!([alert(
            "a",
            json!([sub_id()]),
            json!([{"field": "operationName", "equals": "Microsoft.KeyVault/vaults/delete"}]),
            &["ag-secops"],
            true
        )])),
        groups(),
    );
    assert!(
        m.starts_with("no usable activity-log alert covers Microsoft.KeyVault/vaults/write:"),
        "{m}"
    );
}

#[test]
fn admin_alert_is_not_evaluable_when_alerts_or_action_groups_are_unreadable() {
    let (s, m) = alert_case(
        err("AuthorizationFailed", "no read on activityLogAlerts", 403),
        groups(),
    );
    assert_eq!(s, Status::NotEvaluable);
    assert!(m.contains("AuthorizationFailed"), "{m}");
    let (s, m) = alert_case(
        working_alerts(),
        err("AuthorizationFailed", "no read on actionGroups", 403),
    );
    assert_eq!(s, Status::NotEvaluable, "{m}");
    assert!(m.contains("action groups could not be read"), "{m}");
}

// ---------------------------------------------------------------- anomaly rules

fn anomaly_inventory(audit: Value) -> Value {
    let id = vault_id("rg-app", "kv-a");
    inventory(
        working_alerts(),
        groups(),
        vec![vault_entry(
            vault("rg-app", "kv-a"),
            ok(json!([audit_to_workspace(&id)])),
            audit,
        )],
    )
}

#[test]
fn unauthorized_fails_per_caller_ip_and_ignores_challenges() {
    let f = evaluate(anomaly_inventory(audit_ok(
        json!([
            unauthorized(
                "10.1.2.3",
                "azsdk-net-Security.KeyVault.Secrets/4.6.0",
                40,
                40,
                "2026-11-27T08:00:00Z"
            ),
            unauthorized(
                "203.0.113.45",
                "python-requests/2.31.0",
                12,
                0,
                "2026-11-27T07:00:00Z"
            ),
            unauthorized("203.0.113.45", "curl/8.5.0", 5, 2, "2026-11-27T06:00:00Z"),
        ]),
        json!([]),
    )));
    let v = of(&f, "kv/unauthorized-requests", "kv-a");
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0].status, Status::Fail);
    assert_eq!(v[0].discriminator, "203.0.113.45");
    assert!(
        v[0].message.starts_with("15 unexplained 401"),
        "{}",
        v[0].message
    );
    assert_eq!(
        v[0].evidence.as_ref().unwrap().to_value()["unexplained"],
        json!(15)
    );
}

#[test]
fn unauthorized_passes_for_challenges_allow_list_and_outside_window() {
    let only_challenges = evaluate(anomaly_inventory(audit_ok(
        json!([unauthorized(
            "10.1.2.3",
            "azsdk",
            40,
            40,
            "2026-11-27T08:00:00Z"
        )]),
        json!([]),
    )));
    let (s, m) = one(&only_challenges, "kv/unauthorized-requests", "kv-a");
    assert_eq!(s, Status::Pass);
    assert!(m.contains("40 401s, 40 authentication challenges"), "{m}");

    // Exactly 24 h before the window's end is outside; one second later is inside.
    let edge = evaluate(anomaly_inventory(audit_ok(
        json!([unauthorized(
            "198.51.100.1",
            "curl",
            3,
            0,
            "2026-11-26T09:00:00Z"
        )]),
        json!([]),
    )));
    assert_eq!(
        one(&edge, "kv/unauthorized-requests", "kv-a").0,
        Status::Pass
    );
    let inside = evaluate(anomaly_inventory(audit_ok(
        json!([unauthorized(
            "198.51.100.1",
            "curl",
            3,
            0,
            "2026-11-26T09:00:01Z"
        )]),
        json!([]),
    )));
    assert_eq!(
        one(&inside, "kv/unauthorized-requests", "kv-a").0,
        Status::Fail
    );

    let allow = |list: Value| {
        let data = PolicyData::with_text(
            &json!({"config": {"allowList": list}}).to_string(),
            "test-data",
        )
        .unwrap();
        let mut g = unauthorized(
            "203.0.113.45",
            "python-requests/2.31.0",
            9,
            0,
            "2026-11-27T07:00:00Z",
        );
        g["identity"] = json!({"appId": "11111111-2222-3333-4444-555555555555", "objectId": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"});
        let f = evaluate_with(anomaly_inventory(audit_ok(json!([g]), json!([]))), data);
        one(&f, "kv/unauthorized-requests", "kv-a").0
    };
    assert_eq!(allow(json!({"ips": ["203.0.113.45"]})), Status::Pass);
    assert_eq!(allow(json!({"ips": ["203.0.113.0/24"]})), Status::Pass);
    assert_eq!(
        allow(json!({"objectIds": ["AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE"]})),
        Status::Pass
    );
    assert_eq!(
        allow(json!({"appIds": ["11111111-2222-3333-4444-555555555555"]})),
        Status::Pass
    );
    assert_eq!(allow(json!({"ips": ["198.51.100.0/24"]})), Status::Fail);
}

#[test]
fn forbidden_fails_per_identity_and_ip() {
    let f = evaluate(anomaly_inventory(audit_ok(
        json!([]),
        json!([
            forbidden(
                "198.51.100.7",
                json!({"upn": "mallory@contoso.example", "objectId": "0f0f0f0f-0000-0000-0000-000000000001"}),
                4,
                "2026-11-27T05:00:00Z"
            ),
            forbidden(
                "198.51.100.7",
                json!({"appId": "22222222-0000-0000-0000-000000000002"}),
                2,
                "2026-11-27T05:30:00Z"
            ),
            forbidden("192.0.2.10", json!({}), 1, "2026-11-25T05:30:00Z"),
        ]),
    )));
    let v = of(&f, "kv/forbidden-requests", "kv-a");
    let keys: Vec<&str> = v.iter().map(|f| f.discriminator.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            "app 22222222-0000-0000-0000-000000000002|198.51.100.7",
            "mallory@contoso.example|198.51.100.7"
        ],
        "{v:#?}"
    );
    assert!(v.iter().all(|f| f.status == Status::Fail));
    assert!(
        v[1].message.contains("refused 4 time(s)"),
        "{}",
        v[1].message
    );
}

#[test]
fn anomaly_rules_are_never_passed_without_readable_logs() {
    let id = vault_id("rg-app", "kv-a");
    let storage_only = setting(
        &id,
        "archive",
        "",
        "/subscriptions/x/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/s",
        json!([{"category": "AuditEvent", "enabled": true}]),
    );
    let cases: Vec<(&str, Value, Value, &str)> = vec![
        (
            "no settings",
            ok(json!([])),
            audit_ok(json!([]), json!([])),
            "reach no Log Analytics workspace",
        ),
        (
            "storage only",
            ok(json!([storage_only])),
            audit_ok(json!([]), json!([])),
            "reach no Log Analytics workspace",
        ),
        (
            "settings unreadable",
            err("AuthorizationFailed", "denied", 403),
            audit_ok(json!([]), json!([])),
            "diagnostic settings could not be read",
        ),
        (
            "workspace unreadable",
            ok(json!([audit_to_workspace(&id)])),
            json!({"status": "error", "workspaceId": workspace_id(), "error": {"code": "InsufficientAccessError", "message": "The provided credentials have insufficient access", "httpStatus": 403}}),
            "could not be queried (InsufficientAccessError",
        ),
        (
            "not collected",
            ok(json!([audit_to_workspace(&id)])),
            json!({"status": "notCollected", "reason": "--skip-logs"}),
            "not collected (--skip-logs)",
        ),
        (
            "partial and clean",
            ok(json!([audit_to_workspace(&id)])),
            {
                let mut a = audit_ok(json!([]), json!([]));
                a["status"] = json!("partial");
                a
            },
            "partial result",
        ),
    ];
    for (name, settings, audit, fragment) in cases {
        let inv = inventory(
            working_alerts(),
            groups(),
            vec![vault_entry(vault("rg-app", "kv-a"), settings, audit)],
        );
        let f = evaluate(inv);
        for rule in ["kv/unauthorized-requests", "kv/forbidden-requests"] {
            let (s, m) = one(&f, rule, "kv-a");
            assert_eq!(s, Status::NotEvaluable, "{name} {rule}: {m}");
            assert!(
                m.contains(fragment),
                "{name} {rule}: {m:?} lacks {fragment:?}"
            );
        }
    }
    // A partial result still reports what it did find.
    let mut partial = audit_ok(
        json!([unauthorized(
            "203.0.113.9",
            "curl/8.5.0",
            2,
            0,
            "2026-11-27T08:00:00Z"
        )]),
        json!([]),
    );
    partial["status"] = json!("partial");
    let f = evaluate(anomaly_inventory(partial));
    assert_eq!(one(&f, "kv/unauthorized-requests", "kv-a").0, Status::Fail);
}

#[test]
fn severities_can_be_overridden_by_policy_data() {
    let data = PolicyData::with_text(
        r#"{"config": {"severities": {"kv/admin-alert": "critical"}}}"#,
        "t",
    )
    .unwrap();
    let f = evaluate_with(anomaly_inventory(audit_ok(json!([]), json!([]))), data);
    let v = of(&f, "kv/admin-alert", "kv-a");
    assert_eq!(v[0].severity, kvaudit::finding::Severity::Critical);
    assert!(
        PolicyData::with_text(
            r#"{"config": {"severities": {"kv/admin-alert": "urgent"}}}"#,
            "d.json"
        )
        .unwrap_err()
        .to_string()
        .contains("must be low, medium, high or critical")
    );
    assert!(PolicyData::with_text(r#"{"config": {"windowHours": 0}}"#, "d.json").is_err());
}

#[test]
fn findings_are_deterministic_and_fingerprints_stable() {
    let inv = anomaly_inventory(audit_ok(
        json!([unauthorized(
            "203.0.113.45",
            "curl",
            3,
            0,
            "2026-11-27T08:00:00Z"
        )]),
        json!([]),
    ));
    let a = evaluate(inv.clone());
    let b = evaluate(inv);
    assert_eq!(a, b);
    let fps: std::collections::BTreeSet<_> = a.iter().map(|f| f.fingerprint).collect();
    assert_eq!(
        fps.len(),
        a.len(),
        "fingerprints must be unique per finding"
    );
    let f = of(&a, "kv/unauthorized-requests", "kv-a")[0];
    assert_eq!(
        f.fingerprint,
        Finding::fingerprint_of(
            "kv/unauthorized-requests",
            &vault_id("rg-app", "kv-a").to_uppercase(),
            "203.0.113.45"
        )
    );
}

/// A vault whose subscription is missing from the inventory: the
/// subscription rules still judge that subscription (not evaluable), they do
/// not skip it.
#[test]
fn subscription_rules_cover_subscriptions_missing_from_the_inventory() {
    let other = "99999999-9999-9999-9999-999999999999";
    let mut orphan = vault("rg-app", "kv-orphan");
    orphan["id"] = json!(format!(
        "/subscriptions/{other}/resourceGroups/rg-app/providers/Microsoft.KeyVault/vaults/kv-orphan"
    ));
    let inv = inventory(
        working_alerts(),
        groups(),
        vec![vault_entry(
            orphan,
            ok(json!([])),
            audit_ok(json!([]), json!([])),
        )],
    );
    let findings = evaluate(inv);
    for rule in ["kv/defender", "kv/purge-alert"] {
        let (status, message) = one(&findings, rule, other);
        assert_eq!(status, Status::NotEvaluable, "{rule}: {message}");
        assert!(
            message.contains("not in the inventory"),
            "{rule}: {message}"
        );
    }
    // The inventory's own subscription holds no vault: it is not judged.
    assert!(findings.iter().all(|f| f.resource.name != "contoso-test"));
}

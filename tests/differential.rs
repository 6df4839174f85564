//! Differential test of the two engines: generated inventories, with
//! malformed and edge rows, evaluated by regorus' VM (what `eval` runs) and
//! its interpreter (what `policy test` runs), each with and without the
//! per-subscription alert precompute and the `memo_key` sharing of results
//! (the alert rules, kv/audit-logging). All must give identical findings, so `policy test` tests
//! production semantics and the precompute and the memo are only caches.
mod common;

use common::*;
use kvaudit::finding::Finding;
use kvaudit::inventory::Inventory;
use kvaudit::policy::data::PolicyData;
use kvaudit::policy::engine::Evaluator;
use kvaudit::policy::{PolicySet, builtin};
use serde_json::{Value, json};

fn pick<'a, T>(r: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    &items[r.usize(..items.len())]
}

/// A timestamp at the edges the inventory accepts (malformed ones it
/// rejects on load, see tests/inventory_schema.rs): fractions, offsets,
/// outside the window, exactly at its end.
fn time(r: &mut fastrand::Rng) -> Value {
    json!(*pick(
        r,
        &[
            "2026-11-27T08:00:00Z",
            "2026-11-27T08:59:59.1234567Z",
            "2026-11-25T01:00:00Z",
            "2026-11-27T10:00:00+01:00",
            "2026-11-27T09:00:00Z",
            "2026-11-27T09:00:00.000001Z",
            "2026-11-26T09:00:00-00:00",
        ]
    ))
}

fn alert_gen(r: &mut fastrand::Rng, n: usize, vaults: &[String]) -> Value {
    let v = pick(r, vaults).clone();
    let rg_scope = v.split("/providers/").next().unwrap().to_string();
    let scope = match r.u8(..6) {
        0 => sub_id(),
        1 => sub_id()[1..].to_string(),
        2 => format!("{}/", rg_scope.to_uppercase()),
        3 => v.clone(),
        4 => format!("/subscriptions/{SUB}/resourceGroups/elsewhere"),
        _ => v.to_lowercase(),
    };
    let op = *pick(
        r,
        &[
            "Microsoft.KeyVault/vaults/write",
            "Microsoft.KeyVault/vaults/delete",
            "Microsoft.KeyVault/vaults/accessPolicies/write",
            "Microsoft.Insights/diagnosticSettings/write",
            "Microsoft.Insights/diagnosticSettings/delete",
            "Microsoft.KeyVault/locations/deletedVaults/purge/action",
            "Microsoft.Storage/storageAccounts/write",
        ],
    );
    let mut all_of = vec![json!({"field": "category", "equals": "Administrative"})];
    match r.u8(..5) {
        0 => all_of.push(json!({"field": "operationName", "equals": op})),
        1 => all_of.push(json!({"anyOf": [
            {"field": "operationName", "equals": op},
            {"field": "operationName", "equals": "Microsoft.KeyVault/vaults/delete"}]})),
        2 => all_of.push(json!({"field": "operationName", "containsAny": [op.to_uppercase()]})),
        3 => all_of.push(json!({"field": "resourceType", "equals": "Microsoft.KeyVault/vaults"})),
        _ => all_of.push(json!({"anyOf": [{"anyOf": [{"field": "operationName", "equals": op}]}]})),
    }
    match r.u8(..8) {
        0 => all_of.push(json!({"field": "status", "equals": "Succeeded"})),
        1 => all_of.push(json!({"field": "resourceId", "equals": v.to_uppercase()})),
        2 => all_of.push(json!({"field": "resourceGroup", "equals": "RG-1"})),
        3 => all_of.push(json!({"field": "level"})),
        _ => {}
    }
    let choices: [&[&str]; 6] = [
        &["ag-ok"],
        &["ag-off"],
        &["ag-empty"],
        &["ag-gone"],
        &[],
        &["ag-off", "ag-ok"],
    ];
    let groups = choices[r.usize(..choices.len())];
    let mut a = alert(
        &format!("a-{n}"),
        json!([scope]),
        json!(all_of),
        groups,
        r.u8(..5) != 0,
    );
    if r.u8(..10) == 0 {
        a["properties"]["enabled"] = Value::Null;
    }
    a
}

fn audit_gen(r: &mut fastrand::Rng) -> Value {
    let mut unauthorized = vec![];
    for k in 0..r.usize(..6) {
        let count = r.u64(0..5);
        let challenges = r.u64(0..=count);
        let mut g = json!({
            "callerIp": pick(r, &["203.0.113.5", "203.0.113.5", "10.1.2.3", "", "198.51.100.7"]),
            "client": pick(r, &["python-requests/2.31.0", "", "azsdk-net/4.6"]),
            "identity": pick(r, &[json!({}), json!({"upn": "eve@contoso.example"}), json!({"appId": "a-1", "objectId": "o-1"})]).clone(),
            "count": count, "challenges": challenges, "unexplained": count - challenges,
            "firstSeen": time(r), "lastSeen": time(r), "operations": [format!("Op{k}")]
        });
        if r.bool() {
            g["lastUnexplained"] = time(r);
        }
        unauthorized.push(g);
    }
    let mut forbidden = vec![];
    for _ in 0..r.usize(..5) {
        forbidden.push(json!({
            "callerIp": pick(r, &["198.51.100.20", "", "198.51.100.20", "192.0.2.1"]),
            "client": "curl/8", "identity": pick(r, &[json!({}), json!({"upn": "mallory@contoso.example"}), json!({"objectId": "o-9"})]).clone(),
            "count": r.u64(0..4), "firstSeen": time(r), "lastSeen": time(r),
            "operations": pick(r, &[json!(["SecretGet"]), json!([]), json!(["SecretList", "SecretGet"])]).clone(),
            "resultDescription": pick(r, &["", "Caller is not authorized"]),
        }));
    }
    let mut a = audit_ok(json!(unauthorized), json!(forbidden));
    match r.u8(..10) {
        0 => a["windowEnd"] = json!("2026-11-27T10:00:00+01:00"),
        1 => a["challengeWindowSeconds"] = json!(0),
        2 => a["status"] = json!("partial"),
        3 => a = err("InsufficientAccessError", "denied", 403),
        _ => {}
    }
    if a["status"] == "error" {
        a = json!({"status": "error", "workspaceId": workspace_id(), "error": {"code": "InsufficientAccessError", "message": "denied", "httpStatus": 403}});
    }
    a
}

fn item_gen(r: &mut fastrand::Rng, vault: &str, what: &str, n: usize) -> Value {
    let mut attributes = json!({"enabled": r.u8(..6) != 0});
    if r.bool() {
        attributes["exp"] = json!(1_830_297_600u64);
    }
    let mut props = json!({"attributes": attributes});
    if what == "keys" {
        match r.u8(..5) {
            0 => {
                props["rotationPolicy"] = json!({"lifetimeActions": [{"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": "rotate"}}]})
            }
            1 => {
                props["rotationPolicy"] =
                    json!({"lifetimeActions": [{"action": {"type": "Notify"}}]})
            }
            2 => props["rotationPolicy"] = json!({"lifetimeActions": null}),
            3 => props["rotationPolicy"] = Value::Null,
            _ => {}
        }
    }
    let mut item = json!({"id": format!("{vault}/{what}/{what}-{n}"), "name": format!("{what}-{n}"),
        "type": format!("Microsoft.KeyVault/vaults/{what}"), "properties": props});
    if what == "keys" {
        item["rotationPolicyRead"] = pick(
            r,
            &[
                json!({"status": "ok"}),
                json!({"status": "error", "error": {"code": "Forbidden", "message": "no"}}),
            ],
        )
        .clone();
    }
    item
}

fn inventory_gen(seed: u64) -> Inventory {
    let mut r = fastrand::Rng::with_seed(seed);
    let names: Vec<(String, String)> = (0..12)
        .map(|i| (format!("rg-{}", i % 3), format!("kv-{seed}-{i}")))
        .collect();
    let ids: Vec<String> = names.iter().map(|(rg, n)| vault_id(rg, n)).collect();
    let alerts: Vec<Value> = (0..r.usize(..14))
        .map(|n| alert_gen(&mut r, n, &ids))
        .collect();
    let alerts = if r.u8(..10) == 0 {
        err("AuthorizationFailed", "denied", 403)
    } else {
        ok(json!(alerts))
    };
    let groups = if r.u8(..10) == 0 {
        err("AuthorizationFailed", "denied", 403)
    } else {
        ok(json!([
            action_group("ag-ok", true, true),
            action_group("ag-off", false, true),
            action_group("ag-empty", true, false)
        ]))
    };
    let mut vaults = vec![];
    for ((rg, name), id) in names.iter().zip(&ids) {
        let mut v = vault(rg, name);
        if r.bool() {
            v["properties"]["enablePurgeProtection"] = json!(true);
        }
        if r.u8(..3) == 0 {
            v["properties"]["enableRbacAuthorization"] = Value::Null;
        }
        if r.u8(..3) == 0 {
            v["properties"]["networkAcls"] = json!({"defaultAction": pick(&mut r, &["Deny", "allow", "DENY"]), "bypass": "AzureServices", "ipRules": [], "virtualNetworkRules": []});
        }
        let logs = pick(
            &mut r,
            &[
                json!([{"categoryGroup": "audit", "enabled": true}]),
                json!([{"categoryGroup": "AllLogs", "enabled": true}]),
                json!([{"category": "AuditEvent", "enabled": false}]),
                json!([{"category": "auditevent", "enabled": true}, {"categoryGroup": "allLogs", "enabled": true}]),
                json!([]),
            ],
        )
        .clone();
        // Names, destinations and log entries vary independently, so that
        // kv/audit-logging's memo_key must hold each of them.
        let storage =
            "/subscriptions/x/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/s";
        let one = |r: &mut fastrand::Rng, logs: Value| {
            let name = *pick(r, &["audit", "archive"]);
            match r.u8(..3) {
                0 => setting(id, name, "", storage, logs),
                1 => setting(id, name, "", "", logs),
                _ => setting(id, name, &workspace_id(), "", logs),
            }
        };
        let settings = match r.u8(..7) {
            0 => err("AuthorizationFailed", "denied", 403),
            1 => ok(json!([])),
            2 => {
                let other = json!([{"categoryGroup": "audit", "enabled": false}]);
                ok(json!([one(&mut r, logs), one(&mut r, other)]))
            }
            _ => ok(json!([one(&mut r, logs)])),
        };
        let mut entry = vault_entry(v, settings, audit_gen(&mut r));
        let keys: Vec<Value> = (0..r.usize(..5))
            .map(|n| item_gen(&mut r, id, "keys", n))
            .collect();
        let secrets: Vec<Value> = (0..r.usize(..5))
            .map(|n| item_gen(&mut r, id, "secrets", n))
            .collect();
        entry["keys"] = if r.u8(..8) == 0 {
            err("Forbidden", "no", 403)
        } else {
            ok(json!(keys))
        };
        entry["secrets"] = ok(json!(secrets));
        vaults.push(entry);
    }
    let mut inv = inventory(alerts, groups, vaults);
    inv["schemaVersion"] = json!(2);
    inv["subscriptions"][0]["pricings"] = ok(
        json!([{"name": "KeyVaults", "properties": {"pricingTier": pick(&mut r, &["Standard", "Free", "standard"])}}]),
    );
    Inventory::from_json(&inv.to_string(), "generated").expect("generated inventory parses")
}

fn evaluate(inv: &Inventory, evaluator: Evaluator, precompute: bool, memo: bool) -> Vec<Finding> {
    let mut set = PolicySet::compile(&builtin::files(), PolicyData::defaults()).unwrap();
    set.set_evaluator(evaluator);
    set.set_precompute(precompute);
    set.set_memo(memo);
    set.evaluate(inv)
        .expect("evaluation does not fail as a whole")
}

#[test]
fn vm_and_interpreter_with_and_without_precompute_agree_on_generated_inventories() {
    let mut statuses = std::collections::BTreeMap::new();
    for seed in 0..24 {
        let inv = inventory_gen(seed);
        let production = evaluate(&inv, Evaluator::Vm, true, true);
        // What eval runs: each vault's collected parts released once judged.
        let set = PolicySet::compile(&builtin::files(), PolicyData::defaults()).unwrap();
        let mut released = inv.clone();
        assert_eq!(
            set.evaluate_releasing(&mut released).unwrap(),
            production,
            "seed {seed}: evaluate_releasing"
        );
        assert!(
            released.vaults.iter().all(
                |v| v.keys == Default::default() && v.diagnostic_settings == Default::default()
            )
        );
        assert_eq!(released.vaults.len(), inv.vaults.len());
        for (evaluator, precompute, memo) in [
            (Evaluator::Vm, true, false),
            (Evaluator::Interpreter, true, true),
            (Evaluator::Vm, false, false),
            (Evaluator::Interpreter, false, false),
        ] {
            let what = format!("seed {seed}: {evaluator:?}, precompute {precompute}, memo {memo}");
            let other = evaluate(&inv, evaluator, precompute, memo);
            assert_eq!(production.len(), other.len(), "{what}");
            for (a, b) in production.iter().zip(&other) {
                assert_eq!(a, b, "{what}");
            }
        }
        for f in &production {
            *statuses
                .entry((f.rule_id.clone(), f.status.as_str()))
                .or_insert(0) += 1;
            assert!(
                !f.message.starts_with("the policy could not be evaluated"),
                "seed {seed}: a built-in rule failed on an inventory kvaudit accepts: {f:#?}"
            );
        }
    }
    // The generator reaches every verdict of the rules it feeds.
    for rule in [
        "kv/admin-alert",
        "kv/access-policy-alert",
        "kv/log-tamper-alert",
        "kv/unauthorized-requests",
        "kv/forbidden-requests",
        "kv/key-rotation",
        "kv/audit-logging",
    ] {
        for status in ["pass", "fail", "not_evaluable"] {
            assert!(
                statuses.contains_key(&(rule.to_string(), status)),
                "no {status} of {rule} in the generated inventories: {statuses:?}"
            );
        }
    }
}

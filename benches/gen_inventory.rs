//! Generates a synthetic kvaudit inventory for benchmarks:
//!
//!     cargo run --release --example gen-inventory -- --vaults 10000 --out /tmp/inv-10k.json
//!
//! Vaults are spread over `--subscriptions` (default 10) with a deterministic
//! mix of the shapes the rules judge: audit logging to a workspace, to storage
//! only, disabled or absent; alerts that cover, filter or lack action groups;
//! audit evidence with challenge 401s, unexplained 401s and 403s; unreadable
//! settings and workspaces. The same arguments always give the same file.
//!
//! `--limits` shapes the tenant at the sizes Azure documents (sources in
//! benches/README.md): per subscription 100 active activity-log alerts (most
//! scoped to single vaults) plus 40 disabled, 300 log search alerts, and one
//! vault with 1,000 keys and 5,000 secrets and one public vault with 1,000
//! distinct unexplained-401 callers and 1,000 distinct 403 callers; every
//! vault has 5 diagnostic settings (Azure's maximum).
use serde_json::{Value, json};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn guid(r: &mut Lcg) -> String {
    let a = r.next() << 32 | r.next();
    let b = r.next() << 32 | r.next();
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52 & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

fn main() {
    let mut vaults = 10_000u64;
    let mut subs = 10u64;
    let mut out: Option<String> = None;
    let mut limits = false;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--limits" => {
                limits = true;
                i += 1;
                continue;
            }
            "--vaults" => vaults = args[i + 1].parse().expect("--vaults N"),
            "--subscriptions" => subs = args[i + 1].parse().expect("--subscriptions N"),
            "--out" => out = Some(args[i + 1].clone()),
            other => {
                panic!(
                    "unknown argument {other}; use --vaults N --subscriptions N [--limits] --out FILE"
                )
            }
        }
        i += 2;
    }
    let text = serde_json::to_string(&generate(vaults, subs, limits)).expect("serialises");
    match out {
        Some(p) => std::fs::write(&p, text).unwrap_or_else(|e| panic!("cannot write {p}: {e}")),
        None => println!("{text}"),
    }
}

/// The inventory of `vaults` vaults over `subs` subscriptions (`limits`:
/// at Azure's documented sizes). Also used by tests/scan_limits.rs.
pub fn generate(vaults: u64, subs: u64, limits: bool) -> Value {
    let mut r = Lcg(42);
    let end = "2026-11-27T09:00:00Z";
    let mut subscriptions = Vec::new();
    let mut workspaces = Vec::new();
    let mut sub_ids = Vec::new();
    for s in 0..subs {
        let sid = guid(&mut r);
        let base = format!("/subscriptions/{sid}");
        let ag = format!(
            "{base}/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-secops"
        );
        let ws = format!(
            "{base}/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-{s}"
        );
        workspaces.push(json!({"id": ws, "name": format!("law-{s}"), "type": "Microsoft.OperationalInsights/workspaces",
            "location": "westeurope", "properties": {"customerId": guid(&mut r), "retentionInDays": 90}}));
        let mut alerts = vec![];
        // Alerts for access policies, diagnostic settings and purges in
        // every other subscription.
        if s % 2 == 0 {
            for (a, op) in [
                "Microsoft.KeyVault/vaults/accessPolicies/write",
                "Microsoft.Insights/diagnosticSettings/write",
                "Microsoft.Insights/diagnosticSettings/delete",
                "Microsoft.KeyVault/locations/deletedVaults/purge/action",
            ]
            .iter()
            .enumerate()
            {
                alerts.push(json!({"id": format!("{base}/resourceGroups/rg-monitoring/providers/microsoft.insights/activityLogAlerts/kv-op-{a}"),
                    "name": format!("kv-op-{a}"), "type": "Microsoft.Insights/ActivityLogAlerts", "location": "Global",
                    "properties": {"scopes": [base.clone()], "condition": {"allOf": [
                        {"field": "category", "equals": "Administrative"}, {"field": "operationName", "equals": op}]},
                        "actions": {"actionGroups": [{"actionGroupId": ag, "webhookProperties": {}}]}, "enabled": true}}));
            }
        }
        for a in 0..5 {
            let filtered = a == 3;
            let mut all_of = vec![json!({"field": "category", "equals": "Administrative"})];
            if a % 2 == 0 {
                all_of.push(json!({"anyOf": [
                    {"field": "operationName", "equals": "Microsoft.KeyVault/vaults/write"},
                    {"field": "operationName", "equals": "Microsoft.KeyVault/vaults/delete"}]}));
            } else {
                all_of.push(json!({"field": "operationName", "containsAny": ["Microsoft.KeyVault/vaults/delete"]}));
            }
            if filtered {
                all_of.push(json!({"field": "status", "equals": "Succeeded"}));
            }
            let scope = if s % 2 == 0 {
                base.clone()
            } else {
                format!("{}/resourceGroups/rg-{}", &base[1..], a)
            };
            alerts.push(json!({"id": format!("{base}/resourceGroups/rg-monitoring/providers/microsoft.insights/activityLogAlerts/kv-alert-{a}"),
                "name": format!("kv-alert-{a}"), "type": "Microsoft.Insights/ActivityLogAlerts", "location": "Global",
                "properties": {"scopes": [scope], "condition": {"allOf": all_of},
                    "actions": {"actionGroups": [{"actionGroupId": ag, "webhookProperties": {}}]},
                    "enabled": a != 4}}));
        }
        let mut log_search = vec![];
        if limits {
            limit_alerts(&mut alerts, &base, &ag, s, subs, vaults / subs);
            for q in 0..300 {
                log_search.push(json!({"id": format!("{base}/resourceGroups/rg-monitoring/providers/Microsoft.Insights/scheduledQueryRules/lsa-{q}"),
                    "name": format!("lsa-{q}"), "kind": "LogAlert", "location": "westeurope",
                    "properties": {"enabled": q % 7 != 0, "severity": 2, "scopes": [ws.clone()], "evaluationFrequency": "PT5M", "windowSize": "PT5M",
                        "criteria": {"allOf": [{"query": format!("AZKVAuditLogs | where HttpStatusCode == 403 | where CallerIpAddress startswith \"10.{q}.\""),
                            "timeAggregation": "Count", "operator": "GreaterThan", "threshold": 0}]},
                        "actions": {"actionGroups": [ag.clone()]}}}));
            }
        }
        subscriptions.push(json!({
            "subscription": {"id": base, "subscriptionId": sid, "displayName": format!("synthetic-{s}"), "state": "Enabled"},
            "activityLogAlerts": {"status": "ok", "value": alerts},
            "actionGroups": {"status": "ok", "value": [{"id": ag, "name": "ag-secops", "location": "Global",
                "properties": {"groupShortName": "secops", "enabled": true,
                    "emailReceivers": [{"name": "soc", "emailAddress": "soc@example.com", "useCommonAlertSchema": true}]}}]},
            "scheduledQueryRules": {"status": "ok", "value": log_search},
            "pricings": {"status": "ok", "value": [{"id": format!("{base}/providers/Microsoft.Security/pricings/KeyVaults"),
                "name": "KeyVaults", "type": "Microsoft.Security/pricings",
                "properties": {"pricingTier": if s % 3 == 0 { "Free" } else { "Standard" }}}]}
        }));
        sub_ids.push((sid, ws));
    }
    let mut list = Vec::with_capacity(vaults as usize);
    for v in 0..vaults {
        let (sid, ws) = &sub_ids[(v % subs) as usize];
        let rg = format!("rg-{}", r.below(6));
        // At the limits, vault j of a subscription is in rg-{j % 6}, so that
        // the alerts scoped to single vaults name real ones.
        let rg = if limits {
            format!("rg-{}", (v / subs) % 6)
        } else {
            rg
        };
        let name = format!("kv-syn-{v:06}");
        let id = format!(
            "/subscriptions/{sid}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}"
        );
        let kind = r.below(10);
        // At the limits, the first vault of each subscription is the heavy
        // one (keys, secrets) and the second the noisy public one, whose
        // audit events reach the workspace.
        let heavy = limits && v / subs == 0;
        let noisy = limits && v / subs == 1;
        let kind = if noisy { 5 } else { kind };
        let (workspace, log) = match kind {
            0 => ("", json!({"category": "AuditEvent", "enabled": false})),
            1 => ("", json!({"category": "AuditEvent", "enabled": true})),
            2 => (
                ws.as_str(),
                json!({"category": "AzurePolicyEvaluationDetails", "enabled": true}),
            ),
            3 | 4 => (
                ws.as_str(),
                json!({"categoryGroup": "allLogs", "enabled": true}),
            ),
            _ => (
                ws.as_str(),
                json!({"categoryGroup": "audit", "enabled": true}),
            ),
        };
        let settings = if kind == 9 && r.below(4) == 0 {
            json!({"status": "error", "error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action 'microsoft.insights/diagnosticSettings/read'", "httpStatus": 403}})
        } else {
            json!({"status": "ok", "value": [{"id": format!("{id}/providers/microsoft.insights/diagnosticSettings/audit"),
                "type": "Microsoft.Insights/diagnosticSettings", "name": "audit",
                "properties": {"workspaceId": workspace,
                    "storageAccountId": if kind == 1 { format!("/subscriptions/{sid}/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stlogs") } else { String::new() },
                    "logAnalyticsDestinationType": if kind % 2 == 0 { json!("Dedicated") } else { Value::Null },
                    "logs": [log], "metrics": []}}]})
        };
        let settings = if limits && settings["status"] == "ok" {
            five_settings(settings, &id, ws, sid)
        } else {
            settings
        };
        let mut unauthorized = vec![
            json!({"callerIp": format!("10.{}.{}.{}", v % 200, r.below(250), r.below(250)),
            "client": "azsdk-net-Security.KeyVault.Secrets/4.6.0", "identity": {}, "count": 20 + r.below(50),
            "challenges": 20, "unexplained": 0, "firstSeen": "2026-11-26T10:00:00Z", "lastSeen": "2026-11-27T08:00:00Z"}),
        ];
        let mut c = unauthorized[0]["count"].as_u64().unwrap();
        unauthorized[0]["challenges"] = json!(c);
        if r.below(5) == 0 {
            c = 1 + r.below(30);
            unauthorized.push(json!({"callerIp": format!("203.0.113.{}", r.below(250)), "client": "python-requests/2.31.0",
                "identity": {}, "count": c, "challenges": 0, "unexplained": c, "firstSeen": "2026-11-27T01:00:00Z",
                "lastSeen": "2026-11-27T02:00:00Z", "lastUnexplained": "2026-11-27T02:00:00Z", "operations": ["SecretGet"]}));
        }
        let mut forbidden: Vec<Value> = if r.below(8) == 0 {
            vec![
                json!({"callerIp": "198.51.100.7", "client": "curl/8.5.0", "identity": {"appId": guid(&mut r), "objectId": guid(&mut r)},
                "count": 1 + r.below(9), "firstSeen": "2026-11-27T03:00:00Z", "lastSeen": "2026-11-27T04:00:00Z",
                "operations": ["SecretList"], "resultDescription": "Caller is not authorized to perform action on resource."}),
            ]
        } else {
            vec![]
        };
        if noisy {
            noise(&mut unauthorized, &mut forbidden, &mut r);
        }
        let audit = if noisy {
            json!({"status": "ok", "workspaceId": ws, "tables": ["AzureDiagnostics", "AZKVAuditLogs"],
                "windowStart": "2026-11-26T09:00:00Z", "windowEnd": end, "challengeWindowSeconds": 60,
                "unauthorized": unauthorized, "forbidden": forbidden})
        } else if workspace.is_empty() || kind == 2 {
            json!({"status": "notCollected", "reason": "no diagnostic setting sends AuditEvent to a Log Analytics workspace"})
        } else if r.below(50) == 0 {
            json!({"status": "error", "workspaceId": ws, "error": {"code": "InsufficientAccessError", "message": "The provided credentials have insufficient access to perform the requested operation", "httpStatus": 403}})
        } else {
            json!({"status": "ok", "workspaceId": ws, "tables": ["AzureDiagnostics", "AZKVAuditLogs"],
                "windowStart": "2026-11-26T09:00:00Z", "windowEnd": end, "challengeWindowSeconds": 60,
                "unauthorized": unauthorized, "forbidden": forbidden})
        };
        // Keys and secrets: 0-3 and 0-5, some without expiry or rotation.
        let item = |r: &mut Lcg, what: &str, n: u64| {
            let mut attributes = json!({"enabled": r.below(10) != 0, "created": 1_735_689_600u64});
            if r.below(3) != 0 {
                attributes["exp"] = json!(1_830_297_600u64);
            }
            let mut props = json!({"attributes": attributes});
            if what == "keys" && r.below(2) == 0 {
                props["rotationPolicy"] = json!({"attributes": {"expiryTime": "P1Y"}, "lifetimeActions": [
                    {"trigger": {"timeAfterCreate": "P90D"}, "action": {"type": if r.below(4) == 0 { "Notify" } else { "Rotate" }}}]});
            }
            let mut item = json!({"id": format!("{id}/{what}/{what}-{n}"), "name": format!("{what}-{n}"),
                "type": format!("Microsoft.KeyVault/vaults/{what}"), "properties": props});
            if what == "keys" {
                item["rotationPolicyRead"] = json!({"status": "ok"});
            }
            item
        };
        let (nkeys, nsecrets) = if heavy {
            (1_000, 5_000)
        } else {
            (r.below(4), r.below(6))
        };
        let keys: Vec<Value> = (0..nkeys).map(|n| item(&mut r, "keys", n)).collect();
        let secrets: Vec<Value> = (0..nsecrets).map(|n| item(&mut r, "secrets", n)).collect();
        let hits: Vec<Value> = (0..7)
            .map(|d| json!({"timeStamp": format!("2026-11-2{d}T09:00:00Z"), "count": r.below(500) as f64}))
            .collect();
        let volume = if audit["status"] == "ok" && !noisy {
            json!({"status": "ok", "value": {"workspaceId": ws, "windowStart": "2026-11-20T09:00:00Z", "windowEnd": end,
                "events": if r.below(20) == 0 { 0 } else { 1 + r.below(100_000) }}})
        } else {
            json!({"status": "notCollected", "reason": "no diagnostic setting sends AuditEvent to a Log Analytics workspace"})
        };
        let posture = r.below(4);
        let private = posture == 0;
        list.push(json!({
            "vault": {"id": id, "name": name, "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "tags": {"env": "synthetic"},
                "properties": {"tenantId": "00000000-0000-0000-0000-000000000001", "sku": {"family": "A", "name": "standard"},
                    "vaultUri": format!("https://{name}.vault.azure.net/"), "enableSoftDelete": true,
                    "softDeleteRetentionInDays": if posture == 3 { 7 } else { 90 },
                    "enablePurgeProtection": if posture == 2 { Value::Null } else { json!(true) },
                    "enableRbacAuthorization": v % 3 != 0, "publicNetworkAccess": if private { "Disabled" } else { "Enabled" },
                    "networkAcls": {"bypass": "AzureServices", "defaultAction": if posture < 2 { "Deny" } else { "Allow" }, "ipRules": [], "virtualNetworkRules": []},
                    "privateEndpointConnections": if private { json!([{"id": format!("{id}/privateEndpointConnections/pe-{name}"),
                        "properties": {"privateEndpoint": {"id": format!("/subscriptions/{sid}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-{name}")},
                            "privateLinkServiceConnectionState": {"status": "Approved", "description": "", "actionsRequired": "None"},
                            "provisioningState": "Succeeded"}}]) } else { json!([]) },
                    "accessPolicies": [], "provisioningState": "Succeeded"}},
            "diagnosticSettings": settings,
            "auditLogs": audit,
            "keys": {"status": "ok", "value": keys},
            "secrets": {"status": "ok", "value": secrets},
            "apiHits": {"status": "ok", "value": {"timespan": "2026-11-20T09:00:00Z/2026-11-27T09:00:00Z", "interval": "P1D",
                "value": [{"name": {"value": "ServiceApiHit"}, "unit": "Count", "errorCode": "Success",
                    "timeseries": [{"data": hits}]}]}},
            "auditVolume": volume
        }));
    }
    json!({
        "schemaVersion": 2, "generatedAt": end,
        "generator": {"name": "kvaudit gen-inventory", "version": env!("CARGO_PKG_VERSION"), "kind": "synthetic"},
        "subscriptions": subscriptions, "vaults": list, "workspaces": workspaces, "diagnosticCategories": {}
    })
}

/// 100 active activity-log alerts and 40 disabled ones in subscription `s`
/// (Azure allows 100 active per subscription): 80 scoped to single vaults,
/// 12 to resource groups, 8 to the subscription (some filtered on status or
/// without a working action group, so near misses exist), on top of the
/// alerts `main` made.
fn limit_alerts(alerts: &mut Vec<Value>, base: &str, ag: &str, s: u64, subs: u64, per_sub: u64) {
    let active_before = alerts
        .iter()
        .filter(|a| a["properties"]["enabled"] == true)
        .count();
    let ops = [
        "Microsoft.KeyVault/vaults/write",
        "Microsoft.KeyVault/vaults/delete",
        "Microsoft.KeyVault/vaults/accessPolicies/write",
    ];
    let mut n = 0;
    let mut push = |alerts: &mut Vec<Value>,
                    scope: String,
                    op: &str,
                    enabled: bool,
                    extra: Option<Value>| {
        let mut all_of = vec![
            json!({"field": "category", "equals": "Administrative"}),
            json!({"field": "operationName", "equals": op}),
        ];
        if let Some(e) = extra {
            all_of.push(e);
        }
        alerts.push(json!({"id": format!("{base}/resourceGroups/rg-monitoring/providers/microsoft.insights/activityLogAlerts/limit-{n}"),
            "name": format!("limit-{n}"), "type": "Microsoft.Insights/ActivityLogAlerts", "location": "Global",
            "properties": {"scopes": [scope], "condition": {"allOf": all_of},
                "actions": {"actionGroups": [{"actionGroupId": ag, "webhookProperties": {}}]}, "enabled": enabled}}));
        n += 1;
    };
    let active = 100usize.saturating_sub(active_before);
    for k in 0..active {
        let op = ops[k % ops.len()];
        let (scope, extra) = match k {
            // Single vaults of this subscription (names as main makes them).
            k if k < active.saturating_sub(20) => {
                let j = k as u64 % per_sub.max(1);
                let v = j * subs + s;
                (
                    format!(
                        "{base}/resourceGroups/rg-{}/providers/Microsoft.KeyVault/vaults/kv-syn-{v:06}",
                        j % 6
                    ),
                    None,
                )
            }
            k if k < active.saturating_sub(8) => {
                (format!("{base}/resourceGroups/rg-{}", k % 6), None)
            }
            k if k % 3 == 0 => (
                base.to_string(),
                Some(json!({"field": "status", "equals": "Failed"})),
            ),
            _ => (
                base.to_string(),
                Some(
                    json!({"field": "resourceType", "equals": "Microsoft.Storage/storageAccounts"}),
                ),
            ),
        };
        push(alerts, scope, op, true, extra);
    }
    for k in 0..40 {
        push(alerts, base.to_string(), ops[k % 2], false, None);
    }
}

/// A vault's setting list grown to Azure's maximum of 5: the original and
/// four more (metrics only, storage archive, event hub, an empty one).
fn five_settings(mut settings: Value, id: &str, ws: &str, sid: &str) -> Value {
    let list = settings["value"].as_array_mut().expect("settings list");
    for (k, (field, value)) in [
        ("workspaceId", ws.to_string()),
        ("storageAccountId", format!("/subscriptions/{sid}/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/starchive")),
        ("eventHubAuthorizationRuleId", format!("/subscriptions/{sid}/resourceGroups/rg-logs/providers/Microsoft.EventHub/namespaces/ehns/authorizationRules/RootManageSharedAccessKey")),
        ("workspaceId", String::new()),
    ]
    .into_iter()
    .enumerate()
    {
        let logs = if k == 0 {
            json!([])
        } else {
            json!([{"category": "AzurePolicyEvaluationDetails", "enabled": true}])
        };
        list.push(json!({"id": format!("{id}/providers/microsoft.insights/diagnosticSettings/extra-{k}"),
            "type": "Microsoft.Insights/diagnosticSettings", "name": format!("extra-{k}"),
            "properties": {field: value, "logs": logs, "metrics": [{"category": "AllMetrics", "enabled": true}]}}));
    }
    settings
}

/// Internet background noise on one public vault: 1,000 distinct IPs with
/// one unexplained 401 each (about 1 in 10 allow-listed ranges aside), and
/// 1,000 distinct identities refused with a 403.
fn noise(unauthorized: &mut Vec<Value>, forbidden: &mut Vec<Value>, r: &mut Lcg) {
    for k in 0..1_000u64 {
        unauthorized.push(json!({"callerIp": format!("198.18.{}.{}", k / 250, k % 250), "client": "python-requests/2.31.0",
            "identity": {}, "count": 1, "challenges": 0, "unexplained": 1,
            "firstSeen": "2026-11-27T01:00:00Z", "lastSeen": format!("2026-11-27T0{}:00:00Z", 1 + k % 8),
            "lastUnexplained": format!("2026-11-27T0{}:00:00Z", 1 + k % 8), "operations": ["Authentication"]}));
        forbidden.push(json!({"callerIp": format!("198.19.{}.{}", k / 250, k % 250), "client": "curl/8.5.0",
            "identity": {"appId": guid(r), "objectId": guid(r)}, "count": 1 + k % 3,
            "firstSeen": "2026-11-27T03:00:00Z", "lastSeen": "2026-11-27T04:00:00Z",
            "operations": ["SecretGet"], "resultDescription": "Caller is not authorized to perform action on resource."}));
    }
}

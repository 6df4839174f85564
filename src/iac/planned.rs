//! The declared resources as an inventory (the same `schemaVersion` a scan
//! writes), with where each vault is declared and which of its parts hold
//! values only known at deployment.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Value, json};

use super::{Declared, Target};
use crate::finding::{Finding, Resource, Source, Status};
use crate::inventory::Inventory;
use crate::policy::engine::Rule;
use crate::policy::metadata::Input;

/// A part of a vault's input that can hold unknown values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// The vault object itself (what rules without `inputs` read).
    Vault,
    DiagnosticSettings,
    ActivityLogAlerts,
    Keys,
    Secrets,
}

impl Part {
    /// The parts a rule reads, by its declared inputs.
    fn read_by(rule: &Rule) -> BTreeSet<Part> {
        let reads = rule.metadata.reads();
        let mut parts: BTreeSet<Part> = reads
            .iter()
            .filter_map(|i| match i {
                Input::DiagnosticSettings => Some(Part::DiagnosticSettings),
                Input::ActivityLogAlerts => Some(Part::ActivityLogAlerts),
                Input::Keys | Input::KeyRotation => Some(Part::Keys),
                Input::Secrets => Some(Part::Secrets),
                _ => None,
            })
            .collect();
        if reads.is_empty() {
            parts.insert(Part::Vault);
        }
        parts
    }
}

/// The planned inventory and what the findings need to point at the
/// templates.
pub struct Planned {
    pub inventory: Inventory,
    /// Lower-case vault id → where it is declared.
    pub sources: BTreeMap<String, Source>,
    /// Lower-case vault id → part → unknown paths (with reasons).
    pub unknown: BTreeMap<String, BTreeMap<Part, Vec<String>>>,
    /// Resources declared but not read by any rule, by type: what the report
    /// can say it ignored.
    pub ignored: BTreeMap<String, usize>,
}

/// Unknown values no built-in rule reads: a template's access policies name
/// principals by parameter, tags vary, and a secret's value is never carried.
/// A rule that read them would see null (docs/iac.md).
fn ignorable(path: &str) -> bool {
    [
        "properties.accessPolicies",
        "properties.tenantId",
        "tags",
        "properties.value ",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

fn is(d: &Declared, kind: &str) -> bool {
    d.kind.eq_ignore_ascii_case(kind)
}

fn under(id: &str, parent: &str) -> bool {
    id.len() > parent.len()
        && id[..parent.len()].eq_ignore_ascii_case(parent)
        && id.as_bytes()[parent.len()] == b'/'
}

fn props(d: &Declared) -> Value {
    d.body
        .get("properties")
        .cloned()
        .unwrap_or_else(|| json!({}))
}

/// Builds the planned inventory from everything the templates declare.
pub fn build(declared: &[Declared], target: &Target) -> Result<Planned, String> {
    let sub = &target.subscription_id;
    let mut sources = BTreeMap::new();
    let mut unknown: BTreeMap<String, BTreeMap<Part, Vec<String>>> = BTreeMap::new();
    let mut ignored: BTreeMap<String, usize> = BTreeMap::new();
    let note = |vault: &str,
                part: Part,
                d: &Declared,
                unknown: &mut BTreeMap<String, BTreeMap<Part, Vec<String>>>| {
        let relevant: Vec<&String> = d.unknown.iter().filter(|u| !ignorable(u)).collect();
        for u in relevant {
            // Whether the vault exists, or which one it is, decides every verdict.
            let whole = part == Part::Vault
                && ["condition", "copy.count", "name "]
                    .iter()
                    .any(|p| u.starts_with(p));
            let parts: &[Part] = if whole {
                &[
                    Part::Vault,
                    Part::DiagnosticSettings,
                    Part::ActivityLogAlerts,
                    Part::Keys,
                    Part::Secrets,
                ]
            } else {
                std::slice::from_ref(&part)
            };
            for p in parts {
                unknown
                    .entry(vault.to_ascii_lowercase())
                    .or_default()
                    .entry(*p)
                    .or_default()
                    .push(format!(
                        "{} {u} ({}:{})",
                        d.name, d.source.file, d.source.line
                    ));
            }
        }
    };
    let vaults: Vec<&Declared> = declared
        .iter()
        .filter(|d| is(d, "Microsoft.KeyVault/vaults"))
        .collect();
    let alerts: Vec<&Declared> = declared
        .iter()
        .filter(|d| is(d, "Microsoft.Insights/activityLogAlerts"))
        .collect();
    let groups: Vec<&Declared> = declared
        .iter()
        .filter(|d| is(d, "Microsoft.Insights/actionGroups"))
        .collect();
    let alert_unknowns: Vec<&Declared> = alerts
        .iter()
        .chain(&groups)
        .copied()
        .filter(|d| !d.unknown.is_empty())
        .collect();
    let mut entries = Vec::new();
    for v in &vaults {
        let key = v.id.to_ascii_lowercase();
        sources.insert(key.clone(), v.source.clone());
        note(&v.id, Part::Vault, v, &mut unknown);
        for d in &alert_unknowns {
            note(&v.id, Part::ActivityLogAlerts, d, &mut unknown);
        }
        let mut properties = props(v);
        let p = properties.as_object_mut().ok_or_else(|| {
            format!(
                "{}:{}: the vault's `properties` is not an object",
                v.source.file, v.source.line
            )
        })?;
        // Azure's defaults, which a GET after deployment would show.
        p.entry("enableSoftDelete").or_insert(json!(true));
        p.entry("softDeleteRetentionInDays").or_insert(json!(90));
        let mut connections = Vec::new();
        for pe in declared
            .iter()
            .filter(|d| is(d, "Microsoft.Network/privateEndpoints"))
        {
            for (field, status) in [
                ("privateLinkServiceConnections", "Approved"),
                ("manualPrivateLinkServiceConnections", "Pending"),
            ] {
                for c in props(pe)
                    .get(field)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let target = c
                        .pointer("/properties/privateLinkServiceId")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if target.eq_ignore_ascii_case(&v.id) {
                        connections.push(json!({
                            "id": format!("{}/privateEndpointConnections/{}", v.id, pe.name),
                            "properties": {
                                "privateEndpoint": {"id": pe.id},
                                "privateLinkServiceConnectionState": {"status": status},
                            },
                        }));
                        note(&v.id, Part::Vault, pe, &mut unknown);
                    }
                }
            }
        }
        if !connections.is_empty() {
            p.insert(
                "privateEndpointConnections".into(),
                Value::Array(connections),
            );
        }
        let mut vault = json!({
            "id": v.id,
            "name": v.name,
            "type": "Microsoft.KeyVault/vaults",
            "location": v.body.get("location").cloned().unwrap_or(json!(target.location)),
            "properties": properties,
        });
        if let Some(t) = v.body.get("tags") {
            vault["tags"] = t.clone();
        }
        let settings: Vec<Value> = declared
            .iter()
            .filter(|d| is(d, "Microsoft.Insights/diagnosticSettings"))
            .filter(|d| d.scope.as_deref().is_some_and(|s| s.trim_end_matches('/').eq_ignore_ascii_case(&v.id)))
            .map(|d| {
                note(&v.id, Part::DiagnosticSettings, d, &mut unknown);
                json!({"id": d.id, "name": d.name, "type": "Microsoft.Insights/diagnosticSettings", "properties": props(d)})
            })
            .collect();
        let keys: Vec<Value> = declared
            .iter()
            .filter(|d| is(d, "Microsoft.KeyVault/vaults/keys") && under(&d.id, &v.id))
            .map(|d| {
                note(&v.id, Part::Keys, d, &mut unknown);
                json!({"id": d.id, "name": d.name, "type": "Microsoft.KeyVault/vaults/keys", "properties": props(d), "rotationPolicyRead": {"status": "ok"}})
            })
            .collect();
        let secrets: Vec<Value> = declared
            .iter()
            .filter(|d| is(d, "Microsoft.KeyVault/vaults/secrets") && under(&d.id, &v.id))
            .map(|d| {
                note(&v.id, Part::Secrets, d, &mut unknown);
                let mut p = props(d);
                // Never carry a secret's value into the inventory or a report.
                if let Some(m) = p.as_object_mut() {
                    m.remove("value");
                }
                json!({"id": d.id, "name": d.name, "type": "Microsoft.KeyVault/vaults/secrets", "properties": p})
            })
            .collect();
        let not_known = |what: &str| json!({"status": "notCollected", "reason": format!("{what} is only known once the vault is deployed")});
        entries.push(json!({
            "vault": vault,
            "diagnosticSettings": {"status": "ok", "value": settings},
            "auditLogs": {"status": "notCollected", "reason": "audit logs exist only once the vault is deployed"},
            "keys": {"status": "ok", "value": keys},
            "secrets": {"status": "ok", "value": secrets},
            "apiHits": not_known("ServiceApiHit"),
            "auditVolume": not_known("the audit volume"),
        }));
    }
    let read = [
        "microsoft.keyvault/vaults",
        "microsoft.insights/activitylogalerts",
        "microsoft.insights/actiongroups",
        "microsoft.insights/diagnosticsettings",
        "microsoft.keyvault/vaults/keys",
        "microsoft.keyvault/vaults/secrets",
        "microsoft.network/privateendpoints",
    ];
    for d in declared {
        if !read.contains(&d.kind.to_ascii_lowercase().as_str()) {
            *ignored.entry(d.kind.clone()).or_default() += 1;
        }
    }
    let arm = |d: &&Declared, kind: &str| {
        let mut x = json!({"id": d.id, "name": d.name, "type": kind, "location": d.body.get("location").cloned().unwrap_or(json!("Global")), "properties": props(d)});
        if let Some(t) = d.body.get("tags") {
            x["tags"] = t.clone();
        }
        x
    };
    let doc = json!({
        "schemaVersion": 2,
        "generatedAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "generator": {"name": "kvaudit iac", "version": env!("CARGO_PKG_VERSION"), "kind": "iac"},
        "subscriptions": [{
            "subscription": {"id": format!("/subscriptions/{sub}"), "subscriptionId": sub, "displayName": "planned by the templates", "state": "Enabled"},
            "activityLogAlerts": {"status": "ok", "value": alerts.iter().map(|d| arm(d, "Microsoft.Insights/ActivityLogAlerts")).collect::<Vec<_>>()},
            "actionGroups": {"status": "ok", "value": groups.iter().map(|d| arm(d, "Microsoft.Insights/ActionGroups")).collect::<Vec<_>>()},
            "scheduledQueryRules": {"status": "notCollected", "reason": "log search alerts are not judged from templates"},
            "pricings": {"status": "notCollected", "reason": "Defender plans are not judged from templates"},
        }],
        "vaults": entries,
        "workspaces": [],
    });
    let inventory = Inventory::from_json(&doc.to_string(), "the planned inventory")
        .map_err(|e| format!("the templates' resources do not fit the inventory: {e}"))?;
    Ok(Planned {
        inventory,
        sources,
        unknown,
        ignored,
    })
}

impl Planned {
    /// Points each finding at the line that declares its vault, and makes a
    /// verdict that read a part holding an unknown value not evaluable:
    /// the value could go either way, so it never passes.
    pub fn apply(&self, findings: &mut [Finding], rules: &[Rule]) {
        let mut anchored: BTreeMap<String, Arc<Resource>> = BTreeMap::new();
        for f in findings.iter_mut() {
            let key = f.resource.id.to_ascii_lowercase();
            if let Some(src) = self.sources.get(&key) {
                let r = anchored
                    .entry(key.clone())
                    .or_insert_with(|| {
                        let mut r = (*f.resource).clone();
                        r.source = Some(src.clone());
                        Arc::new(r)
                    })
                    .clone();
                f.resource = r;
            }
            let Some(parts) = self.unknown.get(&key) else {
                continue;
            };
            let Some(rule) = rules.iter().find(|r| r.metadata.id == f.rule_id) else {
                continue;
            };
            let hit: Vec<&String> = Part::read_by(rule)
                .iter()
                .filter_map(|p| parts.get(p))
                .flatten()
                .collect();
            if f.status != Status::NotEvaluable && !hit.is_empty() {
                let shown: Vec<String> = hit.iter().take(3).map(|s| s.to_string()).collect();
                f.message = format!(
                    "not known before deployment: {}{} (the verdict would have been: {})",
                    shown.join("; "),
                    if hit.len() > 3 {
                        format!("; {} more", hit.len() - 3)
                    } else {
                        String::new()
                    },
                    f.message
                );
                f.status = Status::NotEvaluable;
            }
        }
    }
}

//! The declared resources as an inventory (the same `schemaVersion` a scan
//! writes), with where each vault is declared and which of its parts hold
//! values only known at deployment.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Value, json};

use super::{Change, Declared, Target};
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
    /// The subscription's Defender plans (kv/defender).
    Pricings,
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
                Input::Pricings => Some(Part::Pricings),
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
/// change.
pub struct Planned {
    pub inventory: Inventory,
    pub anchors: Anchors,
}

/// Where each judged resource is declared, and what of it is unknown.
pub struct Anchors {
    /// Lower-case resource id → where it is declared.
    pub sources: BTreeMap<String, Source>,
    /// Lower-case resource id → part → unknown paths (with reasons).
    pub unknown: BTreeMap<String, BTreeMap<Part, Vec<String>>>,
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
    let (id, parent) = (id.as_bytes(), parent.as_bytes());
    id.len() > parent.len()
        && id[..parent.len()].eq_ignore_ascii_case(parent)
        && id[parent.len()] == b'/'
}

fn props(d: &Declared) -> Value {
    d.body
        .get("properties")
        .cloned()
        .unwrap_or_else(|| json!({}))
}

/// Merges `planned` over `live` (both ARM objects with `id`): same id
/// (ignoring case) replaced, the rest kept, `deleted` ids dropped.
fn overlay(live: &[Value], planned: Vec<Value>, deleted: &[String]) -> Vec<Value> {
    let id = |v: &Value| {
        v.get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let gone = |v: &Value| deleted.iter().any(|d| d.eq_ignore_ascii_case(&id(v)));
    let mut out: Vec<Value> = live
        .iter()
        .filter(|l| !gone(l) && !planned.iter().any(|p| id(p) == id(l)))
        .cloned()
        .collect();
    out.extend(planned.into_iter().filter(|p| !gone(p)));
    out
}

/// A live `Collected` list overlaid: an unreadable live list stays what it
/// was (nothing is assumed about it); a readable or absent one gets the
/// planned items.
fn overlay_part(live: Option<&Value>, planned: Vec<Value>, deleted: &[String]) -> Value {
    match live {
        Some(l) if l.get("status").and_then(Value::as_str) == Some("ok") => {
            let items = l
                .get("value")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            json!({"status": "ok", "value": overlay(&items, planned, deleted)})
        }
        Some(l) => l.clone(),
        None => json!({"status": "ok", "value": overlay(&[], planned, deleted)}),
    }
}

/// Builds the planned inventory from everything the change declares, over
/// the live inventory when there is one: the vaults the change declares or
/// touches (their settings, keys, secrets, endpoints, or a deletion under
/// them) are judged, with the subscription's live alerts and action groups
/// plus the planned ones, minus what the plan deletes.
pub fn build(
    change: &Change,
    target: &Target,
    live: Option<&Inventory>,
) -> Result<Planned, String> {
    let declared = &change.declared;
    let deleted = &change.deleted_ids();
    let sub = &target.subscription_id;
    let mut sources = BTreeMap::new();
    let mut unknown: BTreeMap<String, BTreeMap<Part, Vec<String>>> = BTreeMap::new();
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
    let live_doc: Option<Value> = live.map(|l| serde_json::to_value(l).unwrap_or_default());
    let live_vaults: Vec<&Value> = live_doc
        .as_ref()
        .and_then(|d| d.get("vaults"))
        .and_then(Value::as_array)
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    let live_vault = |id: &str| {
        live_vaults.iter().copied().find(|v| {
            v.pointer("/vault/id")
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(id))
        })
    };
    let live_sub = live_doc
        .as_ref()
        .and_then(|d| d.get("subscriptions"))
        .and_then(Value::as_array)
        .and_then(|subs| {
            subs.iter().find(|s| {
                s.pointer("/subscription/subscriptionId")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(sub))
            })
        });
    let planned_vaults: Vec<&Declared> = declared
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

    // What hangs under each vault (lower-case id), indexed once: a change
    // can hold thousands of resources.
    let mut attached: BTreeMap<String, Vec<&Declared>> = BTreeMap::new();
    let mut links: BTreeMap<String, Vec<(&Declared, &'static str)>> = BTreeMap::new();
    for d in declared {
        if is(d, "Microsoft.Insights/diagnosticSettings") {
            if let Some(sc) = &d.scope {
                attached
                    .entry(sc.trim_end_matches('/').to_ascii_lowercase())
                    .or_default()
                    .push(d);
            }
        } else if is(d, "Microsoft.KeyVault/vaults/keys")
            || is(d, "Microsoft.KeyVault/vaults/secrets")
        {
            let lower = d.id.to_ascii_lowercase();
            if let Some(at) = lower.rfind("/keys/").or_else(|| lower.rfind("/secrets/")) {
                attached.entry(lower[..at].to_string()).or_default().push(d);
            }
        } else if is(d, "Microsoft.Network/privateEndpoints") {
            for (field, status) in [
                ("privateLinkServiceConnections", "Approved"),
                ("manualPrivateLinkServiceConnections", "Pending"),
            ] {
                for c in d
                    .body
                    .pointer(&format!("/properties/{field}"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(t) = c
                        .pointer("/properties/privateLinkServiceId")
                        .and_then(Value::as_str)
                    {
                        links
                            .entry(t.to_ascii_lowercase())
                            .or_default()
                            .push((d, status));
                    }
                }
            }
        }
    }
    // The vaults to judge: declared, or live ones the change touches.
    let mut ids: Vec<String> = planned_vaults.iter().map(|v| v.id.clone()).collect();
    let touches = |vault_id: &str| {
        let key = vault_id.to_ascii_lowercase();
        attached.contains_key(&key)
            || links.contains_key(&key)
            || deleted.iter().any(|d| under(d, vault_id))
    };
    for lv in &live_vaults {
        let id = lv
            .pointer("/vault/id")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !ids.iter().any(|x| x.eq_ignore_ascii_case(id))
            && touches(id)
            && !deleted.iter().any(|d| d.eq_ignore_ascii_case(id))
        {
            ids.push(id.to_string());
        }
    }

    let mut entries = Vec::new();
    for vid in &ids {
        let planned_vault = planned_vaults
            .iter()
            .find(|v| v.id.eq_ignore_ascii_case(vid))
            .copied();
        let live_entry = live_vault(vid);
        for d in &alert_unknowns {
            note(vid, Part::ActivityLogAlerts, d, &mut unknown);
        }
        let mut vault = match planned_vault {
            Some(v) => {
                sources.insert(vid.to_ascii_lowercase(), v.source.clone());
                note(vid, Part::Vault, v, &mut unknown);
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
                let mut x = json!({
                    "id": v.id,
                    "name": v.name,
                    "type": "Microsoft.KeyVault/vaults",
                    "location": v.body.get("location").cloned().unwrap_or(json!(target.location)),
                    "properties": properties,
                });
                if let Some(t) = v.body.get("tags") {
                    x["tags"] = t.clone();
                }
                x
            }
            None => live_entry
                .and_then(|e| e.get("vault"))
                .cloned()
                .unwrap_or_default(),
        };
        if planned_vault.is_none() {
            // A live vault the change touches: anchored where the change does.
            let at = attached
                .get(&vid.to_ascii_lowercase())
                .and_then(|v| v.first())
                .map(|d| d.source.clone())
                .or_else(|| {
                    change
                        .deleted
                        .iter()
                        .find(|(d, _)| under(d, vid))
                        .map(|(_, at)| at.clone())
                });
            if let Some(at) = at {
                sources.insert(vid.to_ascii_lowercase(), at);
            }
        }
        let key = vid.to_ascii_lowercase();
        let mut connections = Vec::new();
        for (pe, status) in links.get(&key).into_iter().flatten() {
            connections.push(json!({
                "id": format!("{vid}/privateEndpointConnections/{}", pe.name),
                "properties": {
                    "privateEndpoint": {"id": pe.id},
                    "privateLinkServiceConnectionState": {"status": status},
                },
            }));
            note(vid, Part::Vault, pe, &mut unknown);
        }
        if !connections.is_empty()
            && let Some(p) = vault.get_mut("properties").and_then(Value::as_object_mut)
        {
            let live_conns = p
                .get("privateEndpointConnections")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            p.insert(
                "privateEndpointConnections".into(),
                Value::Array(overlay(&live_conns, connections, deleted)),
            );
        }
        let mine: &[&Declared] = attached.get(&key).map(Vec::as_slice).unwrap_or_default();
        let settings: Vec<Value> = mine
            .iter()
            .filter(|d| is(d, "Microsoft.Insights/diagnosticSettings"))
            .map(|d| {
                note(vid, Part::DiagnosticSettings, d, &mut unknown);
                json!({"id": d.id, "name": d.name, "type": "Microsoft.Insights/diagnosticSettings", "properties": props(d)})
            })
            .collect();
        let keys: Vec<Value> = mine
            .iter()
            .filter(|d| is(d, "Microsoft.KeyVault/vaults/keys"))
            .map(|d| {
                note(vid, Part::Keys, d, &mut unknown);
                json!({"id": d.id, "name": d.name, "type": "Microsoft.KeyVault/vaults/keys", "properties": props(d), "rotationPolicyRead": {"status": "ok"}})
            })
            .collect();
        let secrets: Vec<Value> = mine
            .iter()
            .filter(|d| is(d, "Microsoft.KeyVault/vaults/secrets"))
            .map(|d| {
                note(vid, Part::Secrets, d, &mut unknown);
                let mut p = props(d);
                // Never carry a secret's value into the inventory or a report.
                if let Some(m) = p.as_object_mut() {
                    m.remove("value");
                }
                json!({"id": d.id, "name": d.name, "type": "Microsoft.KeyVault/vaults/secrets", "properties": p})
            })
            .collect();
        let not_known = |what: &str| json!({"status": "notCollected", "reason": format!("{what} is not judged from a change")});
        let live_part = |k: &str| live_entry.and_then(|e| e.get(k));
        entries.push(json!({
            "vault": vault,
            "diagnosticSettings": overlay_part(live_part("diagnosticSettings"), settings, deleted),
            "auditLogs": {"status": "notCollected", "reason": "audit logs are not judged from a change"},
            "keys": overlay_part(live_part("keys"), keys, deleted),
            "secrets": overlay_part(live_part("secrets"), secrets, deleted),
            "apiHits": not_known("ServiceApiHit"),
            "auditVolume": not_known("the audit volume"),
        }));
    }
    let arm = |d: &&Declared, kind: &str| {
        let mut x = json!({"id": d.id, "name": d.name, "type": kind, "location": d.body.get("location").cloned().unwrap_or(json!("Global")), "properties": props(d)});
        if let Some(t) = d.body.get("tags") {
            x["tags"] = t.clone();
        }
        x
    };
    // Defender plans: judged by kv/defender on the subscription, anchored
    // at the first plan the change declares.
    let pricings: Vec<&Declared> = declared
        .iter()
        .filter(|d| is(d, "Microsoft.Security/pricings"))
        .collect();
    let sub_key = format!("/subscriptions/{}", sub.to_ascii_lowercase());
    if let Some(first) = pricings.first() {
        sources.insert(sub_key.clone(), first.source.clone());
    }
    for d in &pricings {
        note(&sub_key, Part::Pricings, d, &mut unknown);
    }
    let planned_pricings: Vec<Value> = pricings
        .iter()
        .map(|d| json!({"id": d.id, "name": d.name, "type": "Microsoft.Security/pricings", "properties": props(d)}))
        .collect();
    let planned_alerts: Vec<Value> = alerts
        .iter()
        .map(|d| arm(d, "Microsoft.Insights/ActivityLogAlerts"))
        .collect();
    let planned_groups: Vec<Value> = groups
        .iter()
        .map(|d| arm(d, "Microsoft.Insights/ActionGroups"))
        .collect();
    let subscription = match live_sub {
        Some(ls) => {
            let mut s = ls.clone();
            s["activityLogAlerts"] =
                overlay_part(ls.get("activityLogAlerts"), planned_alerts, deleted);
            s["actionGroups"] = overlay_part(ls.get("actionGroups"), planned_groups, deleted);
            s["pricings"] = overlay_part(ls.get("pricings"), planned_pricings, deleted);
            s
        }
        None => json!({
            "subscription": {"id": format!("/subscriptions/{sub}"), "subscriptionId": sub, "displayName": "planned by the change", "state": "Enabled"},
            "activityLogAlerts": {"status": "ok", "value": planned_alerts},
            "actionGroups": {"status": "ok", "value": planned_groups},
            "scheduledQueryRules": {"status": "notCollected", "reason": "log search alerts are not judged from a change"},
            "pricings": if planned_pricings.is_empty() {
                json!({"status": "notCollected", "reason": "the change declares no Defender plan"})
            } else {
                json!({"status": "ok", "value": planned_pricings})
            },
        }),
    };
    let workspaces = live_doc
        .as_ref()
        .and_then(|d| d.get("workspaces"))
        .cloned()
        .unwrap_or(json!([]));
    let doc = json!({
        "schemaVersion": 2,
        "generatedAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "generator": {"name": "kvaudit iac", "version": env!("CARGO_PKG_VERSION"), "kind": "iac"},
        "subscriptions": [subscription],
        "vaults": entries,
        "workspaces": workspaces,
    });
    let inventory = Inventory::from_json(&doc.to_string(), "the planned inventory")
        .map_err(|e| format!("the change's resources do not fit the inventory: {e}"))?;
    Ok(Planned {
        inventory,
        anchors: Anchors { sources, unknown },
    })
}

impl Anchors {
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
                )
                .into();
                f.status = Status::NotEvaluable;
            }
        }
    }
}

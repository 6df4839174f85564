//! Builds the `input` document a rule sees for one vault. Subscription-level
//! parts are converted once and shared (regorus values are reference counted).
use std::collections::BTreeMap;

use regorus::Value;
use serde_json::json;

use super::metadata::Input;
use crate::finding::Resource;
use crate::inventory::{Collected, Inventory, VaultInventory};

/// The `input` of one evaluation, as documented in `docs/policies.md`:
/// `resource`, `vault`, `diagnosticSettings`, `auditLogs`, `subscription`,
/// `actionGroups`, `workspaces`, `diagnosticCategories`.
pub struct InputBuilder {
    /// The per-vault parts the selected rules read; the others get
    /// `unread`, as `scan` records a part no selected rule reads.
    parts: Parts,
    unread: Value,
    unread_logs: Value,
    subscriptions: BTreeMap<String, Value>,
    action_groups: Value,
    workspaces: Value,
    categories: Value,
}

/// Lower case, leading '/', no trailing '/' (as `lib.norm_id` in Rego).
pub fn norm_id(id: &str) -> String {
    let t = id.trim().trim_end_matches('/').to_ascii_lowercase();
    if t.starts_with('/') {
        t
    } else {
        format!("/{t}")
    }
}

/// The resource a subscription's findings are about: `/subscriptions/{id}`,
/// named by its display name when the inventory has one.
pub fn subscription_resource(id: &str, display_name: Option<&str>) -> Resource {
    Resource {
        id: format!("/subscriptions/{id}"),
        kind: "Microsoft.Resources/subscriptions".into(),
        name: display_name.unwrap_or(id).to_string(),
        subscription_id: id.to_ascii_lowercase(),
        source: None,
    }
}

/// The subscription id segment of an ARM id.
pub fn subscription_of(id: &str) -> String {
    let parts: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("subscriptions"))
        .and_then(|i| parts.get(i + 1))
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Which per-vault parts of the inventory go into `input`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub diagnostic_settings: bool,
    pub audit_logs: bool,
    pub audit_volume: bool,
    pub keys: bool,
    pub secrets: bool,
    pub api_hits: bool,
}

impl Parts {
    /// The parts rules with these declared `inputs` read. A rule sees the
    /// same input from `eval` on a full inventory as from a `scan` that
    /// collected only what the selected rules declare.
    pub fn of(inputs: &std::collections::BTreeSet<Input>) -> Parts {
        Parts {
            diagnostic_settings: inputs.contains(&Input::DiagnosticSettings),
            audit_logs: inputs.contains(&Input::AuditLogs),
            audit_volume: inputs.contains(&Input::AuditVolume),
            keys: inputs.contains(&Input::Keys) || inputs.contains(&Input::KeyRotation),
            secrets: inputs.contains(&Input::Secrets),
            api_hits: inputs.contains(&Input::ApiHits),
        }
    }
}

/// A typed part as a regorus value, built directly (see
/// [`super::rego_value`]). Inventory types always convert; were one not to,
/// its part reads `null`, which no rule takes for a pass, and says why.
fn to_value<T: serde::Serialize>(value: &T) -> Value {
    super::rego_value::to_value(value).unwrap_or_else(|e| {
        tracing::warn!("a part of the policy input could not be built: {e}");
        Value::Null
    })
}

/// `input.subscription` before the precompute adds its alert facts: the
/// subscription's id and name and what was collected at its level.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionInput<'a> {
    subscription_id: &'a str,
    display_name: &'a Option<String>,
    activity_log_alerts: &'a Collected<Vec<crate::azure::models::ActivityLogAlert>>,
    action_groups: &'a Collected<Vec<crate::azure::models::ActionGroup>>,
    scheduled_query_rules: &'a Collected<Vec<crate::azure::models::ScheduledQueryRule>>,
    pricings: &'a Collected<Vec<crate::azure::models::Pricing>>,
}

impl<'a> SubscriptionInput<'a> {
    fn of(s: &'a crate::inventory::SubscriptionInventory) -> Self {
        SubscriptionInput {
            subscription_id: &s.subscription.subscription_id,
            display_name: &s.subscription.display_name,
            activity_log_alerts: &s.activity_log_alerts,
            action_groups: &s.action_groups,
            scheduled_query_rules: &s.scheduled_query_rules,
            pricings: &s.pricings,
        }
    }
}

/// `object` with `byId` set to `by_id` (an object of regorus values).
fn with_by_id(mut object: Value, by_id: BTreeMap<Value, Value>) -> Value {
    if let Ok(map) = object.as_object_mut() {
        map.insert(Value::from("byId"), Value::from(by_id));
    }
    object
}

/// A part of the inventory as `input` (a regorus value), or the "not
/// collected" placeholder when no selected rule reads it.
fn part<T: serde::Serialize>(wanted: bool, value: &T, unread: &Value) -> Value {
    if wanted {
        to_value(value)
    } else {
        unread.clone()
    }
}

impl InputBuilder {
    pub fn new(inv: &Inventory, parts: Parts) -> InputBuilder {
        let mut subscriptions = BTreeMap::new();
        let mut by_id = BTreeMap::new();
        let mut ag_errors = Vec::new();
        for s in &inv.subscriptions {
            let sub_id = s.subscription.subscription_id.to_ascii_lowercase();
            subscriptions.insert(sub_id, to_value(&SubscriptionInput::of(s)));
            match &s.action_groups {
                Collected::Ok { value } => {
                    for ag in value {
                        by_id.insert(Value::from(norm_id(&ag.id)), to_value(ag));
                    }
                }
                Collected::Error { error } => ag_errors.push(json!({
                    "subscriptionId": s.subscription.subscription_id,
                    "code": error.code,
                    "message": error.message,
                })),
                Collected::NotCollected { reason } => ag_errors.push(json!({
                    "subscriptionId": s.subscription.subscription_id,
                    "code": "NotCollected",
                    "message": reason,
                })),
            }
        }
        let action_groups = if ag_errors.is_empty() {
            json!({"status": "ok"})
        } else {
            let first = &ag_errors[0];
            json!({
                "status": "error",
                "error": {
                    "code": first["code"],
                    "message": format!("action groups of subscription {} could not be read: {}", first["subscriptionId"].as_str().unwrap_or(""), first["message"].as_str().unwrap_or("")),
                },
                "errors": ag_errors,
            })
        };
        let workspaces: BTreeMap<Value, Value> = inv
            .workspaces
            .iter()
            .map(|w| (Value::from(norm_id(&w.id)), to_value(w)))
            .collect();
        InputBuilder {
            parts,
            unread: to_value(&crate::collect::skipped::<()>()),
            unread_logs: to_value(&crate::inventory::AuditLogs {
                reason: Some(crate::collect::NOT_READ_BY_SELECTED_RULES.into()),
                ..Default::default()
            }),
            subscriptions,
            action_groups: with_by_id(to_value(&action_groups), by_id),
            workspaces: with_by_id(Value::new_object(), workspaces),
            categories: to_value(&inv.diagnostic_categories),
        }
    }

    /// The input of the per-subscription precompute
    /// (`data.kvaudit.precompute`), for each subscription: `subscription`
    /// and `actionGroups`.
    pub fn precompute_inputs(&self) -> Vec<(String, Value)> {
        self.subscriptions
            .iter()
            .map(|(id, sub)| {
                let mut input = BTreeMap::new();
                input.insert(Value::from("subscription"), sub.clone());
                input.insert(Value::from("actionGroups"), self.action_groups.clone());
                (id.clone(), Value::from(input))
            })
            .collect()
    }

    /// Stores what `data.kvaudit.precompute` gave for subscription `id`: its
    /// `alertFacts` and `alertIndex` (what every alert rule needs about each
    /// alert that does not depend on the vault, and which alerts each vault
    /// must look at) go into `input.subscription`.
    ///
    /// When the precompute failed on a subscription (a malformed alert), its
    /// alerts are recorded as unreadable with the engine's message, so the
    /// alert rules of its vaults are not evaluable rather than judged
    /// another way; the other subscriptions keep their cache.
    pub fn apply_precompute(&mut self, id: &str, result: Result<Value, String>) {
        let Some(Ok(obj)) = self.subscriptions.get_mut(id).map(Value::as_object_mut) else {
            return;
        };
        match result {
            Ok(Value::Object(computed)) => {
                for (k, v) in computed.iter() {
                    obj.insert(k.clone(), v.clone());
                }
            }
            Ok(_) => {}
            Err(text) => {
                tracing::warn!(
                    "activity-log alerts of subscription {id} could not be prepared for the alert rules: {text}"
                );
                obj.insert(
                    Value::from("activityLogAlerts"),
                    Value::from(json!({
                        "status": "error",
                        "error": {"code": "PolicyEvaluationError", "message": format!("the policy library could not process them: {text}")},
                    })),
                );
            }
        }
    }

    /// `input.subscription` of a (lower-case) subscription id: what the
    /// inventory holds, or a placeholder whose parts are not collected.
    fn subscription(&self, sub: &str) -> Value {
        self.subscriptions.get(sub).cloned().unwrap_or_else(|| {
            let missing = json!({"status": "notCollected", "reason": format!("subscription {sub} is not in the inventory")});
            Value::from(json!({
                "subscriptionId": sub,
                "activityLogAlerts": missing,
                "actionGroups": missing,
                "scheduledQueryRules": missing,
                "pricings": missing,
            }))
        })
    }

    /// The resource a vault's findings are about, and its `input`.
    pub fn vault_input(&self, v: &VaultInventory) -> (std::sync::Arc<Resource>, Value) {
        let sub = subscription_of(&v.vault.id);
        let resource = Resource {
            id: v.vault.id.clone(),
            kind: v.vault.kind.clone(),
            name: v.vault.name.clone(),
            subscription_id: sub.clone(),
            source: None,
        };
        let subscription = self.subscription(&sub);
        let mut input = BTreeMap::new();
        let mut put = |k: &str, v: Value| {
            input.insert(Value::from(k), v);
        };
        put("resource", to_value(&resource));
        put("vault", to_value(&v.vault));
        let (p, unread) = (self.parts, &self.unread);
        put(
            "diagnosticSettings",
            part(p.diagnostic_settings, &v.diagnostic_settings, unread),
        );
        put(
            "auditLogs",
            part(p.audit_logs, &v.audit_logs, &self.unread_logs),
        );
        put("keys", part(p.keys, &v.keys, unread));
        put("secrets", part(p.secrets, &v.secrets, unread));
        put("apiHits", part(p.api_hits, &v.api_hits, unread));
        put("auditVolume", part(p.audit_volume, &v.audit_volume, unread));
        put("subscription", subscription);
        put("actionGroups", self.action_groups.clone());
        put("workspaces", self.workspaces.clone());
        put("diagnosticCategories", self.categories.clone());
        (std::sync::Arc::new(resource), Value::from(input))
    }

    /// The input of each subscription that holds at least one vault of the
    /// inventory, for `scope: subscription` rules: `resource` (the
    /// subscription), `subscription`, `actionGroups` and `vaults` (id, name,
    /// location of its vaults).
    pub fn subscription_inputs(&self, inv: &Inventory) -> Vec<(std::sync::Arc<Resource>, Value)> {
        let mut vaults: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        for v in &inv.vaults {
            vaults
                .entry(subscription_of(&v.vault.id))
                .or_default()
                .push(
                    json!({"id": v.vault.id, "name": v.vault.name, "location": v.vault.location}),
                );
        }
        // Every subscription that holds a vault, named by the inventory when
        // it is there; one that is not gets the same "not collected"
        // placeholder the vault rules see, so its rules are not evaluable
        // rather than silently absent.
        vaults
            .into_iter()
            .map(|(key, list)| {
                let entry = inv
                    .subscriptions
                    .iter()
                    .find(|s| s.subscription.subscription_id.eq_ignore_ascii_case(&key));
                let resource = subscription_resource(
                    entry.map_or(key.as_str(), |s| s.subscription.subscription_id.as_str()),
                    entry.and_then(|s| s.subscription.display_name.as_deref()),
                );
                let mut input = BTreeMap::new();
                input.insert(Value::from("resource"), to_value(&resource));
                input.insert(Value::from("subscription"), self.subscription(&key));
                input.insert(Value::from("actionGroups"), self.action_groups.clone());
                input.insert(Value::from("vaults"), Value::from(json!(list)));
                (std::sync::Arc::new(resource), Value::from(input))
            })
            .collect()
    }
}

//! Terraform plans (`terraform show -json plan.tfplan`) to the resources
//! they leave in place: `resource_changes[].change.after` of the azurerm
//! resources the rules read, mapped to the ARM shapes of the inventory.
//! Values `after_unknown` marks are unknown; ids of resources the plan
//! creates are built from their names, and references between resources
//! come from the plan's `configuration` (its `references`). Each resource is
//! anchored at its `resource` block, found by parsing the `.tf` files with
//! hcl-edit.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl_edit::repr::Span;
use serde_json::{Map, Value, json};

use super::{Declared, Target};
use crate::finding::Source;

/// Whether `value` is a plan in Terraform's JSON output format.
pub fn is_plan(value: &Value) -> bool {
    value.get("format_version").is_some() && value.get("resource_changes").is_some()
}

/// What a plan leaves and what it deletes (ids, for the live overlay).
pub struct PlanResources {
    pub declared: Vec<Declared>,
    pub deleted: Vec<(String, Source)>,
}

/// One resource instance of the plan.
struct Instance {
    /// `module.a.azurerm_key_vault.main["x"]`.
    address: String,
    /// `module.a`, or empty.
    module: String,
    /// `azurerm_key_vault.main`.
    config_address: String,
    kind: String,
    index: Option<Value>,
    after: Value,
    unknown: Vec<String>,
    actions: Vec<String>,
    before: Value,
    /// The line of its entry in the plan.
    line: usize,
}

/// Reads the instances and builds the declared resources.
pub fn declared(
    spanned: &super::json::Spanned,
    shown: &str,
    config_dir: &Path,
    target: &Target,
) -> Result<PlanResources, String> {
    let plan = &spanned.value;
    let changes = plan
        .get("resource_changes")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{shown}: `resource_changes` is not a list"))?;
    let mut instances = Vec::new();
    for (n, c) in changes.iter().enumerate() {
        if c.get("mode").and_then(Value::as_str) != Some("managed") {
            continue;
        }
        let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let change = c.get("change").cloned().unwrap_or_default();
        let mut unknown = Vec::new();
        unknown_paths(
            change.get("after_unknown").unwrap_or(&Value::Null),
            "",
            &mut unknown,
        );
        instances.push(Instance {
            address: s("address"),
            module: s("module_address"),
            config_address: format!("{}.{}", s("type"), s("name")),
            kind: s("type"),
            index: c.get("index").cloned(),
            after: change.get("after").cloned().unwrap_or(Value::Null),
            unknown,
            actions: change
                .get("actions")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            before: change.get("before").cloned().unwrap_or(Value::Null),
            line: spanned.line(&format!("/resource_changes/{n}")),
        });
    }
    let config = Config::new(plan, config_dir);
    let index = index_of(&instances);
    let ids: Vec<Option<String>> = instances
        .iter()
        .map(|i| id_of(i, &instances, &index, &config, target))
        .collect();
    let resolver = Resolver {
        all: &instances,
        index,
        ids,
        config: &config,
    };
    let ids = &resolver.ids;
    let mut out = PlanResources {
        declared: Vec::new(),
        deleted: Vec::new(),
    };
    for (n, i) in instances.iter().enumerate() {
        if i.actions == ["delete"] {
            if let Some(id) = deleted_id(i) {
                let at = Source {
                    file: shown.to_string(),
                    line: i.line,
                };
                out.deleted.push((id, at));
            }
            continue;
        }
        let Some(kind) = arm_type(&i.kind) else {
            continue;
        };
        let source = config.source(i).unwrap_or_else(|| Source {
            file: shown.to_string(),
            line: i.line,
        });
        let resolve = |field: &str| resolver.one(i, field);
        let id = ids[n]
            .clone()
            .unwrap_or_else(|| format!("{}/unknown-id", i.address));
        let a = &i.after;
        let get = |k: &str| a.get(k).cloned().unwrap_or(Value::Null);
        // Only what the mapping below reads counts: a computed attribute
        // nobody reads (an id, `vault_uri`) leaves the verdicts alone.
        let mut unknown: Vec<String> = i
            .unknown
            .iter()
            .filter(|p| {
                let top = p.split(['.', '[']).next().unwrap_or("");
                reads(&i.kind).contains(&top)
            })
            .map(|p| format!("{p} (known after apply)"))
            .collect();
        let mut scope = None;
        let properties = match i.kind.as_str() {
            "azurerm_key_vault" => vault_properties(a),
            "azurerm_monitor_diagnostic_setting" => {
                scope = resolve("target_resource_id");
                if scope.is_none() {
                    unknown.push("target_resource_id (known after apply, and not a reference kvaudit can follow)".into());
                }
                unknown.retain(|u| !u.starts_with("target_resource_id"));
                let mut p = json!({
                    "logs": a.get("enabled_log").and_then(Value::as_array).into_iter().flatten().map(|l| {
                        let mut e = json!({"enabled": true});
                        if let Some(c) = l.get("category").and_then(Value::as_str).filter(|c| !c.is_empty()) { e["category"] = json!(c); }
                        if let Some(g) = l.get("category_group").and_then(Value::as_str).filter(|c| !c.is_empty()) { e["categoryGroup"] = json!(g); }
                        e
                    }).chain(a.get("log").and_then(Value::as_array).into_iter().flatten().map(|l| json!({
                        "category": l.get("category"), "categoryGroup": l.get("category_group"), "enabled": l.get("enabled").cloned().unwrap_or(json!(true)),
                    }))).collect::<Vec<_>>(),
                });
                for (tf, arm) in [
                    ("log_analytics_workspace_id", "workspaceId"),
                    ("storage_account_id", "storageAccountId"),
                    (
                        "eventhub_authorization_rule_id",
                        "eventHubAuthorizationRuleId",
                    ),
                    ("partner_solution_id", "marketplacePartnerId"),
                ] {
                    match (
                        a.get(tf).and_then(Value::as_str),
                        i.unknown.iter().any(|u| u == tf),
                    ) {
                        (Some(v), _) if !v.is_empty() => p[arm] = json!(v),
                        // A destination created by the same plan: set, its id unknown.
                        (_, true) => {
                            p[arm] = json!(resolve(tf).unwrap_or_else(|| format!(
                                "(the {tf} of a resource this plan creates)"
                            )));
                            unknown.retain(|u| !u.starts_with(tf));
                        }
                        _ => {}
                    }
                }
                p
            }
            "azurerm_monitor_activity_log_alert" => {
                let scopes: Vec<Value> = match a.get("scopes").and_then(Value::as_array) {
                    Some(s) => s.clone(),
                    None => resolver
                        .list(i, "scopes")
                        .into_iter()
                        .map(Value::from)
                        .collect(),
                };
                if !scopes.is_empty() {
                    unknown.retain(|u| !u.starts_with("scopes"));
                }
                let groups: Vec<Value> = a
                    .get("action")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|x| {
                        x.get("action_group_id")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .chain(resolver.list(i, "action"))
                    .map(|id| json!({"actionGroupId": id}))
                    .collect();
                if !groups.is_empty() {
                    unknown.retain(|u| !u.starts_with("action"));
                }
                json!({
                    "enabled": a.get("enabled").cloned().unwrap_or(json!(true)),
                    "scopes": scopes,
                    "condition": {"allOf": criteria(a.pointer("/criteria/0").unwrap_or(&Value::Null))},
                    "actions": {"actionGroups": groups},
                })
            }
            "azurerm_monitor_action_group" => action_group(a),
            "azurerm_key_vault_key" => {
                scope = resolve("key_vault_id");
                unknown.retain(|u| scope.is_none() || !u.starts_with("key_vault_id"));
                key_properties(a)
            }
            "azurerm_key_vault_secret" => {
                scope = resolve("key_vault_id");
                unknown.retain(|u| scope.is_none() || !u.starts_with("key_vault_id"));
                json!({"attributes": attributes(a)})
            }
            "azurerm_private_endpoint" => {
                let (manual, auto): (Vec<&Value>, Vec<&Value>) = a
                    .get("private_service_connection")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .partition(|c| {
                        c.get("is_manual_connection").and_then(Value::as_bool) == Some(true)
                    });
                let connection = |c: &&Value| {
                    let target = c
                        .get("private_connection_resource_id")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or_else(|| {
                            resolver
                                .list(i, "private_service_connection")
                                .into_iter()
                                .next()
                        })
                        .unwrap_or_default();
                    json!({"properties": {"privateLinkServiceId": target}})
                };
                unknown.retain(|u| !u.starts_with("private_service_connection"));
                json!({
                    "privateLinkServiceConnections": auto.iter().map(connection).collect::<Vec<_>>(),
                    "manualPrivateLinkServiceConnections": manual.iter().map(connection).collect::<Vec<_>>(),
                })
            }
            "azurerm_security_center_subscription_pricing" => {
                let mut p = json!({"pricingTier": get("tier")});
                if let Some(sp) = a.get("subplan").and_then(Value::as_str) {
                    p["subPlan"] = json!(sp);
                }
                p
            }
            _ => continue,
        };
        let mut body = Map::new();
        body.insert("properties".into(), properties);
        if let Some(l) = a.get("location").filter(|l| l.is_string()) {
            body.insert("location".into(), l.clone());
        }
        if let Some(t) = a.get("tags").filter(|t| t.is_object()) {
            body.insert("tags".into(), t.clone());
        }
        // Keys and secrets live under their vault.
        let id = match (&scope, i.kind.as_str()) {
            (Some(v), "azurerm_key_vault_key") => {
                format!("{v}/keys/{}", get("name").as_str().unwrap_or(""))
            }
            (Some(v), "azurerm_key_vault_secret") => {
                format!("{v}/secrets/{}", get("name").as_str().unwrap_or(""))
            }
            (Some(v), "azurerm_monitor_diagnostic_setting") => {
                format!(
                    "{v}/providers/Microsoft.Insights/diagnosticSettings/{}",
                    get("name").as_str().unwrap_or("")
                )
            }
            _ => id,
        };
        let (id, name) = if i.kind == "azurerm_security_center_subscription_pricing" {
            // Named by the plan it sets (default VirtualMachines, as in azurerm).
            let plan = a
                .get("resource_type")
                .and_then(Value::as_str)
                .unwrap_or("VirtualMachines")
                .to_string();
            (
                format!(
                    "/subscriptions/{}/providers/Microsoft.Security/pricings/{plan}",
                    target.subscription_id
                ),
                plan,
            )
        } else {
            (id, get("name").as_str().unwrap_or("").to_string())
        };
        out.declared.push(Declared {
            kind: kind.to_string(),
            name,
            id,
            scope: if matches!(i.kind.as_str(), "azurerm_monitor_diagnostic_setting") {
                scope
            } else {
                None
            },
            body: Value::Object(body),
            unknown,
            source,
        });
    }
    Ok(out)
}

/// The ARM id of what a plan deletes. azurerm's own ids differ for some
/// types: a diagnostic setting is `{target}|{name}`, a key or secret its
/// data-plane URL.
fn deleted_id(i: &Instance) -> Option<String> {
    let b = &i.before;
    let s = |k: &str| b.get(k).and_then(Value::as_str);
    match i.kind.as_str() {
        "azurerm_monitor_diagnostic_setting" => Some(format!(
            "{}/providers/Microsoft.Insights/diagnosticSettings/{}",
            s("target_resource_id")?,
            s("name")?
        )),
        "azurerm_key_vault_key" => Some(format!("{}/keys/{}", s("key_vault_id")?, s("name")?)),
        "azurerm_key_vault_secret" => {
            Some(format!("{}/secrets/{}", s("key_vault_id")?, s("name")?))
        }
        _ => s("id").map(str::to_string),
    }
}

/// The attributes of each type the mapping to ARM reads.
fn reads(kind: &str) -> &'static [&'static str] {
    match kind {
        "azurerm_key_vault" => &[
            "name",
            "location",
            "resource_group_name",
            "sku_name",
            "soft_delete_retention_days",
            "purge_protection_enabled",
            "rbac_authorization_enabled",
            "enable_rbac_authorization",
            "public_network_access_enabled",
            "network_acls",
        ],
        "azurerm_monitor_diagnostic_setting" => &[
            "name",
            "target_resource_id",
            "log_analytics_workspace_id",
            "storage_account_id",
            "eventhub_authorization_rule_id",
            "partner_solution_id",
            "enabled_log",
            "log",
        ],
        "azurerm_monitor_activity_log_alert" => {
            &["name", "enabled", "scopes", "criteria", "action"]
        }
        "azurerm_monitor_action_group" => &[
            "name",
            "enabled",
            "email_receiver",
            "sms_receiver",
            "webhook_receiver",
            "itsm_receiver",
            "azure_app_push_receiver",
            "automation_runbook_receiver",
            "voice_receiver",
            "logic_app_receiver",
            "azure_function_receiver",
            "arm_role_receiver",
            "event_hub_receiver",
        ],
        "azurerm_key_vault_key" => &[
            "name",
            "key_vault_id",
            "enabled",
            "expiration_date",
            "rotation_policy",
        ],
        "azurerm_key_vault_secret" => &["name", "key_vault_id", "enabled", "expiration_date"],
        "azurerm_private_endpoint" => &["name", "private_service_connection"],
        "azurerm_security_center_subscription_pricing" => &["tier", "resource_type", "subplan"],
        _ => &[],
    }
}

/// The ARM type the inventory holds for an azurerm resource type.
fn arm_type(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "azurerm_key_vault" => "Microsoft.KeyVault/vaults",
        "azurerm_monitor_diagnostic_setting" => "Microsoft.Insights/diagnosticSettings",
        "azurerm_monitor_activity_log_alert" => "Microsoft.Insights/activityLogAlerts",
        "azurerm_monitor_action_group" => "Microsoft.Insights/actionGroups",
        "azurerm_key_vault_key" => "Microsoft.KeyVault/vaults/keys",
        "azurerm_key_vault_secret" => "Microsoft.KeyVault/vaults/secrets",
        "azurerm_private_endpoint" => "Microsoft.Network/privateEndpoints",
        "azurerm_security_center_subscription_pricing" => "Microsoft.Security/pricings",
        _ => return None,
    })
}

/// Paths (`a.b[0].c`) that `after_unknown` marks true.
fn unknown_paths(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Bool(true) => out.push(path.to_string()),
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                unknown_paths(x, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                unknown_paths(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn vault_properties(a: &Value) -> Value {
    let mut p = json!({
        "tenantId": a.get("tenant_id"),
        "sku": {"family": "A", "name": a.get("sku_name")},
        "enableSoftDelete": true,
    });
    let mut put = |arm: &str, v: Option<Value>| {
        if let Some(v) = v.filter(|v| !v.is_null()) {
            p[arm] = v;
        }
    };
    put(
        "softDeleteRetentionInDays",
        a.get("soft_delete_retention_days")
            .cloned()
            .or(Some(json!(90))),
    );
    put(
        "enablePurgeProtection",
        a.get("purge_protection_enabled").cloned(),
    );
    put(
        "enableRbacAuthorization",
        a.get("rbac_authorization_enabled")
            .or_else(|| a.get("enable_rbac_authorization"))
            .cloned(),
    );
    put(
        "publicNetworkAccess",
        a.get("public_network_access_enabled")
            .and_then(Value::as_bool)
            .map(|b| json!(if b { "Enabled" } else { "Disabled" })),
    );
    if let Some(acl) = a.pointer("/network_acls/0") {
        p["networkAcls"] = json!({
            "bypass": acl.get("bypass"),
            "defaultAction": acl.get("default_action"),
            "ipRules": acl.get("ip_rules").and_then(Value::as_array).into_iter().flatten().map(|r| json!({"value": r})).collect::<Vec<_>>(),
            "virtualNetworkRules": acl.get("virtual_network_subnet_ids").and_then(Value::as_array).into_iter().flatten().map(|r| json!({"id": r})).collect::<Vec<_>>(),
        });
    }
    p
}

/// azurerm `criteria` as the ARM condition's `allOf`.
fn criteria(c: &Value) -> Vec<Value> {
    let mut all = Vec::new();
    for (tf, arm) in [
        ("category", "category"),
        ("operation_name", "operationName"),
        ("resource_type", "resourceType"),
        ("resource_provider", "resourceProvider"),
        ("resource_group", "resourceGroup"),
        ("resource_id", "resourceId"),
        ("level", "level"),
        ("status", "status"),
        ("sub_status", "subStatus"),
        ("caller", "caller"),
    ] {
        if let Some(v) = c.get(tf).and_then(Value::as_str).filter(|v| !v.is_empty()) {
            all.push(json!({"field": arm, "equals": v}));
        }
    }
    for (tf, arm) in [
        ("levels", "level"),
        ("statuses", "status"),
        ("sub_statuses", "subStatus"),
        ("resource_types", "resourceType"),
        ("resource_groups", "resourceGroup"),
        ("resource_ids", "resourceId"),
        ("resource_providers", "resourceProvider"),
    ] {
        let values: Vec<&str> = c
            .get(tf)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !values.is_empty() {
            all.push(json!({"anyOf": values.iter().map(|v| json!({"field": arm, "equals": v})).collect::<Vec<_>>()}));
        }
    }
    all
}

fn action_group(a: &Value) -> Value {
    let mut p = json!({"groupShortName": a.get("short_name"), "enabled": a.get("enabled").cloned().unwrap_or(json!(true))});
    for (tf, arm) in [
        ("email_receiver", "emailReceivers"),
        ("sms_receiver", "smsReceivers"),
        ("webhook_receiver", "webhookReceivers"),
        ("itsm_receiver", "itsmReceivers"),
        ("azure_app_push_receiver", "azureAppPushReceivers"),
        ("automation_runbook_receiver", "automationRunbookReceivers"),
        ("voice_receiver", "voiceReceivers"),
        ("logic_app_receiver", "logicAppReceivers"),
        ("azure_function_receiver", "azureFunctionReceivers"),
        ("arm_role_receiver", "armRoleReceivers"),
        ("event_hub_receiver", "eventHubReceivers"),
    ] {
        if let Some(list) = a
            .get(tf)
            .and_then(Value::as_array)
            .filter(|l| !l.is_empty())
        {
            p[arm] = Value::Array(list.clone());
        }
    }
    p
}

fn epoch(rfc3339: Option<&Value>) -> Option<i64> {
    rfc3339
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.timestamp())
}

fn attributes(a: &Value) -> Value {
    let mut x = json!({"enabled": a.get("enabled").cloned().unwrap_or(json!(true))});
    if let Some(e) = epoch(a.get("expiration_date")) {
        x["exp"] = json!(e);
    }
    x
}

fn key_properties(a: &Value) -> Value {
    let mut p = json!({"kty": a.get("key_type"), "attributes": attributes(a)});
    if let Some(r) = a.pointer("/rotation_policy/0") {
        let mut actions = Vec::new();
        if let Some(auto) = r.pointer("/automatic/0") {
            let mut trigger = Map::new();
            if let Some(t) = auto.get("time_after_creation").and_then(Value::as_str) {
                trigger.insert("timeAfterCreate".into(), json!(t));
            }
            if let Some(t) = auto.get("time_before_expiry").and_then(Value::as_str) {
                trigger.insert("timeBeforeExpiry".into(), json!(t));
            }
            actions.push(json!({"trigger": trigger, "action": {"type": "rotate"}}));
        }
        if let Some(t) = r.get("notify_before_expiry").and_then(Value::as_str) {
            actions.push(json!({"trigger": {"timeBeforeExpiry": t}, "action": {"type": "notify"}}));
        }
        let mut policy = json!({"lifetimeActions": actions});
        if let Some(e) = r.get("expire_after").and_then(Value::as_str) {
            policy["attributes"] = json!({"expiryTime": e});
        }
        p["rotationPolicy"] = policy;
    }
    p
}

/// An instance's ARM id: `after.id` when known; for what the plan creates,
/// built from its name and resource group (the group's own name when it is
/// a reference to a resource group the plan creates).
fn id_of(
    i: &Instance,
    all: &[Instance],
    index: &Index,
    config: &Config,
    target: &Target,
) -> Option<String> {
    if let Some(id) = i.after.get("id").and_then(Value::as_str) {
        return Some(id.to_string());
    }
    let name = i.after.get("name").and_then(Value::as_str)?;
    let rg = match i.after.get("resource_group_name").and_then(Value::as_str) {
        Some(rg) => rg.to_string(),
        None => config
            .references(i, "resource_group_name")
            .into_iter()
            .find_map(|r| {
                instance_for(&r, i, all, index).and_then(|g| {
                    all[g]
                        .after
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
            })
            .unwrap_or_else(|| target.resource_group.clone()),
    };
    let sub = &target.subscription_id;
    let path = match i.kind.as_str() {
        "azurerm_key_vault" => format!("Microsoft.KeyVault/vaults/{name}"),
        "azurerm_monitor_action_group" => format!("microsoft.insights/actionGroups/{name}"),
        "azurerm_monitor_activity_log_alert" => {
            format!("microsoft.insights/activityLogAlerts/{name}")
        }
        "azurerm_private_endpoint" => format!("Microsoft.Network/privateEndpoints/{name}"),
        "azurerm_log_analytics_workspace" => {
            format!("Microsoft.OperationalInsights/workspaces/{name}")
        }
        "azurerm_storage_account" => format!("Microsoft.Storage/storageAccounts/{name}"),
        "azurerm_resource_group" => {
            return Some(format!("/subscriptions/{sub}/resourceGroups/{name}"));
        }
        _ => return None,
    };
    Some(format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/{path}"
    ))
}

/// Instances by (module, configuration address), built once.
type Index = BTreeMap<(String, String), Vec<usize>>;

fn index_of(all: &[Instance]) -> Index {
    let mut index = Index::new();
    for (n, i) in all.iter().enumerate() {
        index
            .entry((i.module.clone(), i.config_address.clone()))
            .or_default()
            .push(n);
    }
    index
}

/// The instance a reference (`azurerm_key_vault.main`, `...main[0]`,
/// `...main["a"]`) names, seen from `from`: the indexed one, the only one,
/// or the one with `from`'s own index (count and for_each side by side).
fn instance_for(
    reference: &str,
    from: &Instance,
    all: &[Instance],
    index: &Index,
) -> Option<usize> {
    let (base, key) = match reference.find('[') {
        Some(p) => (
            &reference[..p],
            Some(
                reference[p + 1..]
                    .trim_end_matches(']')
                    .trim_matches('"')
                    .to_string(),
            ),
        ),
        None => (reference, None),
    };
    let candidates = index.get(&(from.module.clone(), base.to_string()))?;
    let text = |v: &Option<Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
        None => None,
    };
    match key {
        Some(k) => candidates
            .iter()
            .copied()
            .find(|n| text(&all[*n].index).as_deref() == Some(k.as_str())),
        None if candidates.len() == 1 => Some(candidates[0]),
        None => candidates
            .iter()
            .copied()
            .find(|n| all[*n].index.is_some() && all[*n].index == from.index),
    }
}

/// What resolving a reference needs: the instances, their index and ids,
/// and the configuration.
struct Resolver<'a> {
    all: &'a [Instance],
    index: Index,
    ids: Vec<Option<String>>,
    config: &'a Config<'a>,
}

impl Resolver<'_> {
    /// A field's value, or the id of the resource its configuration refers to.
    fn one(&self, i: &Instance, field: &str) -> Option<String> {
        if let Some(v) = i.after.get(field).and_then(Value::as_str) {
            return Some(v.to_string());
        }
        self.list(i, field).into_iter().next()
    }

    fn list(&self, i: &Instance, field: &str) -> Vec<String> {
        let mut out = Vec::new();
        for r in self.config.references(i, field) {
            if let Some(n) = instance_for(&r, i, self.all, &self.index)
                && let Some(id) = &self.ids[n]
                && !out.contains(id)
            {
                out.push(id.clone());
            }
        }
        out
    }
}

/// The plan's `configuration`: references per resource and field, and the
/// `.tf` files each module's blocks are in.
struct Config<'a> {
    plan: &'a Value,
    dir: PathBuf,
    lines: std::cell::RefCell<BTreeMap<PathBuf, BTreeMap<String, Source>>>,
}

impl<'a> Config<'a> {
    fn new(plan: &'a Value, dir: &Path) -> Config<'a> {
        Config {
            plan,
            dir: dir.to_path_buf(),
            lines: Default::default(),
        }
    }

    /// The module configuration of `module.a.module.b` and its directory.
    fn module(&self, address: &str) -> Option<(&'a Value, PathBuf)> {
        let mut m = self.plan.pointer("/configuration/root_module")?;
        let mut dir = self.dir.clone();
        for part in address
            .split('.')
            .collect::<Vec<_>>()
            .chunks(2)
            .filter(|c| c.len() == 2)
        {
            let name = part[1].split('[').next().unwrap_or("");
            let call = m.get("module_calls")?.get(name)?;
            if let Some(src) = call.get("source").and_then(Value::as_str)
                && (src.starts_with("./") || src.starts_with("../"))
            {
                dir = dir.join(src);
            }
            m = call.get("module")?;
        }
        Some((m, dir))
    }

    /// The references of one field of `i`'s configuration, resource
    /// addresses first (without attribute), most specific first.
    fn references(&self, i: &Instance, field: &str) -> Vec<String> {
        let Some((m, _)) = self.module(&i.module) else {
            return Vec::new();
        };
        let Some(res) = m.get("resources").and_then(Value::as_array).and_then(|r| {
            r.iter()
                .find(|x| x.get("address").and_then(Value::as_str) == Some(&i.config_address))
        }) else {
            return Vec::new();
        };
        let mut refs = Vec::new();
        collect_references(
            res.pointer(&format!("/expressions/{field}"))
                .unwrap_or(&Value::Null),
            &mut refs,
        );
        // `azurerm_key_vault.main.id` → `azurerm_key_vault.main`; keep the indexed forms first.
        let mut out: Vec<String> = Vec::new();
        for r in refs {
            let parts: Vec<&str> = r.splitn(3, '.').collect();
            if parts.len() >= 2 && parts[0].starts_with("azurerm_") {
                let second = parts[1];
                let base = format!("{}.{}", parts[0], second);
                if !out.contains(&base) {
                    out.push(base);
                }
            }
        }
        out.sort_by_key(|r| !r.contains('['));
        out
    }

    /// Where `i`'s `resource` block is.
    fn source(&self, i: &Instance) -> Option<Source> {
        let (_, dir) = self.module(&i.module)?;
        let mut cache = self.lines.borrow_mut();
        let blocks = cache.entry(dir.clone()).or_insert_with(|| blocks_in(&dir));
        blocks.get(&i.config_address).cloned()
    }
}

fn collect_references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("references").and_then(Value::as_array) {
                out.extend(r.iter().filter_map(Value::as_str).map(str::to_string));
            }
            for (k, x) in m {
                if k != "references" {
                    collect_references(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_references(x, out)),
        _ => {}
    }
}

/// `type.name` → file and line of each `resource` block of the `.tf`
/// files in `dir` (a file that does not parse is skipped).
fn blocks_in(dir: &Path) -> BTreeMap<String, Source> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    files.sort();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(body) = hcl_edit::parser::parse_body(&text) else {
            tracing::warn!(
                "{}: not valid HCL; its resources are anchored at the plan",
                f.display()
            );
            continue;
        };
        let shown = super::shown_path(&f);
        for block in body.get_blocks("resource") {
            let labels: Vec<&str> = block.labels.iter().map(|l| l.as_str()).collect();
            if let ([kind, name], Some(span)) = (labels.as_slice(), block.span()) {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                out.insert(
                    format!("{kind}.{name}"),
                    Source {
                        file: shown.clone(),
                        line,
                    },
                );
            }
        }
    }
    out
}

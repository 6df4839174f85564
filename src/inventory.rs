//! The inventory: the versioned JSON document a scan writes and `eval`
//! reads. It holds Azure's own shapes (see [`crate::azure::models`]) plus,
//! per vault, the audit-log evidence the anomaly rules need. Its JSON schema
//! is `docs/inventory.schema.json`; the format is described in `docs/inventory.md`.
use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::azure::models::{
    ActionGroup, ActivityLogAlert, DiagnosticCategory, DiagnosticSetting, ErrorDetail, Key,
    MetricsResponse, Pricing, ScheduledQueryRule, Secret, Subscription, Vault, Workspace,
};
use crate::error::Error;

/// The inventory format version this build writes.
pub const SCHEMA_VERSION: u32 = 2;

/// Versions this build reads. Version 2 added keys, secrets, Defender
/// pricings, API-hit metrics and audit volume; a version-1 document simply
/// has none of them (they read as not collected).
pub const READABLE_VERSIONS: &[u32] = &[1, 2];

/// What a collector got: the value, an error that says why not, or nothing
/// because it was not asked for. Serialised as `{"status": "ok", "value": ...}`,
/// `{"status": "error", "error": {...}}` or `{"status": "notCollected", "reason": ...}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Collected<T> {
    Ok { value: T },
    Error { error: ErrorDetail },
    NotCollected { reason: String },
}

impl<T> Default for Collected<T> {
    fn default() -> Self {
        Collected::NotCollected {
            reason: "not in the inventory".into(),
        }
    }
}

/// The whole document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Inventory {
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub schema_version: u32,
    /// RFC 3339 time the inventory was collected.
    pub generated_at: String,
    pub generator: Generator,
    pub subscriptions: Vec<SubscriptionInventory>,
    #[serde(default)]
    pub vaults: Vec<VaultInventory>,
    /// Log Analytics workspaces the vaults' diagnostic settings name.
    #[serde(default)]
    pub workspaces: Vec<Workspace>,
    /// Diagnostic categories per resource type (lower-case type → categories).
    #[serde(default)]
    pub diagnostic_categories: BTreeMap<String, Vec<DiagnosticCategory>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Generator {
    pub name: String,
    pub version: String,
    /// `scan`, `demo`, `synthetic` or `hand-written`.
    pub kind: String,
}

/// One subscription and what was collected at subscription level.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionInventory {
    pub subscription: Subscription,
    #[serde(default)]
    pub activity_log_alerts: Collected<Vec<ActivityLogAlert>>,
    #[serde(default)]
    pub action_groups: Collected<Vec<ActionGroup>>,
    #[serde(default)]
    pub scheduled_query_rules: Collected<Vec<ScheduledQueryRule>>,
    /// Defender for Cloud plans (kvaudit reads `KeyVaults`).
    #[serde(default)]
    pub pricings: Collected<Vec<Pricing>>,
    /// Why the subscription's vaults could not be listed; absent when they
    /// were. Every selected rule is then not evaluable for the subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_list_error: Option<ErrorDetail>,
}

impl SubscriptionInventory {
    /// `CODE: message` when the subscription's vaults could not be listed.
    pub fn vault_list_problem(&self) -> Option<String> {
        self.vault_list_error
            .as_ref()
            .map(|e| format!("{}: {}", e.code, e.message))
    }
}

/// One vault and what was collected about it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultInventory {
    pub vault: Vault,
    #[serde(default)]
    pub diagnostic_settings: Collected<Vec<DiagnosticSetting>>,
    #[serde(default)]
    pub audit_logs: AuditLogs,
    /// The vault's keys, listed through the management plane (metadata only).
    #[serde(default)]
    pub keys: Collected<Vec<Key>>,
    /// The vault's secrets, listed through the management plane (no values).
    #[serde(default)]
    pub secrets: Collected<Vec<Secret>>,
    /// Azure Monitor `ServiceApiHit` totals over the audit-volume window.
    #[serde(default)]
    pub api_hits: Collected<MetricsResponse>,
    /// How many AuditEvent rows of the vault the workspace holds.
    #[serde(default)]
    pub audit_volume: Collected<AuditVolume>,
}

impl VaultInventory {
    /// Drops what was collected about the vault (settings, logs, keys,
    /// secrets, metrics) and the vault's own properties, tags and other
    /// fields, keeping its identity (id, name, type, location): once its
    /// rules have judged it, the findings hold all the reports need. The
    /// parts read as not collected afterwards. (At 100,000 vaults at the
    /// limits, what a judged vault kept besides its identity was about
    /// 500 MB, resident until the reports were written.)
    pub fn release(&mut self) {
        self.diagnostic_settings = Collected::default();
        self.audit_logs = AuditLogs::default();
        self.keys = Collected::default();
        self.secrets = Collected::default();
        self.api_hits = Collected::default();
        self.audit_volume = Collected::default();
        self.vault.tags = None;
        self.vault.properties = crate::azure::models::VaultProperties::default();
        self.vault.extra = Default::default();
    }
}

/// AuditEvent rows of one vault in its workspace over a window (both tables).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditVolume {
    /// ARM id of the workspace that was queried.
    pub workspace_id: String,
    pub window_start: String,
    pub window_end: String,
    /// AuditEvent rows of this vault in [windowStart, windowEnd].
    pub events: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event: Option<String>,
    /// Log Analytics answered PartialError: a count of 0 proves nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// Audit-log evidence for one vault, aggregated by the Log Analytics query.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditLogs {
    /// `ok`, `partial` (Log Analytics PartialError), `error` or `notCollected`.
    pub status: AuditStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    /// Tables the query read (`AzureDiagnostics`, `AZKVAuditLogs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_end: Option<String>,
    /// Seconds after a 401 within which a 2xx counts as the challenge's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge_window_seconds: Option<u32>,
    #[serde(default)]
    pub unauthorized: Vec<UnauthorizedGroup>,
    #[serde(default)]
    pub forbidden: Vec<ForbiddenGroup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Default for AuditLogs {
    fn default() -> Self {
        AuditLogs {
            status: AuditStatus::NotCollected,
            workspace_id: None,
            tables: vec![],
            window_start: None,
            window_end: None,
            challenge_window_seconds: None,
            unauthorized: vec![],
            forbidden: vec![],
            error: None,
            reason: Some("not in the inventory".into()),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum AuditStatus {
    Ok,
    Partial,
    Error,
    NotCollected,
}

/// The caller's identity claims; all empty for an anonymous (challenge) request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallerIdentity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
}

/// 401s from one caller IP, client and identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnauthorizedGroup {
    pub caller_ip: String,
    #[serde(default)]
    pub client: String,
    #[serde(default)]
    pub identity: CallerIdentity,
    /// 401 responses in the window.
    pub count: u64,
    /// Those followed by a 2xx from the same IP and client within the challenge window.
    pub challenges: u64,
    /// `count - challenges`.
    pub unexplained: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// Time of the latest unexplained 401, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_unexplained: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<String>,
}

/// 403s to one identity from one caller IP and client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForbiddenGroup {
    pub caller_ip: String,
    #[serde(default)]
    pub client: String,
    #[serde(default)]
    pub identity: CallerIdentity,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_description: Option<String>,
}

impl Inventory {
    /// Parses an inventory, naming `origin` (a path or "demo") in errors,
    /// with the line and column serde stopped at.
    pub fn from_json(text: &str, origin: &str) -> Result<Inventory, Error> {
        // The outline (everything but the vaults' contents) is one pass over
        // the text. When it fails or names a version kvaudit cannot read, the
        // probe below says why in the clearest terms (an old or future
        // version, a SARIF log) rather than with a confusing field error; a
        // readable document is not scanned a second time for it.
        let outline = match serde_json::from_str::<Outline>(text) {
            Ok(o) if READABLE_VERSIONS.contains(&o.schema_version) => o,
            Ok(o) => {
                return Err(Error::InventoryVersion {
                    origin: origin.to_string(),
                    found: o.schema_version.to_string(),
                });
            }
            Err(e) => {
                probe(text, origin)?;
                return Err(json_error(origin, e.line(), e.column(), &e));
            }
        };
        let inventory = parse(outline, text, origin)?;
        inventory
            .check()
            .map_err(|(location, message)| Error::InventoryContent {
                origin: origin.to_string(),
                location,
                message,
            })?;
        Ok(inventory)
    }

    /// What the types cannot say: ids that identify, unique vaults, and
    /// audit evidence whose window and counts add up (a missing window end
    /// would otherwise make every group fall outside the window and pass).
    pub fn check(&self) -> Result<(), (String, String)> {
        let mut subs = std::collections::HashMap::new();
        for (i, s) in self.subscriptions.iter().enumerate() {
            let id = s.subscription.subscription_id.to_ascii_lowercase();
            if let Some(first) = subs.insert(id, i) {
                return Err((
                    format!("subscriptions[{i}].subscription.subscriptionId"),
                    format!(
                        "{:?} is listed twice (also subscriptions[{first}]); one copy would silently replace the other",
                        s.subscription.subscription_id
                    ),
                ));
            }
            if let Collected::Ok { value } = &s.activity_log_alerts {
                let mut ids = std::collections::HashMap::new();
                for (j, a) in value.iter().enumerate() {
                    if let Some(first) = ids.insert(a.id.to_ascii_lowercase(), j) {
                        return Err((
                            format!("subscriptions[{i}].activityLogAlerts.value[{j}].id"),
                            format!("the same alert as value[{first}]"),
                        ));
                    }
                }
            }
        }
        let mut seen = std::collections::HashMap::new();
        for (i, v) in self.vaults.iter().enumerate() {
            let at = |field: &str| format!("vaults[{i}] ({}){field}", v.vault.name);
            let id = v.vault.id.to_ascii_lowercase();
            if !id.starts_with("/subscriptions/") || !id.contains("/resourcegroups/") {
                return Err((
                    at(".vault.id"),
                    format!(
                        "{:?} is not an ARM resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/...)",
                        v.vault.id
                    ),
                ));
            }
            if let Some(first) = seen.insert(id, i) {
                return Err((
                    at(".vault.id"),
                    format!("the same vault as vaults[{first}]"),
                ));
            }
            let a = &v.audit_logs;
            if !matches!(a.status, AuditStatus::Ok | AuditStatus::Partial) {
                continue;
            }
            let time = |field: String, value: Option<&str>, required: bool| match value {
                None if required => Err((
                    at(&field),
                    "is missing; an auditLogs with status ok or partial needs it".to_string(),
                )),
                None => Ok(()),
                Some(t) => chrono::DateTime::parse_from_rfc3339(t)
                    .map(|_| ())
                    .map_err(|e| (at(&field), format!("{t:?} is not an RFC 3339 time ({e})"))),
            };
            time(".auditLogs.windowEnd".into(), a.window_end.as_deref(), true)?;
            time(
                ".auditLogs.windowStart".into(),
                a.window_start.as_deref(),
                false,
            )?;
            for (j, g) in a.unauthorized.iter().enumerate() {
                let f = |n: &str| format!(".auditLogs.unauthorized[{j}].{n}");
                time(f("firstSeen"), Some(&g.first_seen), true)?;
                time(f("lastSeen"), Some(&g.last_seen), true)?;
                time(f("lastUnexplained"), g.last_unexplained.as_deref(), false)?;
                if g.challenges > g.count || g.unexplained != g.count - g.challenges {
                    return Err((
                        at(&f("unexplained")),
                        format!(
                            "count {} = challenges {} + unexplained {} does not hold",
                            g.count, g.challenges, g.unexplained
                        ),
                    ));
                }
            }
            for (j, g) in a.forbidden.iter().enumerate() {
                let f = |n: &str| format!(".auditLogs.forbidden[{j}].{n}");
                time(f("firstSeen"), Some(&g.first_seen), true)?;
                time(f("lastSeen"), Some(&g.last_seen), true)?;
            }
        }
        Ok(())
    }

    pub fn load(path: &Path) -> Result<Inventory, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read {
            path: path.display().to_string(),
            reason: crate::error::io_reason(&e),
        })?;
        Inventory::from_json(&text, &path.display().to_string())
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("inventory serialises")
    }
}

/// The inventory with its vault list still unparsed: vaults are parsed in
/// parallel (a 100,000-vault inventory is 170 MB of JSON).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Outline<'a> {
    #[serde(rename = "$schema", default)]
    schema: Option<String>,
    schema_version: u32,
    generated_at: String,
    generator: Generator,
    subscriptions: Vec<SubscriptionInventory>,
    #[serde(default, borrow)]
    vaults: Vec<&'a serde_json::value::RawValue>,
    #[serde(default)]
    workspaces: Vec<Workspace>,
    #[serde(default)]
    diagnostic_categories: BTreeMap<String, Vec<DiagnosticCategory>>,
}

fn parse(outline: Outline<'_>, text: &str, origin: &str) -> Result<Inventory, Error> {
    use rayon::prelude::*;
    let at = |line, column, e: &serde_json::Error| json_error(origin, line, column, e);
    let vaults: Vec<Result<VaultInventory, Error>> = outline
        .vaults
        .par_iter()
        .map(|raw| {
            serde_json::from_str(raw.get()).map_err(|e| {
                // Positions are relative to the vault's text: make them the file's.
                let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
                let before = &text[..offset];
                let base_line = before.matches('\n').count() + 1;
                let base_col = offset - before.rfind('\n').map_or(0, |i| i + 1);
                let (line, column) = if e.line() == 1 {
                    (base_line, base_col + e.column())
                } else {
                    (base_line + e.line() - 1, e.column())
                };
                at(line, column, &e)
            })
        })
        .collect();
    Ok(Inventory {
        schema: outline.schema,
        schema_version: outline.schema_version,
        generated_at: outline.generated_at,
        generator: outline.generator,
        subscriptions: outline.subscriptions,
        vaults: vaults.into_iter().collect::<Result<_, _>>()?,
        workspaces: outline.workspaces,
        diagnostic_categories: outline.diagnostic_categories,
    })
}

/// Why a document that did not parse as an inventory is not one kvaudit can
/// read, when that is the reason: a syntax error, a SARIF log, a missing or
/// unreadable `schemaVersion`. `Ok` when it names a readable version (its
/// error is then the outline's own).
fn probe(text: &str, origin: &str) -> Result<(), Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        schema_version: Option<serde_json::Value>,
        // A SARIF log has `version` 2.1.0 and `runs`.
        runs: Option<serde::de::IgnoredAny>,
        version: Option<serde_json::Value>,
    }
    let probe: Probe =
        serde_json::from_str(text).map_err(|e| json_error(origin, e.line(), e.column(), &e))?;
    if probe.schema_version.is_none()
        && probe.runs.is_some()
        && probe.version.as_ref().and_then(|v| v.as_str()) == Some("2.1.0")
    {
        return Err(Error::SarifNotInventory {
            origin: origin.to_string(),
        });
    }
    match probe.schema_version {
        Some(serde_json::Value::Number(n))
            if n.as_u64()
                .is_some_and(|n| READABLE_VERSIONS.iter().any(|&r| r as u64 == n)) =>
        {
            Ok(())
        }
        Some(v) => Err(Error::InventoryVersion {
            origin: origin.to_string(),
            found: v.to_string(),
        }),
        None => Err(Error::InventoryVersion {
            origin: origin.to_string(),
            found: "none".into(),
        }),
    }
}

/// serde_json's error `e` at `line`:`column` of `origin`.
fn json_error(origin: &str, line: usize, column: usize, e: &serde_json::Error) -> Error {
    Error::Inventory {
        origin: origin.to_string(),
        line,
        column,
        message: strip_position(&e.to_string()),
    }
}

/// serde_json appends " at line L column C"; the error names them itself.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

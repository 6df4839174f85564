//! Collectors: fill an inventory from ARM and Log Analytics, concurrently,
//! with the minimum of requests:
//!
//! | request | how many |
//! |---|---|
//! | `GET /subscriptions` (or one GET per `--subscription`) | 1 page per 100 subscriptions |
//! | vaults of a subscription (or resource group), paged | 1 per subscription per page |
//! | activity-log alerts, action groups, scheduled query rules | 3 per subscription (+ pages) |
//! | Defender for Key Vault plan | 1 per subscription |
//! | diagnostic settings of a vault | 1 per vault |
//! | keys, secrets of a vault (management plane), paged | 2 per vault (+ pages) |
//! | ServiceApiHit metrics (`metrics:getBatch`, not ARM) | 1 per 50 vaults of a subscription and region |
//! | diagnostic categories | 1 per scan (once per resource type) |
//! | workspace (ARM id → customerId) | 1 per workspace the vaults log to |
//! | Log Analytics queries (evidence, volume) | 1 or 2 per workspace, for all of its vaults |
//!
//! Only what the selected rules read (their `inputs`, see [`Needs`]) is
//! requested; the rest is recorded as not collected.
//!
//! A request that fails makes only what depends on it unreadable (recorded
//! in the inventory as an error). A subscription whose vaults cannot be
//! listed is recorded with that error, and every selected rule is then not
//! evaluable for it; listing the subscriptions themselves failing, or no
//! token, stops the scan.
pub mod alerts;
pub mod audit_logs;
pub mod defender;
pub mod metrics;
pub mod progress;
pub mod secrets;
pub mod subscriptions;
pub mod vaults;

use std::collections::BTreeSet;

use crate::inventory::Collected;
use crate::policy::metadata::Input;

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::{self, StreamExt};
use tracing::info;

use crate::azure::client::AzureClient;
use crate::azure::error::AzureError;
use crate::inventory::{
    Generator, Inventory, SCHEMA_VERSION, SubscriptionInventory, VaultInventory,
};
use progress::Progress;

/// api-versions (see docs/scan.md).
pub const SUBSCRIPTIONS_API: &str = "2022-12-01";
pub const VAULTS_API: &str = "2026-02-01";
pub const DIAGNOSTIC_SETTINGS_API: &str = "2021-05-01-preview";
pub const ACTIVITY_LOG_ALERTS_API: &str = "2020-10-01";
pub const ACTION_GROUPS_API: &str = "2023-01-01";
pub const SCHEDULED_QUERY_RULES_API: &str = "2026-03-01";
pub const WORKSPACES_API: &str = "2025-02-01";
pub const PRICINGS_API: &str = "2024-01-01";
/// `metrics:getBatch` (Azure Monitor metrics data plane).
pub const METRICS_BATCH_API: &str = "2023-10-01";

/// What a scan reads: the union of the selected rules' `inputs`.
#[derive(Debug, Clone, Default)]
pub struct Needs(pub BTreeSet<Input>);

impl Needs {
    /// Only the vaults' diagnostic settings (what `access` needs to find
    /// their workspaces).
    pub fn settings_only() -> Needs {
        Needs([Input::DiagnosticSettings].into_iter().collect())
    }

    pub fn has(&self, i: Input) -> bool {
        self.0.contains(&i)
    }

    /// Diagnostic settings are read for themselves and to find the
    /// workspace the audit queries go to.
    fn settings(&self) -> bool {
        self.has(Input::DiagnosticSettings)
            || self.has(Input::AuditLogs)
            || self.has(Input::AuditVolume)
    }
}

/// A request's answer as the inventory records it: the value, or the error
/// (logged, named by `what`). A failure is recorded, never fatal.
pub(crate) fn recorded<T>(
    result: Result<T, AzureError>,
    what: impl std::fmt::Display,
) -> Collected<T> {
    match result {
        Ok(value) => Collected::Ok { value },
        Err(e) => {
            tracing::warn!("{what}: {}", e.without_path());
            Collected::Error { error: e.detail() }
        }
    }
}

/// Why a part no selected rule reads was not collected.
pub const NOT_READ_BY_SELECTED_RULES: &str = "not collected: no selected rule reads it";

/// What is recorded for a part no selected rule reads.
pub fn skipped<T>() -> Collected<T> {
    Collected::NotCollected {
        reason: NOT_READ_BY_SELECTED_RULES.into(),
    }
}

/// Which vaults to scan.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Subscription ids; empty = every enabled subscription the identity sees.
    pub subscriptions: Vec<String>,
    pub resource_group: Option<String>,
    /// Vault names or ARM ids; empty = all.
    pub vaults: Vec<String>,
}

impl Scope {
    /// What the scope asked for that the collected inventory does not hold:
    /// a `--vault` or `--resource-group` that matched nothing. A typo must
    /// not produce an empty report (an empty SARIF closes every alert of its
    /// category). `None` when everything matched, or when a subscription's
    /// vaults could not be listed (the missing vault may be there; that
    /// subscription is reported not evaluable instead).
    pub fn unmatched(&self, inventory: &Inventory) -> Option<String> {
        if inventory
            .subscriptions
            .iter()
            .any(|s| s.vault_list_error.is_some())
        {
            return None;
        }
        let subs = inventory
            .subscriptions
            .iter()
            .map(|s| s.subscription.subscription_id.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let missing: Vec<&str> = self
            .vaults
            .iter()
            .filter(|want| {
                !inventory.vaults.iter().any(|v| {
                    want.eq_ignore_ascii_case(&v.vault.name)
                        || crate::policy::input::norm_id(want)
                            == crate::policy::input::norm_id(&v.vault.id)
                })
            })
            .map(String::as_str)
            .collect();
        let where_ = match &self.resource_group {
            Some(rg) => format!("resource group {rg} of subscription(s) {subs}"),
            None => format!("subscription(s) {subs}"),
        };
        if !missing.is_empty() {
            return Some(format!(
                "--vault {} matched no Key Vault in {where_}; check the name (or ARM id) and the scope",
                missing.join(", ")
            ));
        }
        if inventory.vaults.is_empty()
            && let Some(rg) = &self.resource_group
        {
            return Some(format!(
                "--resource-group {rg} holds no Key Vault in subscription(s) {subs}; check the name and --subscription"
            ));
        }
        None
    }

    fn wants(&self, vault: &crate::azure::models::Vault) -> bool {
        self.vaults.is_empty()
            || self.vaults.iter().any(|v| {
                v.eq_ignore_ascii_case(&vault.name)
                    || crate::policy::input::norm_id(v) == crate::policy::input::norm_id(&vault.id)
            })
    }
}

/// The audit-log window and pairing.
#[derive(Debug, Clone)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub challenge_seconds: u32,
    /// Start of the audit-volume and metrics window (`kv/logs-arriving`).
    pub volume_start: DateTime<Utc>,
}

/// Collects the inventory of `scope`.
pub async fn collect(
    client: Arc<AzureClient>,
    scope: &Scope,
    window: &Window,
    needs: &Needs,
    progress: &Progress,
) -> Result<Inventory, AzureError> {
    let generated_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let subs = subscriptions::list(&client, scope).await?;
    info!(subscriptions = subs.len(), "subscriptions selected");
    progress.add(subs.len() as u64 * 5);

    // Per subscription: its vaults (fatal if unreadable) and what the rules
    // read at subscription level.
    let per_sub = stream::iter(subs.into_iter().map(|s| {
        let client = client.clone();
        async move {
            let id = s.subscription_id.clone();
            let alerts_wanted = needs.has(Input::ActivityLogAlerts);
            let (vaults, alerts, groups, rules, pricings) = tokio::join!(
                vaults::list(&client, &id, scope),
                when(alerts_wanted, alerts::activity_log_alerts(&client, &id)),
                when(alerts_wanted, alerts::action_groups(&client, &id)),
                when(
                    needs.has(Input::ScheduledQueryRules),
                    alerts::scheduled_query_rules(&client, &id)
                ),
                when(
                    needs.has(Input::Pricings),
                    defender::key_vault_pricing(&client, &id)
                ),
            );
            progress.inc(5);
            // A subscription whose vaults cannot be listed is recorded (its
            // scope is then not evaluable) and the others are scanned; only
            // a missing token or a bad endpoint ends the scan.
            let (vaults, vault_list_error) = match vaults {
                Ok(v) => (v, None),
                Err(e @ (AzureError::Auth { .. } | AzureError::Config(_))) => return Err(e),
                Err(e) => {
                    tracing::warn!("vaults of subscription {id} could not be listed: {e}");
                    (vec![], Some(e.detail()))
                }
            };
            Ok::<_, AzureError>((
                SubscriptionInventory {
                    subscription: s,
                    activity_log_alerts: alerts,
                    action_groups: groups,
                    scheduled_query_rules: rules,
                    pricings,
                    vault_list_error,
                },
                vaults,
            ))
        }
    }))
    .buffer_unordered(8)
    .collect::<Vec<_>>()
    .await;
    let mut subscriptions = Vec::new();
    let mut found = Vec::new();
    for r in per_sub {
        let (s, v) = r?;
        subscriptions.push(s);
        found.extend(v);
    }
    subscriptions.sort_by(|a, b| {
        a.subscription
            .subscription_id
            .cmp(&b.subscription.subscription_id)
    });
    // A subscription named twice, or a vault a paging answer repeats, is
    // scanned once.
    subscriptions.dedup_by(|a, b| {
        a.subscription
            .subscription_id
            .eq_ignore_ascii_case(&b.subscription.subscription_id)
    });
    found.sort_by_key(|v| v.id.to_ascii_lowercase());
    found.dedup_by(|a, b| a.id.eq_ignore_ascii_case(&b.id));
    info!(vaults = found.len(), "vaults found");

    let mut vaults = per_vault(&client, found, window, needs, progress).await;

    let diagnostic_categories = if needs.settings() {
        vaults::categories(&client, &vaults).await
    } else {
        Default::default()
    };
    let queries = audit_logs::Queries {
        evidence: needs.has(Input::AuditLogs),
        volume: needs.has(Input::AuditVolume),
    };
    let workspaces = if queries.evidence || queries.volume {
        audit_logs::collect(&client, &mut vaults, window, queries, progress).await
    } else {
        for v in &mut vaults {
            v.audit_logs = crate::inventory::AuditLogs {
                reason: Some(NOT_READ_BY_SELECTED_RULES.into()),
                ..Default::default()
            };
        }
        vec![]
    };

    Ok(Inventory {
        schema: None,
        schema_version: SCHEMA_VERSION,
        generated_at,
        generator: Generator {
            name: "kvaudit".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kind: "scan".into(),
        },
        subscriptions,
        vaults,
        workspaces,
        diagnostic_categories,
    })
}

/// `value` when `wanted`, else recorded as not collected (no request).
async fn when<T>(
    wanted: bool,
    value: impl std::future::Future<Output = Collected<T>>,
) -> Collected<T> {
    if wanted { value.await } else { skipped() }
}

/// Reads what the rules need of each vault (diagnostic settings, keys,
/// secrets, metrics), interleaved across subscriptions so that each
/// subscription's read bucket is drawn on in parallel; sorted by vault id.
/// Shared by `scan` and `access`.
pub async fn per_vault(
    client: &AzureClient,
    found: Vec<crate::azure::models::Vault>,
    window: &Window,
    needs: &Needs,
    progress: &Progress,
) -> Vec<VaultInventory> {
    progress.add(found.len() as u64);
    // The client's semaphore bounds requests in flight; this bounds the
    // futures waiting for it, so memory stays flat for large tenants.
    const PENDING: usize = 64;
    let mut vaults: Vec<VaultInventory> = stream::iter(
        interleave_by_subscription(found)
            .into_iter()
            .map(|v| async move {
                let (settings, keys, secrets) = tokio::join!(
                    when(needs.settings(), vaults::diagnostic_settings(client, &v.id)),
                    when(
                        needs.has(Input::Keys) || needs.has(Input::KeyRotation),
                        secrets::keys(client, &v, needs.has(Input::KeyRotation))
                    ),
                    when(needs.has(Input::Secrets), secrets::secrets(client, &v.id)),
                );
                progress.inc(1);
                VaultInventory {
                    vault: v,
                    diagnostic_settings: settings,
                    audit_logs: Default::default(),
                    keys,
                    secrets,
                    api_hits: skipped(),
                    audit_volume: skipped(),
                }
            }),
    )
    .buffer_unordered(PENDING)
    .collect()
    .await;
    vaults.sort_by_key(|v| v.vault.id.to_ascii_lowercase());
    if needs.has(Input::ApiHits) {
        let list: Vec<&crate::azure::models::Vault> = vaults.iter().map(|v| &v.vault).collect();
        let mut hits = metrics::api_hits(client, &list, window.volume_start, window.end).await;
        for v in &mut vaults {
            if let Some(h) = hits.remove(&v.vault.id.to_ascii_lowercase()) {
                v.api_hits = h;
            }
        }
    }
    vaults
}

/// Round-robin over subscriptions: ARM throttles per subscription, so a
/// sorted list would drain one bucket at a time.
fn interleave_by_subscription(
    vaults: Vec<crate::azure::models::Vault>,
) -> Vec<crate::azure::models::Vault> {
    let mut groups: std::collections::BTreeMap<
        String,
        std::collections::VecDeque<crate::azure::models::Vault>,
    > = std::collections::BTreeMap::new();
    for v in vaults {
        groups
            .entry(crate::policy::input::subscription_of(&v.id))
            .or_default()
            .push_back(v);
    }
    let mut out = Vec::new();
    while groups.values().any(|g| !g.is_empty()) {
        for g in groups.values_mut() {
            if let Some(v) = g.pop_front() {
                out.push(v);
            }
        }
    }
    out
}

/// `24h`, `7d`, `90m` → a duration.
pub fn parse_since(s: &str) -> Result<chrono::Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number and a unit, such as 24h, 7d or 90m"))?;
    let d = match unit {
        "m" | "min" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        _ => {
            return Err(format!(
                "{s:?}: unknown unit {unit:?}; use m, h or d (e.g. 24h)"
            ));
        }
    };
    let too_long = chrono::Duration::days(730);
    let d = d.unwrap_or(too_long + too_long);
    if n <= 0 || d > too_long {
        return Err(format!(
            "{s:?}: must be more than 0 and at most 730d (Log Analytics' longest retention)"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_accepts_minutes_hours_days() {
        assert_eq!(parse_since("24h").unwrap(), chrono::Duration::hours(24));
        assert_eq!(parse_since("7d").unwrap(), chrono::Duration::days(7));
        assert_eq!(parse_since("90m").unwrap(), chrono::Duration::minutes(90));
        assert!(parse_since("1w").unwrap_err().contains("unknown unit"));
        assert!(parse_since("0h").is_err());
        assert!(parse_since("h").is_err());
        for huge in [
            "9223372036854775807m",
            "9223372036854775807d",
            "99999999999999999999h",
        ] {
            assert!(parse_since(huge).is_err(), "{huge}");
        }
    }
}

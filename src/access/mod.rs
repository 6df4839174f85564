//! "Who accessed my Key Vault?": callers, failures and the audit trail of
//! the selected vaults, read from the workspaces their AuditEvent logs reach
//! (one query per workspace per view, aggregated in KQL).
pub mod collect;
pub mod render;

use std::collections::BTreeMap;

use serde::Serialize;

/// Which view to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Callers,
    Failures,
    Events,
}

/// One caller of one vault.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Caller {
    pub vault: String,
    /// UPN, else "app <appId>", else "object <objectId>", else "anonymous".
    pub identity: String,
    pub caller_ip: String,
    pub client: String,
    pub requests: u64,
    pub failures: u64,
    pub unauthorized: u64,
    pub forbidden: u64,
    /// 401s answered within the challenge window by a 2xx from the same IP and client.
    pub challenges: u64,
    /// 401s that were not (what `kv/unauthorized-requests` reports).
    pub unexplained: u64,
    pub operations: BTreeMap<String, u64>,
    pub first_seen: String,
    pub last_seen: String,
    /// On the policy data's allow-list.
    pub known: bool,
    /// Not allow-listed, with unexplained 401s or 403s: what
    /// `kv/unauthorized-requests` and `kv/forbidden-requests` report. Listed
    /// first in its vault and marked.
    pub suspicious: bool,
}

impl Caller {
    /// Whether `who` names this caller the way the table shows it: the
    /// identity label (a UPN, `app <id>`, `object <id>`), a bare app or
    /// object id, the IP, or a CIDR that holds the IP.
    pub fn is(&self, who: &str) -> bool {
        let who = who.trim();
        if who.is_empty() {
            return true;
        }
        let label = self.identity.as_str();
        let bare = |prefix: &str| {
            label
                .strip_prefix(prefix)
                .is_some_and(|id| id.eq_ignore_ascii_case(who))
        };
        if label.eq_ignore_ascii_case(who) || bare("app ") || bare("object ") {
            return true;
        }
        if self.caller_ip == who {
            return true;
        }
        // An IP or CIDR, compared as the events view's KQL does: IPv4 as
        // IPv4-mapped IPv6, so either spelling matches the other.
        match (
            crate::kql::ip_filter(who),
            crate::kql::ip_filter(&self.caller_ip),
        ) {
            (Some(net), Some(ip)) if ip.prefix_len() == 128 => net.contains(&ip.network()),
            _ => false,
        }
    }
}

/// The id a caller filter stands for in the audit log: `app <id>` and
/// `object <id>` (the labels kvaudit prints) become the id.
pub fn caller_filter(who: &str) -> String {
    let w = who.trim();
    for prefix in ["app ", "object "] {
        if w.len() > prefix.len() && w[..prefix.len()].eq_ignore_ascii_case(prefix) {
            return w[prefix.len()..].trim().to_string();
        }
    }
    w.to_string()
}

/// Failed requests of one kind.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub vault: String,
    pub operation: String,
    pub request_path: String,
    pub result_signature: String,
    pub http_status: u64,
    pub count: u64,
    pub last_seen: String,
}

/// One audit event.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub time: String,
    pub vault: String,
    pub identity: String,
    pub caller_ip: String,
    pub client: String,
    pub operation: String,
    pub http_status: u64,
    pub request_path: String,
    pub result_signature: String,
    pub result_description: String,
}

/// Requests and failures of one vault in one bucket of the timeline.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    pub vault: String,
    /// The bucket's number from the window's start (0-based): it starts
    /// `index` × `bucketSeconds` after `windowStart`.
    pub index: u32,
    pub requests: u64,
    pub failures: u64,
    pub unauthorized: u64,
    pub forbidden: u64,
}

/// A vault whose logs could not be read, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Unread {
    pub vault: String,
    pub reason: String,
}

/// What `access` found.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessReport {
    pub window_start: String,
    pub window_end: String,
    /// Vaults whose logs were read.
    pub vaults: Vec<String>,
    pub unread: Vec<Unread>,
    pub callers: Vec<Caller>,
    pub failures: Vec<Failure>,
    pub events: Vec<Event>,
    /// The timeline's bucket width in seconds (0: no timeline was asked).
    #[serde(skip_serializing_if = "is_zero")]
    pub bucket_seconds: u64,
    /// The number of buckets of the window.
    #[serde(skip_serializing_if = "is_zero")]
    pub buckets: u32,
    /// Per vault, the buckets that saw a request (others saw none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<Bucket>,
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

/// The identity label used across kvaudit (as `lib.identity_label` in Rego).
pub fn identity_label(upn: &str, app_id: &str, object_id: &str) -> String {
    if !upn.is_empty() {
        upn.to_string()
    } else if !app_id.is_empty() {
        format!("app {app_id}")
    } else if !object_id.is_empty() {
        format!("object {object_id}")
    } else {
        "anonymous".to_string()
    }
}

/// The vault's name from its id (for display).
pub fn vault_name(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

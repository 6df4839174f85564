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

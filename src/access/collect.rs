//! Finds the vaults as `scan` does, groups them by the workspace their
//! AuditEvent logs reach, and runs the view's query once per workspace.
use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::SecondsFormat;
use futures::stream::{self, StreamExt};
use tracing::warn;

use super::{AccessReport, Bucket, Caller, Event, Failure, Unread, View, identity_label};
use crate::azure::client::AzureClient;
use crate::azure::error::AzureError;
use crate::azure::loganalytics::{QueryResponse, Row};
use crate::collect::audit_logs::{by_workspace, workspace};
use crate::collect::progress::Progress;
use crate::collect::{Needs, Scope, Window, per_vault, subscriptions, vaults};
use crate::policy::data::PolicyData;
use crate::policy::input::norm_id;

/// What to ask.
#[derive(Debug, Clone)]
pub struct AccessQuery {
    pub view: View,
    pub window: Window,
    /// Events view: at most this many events (the query's `take`).
    pub limit: u32,
    /// Callers and failures views: at most this many rows.
    pub rows: Option<u32>,
    pub operation: Option<String>,
    pub caller: Option<String>,
    pub status: Option<u16>,
    /// Events and failures: only requests for this path or under it
    /// (normalised: a leading '/', no trailing '/').
    pub path: Option<String>,
    /// Events and failures: only requests for the secret, key or certificate of this name.
    pub object: Option<String>,
    /// Also read each vault's requests and failures per time bucket (all
    /// of its requests: the filters above do not apply).
    pub timeline: bool,
}

/// A request path as `--path` takes it: a leading '/', no trailing '/'.
pub fn normalise_path(p: &str) -> String {
    let t = p.trim().trim_end_matches('/');
    if t.starts_with('/') {
        t.to_string()
    } else {
        format!("/{t}")
    }
}

/// Whether `request_path` is `path` or under it (whole segments, any case).
pub fn under_path(request_path: &str, path: &str) -> bool {
    let (r, p) = (request_path.to_ascii_lowercase(), path.to_ascii_lowercase());
    r == p || r.starts_with(&format!("{p}/"))
}

/// The object name of a request path (`/secrets/NAME/...`, `/keys/...`,
/// `/certificates/...`).
pub fn object_of(request_path: &str) -> Option<&str> {
    let mut parts = request_path.trim_start_matches('/').split('/');
    let kind = parts.next()?;
    if !["secrets", "keys", "certificates"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(kind))
    {
        return None;
    }
    parts.next().filter(|n| !n.is_empty())
}

/// The policy data's allow-list, for marking callers as known.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    nets: Vec<ipnet::IpNet>,
    ids: Vec<String>,
}

impl AllowList {
    pub fn from_data(data: &PolicyData) -> AllowList {
        let list = &data.config()["allowList"];
        let strings = |k: &str| -> Vec<String> {
            list[k]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let nets = strings("ips")
            .iter()
            .filter_map(|s| {
                s.parse::<ipnet::IpNet>()
                    .ok()
                    .or_else(|| s.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
            })
            .collect();
        let mut ids: Vec<String> = strings("objectIds");
        ids.extend(strings("appIds"));
        AllowList {
            nets,
            ids: ids.into_iter().map(|s| s.to_ascii_lowercase()).collect(),
        }
    }

    pub fn knows(&self, ip: &str, app_id: &str, object_id: &str) -> bool {
        let ip_known = ip
            .parse::<IpAddr>()
            .is_ok_and(|ip| self.nets.iter().any(|n| n.contains(&ip)));
        let id_known = [app_id, object_id]
            .iter()
            .any(|id| !id.is_empty() && self.ids.contains(&id.to_ascii_lowercase()));
        ip_known || id_known
    }
}

/// Runs the view over every selected vault.
pub async fn run(
    client: &AzureClient,
    scope: &Scope,
    q: &AccessQuery,
    allow: &AllowList,
    progress: &Progress,
) -> Result<AccessReport, AzureError> {
    let subs = subscriptions::list(client, scope).await?;
    let mut found = Vec::new();
    for s in &subs {
        found.extend(vaults::list(client, &s.subscription_id, scope).await?);
    }
    let vaults = per_vault(client, found, &q.window, &Needs::settings_only(), progress).await;
    let mut report = AccessReport {
        window_start: q.window.start.to_rfc3339_opts(SecondsFormat::Secs, true),
        window_end: q.window.end.to_rfc3339_opts(SecondsFormat::Secs, true),
        ..Default::default()
    };
    let (groups, unread) = by_workspace(&vaults);
    for (i, reason) in unread {
        report.unread.push(Unread {
            vault: vaults[i].vault.id.clone(),
            reason,
        });
    }
    let vault_ids: BTreeMap<String, Vec<String>> = groups
        .into_iter()
        .map(|(ws, members)| {
            (
                ws,
                members
                    .into_iter()
                    .map(|i| vaults[i].vault.id.clone())
                    .collect(),
            )
        })
        .collect();
    progress.add(vault_ids.len() as u64);
    let answers: Vec<(String, Result<QueryResponse, AzureError>)> =
        stream::iter(vault_ids.iter().map(|(ws_id, ids)| async move {
            let r = query_workspace(client, ws_id, ids, q).await;
            progress.inc(1);
            (ws_id.clone(), r)
        }))
        .buffer_unordered(4)
        .collect()
        .await;
    for (ws_id, answer) in answers {
        let ids = &vault_ids[&ws_id];
        let ws = super::vault_name(&ws_id);
        match answer {
            Err(e) => {
                warn!("workspace {ws}: {}", e.without_path());
                unread_all(
                    &mut report,
                    ids,
                    &format!("its workspace {ws} could not be queried ({e})"),
                );
            }
            Ok(resp) => {
                if let Some(p) = resp.problem() {
                    unread_all(
                        &mut report,
                        ids,
                        &format!(
                            "partial answer from workspace {ws} ({}: {}); counts may be incomplete",
                            p.code, p.message
                        ),
                    );
                }
                report.vaults.extend(ids.iter().cloned());
                if let Err(problem) = absorb(&mut report, &resp, q.view, allow) {
                    warn!("workspace {ws}: {problem}");
                    unread_all(
                        &mut report,
                        ids,
                        &format!(
                            "the answer of workspace {ws} does not match the query ({problem}); nothing of it is shown"
                        ),
                    );
                }
            }
        }
    }
    if q.timeline {
        timeline(client, &mut report, &vault_ids, q, progress).await;
    }
    filter(&mut report, q);
    sort(&mut report, q);
    report.vaults.sort();
    report.unread.sort_by(|a, b| a.vault.cmp(&b.vault));
    Ok(report)
}

/// Reads the timeline of every workspace's vaults into the report. A
/// workspace whose timeline cannot be read names its vaults as not read
/// ("timeline: ..."), so a missing chart is never mistaken for silence.
async fn timeline(
    client: &AzureClient,
    report: &mut AccessReport,
    vault_ids: &BTreeMap<String, Vec<String>>,
    q: &AccessQuery,
    progress: &Progress,
) {
    let w = &q.window;
    let bin = crate::kql::timeline_bin(w.start, w.end);
    let buckets =
        ((w.end - w.start).num_seconds().max(1) as u64).div_ceil(bin.num_seconds() as u64);
    report.bucket_seconds = bin.num_seconds() as u64;
    report.buckets = buckets as u32;
    progress.add(vault_ids.len() as u64);
    let answers: Vec<(&String, Result<QueryResponse, AzureError>)> =
        stream::iter(vault_ids.iter().map(|(ws_id, ids)| async move {
            let text = crate::kql::access_timeline(ids, w.start, w.end, bin);
            let r = send(client, ws_id, &text, w, 0).await;
            progress.inc(1);
            (ws_id, r)
        }))
        .buffer_unordered(4)
        .collect()
        .await;
    let mut merged: BTreeMap<(String, u32), Bucket> = BTreeMap::new();
    for (ws_id, answer) in answers {
        let ws = super::vault_name(ws_id);
        let read = answer.map_err(|e| e.to_string()).and_then(|resp| {
            if let Some(p) = resp.problem() {
                return Err(format!("partial answer ({}: {})", p.code, p.message));
            }
            let table = resp.primary(TIMELINE_COLUMNS)?;
            let mut rows = Vec::new();
            for row in table.rows() {
                let row = row?;
                // A request exactly at the window's end opens one more bucket: it joins the last.
                let index = row.count("bucket")?.min(buckets.saturating_sub(1)) as u32;
                rows.push(Bucket {
                    vault: norm_id(&row.string("vault")),
                    index,
                    requests: row.count("requests")?,
                    failures: row.count("failures")?,
                    unauthorized: row.count("unauthorized")?,
                    forbidden: row.count("forbidden")?,
                });
            }
            Ok(rows)
        });
        match read {
            Ok(rows) => {
                for b in rows {
                    merged
                        .entry((b.vault.clone(), b.index))
                        .and_modify(|m| {
                            m.requests += b.requests;
                            m.failures += b.failures;
                            m.unauthorized += b.unauthorized;
                            m.forbidden += b.forbidden;
                        })
                        .or_insert(b);
                }
            }
            Err(problem) => {
                warn!("workspace {ws}: timeline: {problem}");
                unread_all(
                    report,
                    &vault_ids[ws_id],
                    &format!("timeline: workspace {ws} could not be read ({problem}); no chart"),
                );
            }
        }
    }
    report.timeline = merged.into_values().collect();
}

const TIMELINE_COLUMNS: &[&str] = &[
    "vault",
    "bucket",
    "requests",
    "failures",
    "unauthorized",
    "forbidden",
];

/// Names every vault of a workspace as not read, with the same reason.
fn unread_all(report: &mut AccessReport, ids: &[String], reason: &str) {
    report.unread.extend(ids.iter().map(|id| Unread {
        vault: id.clone(),
        reason: reason.to_string(),
    }));
}

async fn query_workspace(
    client: &AzureClient,
    ws_id: &str,
    ids: &[String],
    q: &AccessQuery,
) -> Result<QueryResponse, AzureError> {
    let w = &q.window;
    let text = match q.view {
        View::Callers => crate::kql::access_callers(ids, w.start, w.end, w.challenge_seconds),
        View::Failures => crate::kql::access_failures(ids, w.start, w.end),
        View::Events => crate::kql::access_events(
            ids,
            w.start,
            w.end,
            q.limit,
            q.operation.as_deref().unwrap_or(""),
            &super::caller_filter(q.caller.as_deref().unwrap_or("")),
            q.status.unwrap_or(0),
            q.path.as_deref().unwrap_or(""),
            q.object.as_deref().unwrap_or(""),
        ),
    };
    let extra = if q.view == View::Callers {
        w.challenge_seconds as i64
    } else {
        0
    };
    send(client, ws_id, &text, w, extra).await
}

/// Sends `text` to a workspace with a timespan of the window (plus `extra`
/// seconds after it) and decodes the answer.
async fn send(
    client: &AzureClient,
    ws_id: &str,
    text: &str,
    w: &Window,
    extra: i64,
) -> Result<QueryResponse, AzureError> {
    let ws = workspace(client, ws_id).await?;
    let timespan = format!(
        "{}/{}",
        w.start.to_rfc3339_opts(SecondsFormat::Secs, true),
        (w.end + chrono::Duration::seconds(extra.max(1)))
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let body = client
        .log_analytics_query(&ws.properties.customer_id, text, &timespan)
        .await?;
    serde_json::from_slice(&body).map_err(|e| {
        AzureError::decode(
            format!("v1/workspaces/{}/query", ws.properties.customer_id),
            e.to_string(),
        )
    })
}

/// `operations` as a property bag or as `[[name, count], ...]`.
fn operations(row: &Row) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    match row.dynamic("operations") {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                out.insert(
                    k,
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                        .unwrap_or(0),
                );
            }
        }
        serde_json::Value::Array(a) => {
            for pair in a {
                if let (Some(k), Some(n)) = (
                    pair.get(0).and_then(|v| v.as_str()),
                    pair.get(1).and_then(|v| v.as_u64()),
                ) {
                    out.insert(k.to_string(), n);
                }
            }
        }
        _ => {}
    }
    out
}

/// The columns each view's query projects.
fn columns(view: View) -> &'static [&'static str] {
    match view {
        View::Callers => &[
            "vault",
            "upn",
            "appId",
            "objectId",
            "callerIp",
            "client",
            "requests",
            "failures",
            "unauthorized",
            "forbidden",
            "challenges",
            "operations",
            "firstSeen",
            "lastSeen",
        ],
        View::Failures => &[
            "vault",
            "operation",
            "requestPath",
            "resultSignature",
            "httpStatus",
            "count",
            "lastSeen",
        ],
        View::Events => &[
            "time",
            "vault",
            "upn",
            "appId",
            "objectId",
            "callerIp",
            "client",
            "operation",
            "httpStatus",
            "requestPath",
            "resultSignature",
            "resultDescription",
        ],
    }
}

/// Adds a workspace's rows to the report; an answer that does not match
/// the query (no table, a missing column, a malformed row, a missing count
/// or a time without an offset) adds nothing and says why.
fn absorb(
    report: &mut AccessReport,
    resp: &QueryResponse,
    view: View,
    allow: &AllowList,
) -> Result<(), String> {
    let table = resp.primary(columns(view))?;
    let (mut callers, mut failures, mut events) = (Vec::new(), Vec::new(), Vec::new());
    for row in table.rows() {
        let row = row?;
        let (upn, app, oid) = (
            row.string("upn"),
            row.string("appId"),
            row.string("objectId"),
        );
        let vault = norm_id(&row.string("vault"));
        match view {
            View::Callers => {
                let unauthorized = row.count("unauthorized")?;
                let challenges = row.count("challenges")?.min(unauthorized);
                let ip = row.string("callerIp");
                let known = allow.knows(&ip, &app, &oid);
                let forbidden = row.count("forbidden")?;
                callers.push(Caller {
                    known,
                    suspicious: !known && (unauthorized > challenges || forbidden > 0),
                    identity: identity_label(&upn, &app, &oid),
                    vault,
                    caller_ip: ip,
                    client: row.string("client"),
                    requests: row.count("requests")?,
                    failures: row.count("failures")?,
                    unauthorized,
                    forbidden,
                    challenges,
                    unexplained: unauthorized - challenges,
                    operations: operations(&row),
                    first_seen: row.time("firstSeen")?,
                    last_seen: row.time("lastSeen")?,
                });
            }
            View::Failures => failures.push(Failure {
                vault,
                operation: row.string("operation"),
                request_path: row.string("requestPath"),
                result_signature: row.string("resultSignature"),
                http_status: row.opt_count("httpStatus")?.unwrap_or(0),
                count: row.count("count")?,
                last_seen: row.time("lastSeen")?,
            }),
            View::Events => events.push(Event {
                time: row.time("time")?,
                vault,
                identity: identity_label(&upn, &app, &oid),
                caller_ip: row.string("callerIp"),
                client: row.string("client"),
                operation: row.string("operation"),
                http_status: row.opt_count("httpStatus")?.unwrap_or(0),
                request_path: row.string("requestPath"),
                result_signature: row.string("resultSignature"),
                result_description: row.string("resultDescription"),
            }),
        }
    }
    report.callers.append(&mut callers);
    report.failures.append(&mut failures);
    report.events.append(&mut events);
    Ok(())
}

/// Applies the filters the KQL of the callers and failures views does not.
fn filter(report: &mut AccessReport, q: &AccessQuery) {
    if let Some(who) = q.caller.as_deref() {
        report.callers.retain(|c| c.is(who));
    }
    if let Some(op) = q.operation.as_deref() {
        report
            .callers
            .retain(|c| c.operations.keys().any(|k| k.eq_ignore_ascii_case(op)));
        report
            .failures
            .retain(|f| f.operation.eq_ignore_ascii_case(op));
    }
    if let Some(status) = q.status {
        report
            .failures
            .retain(|f| f.http_status == u64::from(status));
    }
    if let Some(path) = q.path.as_deref() {
        report
            .failures
            .retain(|f| under_path(&f.request_path, path));
    }
    if let Some(object) = q.object.as_deref() {
        report
            .failures
            .retain(|f| object_of(&f.request_path).is_some_and(|o| o.eq_ignore_ascii_case(object)));
    }
}

/// Merges the workspaces' answers in the views' orders, and keeps the
/// first `--limit` rows of the callers and failures.
fn sort(report: &mut AccessReport, q: &AccessQuery) {
    // Grouped by vault; in each, the suspicious callers first (most
    // unexplained 401s and 403s first), then by requests.
    report.callers.sort_by(|a, b| {
        a.vault
            .cmp(&b.vault)
            .then_with(|| b.suspicious.cmp(&a.suspicious))
            .then_with(|| (b.unexplained + b.forbidden).cmp(&(a.unexplained + a.forbidden)))
            .then_with(|| b.requests.cmp(&a.requests))
            .then_with(|| {
                (&a.caller_ip, &a.client, &a.identity).cmp(&(&b.caller_ip, &b.client, &b.identity))
            })
    });
    report.failures.sort_by(|a, b| {
        b.count.cmp(&a.count).then_with(|| {
            (
                &a.vault,
                &a.operation,
                &a.request_path,
                &a.result_signature,
                a.http_status,
            )
                .cmp(&(
                    &b.vault,
                    &b.operation,
                    &b.request_path,
                    &b.result_signature,
                    b.http_status,
                ))
        })
    });
    // Newest first across workspaces, then the limit over all of them.
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    report.events.sort_by(|a, b| {
        t(&b.time)
            .cmp(&t(&a.time))
            .then_with(|| (&a.vault, &a.caller_ip).cmp(&(&b.vault, &b.caller_ip)))
    });
    report.events.truncate(q.limit as usize);
    if let Some(n) = q.rows {
        report.callers.truncate(n as usize);
        report.failures.truncate(n as usize);
    }
}

//! Audit-log evidence: the vaults are grouped by the Log Analytics workspace
//! their AuditEvent logs reach, each workspace is resolved (ARM id →
//! customerId), and ONE query per workspace returns the 401/403 groups of
//! all its vaults, aggregated in KQL.
use std::collections::BTreeMap;

use chrono::SecondsFormat;
use futures::stream::{self, StreamExt};
use tracing::{info, warn};

use crate::azure::client::AzureClient;
use crate::azure::error::AzureError;
use crate::azure::loganalytics::QueryResponse;
use crate::azure::models::{DiagnosticSetting, ErrorDetail, Workspace};
use crate::inventory::{
    AuditLogs, AuditStatus, AuditVolume, CallerIdentity, Collected, ForbiddenGroup,
    UnauthorizedGroup, VaultInventory,
};
use crate::policy::input::norm_id;

use super::progress::Progress;
use super::{WORKSPACES_API, Window};

/// The workspace a setting sends AuditEvent to: a non-empty workspaceId and
/// an enabled AuditEvent entry or audit/allLogs group (as `kv/audit-logging`).
pub fn audit_workspace(s: &DiagnosticSetting) -> Option<String> {
    let ws = s
        .properties
        .workspace_id
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())?;
    let audited = s.properties.logs.iter().any(|l| {
        l.enabled
            && (l
                .category
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("AuditEvent"))
                || l.category_group.as_deref().is_some_and(|g| {
                    g.eq_ignore_ascii_case("audit") || g.eq_ignore_ascii_case("allLogs")
                }))
    });
    audited.then(|| norm_id(ws))
}

/// Vault indexes by the normalised id of the workspace their logs reach.
pub type WorkspaceGroups = BTreeMap<String, Vec<usize>>;

/// Groups vaults (by index) by the workspace their AuditEvent logs reach
/// (the first setting that sends them to one), and says why each other
/// vault's logs cannot be read. Shared by `scan` and `access`.
pub fn by_workspace(vaults: &[VaultInventory]) -> (WorkspaceGroups, Vec<(usize, String)>) {
    let mut groups = WorkspaceGroups::new();
    let mut unread = Vec::new();
    for (i, v) in vaults.iter().enumerate() {
        match &v.diagnostic_settings {
            Collected::Ok { value } => match value.iter().find_map(audit_workspace) {
                Some(ws) => groups.entry(ws).or_default().push(i),
                None => unread.push((
                    i,
                    "no diagnostic setting sends AuditEvent to a Log Analytics workspace"
                        .to_string(),
                )),
            },
            Collected::Error { error } => unread.push((
                i,
                format!(
                    "its diagnostic settings could not be read ({}: {})",
                    error.code, error.message
                ),
            )),
            Collected::NotCollected { reason } => unread.push((i, reason.clone())),
        }
    }
    (groups, unread)
}

/// A workspace by ARM id (its `customerId` is what the query API wants).
pub async fn workspace(client: &AzureClient, ws_id: &str) -> Result<Workspace, AzureError> {
    client
        .arm_get(&format!(
            "{}?api-version={WORKSPACES_API}",
            ws_id.trim_start_matches('/')
        ))
        .await
}

fn not_collected(reason: &str) -> AuditLogs {
    AuditLogs {
        status: AuditStatus::NotCollected,
        reason: Some(reason.into()),
        ..Default::default()
    }
}

fn failed(workspace: &str, error: ErrorDetail) -> AuditLogs {
    AuditLogs {
        status: AuditStatus::Error,
        workspace_id: Some(workspace.into()),
        error: Some(error),
        reason: None,
        ..Default::default()
    }
}

/// A workspace's ARM id, its GET, and its queries' answers (when the GET
/// worked and the query was wanted): evidence, then volume.
type WorkspaceAnswer = (
    String,
    Result<Workspace, AzureError>,
    Option<Result<QueryResponse, AzureError>>,
    Option<Result<QueryResponse, AzureError>>,
);

/// Which queries to send per workspace.
#[derive(Debug, Clone, Copy)]
pub struct Queries {
    /// The 401/403 evidence (`auditLogs`).
    pub evidence: bool,
    /// The AuditEvent row counts (`auditVolume`).
    pub volume: bool,
}

async fn query(
    client: &AzureClient,
    customer_id: &str,
    query: &str,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> Result<QueryResponse, AzureError> {
    let timespan = format!(
        "{}/{}",
        start.to_rfc3339_opts(SecondsFormat::Secs, true),
        end.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    info!(
        "querying Log Analytics workspace {customer_id} over {timespan} (up to {} s, retries included)",
        client.query_budget().as_secs()
    );
    client
        .log_analytics_query(customer_id, query, &timespan)
        .await
        .and_then(|body| {
            serde_json::from_slice::<QueryResponse>(&body).map_err(|e| {
                AzureError::decode(format!("v1/workspaces/{customer_id}/query"), e.to_string())
            })
        })
}

/// Fills `auditLogs` and/or `auditVolume` of every vault, as `queries`
/// asks; returns the workspaces read.
pub async fn collect(
    client: &AzureClient,
    vaults: &mut [VaultInventory],
    window: &Window,
    queries: Queries,
    progress: &Progress,
) -> Vec<Workspace> {
    let (by_workspace, unread) = by_workspace(vaults);
    for (i, reason) in unread {
        if queries.evidence {
            vaults[i].audit_logs = not_collected(&reason);
        }
        if queries.volume {
            vaults[i].audit_volume = Collected::NotCollected { reason };
        }
    }
    info!(workspaces = by_workspace.len(), "querying audit logs");
    progress.add(by_workspace.len() as u64 * 2);
    let results: Vec<WorkspaceAnswer> =
        stream::iter(by_workspace.iter().map(|(ws_id, members)| {
            let ids: Vec<String> = members
                .iter()
                .map(|i| vaults[*i].vault.id.clone())
                .collect();
            async move {
                let ws = workspace(client, ws_id).await;
                progress.inc(1);
                let (mut evidence, mut volume) = (None, None);
                if let Ok(w) = &ws {
                    let guid = &w.properties.customer_id;
                    if queries.evidence {
                        let q = crate::kql::audit_evidence(
                            &ids,
                            window.start,
                            window.end,
                            window.challenge_seconds,
                        );
                        // The API's timespan also bounds the rows: cover the
                        // 2xx that may answer a 401 just before END.
                        let end =
                            window.end + chrono::Duration::seconds(window.challenge_seconds as i64);
                        evidence = Some(query(client, guid, &q, window.start, end).await);
                    }
                    if queries.volume {
                        let q = crate::kql::audit_volume(&ids, window.volume_start, window.end);
                        volume =
                            Some(query(client, guid, &q, window.volume_start, window.end).await);
                    }
                }
                progress.inc(1);
                (ws_id.clone(), ws, evidence, volume)
            }
        }))
        .buffer_unordered(4)
        .collect()
        .await;

    let mut workspaces = Vec::new();
    for (ws_id, ws, answer, volume) in results {
        let members = &by_workspace[&ws_id];
        let ws = match ws {
            Ok(w) => w,
            Err(e) => {
                warn!(
                    "workspace {}: {}",
                    crate::access::vault_name(&ws_id),
                    e.without_path()
                );
                for i in members {
                    if queries.evidence {
                        vaults[*i].audit_logs = failed(&ws_id, e.detail());
                    }
                    if queries.volume {
                        vaults[*i].audit_volume = Collected::Error { error: e.detail() };
                    }
                }
                continue;
            }
        };
        match volume {
            Some(Ok(resp)) => fill_volume(vaults, members, &ws_id, &resp, window),
            Some(Err(e)) => {
                warn!(
                    "audit volume of workspace {}: {}",
                    crate::access::vault_name(&ws_id),
                    e.without_path()
                );
                for i in members {
                    vaults[*i].audit_volume = Collected::Error { error: e.detail() };
                }
            }
            None => {}
        }
        match answer {
            Some(Ok(resp)) => fill(vaults, members, &ws_id, &resp, window),
            Some(Err(e)) => {
                warn!(
                    "audit logs of workspace {}: {}",
                    crate::access::vault_name(&ws_id),
                    e.without_path()
                );
                for i in members {
                    vaults[*i].audit_logs = failed(&ws_id, e.detail());
                }
            }
            None => {}
        }
        workspaces.push(ws);
    }
    workspaces
}

/// The columns the volume query projects.
const VOLUME_COLUMNS: &[&str] = &["vault", "events", "lastEvent"];

/// The columns the evidence query projects.
pub const EVIDENCE_COLUMNS: &[&str] = &[
    "kind",
    "vault",
    "callerIp",
    "client",
    "upn",
    "appId",
    "objectId",
    "count",
    "challenges",
    "firstSeen",
    "lastSeen",
    "lastUnexplained",
    "operations",
    "resultDescription",
];

/// An answer that is not what the query projects: the part is not read.
fn unexpected(ws_id: &str, problem: &str) -> ErrorDetail {
    ErrorDetail {
        code: "UnexpectedResponse".into(),
        message: crate::text::redact(&format!(
            "the answer of workspace {ws_id} does not match the query: {problem}"
        ))
        .into_owned(),
        http_status: Some(200),
    }
}

/// Decoded rows by vault index, and the vaults whose rows did not decode (why).
type Decoded<T> = (Vec<(usize, T)>, BTreeMap<usize, String>);

/// The rows of `resp`'s result table decoded by `read` into per-vault
/// values. A row whose vault is a member but whose other values do not
/// decode makes only that vault unread; a row without a readable vault, or
/// an answer without the table and columns, makes every member unread.
fn decode_rows<T>(
    resp: &QueryResponse,
    columns: &[&str],
    members: &BTreeMap<String, usize>,
    mut read: impl FnMut(&crate::azure::loganalytics::Row<'_>) -> Result<T, String>,
) -> Result<Decoded<T>, String> {
    let table = resp.primary(columns)?;
    let mut rows = Vec::new();
    let mut bad = BTreeMap::new();
    for row in table.rows() {
        let row = row?;
        let vault = row.string("vault");
        if vault.is_empty() {
            return Err(format!("{}: no vault id", row_name(&row)));
        }
        let Some(&i) = members.get(&norm_id(&vault)) else {
            continue;
        };
        match read(&row) {
            Ok(v) => rows.push((i, v)),
            Err(e) => {
                bad.entry(i).or_insert(e);
            }
        }
    }
    Ok((rows, bad))
}

fn row_name(row: &crate::azure::loganalytics::Row<'_>) -> String {
    format!("row {}", row.index())
}

fn member_index(vaults: &[VaultInventory], members: &[usize]) -> BTreeMap<String, usize> {
    members
        .iter()
        .map(|i| (norm_id(&vaults[*i].vault.id), *i))
        .collect()
}

/// Reads one workspace's answer to the evidence query (the body as
/// received) into the `auditLogs` of `vaults`, all of which log to
/// `ws_id`: exactly what a scan does with it, for property tests.
pub fn apply_evidence(vaults: &mut [VaultInventory], ws_id: &str, body: &[u8], window: &Window) {
    let members: Vec<usize> = (0..vaults.len()).collect();
    match serde_json::from_slice::<QueryResponse>(body) {
        Ok(resp) => fill(vaults, &members, ws_id, &resp, window),
        Err(e) => {
            let error = AzureError::decode("query", e.to_string()).detail();
            for v in vaults.iter_mut() {
                v.audit_logs = failed(ws_id, error.clone());
            }
        }
    }
}

/// Turns the volume query's rows into each vault's `auditVolume`; a vault
/// without a row has no AuditEvent rows in the window.
fn fill_volume(
    vaults: &mut [VaultInventory],
    members: &[usize],
    ws_id: &str,
    resp: &QueryResponse,
    window: &Window,
) {
    let index = member_index(vaults, members);
    let decoded = decode_rows(resp, VOLUME_COLUMNS, &index, |row| {
        Ok((row.count("events")?, row.opt_time("lastEvent")?))
    });
    let (rows, bad) = match decoded {
        Ok(d) => d,
        Err(problem) => {
            warn!(
                "audit volume of workspace {}: {problem}",
                crate::access::vault_name(ws_id)
            );
            for i in members {
                vaults[*i].audit_volume = Collected::Error {
                    error: unexpected(ws_id, &problem),
                };
            }
            return;
        }
    };
    let mut counts: BTreeMap<usize, (u64, Option<String>)> = rows.into_iter().collect();
    let partial = resp.problem().is_some();
    for i in members {
        if let Some(problem) = bad.get(i) {
            warn!("audit volume of vault {}: {problem}", vaults[*i].vault.name);
            vaults[*i].audit_volume = Collected::Error {
                error: unexpected(ws_id, problem),
            };
            continue;
        }
        let (events, last_event) = counts.remove(i).unwrap_or((0, None));
        vaults[*i].audit_volume = Collected::Ok {
            value: AuditVolume {
                workspace_id: ws_id.to_string(),
                window_start: window
                    .volume_start
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
                window_end: window.end.to_rfc3339_opts(SecondsFormat::Secs, true),
                events,
                last_event,
                partial,
            },
        };
    }
}

/// One decoded row of the evidence query.
enum Group {
    Unauthorized(UnauthorizedGroup),
    Forbidden(ForbiddenGroup),
}

fn evidence_row(row: &crate::azure::loganalytics::Row<'_>) -> Result<Group, String> {
    let identity = CallerIdentity {
        upn: row.opt_string("upn"),
        app_id: row.opt_string("appId"),
        object_id: row.opt_string("objectId"),
    };
    let operations: Vec<String> = match row.dynamic("operations") {
        serde_json::Value::Array(a) => a
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    };
    let count = row.count("count")?;
    match row.string("kind").as_str() {
        "unauthorized" => {
            let challenges = row.count("challenges")?;
            if challenges > count {
                return Err(format!(
                    "row {}: {challenges} challenges for {count} requests",
                    row.index()
                ));
            }
            Ok(Group::Unauthorized(UnauthorizedGroup {
                caller_ip: row.string("callerIp"),
                client: row.string("client"),
                identity,
                count,
                challenges,
                unexplained: count - challenges,
                first_seen: row.time("firstSeen")?,
                last_seen: row.time("lastSeen")?,
                last_unexplained: row.opt_time("lastUnexplained")?,
                operations,
            }))
        }
        "forbidden" => Ok(Group::Forbidden(ForbiddenGroup {
            caller_ip: row.string("callerIp"),
            client: row.string("client"),
            identity,
            count,
            first_seen: row.time("firstSeen")?,
            last_seen: row.time("lastSeen")?,
            operations,
            result_description: row.opt_string("resultDescription"),
        })),
        other => Err(format!("row {}: unknown kind {other:?}", row.index())),
    }
}

/// Turns the query's rows into each vault's groups.
fn fill(
    vaults: &mut [VaultInventory],
    members: &[usize],
    ws_id: &str,
    resp: &QueryResponse,
    window: &Window,
) {
    let index = member_index(vaults, members);
    let (rows, bad) = match decode_rows(resp, EVIDENCE_COLUMNS, &index, evidence_row) {
        Ok(d) => d,
        Err(problem) => {
            warn!(
                "audit logs of workspace {}: {problem}",
                crate::access::vault_name(ws_id)
            );
            for i in members {
                vaults[*i].audit_logs = failed(ws_id, unexpected(ws_id, &problem));
            }
            return;
        }
    };
    let partial = resp.problem();
    let base = AuditLogs {
        status: if partial.is_some() {
            AuditStatus::Partial
        } else {
            AuditStatus::Ok
        },
        workspace_id: Some(ws_id.to_string()),
        tables: vec!["AzureDiagnostics".into(), "AZKVAuditLogs".into()],
        window_start: Some(window.start.to_rfc3339_opts(SecondsFormat::Secs, true)),
        window_end: Some(window.end.to_rfc3339_opts(SecondsFormat::Secs, true)),
        challenge_window_seconds: Some(window.challenge_seconds),
        unauthorized: vec![],
        forbidden: vec![],
        error: partial.clone(),
        reason: None,
    };
    let mut per_vault: BTreeMap<usize, AuditLogs> =
        members.iter().map(|i| (*i, base.clone())).collect();
    for (i, group) in rows {
        let logs = per_vault.get_mut(&i).expect("members only");
        match group {
            Group::Unauthorized(g) => logs.unauthorized.push(g),
            Group::Forbidden(g) => logs.forbidden.push(g),
        }
    }
    for i in members {
        vaults[*i].audit_logs = match bad.get(i) {
            Some(problem) => {
                warn!("audit logs of vault {}: {problem}", vaults[*i].vault.name);
                failed(ws_id, unexpected(ws_id, problem))
            }
            None => per_vault.remove(i).unwrap_or_default(),
        };
    }
}

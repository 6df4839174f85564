//! The access report as a table, JSON, CSV or markdown.
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use super::{AccessReport, View, vault_name};
use crate::text;

/// Output formats of `access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AccessFormat {
    Table,
    Json,
    Csv,
    Markdown,
    /// One self-contained page: per vault its top callers (suspicious
    /// first) and failed requests, and the vaults not read.
    Html,
}

fn top_operations(ops: &std::collections::BTreeMap<String, u64>, n: usize) -> String {
    let mut v: Vec<(&String, &u64)> = ops.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut parts: Vec<String> = v.iter().take(n).map(|(k, c)| format!("{k} {c}")).collect();
    if v.len() > n {
        parts.push(format!("+{} more", v.len() - n));
    }
    parts.join(", ")
}

/// A log time to the second, for the table: `2026-12-05 17:13:24`.
fn seconds(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| {
            d.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| t.to_string())
}

/// The mark of a suspicious caller in the table and markdown.
pub const SUSPICIOUS: &str = "⚠";

/// The mark of an allow-listed caller.
pub const KNOWN: &str = "✓";

/// Header and rows of the view, as strings (shared by table, CSV and
/// markdown). `csv` keeps every column numeric and whole (no combined 401
/// cell, full times).
fn grid(report: &AccessReport, view: View, csv: bool) -> (Vec<&'static str>, Vec<Vec<String>>) {
    match view {
        View::Callers if csv => (
            vec![
                "Vault",
                "Suspicious",
                "Identity",
                "Caller IP",
                "Client",
                "Requests",
                "Failures",
                "401",
                "401 challenge",
                "401 unexplained",
                "403",
                "Top operations",
                "First seen",
                "Last seen",
                "Known",
                "Not read",
            ],
            report
                .callers
                .iter()
                .map(|c| {
                    vec![
                        vault_name(&c.vault).to_string(),
                        if c.suspicious {
                            "yes".into()
                        } else {
                            String::new()
                        },
                        c.identity.clone(),
                        c.caller_ip.clone(),
                        c.client.clone(),
                        c.requests.to_string(),
                        c.failures.to_string(),
                        c.unauthorized.to_string(),
                        c.challenges.to_string(),
                        c.unexplained.to_string(),
                        c.forbidden.to_string(),
                        top_operations(&c.operations, 3),
                        c.first_seen.clone(),
                        c.last_seen.clone(),
                        if c.known { "yes".into() } else { String::new() },
                        String::new(),
                    ]
                })
                .chain(report.unread.iter().map(|u| {
                    let mut row = vec![String::new(); 16];
                    row[0] = vault_name(&u.vault).to_string();
                    row[15] = u.reason.clone();
                    row
                }))
                .collect(),
        ),
        View::Callers => (
            vec![
                SUSPICIOUS,
                "Vault",
                "Identity",
                "Caller IP",
                "Client",
                "Requests",
                "401 (unexpl.)",
                "403",
                "Last seen",
            ],
            report
                .callers
                .iter()
                .map(|c| {
                    vec![
                        if c.suspicious {
                            SUSPICIOUS.into()
                        } else if c.known {
                            KNOWN.into()
                        } else {
                            String::new()
                        },
                        vault_name(&c.vault).to_string(),
                        c.identity.clone(),
                        c.caller_ip.clone(),
                        text::clip(&c.client, 30).into_owned(),
                        c.requests.to_string(),
                        if c.unauthorized == 0 {
                            "0".into()
                        } else {
                            format!("{} ({})", c.unauthorized, c.unexplained)
                        },
                        c.forbidden.to_string(),
                        seconds(&c.last_seen),
                    ]
                })
                .collect(),
        ),
        View::Failures => (
            vec![
                "Vault",
                "Operation",
                "Request path",
                "Result",
                "HTTP",
                "Count",
                "Last seen",
            ],
            report
                .failures
                .iter()
                .map(|f| {
                    vec![
                        vault_name(&f.vault).to_string(),
                        f.operation.clone(),
                        f.request_path.clone(),
                        f.result_signature.clone(),
                        f.http_status.to_string(),
                        f.count.to_string(),
                        if csv {
                            f.last_seen.clone()
                        } else {
                            seconds(&f.last_seen)
                        },
                    ]
                })
                .collect(),
        ),
        View::Events => (
            vec![
                "Time",
                "Vault",
                "Caller",
                "IP",
                "Operation",
                "HTTP",
                "Request path",
                "Result",
            ],
            report
                .events
                .iter()
                .map(|e| {
                    vec![
                        if csv {
                            e.time.clone()
                        } else {
                            seconds(&e.time)
                        },
                        vault_name(&e.vault).to_string(),
                        e.identity.clone(),
                        e.caller_ip.clone(),
                        e.operation.clone(),
                        e.http_status.to_string(),
                        e.request_path.clone(),
                        e.result_signature.clone(),
                    ]
                })
                .collect(),
        ),
    }
}

/// One line per unread vault, cut to `width` (JSON has the whole reason).
fn unread_lines(report: &AccessReport, width: usize) -> String {
    report
        .unread
        .iter()
        .map(|u| {
            let line = format!(
                "not read: {}: {}",
                text::terminal(vault_name(&u.vault)),
                text::terminal(&u.reason)
            );
            format!("{}\n", text::clip(&line, width.saturating_sub(1)))
        })
        .collect()
}

/// Longest cell of the table view (the JSON view has every value whole).
const MAX_CELL: usize = 200;

/// Writes the report to `w` (JSON is streamed, not built as one string).
pub fn write(
    report: &AccessReport,
    view: View,
    format: AccessFormat,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    if format != AccessFormat::Json {
        return w.write_all(render(report, view, format).as_bytes());
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Doc<'a> {
        window_start: &'a str,
        window_end: &'a str,
        vaults: &'a [String],
        unread: &'a [super::Unread],
        #[serde(skip_serializing_if = "Option::is_none")]
        callers: Option<&'a [super::Caller]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        failures: Option<&'a [super::Failure]>,
        #[serde(skip_serializing_if = "Option::is_none")]
        events: Option<&'a [super::Event]>,
    }
    let doc = Doc {
        window_start: &report.window_start,
        window_end: &report.window_end,
        vaults: &report.vaults,
        unread: &report.unread,
        callers: (view == View::Callers).then_some(&report.callers[..]),
        failures: (view == View::Failures).then_some(&report.failures[..]),
        events: (view == View::Events).then_some(&report.events[..]),
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    w.write_all(b"\n")
}

pub fn render(report: &AccessReport, view: View, format: AccessFormat) -> String {
    match format {
        AccessFormat::Json => {
            let mut out = Vec::new();
            write(report, view, format, &mut out).expect("writing to memory cannot fail");
            String::from_utf8(out).expect("JSON is UTF-8")
        }
        AccessFormat::Csv => {
            let (header, rows) = grid(report, view, true);
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(&header);
            for r in rows {
                let _ = w.write_record(r.iter().map(|c| text::csv(c).into_owned()));
            }
            String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
        }
        AccessFormat::Html => html(report, view),
        AccessFormat::Markdown => {
            let (header, rows) = grid(report, view, false);
            let cell = |s: &str| text::markdown(&text::clip(s, MAX_CELL));
            let mut out = format!(
                "## kvaudit access: {} vault(s), {} to {}\n\n",
                report.vaults.len(),
                report.window_start,
                report.window_end
            );
            out.push_str(&format!(
                "| {} |\n|{}\n",
                header.join(" | "),
                "---|".repeat(header.len())
            ));
            for r in rows {
                out.push_str(&format!(
                    "| {} |\n",
                    r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
                ));
            }
            if !report.unread.is_empty() {
                out.push_str("\n### Not read\n\n");
                for u in &report.unread {
                    out.push_str(&format!(
                        "- {}: {}\n",
                        cell(vault_name(&u.vault)),
                        cell(&u.reason)
                    ));
                }
            }
            out
        }
        AccessFormat::Table => {
            let (header, rows) = grid(report, view, false);
            let mut out = String::new();
            let n = rows.len();
            use std::io::IsTerminal;
            let width =
                crate::report::table::View::width_for(std::io::stdout().is_terminal()).max(60);
            if n > 0 {
                let mut t = Table::new();
                t.load_preset(UTF8_FULL_CONDENSED)
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    .set_truncation_indicator("…")
                    .set_width(width)
                    .set_header(header);
                // Times and ids are never cut: the time column keeps its 19
                // characters, and at 140 columns an `app <guid>` label fits.
                use comfy_table::{ColumnConstraint::LowerBoundary, Width::Fixed};
                let time_col = match view {
                    View::Callers => Some(8),
                    View::Failures => Some(6),
                    View::Events => Some(0),
                };
                if let Some(c) = time_col.and_then(|i| t.column_mut(i)) {
                    c.set_constraint(LowerBoundary(Fixed(21)));
                }
                if width >= 140
                    && view == View::Callers
                    && let Some(c) = t.column_mut(2)
                {
                    c.set_constraint(LowerBoundary(Fixed(42)));
                }
                for r in rows {
                    let mut row = comfy_table::Row::from(
                        r.iter()
                            .map(|c| text::terminal(&text::clip(c, MAX_CELL)).into_owned()),
                    );
                    row.max_height(1);
                    t.add_row(row);
                }
                out.push_str(&format!("{t}\n"));
            }
            let what = match view {
                View::Callers => "caller(s)",
                View::Failures => "kind(s) of failure",
                View::Events => "event(s)",
            };
            out.push_str(&format!(
                "{n} {what} on {} vault(s) from {} to {}\n",
                report.vaults.len(),
                report.window_start,
                report.window_end
            ));
            out.push_str(&unread_lines(report, width as usize));
            out
        }
    }
}

/// "30 minutes", "6 hours", "1 day".
fn bucket_width(seconds: u64) -> String {
    let (n, unit) = match seconds {
        s if s % 86_400 == 0 => (s / 86_400, "day"),
        s if s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

type Charts = (maud::Markup, Vec<(String, String, maud::Markup)>);

/// The timeline of all vaults, then one per vault (most failures first),
/// every bucket of the window present (empty ones as gaps). `None` when no
/// timeline was read.
fn timelines(report: &AccessReport) -> Option<Charts> {
    use crate::report::html::{Slot, timeline};
    use std::collections::BTreeMap;
    if report.buckets == 0 {
        return None;
    }
    let n = report.buckets as usize;
    let start = chrono::DateTime::parse_from_rfc3339(&report.window_start).ok()?;
    let labels: Vec<String> = (0..n)
        .map(|i| {
            (start + chrono::Duration::seconds((report.bucket_seconds * i as u64) as i64))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .collect();
    let slot = |b: &super::Bucket| Slot {
        ok: b.requests.saturating_sub(b.failures),
        unauthorized: b.unauthorized,
        forbidden: b.forbidden,
        other: b.failures.saturating_sub(b.unauthorized + b.forbidden),
    };
    let mut all = vec![Slot::default(); n];
    let mut vaults: BTreeMap<&str, Vec<Slot>> = BTreeMap::new();
    for b in &report.timeline {
        let i = (b.index as usize).min(n - 1);
        let s = slot(b);
        let v = vaults
            .entry(vault_name(&b.vault))
            .or_insert_with(|| vec![Slot::default(); n]);
        v[i].add(s);
        all[i].add(s);
    }
    let (from, to) = (seconds(&report.window_start), seconds(&report.window_end));
    let total = |v: &[Slot]| -> (u64, u64) {
        v.iter()
            .fold((0, 0), |(r, f), s| (r + s.total(), f + s.failures()))
    };
    let mut order: Vec<(&str, Vec<Slot>)> = vaults.into_iter().collect();
    order.sort_by(|a, b| total(&b.1).1.cmp(&total(&a.1).1).then(a.0.cmp(b.0)));
    let per_vault = order
        .into_iter()
        .map(|(vault, slots)| {
            let (requests, failures) = total(&slots);
            (
                vault.to_string(),
                format!("{requests} request(s), {failures} failure(s)"),
                timeline(&slots, &labels, &from, &to),
            )
        })
        .collect();
    Some((timeline(&all, &labels, &from, &to), per_vault))
}

/// Callers shown per vault in the HTML page (the JSON has them all).
const HTML_CALLERS_PER_VAULT: usize = 25;

/// The access report as one self-contained HTML page (see
/// [`crate::report::html`]): per vault, a bar chart of its top callers'
/// requests and failures and their table (suspicious callers first), its
/// failures or events, and the vaults that could not be read.
fn html(report: &AccessReport, view: View) -> String {
    use crate::report::html::{bars, page, text};
    use maud::html;
    use std::collections::BTreeMap;
    let mut callers: BTreeMap<&str, Vec<&super::Caller>> = BTreeMap::new();
    for c in &report.callers {
        callers.entry(vault_name(&c.vault)).or_default().push(c);
    }
    let mut failures: BTreeMap<&str, Vec<&super::Failure>> = BTreeMap::new();
    for f in &report.failures {
        failures.entry(vault_name(&f.vault)).or_default().push(f);
    }
    let suspicious = report.callers.iter().filter(|c| c.suspicious).count();
    let charts = timelines(report);
    let title = format!(
        "kvaudit access: {} vault(s), {} to {}",
        report.vaults.len(),
        report.window_start,
        report.window_end
    );
    let body = html! {
        header {
            h1 { "kvaudit access" }
            p.muted #scope { (report.vaults.len()) " vault(s) read, " (report.unread.len()) " not read; " (text(&report.window_start)) " to " (text(&report.window_end)) "." }
            @if view == View::Callers {
                div.gate.(if suspicious > 0 { "fail" } else { "pass" }) #suspicious {
                    (suspicious) " suspicious caller(s): not allow-listed, with unexplained 401s or with 403s"
                }
            }
        }
        @if let Some((every, per_vault)) = &charts {
            section #timeline {
                h2 { "Requests and failures over time" }
                p.muted.legend {
                    "Every request of each vault (the filters do not apply), in buckets of " (bucket_width(report.bucket_seconds)) ". "
                    span.pass { "■ success" } span.not_evaluable { "■ 401" } span.fail { "■ 403" } span.waived { "■ other failure" }
                }
                figure #timeline-all { figcaption { "All vaults read" } (every) }
                @for (vault, caption, chart) in per_vault {
                    figure.timeline data-vault=(text(vault)) { figcaption { (text(vault)) ": " (caption) } (chart) }
                }
            }
        }
        @for (vault, list) in &callers {
            section.vault data-vault=(text(vault)) {
                h2 { (text(vault)) }
                @let top: Vec<&&super::Caller> = list.iter().take(HTML_CALLERS_PER_VAULT).collect();
                @let rows: Vec<(String, usize, &str)> = top.iter().take(10).map(|c| {
                    (text(&crate::text::clip(&format!("{} {}", c.identity, c.caller_ip), 18)), c.requests as usize, if c.suspicious { "fail" } else { "pass" })
                }).collect();
                (bars(&rows))
                table {
                    thead { tr { th { "" } th { "Identity" } th { "Caller IP" } th { "Client" } th { "Requests" } th { "401 (unexplained)" } th { "403" } th { "First seen" } th { "Last seen" } } }
                    tbody {
                        @for c in &top {
                            tr.(if c.suspicious { "fail" } else { "pass" }) {
                                td { @if c.suspicious { (SUSPICIOUS) } @else if c.known { (KNOWN) } }
                                td { (text(&c.identity)) }
                                td { (text(&c.caller_ip)) }
                                td { (text(&crate::text::clip(&c.client, 60))) }
                                td.num { (c.requests) }
                                td.num { (c.unauthorized) " (" (c.unexplained) ")" }
                                td.num { (c.forbidden) }
                                td { (seconds(&c.first_seen)) }
                                td { (seconds(&c.last_seen)) }
                            }
                        }
                    }
                }
                @if list.len() > top.len() {
                    p.muted { (list.len() - top.len()) " more caller(s): --format json lists them all." }
                }
            }
        }
        @for (vault, list) in &failures {
            section.vault data-vault=(text(vault)) {
                h2 { (text(vault)) ": failed requests" }
                table {
                    thead { tr { th { "Operation" } th { "Request path" } th { "Result" } th { "HTTP" } th { "Count" } th { "Last seen" } } }
                    tbody {
                        @for f in list {
                            tr { td { (text(&f.operation)) } td { (text(&f.request_path)) } td { (text(&f.result_signature)) } td.num { (f.http_status) } td.num { (f.count) } td { (seconds(&f.last_seen)) } }
                        }
                    }
                }
            }
        }
        @if view == View::Events {
            section #events {
                h2 { "Events, newest first" }
                table {
                    thead { tr { th { "Time" } th { "Vault" } th { "Caller" } th { "IP" } th { "Operation" } th { "HTTP" } th { "Request path" } } }
                    tbody {
                        @for e in &report.events {
                            tr { td { (seconds(&e.time)) } td { (text(vault_name(&e.vault))) } td { (text(&e.identity)) } td { (text(&e.caller_ip)) } td { (text(&e.operation)) } td.num { (e.http_status) } td { (text(&e.request_path)) } }
                        }
                    }
                }
            }
        }
        @if !report.unread.is_empty() {
            section #unread {
                h2 { "Not read" }
                ul { @for u in &report.unread { li { (text(vault_name(&u.vault))) ": " (text(&u.reason)) } } }
            }
        }
        footer.muted { p { "Generated by kvaudit " (env!("CARGO_PKG_VERSION")) "." } }
    };
    page(&title, body)
}

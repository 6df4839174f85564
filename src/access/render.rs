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

fn callers_401(c: &super::Caller) -> String {
    if c.unauthorized == 0 {
        "0".into()
    } else {
        format!(
            "{} ({} challenge, {} unexplained)",
            c.unauthorized, c.challenges, c.unexplained
        )
    }
}

/// Header and rows of the view, as strings (shared by table, CSV and markdown).
fn grid(report: &AccessReport, view: View) -> (Vec<&'static str>, Vec<Vec<String>>) {
    match view {
        View::Callers => (
            vec![
                "Vault",
                "Identity",
                "Caller IP",
                "Client",
                "Requests",
                "Failures",
                "401",
                "403",
                "Top operations",
                "First seen",
                "Last seen",
                "Known",
            ],
            report
                .callers
                .iter()
                .map(|c| {
                    vec![
                        vault_name(&c.vault).to_string(),
                        c.identity.clone(),
                        c.caller_ip.clone(),
                        c.client.clone(),
                        c.requests.to_string(),
                        c.failures.to_string(),
                        callers_401(c),
                        c.forbidden.to_string(),
                        top_operations(&c.operations, 3),
                        c.first_seen.clone(),
                        c.last_seen.clone(),
                        if c.known { "yes".into() } else { "".into() },
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
                        f.last_seen.clone(),
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
                        e.time.clone(),
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

fn unread_lines(report: &AccessReport) -> String {
    report
        .unread
        .iter()
        .map(|u| {
            format!(
                "not read: {}: {}\n",
                text::terminal(vault_name(&u.vault)),
                text::terminal(&u.reason)
            )
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
            let (header, rows) = grid(report, view);
            let mut w = csv::Writer::from_writer(Vec::new());
            let _ = w.write_record(&header);
            for r in rows {
                let _ = w.write_record(r.iter().map(|c| text::csv(c).into_owned()));
            }
            String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
        }
        AccessFormat::Markdown => {
            let (header, rows) = grid(report, view);
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
            let (header, rows) = grid(report, view);
            let mut out = String::new();
            let n = rows.len();
            if n > 0 {
                let mut t = Table::new();
                t.load_preset(UTF8_FULL_CONDENSED)
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    .set_width(
                        std::env::var("COLUMNS")
                            .ok()
                            .and_then(|c| c.parse().ok())
                            .unwrap_or(180),
                    )
                    .set_header(header);
                for r in rows {
                    t.add_row(
                        r.iter()
                            .map(|c| text::terminal(&text::clip(c, MAX_CELL)).into_owned()),
                    );
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
            out.push_str(&unread_lines(report));
            out
        }
    }
}

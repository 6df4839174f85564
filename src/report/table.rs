//! The terminal table.
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};

use super::Report;
use crate::finding::Status;

/// Longer messages are cut in the table (JSON and markdown keep them whole).
const MAX_MESSAGE: usize = 280;

/// Longer names are cut too: a table cell costs its layout more than linear time.
const MAX_NAME: usize = 120;

/// Azure text for a cell: controls made visible, cut at `max` characters.
fn shorten(s: &str, max: usize) -> String {
    let cut = crate::text::clip(s, max);
    let visible = crate::text::terminal(&cut);
    if matches!(cut, std::borrow::Cow::Borrowed(_)) {
        return visible.into_owned();
    }
    format!("{} (--format json shows all)", visible.trim_end())
}

pub fn render(report: &Report, color: bool) -> String {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["Status", "Severity", "Rule", "Resource", "Finding"]);
    if !color {
        table.force_no_tty();
    } else {
        table.enforce_styling();
    }
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok())
        .unwrap_or(160);
    table.set_width(width.max(80));
    let mut rows = 0;
    for f in report.ordered() {
        if f.status == Status::Pass && !report.show_passed {
            continue;
        }
        let (label, c) = match f.status {
            Status::Fail if f.waiver.is_some() => ("waived", Color::DarkGrey),
            Status::Fail if f.baseline_state == Some(crate::baseline::BaselineState::New) => {
                ("FAIL (new)", Color::Red)
            }
            Status::Fail => ("FAIL", Color::Red),
            Status::NotEvaluable if f.waiver.is_some() => {
                ("waived (not evaluable)", Color::DarkGrey)
            }
            Status::NotEvaluable => ("NOT EVALUABLE", Color::Yellow),
            Status::Pass => ("pass", Color::Green),
        };
        let status = if color {
            Cell::new(label).fg(c)
        } else {
            Cell::new(label)
        };
        table.add_row(vec![
            status,
            Cell::new(f.severity.as_str()),
            Cell::new(match report.controls_of(f) {
                Some(c) => format!("{c}\n{}", shorten(&f.rule_id, MAX_NAME)),
                None => shorten(&f.rule_id, MAX_NAME),
            }),
            Cell::new(format!(
                "{}\n{}",
                shorten(&f.resource.name, MAX_NAME),
                shorten(&f.resource.subscription_id, MAX_NAME)
            )),
            Cell::new(shorten(&f.message, MAX_MESSAGE)),
        ]);
        rows += 1;
    }
    let s = &report.summary;
    let mut out = String::new();
    if rows > 0 {
        out.push_str(&table.to_string());
        out.push('\n');
    }
    if let Some(b) = &report.benchmark {
        out.push_str(&controls_table(report, b, width));
    }
    let by_sev: Vec<String> = ["critical", "high", "medium", "low"]
        .iter()
        .filter_map(|k| s.fail_by_severity.get(*k).map(|n| format!("{n} {k}")))
        .collect();
    out.push_str(&format!(
        "{} vault(s), {} rule(s): {} failing{}{}{}, {} not evaluable, {} passed{}\n",
        s.resources,
        s.rules,
        s.fail,
        if by_sev.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_sev.join(", "))
        },
        if report.baseline_used {
            format!(", {} new since the baseline", s.new)
        } else {
            String::new()
        },
        if report.waivers_used {
            format!(", {} waived", s.waived)
        } else {
            String::new()
        },
        s.not_evaluable,
        s.pass,
        if !report.show_passed && s.pass > 0 {
            " (--show-passed lists them)"
        } else {
            ""
        },
    ));
    out
}

/// The `--benchmark` view: one row per control, in control order.
fn controls_table(report: &Report, benchmark: &str, width: u16) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .force_no_tty()
        .set_width(width.max(80))
        .set_header(vec![
            "Control",
            "Rule",
            "Title",
            "Fail",
            "Not evaluable",
            "Pass",
        ]);
    for c in report.controls() {
        t.add_row(vec![
            c.control,
            shorten(&c.rule_id, MAX_NAME),
            shorten(&c.title, MAX_MESSAGE),
            c.fail.to_string(),
            c.not_evaluable.to_string(),
            c.pass.to_string(),
        ]);
    }
    format!("{benchmark}\n{t}\n")
}

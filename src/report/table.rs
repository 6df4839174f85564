//! The terminal view: the summary first (counts and the gate's outcome),
//! then one block per rule (or per vault, `--group-by vault`) with one line
//! per finding, sized to the terminal. `-v` shows whole messages; JSON has
//! the evidence.
use std::collections::{BTreeMap, BTreeSet};

use comfy_table::presets::NOTHING;
use comfy_table::{
    Cell, Color, ColumnConstraint, ContentArrangement, Row, Table, Width as ColumnWidth,
};

use super::Report;
use crate::baseline::BaselineState;
use crate::finding::{Finding, Severity, Status};

/// Longer messages are cut even with `-v` (JSON and markdown keep them whole).
const MAX_MESSAGE: usize = 2_000;

/// Longer names are cut too: a table cell costs its layout more than linear time.
const MAX_NAME: usize = 120;

/// How many names a block's heading lists before "…".
const HEADING_NAMES: usize = 5;

/// The width when standard output is neither a terminal nor sized by `COLUMNS`.
pub const DEFAULT_WIDTH: u16 = 120;

/// How findings are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GroupBy {
    /// One block per rule: "fails on 7 of 8 vaults".
    #[default]
    Rule,
    /// One block per vault (or subscription): its failing rules.
    Vault,
}

/// How the table is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Columns available (at least 60 are used).
    pub width: u16,
    pub group_by: GroupBy,
    /// Only the summary and the failing results.
    pub quiet: bool,
    /// Whole messages (several lines each) instead of one line per finding.
    pub details: bool,
}

impl Default for View {
    fn default() -> Self {
        View {
            width: DEFAULT_WIDTH,
            group_by: GroupBy::Rule,
            quiet: false,
            details: false,
        }
    }
}

impl View {
    /// The width of a terminal on standard output, else `COLUMNS`, else
    /// [`DEFAULT_WIDTH`]; `to_terminal` is false when the report goes to a file.
    pub fn width_for(to_terminal: bool) -> u16 {
        let columns = || {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse::<u16>().ok())
        };
        let terminal = || {
            let t = Table::new();
            if t.is_tty() { t.width() } else { None }
        };
        if to_terminal {
            terminal().or_else(columns).unwrap_or(DEFAULT_WIDTH)
        } else {
            columns().unwrap_or(DEFAULT_WIDTH)
        }
    }
}

/// Azure text for a cell: controls made visible, cut at `max` characters.
fn shorten(s: &str, max: usize) -> String {
    let cut = crate::text::clip(s, max);
    let visible = crate::text::terminal(&cut);
    if matches!(cut, std::borrow::Cow::Borrowed(_)) {
        return visible.into_owned();
    }
    format!("{}…", visible.trim_end())
}

fn severity_color(s: Severity) -> Color {
    match s {
        Severity::Critical => Color::Magenta,
        Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Cyan,
    }
}

/// The status label of a finding and its colour.
fn status_of(f: &Finding) -> (&'static str, Color) {
    match f.status {
        Status::Fail if f.waiver.is_some() => ("waived", Color::DarkGrey),
        Status::Fail if f.baseline_state == Some(BaselineState::New) => ("FAIL new", Color::Red),
        Status::Fail => ("FAIL", Color::Red),
        Status::NotEvaluable if f.waiver.is_some() => ("waived n/e", Color::DarkGrey),
        Status::NotEvaluable => ("NOT EVALUABLE", Color::Yellow),
        Status::Pass => ("pass", Color::Green),
    }
}

/// Reading order inside a block: new failures, failures, waived, not
/// evaluable, passing.
fn rank(f: &Finding) -> u8 {
    match f.status {
        Status::Fail if f.waiver.is_some() => 2,
        Status::Fail if f.baseline_state == Some(BaselineState::New) => 0,
        Status::Fail => 1,
        Status::NotEvaluable if f.waiver.is_some() => 4,
        Status::NotEvaluable => 3,
        Status::Pass => 5,
    }
}

/// Whether the view lists `f` (passing results only with `--show-passed`,
/// not-evaluable and waived ones not with `--quiet`).
fn listed(report: &Report, view: &View, f: &Finding) -> bool {
    match f.status {
        Status::Pass => report.show_passed && !view.quiet,
        Status::Fail if f.waiver.is_none() => true,
        _ => !view.quiet,
    }
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, text: &str, c: Color) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match c {
            Color::Red => "31",
            Color::Green => "32",
            Color::Yellow => "33",
            Color::Cyan => "36",
            Color::Magenta => "35",
            _ => "90",
        };
        format!("\u{1b}[{code}m{text}\u{1b}[0m")
    }

    fn bold(&self, text: &str) -> String {
        if self.color {
            format!("\u{1b}[1m{text}\u{1b}[0m")
        } else {
            text.to_string()
        }
    }

    fn cell(&self, text: String, c: Color) -> Cell {
        if self.color {
            Cell::new(text).fg(c)
        } else {
            Cell::new(text)
        }
    }
}

pub fn render(report: &Report, color: bool) -> String {
    let view = report.view;
    let width = view.width.max(60);
    let painter = Painter { color };
    let mut out = summary(report, &painter);
    let blocks = match view.group_by {
        GroupBy::Rule => by_rule(report, &view, &painter, width),
        GroupBy::Vault => by_vault(report, &view, &painter, width),
    };
    for b in blocks {
        out.push('\n');
        out.push_str(&b);
    }
    if let Some(b) = &report.benchmark
        && !view.quiet
    {
        out.push('\n');
        out.push_str(&controls_table(report, b, width));
    }
    out
}

/// The first lines: the gate's outcome, then the counts.
fn summary(report: &Report, painter: &Painter) -> String {
    let s = &report.summary;
    let g = &report.gate;
    let outcome = g.outcome(s.not_evaluable);
    let outcome = match g.exit_code {
        1 => painter.paint(&outcome, Color::Red),
        3 => painter.paint(&outcome, Color::Yellow),
        _ => painter.paint(&outcome, Color::Green),
    };
    let by_sev: Vec<String> = ["critical", "high", "medium", "low"]
        .iter()
        .filter_map(|k| s.fail_by_severity.get(*k).map(|n| format!("{n} {k}")))
        .collect();
    let mut counts = format!("{} failing", s.fail);
    if !by_sev.is_empty() {
        counts.push_str(&format!(" ({})", by_sev.join(", ")));
    }
    if report.baseline_used {
        counts.push_str(&format!(
            ", {} new since the baseline, {} fixed",
            s.new,
            report.absent.len()
        ));
    }
    if report.waivers_used {
        counts.push_str(&format!(", {} waived", s.waived));
    }
    counts.push_str(&format!(
        ", {} not evaluable, {} passed",
        s.not_evaluable, s.pass
    ));
    if !report.show_passed && s.pass > 0 && !report.view.quiet {
        counts.push_str(" (--show-passed lists them)");
    }
    let text = format!("{} vault(s), {} rule(s): {counts}", s.resources, s.rules);
    format!(
        "kvaudit: {outcome}\n{}\n",
        wrap(&text, report.view.width.max(60) as usize)
    )
}

/// Breaks `text` at spaces so that no line is longer than `width`.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ') {
        let n = word.chars().count();
        if line > 0 && line + 1 + n > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += n;
    }
    out
}

/// "kv-a, kv-b, kv-c, … (+4)".
fn names(list: &BTreeSet<&str>) -> String {
    let shown: Vec<String> = list
        .iter()
        .take(HEADING_NAMES)
        .map(|n| shorten(n, 40))
        .collect();
    let more = list.len().saturating_sub(HEADING_NAMES);
    if more > 0 {
        format!("{}, … (+{more})", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// A borderless table of one block's lines, sized to `width`.
fn lines(width: u16) -> Table {
    let mut t = Table::new();
    t.load_preset(NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .force_no_tty()
        .enforce_styling()
        .set_truncation_indicator("…")
        .set_width(width);
    t
}

fn add(t: &mut Table, cells: Vec<Cell>, details: bool) {
    let mut row = Row::from(cells);
    if !details {
        row.max_height(1);
    }
    t.add_row(row);
}

fn constrain(t: &mut Table, name_column: usize, width: u16) {
    if let Some(c) = t.column_mut(name_column) {
        c.set_constraint(ColumnConstraint::UpperBoundary(ColumnWidth::Fixed(
            (width / 3).max(12),
        )));
    }
}

fn message(f: &Finding, details: bool) -> String {
    // A planned resource: where the template declares it, first.
    let text = match &f.resource.source {
        Some(src) => shorten(&format!("{src}: {}", f.message), MAX_MESSAGE),
        None => shorten(&f.message, MAX_MESSAGE),
    };
    if details {
        text
    } else {
        // One line: the table cuts it to the width.
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn by_rule(report: &Report, view: &View, painter: &Painter, width: u16) -> Vec<String> {
    let mut groups: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in report.findings {
        groups.entry(f.rule_id.as_str()).or_default().push(f);
    }
    // Rules with failures first (most severe first), then those with
    // not-evaluable results, then the ones that pass everywhere.
    let mut order: Vec<(&str, Vec<&Finding>)> = groups.into_iter().collect();
    let worst = |fs: &[&Finding]| fs.iter().map(|f| rank(f)).min().unwrap_or(5);
    order.sort_by_key(|(id, fs)| {
        (
            worst(fs).min(3),
            std::cmp::Reverse(fs.first().map(|f| f.severity)),
            *id,
        )
    });
    let mut blocks = Vec::new();
    let mut clean: Vec<&str> = Vec::new();
    for (id, mut fs) in order {
        let failing: BTreeSet<&str> = fs
            .iter()
            .filter(|f| f.status == Status::Fail && f.waiver.is_none())
            .map(|f| f.resource.name.as_str())
            .collect();
        let unread: BTreeSet<&str> = fs
            .iter()
            .filter(|f| f.status == Status::NotEvaluable && f.waiver.is_none())
            .map(|f| f.resource.name.as_str())
            .collect();
        let all: BTreeSet<&str> = fs.iter().map(|f| f.resource.name.as_str()).collect();
        if failing.is_empty() && (unread.is_empty() || view.quiet) && !report.show_passed {
            if unread.is_empty() {
                clean.push(id);
            }
            continue;
        }
        fs.sort_by(|a, b| {
            (rank(a), &a.resource.name, &a.discriminator).cmp(&(
                rank(b),
                &b.resource.name,
                &b.discriminator,
            ))
        });
        let severity = fs.first().map(|f| f.severity).unwrap_or(Severity::Low);
        let title = report
            .rule(id)
            .map(|r| r.metadata.title.as_str())
            .unwrap_or("");
        let controls = fs.first().and_then(|f| report.controls_of(f));
        // The heading fits the width: the title is cut to what is left.
        let mut id_text = shorten(id, MAX_NAME);
        if let Some(c) = controls {
            id_text.push_str(&format!(" [{c}]"));
        }
        let id_text = fit(&id_text, (width as usize).saturating_sub(10));
        let room = (width as usize).saturating_sub(10 + id_text.chars().count());
        let title = fit(&crate::text::terminal(title), room);
        let head = format!(
            "{} {} {title}",
            painter.paint(
                &format!("{:<8}", severity.as_str().to_uppercase()),
                severity_color(severity)
            ),
            painter.bold(&id_text),
        );
        let mut verdict = Vec::new();
        if !failing.is_empty() {
            verdict.push(format!(
                "fails on {} of {}: {}",
                failing.len(),
                all.len(),
                names(&failing)
            ));
        }
        if !unread.is_empty() {
            verdict.push(format!("not evaluable on {}", unread.len()));
        }
        let mut t = lines(width);
        let sub = crate::text::terminal(&verdict.join("; ")).into_owned();
        let mut rows = 0;
        for f in fs.iter().filter(|f| listed(report, view, f)) {
            let (label, c) = status_of(f);
            add(
                &mut t,
                vec![
                    painter.cell(label.to_string(), c),
                    Cell::new(shorten(&f.resource.name, MAX_NAME)),
                    Cell::new(message(f, view.details)),
                ],
                view.details,
            );
            rows += 1;
        }
        constrain(&mut t, 1, width);
        let mut block = format!(
            "{head}\n{}\n",
            fit(&format!("         {sub}"), width as usize)
        );
        if rows > 0 {
            block.push_str(&trim_ends(&t.to_string()));
        }
        blocks.push(block);
    }
    if !clean.is_empty() {
        let text = format!(
            "{} {} rule(s) pass on every resource: {}\n",
            painter.paint("pass    ", Color::Green),
            clean.len(),
            clean.join(", ")
        );
        blocks.push(text);
    }
    blocks
}

fn by_vault(report: &Report, view: &View, painter: &Painter, width: u16) -> Vec<String> {
    let mut groups: BTreeMap<(&str, &str), Vec<&Finding>> = BTreeMap::new();
    for f in report.findings {
        groups
            .entry((f.resource.name.as_str(), f.resource.id.as_str()))
            .or_default()
            .push(f);
    }
    let mut order: Vec<((&str, &str), Vec<&Finding>)> = groups.into_iter().collect();
    let failing = |fs: &[&Finding]| {
        fs.iter()
            .filter(|f| f.status == Status::Fail && f.waiver.is_none())
            .count()
    };
    order.sort_by_key(|((name, _), fs)| (std::cmp::Reverse(failing(fs)), *name));
    let mut blocks = Vec::new();
    let mut clean = 0;
    for ((name, _), mut fs) in order {
        let n_fail = failing(&fs);
        let n_unread = fs
            .iter()
            .filter(|f| f.status == Status::NotEvaluable && f.waiver.is_none())
            .count();
        let n_pass = fs.iter().filter(|f| f.status == Status::Pass).count();
        if !fs.iter().any(|f| listed(report, view, f)) {
            if n_fail == 0 && n_unread == 0 {
                clean += 1;
            }
            continue;
        }
        fs.sort_by(|a, b| {
            (
                rank(a),
                std::cmp::Reverse(a.severity),
                &a.rule_id,
                &a.discriminator,
            )
                .cmp(&(
                    rank(b),
                    std::cmp::Reverse(b.severity),
                    &b.rule_id,
                    &b.discriminator,
                ))
        });
        let sub = &fs[0].resource.subscription_id;
        // Cut to the width before the name is made bold.
        let name = shorten(name, MAX_NAME);
        let head = fit(
            &format!(
                "{name}: {n_fail} failing, {n_unread} not evaluable, {n_pass} passed (subscription {})",
                shorten(sub, MAX_NAME)
            ),
            width as usize,
        );
        let head = match head.strip_prefix(name.as_str()) {
            Some(rest) => format!("{}{rest}", painter.bold(&name)),
            None => head,
        };
        let mut t = lines(width);
        for f in fs.iter().filter(|f| listed(report, view, f)) {
            let (label, c) = status_of(f);
            add(
                &mut t,
                vec![
                    painter.cell(label.to_string(), c),
                    painter.cell(f.severity.as_str().to_string(), severity_color(f.severity)),
                    Cell::new(shorten(&f.rule_id, MAX_NAME)),
                    Cell::new(message(f, view.details)),
                ],
                view.details,
            );
        }
        constrain(&mut t, 2, width);
        blocks.push(format!("{head}\n{}", trim_ends(&t.to_string())));
    }
    if clean > 0 {
        blocks.push(format!(
            "{} {clean} resource(s) pass every rule\n",
            painter.paint("pass    ", Color::Green)
        ));
    }
    blocks
}

/// `line` cut to `width` characters, the cut marked with "…".
fn fit(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let cut: String = line.chars().take(width.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// A table's lines without trailing blanks (the borderless preset pads).
fn trim_ends(table: &str) -> String {
    table
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

/// The `--benchmark` view: one row per control, in control order.
fn controls_table(report: &Report, benchmark: &str, width: u16) -> String {
    let mut t = Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .force_no_tty()
        .set_width(width)
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
            shorten(&c.title, MAX_NAME),
            c.fail.to_string(),
            c.not_evaluable.to_string(),
            c.pass.to_string(),
        ]);
    }
    format!("{benchmark}\n{t}\n")
}

//! The HTML report (`--format html`): one self-contained file for reviews
//! and audits. No script, font, image or stylesheet is loaded from anywhere:
//! the only style is one inline `<style>` allowed by its hash in a strict
//! Content-Security-Policy, charts are inline SVG, and the page works
//! offline. Rendered server-side with maud, which escapes every value (all
//! Azure text is untrusted).
//!
//! Every failing and not-evaluable result is listed with its message; its
//! evidence and filled-in fix follow in a `<details>` while the document is
//! under [`TARGET_BYTES`] bytes, so that a 2,000-vault report stays under
//! 5 MB (the rest: the JSON report and `kvaudit fix`).
use std::collections::BTreeMap;

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

use super::Report;
use crate::finding::{Finding, Severity, Status};

/// The size the report aims to stay under: evidence and fixes are left out
/// (and counted) once the rest of the document would pass it.
pub const TARGET_BYTES: usize = 4_600_000;

/// Messages longer than this are cut in the table (JSON has them whole).
const MAX_MESSAGE: usize = 160;

/// Evidence longer than this is cut (the JSON report has it whole).
const MAX_EVIDENCE: usize = 1_500;

const CSS: &str = r#"
:root{--fail:#c62828;--ne:#b26a00;--pass:#2e7d32;--waived:#6b7280;--bg:#fff;--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa}
*{box-sizing:border-box}body{margin:0 auto;max-width:1200px;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:20px 0 6px}
.muted{color:var(--muted)}.gate{padding:10px 14px;border-radius:6px;font-weight:600;margin:12px 0}
.gate.fail{background:#ffebe9;color:var(--fail)}.gate.warn{background:#fff8c5;color:var(--ne)}.gate.pass{background:#dafbe1;color:var(--pass)}
.counts{display:flex;gap:12px;flex-wrap:wrap}.count{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:120px}
.count b{display:block;font-size:22px}.fail{color:var(--fail)}.not_evaluable{color:var(--ne)}.pass{color:var(--pass)}.waived{color:var(--waived)}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}th{background:var(--card)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:8px}.card{border:1px solid var(--line);border-radius:6px;padding:8px;background:var(--card)}
.card h4{margin:0 0 4px;font-size:13px;overflow-wrap:anywhere}.card p{margin:2px 0;font-size:12px}
.sev{font-weight:600;text-transform:uppercase;font-size:11px}.sev.critical{color:#8250df}.sev.high{color:var(--fail)}.sev.medium{color:var(--ne)}.sev.low{color:#0969da}
pre{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px;margin:4px 0}
section.rule,#vaults{content-visibility:auto;contain-intrinsic-size:auto 900px}
details>summary{cursor:pointer}td:last-child{overflow-wrap:anywhere}
rect.f{fill:var(--fail)}rect.n{fill:var(--ne)}rect.p{fill:var(--pass)}rect.w{fill:var(--waived)}
figure{margin:8px 0}figcaption{font-size:12px}.legend span{margin-right:12px}
tr.fail td:first-child{color:var(--fail)}tr.not_evaluable td:first-child{color:var(--ne)}tr.waived td:first-child{color:var(--waived)}tr.pass td:first-child{color:var(--pass)}
"#;

/// A complete page: the strict CSP, the inline style (allowed by its
/// hash), `title` and `body`. Nothing else is loaded.
pub(crate) fn page(title: &str, body: Markup) -> String {
    let csp = format!(
        "default-src 'none'; style-src {}; img-src 'none'; base-uri 'none'; form-action 'none'",
        style_hash()
    );
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(csp);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (text(title)) }
                style { (PreEscaped(CSS)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// The CSP source of the inline style: its SHA-256.
pub(crate) fn style_hash() -> String {
    let digest = Sha256::digest(CSS.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn status_class(f: &Finding) -> &'static str {
    match f.status {
        _ if f.waiver.is_some() => "waived",
        Status::Fail => "fail",
        Status::NotEvaluable => "not_evaluable",
        Status::Pass => "pass",
    }
}

fn status_label(f: &Finding) -> &'static str {
    match f.status {
        Status::Fail if f.waiver.is_some() => "waived",
        Status::NotEvaluable if f.waiver.is_some() => "waived (not evaluable)",
        Status::Fail => "fail",
        Status::NotEvaluable => "not evaluable",
        Status::Pass => "pass",
    }
}

/// Text for the page: control characters made visible (maud escapes markup).
pub(crate) fn text(s: &str) -> String {
    crate::text::terminal(s).into_owned()
}

/// Text content escaped for HTML with `&`, `<` and `>` only (quotes need no
/// escaping outside attributes, and JSON evidence is full of them).
fn pre_text(s: &str) -> PreEscaped<String> {
    let mut out = String::with_capacity(s.len() + 16);
    for c in crate::text::terminal(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    PreEscaped(out)
}

/// A horizontal bar chart as inline SVG: one bar per (label, value, class).
pub(crate) fn bars(rows: &[(String, usize, &str)]) -> Markup {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let height = rows.len() * 24 + 4;
    html! {
        svg role="img" width="520" height=(height) viewBox={"0 0 520 " (height)} xmlns="http://www.w3.org/2000/svg" {
            @for (i, (label, value, class)) in rows.iter().enumerate() {
                @let y = i * 24 + 2;
                @let w = (*value as f64 / max as f64 * 300.0).round() as usize;
                text x="0" y=(y + 15) font-size="12" { (label) }
                rect x="130" y=(y) width=(w.max(1)) height="18" rx="3" class=(class) fill="currentColor" {}
                text x=(136 + w) y=(y + 14) font-size="12" { (value) }
            }
        }
    }
}

/// One bucket of a timeline: successful requests, 401s, 403s and other
/// failures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Slot {
    pub ok: u64,
    pub unauthorized: u64,
    pub forbidden: u64,
    pub other: u64,
}

impl Slot {
    pub fn total(&self) -> u64 {
        self.ok + self.unauthorized + self.forbidden + self.other
    }

    pub fn failures(&self) -> u64 {
        self.unauthorized + self.forbidden + self.other
    }

    pub fn add(&mut self, other: Slot) {
        self.ok += other.ok;
        self.unauthorized += other.unauthorized;
        self.forbidden += other.forbidden;
        self.other += other.other;
    }
}

/// One column of a timeline: its x, its label, its segments (class, y, height).
type Column = (f64, String, Vec<(&'static str, f64, f64)>);

/// A timeline as inline SVG: one stacked column per bucket (other
/// failures, 403s, 401s, then successes, from the bottom), the busiest
/// bucket's height on the axis, the window's ends under it, and each
/// column's counts in its `<title>` (shown on hover, no script).
pub(crate) fn timeline(slots: &[Slot], labels: &[String], from: &str, to: &str) -> Markup {
    const W: f64 = 720.0;
    const H: f64 = 100.0;
    const BASE: f64 = H + 12.0;
    let max = slots.iter().map(Slot::total).max().unwrap_or(0).max(1);
    let col = W / slots.len().max(1) as f64;
    // Per non-empty bucket: its label and its segments (class, y, height).
    let columns: Vec<Column> = slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.total() > 0)
        .map(|(i, s)| {
            let mut y = BASE;
            let mut parts = Vec::new();
            for (n, class) in [
                (s.other, "w"),
                (s.forbidden, "f"),
                (s.unauthorized, "n"),
                (s.ok, "p"),
            ] {
                if n > 0 {
                    let h = (n as f64 / max as f64 * H).max(1.0);
                    y -= h;
                    parts.push((class, y, h));
                }
            }
            let label = format!(
                "{}: {} request(s), {} 401, {} 403, {} other failure(s)",
                labels.get(i).map(String::as_str).unwrap_or(""),
                s.total(),
                s.unauthorized,
                s.forbidden,
                s.other
            );
            (36.0 + i as f64 * col, label, parts)
        })
        .collect();
    let width = format!("{:.1}", (col - 1.0).max(1.0));
    html! {
        svg role="img" width="760" height="134" viewBox="0 0 760 134" xmlns="http://www.w3.org/2000/svg" {
            text x="0" y="10" font-size="11" { (max) }
            text x="0" y=(BASE) font-size="11" { "0" }
            @for (x, label, parts) in &columns {
                g {
                    title { (label) }
                    @for (class, y, h) in parts {
                        rect x=(format!("{x:.1}")) y=(format!("{y:.1}")) width=(width) height=(format!("{h:.1}")) class=(class) {}
                    }
                }
            }
            line x1="36" y1=(BASE) x2=(36.0 + W) y2=(BASE) stroke="currentColor" stroke-width="0.5" {}
            text x="36" y=(H + 28.0) font-size="11" { (from) }
            text x=(36.0 + W) y=(H + 28.0) font-size="11" text-anchor="end" { (to) }
        }
    }
}

/// A stacked bar of one vault's fail / not evaluable / pass counts.
fn stack(fail: usize, ne: usize, pass: usize) -> Markup {
    let total = (fail + ne + pass).max(1) as f64;
    let w = |n: usize| (n as f64 / total * 200.0).round() as usize;
    let (wf, wn) = (w(fail), w(ne));
    let wp = 200usize.saturating_sub(wf + wn);
    html! {
        svg width="200" height="8" {
            rect.f width=(wf) height="8" {}
            rect.n x=(wf) width=(wn) height="8" {}
            rect.p x=(wf + wn) width=(wp) height="8" {}
        }
    }
}

/// The rule's CIS control ids for the newest CIS version it maps to, or for
/// the `--benchmark`.
fn cis_controls(report: &Report, rule_id: &str) -> Option<(String, String)> {
    let rule = report.rule(rule_id)?;
    let cis = rule.metadata.compliance.get("cis-azure")?;
    let (version, controls) = match report.benchmark.as_deref() {
        Some(b) => {
            let v = b.strip_prefix("cis-azure-")?;
            (v.to_string(), cis.get(v)?)
        }
        None => cis
            .iter()
            .max_by(|a, b| super::control_key(a.0).cmp(&super::control_key(b.0)))
            .map(|(v, c)| (v.clone(), c))?,
    };
    Some((format!("CIS v{version}"), controls.ids().join(" / ")))
}

pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let g = &report.gate;
    let gate_class = match g.exit_code {
        1 => "fail",
        3 => "warn",
        _ => "pass",
    };
    // Per rule and per vault.
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    let mut by_vault: BTreeMap<(&str, &str), [usize; 3]> = BTreeMap::new();
    for f in report.findings {
        by_rule.entry(&f.rule_id).or_default().push(f);
        let slot = match f.status {
            Status::Fail if f.waiver.is_none() => 0,
            Status::NotEvaluable if f.waiver.is_none() => 1,
            _ => 2,
        };
        by_vault
            .entry((&f.resource.name, &f.resource.subscription_id))
            .or_default()[slot] += 1;
    }
    let mut rules: Vec<(&str, Vec<&Finding>)> = by_rule.into_iter().collect();
    let failing_in = |fs: &[&Finding]| {
        fs.iter()
            .filter(|f| f.status == Status::Fail && f.waiver.is_none())
            .count()
    };
    rules.sort_by_key(|(id, fs)| {
        (
            std::cmp::Reverse(fs.first().map(|f| f.severity)),
            failing_in(fs) == 0,
            *id,
        )
    });
    let mut vaults: Vec<((&str, &str), [usize; 3])> = by_vault.into_iter().collect();
    vaults.sort_by_key(|((name, _), c)| (std::cmp::Reverse(c[0]), std::cmp::Reverse(c[1]), *name));
    let subscriptions: std::collections::BTreeSet<&str> = report
        .findings
        .iter()
        .map(|f| f.resource.subscription_id.as_str())
        .collect();
    let severity_rows: Vec<(String, usize, &str)> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ]
    .iter()
    .map(|sev| {
        (
            sev.as_str().to_string(),
            s.fail_by_severity.get(sev.as_str()).copied().unwrap_or(0),
            "fail",
        )
    })
    .collect();
    // What the document holds besides evidence and fixes, roughly: the
    // rest of the budget goes to those, in reading order.
    let base: usize = 40_000
        + vaults.len() * 260
        + report
            .findings
            .iter()
            .filter(|f| f.status != Status::Pass || report.show_passed)
            .map(|f| 80 + f.message.len().min(MAX_MESSAGE + 4) + f.resource.name.len())
            .sum::<usize>();
    // Which results keep their evidence and fix: in reading order, while
    // the budget lasts.
    let mut budget = TARGET_BYTES.saturating_sub(base);
    let mut detailed: std::collections::HashSet<*const Finding> = std::collections::HashSet::new();
    let mut cut = 0usize;
    for (_, fs) in &rules {
        for f in fs.iter().filter(|f| f.status != Status::Pass) {
            let cost = f
                .evidence
                .as_ref()
                .map_or(0, |e| e.text().len().min(MAX_EVIDENCE))
                + f.fix.as_ref().map_or(0, |x| {
                    x.az.len()
                        + 60
                        + x.bicep
                            .as_ref()
                            .map_or(0, |b| b.module.len() + b.deploy.len() + 60)
                })
                + 60;
            if f.evidence.is_none() && f.fix.is_none() {
                continue;
            }
            if budget >= cost {
                budget -= cost;
                detailed.insert(*f as *const Finding);
            } else {
                cut += 1;
            }
        }
    }

    let body = html! {
                header {
                    h1 { "kvaudit report" }
                    p.muted #scope {
                        "Inventory " code { (text(&report.origin)) } ", collected " (text(&report.generated_at))
                        "; evaluated " (report.started_at) ". "
                        span #vault-count { (s.resources) } " vault(s) in " (subscriptions.len()) " subscription(s), "
                        (s.rules) " rule(s)"
                        @if let Some(b) = &report.benchmark { " (benchmark " (b) ")" }
                        "."
                    }
                    div.gate.(gate_class) #gate { "kvaudit: " (g.outcome(s.not_evaluable)) }
                }
                section #summary {
                    h2 { "Summary" }
                    div.counts {
                        div.count { b.fail #count-fail { (s.fail) } "failing" }
                        div.count { b.not_evaluable #count-not-evaluable { (s.not_evaluable) } "not evaluable" }
                        div.count { b.pass #count-pass { (s.pass) } "passed" }
                        @if report.waivers_used { div.count { b.waived #count-waived { (s.waived) } "waived" } }
                        @if report.baseline_used { div.count { b #count-new { (s.new) } "new since the baseline" } }
                    }
                    h3 { "Failing results by severity" }
                    (bars(&severity_rows))
                    h3 { "By rule and CIS control" }
                    table #controls {
                        thead { tr { th { "Rule" } th { "Control" } th { "Severity" } th { "Fail" } th { "Not evaluable" } th { "Pass" } } }
                        tbody {
                            @for (id, fs) in &rules {
                                @let sev = fs.first().map(|f| f.severity).unwrap_or(Severity::Low);
                                tr {
                                    td { a href={"#rule-" (id.replace('/', "-"))} { code { (text(id)) } } }
                                    td { @if let Some((v, c)) = cis_controls(report, id) { (v) " " (c) } }
                                    td { span.sev.(sev.as_str()) { (sev.as_str()) } }
                                    td.num.fail { (failing_in(fs)) }
                                    td.num.not_evaluable { (fs.iter().filter(|f| f.status == Status::NotEvaluable && f.waiver.is_none()).count()) }
                                    td.num.pass { (fs.iter().filter(|f| f.status == Status::Pass).count()) }
                                }
                            }
                        }
                    }
                }
                section #vaults {
                    h2 { "Posture by resource" }
                    div.cards {
                        @for ((name, sub), c) in &vaults {
                            div.card data-resource=(text(name)) {
                                h4 { (text(name)) }
                                (stack(c[0], c[1], c[2]))
                                p { span.fail { (c[0]) " failing" } ", " span.not_evaluable { (c[1]) " not evaluable" } ", " span.pass { (c[2]) " passed" } }
                                p.muted { "subscription " (text(sub)) }
                            }
                        }
                    }
                }
                section #findings {
                    h2 { "Findings" }
                    @for (id, fs) in &rules {
                        @let rule = report.rule(id);
                        @let shown: Vec<&&Finding> = fs.iter().filter(|f| f.status != Status::Pass || report.show_passed).collect();
                        @let sev = fs.first().map(|f| f.severity).unwrap_or(Severity::Low);
                        section.rule id={"rule-" (id.replace('/', "-"))} {
                            h3 {
                                span.sev.(sev.as_str()) { (sev.as_str()) } " "
                                code { (text(id)) } " "
                                @if let Some(r) = rule { (text(&r.metadata.title)) }
                            }
                            p.muted { "fails on " (failing_in(fs)) " of " (fs.iter().map(|f| &f.resource.id).collect::<std::collections::BTreeSet<_>>().len()) " resource(s)" }
                            @if !shown.is_empty() {
                                table {
                                    thead { tr { th { "Status" } th { "Resource" } th { "Finding" } } }
                                    tbody {
                                        @for f in &shown {
                                            tr.(status_class(f)) {
                                                td { (status_label(f)) }
                                                td { (text(&f.resource.name)) @if let Some(src) = &f.resource.source { br; small { (text(&src.to_string())) } } @if !f.discriminator.is_empty() { br; (text(&f.discriminator)) } }
                                                td {
                                                    (text(&crate::text::clip(&f.message, MAX_MESSAGE)))
                                                    @if detailed.contains(&(**f as *const Finding)) {
                                                        details {
                                                            summary { "evidence" @if f.fix.is_some() { " and fix" } }
                                                            @if let Some(x) = &f.fix {
                                                                pre.fix { (pre_text(&x.az)) }
                                                                @if let Some(b) = &x.bicep {
                                                                    pre.fix.bicep { (pre_text(&format!("// {}\n{}", b.deploy, b.module))) }
                                                                }
                                                            }
                                                            @if let Some(e) = &f.evidence {
                                                                pre { (pre_text(&crate::text::clip(e.text(), MAX_EVIDENCE))) }
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if cut > 0 {
                        p #cut.muted { "Evidence and fixes of " (cut) " result(s) are left out to keep this file small: the JSON report (--format json) has every evidence, kvaudit fix every command." }
                    }
                }
                footer.muted {
                    p { "Generated by kvaudit " (env!("CARGO_PKG_VERSION")) " from " code { (text(&report.origin)) } "; finished " (report.finished_at) "." }
                }
    };
    page(&format!("kvaudit report: {}", report.origin), body)
}

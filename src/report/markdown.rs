//! Markdown: a short summary for a pull request or a job summary.
use super::Report;
use crate::finding::{Finding, Status};

/// A cell of kvaudit's own or the policy author's text (rule titles and
/// remediation keep their markdown): it cannot hold raw `|` or newlines.
fn cell(s: &str) -> String {
    crate::text::terminal(s)
        .replace('|', "\\|")
        .replace("\\n", " ")
}

/// Text that carries Azure data (names, messages, justifications): every
/// control character made visible and markdown escaped, and cut short.
fn short(s: &str) -> String {
    const MAX: usize = 240;
    crate::text::markdown(&crate::text::clip(s, MAX))
}

/// A resource name from Azure.
fn name(s: &str) -> String {
    crate::text::markdown(&crate::text::clip(s, 120))
}

/// GitHub's limit for a pull-request comment (characters); a job summary
/// holds 1 MiB, so a summary under this fits both.
pub const COMMENT_LIMIT: usize = 65_536;

/// What the summary aims to stay under, leaving room for a wrapper (a
/// sticky-comment marker, a link to the run).
pub const MAX_CHARS: usize = 60_000;

/// Characters left for result rows, and rows left out for want of them.
struct Budget {
    left: usize,
    left_out: usize,
}

impl Budget {
    /// Takes `text` if it fits, keeping `reserve` for what must follow.
    fn take(&mut self, out: &mut String, text: &str, reserve: usize) -> bool {
        let n = text.chars().count();
        if n + reserve > self.left {
            return false;
        }
        self.left -= n;
        out.push_str(text);
        true
    }
}

/// One section: a collapsible block per rule (most severe first, then by
/// id), each with its results as a table and, for failing ones, the fix once.
/// Distinct fix commands shown per rule (the rest: `kvaudit fix`).
const MAX_FIX_COMMANDS: usize = 3;

fn section(
    out: &mut String,
    budget: &mut Budget,
    report: &Report,
    title: &str,
    intro: &str,
    findings: &[&Finding],
    failing: bool,
) {
    const CLOSE: usize = 40;
    // What is already written counts against the limit too.
    budget.left = MAX_CHARS.saturating_sub(out.chars().count());
    if !budget.take(out, &format!("### {title}\n\n{intro}"), CLOSE) {
        budget.left_out += findings.len();
        return;
    }
    let mut by_rule: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for f in findings {
        match by_rule.iter_mut().find(|(r, _)| *r == f.rule_id) {
            Some((_, v)) => v.push(f),
            None => by_rule.push((&f.rule_id, vec![f])),
        }
    }
    let state_col = failing && report.baseline_used;
    for (rule_id, items) in &by_rule {
        let rule = report.rule(rule_id);
        let new = items
            .iter()
            .filter(|f| f.baseline_state == Some(crate::baseline::BaselineState::New))
            .count();
        let head = format!(
            "<details{}><summary><code>{rule_id}</code> {}: {}{}</summary>\n\n",
            if failing { " open" } else { "" },
            rule.map_or(String::new(), |r| html(&r.metadata.title)),
            items.len(),
            if state_col && new > 0 {
                format!(" ({new} new)")
            } else {
                String::new()
            },
        );
        // The filled-in commands (a few distinct ones), else the rule's
        // one-line remediation.
        let mut commands: Vec<&str> = Vec::new();
        for f in items.iter().filter(|_| failing) {
            if let Some(fix) = &f.fix
                && !commands.contains(&fix.az.as_str())
            {
                commands.push(&fix.az);
            }
        }
        // The first result's Bicep, when the fix is a new resource.
        let bicep = items
            .iter()
            .filter(|_| failing)
            .find_map(|f| f.fix.as_ref().and_then(|x| x.bicep.as_ref()));
        let fix = if !commands.is_empty() {
            let shown = &commands[..commands.len().min(MAX_FIX_COMMANDS)];
            let body = shown.join("\n");
            let mut out = format!(
                "Fix{} (review before running; `kvaudit fix` writes every command):\n\n{}",
                if commands.len() > shown.len() {
                    format!(", {} of {} commands", shown.len(), commands.len())
                } else {
                    String::new()
                },
                fenced("sh", &body)
            );
            if let Some(b) = bicep {
                out.push_str(&format!(
                    "<details><summary>The same with Bicep (for {}; <code>kvaudit fix --format bicep</code> writes them all)</summary>\n\n{}</details>\n\n",
                    html(b.resource_group.as_deref().unwrap_or(&b.subscription_id)),
                    fenced("bicep", &format!("// {}\n{}", b.deploy, b.module.trim_end()))
                ));
            }
            out
        } else if failing {
            rule.and_then(|r| {
                r.metadata
                    .help
                    .lines()
                    .find_map(|l| l.strip_prefix("Remediation: "))
                    .map(|fix| format!("Fix: {}\n\n", cell(fix)))
            })
            .unwrap_or_default()
        } else {
            String::new()
        };
        let header = if state_col {
            "| State | Severity | Resource | Finding |\n|---|---|---|---|\n"
        } else if failing {
            "| Severity | Resource | Finding |\n|---|---|---|\n"
        } else {
            "| Resource | Why |\n|---|---|\n"
        };
        if !budget.take(out, &format!("{head}{fix}{header}"), CLOSE + 20) {
            budget.left_out += items.len();
            continue;
        }
        let mut shown = 0;
        for f in items {
            let row = if state_col {
                let state = f.baseline_state.map_or("", |b| b.as_str());
                let state = if state == "new" { "**new**" } else { state };
                format!(
                    "| {state} | {} | {} | {} |\n",
                    f.severity.as_str(),
                    name(&f.resource.display_name()),
                    short(&f.message)
                )
            } else if failing {
                format!(
                    "| {} | {} | {} |\n",
                    f.severity.as_str(),
                    name(&f.resource.display_name()),
                    short(&f.message)
                )
            } else {
                format!(
                    "| {} | {} |\n",
                    name(&f.resource.display_name()),
                    short(&f.message)
                )
            };
            if !budget.take(out, &row, CLOSE + 20) {
                break;
            }
            shown += 1;
        }
        if shown < items.len() {
            budget.left_out += items.len() - shown;
            let more = format!("| … | {} more |\n", items.len() - shown);
            budget.take(out, &more, CLOSE);
        }
        budget.take(out, "\n</details>\n\n", 0);
    }
}

/// A fenced code block, the fence longer than any run of backticks in `body`
/// (Azure names inside cannot close it).
fn fenced(lang: &str, body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{body}\n{fence}\n\n")
}

/// Text inside an HTML element (the `<summary>`): `<`, `>` and `&` escaped.
fn html(s: &str) -> String {
    crate::text::terminal(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let mut budget = Budget {
        left: MAX_CHARS,
        left_out: 0,
    };
    // The heading states the gate's outcome, the line below it the counts.
    let g = &report.gate;
    let heading = format!(
        "{} kvaudit: {}",
        match g.exit_code {
            1 => "❌",
            3 => "⚠️",
            _ => "✅",
        },
        g.outcome(s.not_evaluable)
    );
    let extra = match (report.baseline_used, report.waivers_used) {
        (true, true) => format!(" ({} new), {} waived", s.new, s.waived),
        (true, false) => format!(" ({} new)", s.new),
        (false, true) => format!(", {} waived", s.waived),
        (false, false) => String::new(),
    };
    let fixed = if report.baseline_used {
        format!(", {} fixed since the baseline", report.absent.len())
    } else {
        String::new()
    };
    out.push_str(&format!(
        "## {heading}\n\n{} failing{extra}, {} not evaluable, {} passed{fixed}.\n",
        s.fail, s.not_evaluable, s.pass
    ));
    out.push_str(&format!(
        "{} vault(s) checked against {} rule(s); inventory `{}` collected {}.\n\n",
        s.resources, s.rules, report.origin, report.generated_at
    ));
    if let Some(b) = &report.benchmark {
        out.push_str(&format!(
            "### {b}\n\n| Control | Rule | Title | Fail | Not evaluable | Pass |\n|---|---|---|---|---|---|\n"
        ));
        for c in report.controls() {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} | {} |\n",
                c.control,
                c.rule_id,
                cell(&c.title),
                c.fail,
                c.not_evaluable,
                c.pass
            ));
        }
        out.push('\n');
    }
    if s.fail > 0 {
        out.push_str("| Severity | Failing |\n|---|---|\n");
        for k in ["critical", "high", "medium", "low"] {
            if let Some(n) = s.fail_by_severity.get(k) {
                out.push_str(&format!("| {k} | {n} |\n"));
            }
        }
        out.push('\n');
        let mut failing: Vec<&Finding> = report
            .ordered()
            .into_iter()
            .filter(|f| f.status == Status::Fail && f.waiver.is_none())
            .collect();
        // New results first: they are what a pull request is about.
        failing.sort_by_key(|f| f.baseline_state);
        section(&mut out, &mut budget, report, "Failing", "", &failing, true);
    }
    if let Some(w) = &report.waivers {
        let waived: Vec<_> = report
            .ordered()
            .into_iter()
            .filter(|f| f.waiver.is_some())
            .collect();
        if !waived.is_empty() {
            out.push_str("### Waived\n\n| Rule | Resource | Justification | Owner | Expires |\n|---|---|---|---|---|\n");
            budget.left = MAX_CHARS.saturating_sub(out.chars().count());
            let total = waived.len();
            for (shown, f) in waived.into_iter().enumerate() {
                let wr = f.waiver.as_ref().expect("filtered");
                let row = format!(
                    "| `{}` | {} | {} | {} | {} |\n",
                    f.rule_id,
                    name(&f.resource.display_name()),
                    short(&wr.justification),
                    short(&wr.owner),
                    wr.expires
                );
                if !budget.take(&mut out, &row, 2_000) {
                    budget.left_out += total - shown;
                    break;
                }
            }
            out.push('\n');
        }
        if !w.expired.is_empty() || !w.unmatched.is_empty() {
            out.push_str("### Waivers to review\n\n");
            budget.left = MAX_CHARS.saturating_sub(out.chars().count());
            let lines: Vec<String> = w
                .expired
                .iter()
                .map(|e| format!("- expired, no longer applied: {}\n", short(e)))
                .chain(
                    w.unmatched
                        .iter()
                        .map(|u| format!("- matched nothing: {}\n", short(u))),
                )
                .collect();
            let total = lines.len();
            for (shown, line) in lines.iter().enumerate() {
                if !budget.take(&mut out, line, 2_000) {
                    out.push_str(&format!(
                        "- … {} more (see the JSON report)\n",
                        total - shown
                    ));
                    break;
                }
            }
            out.push('\n');
        }
    }
    if s.not_evaluable > 0 {
        let ne: Vec<&Finding> = report
            .ordered()
            .into_iter()
            .filter(|f| f.status == Status::NotEvaluable && f.waiver.is_none())
            .collect();
        section(
            &mut out,
            &mut budget,
            report,
            "Not evaluable",
            "These checks could not be run; they are not counted as passing.\n\n",
            &ne,
            false,
        );
    }
    if report.show_passed && s.pass > 0 {
        let passed: Vec<&Finding> = report
            .ordered()
            .into_iter()
            .filter(|f| f.status == Status::Pass)
            .collect();
        section(&mut out, &mut budget, report, "Passed", "", &passed, false);
    }
    if budget.left_out > 0 {
        out.push_str(&format!(
            "**{} more result(s) not shown** (a pull-request comment holds {MAX_CHARS} characters): see the SARIF or `--format json`.\n",
            budget.left_out
        ));
    }
    out
}

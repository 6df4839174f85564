//! Markdown: a short summary for a pull request or a job summary.
use super::Report;
use crate::finding::Status;

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

pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let verdict = if s.fail > 0 {
        "❌"
    } else if s.not_evaluable > 0 {
        "⚠️"
    } else {
        "✅"
    };
    let extra = match (report.baseline_used, report.waivers_used) {
        (true, true) => format!(" ({} new), {} waived", s.new, s.waived),
        (true, false) => format!(" ({} new)", s.new),
        (false, true) => format!(", {} waived", s.waived),
        (false, false) => String::new(),
    };
    out.push_str(&format!(
        "## {verdict} kvaudit: {} failing{extra}, {} not evaluable, {} passed\n\n",
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
        let state_col = report.baseline_used;
        out.push_str(if state_col {
            "\n### Failing\n\n| State | Severity | Rule | Resource | Finding | Fix |\n|---|---|---|---|---|---|\n"
        } else {
            "\n### Failing\n\n| Severity | Rule | Resource | Finding | Fix |\n|---|---|---|---|---|\n"
        });
        let mut failing: Vec<_> = report
            .ordered()
            .into_iter()
            .filter(|f| f.status == Status::Fail && f.waiver.is_none())
            .collect();
        // New results first: they are what a pull request is about.
        failing.sort_by_key(|f| f.baseline_state);
        for f in failing {
            let fix = report
                .rule(&f.rule_id)
                .and_then(|r| {
                    r.metadata
                        .help
                        .lines()
                        .find_map(|l| l.strip_prefix("Remediation: "))
                        .map(str::to_string)
                })
                .unwrap_or_default();
            if state_col {
                let state = f.baseline_state.map_or("", |b| b.as_str());
                let state = if state == "new" { "**new**" } else { state };
                out.push_str(&format!("| {state} "));
            }
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} |\n",
                f.severity.as_str(),
                f.rule_id,
                name(&f.resource.name),
                short(&f.message),
                cell(&fix),
            ));
        }
        out.push('\n');
    }
    if let Some(w) = &report.waivers {
        let waived: Vec<_> = report
            .ordered()
            .into_iter()
            .filter(|f| f.waiver.is_some())
            .collect();
        if !waived.is_empty() {
            out.push_str("### Waived\n\n| Rule | Resource | Justification | Owner | Expires |\n|---|---|---|---|---|\n");
            for f in waived {
                let wr = f.waiver.as_ref().expect("filtered");
                out.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} |\n",
                    f.rule_id,
                    name(&f.resource.name),
                    short(&wr.justification),
                    short(&wr.owner),
                    wr.expires
                ));
            }
            out.push('\n');
        }
        if !w.expired.is_empty() || !w.unmatched.is_empty() {
            out.push_str("### Waivers to review\n\n");
            for e in &w.expired {
                out.push_str(&format!("- expired, no longer applied: {}\n", short(e)));
            }
            for u in &w.unmatched {
                out.push_str(&format!("- matched nothing: {}\n", short(u)));
            }
            out.push('\n');
        }
    }
    if s.not_evaluable > 0 {
        out.push_str("### Not evaluable\n\nThese checks could not be run; they are not counted as passing.\n\n| Rule | Resource | Why |\n|---|---|---|\n");
        for f in report
            .ordered()
            .into_iter()
            .filter(|f| f.status == Status::NotEvaluable)
        {
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                f.rule_id,
                name(&f.resource.name),
                short(&f.message)
            ));
        }
        out.push('\n');
    }
    if report.show_passed && s.pass > 0 {
        out.push_str("### Passed\n\n| Rule | Resource | Evidence |\n|---|---|---|\n");
        for f in report
            .ordered()
            .into_iter()
            .filter(|f| f.status == Status::Pass)
        {
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                f.rule_id,
                name(&f.resource.name),
                short(&f.message)
            ));
        }
        out.push('\n');
    }
    out
}

//! Markdown: a short summary for a pull request or a job summary.
use super::Report;
use crate::finding::Status;

/// Markdown table cells cannot hold raw `|` or newlines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
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
    out.push_str(&format!(
        "## {verdict} kvaudit: {} failing, {} not evaluable, {} passed\n\n",
        s.fail, s.not_evaluable, s.pass
    ));
    out.push_str(&format!(
        "{} vault(s) checked against {} rule(s); inventory `{}` collected {}.\n\n",
        s.resources, s.rules, report.origin, report.generated_at
    ));
    if s.fail > 0 {
        out.push_str("| Severity | Failing |\n|---|---|\n");
        for k in ["critical", "high", "medium", "low"] {
            if let Some(n) = s.fail_by_severity.get(k) {
                out.push_str(&format!("| {k} | {n} |\n"));
            }
        }
        out.push_str(
            "\n### Failing\n\n| Severity | Rule | Vault | Finding | Fix |\n|---|---|---|---|---|\n",
        );
        for f in report
            .ordered()
            .into_iter()
            .filter(|f| f.status == Status::Fail)
        {
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
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} |\n",
                f.severity.as_str(),
                f.rule_id,
                cell(&f.resource.name),
                cell(&f.message),
                cell(&fix),
            ));
        }
        out.push('\n');
    }
    if s.not_evaluable > 0 {
        out.push_str("### Not evaluable\n\nThese checks could not be run; they are not counted as passing.\n\n| Rule | Vault | Why |\n|---|---|---|\n");
        for f in report
            .ordered()
            .into_iter()
            .filter(|f| f.status == Status::NotEvaluable)
        {
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                f.rule_id,
                cell(&f.resource.name),
                cell(&f.message)
            ));
        }
        out.push('\n');
    }
    if report.show_passed && s.pass > 0 {
        out.push_str("### Passed\n\n| Rule | Vault | Evidence |\n|---|---|---|\n");
        for f in report
            .ordered()
            .into_iter()
            .filter(|f| f.status == Status::Pass)
        {
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                f.rule_id,
                cell(&f.resource.name),
                cell(&f.message)
            ));
        }
        out.push('\n');
    }
    out
}

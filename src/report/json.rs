//! JSON: every finding with its evidence, for scripts and dashboards.
use serde_json::json;

use super::Report;

/// Version of this report's shape.
pub const REPORT_VERSION: u32 = 1;

pub fn render(report: &Report) -> String {
    let rules: Vec<_> = report
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.metadata.id,
                "title": r.metadata.title,
                "severity": r.metadata.severity,
                "builtin": r.builtin,
                "compliance": r.metadata.compliance,
                "azurePolicy": r.metadata.azure_policy,
            })
        })
        .collect();
    let doc = json!({
        "reportVersion": REPORT_VERSION,
        "tool": {"name": "kvaudit", "version": env!("CARGO_PKG_VERSION")},
        "inventory": {"origin": report.origin, "generatedAt": report.generated_at},
        "startedAt": report.started_at,
        "finishedAt": report.finished_at,
        "summary": report.summary,
        "rules": rules,
        "findings": report.findings,
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("report serialises");
    s.push('\n');
    s
}

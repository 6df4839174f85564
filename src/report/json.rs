//! JSON: every finding with its evidence, for scripts and dashboards.
use serde::Serialize;

use super::Report;
use crate::finding::{Finding, Severity, Summary};
use crate::policy::metadata::RuleMetadata;

/// Version of this report's shape.
pub const REPORT_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Doc<'a> {
    report_version: u32,
    tool: Tool,
    inventory: Origin<'a>,
    started_at: &'a str,
    finished_at: &'a str,
    summary: &'a Summary,
    rules: Vec<RuleEntry<'a>>,
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    benchmark: Option<Benchmark<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waivers: Option<&'a crate::waiver::WaiverReport>,
    /// Fingerprints of the baseline's failing results that are gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    absent: Option<Vec<Absent<'a>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Absent<'a> {
    rule_id: &'a str,
    message: &'a str,
}

/// `--benchmark`: its name and the verdicts per control.
#[derive(Serialize)]
struct Benchmark<'a> {
    name: &'a str,
    controls: Vec<super::ControlRow>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Origin<'a> {
    origin: &'a str,
    generated_at: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleEntry<'a> {
    id: &'a str,
    title: &'a str,
    severity: Severity,
    builtin: bool,
    compliance: &'a std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, crate::policy::metadata::Controls>,
    >,
    azure_policy: &'a [String],
}

impl<'a> RuleEntry<'a> {
    fn of(m: &'a RuleMetadata, builtin: bool) -> Self {
        RuleEntry {
            id: &m.id,
            title: &m.title,
            severity: m.severity,
            builtin,
            compliance: &m.compliance,
            azure_policy: &m.azure_policy,
        }
    }
}

pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    write(report, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Streams the report to `w` (large reports are never held as one string).
pub fn write(report: &Report, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let doc = Doc {
        report_version: REPORT_VERSION,
        tool: Tool {
            name: "kvaudit",
            version: env!("CARGO_PKG_VERSION"),
        },
        inventory: Origin {
            origin: &report.origin,
            generated_at: &report.generated_at,
        },
        started_at: &report.started_at,
        finished_at: &report.finished_at,
        summary: &report.summary,
        rules: report
            .rules
            .iter()
            .map(|r| RuleEntry::of(&r.metadata, r.builtin))
            .collect(),
        findings: report.findings,
        benchmark: report.benchmark.as_deref().map(|name| Benchmark {
            name,
            controls: report.controls(),
        }),
        waivers: report.waivers.as_ref(),
        absent: report.baseline_used.then(|| {
            report
                .absent
                .iter()
                .map(|p| Absent {
                    rule_id: &p.rule_id,
                    message: &p.message,
                })
                .collect()
        }),
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    w.write_all(b"\n")
}

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

/// The report document holding `findings`.
fn doc<'a>(report: &'a Report, findings: &'a [Finding]) -> Doc<'a> {
    Doc {
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
        findings,
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
    }
}

pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    write(report, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Streams the report to `w` (large reports are never held as one string).
pub fn write(report: &Report, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let doc = doc(report, &[]);
    // The document with an empty findings array, then the findings spliced
    // in where it stands, rendered on all cores: the same bytes as
    // serialising the whole document at once.
    let skeleton = serde_json::to_string_pretty(&doc).map_err(std::io::Error::other)?;
    const MARK: &str = "\n  \"findings\": []";
    // Where the empty array's `[` stands.
    let at = skeleton
        .find(MARK)
        .ok_or_else(|| std::io::Error::other("the report has no findings array"))?
        + MARK.len()
        - 2;
    w.write_all(&skeleton.as_bytes()[..at])?;
    if !report.findings.is_empty() {
        super::write_in_parallel(w, report.findings, b"[\n", b",\n", |f, buf| {
            // A finding at the array's depth: every line indented by two
            // levels (JSON strings hold no raw newline).
            let text = serde_json::to_string_pretty(f).map_err(std::io::Error::other)?;
            for (i, line) in text.split('\n').enumerate() {
                buf.extend_from_slice(if i == 0 { b"    " } else { b"\n    " });
                buf.extend_from_slice(line.as_bytes());
            }
            Ok(())
        })?;
        w.write_all(b"\n  ]")?;
    } else {
        w.write_all(b"[]")?;
    }
    w.write_all(&skeleton.as_bytes()[at + 2..])?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::finding::{Evidence, NotEvaluableGate, Resource, Status};

    fn finding(i: usize) -> Finding {
        let resource = Arc::new(Resource {
            id: format!(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-{i}"
            ),
            kind: "Microsoft.KeyVault/vaults".into(),
            name: format!("kv-{i}"),
            subscription_id: "s".into(),
            source: None,
        });
        Finding {
            rule_id: "kv/x".into(),
            severity: Severity::High,
            status: if i % 3 == 0 {
                Status::Pass
            } else {
                Status::Fail
            },
            resource,
            discriminator: if i % 2 == 0 {
                String::new()
            } else {
                format!("10.0.0.{i}")
            },
            // Escapes, a control character and non-ASCII text.
            message: format!("vault \"kv-{i}\"\t\u{1b}[31m → {i}\n").into(),
            variant: None,
            evidence: Evidence::from_json(format!(
                r#"{{"n":{i},"nested":{{"list":[1,"two",{{}}],"empty":[]}}}}"#
            )),
            fingerprint: crate::finding::Fingerprint::parse(&format!("{i:064x}")).unwrap(),
            waiver: None,
            baseline_state: None,
            failing_before: false,
            fix: None,
        }
    }

    fn report(findings: &[Finding]) -> Report<'_> {
        Report {
            findings,
            rules: &[],
            summary: Summary::default(),
            origin: "test".into(),
            generated_at: "2026-01-01T00:00:00Z".into(),
            started_at: "2026-01-01T00:00:01Z".into(),
            finished_at: "2026-01-01T00:00:02Z".into(),
            show_passed: false,
            sarif_profile: Default::default(),
            category: None,
            waivers_used: false,
            waivers: None,
            absent: &[],
            baseline_used: true,
            benchmark: None,
            gate: crate::triage::Gate {
                fail_on: Severity::Low,
                only_new: false,
                not_evaluable: NotEvaluableGate::Fail,
                exit_code: 1,
                gating: 0,
            },
            view: Default::default(),
        }
    }

    /// The findings rendered on all cores and spliced into the document give
    /// the bytes of the whole document serialised at once: none, one, and
    /// more than one batch of the parallel writer.
    #[test]
    fn spliced_report_is_the_whole_document() {
        for n in [0, 1, 2, 20_000] {
            let findings: Vec<Finding> = (0..n).map(finding).collect();
            let report = report(&findings);
            let whole = serde_json::to_string_pretty(&doc(&report, &findings)).unwrap() + "\n";
            let spliced = render(&report);
            assert!(spliced == whole, "{n} findings: the spliced report differs");
            let parsed: serde_json::Value = serde_json::from_str(&spliced).unwrap();
            assert_eq!(parsed["findings"].as_array().unwrap().len(), n);
        }
    }
}

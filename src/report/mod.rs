//! Reporters: pure functions from findings to text. One format, one module.
pub mod html;
pub mod json;
pub mod markdown;
pub mod rules_doc;
pub mod sarif;
pub mod table;

use std::collections::BTreeMap;

use crate::finding::{Finding, Status, Summary};
use crate::policy::engine::Rule;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable table (coloured on a terminal).
    Table,
    /// Every finding with its evidence, for scripts.
    Json,
    /// SARIF 2.1.0 for GitHub code scanning (failing results only).
    Sarif,
    /// A short summary for pull requests and job summaries.
    Markdown,
    /// One self-contained HTML file for reviews and audits (no script, opens offline).
    Html,
}

impl Format {
    /// The file name of this format under `--output-dir`.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Table => "kvaudit.txt",
            Format::Json => "kvaudit.json",
            Format::Sarif => "kvaudit.sarif",
            Format::Markdown => "kvaudit.md",
            Format::Html => "kvaudit.html",
        }
    }
}

/// Everything a reporter needs.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub rules: &'a [Rule],
    pub summary: Summary,
    /// Where the inventory came from (path, `<demo>`, `scan`).
    pub origin: String,
    /// The inventory's `generatedAt`.
    pub generated_at: String,
    /// RFC 3339 times of the evaluation.
    pub started_at: String,
    pub finished_at: String,
    /// Show passing findings in human formats.
    pub show_passed: bool,
    /// Which results the SARIF holds.
    pub sarif_profile: SarifProfile,
    /// SARIF `automationDetails.id` category.
    pub category: Option<String>,
    /// A waivers file was given (the full SARIF then carries suppressions).
    pub waivers_used: bool,
    /// What the waivers did.
    pub waivers: Option<crate::waiver::WaiverReport>,
    /// Failing results of the baseline that are gone (with `--baseline`).
    pub absent: &'a [crate::baseline::Previous],
    /// A baseline was given.
    pub baseline_used: bool,
    /// `--benchmark` (e.g. `cis-azure-6.0`): report by its control ids.
    pub benchmark: Option<String>,
    /// The gate this run applies (`--fail-on`, `--fail-on-new`) and its outcome.
    pub gate: Gate,
    /// The terminal view's layout.
    pub view: table::View,
}

pub use crate::triage::Gate;

/// One control of a benchmark and how its rule's findings came out.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlRow {
    /// `8.3.5`, or `8.3.1 / 8.3.2` where one rule answers two controls.
    pub control: String,
    pub rule_id: String,
    pub title: String,
    pub pass: usize,
    pub fail: usize,
    pub not_evaluable: usize,
}

/// Sorts control ids as numbers: 8.3.10 after 8.3.9.
fn control_key(id: &str) -> Vec<u64> {
    id.split(['.', ' ', '/'])
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Which results a SARIF log holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SarifProfile {
    /// Failing results only: what GitHub code scanning should ingest.
    #[default]
    Github,
    /// Every result, with kind pass, fail or open (not evaluable), for reviewers and other viewers.
    Full,
}

impl Report<'_> {
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.metadata.id == id)
    }

    /// Findings in reading order: failing first (by severity, highest first),
    /// then not evaluable, then passing.
    pub fn ordered(&self) -> Vec<&Finding> {
        let mut v: Vec<&Finding> = self.findings.iter().collect();
        v.sort_by(|a, b| {
            (
                a.status,
                std::cmp::Reverse(a.severity),
                &a.rule_id,
                &a.resource.name,
                &a.discriminator,
            )
                .cmp(&(
                    b.status,
                    std::cmp::Reverse(b.severity),
                    &b.rule_id,
                    &b.resource.name,
                    &b.discriminator,
                ))
        });
        v
    }

    /// The finding's control ids in the `--benchmark`, joined.
    pub fn controls_of(&self, f: &Finding) -> Option<String> {
        let b = self.benchmark.as_deref()?;
        let controls = self.rule(&f.rule_id)?.metadata.benchmark_controls(b)?;
        Some(controls.for_variant(f.variant.as_deref()).join(" / "))
    }

    /// Per control of the `--benchmark`: its rule and the verdict counts,
    /// in control order. A rule whose results name their variant (CIS
    /// 8.3.1 for RBAC vaults, 8.3.2 for access-policy vaults) gives a row
    /// per control. Empty without a benchmark.
    pub fn controls(&self) -> Vec<ControlRow> {
        let Some(b) = self.benchmark.as_deref() else {
            return vec![];
        };
        let mut counts: BTreeMap<(String, String), [usize; 3]> = BTreeMap::new();
        for r in self.rules {
            let Some(controls) = r.metadata.benchmark_controls(b) else {
                continue;
            };
            // Every control of the rule has a row, even with no finding.
            let all: Vec<String> = match controls {
                crate::policy::metadata::Controls::ByVariant(ids) => {
                    ids.values().cloned().collect()
                }
                other => vec![other.ids().join(" / ")],
            };
            for c in all {
                counts.entry((c, r.metadata.id.clone())).or_default();
            }
        }
        for f in self.findings {
            let Some(control) = self.controls_of(f) else {
                continue;
            };
            let slot = match f.status {
                Status::Pass => 0,
                Status::Fail => 1,
                Status::NotEvaluable => 2,
            };
            counts.entry((control, f.rule_id.clone())).or_default()[slot] += 1;
        }
        let mut rows: Vec<ControlRow> = counts
            .into_iter()
            .map(
                |((control, rule_id), [pass, fail, not_evaluable])| ControlRow {
                    title: self
                        .rule(&rule_id)
                        .map(|r| r.metadata.title.clone())
                        .unwrap_or_default(),
                    control,
                    rule_id,
                    pass,
                    fail,
                    not_evaluable,
                },
            )
            .collect();
        rows.sort_by_key(|r| control_key(&r.control));
        rows
    }

    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }
}

/// Renders `report` in `format`; `color` applies to the table only.
pub fn render(format: Format, report: &Report, color: bool) -> String {
    match format {
        Format::Table => table::render(report, color),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Markdown => markdown::render(report),
        Format::Html => html::render(report),
    }
}

/// Writes `report` in `format` to `w`, streaming the large formats.
pub fn write(
    format: Format,
    report: &Report,
    color: bool,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(report, w),
        Format::Sarif => sarif::write(report, w),
        other => w.write_all(render(other, report, color).as_bytes()),
    }
}

/// Writes `items` to `w` in order, each rendered by `render`, `first` before
/// the first and `sep` before the others. Batches are rendered on all cores
/// and written as they complete, so a large report (2 million results at
/// 100,000 vaults) is neither rendered on one core nor held whole in memory.
pub(crate) fn write_in_parallel<T: Sync>(
    w: &mut dyn std::io::Write,
    items: &[T],
    first: &[u8],
    sep: &[u8],
    render: impl Fn(&T, &mut Vec<u8>) -> std::io::Result<()> + Sync,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    /// Items per buffer: large enough to amortise a task, small enough to
    /// balance the cores.
    const CHUNK: usize = 256;
    /// Buffers rendered before they are written.
    const BATCH: usize = 64 * CHUNK;
    for (b, batch) in items.chunks(BATCH).enumerate() {
        let buffers: Vec<std::io::Result<Vec<u8>>> = batch
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut buf = Vec::with_capacity(chunk.len() * 512);
                for (i, item) in chunk.iter().enumerate() {
                    let at_start = b == 0 && c == 0 && i == 0;
                    buf.extend_from_slice(if at_start { first } else { sep });
                    render(item, &mut buf)?;
                }
                Ok(buf)
            })
            .collect();
        for buf in buffers {
            w.write_all(&buf?)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::write_in_parallel;

    fn written(items: &[u32]) -> std::io::Result<String> {
        let mut out = Vec::new();
        write_in_parallel(&mut out, items, b"<", b",", |n, buf| {
            if *n == u32::MAX {
                return Err(std::io::Error::other("bad item"));
            }
            buf.extend_from_slice(n.to_string().as_bytes());
            Ok(())
        })?;
        Ok(String::from_utf8(out).unwrap())
    }

    /// Every item once, in order, across chunks and batches; `first` only
    /// before the first item.
    #[test]
    fn parallel_writer_keeps_order_and_separators() {
        assert_eq!(written(&[]).unwrap(), "");
        assert_eq!(written(&[7]).unwrap(), "<7");
        let items: Vec<u32> = (0..40_000).collect();
        let expected = format!(
            "<{}",
            items
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(written(&items).unwrap(), expected);
    }

    /// A rendering error anywhere is the writer's error.
    #[test]
    fn parallel_writer_reports_a_failed_item() {
        let mut items: Vec<u32> = (0..30_000).collect();
        items[25_000] = u32::MAX;
        assert_eq!(written(&items).unwrap_err().to_string(), "bad item");
    }
}

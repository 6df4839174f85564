//! Reporters: pure functions from findings to text. One format, one module.
pub mod json;
pub mod markdown;
pub mod rules_doc;
pub mod sarif;
pub mod table;

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

//! Triage: what happens to findings after evaluation and before any report.
//! Waivers accept results, a baseline marks them new or known, and the gate
//! (`--fail-on`, `--fail-on-new`, `--not-evaluable`) decides the exit code.
//! It depends on findings, waivers and baselines; the reporters depend on it
//! (see [`crate::report::Report::gate`]), and nothing here depends on them.
use chrono::NaiveDate;

use crate::baseline::{Baseline, Previous};
use crate::finding::{Finding, NotEvaluableGate, Severity, exit_code};
use crate::waiver::{Waiver, WaiverReport};

/// The gate: which results fail the run, and what the run exits with.
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    pub fail_on: Severity,
    pub only_new: bool,
    pub not_evaluable: NotEvaluableGate,
    /// 0 passed, 1 failed, 3 nothing failed but something counted as not evaluable.
    pub exit_code: i32,
    /// Failing results that fail the gate.
    pub gating: usize,
}

impl Gate {
    /// The gate's outcome as a sentence (no symbols): "gate failed: 3
    /// failing result(s) at or above high", for the reports' first line.
    pub fn outcome(&self, not_evaluable: usize) -> String {
        let threshold = format!(
            "{}at or above {}",
            if self.only_new {
                "new since the baseline and "
            } else {
                ""
            },
            self.fail_on.as_str()
        );
        match self.exit_code {
            1 => format!("gate failed: {} failing result(s) {threshold}", self.gating),
            3 => format!(
                "{not_evaluable} check(s) could not be evaluated; nothing failed {threshold}"
            ),
            _ => format!("gate passed: nothing failed {threshold}"),
        }
    }
}

/// What triage did, for the reports.
#[derive(Debug, Clone)]
pub struct Triage {
    /// What the waivers did (with `--waivers`).
    pub waivers: Option<WaiverReport>,
    /// The baseline's failing results this run no longer has (with `--baseline`).
    pub absent: Vec<Previous>,
    pub baseline_used: bool,
    pub gate: Gate,
}

/// The gate's settings.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub fail_on: Severity,
    pub only_new: bool,
    pub not_evaluable: NotEvaluableGate,
}

/// Applies the waivers (as of `today`), then the baseline (for the ids of
/// the rules evaluated, `rules`), then the gate,
/// in that order: a waived result never gates, and the baseline state of a
/// result decides whether `--fail-on-new` and `--not-evaluable new` count it.
pub fn triage(
    findings: &mut [Finding],
    rules: &[&str],
    waivers: Option<(&[Waiver], &str)>,
    baseline: Option<&Baseline>,
    today: NaiveDate,
    policy: Policy,
) -> Triage {
    let waivers = waivers.map(|(w, origin)| crate::waiver::apply(findings, w, origin, today));
    // Gone from the run: only results of rules this run evaluated (a rule
    // left out by --rule has not been fixed).
    let absent = baseline
        .map(|b| b.compare(findings))
        .unwrap_or_default()
        .into_iter()
        .filter(|p| rules.contains(&p.rule_id.as_str()))
        .collect();
    let gate = Gate {
        fail_on: policy.fail_on,
        only_new: policy.only_new,
        not_evaluable: policy.not_evaluable,
        exit_code: exit_code(
            findings,
            policy.fail_on,
            policy.only_new,
            policy.not_evaluable,
        ),
        gating: findings
            .iter()
            .filter(|f| f.gates(policy.fail_on, policy.only_new))
            .count(),
    };
    Triage {
        waivers,
        absent,
        baseline_used: baseline.is_some(),
        gate,
    }
}

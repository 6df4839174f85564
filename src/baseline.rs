//! Baselines: a previous run's SARIF. Each failing result of this run is
//! `new`, `unchanged` (same fingerprint, same message) or `updated` (same
//! fingerprint, another message); failing results of the baseline that are
//! gone are `absent`. Matching uses the stable `primaryLocationLineHash`.
use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Error;
use crate::finding::{Finding, Status};

pub use crate::finding::BaselineState;

/// A failing result of the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Previous {
    /// `fail`, or `open` for a not-evaluable result (full profile only).
    pub kind: String,
    pub rule_id: String,
    pub message: String,
    /// The baseline's result, kept to report it as absent.
    pub result: serde_json::Value,
}

/// The failing results of a previous kvaudit SARIF, by fingerprint.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    pub results: BTreeMap<String, Previous>,
}

impl Baseline {
    /// Reads a kvaudit SARIF 2.1.0 log; another tool's or version's is refused.
    pub fn load(path: &Path) -> Result<Baseline, Error> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read {
            path: origin.clone(),
            reason: crate::error::io_reason(&e),
        })?;
        let bad = |m: String| Error::Policy(format!("{origin}: not usable as a baseline: {m}"));
        let log: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Inventory {
            origin: origin.clone(),
            line: e.line(),
            column: e.column(),
            message: format!("not a SARIF file: {e}"),
        })?;
        if log["version"] != "2.1.0" {
            return Err(bad(format!(
                "SARIF version {} (kvaudit reads 2.1.0)",
                log["version"]
            )));
        }
        let runs = log["runs"]
            .as_array()
            .ok_or_else(|| bad("no runs".into()))?;
        let mut results = BTreeMap::new();
        for run in runs {
            let tool = run["tool"]["driver"]["name"].as_str().unwrap_or("");
            if tool != "kvaudit" {
                return Err(bad(format!("it was written by {tool:?}, not kvaudit")));
            }
            for r in run["results"].as_array().into_iter().flatten() {
                let kind = r["kind"].as_str().unwrap_or("fail");
                let absent = r["baselineState"] == "absent";
                let suppressed = r["suppressions"].as_array().is_some_and(|s| !s.is_empty());
                if !matches!(kind, "fail" | "open") || absent || suppressed {
                    continue;
                }
                let Some(fp) = r["partialFingerprints"]["primaryLocationLineHash"].as_str() else {
                    return Err(bad(
                        "a result has no partialFingerprints.primaryLocationLineHash".into(),
                    ));
                };
                // A not-evaluable result kept open because it was failing
                // before counts as failing for the next comparison too.
                let carried = kind == "open" && r["properties"]["failingBefore"] == true;
                results.insert(
                    fp.to_string(),
                    Previous {
                        kind: if carried { "fail" } else { kind }.to_string(),
                        rule_id: r["ruleId"].as_str().unwrap_or("").to_string(),
                        message: r["message"]["text"].as_str().unwrap_or("").to_string(),
                        result: r.clone(),
                    },
                );
            }
        }
        Ok(Baseline { results })
    }

    /// Sets `baseline_state` on each failing and not-evaluable finding
    /// (compared with the baseline's results of the same kind); returns the
    /// baseline's failing results that this run no longer has (absent).
    pub fn compare(&self, findings: &mut [Finding]) -> Vec<Previous> {
        let mut seen = std::collections::BTreeSet::new();
        for f in findings
            .iter_mut()
            .filter(|f| matches!(f.status, Status::Fail | Status::NotEvaluable))
        {
            let fp = format!("{}:1", &f.fingerprint.hex()[..16]);
            let kind = if f.status == Status::Fail {
                "fail"
            } else {
                "open"
            };
            // Still reported (even as not evaluable now): not absent, not "fixed".
            if self.results.contains_key(&fp) {
                seen.insert(fp.clone());
            }
            f.failing_before = f.status == Status::NotEvaluable
                && self.results.get(&fp).is_some_and(|p| p.kind == "fail");
            f.baseline_state = Some(match self.results.get(&fp).filter(|p| p.kind == kind) {
                None => BaselineState::New,
                Some(prev) => {
                    let now = crate::finding::result_message(f);
                    if prev.message == now {
                        BaselineState::Unchanged
                    } else {
                        BaselineState::Updated
                    }
                }
            });
        }
        self.results
            .iter()
            .filter(|(fp, p)| p.kind == "fail" && !seen.contains(*fp))
            .map(|(_, p)| p.clone())
            .collect()
    }
}

//! Which rules run: `--rule` and `--skip-rule` (globs over rule ids) and
//! `--benchmark` (the rules mapped to one benchmark version). A pattern that
//! matches nothing is an error, so a typo cannot silently run no check.
use glob::Pattern;

use super::engine::Rule;
use crate::error::Error;

/// What the user asked to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub rules: Vec<String>,
    pub skip: Vec<String>,
    /// `cis-azure-6.0`: the benchmark name and version joined by `-`.
    pub benchmark: Option<String>,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.skip.is_empty() && self.benchmark.is_none()
    }
}

fn patterns(flag: &'static str, values: &[String]) -> Result<Vec<(String, Pattern)>, Error> {
    values
        .iter()
        .map(|v| {
            Pattern::new(v.trim())
                .map(|p| (v.clone(), p))
                .map_err(|e| Error::Selection {
                    flag,
                    value: v.clone(),
                    problem: format!("not a valid glob: {e}"),
                })
        })
        .collect()
}

/// Benchmarks the rules map to, as `name-version` (e.g. `cis-azure-6.0`).
pub fn benchmarks(rules: &[Rule]) -> Vec<String> {
    let mut out: Vec<String> = rules
        .iter()
        .flat_map(|r| {
            r.metadata
                .compliance
                .iter()
                .flat_map(|(b, versions)| versions.keys().map(move |v| format!("{b}-{v}")))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The indices of `rules` that `selection` keeps, in order.
pub fn select(rules: &[Rule], selection: &Selection) -> Result<Vec<usize>, Error> {
    let include = patterns("--rule", &selection.rules)?;
    let exclude = patterns("--skip-rule", &selection.skip)?;
    let ids: Vec<&str> = rules.iter().map(|r| r.metadata.id.as_str()).collect();
    let known = || ids.join(", ");
    for (flag, list) in [("--rule", &include), ("--skip-rule", &exclude)] {
        for (value, p) in list {
            if !ids.iter().any(|id| p.matches(id)) {
                return Err(Error::Selection {
                    flag,
                    value: value.clone(),
                    problem: format!(
                        "matches no rule (the rules are: {}); `kvaudit policy list` shows them",
                        known()
                    ),
                });
            }
        }
    }
    if let Some(b) = &selection.benchmark {
        let available = benchmarks(rules);
        if !available.contains(b) {
            return Err(Error::Selection {
                flag: "--benchmark",
                value: b.clone(),
                problem: if available.is_empty() {
                    "no rule maps to any benchmark".into()
                } else {
                    format!("unknown benchmark; use one of {}", available.join(", "))
                },
            });
        }
    }
    let kept: Vec<usize> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            let id = r.metadata.id.as_str();
            (include.is_empty() || include.iter().any(|(_, p)| p.matches(id)))
                && !exclude.iter().any(|(_, p)| p.matches(id))
                && selection
                    .benchmark
                    .as_deref()
                    .is_none_or(|b| r.metadata.benchmark_controls(b).is_some())
        })
        .map(|(i, _)| i)
        .collect();
    if kept.is_empty() {
        return Err(Error::Policy(
            "--rule, --skip-rule and --benchmark together leave no rule to run; `kvaudit policy list` shows the rules".into(),
        ));
    }
    Ok(kept)
}

//! Waivers: accepted exceptions with an owner, a justification and an
//! expiry. A waived failing result does not fail the gate, is marked as an
//! accepted external suppression in the full SARIF, and is left out of the
//! GitHub SARIF. An expired waiver waives nothing and is reported; waivers
//! that matched nothing are listed.
//!
//! ```yaml
//! waivers:
//!   - rule: kv/admin-alert
//!     resource: /subscriptions/*/resourceGroups/rg-sandbox/providers/Microsoft.KeyVault/vaults/*
//!     justification: sandbox vaults are recreated every night
//!     owner: platform-team@contoso.com
//!     expires: 2027-03-31
//!     discriminator: 203.0.113.*   # optional: one caller of the anomaly rules
//! ```
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::finding::{Finding, Status};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    waivers: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    rule: String,
    resource: String,
    justification: String,
    owner: String,
    expires: String,
    #[serde(default)]
    discriminator: Option<String>,
    /// `fail` (default), `not_evaluable` (a design that can never be
    /// evaluated, such as a storage-only vault), or `any`.
    #[serde(default)]
    status: Option<String>,
}

/// Which results a waiver accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepts {
    Fail,
    NotEvaluable,
    Any,
}

impl Accepts {
    fn covers(self, status: Status) -> bool {
        matches!(
            (self, status),
            (Accepts::Fail | Accepts::Any, Status::Fail)
                | (Accepts::NotEvaluable | Accepts::Any, Status::NotEvaluable)
        )
    }
}

/// One waiver, checked.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub rule: String,
    pub resource: String,
    /// The rule id glob (as `--rule`).
    rule_pattern: glob::Pattern,
    /// Matched against the ARM id, or the resource name when it has no `/`.
    pattern: glob::Pattern,
    by_name: bool,
    discriminator: Option<glob::Pattern>,
    accepts: Accepts,
    pub justification: String,
    pub owner: String,
    pub expires: NaiveDate,
    /// Line of the entry in the file.
    pub line: usize,
}

pub use crate::finding::WaiverRef;

/// The outcome of applying waivers, for the reports.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaiverReport {
    pub applied: usize,
    /// `file:line: rule resource (expired DATE)`.
    pub expired: Vec<String>,
    /// `file:line: rule resource`.
    pub unmatched: Vec<String>,
}

const OPTS: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: false,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

/// Lines where the top-level list items of `waivers:` start.
fn item_lines(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut indent: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix('-')
            && (rest.is_empty() || rest.starts_with(' '))
        {
            let ind = line.len() - trimmed.len();
            if indent.is_none_or(|d| ind == d) {
                indent = Some(ind);
                out.push(i + 1);
            }
        }
    }
    out
}

/// The line where flow brackets (`[`, `{`) first nest deeper than `max`
/// (counted over the whole text, quotes included: an over-estimate that
/// only a pathological file reaches). One pass.
fn too_deep(text: &str, max: usize) -> Option<usize> {
    let (mut depth, mut line) = (0usize, 1usize);
    for c in text.chars() {
        match c {
            '\n' => line += 1,
            '[' | '{' => {
                depth += 1;
                if depth > max {
                    return Some(line);
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Reads and checks a waivers file: rules that match no loaded rule, bad
/// dates and bad globs are errors naming the file and line. `rule` is a
/// glob as in `--rule`; a waiver whose rules are all loaded but none of them
/// selected (a shared file under `--rule`) is left out, not an error.
pub fn load(path: &Path, known_rules: &[&str], selected: &[&str]) -> Result<Vec<Waiver>, Error> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Read {
        path: origin.clone(),
        reason: crate::error::io_reason(&e),
    })?;
    let bad = |line: usize, message: String| Error::Policy(format!("{origin}:{line}: {message}"));
    // The YAML parser's cost grows faster than linearly with nesting; a
    // waivers file is a flat list, so deep nesting is refused up front.
    if let Some(line) = too_deep(&text, 16) {
        return Err(bad(
            line,
            "not a valid waivers file: brackets nested more than 16 deep (a waivers file is a flat list of entries)".into(),
        ));
    }
    let file: File = serde_norway::from_str(&text).map_err(|e| {
        let line = e.location().map_or(1, |l| l.line());
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        bad(line, format!("not a valid waivers file: {msg}"))
    })?;
    let lines = item_lines(&text);
    let mut out = Vec::new();
    for (i, e) in file.waivers.into_iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        let rule_pattern = glob::Pattern::new(e.rule.trim()).map_err(|err| {
            bad(
                line,
                format!("rule {:?} is not a valid glob: {err}", e.rule),
            )
        })?;
        let rule_opts = glob::MatchOptions {
            require_literal_separator: false,
            ..OPTS
        };
        if !known_rules
            .iter()
            .any(|r| rule_pattern.matches_with(r, rule_opts))
        {
            return Err(bad(
                line,
                format!(
                    "waiver names unknown rule {:?} (known: {})",
                    e.rule,
                    known_rules.join(", ")
                ),
            ));
        }
        if !selected
            .iter()
            .any(|r| rule_pattern.matches_with(r, rule_opts))
        {
            tracing::debug!(
                "{origin}:{line}: waiver for {} left out: no selected rule",
                e.rule
            );
            continue;
        }
        let expires = NaiveDate::parse_from_str(e.expires.trim(), "%Y-%m-%d").map_err(|_| {
            bad(
                line,
                format!("expires {:?} is not a date such as 2027-03-31", e.expires),
            )
        })?;
        for (what, v) in [("justification", &e.justification), ("owner", &e.owner)] {
            if v.trim().is_empty() {
                return Err(bad(line, format!("waiver has an empty {what}")));
            }
        }
        let resource = e.resource.trim();
        if resource.is_empty() {
            return Err(bad(line, "waiver has an empty resource".into()));
        }
        let by_name = !resource.contains('/');
        let pattern = glob::Pattern::new(resource).map_err(|err| {
            bad(
                line,
                format!("resource {:?} is not a valid glob: {err}", e.resource),
            )
        })?;
        let discriminator = match &e.discriminator {
            Some(d) => Some(glob::Pattern::new(d).map_err(|err| {
                bad(
                    line,
                    format!("discriminator {d:?} is not a valid glob: {err}"),
                )
            })?),
            None => None,
        };
        let accepts = match e.status.as_deref().map(str::trim) {
            None | Some("fail") => Accepts::Fail,
            Some("not_evaluable") => Accepts::NotEvaluable,
            Some("any") => Accepts::Any,
            Some(other) => {
                return Err(bad(
                    line,
                    format!("status {other:?} must be fail, not_evaluable or any"),
                ));
            }
        };
        out.push(Waiver {
            accepts,
            rule: e.rule,
            resource: e.resource,
            rule_pattern,
            pattern,
            by_name,
            discriminator,
            justification: e.justification,
            owner: e.owner,
            expires,
            line,
        });
    }
    Ok(out)
}

/// A discriminator glob matches the whole discriminator, or, when it has no
/// `|`, the caller IP after an `identity|IP` discriminator's last `|`.
fn discriminator_matches(pattern: &glob::Pattern, discriminator: &str) -> bool {
    pattern.matches_with(discriminator, OPTS)
        || (!pattern.as_str().contains('|')
            && discriminator
                .rsplit_once('|')
                .is_some_and(|(_, ip)| pattern.matches_with(ip, OPTS)))
}

/// Marks the failing findings each live waiver covers; `today` decides expiry.
pub fn apply(
    findings: &mut [Finding],
    waivers: &[Waiver],
    origin: &str,
    today: NaiveDate,
) -> WaiverReport {
    let mut report = WaiverReport::default();
    let mut used = vec![false; waivers.len()];
    // Failing results, and not-evaluable ones: a design that can never be
    // evaluated (a storage-only vault) is accepted the same way.
    for f in findings
        .iter_mut()
        .filter(|f| matches!(f.status, Status::Fail | Status::NotEvaluable))
    {
        for (i, w) in waivers.iter().enumerate() {
            let target = if w.by_name {
                &f.resource.name
            } else {
                &f.resource.id
            };
            let matches = w.accepts.covers(f.status)
                && w.rule_pattern.matches_with(&f.rule_id, OPTS)
                && w.pattern.matches_with(target, OPTS)
                && w.discriminator
                    .as_ref()
                    .is_none_or(|d| discriminator_matches(d, &f.discriminator));
            if !matches {
                continue;
            }
            used[i] = true;
            if w.expires < today {
                continue;
            }
            f.waiver = Some(WaiverRef {
                justification: w.justification.clone(),
                owner: w.owner.clone(),
                expires: w.expires.to_string(),
                source: format!("{origin}:{}", w.line),
            });
            report.applied += 1;
            break;
        }
    }
    for (i, w) in waivers.iter().enumerate() {
        if w.expires < today {
            report.expired.push(format!(
                "{origin}:{}: {} {} (expired {}, owner {})",
                w.line, w.rule, w.resource, w.expires, w.owner
            ));
        } else if !used[i] {
            report
                .unmatched
                .push(format!("{origin}:{}: {} {}", w.line, w.rule, w.resource));
        }
    }
    report
}

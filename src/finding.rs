//! The result model: every (rule, resource) pair ends as one or more
//! findings that pass, fail or could not be evaluated, with evidence and a
//! fingerprint that stays stable across runs.
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A rule's verdict on one resource (or one caller of it).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fail,
    NotEvaluable,
    Pass,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotEvaluable => "not_evaluable",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "pass" => Some(Status::Pass),
            "fail" => Some(Status::Fail),
            "not_evaluable" => Some(Status::NotEvaluable),
            _ => None,
        }
    }
}

/// Severity, lowest first so that `>=` reads as "at least".
#[derive(
    Debug,
    Clone,
    Copy,
    Serialize,
    Deserialize,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    /// GitHub's `security-severity` (avoiding the band edges).
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "2.0",
        }
    }
}

/// The resource a finding is about.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// ARM id as Azure returned it.
    pub id: String,
    /// ARM type, e.g. `Microsoft.KeyVault/vaults`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub subscription_id: String,
    /// Where the resource is declared, for a resource planned by a template
    /// (`kvaudit iac`); none for a live one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

impl Resource {
    /// Its name, and where it is declared when a template declares it.
    pub fn display_name(&self) -> std::borrow::Cow<'_, str> {
        match &self.source {
            Some(src) => format!("{} ({src})", self.name).into(),
            None => self.name.as_str().into(),
        }
    }
}

/// A file and 1-based line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    pub file: String,
    pub line: usize,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Evidence a rule gave for its verdict, kept as compact JSON text: a
/// finding per rule per vault adds up, and the text is a fraction of a
/// parsed tree's size. Shared, not copied, by the findings of resources a
/// `memo_key` rule judged alike (an alert rule's evidence is about 3 KB).
#[derive(Debug, Clone)]
pub struct Evidence(std::sync::Arc<serde_json::value::RawValue>);

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Evidence {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Evidence, D::Error> {
        Box::<serde_json::value::RawValue>::deserialize(d).map(|b| Evidence(b.into()))
    }
}

impl Evidence {
    pub fn from_json(text: String) -> Option<Evidence> {
        serde_json::value::RawValue::from_string(text)
            .ok()
            .map(|b| Evidence(b.into()))
    }

    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// The evidence as a JSON value (for reporters that embed it).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }
}

impl PartialEq for Evidence {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

/// One verdict.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub rule_id: String,
    pub severity: Severity,
    pub status: Status,
    /// Shared by every finding on the same resource.
    pub resource: std::sync::Arc<Resource>,
    /// What distinguishes several findings of one rule on one resource
    /// (a caller IP, an identity); empty when there is one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub discriminator: String,
    /// Shared by the findings of a memoised rule that carry the same text.
    pub message: std::sync::Arc<str>,
    /// Which of a rule's benchmark variants the result answers (e.g. `rbac`
    /// or `accessPolicies` for the CIS key-expiry controls), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// sha256(rule id, lower-case resource id, discriminator), written as hex.
    pub fingerprint: Fingerprint,
    /// The waiver that accepts this failing result, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<WaiverRef>,
    /// Against `--baseline`: new, updated or unchanged (failing results only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_state: Option<BaselineState>,
    /// Not evaluable now, and failing in the baseline (or kept open from a
    /// failing one since): the GitHub SARIF still reports it, so its alert
    /// stays open instead of closing as if fixed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failing_before: bool,
    /// The rule's remediation filled in with this resource's names (failing
    /// results of rules that have one; see [`crate::remediation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<std::sync::Arc<crate::remediation::Fix>>,
}

impl Finding {
    pub fn fingerprint_of(rule_id: &str, resource_id: &str, discriminator: &str) -> Fingerprint {
        let mut h = Sha256::new();
        h.update(rule_id.as_bytes());
        h.update([0]);
        h.update(resource_id.to_ascii_lowercase().as_bytes());
        h.update([0]);
        h.update(discriminator.as_bytes());
        Fingerprint(h.finalize().into())
    }
}

/// A finding's SHA-256 fingerprint: 32 bytes, written as 64 lower-case hex
/// digits (a `String` of them cost 88 bytes a finding, 2 million findings at
/// 100,000 vaults).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The 64 hex digits.
    pub fn hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for b in self.0 {
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
        out
    }

    /// Reads 64 hex digits (either case).
    pub fn parse(text: &str) -> Option<Fingerprint> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(Fingerprint(out))
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint({})", self.hex())
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Fingerprint, D::Error> {
        let text = String::deserialize(d)?;
        Fingerprint::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is not a fingerprint (64 hex digits)"))
        })
    }
}

/// Counts by status, and failing findings by severity.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub resources: usize,
    pub rules: usize,
    pub pass: usize,
    pub fail: usize,
    pub not_evaluable: usize,
    /// Failing, unwaived, by severity.
    pub fail_by_severity: std::collections::BTreeMap<String, usize>,
    /// Failing results a live waiver accepts (not counted in `fail`).
    pub waived: usize,
    /// Failing, unwaived results new since the baseline (with `--baseline`).
    pub new: usize,
}

impl Summary {
    pub fn of(findings: &[Finding], resources: usize, rules: usize) -> Summary {
        let mut s = Summary {
            resources,
            rules,
            ..Default::default()
        };
        for f in findings {
            match f.status {
                Status::Pass => s.pass += 1,
                Status::NotEvaluable if f.waiver.is_some() => s.waived += 1,
                Status::NotEvaluable => s.not_evaluable += 1,
                Status::Fail if f.waiver.is_some() => s.waived += 1,
                Status::Fail => {
                    s.fail += 1;
                    if f.baseline_state == Some(BaselineState::New) {
                        s.new += 1;
                    }
                    *s.fail_by_severity
                        .entry(f.severity.as_str().to_string())
                        .or_default() += 1;
                }
            }
        }
        s
    }
}

impl Finding {
    /// A failing result the gate counts: not waived, at or above `fail_on`,
    /// and new when only new results gate.
    pub fn gates(&self, fail_on: Severity, only_new: bool) -> bool {
        self.status == Status::Fail
            && self.waiver.is_none()
            && self.severity >= fail_on
            && (!only_new || self.baseline_state.is_none_or(|s| s == BaselineState::New))
    }
}

/// What not-evaluable results do to the exit code (`--not-evaluable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NotEvaluableGate {
    /// Exit 3 when one is not waived.
    Fail,
    /// Never change the exit code; they are still reported.
    Warn,
    /// Exit 3 only for those new since the baseline (a full-profile SARIF,
    /// the only one that records them).
    New,
}

impl Finding {
    /// A not-evaluable result the gate counts under `gate`.
    pub fn gates_not_evaluable(&self, gate: NotEvaluableGate) -> bool {
        self.status == Status::NotEvaluable
            && self.waiver.is_none()
            && match gate {
                NotEvaluableGate::Fail => true,
                NotEvaluableGate::Warn => false,
                NotEvaluableGate::New => {
                    self.baseline_state.is_none_or(|s| s == BaselineState::New)
                }
            }
    }
}

/// The exit-code decision of `eval` and `scan`: 1 when a failing, unwaived
/// finding is at or above `fail_on` (and new, with `only_new`), else 3 when
/// a not-evaluable result counts under `not_evaluable`, else 0.
pub fn exit_code(
    findings: &[Finding],
    fail_on: Severity,
    only_new: bool,
    not_evaluable: NotEvaluableGate,
) -> i32 {
    if findings.iter().any(|f| f.gates(fail_on, only_new)) {
        1
    } else if findings
        .iter()
        .any(|f| f.gates_not_evaluable(not_evaluable))
    {
        3
    } else {
        0
    }
}

/// SARIF `baselineState`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub enum BaselineState {
    New,
    Updated,
    Unchanged,
    Absent,
}

impl BaselineState {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Updated => "updated",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Absent => "absent",
        }
    }
}

/// What a waived finding carries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WaiverRef {
    pub justification: String,
    pub owner: String,
    pub expires: String,
    /// `file:line` of the waiver.
    pub source: String,
}

/// A text as a sentence (SARIF messages end with a full stop).
pub fn sentence(s: &str) -> String {
    let t = s.trim_end();
    if t.ends_with(['.', '!', '?']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

/// Longest SARIF result message: details go to the JSON report.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// A result's message text: what the SARIF shows and what baselines
/// compare. At most [`MAX_MESSAGE_BYTES`]; the JSON report has it whole.
/// The message of a not-evaluable result that was failing in the baseline:
/// said first, then the reason (cut like any result message).
pub fn not_confirmed_message(f: &Finding) -> String {
    message_text(&format!(
        "{}: not evaluable in this run, failing in the baseline (the alert stays open until a run can tell): {}",
        f.resource.name, f.message
    ))
}

pub fn result_message(f: &Finding) -> String {
    message_text(&format!("{}: {}", f.resource.name, f.message))
}

/// A result message: one sentence, cut to [`MAX_MESSAGE_BYTES`].
fn message_text(raw: &str) -> String {
    let text = sentence(raw);
    if text.len() <= MAX_MESSAGE_BYTES {
        return text;
    }
    let mut cut = MAX_MESSAGE_BYTES - " … (kvaudit --format json has the rest)".len();
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{} … (kvaudit --format json has the rest)", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::{Finding, Fingerprint};

    /// The digest of the documented fields, written as before it was kept as
    /// bytes: 64 lower-case hex digits, read back in either case.
    #[test]
    fn fingerprints_are_written_and_read_as_hex() {
        let f = Finding::fingerprint_of("kv/a", "/SUBSCRIPTIONS/S/vaults/KV", "10.0.0.1");
        assert_eq!(
            f,
            Finding::fingerprint_of("kv/a", "/subscriptions/s/vaults/kv", "10.0.0.1")
        );
        // sha256("kv/a\0/subscriptions/s/vaults/kv\010.0.0.1"), by Python's hashlib.
        assert_eq!(f.hex(), EXPECTED);
        assert_eq!(f.to_string(), EXPECTED);
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            format!("\"{EXPECTED}\"")
        );
        let back: Fingerprint =
            serde_json::from_str(&format!("\"{}\"", EXPECTED.to_uppercase())).unwrap();
        assert_eq!(back, f);
        for bad in ["", "00", &EXPECTED[1..], &format!("{}g", &EXPECTED[1..])] {
            assert!(Fingerprint::parse(bad).is_none(), "{bad:?}");
            assert!(serde_json::from_str::<Fingerprint>(&format!("\"{bad}\"")).is_err());
        }
    }

    const EXPECTED: &str = "a2be45e28ca80ec108f5ffb8cee8be343a20ebbba021efc980bbc195fd97f13a";
}

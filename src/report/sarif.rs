//! SARIF 2.1.0 for GitHub code scanning: failing results only, each anchored
//! to a stable repo-relative pseudo path derived from the resource id, the
//! ARM id as a logical location, and a fingerprint from rule + resource +
//! discriminator. Not-evaluable checks become tool execution notifications.
use std::collections::BTreeMap;

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, ReportingDescriptorReference, Result as SarifResult, ResultKind,
    ResultLevel, Run, RunAutomationDetails, Sarif, Tool, ToolComponent,
};

use super::{Report, SarifProfile};
use crate::finding::{Finding, Severity, Status};
use crate::policy::engine::Rule;

/// GitHub code scanning rejects a run with more results than this.
pub const GITHUB_MAX_RESULTS: usize = 25_000;

/// The OASIS schema URL (the errata01 schema that validators use).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// `azure/subscriptions/<sub>/resourcegroups/<rg>/providers/microsoft.keyvault/vaults/<name>`:
/// lower case, percent-encoded, never absolute.
pub fn pseudo_path(resource_id: &str) -> String {
    let id = resource_id.trim().trim_matches('/').to_ascii_lowercase();
    let mut out = String::from("azure/");
    for b in id.bytes() {
        let c = b as char;
        if c.is_ascii_alphanumeric() || "-._~/".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

fn result_level(sev: Severity) -> ResultLevel {
    match sev {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low => ResultLevel::Note,
    }
}

/// `kv/audit-logging` → `KvAuditLogging`.
fn rule_name(id: &str) -> String {
    id.split(['/', '-', '_', '.'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Tags GitHub code scanning displays per rule.
pub const MAX_TAGS: usize = 10;

use crate::finding::sentence;
pub use crate::finding::{MAX_MESSAGE_BYTES, result_message};

/// `cis-azure-6.0/8.3.9` → `[6, 0]` (the benchmark version as numbers).
fn version_key(tag: &str) -> Vec<u64> {
    tag.split('/')
        .next()
        .and_then(|b| b.rsplit('-').next())
        .map(|v| v.split('.').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_default()
}

fn descriptor(rule: &Rule, severity: Severity) -> ReportingDescriptor {
    let m = &rule.metadata;
    // GitHub shows 10 tags: `security` (what makes it a security alert),
    // then the benchmarks' controls newest version first, then the rest.
    let mut compliance = m.compliance_tags();
    compliance.sort_by_key(|t| std::cmp::Reverse(version_key(t)));
    let mut tags = vec!["security".to_string()];
    tags.extend(compliance);
    tags.push(format!("severity/{}", severity.as_str()));
    tags.extend(m.tags.iter().cloned());
    tags.extend(["azure".to_string(), "key-vault".to_string()]);
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| seen.insert(t.clone()));
    tags.truncate(MAX_TAGS);
    let mut props = BTreeMap::new();
    props.insert(
        "security-severity".to_string(),
        json!(severity.security_severity()),
    );
    props.insert("precision".to_string(), json!("very-high"));
    if !m.azure_policy.is_empty() {
        props.insert("azurePolicy".to_string(), json!(m.azure_policy));
    }
    let mut d = ReportingDescriptor::builder()
        .id(m.id.clone())
        .name(rule_name(&m.id))
        .short_description(
            MultiformatMessageString::builder()
                .text(sentence(&m.title))
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(sentence(&m.description))
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(m.help.clone())
                .markdown(m.markdown.clone())
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(severity)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(tags)
                .additional_properties(props)
                .build(),
        )
        .build();
    if rule.builtin {
        d.help_uri = Some(format!(
            "{}#{}",
            super::rules_doc::RULES_DOC_URL,
            super::rules_doc::anchor(&m.id)
        ));
    }
    d
}

fn logical(f: &Finding) -> LogicalLocation {
    LogicalLocation::builder()
        .fully_qualified_name(f.resource.id.clone())
        .name(f.resource.name.clone())
        .kind("resource")
        .build()
}

/// A result's message text (also what baselines compare).
fn result(f: &Finding, index: i64, suppressions: bool, controls: Option<String>) -> SarifResult {
    // GitHub: failing results only. Full profile: pass and open (not evaluable) too.
    let (kind, level) = match f.status {
        Status::Fail => (ResultKind::Fail, result_level(f.severity)),
        Status::Pass => (ResultKind::Pass, ResultLevel::None),
        // Kept in the GitHub profile only when it was failing before: a
        // warning, so its alert stays open and says why it is not confirmed.
        Status::NotEvaluable if f.failing_before => (ResultKind::Open, ResultLevel::Warning),
        Status::NotEvaluable => (ResultKind::Open, ResultLevel::None),
    };
    // A resource planned by a template is where the template declares it
    // (GitHub annotates that line of the pull request); a live one has a
    // stable pseudo path.
    let (uri, line) = match &f.resource.source {
        Some(src) => (src.file.clone(), i64::try_from(src.line).unwrap_or(1)),
        None => (pseudo_path(&f.resource.id), 1),
    };
    let physical = PhysicalLocation::builder()
        .artifact_location(ArtifactLocation::builder().uri(uri).build())
        .region(Region::builder().start_line(line).build())
        .build();
    let location = Location::builder()
        .physical_location(physical)
        .logical_locations(vec![logical(f)])
        .build();
    let fingerprint = f.fingerprint.hex();
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(
        "primaryLocationLineHash".to_string(),
        format!("{}:1", &fingerprint[..16]),
    );
    fingerprints.insert(
        "kvauditFinding/v1".to_string(),
        fingerprint[..32].to_string(),
    );
    let mut props = BTreeMap::new();
    props.insert("azureResourceId".to_string(), json!(f.resource.id));
    props.insert("resourceType".to_string(), json!(f.resource.kind));
    props.insert(
        "subscriptionId".to_string(),
        json!(f.resource.subscription_id),
    );
    props.insert("severity".to_string(), json!(f.severity.as_str()));
    if !f.discriminator.is_empty() {
        props.insert("discriminator".to_string(), json!(f.discriminator));
    }
    if let Some(c) = controls {
        // The control ids of the `--benchmark` this result answers.
        props.insert("benchmarkControls".to_string(), json!(c));
    }
    if let Some(fix) = &f.fix {
        // The remediation with this resource's names (az CLI).
        props.insert("fix".to_string(), json!(fix.az));
        if let Some(b) = &fix.bicep {
            // The same fix as a Bicep module, and the command that deploys it.
            props.insert("fixBicep".to_string(), json!(b.module));
            props.insert("fixBicepDeploy".to_string(), json!(b.deploy));
        }
    }
    let message = if f.failing_before {
        props.insert("failingBefore".to_string(), json!(true));
        crate::finding::not_confirmed_message(f)
    } else {
        result_message(f)
    };
    // The evidence itself stays in the JSON report: GitHub ignores result
    // properties, and with it a large tenant's SARIF grows past upload limits.
    let mut r = SarifResult::builder()
        .rule_id(f.rule_id.clone())
        .rule_index(index)
        .kind(kind)
        .level(level)
        .message(Message::builder().text(message).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build();
    if let Some(state) = f.baseline_state {
        r.baseline_state = Some(json!(state.as_str()));
    }
    if suppressions {
        // Per run, suppressions are all present or all absent: [] = not suppressed.
        r.suppressions = Some(match &f.waiver {
            Some(w) => vec![
                serde_sarif::sarif::Suppression::builder()
                    .kind(json!("external"))
                    .status(json!("accepted"))
                    .justification(format!(
                        "{} (owner {}, expires {}, {})",
                        w.justification, w.owner, w.expires, w.source
                    ))
                    .build(),
            ],
            None => vec![],
        });
    }
    r
}

fn notification(f: &Finding, index: i64) -> Notification {
    Notification::builder()
        .level(json!("warning"))
        .message(
            Message::builder()
                .text(sentence(&format!(
                    "{} not evaluable on {}: {}",
                    f.rule_id, f.resource.id, f.message
                )))
                .build(),
        )
        .descriptor(
            ReportingDescriptorReference::builder()
                .id("kvaudit/not-evaluable")
                .build(),
        )
        .associated_rule(
            ReportingDescriptorReference::builder()
                .id(f.rule_id.clone())
                .index(index)
                .build(),
        )
        .locations(vec![
            Location::builder()
                .logical_locations(vec![logical(f)])
                .build(),
        ])
        .build()
}

/// Builds the SARIF log (GitHub profile) as a JSON value.
pub fn to_value(report: &Report) -> serde_json::Value {
    serde_json::to_value(build(report)).expect("SARIF serialises")
}

fn build(report: &Report) -> Sarif {
    build_with(report, true)
}

fn index_in(report: &Report, id: &str) -> i64 {
    report
        .rules
        .iter()
        .position(|r| r.metadata.id == id)
        .unwrap_or(0) as i64
}

/// The results, in order: the findings the profile holds, then (full
/// profile) the baseline's failing results that are gone.
fn results<'a>(report: &'a Report) -> impl Iterator<Item = SarifResult> + 'a {
    report
        .findings
        .iter()
        .filter(move |f| kept(report, f))
        .map(move |f| current_result(report, f))
        .chain(absent_results(report))
}

/// Whether the profile holds `f`. GitHub opens an alert for any result it
/// gets: failing ones only. A waived failing result stays in, marked
/// suppressed, so that the alert is dismissed (the action runs
/// advanced-security/dismiss-alerts) instead of closing as if it had been
/// fixed. A not-evaluable result that was failing in the baseline stays in
/// too (kind open, level warning): its alert stays open, saying it could not
/// be confirmed, instead of closing as if fixed.
fn kept(report: &Report, f: &Finding) -> bool {
    report.sarif_profile == SarifProfile::Full || f.status == Status::Fail || f.failing_before
}

fn current_result(report: &Report, f: &Finding) -> SarifResult {
    result(
        f,
        index_in(report, &f.rule_id),
        report.waivers_used,
        report.controls_of(f),
    )
}

/// The full profile's baseline results that are gone.
fn absent_results<'a>(report: &'a Report) -> impl Iterator<Item = SarifResult> + 'a {
    let full = report.sarif_profile == SarifProfile::Full;
    report
        .absent
        .iter()
        .filter(move |_| full)
        .filter_map(move |prev| {
            let mut v = prev.result.clone();
            v["baselineState"] = json!("absent");
            v["ruleIndex"] = json!(index_in(report, &prev.rule_id));
            if report.waivers_used {
                v["suppressions"] = json!([]);
            }
            serde_json::from_value::<SarifResult>(v).ok()
        })
}

fn build_with(report: &Report, with_results: bool) -> Sarif {
    let severity_of = |r: &Rule| {
        report
            .findings
            .iter()
            .find(|f| f.rule_id == r.metadata.id)
            .map_or(r.metadata.severity, |f| f.severity)
    };
    let rules: Vec<ReportingDescriptor> = report
        .rules
        .iter()
        .map(|r| descriptor(r, severity_of(r)))
        .collect();
    let index_of = |id: &str| index_in(report, id);
    let results: Vec<SarifResult> = if with_results {
        results(report).collect()
    } else {
        vec![]
    };
    let notifications: Vec<Notification> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::NotEvaluable)
        .map(|f| notification(f, index_of(&f.rule_id)))
        .collect();
    let driver = ToolComponent::builder()
        .name("kvaudit")
        .full_name(format!(
            "kvaudit {} Azure Key Vault auditor",
            env!("CARGO_PKG_VERSION")
        ))
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri(env!("CARGO_PKG_REPOSITORY"))
        .rules(rules)
        .build();
    let mut inv_props = BTreeMap::new();
    inv_props.insert("inventory".to_string(), json!(report.origin));
    inv_props.insert(
        "inventoryGeneratedAt".to_string(),
        json!(report.generated_at),
    );
    inv_props.insert(
        "notEvaluable".to_string(),
        json!(report.summary.not_evaluable),
    );
    inv_props.insert("passed".to_string(), json!(report.summary.pass));
    if let Some(b) = &report.benchmark {
        inv_props.insert("benchmark".to_string(), json!(b));
    }
    let invocation = Invocation::builder()
        .execution_successful(true)
        .start_time_utc(report.started_at.clone())
        .end_time_utc(report.finished_at.clone())
        .tool_execution_notifications(notifications)
        .properties(
            PropertyBag::builder()
                .additional_properties(inv_props)
                .build(),
        )
        .build();
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .invocations(vec![invocation])
        .column_kind(json!("unicodeCodePoints"))
        .build();
    if let Some(category) = &report.category {
        // `category/` : a category with no run id, so PR and nightly runs of the
        // same category close each other's alerts.
        run.automation_details = Some(
            RunAutomationDetails::builder()
                .id(format!("{}/", category.trim_end_matches('/')))
                .build(),
        );
    }
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    write(report, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("SARIF is UTF-8")
}

/// Streams the SARIF log to `w`.
/// Streams the log: the run is serialised without its results, which are
/// then written one at a time where its empty `results` array was, so a
/// large tenant's results are never all held as SARIF objects at once.
pub fn write(report: &Report, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let skeleton =
        serde_json::to_string_pretty(&build_with(report, false)).map_err(std::io::Error::other)?;
    const MARK: &str = "\"results\": []";
    let at = skeleton
        .find(MARK)
        .ok_or_else(|| std::io::Error::other("the SARIF run has no results array"))?;
    w.write_all(&skeleton.as_bytes()[..at])?;
    w.write_all(b"\"results\": [")?;
    let kept: Vec<&Finding> = report.findings.iter().filter(|f| kept(report, f)).collect();
    super::write_in_parallel(w, &kept, b"\n", b",\n", |f, buf| {
        serde_json::to_writer(buf, &current_result(report, f)).map_err(std::io::Error::other)
    })?;
    let mut first = kept.is_empty();
    for r in absent_results(report) {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *w, &r)?;
        first = false;
    }
    w.write_all(if first { b"]" } else { b"\n]" })?;
    w.write_all(&skeleton.as_bytes()[at + MARK.len()..])?;
    w.write_all(b"\n")
}

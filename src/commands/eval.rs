//! `kvaudit eval`: inventory in, findings out.
use std::io::Read;

use anyhow::{Context, Result};
use chrono::{SecondsFormat, Utc};
use tracing::info;

use crate::cli::EvalArgs;
use kvaudit::finding::Summary;
use kvaudit::inventory::Inventory;
use kvaudit::report::{self, Report};

pub fn run(args: &EvalArgs, verbose: u8) -> Result<i32> {
    let (inventory, origin) = load(&args.input)?;
    let set = super::compile(&args.policies)?;
    info!(rules = set.rules().len(), "policies compiled");
    evaluate_and_report(&set, inventory, &origin, &args.output, verbose, &|_, _| {})
}

/// What a command does to the findings after evaluation and before triage
/// (`iac` anchors them at the templates).
pub type Adjust<'a> =
    &'a dyn Fn(&mut [kvaudit::finding::Finding], &[kvaudit::policy::engine::Rule]);

/// The inventory of `path` (`-`: standard input) or the demo, and where it came from.
pub fn load(input: &crate::cli::InventoryArgs) -> Result<(Inventory, String)> {
    let loading = Utc::now();
    let path = input.inventory.as_deref();
    let (inventory, origin) = if input.demo {
        (kvaudit::demo::inventory()?, "demo".to_string())
    } else {
        let path = path
            .context("no inventory given: pass an INVENTORY file (from `kvaudit scan --save-inventory`), `-` for standard input, or --demo for the built-in demo tenant")?;
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the inventory from standard input")?;
            (
                Inventory::from_json(&text, "<stdin>")?,
                "<stdin>".to_string(),
            )
        } else {
            (Inventory::load(path)?, path.display().to_string())
        }
    };
    info!(
        vaults = inventory.vaults.len(),
        subscriptions = inventory.subscriptions.len(),
        ms = (Utc::now() - loading).num_milliseconds(),
        "inventory loaded from {origin}"
    );
    Ok((inventory, origin))
}

/// The findings of `set` on `inventory`, adjusted, with their fixes filled
/// in. Evaluation releases each vault's collected parts once judged, so the
/// fixes' facts are read first.
pub fn evaluate_with_fixes(
    set: &kvaudit::policy::PolicySet,
    inventory: &mut Inventory,
    adjust: Adjust<'_>,
) -> Result<Vec<kvaudit::finding::Finding>> {
    let facts = kvaudit::remediation::Facts::of(inventory);
    let mut findings = set.evaluate_releasing(inventory)?;
    adjust(&mut findings, set.rules());
    let filling = std::time::Instant::now();
    kvaudit::remediation::apply(&mut findings, set.rules(), &facts);
    tracing::debug!("fixes filled in {} ms", filling.elapsed().as_millis());
    Ok(findings)
}

/// Shared by `eval`, `scan` and `iac`: evaluate, render, write, pick the exit code.
pub fn evaluate_and_report(
    set: &kvaudit::policy::PolicySet,
    mut inventory: Inventory,
    origin: &str,
    out: &crate::cli::OutputArgs,
    verbose: u8,
    adjust: Adjust<'_>,
) -> Result<i32> {
    // Where each report goes, and waivers and baseline, first: a bad one
    // must not cost an evaluation.
    let destinations = destinations(out)?;
    let known: Vec<&str> = set.rules().iter().map(|r| r.metadata.id.as_str()).collect();
    let waivers = match &out.waivers {
        Some(p) => Some((
            kvaudit::waiver::load(p, &set.loaded_rule_ids(), &known)?,
            p.display().to_string(),
        )),
        None => None,
    };
    let baseline = match &out.baseline {
        Some(p) => Some(kvaudit::baseline::Baseline::load(p)?),
        None => None,
    };
    let started = Utc::now();
    let mut findings = evaluate_with_fixes(set, &mut inventory, adjust)?;
    let finished = Utc::now();
    let triaged = kvaudit::triage::triage(
        &mut findings,
        &known,
        waivers.as_ref().map(|(w, o)| (w.as_slice(), o.as_str())),
        baseline.as_ref(),
        Utc::now().date_naive(),
        kvaudit::triage::Policy {
            fail_on: out.fail_on,
            only_new: out.fail_on_new,
            not_evaluable: out.not_evaluable,
        },
    );
    let waiver_report = triaged.waivers.clone();
    if let Some(r) = &waiver_report {
        for e in &r.expired {
            tracing::warn!("expired waiver, no longer applied: {e}");
        }
        for u in &r.unmatched {
            tracing::warn!("waiver matched no failing result: {u}");
        }
    }
    let absent = triaged.absent.clone();
    info!(
        findings = findings.len(),
        ms = (finished - started).num_milliseconds(),
        "evaluated"
    );
    let vaults = inventory.vaults.len();
    let generated_at = inventory.generated_at.clone();
    // The findings are all the reports need; free the inventory before rendering.
    drop(inventory);
    let mut report = Report {
        summary: Summary::of(&findings, vaults, set.rules().len()),
        findings: &findings,
        rules: set.rules(),
        origin: origin.to_string(),
        generated_at,
        started_at: started.to_rfc3339_opts(SecondsFormat::Millis, true),
        finished_at: finished.to_rfc3339_opts(SecondsFormat::Millis, true),
        show_passed: out.show_passed,
        sarif_profile: out.sarif_profile,
        category: out.category.clone(),
        waivers_used: waiver_report.is_some(),
        waivers: waiver_report.clone(),
        absent: &absent,
        baseline_used: triaged.baseline_used,
        benchmark: set.benchmark().map(str::to_string),
        gate: triaged.gate,
        view: report::table::View {
            // Set for each destination below (a terminal's width or a file's).
            width: report::table::DEFAULT_WIDTH,
            group_by: out.group_by,
            quiet: out.quiet,
            details: verbose > 0,
        },
    };
    if out.format.contains(&report::Format::Sarif)
        && report.summary.fail > report::sarif::GITHUB_MAX_RESULTS
    {
        tracing::warn!(
            "the SARIF holds {} failing results; GitHub code scanning rejects more than {} per run: upload one subscription per run (kvaudit scan --subscription)",
            report.summary.fail,
            report::sarif::GITHUB_MAX_RESULTS
        );
    }
    for (format, path) in &destinations {
        let color = super::use_color(out.color, path.is_some());
        report.view.width = report::table::View::width_for(path.is_none());
        let rendered = Utc::now();
        super::emit_with(path.as_deref(), |w| {
            report::write(*format, &report, color, w)
        })?;
        info!(
            ms = (Utc::now() - rendered).num_milliseconds(),
            "{format:?} report written"
        );
        if let Some(p) = path {
            eprintln!(
                "kvaudit: wrote {} ({} failing, {} not evaluable, {} passed)",
                p.display(),
                report.summary.fail,
                report.summary.not_evaluable,
                report.summary.pass
            );
        }
    }
    if out.format.contains(&report::Format::Markdown)
        && let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty())
    {
        // In GitHub Actions the markdown summary also lands on the job's page.
        use std::io::Write;
        let text = report::render(report::Format::Markdown, &report, false);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&summary)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .with_context(|| {
                format!(
                    "GITHUB_STEP_SUMMARY {}: cannot append the summary",
                    summary.to_string_lossy()
                )
            })?;
    }
    Ok(report.gate.exit_code)
}

/// Each requested format with its file (`None`: standard output). Several
/// formats need `--output-dir`; directories are created here, before the
/// evaluation, so a path that cannot be written costs nothing.
fn destinations(
    out: &crate::cli::OutputArgs,
) -> Result<Vec<(report::Format, Option<std::path::PathBuf>)>> {
    let mut formats: Vec<report::Format> = Vec::new();
    for f in &out.format {
        if !formats.contains(f) {
            formats.push(*f);
        }
    }
    let create = |dir: &std::path::Path| {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the directory", dir.display()))
    };
    match (&out.output, &out.output_dir) {
        (_, Some(dir)) => {
            create(dir)?;
            Ok(formats
                .into_iter()
                .map(|f| (f, Some(dir.join(f.file_name()))))
                .collect())
        }
        (output, None) => {
            if formats.len() > 1 {
                anyhow::bail!(
                    "--format {}: several formats need --output-dir DIR (one file each)",
                    out.format
                        .iter()
                        .map(|f| format!("{f:?}").to_ascii_lowercase())
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
            if let Some(parent) = output
                .as_deref()
                .and_then(|p| p.parent())
                .filter(|p| !p.as_os_str().is_empty())
            {
                create(parent)?;
            }
            Ok(formats.into_iter().map(|f| (f, output.clone())).collect())
        }
    }
}

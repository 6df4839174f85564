//! `kvaudit fix`: a reviewable az CLI script for the failing results, with
//! the inventory's real names filled in. It never runs anything.
use anyhow::{Context, Result};
use chrono::Utc;

use crate::cli::{FixArgs, FixFormat};

pub fn run(args: &FixArgs) -> Result<i32> {
    if args.format == FixFormat::Bicep && args.output_dir.is_none() {
        anyhow::bail!(
            "--format bicep writes main.bicep and modules/: give a directory with --output-dir DIR"
        );
    }
    if args.format == FixFormat::Script && args.output_dir.is_some() {
        anyhow::bail!(
            "--output-dir is for --format bicep; the script goes to --output FILE or standard output"
        );
    }
    let (mut inventory, origin) = super::eval::load(&args.input)?;
    let set = super::compile(&args.policies)?;
    let known: Vec<&str> = set.rules().iter().map(|r| r.metadata.id.as_str()).collect();
    let waivers = match &args.waivers {
        Some(p) => Some((
            kvaudit::waiver::load(p, &set.loaded_rule_ids(), &known)?,
            p.display().to_string(),
        )),
        None => None,
    };
    let mut findings = super::eval::evaluate_with_fixes(&set, &mut inventory, &|_, _| {})?;
    if let Some((w, o)) = &waivers {
        // Waived results are accepted: no fix for them.
        kvaudit::waiver::apply(&mut findings, w, o, Utc::now().date_naive());
    }
    if let Some(dir) = &args.output_dir {
        let files = kvaudit::remediation::bicep_files(&findings, set.rules(), &origin);
        for (rel, text) in &files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        eprintln!(
            "kvaudit: wrote {} and {} module(s) in {} to review; kvaudit deployed nothing",
            dir.join("main.bicep").display(),
            files.len() - 1,
            dir.display()
        );
        return Ok(0);
    }
    let text = kvaudit::remediation::script(&findings, set.rules(), &origin);
    if let Some(parent) = args
        .output
        .as_deref()
        .and_then(|p| p.parent())
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    super::emit(&text, args.output.as_deref())?;
    if let Some(p) = &args.output {
        eprintln!(
            "kvaudit: wrote {} ({} command(s) to review; kvaudit ran none)",
            p.display(),
            text.lines()
                .filter(|l| l.starts_with("az ") || l.starts_with("# az "))
                .count()
        );
    }
    Ok(0)
}

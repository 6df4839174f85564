//! `kvaudit fix`: a reviewable az CLI script for the failing results, with
//! the inventory's real names filled in. It never runs anything.
use anyhow::Result;
use chrono::Utc;

use crate::cli::FixArgs;

pub fn run(args: &FixArgs) -> Result<i32> {
    let (inventory, origin) = super::eval::load(&args.input)?;
    let set = super::compile(&args.policies)?;
    let known: Vec<&str> = set.rules().iter().map(|r| r.metadata.id.as_str()).collect();
    let waivers = match &args.waivers {
        Some(p) => Some((
            kvaudit::waiver::load(p, &set.loaded_rule_ids(), &known)?,
            p.display().to_string(),
        )),
        None => None,
    };
    let mut findings = set.evaluate(&inventory)?;
    kvaudit::remediation::apply(&mut findings, set.rules(), &inventory);
    if let Some((w, o)) = &waivers {
        // Waived results are accepted: no fix for them.
        kvaudit::waiver::apply(&mut findings, w, o, Utc::now().date_naive());
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

//! `kvaudit iac`: templates in, the planned inventory judged, findings at
//! the lines that declare the vaults.
use anyhow::{Context, Result};

use crate::cli::IacArgs;
use kvaudit::iac::{self, Target};

pub fn run(args: &IacArgs, verbose: u8) -> Result<i32> {
    let mut set = super::compile(&args.policies)?;
    let target = Target {
        subscription_id: args.subscription_id.clone(),
        resource_group: args.resource_group.clone(),
        location: args.location.clone(),
        deployment: "main".into(),
    };
    let templates = iac::template_files(&args.paths).map_err(anyhow::Error::msg)?;
    if templates.is_empty() {
        anyhow::bail!(
            "{}: no ARM template found (JSON with a deploymentTemplate `$schema`); for Bicep run `az bicep build --file main.bicep` first",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let change = iac::declare(
        &templates,
        &args.parameters,
        args.terraform_dir.as_deref(),
        &target,
    )
    .map_err(anyhow::Error::msg)?;
    let live = match &args.live_inventory {
        Some(p) => Some(kvaudit::inventory::Inventory::load(p)?),
        None => None,
    };
    // Only rules whose inputs a change can declare judge it; the others
    // (audit logs, metrics, log search alerts) need the deployed tenant.
    let pricings_known = live.is_some()
        || change
            .declared
            .iter()
            .any(|d| d.kind.eq_ignore_ascii_case("Microsoft.Security/pricings"));
    let skipped = set.retain_rules(|r| iac::judges(r, pricings_known));
    if set.rules().is_empty() {
        anyhow::bail!(
            "none of the selected rules can judge a change: {} read what exists only once deployed (audit logs, metrics, subscription settings); `kvaudit policy list` shows each rule's inputs",
            skipped.join(", ")
        );
    }
    let planned =
        iac::planned::build(&change, &target, live.as_ref()).map_err(anyhow::Error::msg)?;
    if planned.inventory.vaults.is_empty() {
        eprintln!(
            "kvaudit: the change declares or touches no Key Vault ({} resource(s) in {} file(s)); nothing to judge",
            change.declared.len(),
            templates.len()
        );
    }
    if !change.deleted.is_empty() && live.is_none() {
        eprintln!(
            "kvaudit: {} deletion(s) in the plan are not judged: pass --live-inventory (from `kvaudit scan --save-inventory`) to see what they remove",
            change.deleted.len()
        );
    }
    let assumed = match &args.live_inventory {
        Some(p) => format!(
            "overlaid on the live inventory {} (subscription {})",
            p.display(),
            target.subscription_id
        ),
        None => "assumed: the subscription has only the activity-log alerts and action groups the change declares (pass --live-inventory for the tenant's)".into(),
    };
    eprintln!(
        "kvaudit: {} vault(s) judged from {} file(s), {} deletion(s); {} rule(s) judge a change{}; {assumed}",
        planned.inventory.vaults.len(),
        templates.len(),
        change.deleted.len(),
        set.rules().len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(
                " ({} need the deployed tenant: {})",
                skipped.len(),
                skipped.join(", ")
            )
        }
    );
    if let Some(path) = &args.save_inventory {
        std::fs::write(path, planned.inventory.to_json_pretty() + "\n")
            .with_context(|| format!("{}: cannot write the inventory", path.display()))?;
        eprintln!("kvaudit: saved the planned inventory to {}", path.display());
    }
    let origin = templates
        .iter()
        .map(|t| iac::shown_path(t))
        .collect::<Vec<_>>()
        .join(", ");
    let iac::planned::Planned { inventory, anchors } = planned;
    super::eval::evaluate_and_report(
        &set,
        inventory,
        &origin,
        &args.output,
        verbose,
        &|f, rules| anchors.apply(f, rules),
    )
}

//! `kvaudit scan`: collect the inventory from Azure, then evaluate and report
//! exactly as `eval` does.
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use tracing::info;

use crate::cli::ScanArgs;
use kvaudit::azure::client::ClientOptions;
use kvaudit::collect::{self, Scope, progress::Progress};

pub fn run(args: &ScanArgs, verbose: u8) -> Result<i32> {
    // Policies and data first: a broken policy should not cost a scan.
    let set = super::compile(&args.policies)?;
    let window = super::window(
        &args.since,
        args.until.as_deref(),
        set.data().challenge_seconds(),
        set.data().logs_arriving_days(),
    )?;
    let needs = collect::Needs(set.needs());
    info!(reads = ?needs.0, "what the selected rules read");
    let options = ClientOptions {
        concurrency: usize::from(args.concurrency),
        data_plane: args.data_plane,
        ..super::client_options(&args.azure)
    };
    let session = super::Session::connect(&args.azure, options)?;
    let client = session.client.clone();
    let scope = Scope {
        subscriptions: args.subscriptions.clone(),
        resource_group: args.resource_group.clone(),
        vaults: args.vaults.clone(),
    };
    let progress = Progress::new(verbose == 0);
    let started = std::time::Instant::now();
    let metrics = needs.has(kvaudit::policy::metadata::Input::ApiHits);
    let inventory = session.run(
        metrics,
        collect::collect(client.clone(), &scope, &window, &needs, &progress),
    );
    progress.finish();
    let inventory = inventory?;
    // A typo in the scope is an error, not an empty (all-clear) report.
    if let Some(problem) = scope.unmatched(&inventory) {
        anyhow::bail!(problem);
    }
    // What `scan` keeps must be what `eval` reads back.
    inventory.check().map_err(|(location, message)| {
        anyhow::anyhow!("the collected inventory is inconsistent at {location}: {message} (a kvaudit defect; please report it)")
    })?;
    info!(
        vaults = inventory.vaults.len(),
        requests = client.stats.requests.load(Ordering::Relaxed),
        retries = client.stats.retries.load(Ordering::Relaxed),
        throttled = client.stats.throttled.load(Ordering::Relaxed),
        ms = started.elapsed().as_millis() as u64,
        "scan collected"
    );
    if let Some(path) = &args.save_inventory {
        std::fs::write(path, inventory.to_json_pretty() + "\n")
            .with_context(|| format!("{}: cannot write the inventory", path.display()))?;
        eprintln!("kvaudit: saved the inventory to {}", path.display());
    }
    super::eval::evaluate_and_report(&set, inventory, "scan", &args.output, verbose, &|_, _| {})
}

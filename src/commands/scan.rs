//! `kvaudit scan`: collect the inventory from Azure, then evaluate and report
//! exactly as `eval` does.
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use chrono::Utc;
use tracing::info;

use crate::cli::ScanArgs;
use kvaudit::azure::client::{AzureClient, ClientOptions};
use kvaudit::azure::cloud::Endpoints;
use kvaudit::azure::credentials::{TokenCache, credential};
use kvaudit::collect::{self, Scope, Window, progress::Progress};

pub fn run(args: &ScanArgs, verbose: u8) -> Result<i32> {
    // Policies and data first: a broken policy should not cost a scan.
    let set = super::compile(&args.policies)?;
    let since = collect::parse_since(&args.since).map_err(|e| anyhow::anyhow!("--since {e}"))?;
    let end = match &args.until {
        None => Utc::now(),
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|e| {
                anyhow::anyhow!(
                    "--until {t:?} is not an RFC 3339 time such as 2026-11-27T09:00:00Z: {e}"
                )
            })?
            .with_timezone(&Utc),
    };
    let window = Window {
        start: end - since,
        end,
        challenge_seconds: set.data().challenge_seconds(),
    };
    let endpoints = Endpoints::new(
        args.azure.cloud,
        args.azure.arm_endpoint.as_deref(),
        args.azure.log_analytics_endpoint.as_deref(),
    )?;
    let cred = credential(args.azure.auth)?;
    let tokens = Arc::new(TokenCache::new(cred, args.azure.auth));
    let options = ClientOptions {
        concurrency: args.concurrency.max(1),
        ..ClientOptions::default()
    };
    let client = Arc::new(AzureClient::new(endpoints, tokens.clone(), options)?);
    let scope = Scope {
        subscriptions: args.subscriptions.clone(),
        resource_group: args.resource_group.clone(),
        vaults: args.vaults.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let progress = Progress::new(verbose == 0);
    let started = std::time::Instant::now();
    let inventory = runtime.block_on(async {
        // Fail fast, with what to do, when a token cannot be had; both now,
        // since short-lived federated tokens may expire during a long scan.
        tokens.token(&client.endpoints().arm_scope).await?;
        tokens
            .token(&client.endpoints().log_analytics_scope)
            .await?;
        collect::collect(client.clone(), &scope, &window, &progress).await
    });
    progress.finish();
    let inventory = inventory?;
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
    super::eval::evaluate_and_report(&set, inventory, "scan", &args.output)
}

//! `kvaudit access`: who accessed the vaults, from where, when, and who was refused.
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::Utc;

use crate::cli::AccessArgs;
use kvaudit::access::collect::{AccessQuery, AllowList, run};
use kvaudit::access::{View, render};
use kvaudit::azure::client::{AzureClient, ClientOptions};
use kvaudit::azure::cloud::Endpoints;
use kvaudit::azure::credentials::{TokenCache, credential};
use kvaudit::collect::{self, Scope, Window, progress::Progress};

pub fn run_access(args: &AccessArgs, verbose: u8) -> Result<i32> {
    let data = super::load_data(args.data.as_deref())?;
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
    let view = if args.failures {
        View::Failures
    } else if args.events {
        View::Events
    } else {
        View::Callers
    };
    let query = AccessQuery {
        view,
        window: Window {
            start: end - since,
            end,
            challenge_seconds: data.challenge_seconds(),
        },
        limit: args.limit,
        operation: args.operation.clone(),
        caller: args.caller.clone(),
        status: args.status,
    };
    let endpoints = Endpoints::new(
        args.azure.cloud,
        args.azure.arm_endpoint.as_deref(),
        args.azure.log_analytics_endpoint.as_deref(),
    )?;
    let cred = credential(args.azure.auth)?;
    let tokens = Arc::new(TokenCache::new(cred, args.azure.auth));
    let client = AzureClient::new(endpoints, tokens.clone(), ClientOptions::default())?;
    let scope = Scope {
        subscriptions: args.subscriptions.clone(),
        resource_group: args.resource_group.clone(),
        vaults: args.vaults.clone(),
    };
    let allow = AllowList::from_data(&data);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let progress = Progress::new(verbose == 0);
    let report = runtime.block_on(async {
        tokens.token(&client.endpoints().arm_scope).await?;
        tokens
            .token(&client.endpoints().log_analytics_scope)
            .await?;
        run(&client, &scope, &query, &allow, &progress).await
    });
    progress.finish();
    let report = report?;
    super::emit(
        &render::render(&report, view, args.format),
        args.output.as_deref(),
    )?;
    if report.vaults.is_empty() && !report.unread.is_empty() {
        anyhow::bail!(
            "no vault's audit logs could be read ({} vault(s) found; first reason: {})",
            report.unread.len(),
            report.unread[0].reason
        );
    }
    if report.vaults.is_empty() && report.unread.is_empty() {
        eprintln!("kvaudit: no Key Vault found in the selected scope");
    }
    Ok(0)
}

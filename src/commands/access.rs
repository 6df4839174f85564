//! `kvaudit access`: who accessed the vaults, from where, when, and who was refused.
use anyhow::Result;

use crate::cli::AccessArgs;
use kvaudit::access::collect::{AccessQuery, AllowList, run};
use kvaudit::access::{View, render};
use kvaudit::collect::{Scope, progress::Progress};

pub fn run_access(args: &AccessArgs, verbose: u8) -> Result<i32> {
    let data = super::load_data(args.data.as_deref())?;
    let window = super::window(
        &args.since,
        args.until.as_deref(),
        data.challenge_seconds(),
        data.logs_arriving_days(),
    )?;
    let view = if args.failures {
        View::Failures
    } else if args.events {
        View::Events
    } else {
        View::Callers
    };
    // Every filter is applied by the view it is given to, or refused.
    if view == View::Callers && args.status.is_some() {
        anyhow::bail!(
            "--status filters events (--events) and failures (--failures); the callers view counts 401s and 403s in its columns"
        );
    }
    if view == View::Callers && (args.path.is_some() || args.object.is_some()) {
        anyhow::bail!(
            "--path and --object filter events (--events) and failures (--failures): the callers view does not keep request paths; try `kvaudit access --events --object NAME`"
        );
    }
    let query = AccessQuery {
        view,
        window,
        limit: args.limit.unwrap_or(100),
        rows: args.limit.filter(|_| view != View::Events),
        operation: args.operation.clone(),
        caller: args.caller.clone(),
        status: args.status,
        path: args
            .path
            .as_deref()
            .map(kvaudit::access::collect::normalise_path),
        object: args.object.clone(),
        timeline: args.format == kvaudit::access::render::AccessFormat::Html,
    };
    let session = super::Session::connect(&args.azure, super::client_options(&args.azure))?;
    let scope = Scope {
        subscriptions: args.subscriptions.clone(),
        resource_group: args.resource_group.clone(),
        vaults: args.vaults.clone(),
    };
    let allow = AllowList::from_data(&data);
    let progress = Progress::new(verbose == 0);
    let report = session.run(
        false,
        run(&session.client, &scope, &query, &allow, &progress),
    );
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

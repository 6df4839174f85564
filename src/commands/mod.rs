//! One module per subcommand: glue between the CLI and the library.
pub mod access;
pub mod eval;
pub mod fix;
pub mod iac;
pub mod policy;
pub mod scan;

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{AzureArgs, ColorChoice, PolicyArgs};
use kvaudit::azure::client::{AzureClient, ClientOptions};
use kvaudit::azure::cloud::Endpoints;
use kvaudit::azure::credentials::{TokenCache, credential};
use kvaudit::collect::{self, Window};
use kvaudit::policy::data::PolicyData;
use kvaudit::policy::{PolicyFile, PolicySet, builtin, source};

/// Loads policy data: defaults, or defaults merged with `--data`.
pub fn load_data(path: Option<&Path>) -> Result<PolicyData> {
    Ok(match path {
        Some(p) => PolicyData::with_file(p)?,
        None => PolicyData::defaults(),
    })
}

/// The policy files selected by `--policy`/`--no-builtin`. The built-in
/// libraries (`policies/lib/`) stay loaded unless a directory redefines their
/// packages.
pub fn policy_files(args: &PolicyArgs) -> Result<Vec<PolicyFile>> {
    let mut user = Vec::new();
    for dir in &args.policy_dirs {
        user.extend(source::load_dir(dir)?);
    }
    Ok(merge_builtin(user, !args.no_builtin))
}

/// Built-in files (all, or only the library) followed by `user`, skipping
/// built-in packages the user's files redefine.
pub fn merge_builtin(user: Vec<PolicyFile>, all_builtin: bool) -> Vec<PolicyFile> {
    let user_packages: Vec<&str> = user.iter().filter_map(|f| f.package.as_deref()).collect();
    let mut files: Vec<PolicyFile> = builtin::files()
        .into_iter()
        .filter(|f| all_builtin || f.path.starts_with(builtin::LIBRARY_PREFIX))
        .filter(|f| {
            !f.package
                .as_deref()
                .is_some_and(|p| user_packages.contains(&p))
        })
        .collect();
    files.extend(user);
    files
}

pub fn compile(args: &PolicyArgs) -> Result<PolicySet> {
    let mut data = load_data(args.data.as_deref())?;
    if let Some(b) = &args.benchmark {
        // Rules may follow the benchmark's wording (kv/audit-logging is
        // strict under CIS v3.0 and later unless the data says otherwise).
        data.set_benchmark(b);
    }
    let files = policy_files(args)?;
    let mut set = PolicySet::compile(&files, data)?;
    set.select(&kvaudit::policy::selection::Selection {
        rules: args.rules.clone(),
        skip: args.skip_rules.clone(),
        benchmark: args.benchmark.clone(),
    })?;
    set.set_limits(kvaudit::policy::worker::Limits {
        max_instructions: usize::try_from(args.max_instructions).unwrap_or(usize::MAX),
    });
    // KVAUDIT_ENGINE=interpreter runs regorus' interpreter instead of its VM
    // (a debugging aid; both give the same findings).
    if std::env::var("KVAUDIT_ENGINE").as_deref() == Ok("interpreter") {
        set.set_evaluator(kvaudit::policy::engine::Evaluator::Interpreter);
    }
    if set.rules().is_empty() {
        anyhow::bail!(
            "no rules to run: --no-builtin was given and the --policy directories hold no rule package (a package with `metadata` and `results`)"
        );
    }
    Ok(set)
}

/// Whether to colour standard output.
pub fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    }
}

/// Runs `write` against a buffered `path`, or standard output.
pub fn emit_with(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    match path {
        Some(p) => {
            let file = std::fs::File::create(p)
                .with_context(|| format!("{}: cannot write the report", p.display()))?;
            let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
            write(&mut w)
                .and_then(|_| w.flush())
                .with_context(|| format!("{}: cannot write the report", p.display()))
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            match write(&mut w).and_then(|_| w.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r.context("cannot write to standard output"),
            }
        }
    }
}

/// Writes `text` to `path`, or to standard output.
pub fn emit(text: &str, path: Option<&Path>) -> Result<()> {
    match path {
        Some(p) => std::fs::write(p, text)
            .with_context(|| format!("{}: cannot write the report", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r.context("cannot write to standard output"),
            }
        }
    }
}

/// The audit-log window from `--since` and `--until` (default: now); the
/// audit-volume window ends with it and lasts `volume_days`.
pub fn window(
    since: &str,
    until: Option<&str>,
    challenge_seconds: u32,
    volume_days: u32,
) -> Result<Window> {
    let since = collect::parse_since(since).map_err(|e| anyhow::anyhow!("--since {e}"))?;
    let end = match until {
        None => chrono::Utc::now(),
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|e| {
                anyhow::anyhow!(
                    "--until {t:?} is not an RFC 3339 time such as 2026-11-27T09:00:00Z: {e}"
                )
            })?
            .with_timezone(&chrono::Utc),
    };
    Ok(Window {
        start: end - since,
        end,
        challenge_seconds,
        volume_start: end - chrono::Duration::days(volume_days as i64),
    })
}

/// The client's waits from the command line: the run's deadline starts now.
pub fn client_options(azure: &AzureArgs) -> ClientOptions {
    ClientOptions {
        query_budget: azure.query_timeout,
        query_timeout: ClientOptions::default()
            .query_timeout
            .min(azure.query_timeout),
        deadline: azure.timeout.map(|t| tokio::time::Instant::now() + t),
        ..ClientOptions::default()
    }
}

/// What `scan` and `access` need to talk to Azure: the client (endpoints
/// checked, credential picked) and a runtime to drive it.
pub struct Session {
    pub client: std::sync::Arc<AzureClient>,
    runtime: tokio::runtime::Runtime,
}

impl Session {
    pub fn connect(azure: &AzureArgs, options: ClientOptions) -> Result<Session> {
        let endpoints = Endpoints::new(
            azure.cloud,
            azure.arm_endpoint.as_deref(),
            azure.log_analytics_endpoint.as_deref(),
        )?
        .with_metrics_endpoint(azure.metrics_endpoint.as_deref())?;
        let tokens = std::sync::Arc::new(TokenCache::new(
            credential(azure.auth)?,
            azure.auth,
            azure.credential_timeout,
        ));
        let client = std::sync::Arc::new(AzureClient::new(endpoints, tokens, options)?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Session { client, runtime })
    }

    /// Authenticates (for the metrics API too when `metrics`), then runs `work`.
    pub fn run<T>(
        &self,
        metrics: bool,
        work: impl std::future::Future<Output = Result<T, kvaudit::azure::error::AzureError>>,
    ) -> Result<T> {
        Ok(self.runtime.block_on(async {
            self.client.authenticate(metrics).await?;
            work.await
        })?)
    }
}

/// `kvaudit man`: the roff man page of kvaudit on standard output, or one
/// page per command in `dir`.
pub fn man(dir: Option<&Path>) -> Result<i32> {
    use clap::CommandFactory;
    let cmd = crate::cli::Cli::command();
    match dir {
        Some(d) => {
            std::fs::create_dir_all(d)
                .with_context(|| format!("{}: cannot create the directory", d.display()))?;
            clap_mangen::generate_to(cmd, d)
                .with_context(|| format!("{}: cannot write the man pages", d.display()))?;
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            emit(&String::from_utf8_lossy(&out), None)?;
        }
    }
    Ok(0)
}

//! Command-line definitions. Everything a user can type is here, documented
//! once, and rendered by clap into `--help`.
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use kvaudit::access::render::AccessFormat;
use kvaudit::azure::cloud::Cloud;
use kvaudit::azure::credentials::AuthMethod;
use kvaudit::finding::{NotEvaluableGate, Severity};
use kvaudit::report::{Format, SarifProfile};

#[derive(Debug, Parser)]
#[command(
    name = "kvaudit",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("KVAUDIT_COMMIT"), ")"),
    about = "Audit Azure Key Vaults: is each vault audited, is anyone alerted when it changes, and who was refused?",
    long_about = "kvaudit judges Azure Key Vaults with Rego policies: audit logging (kv/audit-logging), \
alerts on vault changes (kv/admin-alert), failed requests found in the audit logs \
(kv/unauthorized-requests, kv/forbidden-requests), and the Key Vault controls of the CIS Azure \
benchmarks v2.0 to v6.0 with more alert and log checks (kvaudit policy list shows all 18). It \
reports as a table, JSON, markdown or SARIF for GitHub code scanning.\n\n\
Try it without an Azure account:  kvaudit eval --demo\n\n\
Exit codes: 0 nothing failed at or above --fail-on; 1 failing results; 2 could not run \
(usage, unreadable input, bad policy); 3 nothing failed but something could not be evaluated.",
    after_help = "Examples:\n  kvaudit eval --demo\n  kvaudit scan --subscription 00000000-0000-0000-0000-000000000000 --format sarif --output kvaudit.sarif\n  kvaudit eval inventory.json --format sarif --output kvaudit.sarif\n  kvaudit eval inventory.json --data allow-list.json --fail-on high\n  kvaudit eval --demo --benchmark cis-azure-6.0\n  kvaudit scan --rule 'kv/*-alert' --skip-rule kv/purge-alert\n  kvaudit access --vault kv-payments --since 7d\n  kvaudit access --events --status 403 --format json\n  kvaudit policy list\n  kvaudit policy test ./my-policies"
)]
pub struct Cli {
    /// More logging on stderr: -v for progress, -vv for detail.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect the inventory from Azure (ARM and Log Analytics), then evaluate it.
    Scan(Box<ScanArgs>),
    /// Evaluate an inventory file (from `scan --save-inventory`, or hand-written) against the policies.
    Eval(EvalArgs),
    /// Judge ARM templates (and `bicep build` output) or Terraform plans before they are applied, with the same rules.
    Iac(IacArgs),
    /// Who accessed the vaults: callers (default), --failures, or --events (the audit trail).
    Access(AccessArgs),
    /// Write a reviewable az CLI script that fixes the failing results, with real names (runs nothing).
    Fix(FixArgs),
    /// List or test policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (or write one page per command into DIR).
    Man {
        /// Write kvaudit.1 and kvaudit-SUBCOMMAND.1 into DIR (created).
        #[arg(long, value_name = "DIR")]
        output_dir: Option<PathBuf>,
    },
}

/// Which inventory to read: a file, standard input, or the built-in demo.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Inventory JSON file (from `scan --save-inventory`; `-` reads standard input). See docs/inventory.md.
    #[arg(value_name = "INVENTORY", conflicts_with = "demo")]
    pub inventory: Option<PathBuf>,

    /// Use the demo tenant built into kvaudit (no Azure account needed).
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    #[command(flatten)]
    pub input: InventoryArgs,

    #[command(flatten)]
    pub policies: PolicyArgs,

    /// Waivers (YAML): waived results get no fix.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,

    /// `script`: a bash script of az commands; `bicep`: main.bicep and one module per fix that
    /// is a new resource (alerts, diagnostic settings, Defender plans, private endpoints), in --output-dir.
    #[arg(long, short = 'f', value_enum, default_value_t = FixFormat::Script)]
    pub format: FixFormat,

    /// Write the script to FILE instead of standard output (its directory is created).
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,

    /// With --format bicep: the directory for main.bicep and modules/ (created).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// What `kvaudit fix` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FixFormat {
    Script,
    Bicep,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  az bicep build --file main.bicep --outfile main.json && kvaudit iac main.json\n  kvaudit iac infra/ --parameters infra/main.parameters.json --format sarif --output iac.sarif\n  kvaudit iac main.json --subscription-id $SUB --resource-group rg-app --fail-on high"
)]
pub struct IacArgs {
    /// ARM templates or Terraform plans (`terraform show -json`), or directories searched for them.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// A parameters file (`{"parameters": {"name": {"value": ...}}}`); repeatable.
    #[arg(long = "parameters", short = 'p', value_name = "FILE")]
    pub parameters: Vec<PathBuf>,

    /// The subscription the templates are deployed to (`subscription()`); only known at deployment.
    #[arg(long, value_name = "ID", default_value = kvaudit::iac::DEFAULT_SUBSCRIPTION)]
    pub subscription_id: String,

    /// The resource group the templates are deployed to (`resourceGroup()`).
    #[arg(long, value_name = "NAME", default_value = kvaudit::iac::DEFAULT_RESOURCE_GROUP)]
    pub resource_group: String,

    /// The resource group's location (`resourceGroup().location`).
    #[arg(long, value_name = "REGION", default_value = "westeurope")]
    pub location: String,

    /// Where a Terraform plan's `.tf` files are (for the lines of its resource blocks); default: the plan's directory.
    #[arg(long, value_name = "DIR")]
    pub terraform_dir: Option<PathBuf>,

    /// Overlay the change on this live inventory (from `scan --save-inventory`): alerts and settings that
    /// already exist count, and what the change deletes is gone.
    #[arg(long, value_name = "FILE")]
    pub live_inventory: Option<PathBuf>,

    /// Write the planned inventory (the same format `scan --save-inventory` writes) to FILE.
    #[arg(long, value_name = "FILE")]
    pub save_inventory: Option<PathBuf>,

    #[command(flatten)]
    pub policies: PolicyArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub input: InventoryArgs,

    #[command(flatten)]
    pub policies: PolicyArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Subscription to scan (repeatable); default: every enabled subscription the identity sees.
    #[arg(long = "subscription", value_name = "ID", value_delimiter = ',')]
    pub subscriptions: Vec<String>,

    /// Only vaults in this resource group.
    #[arg(long, value_name = "NAME")]
    pub resource_group: Option<String>,

    /// Only this vault (name or ARM id; repeatable).
    #[arg(long = "vault", value_name = "NAME|ID", value_delimiter = ',')]
    pub vaults: Vec<String>,

    /// How far back to read the audit logs: e.g. 24h, 7d, 90m.
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub since: String,

    /// End of the audit-log window (RFC 3339); default: now. For re-running a past review.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Requests in flight at once (1 to 256).
    #[arg(long, default_value_t = 16, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Also read each key's rotation policy from the vault's own data plane (`{vaultUri}/keys/{name}/rotationpolicy`,
    /// Key Vault Reader or Crypto User and network access needed); its answer wins over ARM's, and a refused or
    /// unreachable data plane changes nothing.
    #[arg(long)]
    pub data_plane: bool,

    /// Also write the collected inventory to FILE (`kvaudit eval FILE` re-evaluates it).
    #[arg(long, value_name = "FILE")]
    pub save_inventory: Option<PathBuf>,

    #[command(flatten)]
    pub azure: AzureArgs,

    #[command(flatten)]
    pub policies: PolicyArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct AccessArgs {
    /// Only this vault (name or ARM id; repeatable). Default: every vault the identity can see.
    #[arg(long = "vault", value_name = "NAME|ID", value_delimiter = ',')]
    pub vaults: Vec<String>,

    /// Only vaults in this resource group.
    #[arg(long, value_name = "NAME")]
    pub resource_group: Option<String>,

    /// Subscription (repeatable); default: every enabled subscription the identity sees.
    #[arg(long = "subscription", value_name = "ID", value_delimiter = ',')]
    pub subscriptions: Vec<String>,

    /// How far back: e.g. 24h, 7d, 90m.
    #[arg(long, default_value = "7d", value_name = "DURATION")]
    pub since: String,

    /// End of the window (RFC 3339); default: now.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Failed requests grouped by operation, request path, result and HTTP status.
    #[arg(long, conflicts_with = "events")]
    pub failures: bool,

    /// The audit trail, newest first.
    #[arg(long)]
    pub events: bool,

    /// At most N rows (events: newest first; callers and failures: the first N shown).
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,

    /// Only this operation (e.g. SecretGet): events and failures, and callers that performed it.
    #[arg(long, value_name = "NAME")]
    pub operation: Option<String>,

    /// Only this caller, as the table shows it (a UPN, `app <id>`, `object <id>`, an id), or an IP or CIDR range: events and callers.
    #[arg(long, value_name = "WHO", conflicts_with = "failures")]
    pub caller: Option<String>,

    /// Only this HTTP status: events and failures.
    #[arg(long, value_name = "CODE")]
    pub status: Option<u16>,

    /// Only requests for this path or under it, e.g. /secrets/db-password: events and failures.
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,

    /// Only requests for the secret, key or certificate of this name ("who read secret X?"): events and failures.
    #[arg(long, value_name = "NAME")]
    pub object: Option<String>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = AccessFormat::Table)]
    pub format: AccessFormat,

    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Policy data (JSON): challengeSeconds and the allowList that marks callers as known.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,

    #[command(flatten)]
    pub azure: AzureArgs,
}

/// How to reach Azure.
#[derive(Debug, Args)]
pub struct AzureArgs {
    /// Credential: auto picks env, then workload-identity, then managed-identity, then cli.
    #[arg(long, value_enum, default_value_t = AuthMethod::Auto)]
    pub auth: AuthMethod,

    /// Azure cloud (sets the ARM and Log Analytics endpoints and token scopes).
    #[arg(long, value_enum, default_value_t = Cloud::Public)]
    pub cloud: Cloud,

    /// ARM endpoint (emulators, private links). Plain http only to a loopback address.
    #[arg(long, env = "KVAUDIT_ARM_ENDPOINT", value_name = "URL")]
    pub arm_endpoint: Option<String>,

    /// Log Analytics query endpoint. Plain http only to a loopback address.
    #[arg(long, env = "KVAUDIT_LOG_ANALYTICS_ENDPOINT", value_name = "URL")]
    pub log_analytics_endpoint: Option<String>,

    /// Azure Monitor metrics batch endpoint (metrics:getBatch) for every region; default: the vault's
    /// regional host, or the ARM endpoint when that is a loopback emulator. Plain http only to loopback.
    #[arg(long, env = "KVAUDIT_METRICS_ENDPOINT", value_name = "URL")]
    pub metrics_endpoint: Option<String>,

    /// End the whole run after DURATION (e.g. 30m): what was not read by then is reported as not
    /// evaluable, never as passing. Default: no limit (each request and query has its own).
    #[arg(long, env = "KVAUDIT_TIMEOUT", value_name = "DURATION", value_parser = parse_wait)]
    pub timeout: Option<std::time::Duration>,

    /// Time one Log Analytics query may take, its retries included.
    #[arg(long, env = "KVAUDIT_QUERY_TIMEOUT", default_value = "300s", value_name = "DURATION",
          value_parser = parse_wait)]
    pub query_timeout: std::time::Duration,

    /// Time the credential (e.g. the `az` process) may take to issue a token.
    #[arg(long, env = "KVAUDIT_CREDENTIAL_TIMEOUT", default_value = "60s", value_name = "DURATION",
          value_parser = parse_wait)]
    pub credential_timeout: std::time::Duration,
}

/// `90s`, `5m`, `1h`: from 1 second to 7 days.
fn parse_wait(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number and a unit, such as 90s, 5m or 1h"))?;
    let per = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        _ => return Err(format!("{s:?}: unknown unit {unit:?}; use s, m or h")),
    };
    match n.checked_mul(per) {
        Some(secs) if (1..=7 * 86_400).contains(&secs) => Ok(std::time::Duration::from_secs(secs)),
        _ => Err(format!("{s:?}: must be from 1s to 7 days")),
    }
}

/// Where the policies and their data come from.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Add the Rego packages in DIR (repeatable). Each rule package needs a `metadata` rule; see docs/policies.md.
    #[arg(long = "policy", value_name = "DIR")]
    pub policy_dirs: Vec<PathBuf>,

    /// Do not load the built-in rules (their helper library stays available).
    #[arg(long)]
    pub no_builtin: bool,

    /// Policy data (JSON) merged over the defaults: windowHours, challengeSeconds, allowList, severities.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,

    /// Run only rules whose id matches (repeatable; globs such as 'kv/*-alert').
    #[arg(long = "rule", value_name = "ID", value_delimiter = ',')]
    pub rules: Vec<String>,

    /// Do not run rules whose id matches (repeatable; globs allowed).
    #[arg(long = "skip-rule", value_name = "ID", value_delimiter = ',')]
    pub skip_rules: Vec<String>,

    /// Run only the rules mapped to this benchmark and report by its control ids:
    /// cis-azure-2.0, cis-azure-2.1, cis-azure-3.0, cis-azure-4.0, cis-azure-5.0 or cis-azure-6.0.
    #[arg(long, value_name = "NAME")]
    pub benchmark: Option<String>,

    /// Instruction budget of one rule on one resource (regorus' VM). A rule that exceeds it is
    /// not evaluable on that resource; the default is 20 times what the costliest built-in rule needs at Azure's limits.
    #[arg(long, value_name = "N", env = "KVAUDIT_MAX_INSTRUCTIONS",
          default_value_t = kvaudit::policy::worker::DEFAULT_MAX_INSTRUCTIONS as u64,
          value_parser = clap::value_parser!(u64).range(1000..=1_000_000_000_000))]
    pub max_instructions: u64,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Report format; several (comma-separated or repeated, e.g. table,sarif,markdown) need --output-dir.
    #[arg(
        long,
        short = 'f',
        value_enum,
        value_delimiter = ',',
        default_value = "table"
    )]
    pub format: Vec<Format>,

    /// Write the report to FILE instead of standard output (its directory is created).
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,

    /// Write each --format to DIR/kvaudit.{txt,json,sarif,md,html} (created), from one evaluation.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,

    /// Exit 1 only for failing results of at least this severity.
    #[arg(long, value_enum, default_value_t = Severity::Low)]
    pub fail_on: Severity,

    /// Also list passing results in the table and markdown reports.
    #[arg(long)]
    pub show_passed: bool,

    /// SARIF contents: github (failing results only) or full (pass, fail and open results).
    #[arg(long, value_enum, default_value_t = SarifProfile::Github)]
    pub sarif_profile: SarifProfile,

    /// SARIF automationDetails category (e.g. kvaudit/prod), so PR and nightly runs close each other's alerts.
    #[arg(long, value_name = "NAME")]
    pub category: Option<String>,

    /// Waivers (YAML): accepted exceptions with rule, resource glob, justification, owner, expiry.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,

    /// A previous kvaudit SARIF: results become new, unchanged, updated or absent.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Exit 1 only for failing results that are new since --baseline.
    #[arg(long, requires = "baseline")]
    pub fail_on_new: bool,

    /// What not-evaluable results do to the exit code: fail (exit 3), warn (exit 0, reported), or
    /// new (exit 3 only for those new since a full-profile --baseline). Waived ones never count.
    #[arg(long, value_enum, default_value_t = NotEvaluableGate::Fail, env = "KVAUDIT_NOT_EVALUABLE")]
    pub not_evaluable: NotEvaluableGate,

    /// Colour in the table: auto (when standard output is a terminal and NO_COLOR is unset), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// The table's blocks: one per rule ("fails on 7 of 8 vaults") or one per vault.
    #[arg(long, value_enum, default_value_t = kvaudit::report::table::GroupBy::Rule)]
    pub group_by: kvaudit::report::table::GroupBy,

    /// The table shows only the summary and the failing results.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// List the rules that would run, with severity and compliance ids.
    List {
        #[command(flatten)]
        policies: PolicyArgs,
        /// Output as table or JSON.
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Write the rule reference (markdown) of the rules that would run.
    Docs {
        #[command(flatten)]
        policies: PolicyArgs,
        /// Write to FILE instead of standard output (docs/rules.md in this repository).
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Scaffold a rule package and its tests: `kvaudit policy new acme/owner-tag --dir ./policies`.
    New {
        /// Rule id, `team/rule-name` (lower case, digits, -, _).
        #[arg(value_name = "ID")]
        id: String,
        /// Directory to create the files in.
        #[arg(long, default_value = ".", value_name = "DIR")]
        dir: PathBuf,
    },
    /// Run the `test_` rules of policy packages and print `N passed, N failed`.
    Test {
        /// Directory of policies and their `*_test.rego` files; default: the built-in policies.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Policy data (JSON) merged over the defaults while testing.
        #[arg(long, value_name = "FILE")]
        data: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

//! The kvaudit binary: parse the command line, run, map errors to exit codes.
mod cli;
mod commands;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use cli::{Cli, Command, PolicyCommand};

// Policy evaluation allocates many small values; mimalloc roughly halves its time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc options (`mi_option_e` in mimalloc.h, the same numbers in v2
/// and v3): commit arena memory on demand and return freed pages at once.
const MI_OPTION_ARENA_EAGER_COMMIT: i32 = 4;
const MI_OPTION_PURGE_DELAY: i32 = 15;

/// Every command: freed memory goes back to the system at once, so that what
/// one thread frees (a vault's parts, parsed or collected on another thread,
/// released once judged) does not stay resident while other threads
/// allocate findings. Measured on 2026-12-06, `eval` of 10,000 vaults at
/// Azure's limits, every rule: peak RSS 655-691 MB with mimalloc's defaults,
/// 450 MB with these, at the same wall and CPU time (benches/README.md).
fn lean_allocator() {
    // SAFETY: plain option setters, called before any other thread exists.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
}

fn main() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // regorus reports a builtin's error on a bad value (which kvaudit's
        // rules treat as undefined) as an anyhow error, and anyhow captures a
        // backtrace for each when RUST_BACKTRACE is set, as CI runners often
        // do: thousands of captures per run. Panics keep their backtraces.
        // SAFETY: first statement of main, before any thread exists.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    lean_allocator();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout with exit 0; usage errors exit 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("KVAUDIT_LOG")
                .unwrap_or_else(|_| EnvFilter::new(format!("kvaudit={level}"))),
        )
        // Log lines carry Azure text (names, error messages): controls in
        // them are made visible, and kvaudit adds no escape codes of its own.
        .with_writer(|| kvaudit::text::SafeLines(std::io::stderr()))
        .with_ansi(false)
        .with_target(false);
    // Warnings are short ("WARN ..."); -v adds the time to each line.
    if cli.verbose == 0 && std::env::var_os("KVAUDIT_LOG").is_none() {
        logs.without_time().init();
    } else {
        logs.init();
    }

    let result = match &cli.command {
        Command::Eval(args) => commands::eval::run(args, cli.verbose),
        Command::Iac(args) => commands::iac::run(args, cli.verbose),
        Command::Fix(args) => commands::fix::run(args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "kvaudit",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
        Command::Man { output_dir } => commands::man(output_dir.as_deref()),
        Command::Scan(args) => commands::scan::run(args, cli.verbose),
        Command::Access(args) => commands::access::run_access(args, cli.verbose),
        Command::Policy(PolicyCommand::List { policies, format }) => {
            commands::policy::list(policies, *format)
        }
        Command::Policy(PolicyCommand::Docs { policies, output }) => {
            commands::policy::docs(policies, output.as_deref())
        }
        Command::Policy(PolicyCommand::New { id, dir }) => commands::policy::new(id, dir),
        Command::Policy(PolicyCommand::Test { dir, data }) => {
            commands::policy::test(dir.as_deref(), data.as_deref(), cli.verbose > 0)
        }
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // One line: the library's errors already name the file, line or resource.
            eprintln!("kvaudit: error: {}", one_line(&e));
            std::process::exit(2);
        }
    }
}

fn one_line(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    kvaudit::text::terminal(&joined).into_owned()
}

//! Runs the `test_` rules of policy packages (regorus has no `opa test`): a
//! test passes when it evaluates to `true`, and fails when it is false,
//! undefined or an error.
use regorus::Value;

use super::data::PolicyData;
use super::engine::{new_engine, rego_error};

use super::source::PolicyFile;
use crate::error::Error;

/// One test's outcome.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub file: String,
    pub name: String,
    /// `None` when it passed, else why it failed.
    pub failure: Option<String>,
}

/// How long one `test_` rule may run on the interpreter.
pub const TEST_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs every `test_` rule declared in the test files of `files` whose path
/// `selected` accepts. All files (tests and policies) are compiled together.
pub fn run(
    files: &[PolicyFile],
    data: &PolicyData,
    selected: impl Fn(&PolicyFile) -> bool,
) -> Result<Vec<TestOutcome>, Error> {
    let mut engine = new_engine();
    // A test that runs away is stopped, and fails naming itself.
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: TEST_TIME_LIMIT,
        check_interval: std::num::NonZeroU32::new(1000).expect("non-zero"),
    });
    let mut packages = Vec::new();
    for f in files {
        super::engine::forbid_network(f)?;
        let package = engine
            .add_policy(f.path.clone(), f.text.clone())
            .map_err(|e| rego_error(&e))?;
        packages.push(package);
    }
    if let Some(cycle) = super::recursion::find_cycle(engine.get_modules()) {
        return Err(Error::Policy(cycle.to_string()));
    }
    engine
        .add_data(Value::from(data.document.clone()))
        .map_err(|e| Error::Policy(format!("policy data: {e}")))?;
    let mut outcomes = Vec::new();
    for (f, package) in files.iter().zip(&packages) {
        if !selected(f) {
            continue;
        }
        for name in test_names(&f.text) {
            // Confirm the parser sees a rule of that name (not a comment or string).
            if !engine
                .has_declared_rule_rooted_at(&f.path, &name)
                .unwrap_or(false)
            {
                continue;
            }
            let failure = match engine.eval_rule(format!("{package}.{name}")) {
                Ok(Value::Bool(true)) => None,
                Ok(Value::Undefined) => {
                    Some("undefined (a condition in its body did not hold)".to_string())
                }
                Ok(other) => Some(format!("evaluated to {other}, expected true")),
                Err(e) => Some(rego_error(&e).to_string()),
            };
            outcomes.push(TestOutcome {
                file: f.path.clone(),
                name,
                failure,
            });
        }
    }
    Ok(outcomes)
}

/// Names of top-level rules starting with `test_`, in order, once each.
fn test_names(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("test_") {
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let name = format!("test_{ident}");
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

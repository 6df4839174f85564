//! One evaluation thread's engine, with kvaudit's settings: regorus' register
//! VM (the default) or its interpreter (the reference `policy test` uses).
//!
//! Both run with **strict builtin errors**: a builtin given a value it cannot
//! use (`time.parse_rfc3339_ns("")`, `to_number("x")`) is an error on the
//! interpreter, confined to the rule and resource it happened on (see
//! [`super::engine`]), which are then reported not evaluable. regorus
//! 0.14.1's VM makes the failing rule body undefined instead, whatever the
//! setting (docs/policies.md, "Engine settings").
//!
//! The VM also counts instructions: each evaluation of one rule on one
//! resource gets [`Limits::max_instructions`]; the run of all rules on a
//! resource gets that times the number of rules.
use regorus::rvm::vm::RegoVM;
use regorus::{Engine, Value};

/// The instruction budget of one rule on one resource, on regorus' VM.
///
/// Sized on the largest inputs Azure allows (docs/policies.md, "Engine
/// settings"): the costliest built-in rule on the vaults of
/// `benches/gen_inventory.rs --limits` is kv/forbidden-requests with 1,000
/// refused identities, about 0.43 million instructions; this leaves a
/// factor of 20 or more for custom policies, and still stops a runaway rule
/// in about a second.
pub const DEFAULT_MAX_INSTRUCTIONS: usize = 10_000_000;

/// Engine settings chosen by the user (`--max-instructions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Instructions one rule may execute on one resource (VM only).
    pub max_instructions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_instructions: DEFAULT_MAX_INSTRUCTIONS,
        }
    }
}

/// An engine with kvaudit's settings: Rego v1, strict builtin errors (the
/// interpreter's default, stated here so it cannot drift from the VM's).
/// Only the builtins compiled in are available: no `http.send`, so policies
/// cannot reach the network.
pub fn new_engine() -> Engine {
    let mut engine = Engine::new();
    engine.set_strict_builtin_errors(true);
    engine
}

/// A VM for `program`, with the same settings as [`new_engine`].
pub fn new_vm(
    policy: regorus::CompiledPolicy,
    program: std::sync::Arc<regorus::rvm::program::Program>,
    data: Value,
) -> RegoVM {
    let mut vm = RegoVM::new_with_policy(policy);
    vm.load_program(program);
    vm.set_strict_builtin_errors(true);
    // The data was loaded once by the caller, so this cannot fail here.
    let _ = vm.set_data(data);
    vm
}

/// What one worker thread evaluates with.
pub enum Worker {
    Vm(Box<RegoVM>),
    Interpreter(Box<Engine>),
}

impl Worker {
    /// Evaluates `entry` (a rule path) with `input`, within `budget`
    /// instructions on the VM. The error is regorus' message, on one line.
    pub fn run(&mut self, entry: &str, input: &Value, budget: usize) -> Result<Value, String> {
        match self {
            Worker::Vm(vm) => {
                vm.set_input(input.clone());
                vm.set_max_instructions(budget);
                vm.execute_entry_point_by_name(entry)
                    .map_err(|e| one_line(&e.to_string()))
            }
            Worker::Interpreter(engine) => {
                engine.set_input(input.clone());
                engine
                    .eval_rule(entry.to_string())
                    .map_err(|e| super::engine::rego_error(&e).to_string())
            }
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

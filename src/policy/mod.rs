//! The policy engine: Rego packages (built-in and the user's), their
//! metadata, their evaluation over an inventory, and their `test_` rules.
pub mod builtin;
pub mod data;
pub mod engine;
pub mod input;
pub mod metadata;
pub mod recursion;
pub mod rego_value;
pub mod selection;
pub mod source;
pub mod testing;
pub mod worker;

pub use engine::PolicySet;
pub use metadata::RuleMetadata;
pub use source::PolicyFile;

//! kvaudit: is every Azure Key Vault audited, is anyone alerted when it is
//! changed, and who has been knocking on it without being let in?
//!
//! The data flows through the modules in this order: [`azure`] (shapes and
//! clients) → [`inventory`] (the collected document) → [`policy`] (Rego rules
//! evaluated by regorus) → [`finding`] (pass / fail / not evaluable) → [`remediation`] (fixes with real names) → [`triage`] (waivers, baseline, gate) →
//! [`report`] (table, JSON, markdown, SARIF).
pub mod access;
pub mod azure;
pub mod baseline;
pub mod collect;
pub mod demo;
pub mod error;
pub mod finding;
pub mod iac;
pub mod inventory;
pub mod kql;
pub mod policy;
pub mod remediation;
pub mod report;
pub mod text;
pub mod triage;
pub mod waiver;

pub use error::Error;

//! The library's errors. Each names the file, line or resource it is about
//! and fits on one line; the CLI adds what to do.
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{path}: cannot read: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: cannot write: {reason}")]
    Write { path: String, reason: String },
    #[error("{origin}:{line}:{column}: not a valid kvaudit inventory: {message}")]
    Inventory {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{origin}: inventory schemaVersion {found} is not supported (this kvaudit reads schemaVersion 1 and 2); re-collect it with `kvaudit scan --save-inventory`"
    )]
    InventoryVersion { origin: String, found: String },
    #[error(
        "{origin}: this is a SARIF log (a report), not an inventory; evaluate the inventory it came from (`kvaudit scan --save-inventory FILE`), or pass the SARIF as --baseline"
    )]
    SarifNotInventory { origin: String },
    #[error("{origin}: {location}: {message}")]
    InventoryContent {
        origin: String,
        location: String,
        message: String,
    },
    #[error("{origin}:{line}:{column}: invalid policy data: {message}")]
    Data {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    Rego(String),
    #[error("{file}: policy package {package} has invalid metadata: {problem}")]
    Metadata {
        file: String,
        package: String,
        problem: String,
    },
    #[error("{file}: rule id {id} is already defined by {other}")]
    DuplicateRule {
        file: String,
        id: String,
        other: String,
    },
    #[error("{0}")]
    Policy(String),
    #[error("{flag} {value}: {problem}")]
    Selection {
        flag: &'static str,
        value: String,
        problem: String,
    },
}

/// An I/O error without the "(os error N)" noise.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

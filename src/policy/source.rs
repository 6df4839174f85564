//! Finding and reading policy files.
use std::path::Path;

use crate::error::Error;

/// One `.rego` file.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    /// Path as shown in messages.
    pub path: String,
    pub text: String,
    pub builtin: bool,
    /// `*_test.rego`: loaded by `policy test` only.
    pub is_test: bool,
    /// The `package` it declares (read from the text; the engine confirms it).
    pub package: Option<String>,
}

impl PolicyFile {
    pub fn new(path: String, text: String, builtin: bool) -> PolicyFile {
        let is_test = path.ends_with("_test.rego");
        let package = declared_package(&text);
        PolicyFile {
            path,
            text,
            builtin,
            is_test,
            package,
        }
    }
}

/// The package a Rego file declares, from its first `package` line.
pub fn declared_package(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("package "))
        .map(|p| format!("data.{}", p.trim()))
}

/// Every `.rego` file under `dir` (recursively), sorted by path.
pub fn load_dir(dir: &Path) -> Result<Vec<PolicyFile>, Error> {
    if !dir.is_dir() {
        return Err(Error::Policy(format!(
            "{}: policy directory does not exist or is not a directory",
            dir.display()
        )));
    }
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    if files.is_empty() {
        return Err(Error::Policy(format!(
            "{}: no .rego files found in this policy directory",
            dir.display()
        )));
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PolicyFile>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::Read {
        path: dir.display().to_string(),
        reason: crate::error::io_reason(&e),
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::Read {
            path: dir.display().to_string(),
            reason: crate::error::io_reason(&e),
        })?;
        let p = entry.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "rego") {
            let text = std::fs::read_to_string(&p).map_err(|e| Error::Read {
                path: p.display().to_string(),
                reason: crate::error::io_reason(&e),
            })?;
            out.push(PolicyFile::new(p.display().to_string(), text, false));
        }
    }
    Ok(())
}

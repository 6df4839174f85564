//! The policies and default policy data shipped inside the binary, so kvaudit
//! runs from any directory and the README's demo needs no checkout.
use include_dir::{Dir, include_dir};

use super::source::PolicyFile;

static POLICIES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/policies");

/// Prefix of built-in policy paths in messages (`<builtin>/kv/audit_logging.rego`).
pub const BUILTIN_PREFIX: &str = "<builtin>";

/// Built-in libraries (helpers, no rules) live under this prefix.
pub const LIBRARY_PREFIX: &str = "<builtin>/lib/";

/// Every built-in `.rego` file, tests included, in a stable order.
pub fn files() -> Vec<PolicyFile> {
    let mut out = Vec::new();
    collect(&POLICIES, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn collect(dir: &Dir<'static>, out: &mut Vec<PolicyFile>) {
    for f in dir.files() {
        let p = f.path();
        if p.extension().is_some_and(|e| e == "rego") {
            let path = format!("{BUILTIN_PREFIX}/{}", p.display());
            let text = f.contents_utf8().unwrap_or_default().to_string();
            out.push(PolicyFile::new(path, text, true));
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

/// The default policy data (`policies/data.json`).
pub fn default_data() -> &'static str {
    POLICIES
        .get_file("data.json")
        .and_then(|f| f.contents_utf8())
        .unwrap_or("{}")
}

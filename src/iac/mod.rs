//! `kvaudit iac`: the inventory a change *plans*, built from ARM templates
//! (and `bicep build` output) or Terraform plans, judged by the same rules
//! as the live tenant.
//!
//! Templates ([`arm`]) and plans ([`terraform`]) → [`Declared`] resources →
//! a planned [`Inventory`](crate::inventory::Inventory), optionally over a
//! live one ([`planned`]) → the usual evaluation → findings anchored at the
//! file and line that declares each vault, and not evaluable where a value
//! the rule reads is only known at deployment.
pub mod arm;
pub mod expr;
pub mod json;
pub mod planned;
pub mod terraform;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::finding::Source;
use crate::policy::metadata::Input;

/// Where the planned resources are deployed: ARM's `subscription()` and
/// `resourceGroup()` are only known at deployment, so kvaudit uses these.
#[derive(Debug, Clone)]
pub struct Target {
    pub subscription_id: String,
    pub resource_group: String,
    pub location: String,
    pub deployment: String,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            subscription_id: DEFAULT_SUBSCRIPTION.into(),
            resource_group: DEFAULT_RESOURCE_GROUP.into(),
            location: "westeurope".into(),
            deployment: "main".into(),
        }
    }
}

/// The subscription planned resources are placed in unless `--subscription-id` says.
pub const DEFAULT_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";
/// The resource group, unless `--resource-group` says.
pub const DEFAULT_RESOURCE_GROUP: &str = "rg-deployment";

/// One resource a template declares, with its expressions evaluated.
#[derive(Debug, Clone)]
pub struct Declared {
    /// Full type: `Microsoft.KeyVault/vaults/keys`.
    pub kind: String,
    /// Its own name (the last segment).
    pub name: String,
    pub id: String,
    /// The resource an extension resource (a diagnostic setting) is on.
    pub scope: Option<String>,
    /// `location`, `tags`, `sku`, `kind`, `properties`, `identity`.
    pub body: Value,
    /// Paths in `body` (and `name`, `condition`, `copy.count`) whose value
    /// is only known at deployment, each with the reason.
    pub unknown: Vec<String>,
    pub source: Source,
}

/// The rules' inputs a template can declare. Rules reading anything else
/// (audit logs, metrics, log search alerts) cannot judge a change.
pub const IAC_INPUTS: &[Input] = &[
    Input::DiagnosticSettings,
    Input::ActivityLogAlerts,
    Input::Keys,
    Input::KeyRotation,
    Input::Secrets,
];

/// Whether a rule can judge a change: a vault rule reading only what a
/// template declares, or a subscription rule reading only Defender plans
/// when the change declares one (or the live inventory holds them).
pub fn judges(rule: &crate::policy::engine::Rule, pricings_known: bool) -> bool {
    let reads = rule.metadata.reads();
    match rule.metadata.scope.as_str() {
        "vault" => reads.iter().all(|i| IAC_INPUTS.contains(i)),
        "subscription" => {
            pricings_known && !reads.is_empty() && reads.iter().all(|i| *i == Input::Pricings)
        }
        _ => false,
    }
}

/// A path as shown in findings: relative to the working directory when
/// under it (what GitHub resolves SARIF uris against), with `/`.
pub fn shown_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.clone().unwrap_or_default().join(path)
    };
    let rel = cwd
        .as_deref()
        .and_then(|c| abs.strip_prefix(c).ok())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| path.to_path_buf());
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if parts.last().is_some_and(|p: &String| p != "..") => {
                parts.pop();
            }
            c => parts.push(c.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}

/// The templates and plans among `paths` (files, or directories searched
/// for `*.json` templates and plans; parameter files and other JSON are
/// skipped there, but a file named explicitly must be one of the two).
pub fn template_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = walkdir(p)?
                .into_iter()
                .filter(|f| {
                    f.extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
                })
                .filter(|f| {
                    std::fs::read_to_string(f)
                        .ok()
                        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                        .is_some_and(|v| arm::is_template(&v) || terraform::is_plan(&v))
                })
                .collect();
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(out)
}

fn walkdir(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if p.is_dir() {
            out.extend(walkdir(&p)?);
        } else {
            out.push(p);
        }
    }
    Ok(out)
}

/// What the inputs declare, and the ids a Terraform plan deletes.
#[derive(Debug, Default)]
pub struct Change {
    pub declared: Vec<Declared>,
    /// ARM ids a plan deletes, with where the plan says so.
    pub deleted: Vec<(String, Source)>,
}

impl Change {
    /// The deleted ids alone.
    pub fn deleted_ids(&self) -> Vec<String> {
        self.deleted.iter().map(|(id, _)| id.clone()).collect()
    }
}

/// Reads the templates (with the parameters files' values for the
/// parameters each declares) and plans, and gives every resource they
/// declare. A linked template is read where a `templateLink.relativePath`
/// points; a plan's `.tf` files are looked up in `terraform_dir` (default:
/// the plan's directory).
pub fn declare(
    files: &[PathBuf],
    parameters: &[PathBuf],
    terraform_dir: Option<&Path>,
    target: &Target,
) -> Result<Change, String> {
    let mut supplied = BTreeMap::new();
    for p in parameters {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let spanned = json::Spanned::parse(&text, p)?;
        supplied.extend(arm::parameter_file(&spanned.value, p)?);
    }
    let mut out = Change::default();
    for t in files {
        let text = std::fs::read_to_string(t).map_err(|e| format!("{}: {e}", t.display()))?;
        let shown = shown_path(t);
        let spanned = json::Spanned::parse(&text, Path::new(&shown))?;
        if terraform::is_plan(&spanned.value) {
            let dir = terraform_dir
                .map(Path::to_path_buf)
                .or_else(|| t.parent().map(Path::to_path_buf))
                .unwrap_or_default();
            let plan = terraform::declared(&spanned, &shown, &dir, target)?;
            out.declared.extend(plan.declared);
            out.deleted.extend(plan.deleted);
            continue;
        }
        if !arm::is_template(&spanned.value) {
            return Err(format!(
                "{shown}: neither an ARM template (a deploymentTemplate `$schema` and `resources`) nor a Terraform plan (`terraform show -json`); for Bicep run `az bicep build` first"
            ));
        }
        // Parameters a template does not declare belong to another one.
        let declared: BTreeMap<String, _> = supplied
            .iter()
            .filter(|(k, _)| {
                spanned
                    .value
                    .get("parameters")
                    .and_then(Value::as_object)
                    .is_some_and(|m| m.keys().any(|p| p.eq_ignore_ascii_case(k)))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.declared
            .extend(arm::declared(&spanned, t, &shown, &declared, target)?);
    }
    Ok(out)
}

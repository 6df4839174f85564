//! The metadata contract every rule package meets: a `metadata` rule with
//! these fields. (regorus parses `# METADATA` annotations but drops them, so
//! metadata is an ordinary rule.)
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::finding::Severity;

/// What a rule package declares about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleMetadata {
    /// Stable id, e.g. `kv/audit-logging`.
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    /// What one input is: `vault` (one Key Vault per evaluation).
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Plain-text help, with a one-line remediation.
    pub help: String,
    /// Markdown help with remediation as az CLI and Bicep.
    pub markdown: String,
    #[serde(default)]
    pub references: Vec<Reference>,
    /// Benchmark → version → control id, e.g. `cis-azure` → `6.0` → `6.1.1.4`.
    #[serde(default)]
    pub compliance: BTreeMap<String, BTreeMap<String, String>>,
    /// Azure Policy definition ids (GUIDs) of the built-in policies that judge the same thing.
    #[serde(default)]
    pub azure_policy: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

fn default_scope() -> String {
    "vault".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub title: String,
    pub url: String,
}

/// Scopes this kvaudit can evaluate.
pub const SCOPES: &[&str] = &["vault"];

impl RuleMetadata {
    /// Checks what serde cannot: ids, texts and scope.
    pub fn validate(&self) -> Result<(), String> {
        let id_ok = !self.id.is_empty()
            && self.id.contains('/')
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-/_.".contains(c));
        if !id_ok {
            return Err(format!(
                "field `id` must look like `team/rule-name` (lower case, digits, -, _, ., /), found {:?}",
                self.id
            ));
        }
        for (field, text, max) in [
            ("title", &self.title, 255),
            ("description", &self.description, 1024),
            ("help", &self.help, usize::MAX),
            ("markdown", &self.markdown, usize::MAX),
        ] {
            if text.trim().is_empty() {
                return Err(format!("field `{field}` is empty"));
            }
            if text.chars().count() > max {
                return Err(format!(
                    "field `{field}` is longer than {max} characters (GitHub's limit)"
                ));
            }
        }
        if !SCOPES.contains(&self.scope.as_str()) {
            return Err(format!(
                "field `scope` must be one of {SCOPES:?}, found {:?}",
                self.scope
            ));
        }
        if self.tags.len() > 15 {
            return Err("field `tags` has more than 15 entries (GitHub shows 20 at most, kvaudit adds some)".into());
        }
        Ok(())
    }

    /// CIS ids as `cis-azure-6.0/6.1.1.4` tags.
    pub fn compliance_tags(&self) -> Vec<String> {
        self.compliance
            .iter()
            .flat_map(|(bench, versions)| {
                versions
                    .iter()
                    .map(move |(v, id)| format!("{bench}-{v}/{id}"))
            })
            .collect()
    }
}

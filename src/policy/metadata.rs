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
    /// What one input is: `vault` (one Key Vault per evaluation) or
    /// `subscription` (one subscription that holds vaults).
    #[serde(default = "default_scope")]
    pub scope: String,
    /// What the rule reads beyond the vault object, so that a scan collects
    /// only what the selected rules need. Absent: the inputs every rule had
    /// before kvaudit learned to collect selectively (see [`Input::DEFAULT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Vec<Input>>,
    /// Plain-text help, with a one-line remediation.
    pub help: String,
    /// Markdown help with remediation as az CLI and Bicep.
    pub markdown: String,
    #[serde(default)]
    pub references: Vec<Reference>,
    /// Benchmark → version → control id(s), e.g. `cis-azure` → `6.0` →
    /// `6.1.1.4`, or a list where the benchmark splits the check (keys of
    /// RBAC and of access-policy vaults).
    #[serde(default)]
    pub compliance: BTreeMap<String, BTreeMap<String, Controls>>,
    /// Azure Policy definition ids (GUIDs) of the built-in policies that judge the same thing.
    #[serde(default)]
    pub azure_policy: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The remediation as commands with placeholders kvaudit fills in from
    /// the inventory for each failing result (see [`crate::remediation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<FixTemplate>,
}

/// `metadata.fix`: an az CLI command template, and a Bicep one where a new
/// resource fixes the result (see docs/policies.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FixTemplate {
    /// One or more az CLI commands, placeholders such as `{vault}` unquoted.
    pub az: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bicep: Option<BicepTemplate>,
}

/// `metadata.fix.bicep`: Bicep that declares the resource(s) a fix needs.
/// Placeholders (`{vault}`) stand for Bicep identifiers that kvaudit
/// declares above the template (`var vault = 'kv-prod'`, or `param vault
/// string` when the inventory does not know the value); `${` is Bicep's own
/// interpolation, so `'pe-${{vault}}'` is `'pe-${vault}'`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BicepTemplate {
    /// Where it is deployed: `resourceGroup` or `subscription`.
    pub scope: BicepScope,
    /// For `resourceGroup`: the placeholder that names the resource group
    /// (e.g. `resourceGroup`, `actionGroupResourceGroup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    pub template: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum BicepScope {
    ResourceGroup,
    Subscription,
}

/// One control id, several, or one per variant of the rule's results (a
/// result names its `variant`, e.g. CIS 8.3.1 for keys of RBAC vaults and
/// 8.3.2 for those of access-policy vaults).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Controls {
    One(String),
    Many(Vec<String>),
    ByVariant(BTreeMap<String, String>),
}

impl std::fmt::Display for Controls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.ids().join(" / "))
    }
}

impl Controls {
    pub fn ids(&self) -> Vec<&str> {
        match self {
            Controls::One(id) => vec![id.as_str()],
            Controls::Many(ids) => ids.iter().map(String::as_str).collect(),
            Controls::ByVariant(ids) => {
                let mut v: Vec<&str> = ids.values().map(String::as_str).collect();
                v.sort_unstable();
                v.dedup();
                v
            }
        }
    }

    /// The control a result of `variant` answers; every id when the
    /// controls do not depend on the variant or the result names none.
    pub fn for_variant(&self, variant: Option<&str>) -> Vec<&str> {
        match (self, variant) {
            (Controls::ByVariant(ids), Some(v)) => match ids.get(v) {
                Some(id) => vec![id.as_str()],
                None => self.ids(),
            },
            _ => self.ids(),
        }
    }
}

/// Parts of the inventory a rule reads (its `inputs`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "camelCase")]
pub enum Input {
    /// The vault's diagnostic settings (one GET per vault).
    DiagnosticSettings,
    /// Audit-log evidence (401/403 groups) from Log Analytics.
    AuditLogs,
    /// AuditEvent row counts over the volume window.
    AuditVolume,
    /// Activity-log alerts and action groups of the subscription.
    ActivityLogAlerts,
    /// Log search alerts of the subscription.
    ScheduledQueryRules,
    /// Defender for Cloud pricings of the subscription.
    Pricings,
    /// The vault's keys (management plane list).
    Keys,
    /// Each key read on its own (management plane GET) for its rotation policy.
    KeyRotation,
    /// The vault's secrets (management plane list).
    Secrets,
    /// Azure Monitor ServiceApiHit metrics of the vault.
    ApiHits,
}

impl Input {
    /// What a rule without `inputs` is assumed to read.
    pub const DEFAULT: &[Input] = &[
        Input::DiagnosticSettings,
        Input::AuditLogs,
        Input::ActivityLogAlerts,
        Input::ScheduledQueryRules,
    ];
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

/// The placeholders a fix template may use (see [`crate::remediation`]).
pub const PLACEHOLDERS: &[&str] = &[
    "vault",
    "vaultId",
    "resourceGroup",
    "subscriptionId",
    "location",
    "item",
    "workspaceId",
    "actionGroupId",
    "actionGroupResourceGroup",
    // Never known to the inventory: always left for the reader.
    "vnet",
    "subnet",
    "newVault",
];

/// Scopes this kvaudit can evaluate.
pub const SCOPES: &[&str] = &["vault", "subscription"];

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
        if let Some(b) = self.fix.as_ref().and_then(|f| f.bicep.as_ref()) {
            match (b.scope, b.resource_group.as_deref()) {
                (BicepScope::ResourceGroup, Some(rg)) if PLACEHOLDERS.contains(&rg) => {}
                (BicepScope::ResourceGroup, other) => {
                    return Err(format!(
                        "field `fix.bicep.resourceGroup` must name the placeholder of the resource group to deploy to (one of {PLACEHOLDERS:?}), found {other:?}"
                    ));
                }
                (BicepScope::Subscription, Some(_)) => {
                    return Err(
                        "field `fix.bicep.resourceGroup` is for scope `resourceGroup` only".into(),
                    );
                }
                (BicepScope::Subscription, None) => {}
            }
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
                versions.iter().flat_map(move |(v, ids)| {
                    ids.ids()
                        .into_iter()
                        .map(move |id| format!("{bench}-{v}/{id}"))
                })
            })
            .collect()
    }

    /// The rule's control ids for `benchmark` (`cis-azure-6.0`), if it maps to it.
    pub fn benchmark_controls(&self, benchmark: &str) -> Option<&Controls> {
        self.compliance.iter().find_map(|(bench, versions)| {
            versions
                .iter()
                .find_map(|(v, ids)| (format!("{bench}-{v}") == benchmark).then_some(ids))
        })
    }

    /// What the rule reads (its `inputs`, or the default set).
    pub fn reads(&self) -> Vec<Input> {
        self.inputs
            .clone()
            .unwrap_or_else(|| Input::DEFAULT.to_vec())
    }
}

//! Remediation with real names: a rule's `metadata.fix` template filled in,
//! for each failing result, with the vault, resource group, subscription,
//! workspace and action group the inventory knows. Values are shell-quoted
//! (names come from Azure and are untrusted); a value the inventory cannot
//! give stays a visible `<placeholder>` and is listed in `unresolved`.
//! kvaudit never runs these commands: `kvaudit fix` writes them to a script
//! for review.
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Status};
use crate::inventory::{Collected, Inventory};
use crate::policy::engine::Rule;
use crate::policy::input::norm_id;

/// A failing result's remediation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    /// az CLI commands, values filled in and quoted.
    pub az: String,
    /// Placeholders the inventory could not fill (left as `<name>` in `az`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
}

/// The placeholders a template may use.
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

/// What the inventory says about one subscription that fixes need.
#[derive(Default)]
struct SubscriptionFacts {
    /// The workspace most of the subscription's vaults send AuditEvent to.
    workspace: Option<String>,
    /// A usable action group (enabled, with a receiver), first by name.
    action_group: Option<String>,
}

/// The resource group segment of an ARM id, as written.
fn resource_group(id: &str) -> Option<String> {
    let parts: Vec<&str> = id.split('/').collect();
    parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("resourceGroups"))
        .and_then(|i| parts.get(i + 1))
        .filter(|s| !s.is_empty())
        .map(|s| s.to_string())
}

fn subscription_facts(inv: &Inventory) -> HashMap<String, SubscriptionFacts> {
    let mut facts: HashMap<String, SubscriptionFacts> = HashMap::new();
    for s in &inv.subscriptions {
        let key = s.subscription.subscription_id.to_ascii_lowercase();
        let mut entry = SubscriptionFacts::default();
        if let Collected::Ok { value } = &s.action_groups {
            let mut usable: Vec<_> = value
                .iter()
                .filter(|ag| {
                    ag.properties.enabled
                        && ag
                            .properties
                            .receivers
                            .values()
                            .any(|r| r.as_array().is_some_and(|a| !a.is_empty()))
                })
                .collect();
            usable.sort_by(|a, b| a.name.cmp(&b.name));
            entry.action_group = usable.first().map(|ag| ag.id.clone());
        }
        facts.insert(key, entry);
    }
    let mut counts: HashMap<String, BTreeMap<String, usize>> = HashMap::new();
    for v in &inv.vaults {
        let sub = crate::policy::input::subscription_of(&v.vault.id);
        if let Collected::Ok { value } = &v.diagnostic_settings {
            for s in value {
                if let Some(ws) = s
                    .properties
                    .workspace_id
                    .as_deref()
                    .filter(|w| !w.is_empty())
                {
                    *counts
                        .entry(sub.clone())
                        .or_default()
                        .entry(ws.to_string())
                        .or_default() += 1;
                }
            }
        }
    }
    for (sub, by_ws) in counts {
        // Most used; ties go to the first id in order, so runs agree.
        let best = by_ws
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(w, _)| w.clone());
        facts.entry(sub).or_default().workspace = best;
    }
    facts
}

fn quote(value: &str) -> String {
    match shlex::try_quote(value) {
        Ok(q) => q.into_owned(),
        // A NUL cannot be quoted: leave a placeholder rather than the value.
        Err(_) => "<unquotable value>".into(),
    }
}

/// Fills `template` from `values`: each `{name}` becomes its quoted value,
/// or `<name>` when there is none (recorded as unresolved).
pub fn fill(template: &str, values: &BTreeMap<&str, Option<String>>) -> Fix {
    let mut az = String::with_capacity(template.len() + 64);
    let mut unresolved = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        az.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) if values.contains_key(&after[..end]) => {
                let name = &after[..end];
                // A value with control characters is never written out
                // (it would reach a terminal through the script).
                let value = values
                    .get(name)
                    .cloned()
                    .flatten()
                    .filter(|v| !v.chars().any(char::is_control));
                match value {
                    Some(v) => az.push_str(&quote(&v)),
                    None => {
                        az.push_str(&format!("<{name}>"));
                        if !unresolved.iter().any(|u| u == name) {
                            unresolved.push(name.to_string());
                        }
                    }
                }
                rest = &after[end + 1..];
            }
            _ => {
                az.push('{');
                rest = after;
            }
        }
    }
    az.push_str(rest);
    Fix { az, unresolved }
}

/// Adds a [`Fix`] to every failing result of a rule with a `fix` template.
pub fn apply(findings: &mut [Finding], rules: &[Rule], inv: &Inventory) {
    let templates: HashMap<&str, &str> = rules
        .iter()
        .filter_map(|r| {
            r.metadata
                .fix
                .as_ref()
                .map(|f| (r.metadata.id.as_str(), f.az.as_str()))
        })
        .collect();
    if templates.is_empty() {
        return;
    }
    let subs = subscription_facts(inv);
    let locations: HashMap<String, Option<String>> = inv
        .vaults
        .iter()
        .map(|v| (norm_id(&v.vault.id), v.vault.location.clone()))
        .collect();
    for f in findings.iter_mut() {
        if f.status != Status::Fail {
            continue;
        }
        let Some(template) = templates.get(f.rule_id.as_str()) else {
            continue;
        };
        let sub = subs.get(&f.resource.subscription_id);
        let is_vault = f
            .resource
            .kind
            .eq_ignore_ascii_case("Microsoft.KeyVault/vaults");
        let action_group = sub.and_then(|s| s.action_group.clone());
        let vault_rg = is_vault.then(|| resource_group(&f.resource.id)).flatten();
        let mut values: BTreeMap<&str, Option<String>> = BTreeMap::new();
        values.insert("vault", is_vault.then(|| f.resource.name.clone()));
        values.insert("vaultId", is_vault.then(|| f.resource.id.clone()));
        values.insert("resourceGroup", vault_rg.clone());
        values.insert(
            "subscriptionId",
            Some(f.resource.subscription_id.clone()).filter(|s| !s.is_empty()),
        );
        values.insert(
            "location",
            locations.get(&norm_id(&f.resource.id)).cloned().flatten(),
        );
        values.insert(
            "item",
            Some(f.discriminator.clone()).filter(|d| !d.is_empty()),
        );
        values.insert("workspaceId", sub.and_then(|s| s.workspace.clone()));
        values.insert(
            "actionGroupResourceGroup",
            action_group
                .as_deref()
                .and_then(resource_group)
                .or(vault_rg),
        );
        values.insert("actionGroupId", action_group);
        for unknown in ["vnet", "subnet", "newVault"] {
            values.insert(unknown, None);
        }
        f.fix = Some(fill(template, &values));
    }
}

/// A bash script of the fixes of `findings` (failing, unwaived results
/// with a [`Fix`]), for review: grouped by rule, most severe first; a
/// command that several results share (a subscription's alert) appears once,
/// after the results it answers; a command with unresolved placeholders is
/// commented out with what it needs. Azure text appears only in comments,
/// on one line, with control characters made visible.
pub fn script(findings: &[Finding], rules: &[Rule], origin: &str) -> String {
    let one_line = |s: &str| {
        crate::text::terminal(&s.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned()
    };
    let mut by_rule: BTreeMap<(std::cmp::Reverse<crate::finding::Severity>, &str), Vec<&Finding>> =
        BTreeMap::new();
    let mut total = 0;
    for f in findings {
        if f.status == Status::Fail && f.waiver.is_none() && f.fix.is_some() {
            by_rule
                .entry((std::cmp::Reverse(f.severity), f.rule_id.as_str()))
                .or_default()
                .push(f);
            total += 1;
        }
    }
    let mut out = format!(
        "#!/usr/bin/env bash\n# kvaudit fix: {total} failing result(s) of {} rule(s) in {}.\n# Review every command before you run it: kvaudit runs nothing itself.\n# Commands that need a value the inventory does not hold are commented out.\nset -euo pipefail\n",
        by_rule.len(),
        one_line(origin)
    );
    for ((severity, rule_id), fs) in by_rule {
        let title = rules
            .iter()
            .find(|r| r.metadata.id == rule_id)
            .map(|r| r.metadata.title.as_str())
            .unwrap_or("");
        out.push_str(&format!(
            "\n# ── {} ({}): {}\n",
            one_line(rule_id),
            severity.0.as_str(),
            one_line(title)
        ));
        // Commands in first-seen order, each with the results it answers.
        let mut commands: Vec<(&Fix, Vec<&Finding>)> = Vec::new();
        for f in fs {
            let fix = f.fix.as_ref().expect("filtered on fix");
            match commands.iter_mut().find(|(c, _)| c.az == fix.az) {
                Some((_, list)) => list.push(f),
                None => commands.push((fix, vec![f])),
            }
        }
        for (fix, answered) in commands {
            out.push('\n');
            for f in answered.iter().take(20) {
                let what = if f.discriminator.is_empty() {
                    one_line(&f.resource.name)
                } else {
                    format!(
                        "{} ({})",
                        one_line(&f.resource.name),
                        one_line(&f.discriminator)
                    )
                };
                out.push_str(&format!(
                    "# {what}: {}\n",
                    crate::text::clip(&one_line(&f.message), 200)
                ));
            }
            if answered.len() > 20 {
                out.push_str(&format!("# … and {} more\n", answered.len() - 20));
            }
            if fix.unresolved.is_empty() {
                out.push_str(&fix.az);
                out.push('\n');
            } else {
                out.push_str(&format!(
                    "# needs {} (not in the inventory): fill in, then uncomment\n",
                    fix.unresolved.join(", ")
                ));
                for line in fix.az.lines() {
                    if line.starts_with('#') {
                        out.push_str(line);
                    } else {
                        out.push_str("# ");
                        out.push_str(line);
                    }
                    out.push('\n');
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&'static str, Option<&str>)]) -> BTreeMap<&'static str, Option<String>> {
        pairs
            .iter()
            .map(|(k, v)| (*k, v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn fills_quotes_and_marks_what_is_unknown() {
        let fix = fill(
            "az keyvault update --name {vault} --resource-group {resourceGroup} --x {workspaceId} {json}",
            &values(&[
                ("vault", Some("kv-a")),
                ("resourceGroup", Some("rg with space;rm -rf /")),
                ("workspaceId", None),
            ]),
        );
        assert_eq!(
            fix.az,
            "az keyvault update --name kv-a --resource-group 'rg with space;rm -rf /' --x <workspaceId> {json}"
        );
        assert_eq!(fix.unresolved, vec!["workspaceId"]);
    }

    #[test]
    fn never_writes_control_characters() {
        let fix = fill("echo {item}", &values(&[("item", Some("a\u{1b}[2Jb"))]));
        assert_eq!(fix.az, "echo <item>");
        assert_eq!(fix.unresolved, vec!["item"]);
    }

    #[test]
    fn quotes_what_a_shell_would_expand() {
        let raw = "$(id)`x`'q' ;|&";
        let fix = fill("echo {item}", &values(&[("item", Some(raw))]));
        assert_eq!(shlex::split(&fix.az).unwrap(), vec!["echo", raw]);
        assert!(fix.az.starts_with("echo '"), "{}", fix.az);
    }
}

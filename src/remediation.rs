//! Remediation with real names: a rule's `metadata.fix` template filled in,
//! for each failing result, with the vault, resource group, subscription,
//! workspace and action group the inventory knows. Values are shell-quoted
//! (names come from Azure and are untrusted); a value the inventory cannot
//! give stays a visible `<placeholder>` and is listed in `unresolved`.
//! kvaudit never runs these commands: `kvaudit fix` writes them to a script
//! for review.
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Status};
use crate::inventory::{Collected, Inventory};
use crate::policy::engine::Rule;
use crate::policy::input::norm_id;
use crate::policy::metadata::{BicepScope, BicepTemplate};

/// A failing result's remediation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    /// az CLI commands, values filled in and quoted.
    pub az: String,
    /// Placeholders the inventory could not fill (left as `<name>` in `az`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
    /// Bicep, for the rules whose fix is a new resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bicep: Option<BicepFix>,
}

pub use crate::policy::metadata::PLACEHOLDERS;

/// A failing result's Bicep: a module that declares what the fix needs,
/// with the inventory's names filled in, and where to deploy it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BicepFix {
    pub scope: BicepScope,
    pub subscription_id: String,
    /// For scope `resourceGroup` (`None` when the inventory does not know it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// The module: `var`s for the known values, `param`s for the others,
    /// then the rule's template.
    pub module: String,
    /// The values the module takes as parameters (the inventory lacks them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<String>,
    /// The az command that deploys it from a file `fix.bicep`.
    pub deploy: String,
}

/// What the inventory says about one subscription that fixes need.
#[derive(Default)]
struct SubscriptionFacts {
    /// The workspace most of the subscription's vaults send AuditEvent to.
    workspace: Option<String>,
    /// A usable action group (enabled, with a receiver), first by name.
    action_group: Option<String>,
    /// The location most of the subscription's vaults are in (a
    /// subscription deployment needs one for its metadata).
    location: Option<String>,
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
    let mut locations: HashMap<String, BTreeMap<String, usize>> = HashMap::new();
    for v in &inv.vaults {
        let sub = crate::policy::input::subscription_of(&v.vault.id);
        if let Some(l) = v.vault.location.as_deref().filter(|l| !l.is_empty()) {
            *locations
                .entry(sub.clone())
                .or_default()
                .entry(l.to_string())
                .or_default() += 1;
        }
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
        let best = most_used(&by_ws);
        facts.entry(sub).or_default().workspace = best;
    }
    for (sub, by_location) in locations {
        facts.entry(sub).or_default().location = most_used(&by_location);
    }
    facts
}

/// The most used key; ties go to the first in order, so runs agree.
fn most_used(counts: &BTreeMap<String, usize>) -> Option<String> {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, _)| k.clone())
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
    let mut unresolved: Vec<String> = Vec::new();
    let az = substitute(
        template,
        false,
        |name| values.contains_key(name),
        |name| match usable(values, name) {
            Some(v) => quote(&v),
            None => {
                if !unresolved.iter().any(|u| u == name) {
                    unresolved.push(name.to_string());
                }
                format!("<{name}>")
            }
        },
    );
    Fix {
        az,
        unresolved,
        bicep: None,
    }
}

/// A placeholder's value when it can be written out: known, and without
/// control characters (they would reach a terminal through a script or a
/// file).
fn usable(values: &BTreeMap<&str, Option<String>>, name: &str) -> Option<String> {
    values
        .get(name)
        .cloned()
        .flatten()
        .filter(|v| !v.chars().any(char::is_control))
}

/// `template` with each `{name}` for which `known(name)` holds replaced by
/// `with(name)`; other braces stay. With `bicep`, a `{` right after `$` is
/// Bicep's own interpolation, never a placeholder.
fn substitute(
    template: &str,
    bicep: bool,
    known: impl Fn(&str) -> bool,
    mut with: impl FnMut(&str) -> String,
) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let dollar = bicep && rest[..start].ends_with('$');
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}').map(|end| &after[..end]) {
            Some(name) if !dollar && known(name) => {
                out.push_str(&with(name));
                rest = &after[name.len() + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The Bicep identifier a placeholder stands for (`resourceGroup` is a
/// Bicep function, so it is not shadowed).
fn bicep_identifier(name: &str) -> String {
    match name {
        "resourceGroup" => "resourceGroupName".into(),
        n => n.into(),
    }
}

/// A Bicep string literal: `\`, `'` and `${` escaped.
fn bicep_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Fills a Bicep template: each `{name}` (not Bicep's own `${`) becomes an
/// identifier, declared above the template as a `var` holding the value, or
/// as a `param` when there is none (or it holds control characters).
pub fn fill_bicep(
    t: &BicepTemplate,
    values: &BTreeMap<&str, Option<String>>,
    location: Option<&str>,
) -> BicepFix {
    let mut used: Vec<&str> = Vec::new();
    let body = substitute(
        &t.template,
        true,
        |name| PLACEHOLDERS.contains(&name),
        |name| {
            if let Some(p) = PLACEHOLDERS.iter().find(|p| **p == name)
                && !used.contains(p)
            {
                used.push(p);
            }
            bicep_identifier(name)
        },
    );
    // An empty value cannot name anything in Bicep: a parameter instead.
    let value = |name: &str| usable(values, name).filter(|v| !v.is_empty());
    let mut module = String::new();
    if t.scope == BicepScope::Subscription {
        module.push_str("targetScope = 'subscription'\n\n");
    }
    let mut parameters = Vec::new();
    for name in PLACEHOLDERS.iter().filter(|p| used.contains(p)) {
        let ident = bicep_identifier(name);
        match value(name) {
            Some(v) => module.push_str(&format!("var {ident} = {}\n", bicep_string(&v))),
            None => {
                module.push_str(&format!(
                    "@description('Not in the inventory: fill in.')\nparam {ident} string\n"
                ));
                parameters.push(name.to_string());
            }
        }
    }
    if !used.is_empty() {
        module.push('\n');
    }
    module.push_str(body.trim_end());
    module.push('\n');
    let subscription_id = value("subscriptionId").unwrap_or_default();
    let resource_group = t.resource_group.as_deref().and_then(value);
    let sub = if subscription_id.is_empty() {
        "<subscriptionId>".to_string()
    } else {
        quote(&subscription_id)
    };
    let deploy = match t.scope {
        BicepScope::ResourceGroup => format!(
            "az deployment group create --subscription {sub} --resource-group {} --template-file fix.bicep",
            resource_group
                .as_deref()
                .map(quote)
                .unwrap_or_else(|| "<resourceGroup>".into())
        ),
        BicepScope::Subscription => format!(
            "az deployment sub create --subscription {sub} --location {} --template-file fix.bicep",
            location
                .filter(|l| !l.chars().any(char::is_control))
                .map(quote)
                .unwrap_or_else(|| "<location>".into())
        ),
    };
    BicepFix {
        scope: t.scope,
        subscription_id,
        resource_group,
        module,
        parameters,
        deploy,
    }
}

/// What the fixes are filled from, read off the inventory before it is
/// evaluated (evaluation releases each vault's collected parts, see
/// [`crate::policy::PolicySet::evaluate_releasing`]).
pub struct Facts {
    subscriptions: HashMap<String, SubscriptionFacts>,
    locations: HashMap<String, Option<String>>,
}

impl Facts {
    pub fn of(inv: &Inventory) -> Facts {
        Facts {
            subscriptions: subscription_facts(inv),
            locations: inv
                .vaults
                .iter()
                .map(|v| (norm_id(&v.vault.id), v.vault.location.clone()))
                .collect(),
        }
    }
}

/// Whether `text` holds `name` as a whole identifier (not inside a longer
/// one, as `vault` is inside `KeyVault/vaults`).
fn names_identifier(text: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(ident)
            && !text[at + name.len()..].chars().next().is_some_and(ident)
    })
}

/// Adds a [`Fix`] to every failing result of a rule with a `fix` template.
///
/// Results whose fix reads the same values (a subscription's missing alert,
/// failing on each of its vaults) share one `Arc<Fix>`, filled once: at
/// 10,000 vaults at Azure's limits, 86,411 failing results share 72,371
/// fills, and peak RSS with every rule falls from 401 MB to 331–334 MB.
pub fn apply(findings: &mut [Finding], rules: &[Rule], facts: &Facts) {
    let templates: HashMap<&str, &crate::policy::metadata::FixTemplate> = rules
        .iter()
        .filter_map(|r| r.metadata.fix.as_ref().map(|f| (r.metadata.id.as_str(), f)))
        .collect();
    if templates.is_empty() {
        return;
    }
    let (subs, locations) = (&facts.subscriptions, &facts.locations);
    let values_of = |f: &Finding| -> BTreeMap<&'static str, Option<String>> {
        let sub = subs.get(&f.resource.subscription_id);
        let is_vault = f
            .resource
            .kind
            .eq_ignore_ascii_case("Microsoft.KeyVault/vaults");
        let action_group = sub.and_then(|s| s.action_group.clone());
        let vault_rg = is_vault.then(|| resource_group(&f.resource.id)).flatten();
        let mut values: BTreeMap<&'static str, Option<String>> = BTreeMap::new();
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
        values
    };
    // What a fix depends on: its rule, the values its templates name (as
    // `{name}` in az, as an identifier in Bicep), and for Bicep the
    // subscription's location.
    let named: HashMap<&str, Vec<&str>> = templates
        .iter()
        .map(|(id, t)| {
            let names = PLACEHOLDERS
                .iter()
                .copied()
                .filter(|name| {
                    t.az.contains(&format!("{{{name}}}"))
                        || t.bicep.as_ref().is_some_and(|b| {
                            names_identifier(&b.template, name)
                                || b.resource_group.as_deref() == Some(*name)
                        })
                })
                .collect();
            (*id, names)
        })
        .collect();
    // A fix's key is the SHA-256 of what it depends on: 32 bytes per result
    // instead of the text (about 300 bytes each, 860,000 failing results at
    // 100,000 vaults).
    let key_of = |f: &Finding| -> Option<[u8; 32]> {
        if f.status != Status::Fail {
            return None;
        }
        let template = templates.get(f.rule_id.as_str())?;
        let values = values_of(f);
        let mut key = f.rule_id.clone();
        for name in &named[f.rule_id.as_str()] {
            // Debug quoting keeps the key unambiguous whatever the value holds.
            key.push_str(&format!("\u{0}{:?}", values.get(name).cloned().flatten()));
        }
        if template.bicep.is_some() {
            let sub = subs.get(&f.resource.subscription_id);
            key.push_str(&format!(
                "\u{0}{:?}",
                sub.and_then(|s| s.location.as_deref())
            ));
        }
        Some(<sha2::Sha256 as sha2::Digest>::digest(key.as_bytes()).into())
    };
    let keys: Vec<Option<[u8; 32]>> = findings.par_iter().map(key_of).collect();
    // The first result of each distinct key is filled; the others share it.
    let mut first: HashMap<&[u8; 32], usize> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        if let Some(k) = k {
            first.entry(k).or_insert(i);
        }
    }
    let fill_one = |f: &Finding| -> Option<std::sync::Arc<Fix>> {
        let template = templates.get(f.rule_id.as_str())?;
        let values = values_of(f);
        let sub = subs.get(&f.resource.subscription_id);
        let mut fix = fill(&template.az, &values);
        fix.bicep = template
            .bicep
            .as_ref()
            .map(|b| fill_bicep(b, &values, sub.and_then(|s| s.location.as_deref())));
        Some(std::sync::Arc::new(fix))
    };
    let firsts: Vec<(&[u8; 32], usize)> = first.into_iter().collect();
    let filled: HashMap<&[u8; 32], std::sync::Arc<Fix>> = firsts
        .par_iter()
        .filter_map(|(k, i)| Some((*k, fill_one(&findings[*i])?)))
        .collect();
    tracing::debug!(
        "{} failing result(s) with a fix share {} distinct fix(es)",
        keys.iter().flatten().count(),
        filled.len()
    );
    for (f, k) in findings.iter_mut().zip(&keys) {
        if let Some(k) = k {
            f.fix = filled.get(k).cloned();
        }
    }
}

/// A bash script of the fixes of `findings` (failing, unwaived results
/// with a [`Fix`]), for review: grouped by rule, most severe first; a
/// command that several results share (a subscription's alert) appears once,
/// after the results it answers; a command with unresolved placeholders is
/// commented out with what it needs. Azure text appears only in comments,
/// on one line, with control characters made visible.
pub fn script(findings: &[Finding], rules: &[Rule], origin: &str) -> String {
    let by_rule = failing_by_rule(findings);
    let total: usize = by_rule.values().map(Vec::len).sum();
    let mut out = format!(
        "#!/usr/bin/env bash\n# kvaudit fix: {total} failing result(s) of {} rule(s) in {}.\n# Review every command before you run it: kvaudit runs nothing itself.\n# Commands that need a value the inventory does not hold are commented out.\nset -euo pipefail\n",
        by_rule.len(),
        one_line(origin)
    );
    for ((severity, rule_id), fs) in by_rule {
        out.push_str(&rule_heading("#", rules, rule_id, severity.0));
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
            out.push_str(&answered_comments("#", &answered));
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

/// The failing, unwaived results with a fix, by rule, most severe first.
fn failing_by_rule(
    findings: &[Finding],
) -> BTreeMap<(std::cmp::Reverse<crate::finding::Severity>, &str), Vec<&Finding>> {
    let mut by_rule: BTreeMap<_, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        if f.status == Status::Fail && f.waiver.is_none() && f.fix.is_some() {
            by_rule
                .entry((std::cmp::Reverse(f.severity), f.rule_id.as_str()))
                .or_default()
                .push(f);
        }
    }
    by_rule
}

/// Azure text for a comment: one line, control characters made visible.
fn one_line(s: &str) -> String {
    crate::text::terminal(&s.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned()
}

/// A comment line (`#` or `//`) heading a rule's fixes: id, severity, title.
fn rule_heading(
    mark: &str,
    rules: &[Rule],
    rule_id: &str,
    severity: crate::finding::Severity,
) -> String {
    let title = rules
        .iter()
        .find(|r| r.metadata.id == rule_id)
        .map(|r| r.metadata.title.as_str())
        .unwrap_or("");
    format!(
        "\n{mark} ── {} ({}): {}\n",
        one_line(rule_id),
        severity.as_str(),
        one_line(title)
    )
}

/// Comment lines (`#` or `//`) naming the results a fix answers, one line
/// each with its message, at most 20 and a count of the rest.
fn answered_comments(mark: &str, answered: &[&Finding]) -> String {
    let mut out = String::new();
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
            "{mark} {what}: {}\n",
            crate::text::clip(&one_line(&f.message), 200)
        ));
    }
    if answered.len() > 20 {
        out.push_str(&format!("{mark} … and {} more\n", answered.len() - 20));
    }
    out
}

/// `kvaudit fix --format bicep`: a `main.bicep` (subscription scope) that
/// deploys one module per distinct fix of `findings` to its resource group
/// or subscription, and the modules (`modules/NNN-rule.bicep`), as
/// (relative path, text). A module that needs values the inventory lacks
/// is written, but its `module` block in main.bicep is commented out with
/// what it needs.
pub fn bicep_files(findings: &[Finding], rules: &[Rule], origin: &str) -> Vec<(String, String)> {
    let by_rule = failing_by_rule(findings);
    let with_bicep: usize = by_rule
        .values()
        .flatten()
        .filter(|f| f.fix.as_ref().is_some_and(|x| x.bicep.is_some()))
        .count();
    let without: Vec<&str> = by_rule
        .iter()
        .filter(|(_, fs)| {
            fs.iter()
                .all(|f| f.fix.as_ref().is_some_and(|x| x.bicep.is_none()))
        })
        .map(|((_, id), _)| *id)
        .collect();
    let mut main = format!(
        "// kvaudit fix: Bicep for {with_bicep} failing result(s) in {}.\n// Review every module before you deploy; kvaudit deploys nothing itself. Then:\n//   az deployment sub create --location <location> --template-file main.bicep\n// Modules that need a value the inventory does not hold are commented out below.\n",
        one_line(origin)
    );
    if !without.is_empty() {
        main.push_str(&format!(
            "// No Bicep for {} (the fix changes an existing resource: see `kvaudit fix` for the az commands).\n",
            without.join(", ")
        ));
    }
    main.push_str("targetScope = 'subscription'\n");
    let mut files = Vec::new();
    let mut n = 0usize;
    for ((severity, rule_id), fs) in by_rule {
        // Distinct modules in first-seen order, each with the results it answers.
        let mut modules: Vec<(&BicepFix, Vec<&Finding>)> = Vec::new();
        for f in fs {
            let Some(b) = f.fix.as_ref().and_then(|x| x.bicep.as_ref()) else {
                continue;
            };
            match modules.iter_mut().find(|(m, _)| {
                m.module == b.module
                    && m.resource_group == b.resource_group
                    && m.subscription_id == b.subscription_id
            }) {
                Some((_, list)) => list.push(f),
                None => modules.push((b, vec![f])),
            }
        }
        if modules.is_empty() {
            continue;
        }
        main.push_str(&rule_heading("//", rules, rule_id, severity.0));
        for (b, answered) in modules {
            n += 1;
            let slug: String = rule_id
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let path = format!("modules/{n:03}-{slug}.bicep");
            let comments = answered_comments("//", &answered);
            files.push((
                path.clone(),
                format!(
                    "// kvaudit fix for {}.\n{comments}\n{}",
                    one_line(rule_id),
                    b.module
                ),
            ));
            let scope = match (b.scope, b.resource_group.as_deref()) {
                (_, _) if b.subscription_id.is_empty() => None,
                (BicepScope::ResourceGroup, Some(rg)) => Some(format!(
                    "resourceGroup({}, {})",
                    bicep_string(&b.subscription_id),
                    bicep_string(rg)
                )),
                (BicepScope::ResourceGroup, None) => None,
                (BicepScope::Subscription, _) => Some(format!(
                    "subscription({})",
                    bicep_string(&b.subscription_id)
                )),
            };
            let mut needs: Vec<String> = b.parameters.clone();
            if scope.is_none() {
                needs.push("the resource group or subscription to deploy to".into());
            }
            let block = format!(
                "module fix{n:03} '{path}' = {{\n  name: 'kvaudit-fix-{n:03}'\n  scope: {}\n}}\n",
                scope.as_deref().unwrap_or("<scope>")
            );
            main.push('\n');
            main.push_str(&comments);
            if needs.is_empty() {
                main.push_str(&block);
            } else {
                main.push_str(&format!(
                    "// needs {} (not in the inventory): give them values in {path}, then uncomment\n",
                    needs.join(", ")
                ));
                for line in block.lines() {
                    main.push_str("// ");
                    main.push_str(line);
                    main.push('\n');
                }
            }
        }
    }
    files.insert(0, ("main.bicep".to_string(), main));
    files
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

//! `kvaudit policy list` and `kvaudit policy test`.
use std::path::Path;

use anyhow::{Context, Result};
use comfy_table::{ContentArrangement, Table};
use serde_json::json;

use crate::cli::{ListFormat, PolicyArgs};
use kvaudit::policy::{builtin, source, testing};

pub fn list(args: &PolicyArgs, format: ListFormat) -> Result<i32> {
    let set = super::compile(args)?;
    match format {
        ListFormat::Json => {
            let rules: Vec<_> = set
                .rules()
                .iter()
                .map(|r| json!({"file": r.file, "package": r.package, "builtin": r.builtin, "metadata": r.metadata}))
                .collect();
            super::emit(&(serde_json::to_string_pretty(&rules)? + "\n"), None)?;
        }
        ListFormat::Table => {
            // One line per rule at the terminal's width; the newest CIS
            // version's control (JSON has every version and Azure Policy id).
            use std::io::IsTerminal;
            let width =
                kvaudit::report::table::View::width_for(std::io::stdout().is_terminal()).max(60);
            let mut t = Table::new();
            t.load_preset(comfy_table::presets::NOTHING)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_truncation_indicator("…")
                .set_width(width)
                .set_header(vec!["Rule", "Severity", "CIS Azure", "Title", "Source"]);
            for r in set.rules() {
                let m = &r.metadata;
                let cis = m
                    .compliance
                    .get("cis-azure")
                    .and_then(|v| v.iter().last())
                    .map(|(ver, id)| format!("v{ver} {id}"))
                    .unwrap_or_else(|| "-".into());
                let sev = set.data().severity_override(&m.id).unwrap_or(m.severity);
                let mut row = comfy_table::Row::from(vec![
                    kvaudit::text::terminal(&m.id).into_owned(),
                    sev.as_str().to_string(),
                    cis,
                    kvaudit::text::terminal(&m.title).into_owned(),
                    if r.builtin {
                        "built-in".into()
                    } else {
                        kvaudit::text::terminal(&r.file).into_owned()
                    },
                ]);
                row.max_height(1);
                t.add_row(row);
            }
            super::emit(
                &format!(
                    "{} rule(s); --format json lists every CIS version and Azure Policy id\n{t}\n",
                    set.rules().len()
                ),
                None,
            )?;
        }
    }
    Ok(0)
}

pub fn test(dir: Option<&Path>, data: Option<&Path>, verbose: bool) -> Result<i32> {
    let data = super::load_data(data)?;
    let files = match dir {
        None => builtin::files(),
        Some(d) => super::merge_builtin(source::load_dir(d)?, false),
    };
    let from_dir = |f: &kvaudit::policy::PolicyFile| dir.is_none() || !f.builtin;
    let outcomes = testing::run(&files, &data, from_dir)?;
    let failed: Vec<_> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    for o in &outcomes {
        match &o.failure {
            Some(why) => println!("FAIL {}: {}: {why}", o.file, o.name),
            None if verbose => println!("PASS {}: {}", o.file, o.name),
            None => {}
        }
    }
    if outcomes.is_empty() {
        println!("0 passed, 0 failed");
        anyhow::bail!(
            "no test_ rules found{}; tests live in *_test.rego files beside the policies",
            dir.map(|d| format!(" in {}", d.display()))
                .unwrap_or_default()
        );
    }
    println!(
        "{} passed, {} failed",
        outcomes.len() - failed.len(),
        failed.len()
    );
    Ok(if failed.is_empty() { 0 } else { 1 })
}

/// `kvaudit policy docs`: the rule reference, generated from the metadata.
pub fn docs(args: &PolicyArgs, output: Option<&Path>) -> Result<i32> {
    let set = super::compile(args)?;
    let text = kvaudit::report::rules_doc::render(set.rules(), set.data());
    super::emit(&text, output)?;
    Ok(0)
}

/// `kvaudit policy new ID`: a rule package and its tests, ready to edit.
pub fn new(id: &str, dir: &Path) -> Result<i32> {
    let ok = id.contains('/')
        && !id.starts_with('/')
        && !id.ends_with('/')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_/".contains(c));
    if !ok {
        anyhow::bail!(
            "rule id {id:?} must look like `team/rule-name` (lower case, digits, - and _)"
        );
    }
    let package = id.replace(['-', '/'], "_");
    let segments: Vec<&str> = id.split('/').collect();
    let file_stem = segments.last().unwrap_or(&"rule").replace('-', "_");
    let sub = dir.join(segments[..segments.len() - 1].join("/"));
    std::fs::create_dir_all(&sub)
        .with_context(|| format!("{}: cannot create the directory", sub.display()))?;
    let rule = sub.join(format!("{file_stem}.rego"));
    let test = sub.join(format!("{file_stem}_test.rego"));
    for f in [&rule, &test] {
        if f.exists() {
            anyhow::bail!(
                "{}: already exists; pick another id or directory",
                f.display()
            );
        }
    }
    std::fs::write(&rule, scaffold_rule(id, &package))
        .with_context(|| format!("{}: cannot write", rule.display()))?;
    std::fs::write(&test, scaffold_test(&package))
        .with_context(|| format!("{}: cannot write", test.display()))?;
    println!("created {} and {}", rule.display(), test.display());
    println!(
        "next: edit them, then run `kvaudit policy test {}`",
        dir.display()
    );
    Ok(0)
}

fn scaffold_rule(id: &str, package: &str) -> String {
    format!(
        r##"# {id}: describe what this rule checks.
package custom.{package}

import data.kvaudit.lib

metadata := {{
	"id": "{id}",
	"title": "Vaults have purge protection enabled",
	"description": "Replace this example: it passes when properties.enablePurgeProtection is true.",
	"severity": "medium",
	"help": concat("\n", [
		"Why this matters, in plain text.",
		"Remediation: az keyvault update --name <vault> --enable-purge-protection true",
	]),
	"markdown": concat("\n", [
		"Why this matters, in markdown.",
		"",
		"**Remediation (az CLI)**",
		"```sh",
		"az keyvault update --name <vault> --enable-purge-protection true",
		"```",
	]),
	"tags": ["custom"],
	# What the rule reads besides the vault object, so a scan collects it:
	# diagnosticSettings, auditLogs, auditVolume, activityLogAlerts,
	# scheduledQueryRules, pricings, keys, keyRotation, secrets, apiHits.
	"inputs": [],
}}

# One result per vault: pass, fail or not_evaluable, with a message.
results contains {{"status": "pass", "message": "purge protection is enabled"}} if {{
	input.vault.properties.enablePurgeProtection == true
}}

results contains {{"status": "fail", "message": sprintf("purge protection of %v is off", [input.resource.name])}} if {{
	not input.vault.properties.enablePurgeProtection == true
	lib.non_empty(input.resource.name)
}}
"##
    )
}

fn scaffold_test(package: &str) -> String {
    format!(
        r#"package custom.{package}

test_pass_when_enabled if {{
	inp := {{"resource": {{"name": "kv1"}}, "vault": {{"properties": {{"enablePurgeProtection": true}}}}}}
	some r in results with input as inp
	r.status == "pass"
}}

test_fail_when_missing if {{
	inp := {{"resource": {{"name": "kv1"}}, "vault": {{"properties": {{}}}}}}
	some r in results with input as inp
	r.status == "fail"
	r.message == "purge protection of kv1 is off"
}}
"#
    )
}

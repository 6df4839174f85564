//! `kvaudit policy list` and `kvaudit policy test`.
use std::path::Path;

use anyhow::Result;
use comfy_table::presets::UTF8_FULL_CONDENSED;
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
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(160)
                .set_header(vec![
                    "Rule",
                    "Severity",
                    "Title",
                    "CIS Azure",
                    "Azure Policy",
                    "Source",
                ]);
            for r in set.rules() {
                let m = &r.metadata;
                let cis = m
                    .compliance
                    .get("cis-azure")
                    .map(|v| {
                        v.iter()
                            .map(|(ver, id)| format!("v{ver} {id}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_else(|| "-".into());
                let sev = set.data().severity_override(&m.id).unwrap_or(m.severity);
                t.add_row(vec![
                    m.id.clone(),
                    sev.as_str().to_string(),
                    m.title.clone(),
                    cis,
                    if m.azure_policy.is_empty() {
                        "-".into()
                    } else {
                        m.azure_policy.join(", ")
                    },
                    if r.builtin {
                        "built-in".into()
                    } else {
                        r.file.clone()
                    },
                ]);
            }
            super::emit(&format!("{t}\n{} rule(s)\n", set.rules().len()), None)?;
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

//! The SARIF report: valid against the SARIF 2.1.0 JSON schema (the copy
//! serde-sarif ships, in tests/schemas/), and within GitHub code scanning's
//! ingestion rules that the schema does not express. The Microsoft SARIF
//! multitool runs on the same file in `scripts/test.sh`.
mod common;

use std::collections::BTreeSet;

use assert_cmd::Command;
use serde_json::Value;

fn demo_sarif() -> Value {
    let out = Command::cargo_bin("kvaudit")
        .unwrap()
        .args(["eval", "--demo", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemas/sarif-schema-2.1.0.json"
    ))
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[test]
fn demo_sarif_is_valid_against_the_schema() {
    let v = schema();
    let log = demo_sarif();
    let errors: Vec<String> = v
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator is not vacuous: a wrong enum value is caught.
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["level"] = Value::from("high");
    assert!(!v.is_valid(&bad));
}

/// GitHub's rules (docs "SARIF support for code scanning" and codeql-action's upload-lib).
fn github_problems(log: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let runs = log["runs"].as_array().unwrap();
    if runs.len() > 20 {
        p.push("more than 20 runs".into());
    }
    for run in runs {
        let driver = &run["tool"]["driver"];
        if driver["name"].as_str().unwrap_or("").is_empty() {
            p.push("tool.driver.name missing".into());
        }
        let rules = driver["rules"].as_array().unwrap();
        for r in rules {
            let id = r["id"].as_str().unwrap_or("?");
            for k in ["shortDescription", "fullDescription", "help"] {
                let t = r[k]["text"].as_str().unwrap_or("");
                if t.is_empty() {
                    p.push(format!("rule {id}: {k}.text missing"));
                }
                if k != "help" && t.chars().count() > 1024 {
                    p.push(format!("rule {id}: {k}.text over 1024 characters"));
                }
            }
            let sev = r["properties"]["security-severity"].as_str();
            if sev.and_then(|s| s.parse::<f64>().ok()).is_none() {
                p.push(format!(
                    "rule {id}: security-severity must be a numeric string"
                ));
            }
            if r["properties"]["tags"].as_array().map_or(0, |t| t.len()) > 20 {
                p.push(format!("rule {id}: more than 20 tags"));
            }
        }
        let results = run["results"].as_array().expect("results array present");
        if results.len() > 25_000 {
            p.push("more than 25,000 results".into());
        }
        for (j, res) in results.iter().enumerate() {
            let w = format!("results[{j}]");
            if res["message"]["text"].as_str().unwrap_or("").is_empty() {
                p.push(format!("{w}: message.text missing"));
            }
            if res.get("kind").is_some_and(|k| k != "fail") {
                p.push(format!(
                    "{w}: kind {} (GitHub opens an alert anyway)",
                    res["kind"]
                ));
            }
            if res.get("suppressions").is_some() {
                p.push(format!("{w}: suppressions present"));
            }
            if res.get("baselineState") == Some(&Value::from("absent")) {
                p.push(format!("{w}: absent result"));
            }
            let loc = &res["locations"][0];
            let uri = loc["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or("");
            if uri.is_empty()
                || uri.starts_with('/')
                || uri.contains("://")
                || uri.contains(char::is_whitespace)
            {
                p.push(format!("{w}: unusable artifact uri {uri:?}"));
            }
            if loc["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .is_none()
            {
                p.push(format!("{w}: region.startLine missing"));
            }
            if res["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap_or("")
                .is_empty()
            {
                p.push(format!("{w}: primaryLocationLineHash missing"));
            }
            let rule_id = res["ruleId"].as_str().unwrap();
            let idx = res["ruleIndex"].as_u64().unwrap() as usize;
            if rules[idx]["id"] != rule_id {
                p.push(format!("{w}: ruleIndex {idx} is not {rule_id}"));
            }
        }
    }
    p
}

#[test]
fn demo_sarif_meets_github_ingestion_rules() {
    let log = demo_sarif();
    let problems = github_problems(&log);
    assert!(problems.is_empty(), "{problems:#?}");
    // The checker is not vacuous.
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["kind"] = Value::from("pass");
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        Value::from("/abs/path");
    assert_eq!(github_problems(&bad).len(), 2);
}

#[test]
fn sarif_holds_failing_results_only_and_names_what_was_not_evaluable() {
    let log = demo_sarif();
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    let json_out = Command::cargo_bin("kvaudit")
        .unwrap()
        .args(["eval", "--demo", "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let failing = findings.iter().filter(|f| f["status"] == "fail").count();
    let not_evaluable: Vec<&Value> = findings
        .iter()
        .filter(|f| f["status"] == "not_evaluable")
        .collect();
    assert_eq!(results.len(), failing);
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), not_evaluable.len());
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    for f in not_evaluable {
        let id = f["resource"]["id"].as_str().unwrap();
        assert!(
            notes
                .iter()
                .any(|n| n["message"]["text"].as_str().unwrap().contains(id)
                    && n["associatedRule"]["id"] == f["ruleId"]
                    && n["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == id),
            "no notification names {id} for {}",
            f["ruleId"]
        );
    }
    // Every result carries the ARM id as a logical location and a repo-relative pseudo path.
    for r in results {
        let l = &r["locations"][0];
        let id = l["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap();
        assert_eq!(l["logicalLocations"][0]["kind"], "resource");
        let uri = l["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert_eq!(
            uri,
            format!("azure/{}", id.trim_start_matches('/').to_lowercase())
        );
        assert_eq!(l["physicalLocation"]["region"]["startLine"], 1);
    }
}

#[test]
fn fingerprints_are_stable_and_distinct() {
    let a = demo_sarif();
    let b = demo_sarif();
    let fp = |log: &Value| -> Vec<String> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(fp(&a), fp(&b));
    let unique: BTreeSet<String> = fp(&a).into_iter().collect();
    assert_eq!(
        unique.len(),
        fp(&a).len(),
        "two results share a fingerprint"
    );
    // Two 403 findings on the same vault differ only by their discriminator.
    let forbidden: Vec<&Value> = a["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "kv/forbidden-requests")
        .collect();
    assert!(forbidden.len() >= 2);
    assert_ne!(
        forbidden[0]["partialFingerprints"],
        forbidden[1]["partialFingerprints"]
    );
    assert!(fp(&a).iter().all(|f| f.len() == 18 && f.ends_with(":1")));
}

#[test]
fn rules_carry_help_tags_and_severity() {
    let log = demo_sarif();
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 18, "{ids:?}");
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    let logging = rule("kv/audit-logging");
    assert_eq!(logging["properties"]["security-severity"], "8.0");
    assert_eq!(logging["defaultConfiguration"]["level"], "error");
    let tags: Vec<&str> = logging["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&"security") && tags.contains(&"cis-azure-6.0/6.1.1.4"),
        "{tags:?}"
    );
    let md = logging["help"]["markdown"].as_str().unwrap();
    assert!(
        md.contains("az monitor diagnostic-settings create") && md.contains("```bicep"),
        "{md}"
    );
    assert_eq!(
        rule("kv/unauthorized-requests")["properties"]["security-severity"],
        "5.5"
    );
    // A rule that answers two CIS controls carries both ids as tags; GitHub
    // shows 10 tags, so `security` and the newest benchmark versions come first.
    let tags = rule("kv/key-expiry")["properties"]["tags"]
        .as_array()
        .unwrap()
        .clone();
    assert!(tags.len() <= 10, "{tags:?}");
    assert_eq!(tags[0], "security");
    assert_eq!(tags[1], "cis-azure-6.0/8.3.1");
    assert_eq!(tags[2], "cis-azure-6.0/8.3.2");
    assert!(tags.iter().any(|t| t == "cis-azure-5.0/8.3.1"), "{tags:?}");
    for r in log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
    {
        let tags = r["properties"]["tags"].as_array().unwrap();
        assert!(tags.len() <= 10, "{}: {tags:?}", r["id"]);
        if let Some(first_cis) = tags
            .iter()
            .position(|t| t.as_str().unwrap().starts_with("cis-azure-"))
        {
            assert!(
                tags[first_cis]
                    .as_str()
                    .unwrap()
                    .starts_with("cis-azure-6.0/"),
                "{}: {tags:?}",
                r["id"]
            );
        }
        // Every built-in rule links to its section of docs/rules.md.
        let uri = r["helpUri"]
            .as_str()
            .unwrap_or_else(|| panic!("{} has no helpUri", r["id"]));
        let anchor = r["id"].as_str().unwrap().replace('/', "");
        assert_eq!(
            uri,
            format!("https://github.com/kvaudit/kvaudit/blob/main/docs/rules.md#{anchor}")
        );
    }
    assert_eq!(
        rule("kv/purge-protection")["properties"]["azurePolicy"],
        serde_json::json!(["0b60c0b2-2dc2-4e1c-b5c9-abbed971de53"])
    );
}

fn sarif_with(args: &[&str]) -> Value {
    let out = Command::cargo_bin("kvaudit")
        .unwrap()
        .args(["eval", "--demo", "--format", "sarif"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn full_profile_holds_every_result_with_its_kind() {
    let log = sarif_with(&["--sarif-profile", "full"]);
    let v = schema();
    let errors: Vec<String> = v
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let kinds: std::collections::BTreeMap<String, usize> =
        results.iter().fold(Default::default(), |mut m, r| {
            *m.entry(r["kind"].as_str().unwrap().to_string())
                .or_default() += 1;
            m
        });
    // The demo: 47 failing, 19 not evaluable, 68 passed (tests/demo.rs).
    assert_eq!(kinds.get("fail"), Some(&47), "{kinds:?}");
    assert_eq!(kinds.get("open"), Some(&19), "{kinds:?}");
    assert_eq!(kinds.get("pass"), Some(&68), "{kinds:?}");
    assert!(
        results
            .iter()
            .filter(|r| r["kind"] != "fail")
            .all(|r| r["level"] == "none")
    );
    // The GitHub profile of the same run holds the failing ones only.
    assert_eq!(
        demo_sarif()["runs"][0]["results"].as_array().unwrap().len(),
        47
    );
}

#[test]
fn category_sets_the_automation_id() {
    let log = sarif_with(&["--category", "kvaudit/prod"]);
    assert_eq!(log["runs"][0]["automationDetails"]["id"], "kvaudit/prod/");
    assert!(demo_sarif()["runs"][0].get("automationDetails").is_none());
}

#[test]
fn iac_sarif_points_at_the_template_line_and_meets_the_same_rules() {
    let out = Command::cargo_bin("kvaudit")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "iac",
            "tests/fixtures/iac/no-logging.json",
            "--format",
            "sarif",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = schema()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(github_problems(&log), Vec::<String>::new());
    let results = log["runs"][0]["results"].as_array().unwrap();
    let audit = results
        .iter()
        .find(|r| r["ruleId"] == "kv/audit-logging")
        .expect("the vault without logging fails kv/audit-logging");
    let physical = &audit["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "tests/fixtures/iac/no-logging.json"
    );
    // The line of the vault's object in the template.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/iac/no-logging.json"
    ))
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let name_line = lines
        .iter()
        .position(|l| l.contains("\"type\": \"Microsoft.KeyVault/vaults\","))
        .unwrap();
    assert_eq!(physical["region"]["startLine"], name_line); // the `{` is the line above (1-based)
    assert_eq!(lines[name_line - 1].trim(), "{");
}

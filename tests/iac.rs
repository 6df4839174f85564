//! `kvaudit iac`: ARM templates (hand-written after the template schema and
//! `bicep build` output, in tests/fixtures/iac/) judged by the built-in
//! rules, each finding at the line that declares its vault.
use std::collections::BTreeMap;

use assert_cmd::Command;
use serde_json::Value;

const DIR: &str = "tests/fixtures/iac";

fn kvaudit() -> Command {
    let mut c = Command::cargo_bin("kvaudit").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// `iac` with JSON output: exit code and (rule, vault) → finding.
fn iac(args: &[&str]) -> (i32, BTreeMap<(String, String), Value>) {
    let out = kvaudit()
        .arg("iac")
        .args(args)
        .args(["--format", "json", "--show-passed"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 1 || code == 3,
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                (
                    f["ruleId"].as_str().unwrap().to_string(),
                    f["resource"]["name"].as_str().unwrap().to_string(),
                ),
                f.clone(),
            )
        })
        .collect();
    (code, findings)
}

/// The line of the `{` that opens the object whose `"name"` line is
/// `name_line` (found in the text, independently of kvaudit's parser).
fn object_line(file: &str, marker: &str) -> usize {
    let text =
        std::fs::read_to_string(format!("{}/{DIR}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker} not in {file}"));
    let open = (0..at)
        .rev()
        .find(|i| lines[*i].trim_end().ends_with('{') && !lines[*i].contains('"'))
        .unwrap();
    open + 1
}

fn status(f: &BTreeMap<(String, String), Value>, rule: &str, vault: &str) -> String {
    f.get(&(rule.to_string(), vault.to_string()))
        .unwrap_or_else(|| {
            panic!(
                "no {rule} finding on {vault}: {:?}",
                f.keys().collect::<Vec<_>>()
            )
        })["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_compliant_template_passes_every_rule_that_can_judge_it() {
    let (code, f) = iac(&[&format!("{DIR}/compliant.json")]);
    assert_eq!(code, 0);
    // 13 rules judge templates; the request, metrics and subscription rules do not run.
    assert_eq!(f.len(), 13, "{:?}", f.keys().collect::<Vec<_>>());
    let line = object_line("compliant.json", "\"type\": \"Microsoft.KeyVault/vaults\",");
    for ((rule, vault), x) in &f {
        assert_eq!(x["status"], "pass", "{rule}: {}", x["message"]);
        assert!(vault.starts_with("kv-pay-"), "{vault}");
        assert_eq!(
            x["resource"]["source"]["file"],
            format!("{DIR}/compliant.json")
        );
        assert_eq!(x["resource"]["source"]["line"], line, "{rule}");
    }
    assert!(
        !f.keys()
            .any(|(r, _)| r == "kv/unauthorized-requests" || r == "kv/defender")
    );
}

#[test]
fn a_vault_without_logging_or_alerts_fails_at_its_line_and_unknown_values_never_pass() {
    let (code, f) = iac(&[&format!("{DIR}/no-logging.json")]);
    assert_eq!(code, 1);
    for rule in [
        "kv/audit-logging",
        "kv/admin-alert",
        "kv/log-tamper-alert",
        "kv/access-policy-alert",
    ] {
        assert_eq!(status(&f, rule, "kv-nolog"), "fail", "{rule}");
    }
    let x = &f[&("kv/audit-logging".to_string(), "kv-nolog".to_string())];
    assert_eq!(
        x["resource"]["source"]["line"],
        object_line(
            "no-logging.json",
            "\"type\": \"Microsoft.KeyVault/vaults\","
        )
    );
    // enablePurgeProtection comes from a parameter without a value.
    let p = &f[&("kv/purge-protection".to_string(), "kv-nolog".to_string())];
    assert_eq!(p["status"], "not_evaluable");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("parameter purgeProtection has no value"),
        "{p}"
    );
    // The keys and secrets are declared and compliant: unaffected.
    assert_eq!(status(&f, "kv/key-rotation", "kv-nolog"), "pass");
    // The secret's value (a parameter) is never carried.
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("planned.json");
    kvaudit()
        .args([
            "iac",
            &format!("{DIR}/no-logging.json"),
            "-q",
            "--save-inventory",
        ])
        .arg(&saved)
        .output()
        .unwrap();
    let inv: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let secret = &inv["vaults"][0]["secrets"]["value"][0];
    assert_eq!(secret["name"], "db-password");
    assert!(secret["properties"].get("value").is_none(), "{secret}");
    assert_eq!(secret["properties"]["attributes"]["exp"], 1830297600);
}

#[test]
fn a_parameters_file_supplies_what_the_template_leaves_open() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("p.json");
    std::fs::write(
        &params,
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "contentVersion": "1.0.0.0", "parameters": {"purgeProtection": {"value": true}, "adminObjectId": {"value": "11111111-1111-1111-1111-111111111111"}}}"#,
    )
    .unwrap();
    let (_, f) = iac(&[
        &format!("{DIR}/no-logging.json"),
        "--parameters",
        params.to_str().unwrap(),
    ]);
    assert_eq!(status(&f, "kv/purge-protection", "kv-nolog"), "pass");
    assert_eq!(status(&f, "kv/soft-delete-retention", "kv-nolog"), "pass");
}

#[test]
fn copy_loops_conditions_storage_only_logging_and_a_parameterised_alert_scope() {
    let (_, f) = iac(&[&format!("{DIR}/storage-only.json")]);
    let vaults: std::collections::BTreeSet<&str> = f.keys().map(|(_, v)| v.as_str()).collect();
    // Two vaults from the copy loop; kv-legacy's condition is false.
    assert_eq!(
        vaults.into_iter().collect::<Vec<_>>(),
        ["kv-billing", "kv-orders"]
    );
    for v in ["kv-billing", "kv-orders"] {
        // The settings' copy loop reaches each vault; storage is a destination.
        assert_eq!(status(&f, "kv/audit-logging", v), "pass");
        // The alert's scope is a parameter whose default is subscription().id.
        assert_eq!(status(&f, "kv/admin-alert", v), "pass");
        assert_eq!(status(&f, "kv/log-tamper-alert", v), "fail");
    }
    let line = f[&("kv/audit-logging".to_string(), "kv-orders".to_string())]["resource"]["source"]
        ["line"]
        .as_u64()
        .unwrap();
    assert_eq!(
        line as usize,
        object_line(
            "storage-only.json",
            "\"type\": \"Microsoft.KeyVault/vaults\","
        )
    );
}

#[test]
fn nested_and_linked_templates_and_a_reference_only_known_at_deployment() {
    let (_, f) = iac(&[&format!("{DIR}/nested.json")]);
    // The vault comes from an inline deployment; its diagnostic setting from
    // modules/logging.json (linked by relative path, the older child form).
    assert_eq!(status(&f, "kv/audit-logging", "kv-nested"), "pass");
    let x = &f[&("kv/audit-logging".to_string(), "kv-unknown-ws".to_string())];
    assert_eq!(x["status"], "not_evaluable");
    assert!(
        x["message"]
            .as_str()
            .unwrap()
            .contains("reference() is only known at deployment"),
        "{x}"
    );
    // Rules that do not read the diagnostic settings are unaffected.
    assert_eq!(status(&f, "kv/purge-protection", "kv-unknown-ws"), "pass");
}

#[test]
fn bad_templates_get_one_line_errors_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\n  \"$schema\": \"x\",\n  \"resources\": [\n    {,}\n  ]\n}\n",
    )
    .unwrap();
    let out = kvaudit()
        .args(["iac", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json:4:") && err.lines().count() == 1,
        "{err}"
    );

    let f = dir.path().join("f.json");
    std::fs::write(
        &f,
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
 "resources": [
  {"type": "Microsoft.KeyVault/vaults", "name": "[nosuch('x')]", "properties": {}}
 ]}"#,
    )
    .unwrap();
    let out = kvaudit()
        .args(["iac", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("f.json:3: ") && err.contains("nosuch() is not supported"),
        "{err}"
    );

    // A parameter whose default refers to itself: an error, not a stack overflow.
    let cyc = dir.path().join("cycle.json");
    std::fs::write(
        &cyc,
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
 "parameters": {"a": {"type": "string", "defaultValue": "[parameters('a')]"}},
 "resources": [
  {"type": "Microsoft.KeyVault/vaults", "name": "[parameters('a')]", "properties": {}}
 ]}"#,
    )
    .unwrap();
    let out = kvaudit()
        .args(["iac", cyc.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cycle.json:4: ") && err.contains("refers to itself"),
        "{err}"
    );

    let p = dir.path().join("params.json");
    std::fs::write(&p, r#"{"parameters": {}}"#).unwrap();
    let out = kvaudit()
        .args(["iac", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither an ARM template"));

    // A directory is searched for templates and plans (8 here, the linked module among them).
    let out = kvaudit().args(["iac", DIR, "-q"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("judged from 8 file(s)"));
}

const SUB: &str = "11111111-2222-3333-4444-555555555555";

/// The 1-based line of the first line containing `marker` in `file`.
fn line_of(file: &str, marker: &str) -> usize {
    let text = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    text.lines().position(|l| l.contains(marker)).unwrap() + 1
}

#[test]
fn a_terraform_plan_with_a_module_and_for_each_is_judged_at_its_resource_blocks() {
    let (code, f) = iac(&[
        &format!("{DIR}/terraform/plan.json"),
        "--subscription-id",
        SUB,
    ]);
    assert_eq!(code, 1);
    // for_each: the diagnostic setting of each vault is found through the
    // configuration's reference (the vaults' ids are unknown in the plan).
    assert_eq!(status(&f, "kv/audit-logging", "kv-tf-app"), "pass");
    assert_eq!(status(&f, "kv/audit-logging", "kv-tf-data"), "fail");
    assert_eq!(status(&f, "kv/purge-protection", "kv-tf-data"), "pass");
    // The key names its vault by an indexed reference (`this["app"]`).
    let rotation = &f[&("kv/key-rotation".to_string(), "kv-tf-app".to_string())];
    assert_eq!(
        rotation["message"],
        "all 1 enabled keys rotate automatically"
    );
    assert_eq!(
        f[&("kv/key-rotation".to_string(), "kv-tf-data".to_string())]["message"],
        "the vault has no enabled keys"
    );
    // The alert's action group is a reference to a group the plan creates:
    // resolved, so only the delete is uncovered.
    let admin = &f[&("kv/admin-alert".to_string(), "kv-tf-app".to_string())];
    let m = admin["message"].as_str().unwrap();
    assert!(
        m.starts_with("no usable activity-log alert covers Microsoft.KeyVault/vaults/delete:"),
        "{m}"
    );
    let src = &admin["resource"]["source"];
    assert_eq!(src["file"], format!("{DIR}/terraform/modules/kv/main.tf"));
    assert_eq!(
        src["line"],
        line_of(
            &format!("{DIR}/terraform/modules/kv/main.tf"),
            "resource \"azurerm_key_vault\" \"this\""
        )
    );
}

#[test]
fn a_value_known_only_after_apply_is_not_evaluable_and_computed_ids_do_not_count() {
    let text = std::fs::read_to_string(format!(
        "{}/{DIR}/terraform/plan.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut plan: Value = serde_json::from_str(&text).unwrap();
    let data = plan["resource_changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["address"] == "module.kv.azurerm_key_vault.this[\"data\"]")
        .unwrap();
    data["change"]["after"]
        .as_object_mut()
        .unwrap()
        .remove("purge_protection_enabled");
    data["change"]["after_unknown"]["purge_protection_enabled"] = Value::Bool(true);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    std::fs::write(&path, plan.to_string()).unwrap();
    let (_, f) = iac(&[
        path.to_str().unwrap(),
        "--subscription-id",
        SUB,
        "--terraform-dir",
        &format!("{DIR}/terraform"),
    ]);
    let p = &f[&("kv/purge-protection".to_string(), "kv-tf-data".to_string())];
    assert_eq!(p["status"], "not_evaluable");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("purge_protection_enabled (known after apply)"),
        "{p}"
    );
    // `id` and `vault_uri` are unknown for every new vault: they change nothing.
    assert_eq!(status(&f, "kv/purge-protection", "kv-tf-app"), "pass");
    assert_eq!(status(&f, "kv/audit-logging", "kv-tf-data"), "fail");
}

#[test]
fn a_plan_that_deletes_a_diagnostic_setting_fails_when_overlaid_on_the_live_inventory() {
    let plan = format!("{DIR}/terraform/delete/plan.json");
    // Alone, the deletion touches nothing the plan declares: said, not judged.
    let out = kvaudit()
        .args(["iac", &plan, "--subscription-id", SUB])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 deletion(s) in the plan are not judged")
    );
    let (code, f) = iac(&[
        &plan,
        "--subscription-id",
        SUB,
        "--live-inventory",
        &format!("{DIR}/terraform/delete/live-inventory.json"),
    ]);
    assert_eq!(code, 1);
    let x = &f[&("kv/audit-logging".to_string(), "kv-prod".to_string())];
    assert_eq!(x["status"], "fail", "{x}");
    assert_eq!(x["resource"]["source"]["file"], plan);
    assert_eq!(
        x["resource"]["source"]["line"],
        line_of(
            &plan,
            "\"address\": \"azurerm_monitor_diagnostic_setting.prod_audit\""
        ) - 1
    );
    // What the change does not touch keeps its live verdict.
    assert_eq!(status(&f, "kv/purge-protection", "kv-prod"), "pass");
}

#[test]
fn a_declared_defender_plan_is_judged_on_the_subscription_at_its_line() {
    // A subscription-level template: the plan, and the vault in a resource
    // group by a nested deployment.
    let (_, f) = iac(&[&format!("{DIR}/defender.json")]);
    let d = f
        .iter()
        .find(|((r, _), _)| r == "kv/defender")
        .map(|(_, x)| x)
        .expect("kv/defender runs when the template declares a pricing");
    assert_eq!(d["resource"]["id"], format!("/subscriptions/{DEFAULT_SUB}"));
    assert_eq!(d["status"], "pass", "{d}");
    assert_eq!(
        d["resource"]["source"]["line"],
        line_of(
            &format!("{DIR}/defender.json"),
            "\"type\": \"Microsoft.Security/pricings\""
        ) - 1
    );
    let v = &f[&("kv/purge-protection".to_string(), "kv-defended".to_string())];
    assert!(
        v["resource"]["id"]
            .as_str()
            .unwrap()
            .contains("/resourceGroups/rg-app/"),
        "{v}"
    );
    // Terraform: a Free plan fails, at its resource block.
    let (_, f) = iac(&[
        &format!("{DIR}/terraform/plan.json"),
        "--subscription-id",
        SUB,
    ]);
    let d = f
        .iter()
        .find(|((r, _), _)| r == "kv/defender")
        .map(|(_, x)| x)
        .expect("kv/defender runs when the plan declares a pricing");
    assert_eq!(d["status"], "fail", "{d}");
    assert_eq!(
        d["resource"]["source"]["line"],
        line_of(
            &format!("{DIR}/terraform/main.tf"),
            "resource \"azurerm_security_center_subscription_pricing\""
        )
    );
    // Without a declared plan (or a live inventory), kv/defender does not run.
    let (_, f) = iac(&[&format!("{DIR}/compliant.json")]);
    assert!(!f.keys().any(|(r, _)| r == "kv/defender"));
}

const DEFAULT_SUB: &str = "00000000-0000-0000-0000-000000000000";

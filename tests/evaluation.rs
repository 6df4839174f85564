//! Evaluation never ends the run for one resource's sake: an error in one
//! rule on one vault (a builtin given a bad value, the instruction budget, a
//! malformed result, a failed precompute) makes exactly those (rule,
//! resource) pairs not evaluable, and everything else is reported.
mod common;

use common::*;
use kvaudit::finding::{Finding, Status};
use kvaudit::inventory::Inventory;
use kvaudit::policy::data::PolicyData;
use kvaudit::policy::engine::{Evaluator, Limits};
use kvaudit::policy::{PolicyFile, PolicySet, builtin};
use serde_json::{Value, json};

/// A custom rule package whose `results` come from `body` (Rego lines that
/// define `results`), next to the built-in rules.
fn with_rule(id: &str, body: &str) -> Vec<PolicyFile> {
    let package = id.replace(['/', '-'], "_");
    let text = format!(
        r#"package custom.{package}

metadata := {{
	"id": "{id}", "title": "test rule", "description": "test rule", "severity": "low",
	"scope": "vault", "help": "test", "markdown": "test", "inputs": []
}}

{body}
"#
    );
    let mut files = builtin::files();
    files.push(PolicyFile::new(
        format!("custom/{package}.rego"),
        text,
        false,
    ));
    files
}

fn two_vaults() -> Inventory {
    let a = vault("rg-a", "kv-good");
    let mut b = vault("rg-b", "kv-odd");
    b["tags"] = json!({"due": "not a time"});
    let inv = inventory(
        ok(json!([])),
        ok(json!([])),
        vec![
            vault_entry(
                a.clone(),
                ok(json!([audit_to_workspace(&vault_id("rg-a", "kv-good"))])),
                audit_ok(json!([]), json!([])),
            ),
            vault_entry(
                b,
                ok(json!([audit_to_workspace(&vault_id("rg-b", "kv-odd"))])),
                audit_ok(json!([]), json!([])),
            ),
        ],
    );
    Inventory::from_json(&inv.to_string(), "test").expect("test inventory parses")
}

fn run(
    files: &[PolicyFile],
    inv: &Inventory,
    evaluator: Evaluator,
    limits: Limits,
) -> Vec<Finding> {
    let mut set = PolicySet::compile(files, PolicyData::defaults()).expect("policies compile");
    set.set_evaluator(evaluator);
    set.set_limits(limits);
    set.evaluate(inv)
        .expect("evaluation never fails as a whole")
}

fn on<'a>(findings: &'a [Finding], rule: &str, vault: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| f.rule_id == rule && f.resource.name == vault)
        .collect()
}

/// A builtin error on one vault: that rule on that vault is not evaluable,
/// never passing; the rule passes the other vault, and every other rule
/// still judges both vaults. The interpreter raises the error and kvaudit
/// reports the engine's message; regorus 0.14.1's VM makes the failing body
/// undefined even in strict mode, so the rule gives no verdict there, which
/// kvaudit also reports as not evaluable (docs/policies.md, "Engine settings").
#[test]
fn a_builtin_error_on_one_vault_is_not_evaluable_for_that_pair_only() {
    let files = with_rule(
        "custom/due-date",
        r#"results contains {"status": "pass", "message": "due date is a time"} if {
	due := object.get(input.vault, ["tags", "due"], "2026-01-01T00:00:00Z")
	time.parse_rfc3339_ns(due) > 0
}"#,
    );
    let inv = two_vaults();
    for evaluator in [Evaluator::Vm, Evaluator::Interpreter] {
        let findings = run(&files, &inv, evaluator, Limits::default());
        let odd = on(&findings, "custom/due-date", "kv-odd");
        assert_eq!(odd.len(), 1, "{evaluator:?}: {odd:#?}");
        assert_eq!(odd[0].status, Status::NotEvaluable, "{evaluator:?}");
        if evaluator == Evaluator::Interpreter {
            assert!(
                odd[0]
                    .message
                    .starts_with("the policy could not be evaluated on this resource: "),
                "{}",
                odd[0].message
            );
            assert!(odd[0].message.contains("parse"), "{}", odd[0].message);
            assert!(
                odd[0]
                    .evidence
                    .as_ref()
                    .unwrap()
                    .text()
                    .contains("evaluationError")
            );
        }
        let good = on(&findings, "custom/due-date", "kv-good");
        assert_eq!(good[0].status, Status::Pass, "{evaluator:?}");
        // The built-in rules judged the odd vault as usual.
        let logging = on(&findings, "kv/audit-logging", "kv-odd");
        assert_eq!(logging[0].status, Status::Pass, "{evaluator:?}");
        let purge = on(&findings, "kv/purge-protection", "kv-odd");
        assert_eq!(purge[0].status, Status::Fail, "{evaluator:?}");
        // Exactly one pair is not a verdict of its rule.
        let marked = findings
            .iter()
            .filter(|f| f.rule_id.starts_with("custom/") && f.status == Status::NotEvaluable)
            .count();
        assert_eq!(marked, 1, "{evaluator:?}");
    }
}

/// The instruction budget stops a runaway rule on the vault that triggers it
/// and names the flag; a larger budget lets it finish.
#[test]
fn the_instruction_budget_is_per_rule_and_resource_and_overridable() {
    let files = with_rule(
        "custom/heavy",
        r#"results contains {"status": "pass", "message": sprintf("%v", [n])} if {
	size := 200000 * to_number(input.vault.name == "kv-odd")
	n := count([x | some x in numbers.range(0, size); sprintf("%v", [x]) != "7"; x % 7 == 0])
}"#,
    );
    let inv = two_vaults();
    let small = Limits {
        max_instructions: 50_000,
    };
    let findings = run(&files, &inv, Evaluator::Vm, small);
    let odd = on(&findings, "custom/heavy", "kv-odd");
    assert_eq!(odd[0].status, Status::NotEvaluable);
    assert!(
        odd[0].message.contains("instruction limit"),
        "{}",
        odd[0].message
    );
    assert!(
        odd[0].message.contains("--max-instructions"),
        "{}",
        odd[0].message
    );
    assert_eq!(
        on(&findings, "custom/heavy", "kv-good")[0].status,
        Status::Pass
    );
    // Other rules on the same vault got their own budget.
    assert_eq!(
        on(&findings, "kv/audit-logging", "kv-odd")[0].status,
        Status::Pass
    );
    let findings = run(&files, &inv, Evaluator::Vm, Limits::default());
    assert_eq!(
        on(&findings, "custom/heavy", "kv-odd")[0].status,
        Status::Pass
    );
}

/// A malformed result (an unknown status) on one vault is reported for that
/// pair, naming the policy file, instead of ending the run.
#[test]
fn a_malformed_result_on_one_vault_is_not_evaluable_for_that_pair_only() {
    let files = with_rule(
        "custom/shape",
        r#"results contains {"status": status_of(input.vault.name), "message": "m"}

status_of("kv-odd") := "passed"

status_of(name) := "pass" if name != "kv-odd""#,
    );
    let inv = two_vaults();
    let findings = run(&files, &inv, Evaluator::Vm, Limits::default());
    let odd = on(&findings, "custom/shape", "kv-odd");
    assert_eq!(odd.len(), 1);
    assert_eq!(odd[0].status, Status::NotEvaluable);
    assert!(
        odd[0].message.contains("custom/custom_shape.rego"),
        "{}",
        odd[0].message
    );
    assert!(odd[0].message.contains("\"passed\""), "{}", odd[0].message);
    assert_eq!(
        on(&findings, "custom/shape", "kv-good")[0].status,
        Status::Pass
    );
}

fn alert_inventory(sub_alerts: Vec<Value>) -> Inventory {
    let v = vault_id("rg-prod", "kv-prod");
    let inv = inventory(
        ok(json!(sub_alerts)),
        ok(json!([action_group("ag-secops", true, true)])),
        vec![vault_entry(
            vault("rg-prod", "kv-prod"),
            ok(json!([audit_to_workspace(&v)])),
            audit_ok(json!([]), json!([])),
        )],
    );
    Inventory::from_json(&inv.to_string(), "test").unwrap()
}

/// The per-subscription precompute failing (here a library that replaces
/// `kvaudit.precompute` with one that divides by zero) makes the alert rules
/// of that subscription's vaults not evaluable with the engine's message,
/// never judged another way; the other rules are not touched. (regorus'
/// VM makes such a body undefined instead of failing, so the path is shown
/// on the interpreter.)
#[test]
fn a_failed_alert_precompute_makes_only_the_alert_rules_not_evaluable() {
    let good = alert(
        "kv-admin",
        json!([sub_id()]),
        admin_condition(),
        &["ag-secops"],
        true,
    );
    let inv = alert_inventory(vec![good]);
    let mut files: Vec<PolicyFile> = builtin::files()
        .into_iter()
        .filter(|f| f.package.as_deref() != Some("kvaudit.precompute"))
        .collect();
    files.push(PolicyFile::new(
        "custom/precompute.rego".into(),
        "package kvaudit.precompute\n\nsubscription_alert_facts := {\"x\": 10 / (count(input.subscription.activityLogAlerts.value) - 1)}\n\nsubscription_alert_index := {\"y\": 10 / (count(input.subscription.activityLogAlerts.value) - 1)}\n".into(),
        false,
    ));
    let findings = run(&files, &inv, Evaluator::Interpreter, Limits::default());
    let admin = on(&findings, "kv/admin-alert", "kv-prod");
    assert_eq!(admin[0].status, Status::NotEvaluable, "{admin:#?}");
    assert!(
        admin[0].message.contains("PolicyEvaluationError")
            && admin[0].message.contains("divide by zero"),
        "{}",
        admin[0].message
    );
    assert_eq!(
        on(&findings, "kv/audit-logging", "kv-prod")[0].status,
        Status::Pass
    );
    // With the built-in precompute, the same inventory passes.
    let findings = run(
        &builtin::files(),
        &inv,
        Evaluator::Interpreter,
        Limits::default(),
    );
    assert_eq!(
        on(&findings, "kv/admin-alert", "kv-prod")[0].status,
        Status::Pass
    );
}

/// A subscription whose vaults could not be listed: every selected rule is
/// not evaluable for it, by name, and the other subscription is judged.
#[test]
fn a_subscription_whose_vaults_were_not_listed_is_not_evaluable_for_every_rule() {
    let mut inv: Value =
        serde_json::from_str(&serde_json::to_string(&alert_inventory(vec![])).unwrap()).unwrap();
    inv["subscriptions"].as_array_mut().unwrap().push(json!({
        "subscription": {"id": "/subscriptions/11111111-2222-3333-4444-555555555555", "subscriptionId": "11111111-2222-3333-4444-555555555555", "displayName": "locked", "state": "Enabled"},
        "vaultListError": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/read'", "httpStatus": 403}
    }));
    let inv = Inventory::from_json(&inv.to_string(), "test").unwrap();
    let set = PolicySet::compile(&builtin::files(), PolicyData::defaults()).unwrap();
    let findings = set.evaluate(&inv).unwrap();
    let locked: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.resource.name == "locked")
        .collect();
    assert_eq!(locked.len(), set.rules().len(), "{locked:#?}");
    for f in &locked {
        assert_eq!(f.status, Status::NotEvaluable);
        assert!(
            f.message
                .contains("could not be listed (AuthorizationFailed:"),
            "{}",
            f.message
        );
    }
    assert!(on(&findings, "kv/audit-logging", "kv-prod")[0].status == Status::Pass);
}

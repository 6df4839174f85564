//! The demo tenant's verdicts, vault by vault (fixtures/demo/README.md
//! explains each), through the VM and through the interpreter.
use std::collections::BTreeMap;

use kvaudit::finding::Status;
use kvaudit::policy::data::PolicyData;
use kvaudit::policy::engine::Evaluator;
use kvaudit::policy::{PolicySet, builtin};

/// (status, discriminator) of each finding.
type Verdicts = Vec<(Status, String)>;

fn verdicts(evaluator: Evaluator) -> BTreeMap<(String, String), Verdicts> {
    let inv = kvaudit::demo::inventory().unwrap();
    let mut set = PolicySet::compile(&builtin::files(), PolicyData::defaults()).unwrap();
    set.set_evaluator(evaluator);
    let mut out: BTreeMap<(String, String), Verdicts> = BTreeMap::new();
    for f in set.evaluate(&inv).unwrap() {
        out.entry((f.resource.name.clone(), f.rule_id.clone()))
            .or_default()
            .push((f.status, f.discriminator.clone()));
    }
    out
}

#[test]
fn demo_verdicts_are_the_documented_ones() {
    use Status::*;
    let p = |s| vec![(s, String::new())];
    let expected: Vec<(&str, &str, Verdicts)> = vec![
        ("kv-payments-prod", "kv/audit-logging", p(Pass)),
        ("kv-payments-prod", "kv/admin-alert", p(Pass)),
        ("kv-payments-prod", "kv/unauthorized-requests", p(Pass)),
        ("kv-payments-prod", "kv/forbidden-requests", p(Pass)),
        ("kv-data-platform", "kv/audit-logging", p(Pass)),
        (
            "kv-data-platform",
            "kv/unauthorized-requests",
            p(NotEvaluable),
        ),
        ("kv-shared-secrets", "kv/audit-logging", p(NotEvaluable)),
        (
            "kv-shared-secrets",
            "kv/forbidden-requests",
            p(NotEvaluable),
        ),
        ("kv-archive", "kv/audit-logging", p(Pass)),
        ("kv-archive", "kv/unauthorized-requests", p(NotEvaluable)),
        ("kv-identity-prod", "kv/admin-alert", p(Pass)),
        (
            "kv-identity-prod",
            "kv/unauthorized-requests",
            vec![(Fail, "203.0.113.45".into())],
        ),
        (
            "kv-identity-prod",
            "kv/forbidden-requests",
            vec![
                (
                    Fail,
                    "app c2f9e4a7-1b38-4d6e-9f05-a7d3b8e21c64|198.51.100.61".into(),
                ),
                (Fail, "d.reyes@contoso.com|192.0.2.148".into()),
            ],
        ),
        ("kv-legacy-app", "kv/audit-logging", p(Fail)),
        ("kv-legacy-app", "kv/admin-alert", p(Fail)),
        ("kv-sandbox-dev", "kv/audit-logging", p(Fail)),
        (
            "kv-sandbox-dev",
            "kv/unauthorized-requests",
            p(NotEvaluable),
        ),
        ("kv-intranet-web", "kv/admin-alert", p(Fail)),
        ("kv-intranet-web", "kv/unauthorized-requests", p(Pass)),
    ];
    let got = verdicts(Evaluator::Vm);
    for (vault, rule, want) in expected {
        assert_eq!(
            got.get(&(vault.to_string(), rule.to_string())),
            Some(&want),
            "{vault} {rule}"
        );
    }
    assert_eq!(got.len(), 8 * 4, "8 vaults x 4 rules");
}

#[test]
fn vm_and_interpreter_agree() {
    let inv = kvaudit::demo::inventory().unwrap();
    let mut a = PolicySet::compile(&builtin::files(), PolicyData::defaults()).unwrap();
    let mut b = a.clone();
    a.set_evaluator(Evaluator::Vm);
    b.set_evaluator(Evaluator::Interpreter);
    assert_eq!(a.evaluate(&inv).unwrap(), b.evaluate(&inv).unwrap());
}

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

/// The documented verdicts (fixtures/demo/README.md), one line per
/// resource: P pass, F fail, N not evaluable, `F2` two failing findings.
const VAULT_RULES: &[&str] = &[
    "kv/audit-logging",
    "kv/admin-alert",
    "kv/unauthorized-requests",
    "kv/forbidden-requests",
    "kv/purge-protection",
    "kv/soft-delete-retention",
    "kv/rbac-authorization",
    "kv/public-network-access",
    "kv/firewall-default-deny",
    "kv/private-endpoint",
    "kv/key-expiry",
    "kv/secret-expiry",
    "kv/key-rotation",
    "kv/access-policy-alert",
    "kv/log-tamper-alert",
    "kv/logs-arriving",
];

const VAULT_MATRIX: &str = "
kv-payments-prod   P P P P   P P P P P P   P P  P   P P P
kv-data-platform   P P N N   P P P F P F   F N  F   P P N
kv-shared-secrets  N P N N   P P P F F F   N F2 N   P P N
kv-archive         P P N N   P P P P P F   P P  F   P P N
kv-identity-prod   P P F F2  P P P F F F   P P  P   P F P
kv-legacy-app      F F N N   F P F F F F   P F  P   F F N
kv-sandbox-dev     F F N N   F F P F F F   F P  F   F F N
kv-intranet-web    P F P P   P P P F P F   P P  P   F F F
";

const SUBSCRIPTION_RULES: &[&str] = &["kv/defender", "kv/purge-alert"];

const SUBSCRIPTION_MATRIX: &str = "
contoso-prod       P P
contoso-corp-it    F F
";

fn expand(cell: &str) -> Vec<Status> {
    let (letter, n) = cell.split_at(1);
    let status = match letter {
        "P" => Status::Pass,
        "F" => Status::Fail,
        "N" => Status::NotEvaluable,
        other => panic!("bad cell {other}"),
    };
    vec![status; n.parse().unwrap_or(1)]
}

fn check_matrix(got: &BTreeMap<(String, String), Verdicts>, rules: &[&str], matrix: &str) -> usize {
    let mut checked = 0;
    for line in matrix.lines().filter(|l| !l.trim().is_empty()) {
        let mut cells = line.split_whitespace();
        let name = cells.next().unwrap();
        let cells: Vec<&str> = cells.collect();
        assert_eq!(cells.len(), rules.len(), "{name}: one cell per rule");
        for (rule, cell) in rules.iter().zip(cells) {
            let statuses: Vec<Status> = got
                .get(&(name.to_string(), rule.to_string()))
                .map(|v| v.iter().map(|(s, _)| *s).collect())
                .unwrap_or_default();
            assert_eq!(statuses, expand(cell), "{name} {rule}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn demo_verdicts_are_the_documented_ones() {
    let got = verdicts(Evaluator::Vm);
    let n = check_matrix(&got, VAULT_RULES, VAULT_MATRIX)
        + check_matrix(&got, SUBSCRIPTION_RULES, SUBSCRIPTION_MATRIX);
    assert_eq!(n, 8 * 16 + 2 * 2);
    assert_eq!(got.len(), n, "no (resource, rule) pair beyond the matrix");
    // Failing findings per caller, key or secret carry its name.
    let discriminators = |vault: &str, rule: &str| -> Vec<String> {
        got[&(vault.to_string(), rule.to_string())]
            .iter()
            .map(|(_, d)| d.clone())
            .collect()
    };
    assert_eq!(
        discriminators("kv-identity-prod", "kv/unauthorized-requests"),
        ["203.0.113.45"]
    );
    assert_eq!(
        discriminators("kv-identity-prod", "kv/forbidden-requests"),
        [
            "app c2f9e4a7-1b38-4d6e-9f05-a7d3b8e21c64|198.51.100.61",
            "d.reyes@contoso.com|192.0.2.148"
        ]
    );
    assert_eq!(
        discriminators("kv-shared-secrets", "kv/secret-expiry"),
        ["github-app-pem", "smtp-password"]
    );
    assert_eq!(
        discriminators("kv-data-platform", "kv/key-expiry"),
        ["lake-cmk"]
    );
    assert_eq!(
        discriminators("kv-data-platform", "kv/key-rotation"),
        ["lake-cmk"]
    );
    assert_eq!(
        discriminators("kv-legacy-app", "kv/secret-expiry"),
        ["legacy-db-password"]
    );
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

//! `kvaudit fix --format bicep`: main.bicep and its modules parse with the
//! tree-sitter Bicep grammar (tree-sitter-grammars/tree-sitter-bicep, a
//! parser nobody on this project wrote), main.bicep deploys exactly the
//! modules it wrote (those needing values the inventory lacks commented
//! out), and the modules are right: their resources, deployed to the scopes
//! main.bicep gives, make their rules pass on the demo inventory.
use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use tree_sitter::{Node, Parser, Tree};

mod common;
use common::{demo_inventory, eval_findings, run_kvaudit as kvaudit};

/// Parses Bicep; a syntax error anywhere fails the test with its position.
fn parse(path: &str, text: &str) -> Tree {
    let mut p = Parser::new();
    p.set_language(&tree_sitter_bicep::LANGUAGE.into()).unwrap();
    let tree = p.parse(text, None).unwrap();
    fn first_error(n: Node) -> Option<Node> {
        if n.is_error() || n.is_missing() {
            return Some(n);
        }
        let mut c = n.walk();
        n.children(&mut c).find_map(first_error)
    }
    if let Some(e) = first_error(tree.root_node()) {
        panic!(
            "{path}:{}:{}: not Bicep ({}): {}",
            e.start_position().row + 1,
            e.start_position().column + 1,
            e.kind(),
            e.utf8_text(text.as_bytes()).unwrap_or("")
        );
    }
    tree
}

/// Evaluates what these modules use: string literals with escapes and
/// interpolation, identifiers bound by `var` (a `param` has no value),
/// objects, arrays, booleans, numbers and `x.id` of a declared resource.
struct Eval<'a> {
    text: &'a str,
    vars: BTreeMap<String, Value>,
}

impl Eval<'_> {
    fn src(&self, n: Node) -> &str {
        n.utf8_text(self.text.as_bytes()).unwrap()
    }

    fn named(n: Node) -> Vec<Node> {
        let mut c = n.walk();
        n.named_children(&mut c)
            .filter(|c| c.kind() != "comment")
            .collect()
    }

    fn value(&self, n: Node) -> Value {
        match n.kind() {
            "string" => {
                // The literal text between the quotes, escapes decoded by
                // Bicep's rules (the grammar does not split out `\$`), and
                // each interpolation evaluated.
                let (start, end) = (n.start_byte() + 1, n.end_byte() - 1);
                let mut out = String::new();
                let mut at = start;
                let literal = |from: usize, to: usize, out: &mut String| {
                    let mut chars = self.text[from..to].chars();
                    while let Some(c) = chars.next() {
                        if c != '\\' {
                            out.push(c);
                            continue;
                        }
                        match chars.next() {
                            Some('\'') => out.push('\''),
                            Some('\\') => out.push('\\'),
                            Some('$') => out.push('$'),
                            Some('n') => out.push('\n'),
                            Some('r') => out.push('\r'),
                            Some('t') => out.push('\t'),
                            other => panic!("escape \\{other:?}"),
                        }
                    }
                };
                for part in Self::named(n)
                    .into_iter()
                    .filter(|p| p.kind() == "interpolation")
                {
                    literal(at, part.start_byte(), &mut out);
                    match self.value(Self::named(part)[0]) {
                        Value::String(s) => out.push_str(&s),
                        v => panic!("interpolation of {v}"),
                    }
                    at = part.end_byte();
                }
                literal(at, end, &mut out);
                Value::String(out)
            }
            "identifier" => self
                .vars
                .get(self.src(n))
                .cloned()
                .unwrap_or_else(|| panic!("{} is not a var", self.src(n))),
            "boolean" | "true" | "false" => Value::Bool(self.src(n) == "true"),
            "number" => json!(self.src(n).parse::<i64>().unwrap()),
            "object" => {
                let mut m = serde_json::Map::new();
                for p in Self::named(n) {
                    let kv = Self::named(p);
                    m.insert(self.src(kv[0]).to_string(), self.value(kv[1]));
                }
                Value::Object(m)
            }
            "array" => Value::Array(Self::named(n).into_iter().map(|e| self.value(e)).collect()),
            "member_expression" => json!(format!("<{}>", self.src(n))),
            k => panic!("cannot evaluate {k}: {}", self.src(n)),
        }
    }
}

/// One `resource` of a module, evaluated.
#[derive(Debug)]
struct Resource {
    symbol: String,
    kind: String,
    existing: bool,
    body: Value,
}

fn resources(path: &str, text: &str) -> (Vec<Resource>, Vec<String>) {
    let tree = parse(path, text);
    let mut e = Eval {
        text,
        vars: BTreeMap::new(),
    };
    let mut out = Vec::new();
    let mut params = Vec::new();
    for d in Eval::named(tree.root_node()) {
        let parts = Eval::named(d);
        match d.kind() {
            "variable_declaration" => {
                let v = e.value(parts[1]);
                e.vars.insert(e.src(parts[0]).to_string(), v);
            }
            "parameter_declaration" => {
                // No value until the reader gives one.
                let name = e.src(parts[0]).to_string();
                e.vars
                    .insert(name.clone(), json!(format!("<param {name}>")));
                params.push(name);
            }
            "resource_declaration" => {
                let symbol = e.src(parts[0]).to_string();
                let kind = e.value(parts[1]).as_str().unwrap().to_string();
                let body = e.value(*parts.last().unwrap());
                let existing = e.src(d).contains("' existing = {");
                if existing {
                    // `x.id` of an existing resource: its name is enough here.
                    e.vars.insert(symbol.clone(), body["name"].clone());
                }
                out.push(Resource {
                    symbol,
                    kind,
                    existing,
                    body,
                });
            }
            _ => {}
        }
    }
    (out, params)
}

/// main.bicep's modules: (path, scope text), and the commented-out ones.
fn modules(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let tree = parse("main.bicep", text);
    let e = Eval {
        text,
        vars: BTreeMap::new(),
    };
    let mut live = Vec::new();
    for d in Eval::named(tree.root_node()) {
        if d.kind() == "module_declaration" {
            let parts = Eval::named(d);
            let path = e.value(parts[1]).as_str().unwrap().to_string();
            let body = *parts.last().unwrap();
            let scope = Eval::named(body)
                .into_iter()
                .find(|p| e.src(Eval::named(*p)[0]) == "scope")
                .map(|p| e.src(Eval::named(p)[1]).to_string())
                .expect("a scope");
            live.push((path, scope));
        }
    }
    let commented = text
        .lines()
        .filter_map(|l| l.strip_prefix("// module "))
        .map(|l| l.split('\'').nth(1).unwrap().to_string())
        .collect();
    (live, commented)
}

fn failing(inv: &Value, rules: &[&str]) -> Vec<String> {
    eval_findings(inv, rules)
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| {
            format!(
                "{} {}: {}",
                f["ruleId"], f["resource"]["name"], f["message"]
            )
        })
        .collect()
}

const RULES: [&str; 6] = [
    "kv/audit-logging",
    "kv/admin-alert",
    "kv/access-policy-alert",
    "kv/log-tamper-alert",
    "kv/purge-alert",
    "kv/defender",
];

/// `resourceGroup('S', 'RG')` or `subscription('S')` → (S, Some(RG) / None).
fn scope_of(scope: &str) -> (String, Option<String>) {
    let args: Vec<String> = scope
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    if scope.starts_with("resourceGroup(") {
        (args[0].clone(), Some(args[1].clone()))
    } else {
        assert!(scope.starts_with("subscription("), "{scope}");
        (args[0].clone(), None)
    }
}

/// Deploys a module's resources into the inventory the way Azure would
/// record them; returns how many.
fn deploy(inv: &mut Value, rs: &[Resource], sub: &str, rg: Option<&str>) -> usize {
    let mut n = 0;
    let subscription = |inv: &mut Value| -> *mut Value {
        inv["subscriptions"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["subscription"]["subscriptionId"] == sub)
            .unwrap() as *mut Value
    };
    for r in rs.iter().filter(|r| !r.existing) {
        let name = r.body["name"].as_str().unwrap().to_string();
        let ty = r.kind.split('@').next().unwrap();
        match ty {
            "Microsoft.Insights/activityLogAlerts" => {
                let rg = rg.expect("an alert is deployed to a resource group");
                let s = unsafe { &mut *subscription(inv) };
                s["activityLogAlerts"]["value"].as_array_mut().unwrap().push(json!({
                    "id": format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/microsoft.insights/activityLogAlerts/{name}"),
                    "name": name,
                    "type": "Microsoft.Insights/ActivityLogAlerts",
                    "location": r.body["location"],
                    "properties": r.body["properties"],
                }));
            }
            "Microsoft.Insights/diagnosticSettings" => {
                let scope = r.body["scope"].as_str().expect("scoped to the vault");
                let vault = inv["vaults"]
                    .as_array_mut()
                    .unwrap()
                    .iter_mut()
                    .find(|v| {
                        v["vault"]["name"] == scope
                            && v["vault"]["id"]
                                .as_str()
                                .unwrap()
                                .to_ascii_lowercase()
                                .contains(&format!(
                                    "/resourcegroups/{}/",
                                    rg.unwrap().to_ascii_lowercase()
                                ))
                    })
                    .unwrap_or_else(|| panic!("no vault {scope} in {rg:?}"));
                let id = format!(
                    "{}/providers/microsoft.insights/diagnosticSettings/{name}",
                    vault["vault"]["id"].as_str().unwrap()
                );
                vault["diagnosticSettings"]["value"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"id": id, "name": name, "type": "Microsoft.Insights/diagnosticSettings", "properties": r.body["properties"]}));
            }
            "Microsoft.Security/pricings" => {
                assert!(rg.is_none(), "a pricing is deployed to a subscription");
                let s = unsafe { &mut *subscription(inv) };
                let list = s["pricings"]["value"].as_array_mut().unwrap();
                list.retain(|p| p["name"] != name.as_str());
                list.push(json!({
                    "id": format!("/subscriptions/{sub}/providers/Microsoft.Security/pricings/{name}"),
                    "name": name,
                    "type": "Microsoft.Security/pricings",
                    "properties": r.body["properties"],
                }));
            }
            other => panic!(
                "{} declares {other}, which this test cannot deploy",
                r.symbol
            ),
        }
        n += 1;
    }
    n
}

#[test]
fn the_bicep_modules_parse_and_deploying_them_makes_their_rules_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out/bicep");
    let (code, stdout, err) = kvaudit(&[
        "fix",
        "--demo",
        "--format",
        "bicep",
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(err.contains("kvaudit deployed nothing"), "{err}");
    let main = std::fs::read_to_string(out.join("main.bicep")).unwrap();
    assert!(main.contains("targetScope = 'subscription'"));
    let (live, commented) = modules(&main);
    // Every module file is deployed or commented out with what it needs, once.
    let mut files: Vec<String> = std::fs::read_dir(out.join("modules"))
        .unwrap()
        .map(|e| format!("modules/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    files.sort();
    let mut referenced: Vec<String> = live
        .iter()
        .map(|(p, _)| p.clone())
        .chain(commented.iter().cloned())
        .collect();
    referenced.sort();
    assert_eq!(files, referenced);
    assert!(live.len() >= 6, "{main}");

    let mut inv = demo_inventory();
    let before = failing(&inv, &RULES);
    assert!(before.len() >= 12, "{before:#?}");
    let mut deployed = 0;
    for path in &files {
        let text = std::fs::read_to_string(out.join(path)).unwrap();
        let (rs, params) = resources(path, &text);
        match live.iter().find(|(p, _)| p == path) {
            Some((_, scope)) => {
                assert!(params.is_empty(), "{path} is deployed but needs {params:?}");
                let (sub, rg) = scope_of(scope);
                deployed += deploy(&mut inv, &rs, &sub, rg.as_deref());
            }
            None => {
                // Left out: it takes values the inventory lacks (a private endpoint's network).
                assert!(
                    !params.is_empty(),
                    "{path} is commented out without a reason"
                );
                assert!(
                    main.contains(&format!("give them values in {path}")),
                    "{main}"
                );
            }
        }
    }
    assert!(deployed >= 6);
    let after = failing(&inv, &RULES);
    assert!(
        after.is_empty(),
        "still failing after deploying: {after:#?}"
    );
}

#[test]
fn the_json_report_carries_each_results_bicep_and_names_are_bicep_strings() {
    let mut inv = demo_inventory();
    // A vault name no real vault has, to prove the quoting: Bicep's quote, backslash and interpolation.
    let hostile = r"kv'x\${y}";
    for v in inv["vaults"].as_array_mut().unwrap() {
        if v["vault"]["name"] == "kv-sandbox-dev" {
            v["vault"]["name"] = json!(hostile);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("inv.json");
    std::fs::write(&p, inv.to_string()).unwrap();
    let (_, out, err) = kvaudit(&[
        "eval",
        p.to_str().unwrap(),
        "-f",
        "json",
        "--rule",
        "kv/audit-logging",
    ]);
    let doc: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == hostile && f["status"] == "fail")
        .expect("the renamed vault still fails kv/audit-logging");
    let b = &f["fix"]["bicep"];
    assert_eq!(b["scope"], "resourceGroup");
    assert_eq!(b["resourceGroup"], "rg-sandbox");
    assert_eq!(
        b["deploy"],
        "az deployment group create --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --resource-group rg-sandbox --template-file fix.bicep"
    );
    let module = b["module"].as_str().unwrap();
    assert!(module.contains(r"var vault = 'kv\'x\\\${y}'"), "{module}");
    let (rs, params) = resources("fix.bicep", module);
    assert!(params.is_empty());
    let kv = rs.iter().find(|r| r.existing).unwrap();
    assert_eq!(
        kv.body["name"], hostile,
        "the parser reads back the exact name"
    );
    let setting = rs.iter().find(|r| !r.existing).unwrap();
    assert!(
        setting.body["properties"]["workspaceId"]
            .as_str()
            .unwrap()
            .ends_with("/workspaces/law-corpit-weu")
    );
    // A rule whose fix changes an existing resource has no Bicep.
    let (_, out, _) = kvaudit(&[
        "eval",
        "--demo",
        "-f",
        "json",
        "--rule",
        "kv/purge-protection",
    ]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let fails: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .collect();
    assert!(!fails.is_empty());
    assert!(
        fails
            .iter()
            .all(|f| f["fix"]["az"].is_string() && f["fix"]["bicep"].is_null())
    );
}

#[test]
fn bicep_needs_an_output_directory() {
    let (code, _, err) = kvaudit(&["fix", "--demo", "--format", "bicep"]);
    assert_eq!(code, 2);
    assert!(err.contains("--output-dir"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn the_demo_main_bicep_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = kvaudit(&[
        "fix",
        "--demo",
        "--format",
        "bicep",
        "--output-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let main = std::fs::read_to_string(dir.path().join("main.bicep")).unwrap();
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/fix-demo-main.bicep");
    if std::env::var_os("KVAUDIT_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snap, &main).unwrap();
    }
    let want = std::fs::read_to_string(&snap)
        .expect("snapshot exists (KVAUDIT_UPDATE_SNAPSHOTS=1 writes it)");
    assert_eq!(
        main, want,
        "main.bicep changed; review it and rerun with KVAUDIT_UPDATE_SNAPSHOTS=1"
    );
}

//! Recursion between rules and functions, found before anything runs.
//!
//! Rego forbids recursion (OPA rejects it as `rego_recursion_error`), but
//! regorus 0.14.1 does not check it for functions: `f(x) := y if { y := f(x) }`
//! recurses until the native stack overflows and the process aborts, in the
//! VM and the interpreter alike (the VM's instruction budget is checked, but
//! the stack runs out first). So kvaudit walks the parsed modules, builds the
//! graph of which rule or function refers to which, and refuses a cycle with
//! the rule, its file and line, as OPA would.
//!
//! The walk over-approximates like OPA: a reference to a package links to
//! every rule in it. A local variable bound by `some` or `=` with the name of
//! a rule of the same package is taken for that rule.
use std::collections::{BTreeMap, BTreeSet};

use regorus::unstable::{AssignOp, Expr, Literal, Module, Query, Ref, Rule, RuleHead};
use regorus::utils::get_path_string;

/// `a` is `b` or inside it (`data.p.r` is under `data.p`).
fn under(a: &str, b: &str) -> bool {
    a.strip_prefix(b)
        .is_some_and(|r| r.is_empty() || r.starts_with(['.', '[']))
}

/// The statically named part of a reference: `data.p.r[x].y` → `data.p.r`.
fn static_part(mut e: &Expr) -> &Expr {
    let mut named = e;
    loop {
        match e {
            Expr::RefDot { refr, .. } => e = refr,
            Expr::RefBrack { refr, index, .. } => {
                if !matches!(**index, Expr::String { .. }) {
                    named = refr;
                }
                e = refr;
            }
            _ => return named,
        }
    }
}

/// Collects the rules one rule's head and bodies refer to.
struct Walk<'a> {
    package: &'a str,
    aliases: &'a [(String, String)],
    nodes: &'a BTreeSet<String>,
    out: BTreeSet<String>,
}

impl Walk<'_> {
    fn reference(&mut self, e: &Expr) {
        let e = static_part(e);
        let Ok(p) = get_path_string(e, None) else {
            return;
        };
        let absolute = if under(&p, "data") {
            p
        } else if let Some((alias, target)) = self.aliases.iter().find(|(a, _)| under(&p, a)) {
            format!("{target}{}", &p[alias.len()..])
        } else if let Ok(x) = get_path_string(e, Some(self.package)) {
            x
        } else {
            return;
        };
        let nodes = self.nodes;
        self.out.extend(
            nodes
                .iter()
                .filter(|n| under(&absolute, n) || under(n, &absolute))
                .cloned(),
        );
    }

    fn chain(&mut self, mut e: &Expr) {
        loop {
            match e {
                Expr::RefDot { refr, .. } => e = refr,
                Expr::RefBrack { refr, index, .. } => {
                    self.expr(index);
                    e = refr;
                }
                Expr::Var { .. } => return,
                other => return self.expr(other),
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. } => {
                self.reference(e);
                self.chain(e);
            }
            Expr::Call { fcn, params, .. } => {
                self.reference(fcn);
                for p in params {
                    self.expr(p);
                }
            }
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                for i in items {
                    self.expr(i);
                }
            }
            Expr::Object { fields, .. } => {
                for (_, k, v) in fields {
                    self.expr(k);
                    self.expr(v);
                }
            }
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                self.expr(term);
                self.query(query);
            }
            Expr::ObjectCompr {
                key, value, query, ..
            } => {
                self.expr(key);
                self.expr(value);
                self.query(query);
            }
            Expr::UnaryExpr { expr, .. } => self.expr(expr),
            // `x := value` binds a new local: only the value refers to anything.
            Expr::AssignExpr {
                op: AssignOp::ColEq,
                rhs,
                ..
            } => self.expr(rhs),
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(k) = key {
                    self.expr(k);
                }
                self.expr(value);
                self.expr(collection);
            }
            _ => {}
        }
    }

    fn query(&mut self, q: &Query) {
        for s in &q.stmts {
            for w in &s.with_mods {
                self.expr(&w.r#as);
            }
            match &s.literal {
                Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => self.expr(expr),
                Literal::SomeIn {
                    key,
                    value,
                    collection,
                    ..
                } => {
                    if let Some(k) = key {
                        self.expr(k);
                    }
                    self.expr(value);
                    self.expr(collection);
                }
                Literal::Every { domain, query, .. } => {
                    self.expr(domain);
                    self.query(query);
                }
                Literal::SomeVars { .. } => {}
            }
        }
    }
}

/// A rule or function of a module, with what the walk needs.
struct Node {
    path: String,
    package: String,
    aliases: Vec<(String, String)>,
    rule: Ref<Rule>,
}

/// A recursion: the cycle of rule paths (first == last) and where its first
/// rule is (`file:line`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub rules: Vec<String>,
    pub location: String,
}

/// The first cycle among the rules and functions of `modules`, if any.
pub fn find_cycle(modules: &[Ref<Module>]) -> Option<Cycle> {
    let mut rules: Vec<Node> = Vec::new();
    for m in modules {
        let Ok(package) = get_path_string(&m.package.refr, Some("data")) else {
            continue;
        };
        let aliases: Vec<(String, String)> = m
            .imports
            .iter()
            .filter_map(|i| {
                let target = get_path_string(&i.refr, None)
                    .ok()
                    .filter(|t| under(t, "data"))?;
                let alias = match &i.r#as {
                    Some(s) => s.text().to_string(),
                    None => target.rsplit('.').next()?.to_string(),
                };
                Some((alias, target))
            })
            .collect();
        for r in &m.policy {
            if let Rule::Spec {
                head:
                    RuleHead::Compr { refr, .. }
                    | RuleHead::Set { refr, .. }
                    | RuleHead::Func { refr, .. },
                ..
            } = r.as_ref()
                && let Ok(path) = get_path_string(static_part(refr), Some(&package))
            {
                rules.push(Node {
                    path,
                    package: package.clone(),
                    aliases: aliases.clone(),
                    rule: r.clone(),
                });
            }
        }
    }
    let nodes: BTreeSet<String> = rules.iter().map(|r| r.path.clone()).collect();
    let mut graph: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut located: BTreeMap<&str, String> = BTreeMap::new();
    for node in &rules {
        let Rule::Spec { head, bodies, span } = node.rule.as_ref() else {
            continue;
        };
        located
            .entry(&node.path)
            .or_insert_with(|| format!("{}:{}", span.source.file(), span.line));
        let mut w = Walk {
            package: &node.package,
            aliases: &node.aliases,
            nodes: &nodes,
            out: BTreeSet::new(),
        };
        match head {
            RuleHead::Compr { refr, assign, .. } => {
                w.chain(refr);
                if let Some(a) = assign {
                    w.expr(&a.value);
                }
            }
            RuleHead::Set { refr, key, .. } => {
                w.chain(refr);
                if let Some(k) = key {
                    w.expr(k);
                }
            }
            RuleHead::Func { assign, .. } => {
                if let Some(a) = assign {
                    w.expr(&a.value);
                }
            }
        }
        for b in bodies {
            if let Some(a) = &b.assign {
                w.expr(&a.value);
            }
            w.query(&b.query);
        }
        graph.entry(&node.path).or_default().extend(w.out);
    }
    // Depth-first search with an explicit stack (a deep graph must not
    // overflow this check either).
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for start in graph.keys().copied() {
        if done.contains(start) {
            continue;
        }
        let mut path: Vec<&str> = vec![start];
        let mut pending: Vec<Vec<&str>> = vec![successors(&graph, start)];
        while let Some(next) = pending.last_mut() {
            match next.pop() {
                Some(n) if path.contains(&n) => {
                    let at = path.iter().position(|p| *p == n).unwrap_or(0);
                    let mut cycle: Vec<String> = path[at..].iter().map(|s| s.to_string()).collect();
                    cycle.push(n.to_string());
                    return Some(Cycle {
                        location: located.get(n).cloned().unwrap_or_default(),
                        rules: cycle,
                    });
                }
                Some(n) if done.contains(n) => {}
                Some(n) => {
                    path.push(n);
                    pending.push(successors(&graph, n));
                }
                None => {
                    pending.pop();
                    if let Some(n) = path.pop() {
                        done.insert(n);
                    }
                }
            }
        }
    }
    None
}

fn successors<'a>(graph: &'a BTreeMap<&str, BTreeSet<String>>, n: &str) -> Vec<&'a str> {
    graph
        .get(n)
        .map(|s| s.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

impl std::fmt::Display for Cycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: recursion: {} (Rego does not allow a rule or function to depend on itself)",
            self.location,
            self.rules.join(" → ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycle_of(files: &[(&str, &str)]) -> Option<Cycle> {
        let mut engine = regorus::Engine::new();
        for (path, text) in files {
            engine
                .add_policy(path.to_string(), text.to_string())
                .unwrap();
        }
        find_cycle(engine.get_modules())
    }

    #[test]
    fn a_function_that_calls_itself_is_found() {
        let c = cycle_of(&[(
            "x.rego",
            "package kv.example\nimport rego.v1\nf(x) := y if { y := f(x) }\ndeny contains 1 if f(1)\n",
        )])
        .unwrap();
        assert_eq!(c.rules, ["data.kv.example.f", "data.kv.example.f"]);
        assert_eq!(c.location, "x.rego:3");
    }

    #[test]
    fn mutual_and_cross_package_recursion_is_found() {
        let c = cycle_of(&[
            (
                "a.rego",
                "package a\nimport rego.v1\nimport data.b\nf(x) := b.g(x)\n",
            ),
            ("b.rego", "package b\nimport rego.v1\ng(x) := data.a.f(x)\n"),
        ])
        .unwrap();
        assert_eq!(c.rules.len(), 3, "{c}");
    }

    #[test]
    fn ordinary_policies_have_no_cycle() {
        assert_eq!(
            cycle_of(&[(
                "a.rego",
                "package a\nimport rego.v1\ng(x) := x + 1\nf(x) := g(x) * 2\nr := f(1)\ns contains v if { some v in [r, f(2)] }\n",
            )]),
            None
        );
    }
}

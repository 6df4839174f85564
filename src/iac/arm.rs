//! ARM templates (JSON, including `bicep build` output) to the resources
//! they declare: expressions evaluated, `copy` loops expanded, `condition`s
//! applied, child resources and nested or linked deployments followed.
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::expr::{Eval, ExprError, Scope, Unknown, eval_string};
use super::json::{Spanned, pointer_key};
use super::{Declared, Target};
use crate::finding::Source;

/// Deepest nesting of deployments followed (a template linking itself).
const MAX_DEPTH: usize = 10;

/// Whether `value` is an ARM deployment template.
pub fn is_template(value: &Value) -> bool {
    value
        .get("$schema")
        .and_then(Value::as_str)
        .is_some_and(|s| s.to_ascii_lowercase().contains("deploymenttemplate.json"))
        && value.get("resources").is_some()
}

/// The parameter values of a parameters file (`{"parameters": {"x": {"value": ...}}}`).
pub fn parameter_file(value: &Value, file: &Path) -> Result<BTreeMap<String, Eval>, String> {
    let params = value
        .get("parameters")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            format!(
                "{}: not a parameters file (no `parameters` object)",
                file.display()
            )
        })?;
    Ok(params
        .iter()
        .map(|(k, v)| {
            let value = match v.get("value") {
                Some(x) => Ok(x.clone()),
                None => Err(Unknown(format!(
                    "parameter {k} comes from a Key Vault reference, known only at deployment"
                ))),
            };
            (k.to_ascii_lowercase(), value)
        })
        .collect())
}

/// Walks one template file.
pub fn declared(
    spanned: &Spanned,
    file: &Path,
    shown: &str,
    params: &BTreeMap<String, Eval>,
    target: &Target,
) -> Result<Vec<Declared>, String> {
    let mut out = Vec::new();
    let ctx = Ctx::new(&spanned.value, params.clone(), target.clone(), None);
    let mut walker = Walker {
        file: file.to_path_buf(),
        shown: shown.to_string(),
        spanned,
        out: &mut out,
        depth: 0,
    };
    walker.template(&spanned.value, "", &ctx)?;
    Ok(out)
}

/// Evaluation context of one template: its parameters and variables, the
/// enclosing copy loops and the deployment target.
#[derive(Clone)]
struct Ctx {
    parameters: BTreeMap<String, Value>,
    supplied: BTreeMap<String, Eval>,
    variables: BTreeMap<String, Value>,
    cache: RefCell<BTreeMap<String, Eval>>,
    evaluating: RefCell<BTreeSet<String>>,
    copies: Vec<(String, i64)>,
    target: Target,
    /// The context expressions of an `outer`-scoped nested template use.
    outer: Option<Box<Ctx>>,
}

impl Ctx {
    fn new(
        template: &Value,
        supplied: BTreeMap<String, Eval>,
        target: Target,
        outer: Option<Box<Ctx>>,
    ) -> Ctx {
        let lower = |key: &str| -> BTreeMap<String, Value> {
            template
                .get(key)
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ctx {
            parameters: lower("parameters"),
            supplied,
            variables: lower("variables"),
            cache: RefCell::default(),
            evaluating: RefCell::default(),
            copies: Vec::new(),
            target,
            outer,
        }
    }

    fn with_copy(&self, name: &str, index: i64) -> Ctx {
        let mut c = self.clone();
        c.copies.push((name.to_ascii_lowercase(), index));
        c
    }

    /// Evaluates every string of a JSON tree; unknown values become null
    /// and their paths (under `path`) are added to `unknown`.
    fn tree(&self, v: &Value, path: &str, unknown: &mut Vec<String>) -> Result<Value, ExprError> {
        Ok(match v {
            Value::String(s) => match eval_string(s, self)? {
                Ok(x) => x,
                Err(Unknown(why)) => {
                    unknown.push(format!("{path} ({why})"));
                    Value::Null
                }
            },
            Value::Array(a) => Value::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| self.tree(x, &format!("{path}[{i}]"), unknown))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    if k == "copy" && x.is_array() {
                        // Property iteration: "copy": [{"name", "count", "input"}].
                        for c in x.as_array().into_iter().flatten() {
                            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
                            let count = match self.tree(
                                c.get("count").unwrap_or(&json!(0)),
                                &format!("{path}.{name}"),
                                unknown,
                            )? {
                                Value::Number(n) => n.as_i64().unwrap_or(0),
                                Value::Null => 0,
                                other => {
                                    return Err(ExprError(format!(
                                        "copy count of {name} is {other}, not a number"
                                    )));
                                }
                            };
                            let input = c.get("input").cloned().unwrap_or(Value::Null);
                            let items = (0..count.clamp(0, 800))
                                .map(|i| {
                                    self.with_copy(name, i).tree(
                                        &input,
                                        &format!("{path}.{name}[{i}]"),
                                        unknown,
                                    )
                                })
                                .collect::<Result<Vec<_>, _>>()?;
                            out.insert(name.to_string(), Value::Array(items));
                        }
                        continue;
                    }
                    out.insert(k.clone(), self.tree(x, &format!("{path}.{k}"), unknown)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    fn value(&self, v: &Value) -> Result<Eval, ExprError> {
        let mut unknown = Vec::new();
        let x = self.tree(v, "", &mut unknown)?;
        Ok(match unknown.into_iter().next() {
            Some(why) => Err(Unknown(why.trim_start_matches(' ').to_string())),
            None => Ok(x),
        })
    }
}

impl Scope for Ctx {
    fn parameter(&self, name: &str) -> Result<Eval, ExprError> {
        if let Some(o) = &self.outer {
            return o.parameter(name);
        }
        let key = name.to_ascii_lowercase();
        if let Some(v) = self.supplied.get(&key) {
            return Ok(v.clone());
        }
        let decl = self.parameters.get(&key).ok_or_else(|| {
            ExprError(format!(
                "parameters('{name}'): the template declares no such parameter"
            ))
        })?;
        match decl.get("defaultValue") {
            Some(d) => {
                let guard = format!("parameter {key}");
                if !self.evaluating.borrow_mut().insert(guard.clone()) {
                    return Err(ExprError(format!(
                        "the default of parameter {name} refers to itself"
                    )));
                }
                let v = self.value(d);
                self.evaluating.borrow_mut().remove(&guard);
                v
            }
            None => Ok(Err(Unknown(format!(
                "parameter {name} has no value: pass it in a --parameters file"
            )))),
        }
    }

    fn variable(&self, name: &str) -> Result<Eval, ExprError> {
        if let Some(o) = &self.outer {
            return o.variable(name);
        }
        let key = name.to_ascii_lowercase();
        if let Some(v) = self.cache.borrow().get(&key) {
            return Ok(v.clone());
        }
        let raw = self
            .variables
            .get(&key)
            .ok_or_else(|| {
                ExprError(format!(
                    "variables('{name}'): the template declares no such variable"
                ))
            })?
            .clone();
        if !self.evaluating.borrow_mut().insert(key.clone()) {
            return Err(ExprError(format!("variable {name} refers to itself")));
        }
        let v = self.value(&raw);
        self.evaluating.borrow_mut().remove(&key);
        let v = v?;
        self.cache.borrow_mut().insert(key, v.clone());
        Ok(v)
    }

    fn copy_index(&self, name: Option<&str>) -> Result<i64, ExprError> {
        let found = match name {
            None => self.copies.last(),
            Some(n) => self
                .copies
                .iter()
                .rev()
                .find(|(c, _)| c.eq_ignore_ascii_case(n)),
        };
        if let Some((_, i)) = found {
            return Ok(*i);
        }
        match &self.outer {
            Some(o) => o.copy_index(name),
            None => Err(ExprError(format!(
                "copyIndex({}) outside a copy loop",
                name.map(|n| format!("'{n}'")).unwrap_or_default()
            ))),
        }
    }

    fn subscription_id(&self) -> String {
        self.target.subscription_id.clone()
    }
    fn resource_group(&self) -> String {
        self.target.resource_group.clone()
    }
    fn location(&self) -> String {
        self.target.location.clone()
    }
    fn deployment_name(&self) -> String {
        self.target.deployment.clone()
    }
}

struct Walker<'a> {
    file: PathBuf,
    shown: String,
    spanned: &'a Spanned,
    out: &'a mut Vec<Declared>,
    depth: usize,
}

/// What a resource's parent contributes to its type, name and id.
#[derive(Clone, Default)]
struct Parent {
    kind: String,
    name: String,
}

impl Walker<'_> {
    fn err(&self, pointer: &str, e: impl std::fmt::Display) -> String {
        format!("{}:{}: {e}", self.shown, self.spanned.line(pointer))
    }

    /// `template` is at `pointer` in this walker's file.
    fn template(&mut self, template: &Value, pointer: &str, ctx: &Ctx) -> Result<(), String> {
        let subscription_level = template
            .get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| {
                s.to_ascii_lowercase()
                    .contains("subscriptiondeploymenttemplate")
            });
        match template.get("resources") {
            Some(Value::Array(list)) => {
                for (i, r) in list.iter().enumerate() {
                    self.resource(
                        r,
                        &format!("{pointer}/resources/{i}"),
                        ctx,
                        &Parent::default(),
                        subscription_level,
                    )?;
                }
            }
            // languageVersion 2.0: symbolic names.
            Some(Value::Object(map)) => {
                for (name, r) in map {
                    self.resource(
                        r,
                        &format!("{pointer}/resources/{}", pointer_key(name)),
                        ctx,
                        &Parent::default(),
                        subscription_level,
                    )?;
                }
            }
            _ => return Err(self.err(pointer, "the template has no `resources`")),
        }
        Ok(())
    }

    fn resource(
        &mut self,
        r: &Value,
        pointer: &str,
        ctx: &Ctx,
        parent: &Parent,
        sub_level: bool,
    ) -> Result<(), String> {
        if r.get("existing").and_then(Value::as_bool) == Some(true) {
            return Ok(());
        }
        match r.get("copy") {
            Some(copy) if copy.is_object() => {
                let name = copy
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("copy")
                    .to_string();
                let count = ctx
                    .value(copy.get("count").unwrap_or(&Value::Null))
                    .map_err(|e| self.err(pointer, e))?;
                match count {
                    Ok(Value::Number(n)) => {
                        for i in 0..n.as_i64().unwrap_or(0).clamp(0, 800) {
                            self.instance(
                                r,
                                pointer,
                                &ctx.with_copy(&name, i),
                                parent,
                                sub_level,
                                None,
                            )?;
                        }
                        Ok(())
                    }
                    Ok(other) => {
                        Err(self.err(pointer, format!("copy count is {other}, not a number")))
                    }
                    Err(Unknown(why)) => {
                        // How many is unknown: one instance stands for them, unknown.
                        self.instance(
                            r,
                            pointer,
                            &ctx.with_copy(&name, 0),
                            parent,
                            sub_level,
                            Some(format!("copy.count ({why})")),
                        )
                    }
                }
            }
            _ => self.instance(r, pointer, ctx, parent, sub_level, None),
        }
    }

    fn instance(
        &mut self,
        r: &Value,
        pointer: &str,
        ctx: &Ctx,
        parent: &Parent,
        sub_level: bool,
        mut unknown_copy: Option<String>,
    ) -> Result<(), String> {
        let mut unknown = Vec::new();
        if let Some(c) = r.get("condition") {
            match ctx.value(c).map_err(|e| self.err(pointer, e))? {
                Ok(Value::Bool(false)) => return Ok(()),
                Ok(_) => {}
                Err(Unknown(why)) => unknown.push(format!("condition ({why})")),
            }
        }
        unknown.extend(unknown_copy.take());
        let text = |field: &str| -> Result<String, String> {
            match r.get(field) {
                Some(v) => match ctx.value(v).map_err(|e| self.err(pointer, e))? {
                    Ok(Value::String(s)) => Ok(s),
                    Ok(other) => Err(self.err(pointer, format!("`{field}` is {other}, not a string"))),
                    Err(Unknown(why)) => Err(self.err(pointer, format!("`{field}` is not known before deployment ({why}); kvaudit cannot tell which resource this is"))),
                },
                None => Err(self.err(pointer, format!("the resource has no `{field}`"))),
            }
        };
        let mut kind = text("type")?;
        let mut name = match text("name") {
            Ok(n) => n,
            Err(e) if e.contains("not known before deployment") => {
                unknown.push("name (not known before deployment)".into());
                format!("unknown-name-line-{}", self.spanned.line(pointer))
            }
            Err(e) => return Err(e),
        };
        // A child declared inside its parent: relative type and name.
        if !parent.kind.is_empty() {
            if !kind.contains('.') || kind.split('/').count() == 1 {
                kind = format!("{}/{kind}", parent.kind);
            }
            if name.split('/').count() < kind.split('/').count() - 1 {
                name = format!("{}/{name}", parent.name);
            }
        }
        let lkind = kind.to_ascii_lowercase();
        if lkind == "microsoft.resources/deployments" {
            return self.deployment(r, pointer, ctx, &name);
        }
        let mut body = Map::new();
        for field in ["location", "tags", "sku", "kind", "properties", "identity"] {
            if let Some(v) = r.get(field) {
                let v = ctx
                    .tree(v, field, &mut unknown)
                    .map_err(|e| self.err(pointer, e))?;
                body.insert(field.to_string(), v);
            }
        }
        let scope = match r.get("scope") {
            Some(s) => match ctx.value(s).map_err(|e| self.err(pointer, e))? {
                Ok(Value::String(s)) => Some(self.absolute(&s, &ctx.target)),
                Ok(other) => {
                    return Err(self.err(pointer, format!("`scope` is {other}, not a string")));
                }
                Err(Unknown(why)) => {
                    return Err(self.err(
                        pointer,
                        format!("`scope` is not known before deployment ({why})"),
                    ));
                }
            },
            None => None,
        };
        let type_segments: Vec<&str> = kind.split('/').collect();
        let name_segments: Vec<&str> = name.split('/').collect();
        // The older form of an extension resource: {type}/providers/{ext type},
        // name {parent name}/{ext namespace}/{name}.
        let (scope, kind, name_segments, type_segments) = match type_segments
            .iter()
            .position(|t| t.eq_ignore_ascii_case("providers"))
        {
            Some(p) if scope.is_none() && p >= 2 && name_segments.len() > p => {
                let base_type = type_segments[..p].join("/");
                let base_names = &name_segments[..p - 1];
                let base = self.id_of(&base_type, base_names, &ctx.target, sub_level);
                let ext_type = format!(
                    "{}/{}",
                    name_segments[p - 1],
                    type_segments[p + 1..].join("/")
                );
                let ext_names: Vec<&str> = name_segments[p..].to_vec();
                let ext_types: Vec<&str> = ext_type.split('/').collect();
                (
                    Some(base),
                    ext_type.clone(),
                    ext_names,
                    ext_types.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                )
            }
            _ => (
                scope,
                kind.clone(),
                name_segments.clone(),
                type_segments.iter().map(|s| s.to_string()).collect(),
            ),
        };
        let id = match &scope {
            Some(base) => {
                let mut p = format!(
                    "{}/providers/{}",
                    base.trim_end_matches('/'),
                    type_segments[0]
                );
                for (t, n) in type_segments[1..].iter().zip(&name_segments) {
                    p.push_str(&format!("/{t}/{n}"));
                }
                p
            }
            None => self.id_of(&kind, &name_segments, &ctx.target, sub_level),
        };
        self.out.push(Declared {
            kind: kind.clone(),
            name: name_segments
                .last()
                .copied()
                .unwrap_or_default()
                .to_string(),
            id: id.clone(),
            scope,
            body: Value::Object(body),
            unknown,
            source: Source {
                file: self.shown.clone(),
                line: self.spanned.line(pointer),
            },
        });
        // Children declared inside.
        if let Some(Value::Array(children)) = r.get("resources") {
            let me = Parent {
                kind: kind.clone(),
                name: name_segments.join("/"),
            };
            for (i, c) in children.iter().enumerate() {
                self.resource(c, &format!("{pointer}/resources/{i}"), ctx, &me, sub_level)?;
            }
        }
        Ok(())
    }

    /// `/subscriptions/S/resourceGroups/RG/providers/NS/t1/n1/t2/n2`.
    fn id_of(&self, kind: &str, names: &[&str], target: &Target, sub_level: bool) -> String {
        let types: Vec<&str> = kind.split('/').collect();
        let mut p = if sub_level {
            format!(
                "/subscriptions/{}/providers/{}",
                target.subscription_id, types[0]
            )
        } else {
            format!(
                "/subscriptions/{}/resourceGroups/{}/providers/{}",
                target.subscription_id, target.resource_group, types[0]
            )
        };
        for (t, n) in types[1..].iter().zip(names) {
            p.push_str(&format!("/{t}/{n}"));
        }
        p
    }

    /// A `scope` as an id: absolute, or `NS/type/name` in the deployment's
    /// resource group.
    fn absolute(&self, scope: &str, target: &Target) -> String {
        if scope.starts_with('/') {
            return scope.to_string();
        }
        let parts: Vec<&str> = scope.split('/').collect();
        if parts.len() >= 3 && parts[0].contains('.') {
            let kind = std::iter::once(parts[0])
                .chain(parts[1..].iter().step_by(2).copied())
                .collect::<Vec<_>>()
                .join("/");
            let names: Vec<&str> = parts[2..].iter().step_by(2).copied().collect();
            return self.id_of(&kind, &names, target, false);
        }
        scope.to_string()
    }

    /// A nested (inline) or linked (relative path) deployment.
    fn deployment(
        &mut self,
        r: &Value,
        pointer: &str,
        ctx: &Ctx,
        name: &str,
    ) -> Result<(), String> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(
                pointer,
                format!("deployments nested deeper than {MAX_DEPTH}"),
            ));
        }
        let props = r.get("properties").cloned().unwrap_or_default();
        let mut target = ctx.target.clone();
        target.deployment = name.to_string();
        for (field, slot) in [
            ("resourceGroup", &mut target.resource_group),
            ("subscriptionId", &mut target.subscription_id),
        ] {
            if let Some(v) = r.get(field)
                && let Ok(Ok(Value::String(s))) = ctx.value(v)
            {
                *slot = s;
            }
        }
        let mut supplied = BTreeMap::new();
        for (k, v) in props
            .get("parameters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let value = match v.get("value") {
                Some(x) => ctx.value(x).map_err(|e| self.err(pointer, e))?,
                None => Err(Unknown(format!(
                    "parameter {k} comes from a Key Vault reference"
                ))),
            };
            supplied.insert(k.to_ascii_lowercase(), value);
        }
        let inner = props
            .pointer("/expressionEvaluationOptions/scope")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
        if let Some(template) = props.get("template") {
            let nested = if inner {
                Ctx::new(template, supplied, target, None)
            } else {
                // Outer scope: the nested template's expressions are the parent's.
                let mut c = Ctx::new(
                    template,
                    BTreeMap::new(),
                    target,
                    Some(Box::new(ctx.clone())),
                );
                c.copies = ctx.copies.clone();
                c
            };
            self.depth += 1;
            let r = self.template(template, &format!("{pointer}/properties/template"), &nested);
            self.depth -= 1;
            return r;
        }
        let link = props
            .pointer("/templateLink/relativePath")
            .or_else(|| props.pointer("/templateLink/uri"))
            .ok_or_else(|| {
                self.err(
                    pointer,
                    "a deployment with neither `template` nor `templateLink`",
                )
            })?;
        let relative = match ctx.value(link).map_err(|e| self.err(pointer, e))? {
            Ok(Value::String(s)) => s,
            _ => {
                return Err(self.err(
                    pointer,
                    "the linked template's path is not known before deployment",
                ));
            }
        };
        if relative.contains("://") {
            return Err(self.err(
                pointer,
                format!("linked template {relative}: only templates by relative path (templateLink.relativePath) are read; kvaudit does not fetch URLs"),
            ));
        }
        let path = self.file.parent().unwrap_or(Path::new(".")).join(&relative);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| self.err(pointer, format!("linked template {}: {e}", path.display())))?;
        let shown = super::shown_path(&path);
        let spanned = Spanned::parse(&text, Path::new(&shown))?;
        let nested = Ctx::new(&spanned.value, supplied, target, None);
        let mut walker = Walker {
            file: path.clone(),
            shown,
            spanned: &spanned,
            out: self.out,
            depth: self.depth + 1,
        };
        walker.template(&spanned.value, "", &nested)
    }
}

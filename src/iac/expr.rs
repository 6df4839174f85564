//! ARM template expressions: `[concat('kv-', parameters('env'))]`.
//!
//! The functions templates (and `bicep build` output) use to name and
//! configure resources are evaluated; a value that cannot be known before
//! deployment (`reference()`, `listKeys()`, `newGuid()`, `utcNow()`, a
//! parameter without a value) is [`Unknown`], and so is anything computed
//! from it. `uniqueString()` and `guid()` are stand-ins: stable and
//! consistent within a run (the same arguments give the same value), not
//! Azure's hashes, which depend on ids only known at deployment.
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// `subscription().tenantId`: only known at deployment, read by no rule.
pub const STAND_IN_TENANT: &str = "00000000-0000-0000-0000-000000000000";

/// Why a value cannot be known before deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Unknown(pub String);

/// An expression's value, or why it is unknown.
pub type Eval = Result<Value, Unknown>;

/// A parse or evaluation error: the template is wrong (or uses a function
/// kvaudit does not know), as opposed to a value not known yet.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ExprError(pub String);

/// What expressions refer to.
pub trait Scope {
    fn parameter(&self, name: &str) -> Result<Eval, ExprError>;
    fn variable(&self, name: &str) -> Result<Eval, ExprError>;
    /// `copyIndex(loop)` (`None`: the innermost loop).
    fn copy_index(&self, name: Option<&str>) -> Result<i64, ExprError>;
    fn subscription_id(&self) -> String;
    fn resource_group(&self) -> String;
    fn location(&self) -> String;
    fn deployment_name(&self) -> String;
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
    Call(String, Vec<Expr>),
    Member(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
}

/// Whether a template string is an expression (`[...]`, not `[[...`).
pub fn is_expression(s: &str) -> bool {
    let t = s.trim();
    t.starts_with('[') && t.ends_with(']') && !t.starts_with("[[")
}

/// Evaluates a template string: an expression, an escaped literal (`[[`)
/// or plain text.
pub fn eval_string(s: &str, scope: &dyn Scope) -> Result<Eval, ExprError> {
    let t = s.trim();
    if t.starts_with("[[") {
        return Ok(Ok(Value::String(s.replacen("[[", "[", 1))));
    }
    if !is_expression(s) {
        return Ok(Ok(Value::String(s.to_string())));
    }
    let inner = &t[1..t.len() - 1];
    let expr = Parser::new(inner)
        .parse_all()
        .map_err(|e| ExprError(format!("{e} in `{}`", short(s))))?;
    eval(&expr, scope).map_err(|e| ExprError(format!("{} in `{}`", e.0, short(s))))
}

fn short(s: &str) -> String {
    let s = crate::text::terminal(s).into_owned();
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

/// Deepest nesting of calls and accessors an expression may have: deeper
/// is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn new(text: &str) -> Self {
        Parser {
            chars: text.chars().collect(),
            pos: 0,
            depth: 0,
        }
    }

    fn parse_all(mut self) -> Result<Expr, String> {
        let e = self.expr()?;
        self.ws();
        if self.pos < self.chars.len() {
            return Err(format!(
                "unexpected `{}` at column {}",
                self.chars[self.pos],
                self.pos + 2
            ));
        }
        Ok(e)
    }

    fn ws(&mut self) {
        while self.pos < self.chars.len() && self.chars[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.ws();
        self.chars.get(self.pos).copied()
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        match self.peek() {
            Some(x) if x == c => {
                self.pos += 1;
                Ok(())
            }
            Some(x) => Err(format!(
                "expected `{c}`, found `{x}` at column {}",
                self.pos + 2
            )),
            None => Err(format!("expected `{c}` at the end")),
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        self.ws();
        let start = self.pos;
        while self.pos < self.chars.len()
            && (self.chars[self.pos].is_alphanumeric() || self.chars[self.pos] == '_')
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(format!("expected a name at column {}", start + 2));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn expr(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        let e = self.expr_inner();
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self) -> Result<Expr, String> {
        let mut e = self.primary()?;
        loop {
            match self.peek() {
                Some('.') => {
                    self.pos += 1;
                    let name = self.ident()?;
                    e = Expr::Member(Box::new(e), name);
                }
                Some('[') => {
                    self.pos += 1;
                    let i = self.expr()?;
                    self.expect(']')?;
                    e = Expr::Index(Box::new(e), Box::new(i));
                }
                _ => return Ok(e),
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some('\'') => {
                self.pos += 1;
                let mut s = String::new();
                loop {
                    match self.chars.get(self.pos) {
                        None => return Err("unterminated string".into()),
                        Some('\'') if self.chars.get(self.pos + 1) == Some(&'\'') => {
                            s.push('\'');
                            self.pos += 2;
                        }
                        Some('\'') => {
                            self.pos += 1;
                            return Ok(Expr::Str(s));
                        }
                        Some(c) => {
                            s.push(*c);
                            self.pos += 1;
                        }
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || c == '-' => {
                let start = self.pos;
                self.pos += 1;
                while self.pos < self.chars.len() && self.chars[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                text.parse()
                    .map(Expr::Int)
                    .map_err(|_| format!("bad number `{text}`"))
            }
            Some(_) => {
                let name = self.ident()?;
                if self.peek() != Some('(') {
                    return match name.to_ascii_lowercase().as_str() {
                        "true" => Ok(Expr::Bool(true)),
                        "false" => Ok(Expr::Bool(false)),
                        "null" => Ok(Expr::Null),
                        _ => Err(format!("`{name}` is not a function call")),
                    };
                }
                self.pos += 1;
                let mut args = Vec::new();
                if self.peek() == Some(')') {
                    self.pos += 1;
                    return Ok(Expr::Call(name, args));
                }
                loop {
                    args.push(self.expr()?);
                    match self.peek() {
                        Some(',') => self.pos += 1,
                        Some(')') => {
                            self.pos += 1;
                            return Ok(Expr::Call(name, args));
                        }
                        _ => return Err(format!("expected `,` or `)` in {name}(…)")),
                    }
                }
            }
            None => Err("empty expression".into()),
        }
    }
}

macro_rules! known {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(u) => return Ok(Err(u)),
        }
    };
}

fn eval(e: &Expr, scope: &dyn Scope) -> Result<Eval, ExprError> {
    Ok(Ok(match e {
        Expr::Str(s) => json!(s),
        Expr::Int(i) => json!(i),
        Expr::Bool(b) => json!(b),
        Expr::Null => Value::Null,
        Expr::Member(base, name) => {
            let v = known!(eval(base, scope)?);
            match v {
                Value::Object(m) => m
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| ExprError(format!("the object has no property `{name}`")))?,
                other => {
                    return Err(ExprError(format!(
                        "`.{name}` on {}, which is not an object",
                        kind(&other)
                    )));
                }
            }
        }
        Expr::Index(base, index) => {
            let v = known!(eval(base, scope)?);
            let i = known!(eval(index, scope)?);
            match (&v, &i) {
                (Value::Array(a), Value::Number(n)) => {
                    let k = n.as_u64().unwrap_or(u64::MAX) as usize;
                    a.get(k).cloned().ok_or_else(|| {
                        ExprError(format!("index {n} is outside an array of {}", a.len()))
                    })?
                }
                (Value::Object(m), Value::String(k)) => m
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| ExprError(format!("the object has no property `{k}`")))?,
                _ => {
                    return Err(ExprError(format!(
                        "cannot index {} with {}",
                        kind(&v),
                        kind(&i)
                    )));
                }
            }
        }
        Expr::Call(name, args) => return call(name, args, scope),
    }))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn truthy(v: &Value, f: &str) -> Result<bool, ExprError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(ExprError(format!(
            "{f}() needs a bool, got {}",
            kind(other)
        ))),
    }
}

/// A stable stand-in for a hash Azure computes at deployment: 13
/// lower-case characters, like `uniqueString`'s.
fn stand_in(args: &[Value]) -> String {
    let mut h = Sha256::new();
    for a in args {
        h.update(text(a).as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    digest
        .iter()
        .take(13)
        .map(|b| ALPHABET[(*b as usize) % 32] as char)
        .collect()
}

fn call(name: &str, args: &[Expr], scope: &dyn Scope) -> Result<Eval, ExprError> {
    let lname = name.to_ascii_lowercase();
    let arity = |min: usize, max: usize| -> Result<(), ExprError> {
        if args.len() < min || args.len() > max {
            Err(ExprError(format!(
                "{name}() takes {} argument(s), got {}",
                if min == max {
                    min.to_string()
                } else {
                    format!("{min} to {max}")
                },
                args.len()
            )))
        } else {
            Ok(())
        }
    };
    // `if` evaluates only the branch it takes.
    if lname == "if" {
        arity(3, 3)?;
        let c = known!(eval(&args[0], scope)?);
        return if truthy(&c, "if")? {
            eval(&args[1], scope)
        } else {
            eval(&args[2], scope)
        };
    }
    let mut values = Vec::with_capacity(args.len());
    for a in args {
        values.push(known!(eval(a, scope)?));
    }
    let str_arg = |i: usize| -> Result<String, ExprError> {
        match &values[i] {
            Value::String(s) => Ok(s.clone()),
            other => Err(ExprError(format!(
                "{name}() needs a string as argument {}, got {}",
                i + 1,
                kind(other)
            ))),
        }
    };
    let v = match lname.as_str() {
        "parameters" => {
            arity(1, 1)?;
            return scope.parameter(&str_arg(0)?);
        }
        "variables" => {
            arity(1, 1)?;
            return scope.variable(&str_arg(0)?);
        }
        "copyindex" => {
            arity(0, 2)?;
            let (name, offset) = match values.as_slice() {
                [] => (None, 0),
                [Value::Number(n)] => (None, n.as_i64().unwrap_or(0)),
                [Value::String(s)] => (Some(s.as_str()), 0),
                [Value::String(s), Value::Number(n)] => (Some(s.as_str()), n.as_i64().unwrap_or(0)),
                _ => {
                    return Err(ExprError(
                        "copyIndex() takes a loop name and/or an offset".into(),
                    ));
                }
            };
            json!(scope.copy_index(name)?.saturating_add(offset))
        }
        "concat" => {
            if values.iter().all(Value::is_array) {
                Value::Array(
                    values
                        .iter()
                        .flat_map(|v| v.as_array().cloned().unwrap_or_default())
                        .collect(),
                )
            } else {
                json!(values.iter().map(text).collect::<String>())
            }
        }
        "format" => {
            arity(1, 64)?;
            let fmt = str_arg(0)?;
            json!(format_arm(&fmt, &values[1..])?)
        }
        "tolower" => {
            arity(1, 1)?;
            json!(str_arg(0)?.to_lowercase())
        }
        "toupper" => {
            arity(1, 1)?;
            json!(str_arg(0)?.to_uppercase())
        }
        "trim" => {
            arity(1, 1)?;
            json!(str_arg(0)?.trim())
        }
        "replace" => {
            arity(3, 3)?;
            json!(str_arg(0)?.replace(&str_arg(1)?, &str_arg(2)?))
        }
        "substring" => {
            arity(2, 3)?;
            let s: Vec<char> = str_arg(0)?.chars().collect();
            let start = values[1].as_u64().unwrap_or(0) as usize;
            let len = values
                .get(2)
                .and_then(Value::as_u64)
                .map_or(s.len().saturating_sub(start), |n| n as usize);
            if start.checked_add(len).is_none_or(|end| end > s.len()) {
                return Err(ExprError(
                    "substring() goes past the end of the string".into(),
                ));
            }
            json!(s[start..start + len].iter().collect::<String>())
        }
        "string" => {
            arity(1, 1)?;
            json!(text(&values[0]))
        }
        "int" => {
            arity(1, 1)?;
            match &values[0] {
                Value::Number(n) => Value::Number(n.clone()),
                Value::String(s) => json!(
                    s.trim()
                        .parse::<i64>()
                        .map_err(|_| ExprError(format!("int('{s}') is not a number")))?
                ),
                other => return Err(ExprError(format!("int() of {}", kind(other)))),
            }
        }
        "bool" => {
            arity(1, 1)?;
            json!(truthy(&values[0], "bool")?)
        }
        "true" => json!(true),
        "false" => json!(false),
        "null" => Value::Null,
        "not" => {
            arity(1, 1)?;
            json!(!truthy(&values[0], "not")?)
        }
        "and" | "or" => {
            arity(2, 64)?;
            let mut acc = lname == "and";
            for v in &values {
                let b = truthy(v, &lname)?;
                acc = if lname == "and" { acc && b } else { acc || b };
            }
            json!(acc)
        }
        "equals" => {
            arity(2, 2)?;
            json!(values[0] == values[1])
        }
        "empty" => {
            arity(1, 1)?;
            json!(match &values[0] {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                Value::Array(a) => a.is_empty(),
                Value::Object(o) => o.is_empty(),
                _ => false,
            })
        }
        "length" => {
            arity(1, 1)?;
            json!(match &values[0] {
                Value::String(s) => s.chars().count(),
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                other => return Err(ExprError(format!("length() of {}", kind(other)))),
            })
        }
        "contains" => {
            arity(2, 2)?;
            json!(match (&values[0], &values[1]) {
                (Value::String(s), x) => s.to_lowercase().contains(&text(x).to_lowercase()),
                (Value::Array(a), x) => a.contains(x),
                (Value::Object(o), Value::String(k)) =>
                    o.keys().any(|key| key.eq_ignore_ascii_case(k)),
                _ => false,
            })
        }
        "createarray" => Value::Array(values.clone()),
        "createobject" => {
            if values.len() % 2 != 0 {
                return Err(ExprError("createObject() takes key, value pairs".into()));
            }
            let mut m = Map::new();
            for pair in values.chunks(2) {
                m.insert(text(&pair[0]), pair[1].clone());
            }
            Value::Object(m)
        }
        "union" => {
            arity(1, 64)?;
            if values.iter().all(Value::is_object) {
                let mut m = Map::new();
                for v in &values {
                    for (k, x) in v.as_object().into_iter().flatten() {
                        m.insert(k.clone(), x.clone());
                    }
                }
                Value::Object(m)
            } else if values.iter().all(Value::is_array) {
                let mut out: Vec<Value> = Vec::new();
                for x in values
                    .iter()
                    .flat_map(|v| v.as_array().cloned().unwrap_or_default())
                {
                    if !out.contains(&x) {
                        out.push(x);
                    }
                }
                Value::Array(out)
            } else {
                return Err(ExprError(
                    "union() takes objects or arrays, not a mix".into(),
                ));
            }
        }
        "first" | "last" => {
            arity(1, 1)?;
            match &values[0] {
                Value::Array(a) => (if lname == "first" {
                    a.first()
                } else {
                    a.last()
                })
                .cloned()
                .unwrap_or(Value::Null),
                Value::String(s) => json!(
                    (if lname == "first" {
                        s.chars().next()
                    } else {
                        s.chars().last()
                    })
                    .map(String::from)
                    .unwrap_or_default()
                ),
                other => return Err(ExprError(format!("{name}() of {}", kind(other)))),
            }
        }
        "split" => {
            arity(2, 2)?;
            json!(str_arg(0)?.split(str_arg(1)?.as_str()).collect::<Vec<_>>())
        }
        "uniquestring" => {
            arity(1, 64)?;
            json!(stand_in(&values))
        }
        "guid" => {
            arity(1, 64)?;
            let h = format!("{}{}{}", stand_in(&values), stand_in(&[json!(1)]), "000000");
            let hex: String = h
                .bytes()
                .take(32)
                .map(|b| format!("{:x}", b % 16))
                .collect();
            json!(format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ))
        }
        "subscription" => {
            arity(0, 0)?;
            let id = scope.subscription_id();
            // The tenant is a stand-in too: no rule judges it.
            json!({"id": format!("/subscriptions/{id}"), "subscriptionId": id, "displayName": id, "tenantId": STAND_IN_TENANT})
        }
        "resourcegroup" => {
            arity(0, 0)?;
            let rg = scope.resource_group();
            json!({
                "id": format!("/subscriptions/{}/resourceGroups/{rg}", scope.subscription_id()),
                "name": rg,
                "location": scope.location(),
            })
        }
        "deployment" => {
            arity(0, 0)?;
            json!({"name": scope.deployment_name()})
        }
        "environment" => {
            arity(0, 0)?;
            json!({"name": "AzureCloud", "suffixes": {"keyvaultDns": ".vault.azure.net"}})
        }
        "resourceid" | "subscriptionresourceid" | "tenantresourceid" | "extensionresourceid" => {
            json!(resource_id(&lname, &values, scope)?)
        }
        "reference" | "list" | "listkeys" | "listsecrets" | "listaccountsas" | "newguid"
        | "utcnow" | "pickzones" | "managementgroup" | "tenant" => {
            return Ok(Err(Unknown(format!(
                "{name}() is only known at deployment"
            ))));
        }
        "datetimeadd" => {
            return Ok(Err(Unknown(
                "dateTimeAdd() is only known at deployment".into(),
            )));
        }
        _ => {
            return Err(ExprError(format!(
                "the template function {name}() is not supported by kvaudit iac"
            )));
        }
    };
    Ok(Ok(v))
}

/// `format('{0}-{1}', a, b)`: .NET composite formatting, without format
/// specifiers (which templates rarely use on names).
fn format_arm(fmt: &str, args: &[Value]) -> Result<String, ExprError> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut spec = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    spec.push(d);
                }
                let index: usize = spec
                    .split([':', ','])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .parse()
                    .map_err(|_| ExprError(format!("format(): bad placeholder {{{spec}}}")))?;
                let v = args.get(index).ok_or_else(|| {
                    ExprError(format!(
                        "format(): placeholder {{{index}}} but {} argument(s)",
                        args.len()
                    ))
                })?;
                out.push_str(&text(v));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `resourceId([subscriptionId], [resourceGroupName], type, name1, ...)`
/// and its subscription, tenant and extension forms.
fn resource_id(f: &str, values: &[Value], scope: &dyn Scope) -> Result<String, ExprError> {
    let strings: Vec<String> = values.iter().map(text).collect();
    let type_at = strings
        .iter()
        .position(|s| s.contains('/') && !s.starts_with('/'))
        .ok_or_else(|| ExprError(format!("{f}(): no resource type among the arguments")))?;
    let (before, rest) = strings.split_at(type_at);
    let kind = &rest[0];
    let names = &rest[1..];
    let type_segments: Vec<&str> = kind.split('/').collect();
    if type_segments.len() - 1 != names.len() {
        return Err(ExprError(format!(
            "{f}(): type {kind} needs {} name(s), got {}",
            type_segments.len() - 1,
            names.len()
        )));
    }
    let mut path = type_segments[0].to_string();
    for (t, n) in type_segments[1..].iter().zip(names) {
        path.push_str(&format!("/{t}/{n}"));
    }
    Ok(match f {
        "extensionresourceid" => {
            let base = before.first().cloned().unwrap_or_default();
            format!("{}/providers/{path}", base.trim_end_matches('/'))
        }
        "tenantresourceid" => format!("/providers/{path}"),
        "subscriptionresourceid" => {
            let sub = before
                .first()
                .cloned()
                .unwrap_or_else(|| scope.subscription_id());
            format!("/subscriptions/{sub}/providers/{path}")
        }
        _ => {
            let (sub, rg) = match before {
                [] => (scope.subscription_id(), scope.resource_group()),
                [rg] => (scope.subscription_id(), rg.clone()),
                [sub, rg, ..] => (sub.clone(), rg.clone()),
            };
            format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/{path}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct S;
    impl Scope for S {
        fn parameter(&self, name: &str) -> Result<Eval, ExprError> {
            match name {
                "env" => Ok(Ok(json!("prod"))),
                "secret" => Ok(Err(Unknown("no value".into()))),
                _ => Err(ExprError(format!("no parameter {name}"))),
            }
        }
        fn variable(&self, _: &str) -> Result<Eval, ExprError> {
            Ok(Ok(json!({"names": ["a", "b"]})))
        }
        fn copy_index(&self, _: Option<&str>) -> Result<i64, ExprError> {
            Ok(2)
        }
        fn subscription_id(&self) -> String {
            "sub".into()
        }
        fn resource_group(&self) -> String {
            "rg".into()
        }
        fn location(&self) -> String {
            "westeurope".into()
        }
        fn deployment_name(&self) -> String {
            "main".into()
        }
    }

    fn ev(s: &str) -> Eval {
        eval_string(s, &S).unwrap()
    }

    #[test]
    fn evaluates_what_templates_use() {
        assert_eq!(
            ev("[concat('kv-', parameters('env'))]"),
            Ok(json!("kv-prod"))
        );
        assert_eq!(
            ev("[format('{0}-{1}', 'kv', copyIndex(1))]"),
            Ok(json!("kv-3"))
        );
        assert_eq!(ev("[variables('x').names[1]]"), Ok(json!("b")));
        assert_eq!(
            ev("[resourceId('Microsoft.KeyVault/vaults', 'kv')]"),
            Ok(json!(
                "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
            ))
        );
        assert_eq!(ev("[subscription().id]"), Ok(json!("/subscriptions/sub")));
        assert_eq!(
            ev("[if(equals(parameters('env'), 'prod'), true(), false())]"),
            Ok(json!(true))
        );
        assert_eq!(ev("[toLower('A''B')]"), Ok(json!("a'b")));
        assert_eq!(ev("[[literal]"), Ok(json!("[literal]")));
        assert_eq!(ev("plain"), Ok(json!("plain")));
        assert_eq!(ev("[uniqueString('a')]"), ev("[uniqueString('a')]"));
        assert_ne!(ev("[uniqueString('a')]"), ev("[uniqueString('b')]"));
    }

    #[test]
    fn unknown_propagates_and_if_takes_one_branch() {
        assert!(ev("[concat('x', parameters('secret'))]").is_err());
        assert!(ev("[reference('x').outputs]").is_err());
        assert_eq!(
            ev("[if(true(), 'a', parameters('secret'))]"),
            Ok(json!("a"))
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let e = eval_string("[concat('a']", &S).unwrap_err();
        assert!(e.0.contains("expected `,` or `)`"), "{e}");
        let e = eval_string("[nosuch(1)]", &S).unwrap_err();
        assert!(e.0.contains("nosuch() is not supported"), "{e}");
        let deep = format!("[{}'x'{}]", "toLower(".repeat(200), ")".repeat(200));
        let e = eval_string(&deep, &S).unwrap_err();
        assert!(e.0.contains("nested deeper than 64"), "{e}");
        assert!(eval_string("[substring('abc', 1, 9223372036854775807)]", &S).is_err());
    }
}

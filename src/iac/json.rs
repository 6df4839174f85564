//! JSON with the line each object starts on, so a finding can point at the
//! line that declares its resource (jsonc-parser keeps the positions that
//! serde_json drops).
use std::collections::HashMap;
use std::path::Path;

use jsonc_parser::ast;
use serde_json::{Map, Number, Value};

/// A parsed file: its value and, per JSON pointer of an object or array,
/// the 1-based line it starts on.
pub struct Spanned {
    pub value: Value,
    lines: HashMap<String, usize>,
}

impl Spanned {
    /// Parses `text` (strict JSON; comments, as `bicep build` never writes
    /// them but people do, are accepted). The error is one line with the
    /// file, line and column.
    pub fn parse(text: &str, file: &Path) -> Result<Spanned, String> {
        let options = jsonc_parser::ParseOptions {
            allow_comments: true,
            allow_loose_object_property_names: false,
            allow_trailing_commas: false,
            allow_missing_commas: false,
            allow_single_quoted_strings: false,
            allow_hexadecimal_numbers: false,
            allow_unary_plus_numbers: false,
            allow_bare_decimal_point_numbers: false,
            allow_non_finite_numbers: false,
            allow_extended_string_escapes: false,
        };
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_of = |offset: usize| starts.partition_point(|s| *s <= offset);
        let parsed =
            jsonc_parser::parse_to_ast(text, &Default::default(), &options).map_err(|e| {
                let at = e.range().start;
                let line = line_of(at);
                let col = at - starts[line - 1] + 1;
                format!(
                    "{}:{line}:{col}: not valid JSON: {}",
                    file.display(),
                    e.kind()
                )
            })?;
        let root = parsed
            .value
            .ok_or_else(|| format!("{}: the file is empty", file.display()))?;
        let mut lines = HashMap::new();
        let value = convert(&root, String::new(), &line_of, &mut lines);
        Ok(Spanned { value, lines })
    }

    /// The line the value at `pointer` starts on (1 if unknown).
    pub fn line(&self, pointer: &str) -> usize {
        self.lines.get(pointer).copied().unwrap_or(1)
    }
}

/// Escapes a key for a JSON pointer (RFC 6901).
pub fn pointer_key(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn convert(
    v: &ast::Value<'_>,
    pointer: String,
    line_of: &dyn Fn(usize) -> usize,
    lines: &mut HashMap<String, usize>,
) -> Value {
    match v {
        ast::Value::StringLit(s) => Value::String(s.value.to_string()),
        ast::Value::NumberLit(n) => n
            .value
            .parse::<i64>()
            .map(Value::from)
            .ok()
            .or_else(|| {
                n.value
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
            })
            .unwrap_or(Value::Null),
        ast::Value::BooleanLit(b) => Value::Bool(b.value),
        ast::Value::NullKeyword(_) => Value::Null,
        ast::Value::Array(a) => {
            lines.insert(pointer.clone(), line_of(a.range.start));
            Value::Array(
                a.elements
                    .iter()
                    .enumerate()
                    .map(|(i, e)| convert(e, format!("{pointer}/{i}"), line_of, lines))
                    .collect(),
            )
        }
        ast::Value::Object(o) => {
            lines.insert(pointer.clone(), line_of(o.range.start));
            let mut m = Map::new();
            for p in &o.properties {
                let key = p.name.clone().into_string();
                let child = format!("{pointer}/{}", pointer_key(&key));
                m.insert(key, convert(&p.value, child, line_of, lines));
            }
            Value::Object(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_the_line_of_each_object() {
        let text = "{\n  \"resources\": [\n    {\n      \"type\": \"a\"\n    },\n    {\"type\": \"b\"}\n  ]\n}\n";
        let s = Spanned::parse(text, Path::new("t.json")).unwrap();
        assert_eq!(s.line("/resources/0"), 3);
        assert_eq!(s.line("/resources/1"), 6);
        assert_eq!(s.value["resources"][1]["type"], "b");
    }

    #[test]
    fn a_syntax_error_names_file_line_and_column() {
        let e = Spanned::parse("{\n  \"a\": ,\n}", Path::new("t.json"))
            .err()
            .unwrap();
        assert!(e.starts_with("t.json:2:"), "{e}");
    }
}

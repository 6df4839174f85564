//! The Log Analytics query API's response: tables of typed columns. Real
//! responses send numbers and booleans as JSON values, the official examples
//! as strings; both are read. A 200 with `error.code` PartialError is an
//! incomplete answer.
use serde::Deserialize;
use serde_json::Value;

use super::models::ErrorDetail;

#[derive(Debug, Deserialize)]
pub struct QueryResponse {
    /// Required: an answer without `tables` is not an empty result.
    pub tables: Vec<Table>,
    #[serde(default)]
    pub error: Option<QueryError>,
}

/// A result table. Rows stay as raw JSON until read, one at a time: a
/// 10,000-row answer then costs its text, not a tree of values.
#[derive(Debug, Deserialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Box<serde_json::value::RawValue>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QueryError {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl QueryResponse {
    /// `Some` when the answer is partial (PartialError) or carries another error.
    pub fn problem(&self) -> Option<ErrorDetail> {
        self.error.as_ref().map(|e| ErrorDetail {
            code: crate::text::redact(&e.code).into_owned(),
            message: crate::text::redact(&e.message).into_owned(),
            http_status: Some(200),
        })
    }

    /// The result table (`PrimaryResult`, or the only table), which must
    /// have every column the query projects: an answer without it is an
    /// error, never an empty result.
    pub fn primary(&self, columns: &[&str]) -> Result<&Table, String> {
        let table = self
            .tables
            .iter()
            .find(|t| t.name == "PrimaryResult")
            .or(match self.tables.as_slice() {
                [only] => Some(only),
                _ => None,
            })
            .ok_or_else(|| {
                format!(
                    "the answer has no PrimaryResult table ({} table(s))",
                    self.tables.len()
                )
            })?;
        if let Some(missing) = columns
            .iter()
            .find(|c| !table.columns.iter().any(|k| k.name == **c))
        {
            return Err(format!("the result table has no column {missing:?}"));
        }
        Ok(table)
    }
}

/// One row, read by column name. Reads are strict: a value of the wrong
/// type, a missing count or a time without an offset is an error naming
/// the row and column, never a default.
pub struct Row<'a> {
    table: &'a Table,
    index: usize,
    values: Vec<Value>,
}

impl Table {
    /// The rows; a row that is not an array of one value per column is an error.
    pub fn rows(&self) -> impl Iterator<Item = Result<Row<'_>, String>> {
        self.rows.iter().enumerate().map(move |(index, raw)| {
            let values: Vec<Value> = serde_json::from_str(raw.get())
                .map_err(|_| format!("row {index} is not an array of values"))?;
            if values.len() != self.columns.len() {
                return Err(format!(
                    "row {index} has {} value(s) for {} column(s)",
                    values.len(),
                    self.columns.len()
                ));
            }
            Ok(Row {
                table: self,
                index,
                values,
            })
        })
    }
}

impl Row<'_> {
    fn get(&self, column: &str) -> Option<&Value> {
        let i = self.table.columns.iter().position(|c| c.name == column)?;
        self.values.get(i).filter(|v| !v.is_null())
    }

    /// The row's position in its table, for messages.
    pub fn index(&self) -> usize {
        self.index
    }

    fn bad(&self, column: &str, what: &str) -> String {
        format!("row {}: column {column:?} {what}", self.index)
    }

    /// A string column; null and absent read as empty (Kusto's empty string).
    pub fn string(&self, column: &str) -> String {
        match self.get(column) {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        }
    }

    pub fn opt_string(&self, column: &str) -> Option<String> {
        Some(self.string(column)).filter(|s| !s.is_empty())
    }

    /// A count: a whole non-negative number (JSON number or numeric string).
    pub fn count(&self, column: &str) -> Result<u64, String> {
        let n = match self.get(column) {
            Some(Value::Number(n)) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19)
                    .map(|f| f as u64)
            }),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            None => return Err(self.bad(column, "is missing (a count is required)")),
            _ => None,
        };
        n.ok_or_else(|| self.bad(column, "is not a whole non-negative number"))
    }

    /// A number that may be null (e.g. an HTTP status the log row lacks).
    pub fn opt_count(&self, column: &str) -> Result<Option<u64>, String> {
        match self.get(column) {
            None => Ok(None),
            Some(_) => self.count(column).map(Some),
        }
    }

    /// A time: RFC 3339 with an offset (`Z`); required.
    pub fn time(&self, column: &str) -> Result<String, String> {
        self.opt_time(column)?
            .ok_or_else(|| self.bad(column, "is missing (a time is required)"))
    }

    /// A time that may be empty; when present, RFC 3339 with an offset.
    pub fn opt_time(&self, column: &str) -> Result<Option<String>, String> {
        let Some(t) = self.opt_string(column) else {
            return Ok(None);
        };
        chrono::DateTime::parse_from_rfc3339(&t)
            .map(|_| Some(t.clone()))
            .map_err(|_| self.bad(column, "is not an RFC 3339 time with an offset"))
    }

    /// A `dynamic` value: sent as a JSON-encoded string.
    pub fn dynamic(&self, column: &str) -> Value {
        match self.get(column) {
            Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
            Some(v) => v.clone(),
            None => Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> QueryResponse {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn an_answer_without_tables_is_not_empty() {
        assert!(serde_json::from_str::<QueryResponse>("{}").is_err());
        assert!(answer(r#"{"tables":[]}"#).primary(&[]).is_err());
        let a =
            answer(r#"{"tables":[{"name":"PrimaryResult","columns":[{"name":"a"}],"rows":[]}]}"#);
        assert!(a.primary(&["a"]).is_ok());
        assert!(a.primary(&["a", "count"]).unwrap_err().contains("count"));
    }

    #[test]
    fn rows_are_read_strictly() {
        let a = answer(
            r#"{"tables":[{"name":"PrimaryResult","columns":[{"name":"n"},{"name":"t"}],
               "rows":[[3,"2026-12-01T00:00:00Z"],{"n":1},[1],["x","2026-12-01T00:00:00"],[null,""]]}]}"#,
        );
        let rows: Vec<_> = a.primary(&["n", "t"]).unwrap().rows().collect();
        let ok = rows[0].as_ref().unwrap();
        assert_eq!(ok.count("n"), Ok(3));
        assert_eq!(ok.time("t").as_deref(), Ok("2026-12-01T00:00:00Z"));
        assert!(rows[1].as_ref().err().unwrap().contains("not an array"));
        assert!(rows[2].as_ref().err().unwrap().contains("1 value(s) for 2"));
        let bad = rows[3].as_ref().unwrap();
        assert!(bad.count("n").unwrap_err().contains("whole"));
        assert!(bad.time("t").unwrap_err().contains("offset"));
        let empty = rows[4].as_ref().unwrap();
        assert!(empty.count("n").unwrap_err().contains("missing"));
        assert!(empty.time("t").unwrap_err().contains("missing"));
        assert_eq!(empty.opt_time("t"), Ok(None));
    }
}

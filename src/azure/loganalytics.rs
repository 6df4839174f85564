//! The Log Analytics query API's response: tables of typed columns. Real
//! responses send numbers and booleans as JSON values, the official examples
//! as strings; both are read. A 200 with `error.code` PartialError is an
//! incomplete answer.
use serde::Deserialize;
use serde_json::Value;

use super::models::ErrorDetail;

#[derive(Debug, Deserialize)]
pub struct QueryResponse {
    #[serde(default)]
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
    #[serde(default)]
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
            code: e.code.clone(),
            message: e.message.clone(),
            http_status: Some(200),
        })
    }

    pub fn primary(&self) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.name == "PrimaryResult")
            .or(self.tables.first())
    }
}

/// One row, read by column name.
pub struct Row<'a> {
    table: &'a Table,
    values: Vec<Value>,
}

impl Table {
    /// Rows with access by column name (a malformed row reads as empty).
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |raw| Row {
            table: self,
            values: serde_json::from_str(raw.get()).unwrap_or_default(),
        })
    }
}

impl Row<'_> {
    fn get(&self, column: &str) -> Option<&Value> {
        let i = self.table.columns.iter().position(|c| c.name == column)?;
        self.values.get(i).filter(|v| !v.is_null())
    }

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

    pub fn u64(&self, column: &str) -> Option<u64> {
        match self.get(column)? {
            Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
            Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as u64),
            _ => None,
        }
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

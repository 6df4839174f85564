//! Policy data: built-in defaults (`policies/data.json`) deep-merged with the
//! user's `--data FILE`, so a file that sets one allow-list keeps the rest.
use std::path::Path;

use serde_json::Value;

use super::builtin;
use crate::error::Error;
use crate::finding::Severity;

/// The merged data document, and the severity overrides it carries.
#[derive(Debug, Clone)]
pub struct PolicyData {
    pub document: Value,
}

impl PolicyData {
    pub fn defaults() -> PolicyData {
        PolicyData {
            document: serde_json::from_str(builtin::default_data())
                .expect("policies/data.json is valid JSON (checked by tests)"),
        }
    }

    /// Defaults overridden by the JSON file at `path`.
    pub fn with_file(path: &Path) -> Result<PolicyData, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read {
            path: path.display().to_string(),
            reason: crate::error::io_reason(&e),
        })?;
        PolicyData::with_text(&text, &path.display().to_string())
    }

    pub fn with_text(text: &str, origin: &str) -> Result<PolicyData, Error> {
        let user: Value = serde_json::from_str(text).map_err(|e| Error::Data {
            origin: origin.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if !user.is_object() {
            return Err(Error::Data {
                origin: origin.to_string(),
                line: 1,
                column: 1,
                message: "expected a JSON object such as {\"config\": {\"windowHours\": 48}}"
                    .into(),
            });
        }
        let mut data = PolicyData::defaults();
        merge(&mut data.document, user);
        data.validate(origin)?;
        Ok(data)
    }

    fn validate(&self, origin: &str) -> Result<(), Error> {
        let bad = |message: String| Error::Data {
            origin: origin.to_string(),
            line: 1,
            column: 1,
            message,
        };
        let config = self.config();
        for key in ["windowHours", "challengeSeconds", "logsArrivingDays"] {
            match config.get(key) {
                Some(v) if v.as_f64().is_some_and(|n| n > 0.0) => {}
                other => {
                    return Err(bad(format!(
                        "config.{key} must be a positive number, found {}",
                        other.map_or("nothing".into(), |v| v.to_string())
                    )));
                }
            }
        }
        for key in ["ips", "objectIds", "appIds"] {
            if let Some(v) = config.get("allowList").and_then(|a| a.get(key))
                && !v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
            {
                return Err(bad(format!(
                    "config.allowList.{key} must be a list of strings"
                )));
            }
        }
        match config.get("softDeleteRetentionMinDays") {
            Some(v) if v.as_u64().is_some_and(|n| (7..=90).contains(&n)) => {}
            other => {
                return Err(bad(format!(
                    "config.softDeleteRetentionMinDays must be a whole number of days from 7 to 90 (what Azure allows), found {}",
                    other.map_or("nothing".into(), |v| v.to_string())
                )));
            }
        }
        match config.get("auditLoggingMode").and_then(Value::as_str) {
            Some("auto" | "lenient" | "strict") => {}
            _ => {
                return Err(bad(format!(
                    "config.auditLoggingMode must be \"auto\", \"lenient\" or \"strict\", found {}",
                    config
                        .get("auditLoggingMode")
                        .map_or("nothing".into(), |v| v.to_string())
                )));
            }
        }
        if let Some(sev) = config.get("severities").and_then(Value::as_object) {
            for (rule, v) in sev {
                if v.as_str().and_then(Severity::parse).is_none() {
                    return Err(bad(format!(
                        "config.severities.{rule} must be low, medium, high or critical, found {v}"
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn config(&self) -> &Value {
        &self.document["config"]
    }

    /// A severity the data sets for `rule_id`, overriding the rule's own.
    pub fn severity_override(&self, rule_id: &str) -> Option<Severity> {
        self.config()
            .get("severities")?
            .get(rule_id)?
            .as_str()
            .and_then(Severity::parse)
    }

    pub fn challenge_seconds(&self) -> u32 {
        self.config()["challengeSeconds"].as_u64().unwrap_or(60) as u32
    }

    /// Days of audit volume and metrics `kv/logs-arriving` looks at.
    pub fn logs_arriving_days(&self) -> u32 {
        self.config()["logsArrivingDays"]
            .as_u64()
            .unwrap_or(7)
            .clamp(1, 93) as u32
    }

    /// Records the `--benchmark` in `config.benchmark`, for rules that
    /// follow a benchmark's wording.
    pub fn set_benchmark(&mut self, benchmark: &str) {
        if let Some(c) = self.document["config"].as_object_mut() {
            c.insert("benchmark".into(), Value::String(benchmark.to_string()));
        }
    }

    pub fn window_hours(&self) -> f64 {
        self.config()["windowHours"].as_f64().unwrap_or(24.0)
    }
}

/// Objects merge key by key; anything else is replaced.
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

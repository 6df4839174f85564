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
    /// Where the user's part came from (for messages).
    pub origin: String,
}

impl PolicyData {
    pub fn defaults() -> PolicyData {
        PolicyData {
            document: serde_json::from_str(builtin::default_data())
                .expect("policies/data.json is valid JSON (checked by tests)"),
            origin: "policies/data.json".into(),
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
        data.origin = origin.to_string();
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
        let defaults = PolicyData::defaults();
        let known = |path: &str| -> Vec<String> {
            defaults
                .document
                .pointer(path)
                .and_then(Value::as_object)
                .map_or(vec![], |o| o.keys().cloned().collect())
        };
        // A misspelt key would silently leave the default in force.
        misspelt(&self.document, &known(""), "", &mut warnings(origin)).map_err(&bad)?;
        let config = self.config();
        let mut config_keys = known("/config");
        config_keys.push("benchmark".into());
        misspelt(config, &config_keys, "config.", &mut warnings(origin)).map_err(&bad)?;
        if let Some(allow) = config.get("allowList") {
            misspelt(allow, &known("/config/allowList"), "config.allowList.", &mut |k| {
                Err(format!(
                    "config.allowList.{k} is not a kind of allow-list entry (ips, objectIds, appIds)"
                ))
            })
            .map_err(&bad)?;
        }
        // Numbers within what Azure and the rules can use (an unbounded
        // value would overflow the window arithmetic).
        for (key, max, whole, what) in [
            (
                "windowHours",
                17_520.0,
                false,
                "hours (at most 2 years, Log Analytics' longest retention)",
            ),
            ("challengeSeconds", 3_600.0, true, "seconds (at most 3600)"),
            (
                "logsArrivingDays",
                93.0,
                true,
                "days (at most 93, Azure Monitor metrics' retention)",
            ),
        ] {
            match config.get(key).and_then(Value::as_f64) {
                Some(n) if n > 0.0 && n <= max && (!whole || n.fract() == 0.0) => {}
                _ => {
                    return Err(bad(format!(
                        "config.{key} must be a {} number of {what}, more than 0; found {}",
                        if whole { "whole" } else { "" },
                        config.get(key).map_or("nothing".into(), |v| v.to_string())
                    )
                    .replace("a  number", "a number")));
                }
            }
        }
        for key in ["ips", "objectIds", "appIds"] {
            let Some(v) = config.get("allowList").and_then(|a| a.get(key)) else {
                continue;
            };
            let Some(items) = v.as_array() else {
                return Err(bad(format!(
                    "config.allowList.{key} must be a list of strings"
                )));
            };
            for (i, item) in items.iter().enumerate() {
                let Some(text) = item.as_str() else {
                    return Err(bad(format!(
                        "config.allowList.{key}[{i}] must be a string, found {item}"
                    )));
                };
                let ok = if key == "ips" {
                    text.parse::<std::net::IpAddr>().is_ok() || text.parse::<ipnet::IpNet>().is_ok()
                } else {
                    is_guid(text)
                };
                if !ok {
                    return Err(bad(format!(
                        "config.allowList.{key}[{i}] {:?} is not {}",
                        crate::text::terminal(text),
                        if key == "ips" {
                            "an IP address or CIDR range (e.g. 203.0.113.7 or 10.0.0.0/8)"
                        } else {
                            "a GUID (e.g. 00000000-0000-0000-0000-000000000000)"
                        }
                    )));
                }
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

    /// Severity overrides must name rules that exist: an override for a
    /// misspelt id would silently do nothing.
    pub fn check_severities(&self, rule_ids: &[&str]) -> Result<(), Error> {
        let Some(sev) = self.config().get("severities").and_then(Value::as_object) else {
            return Ok(());
        };
        if let Some(id) = sev.keys().find(|k| !rule_ids.contains(&k.as_str())) {
            let hint = rule_ids
                .iter()
                .map(|r| (strsim::levenshtein(r, id), r))
                .min()
                .filter(|(d, _)| *d <= 3)
                .map_or(String::new(), |(_, r)| format!("; did you mean {r}?"));
            return Err(Error::Data {
                origin: self.origin.clone(),
                line: 1,
                column: 1,
                message: format!(
                    "config.severities.{}: no loaded rule has this id{hint} (kvaudit policy list shows them)",
                    crate::text::terminal(id)
                ),
            });
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

/// Warns (through `tracing`) about keys no built-in rule reads.
fn warnings(origin: &str) -> impl FnMut(&str) -> Result<(), String> + '_ {
    move |key| {
        tracing::warn!(
            "{origin}: {key:?} is not a setting of the built-in rules (a custom policy may read it)"
        );
        Ok(())
    }
}

/// Keys of `object` that are not in `known`: one close to a known key (a
/// typo such as `windwHours`) is an error naming it; any other goes to
/// `unknown`, which decides.
fn misspelt(
    object: &Value,
    known: &[String],
    prefix: &str,
    unknown: &mut dyn FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    let Some(o) = object.as_object() else {
        return Ok(());
    };
    for key in o.keys().filter(|k| !known.contains(k)) {
        let closest = known
            .iter()
            .map(|k| {
                (
                    strsim::levenshtein(&k.to_lowercase(), &key.to_lowercase()),
                    k,
                )
            })
            .min();
        match closest {
            Some((d, k)) if d <= 2 || k.eq_ignore_ascii_case(key) => {
                return Err(format!(
                    "{prefix}{} is not a known setting; did you mean {prefix}{k}?",
                    crate::text::terminal(key)
                ));
            }
            _ => unknown(&format!("{prefix}{}", crate::text::terminal(key)))?,
        }
    }
    Ok(())
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits.
fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
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

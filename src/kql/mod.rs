//! The KQL kvaudit sends, one function per query, shared by the collectors
//! (and later the access report). Each query is a template file beside this
//! one, so it can be read, executed and validated as KQL by the tests.
use chrono::{DateTime, SecondsFormat, Utc};

/// The audit-evidence query: 401 and 403 groups per vault, with the
/// authentication-challenge pairing, aggregated in KQL.
pub const AUDIT_EVIDENCE: &str = include_str!("audit_evidence.kql");

/// AuditEvent rows per vault over a window (`kv/logs-arriving`).
pub const AUDIT_VOLUME: &str = include_str!("audit_volume.kql");

/// `access`: one row per caller of each vault.
pub const ACCESS_CALLERS: &str = include_str!("access_callers.kql");
/// `access --failures`: failed requests grouped by kind.
pub const ACCESS_FAILURES: &str = include_str!("access_failures.kql");
/// `access --events`: the audit trail, newest first.
pub const ACCESS_EVENTS: &str = include_str!("access_events.kql");

/// A KQL string literal: double quotes, backslash escapes for `\`, `"` and
/// control characters, so user input can never end the literal.
fn kql_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Other control characters have no business in a filter.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn kql_datetime(t: DateTime<Utc>) -> String {
    format!("datetime({})", t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The audit-evidence query for `vault_ids` (any case; sent lower-case)
/// over [start, end], pairing 401s with a 2xx within `challenge_seconds`.
pub fn audit_evidence(
    vault_ids: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    challenge_seconds: u32,
) -> String {
    let ids: Vec<String> = vault_ids
        .iter()
        .map(|v| kql_string(&v.to_ascii_lowercase()))
        .collect();
    AUDIT_EVIDENCE
        .replace("{{VAULT_IDS}}", &format!("dynamic([{}])", ids.join(", ")))
        .replace("{{START}}", &kql_datetime(start))
        .replace("{{END}}", &kql_datetime(end))
        .replace("{{CHALLENGE_SECONDS}}", &challenge_seconds.to_string())
}

fn fill(template: &str, vault_ids: &[String], start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let ids: Vec<String> = vault_ids
        .iter()
        .map(|v| kql_string(&v.to_ascii_lowercase()))
        .collect();
    template
        .replace("{{VAULT_IDS}}", &format!("dynamic([{}])", ids.join(", ")))
        .replace("{{START}}", &kql_datetime(start))
        .replace("{{END}}", &kql_datetime(end))
}

/// The audit-volume query for `vault_ids` over [start, end].
pub fn audit_volume(vault_ids: &[String], start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    fill(AUDIT_VOLUME, vault_ids, start, end)
}

pub fn access_callers(
    vault_ids: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    challenge_seconds: u32,
) -> String {
    fill(ACCESS_CALLERS, vault_ids, start, end)
        .replace("{{CHALLENGE_SECONDS}}", &challenge_seconds.to_string())
}

pub fn access_failures(vault_ids: &[String], start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    fill(ACCESS_FAILURES, vault_ids, start, end)
}

/// Filters: an empty string or a 0 status means "no filter". Strings are
/// escaped into KQL string literals, so they cannot change the query.
#[allow(clippy::too_many_arguments)]
pub fn access_events(
    vault_ids: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    limit: u32,
    operation: &str,
    caller: &str,
    status: u16,
    path: &str,
    object: &str,
) -> String {
    fill(ACCESS_EVENTS, vault_ids, start, end)
        .replace("{{LIMIT}}", &limit.to_string())
        .replace("{{OPERATION}}", &kql_string(operation))
        .replace("{{CALLER}}", &kql_string(caller))
        .replace("{{STATUS}}", &status.to_string())
        .replace("{{PATH}}", &kql_string(path))
        .replace("{{OBJECT}}", &kql_string(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_all_filled() {
        let q = audit_evidence(
            &[
                "/subscriptions/S/resourceGroups/RG/providers/Microsoft.KeyVault/vaults/KV\"x"
                    .into(),
            ],
            "2026-11-26T09:00:00Z".parse().unwrap(),
            "2026-11-27T09:00:00Z".parse().unwrap(),
            60,
        );
        assert!(!q.contains("{{"), "{q}");
        assert!(q.contains(r#"dynamic(["/subscriptions/s/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv\"x"])"#));
        assert!(q.contains("datetime(2026-11-26T09:00:00Z)"));
    }

    #[test]
    fn event_filters_are_escaped_literals() {
        let q = access_events(
            &["/x".into()],
            "2026-11-26T09:00:00Z".parse().unwrap(),
            "2026-11-27T09:00:00Z".parse().unwrap(),
            100,
            "SecretGet\" | take 1 //",
            "",
            403,
            "/secrets/x\" or true",
            "",
        );
        assert!(!q.contains("{{"), "{q}");
        assert!(q.contains(r#""SecretGet\" | take 1 //""#), "{q}");
        assert_eq!(kql_string("a\nb\"c"), r#""a\nb\"c""#);
    }
}

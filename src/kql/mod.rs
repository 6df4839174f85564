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
/// `access --format html`: requests and failures per vault and time bucket.
pub const ACCESS_TIMELINE: &str = include_str!("access_timeline.kql");

/// Bucket widths the timeline uses, in seconds: the first that makes at
/// most [`TIMELINE_BUCKETS`] buckets of the window.
const BIN_STEPS: [i64; 14] = [
    60, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
    2_592_000,
];

/// At most this many buckets in a timeline (a 24-hour window: 30 minutes).
pub const TIMELINE_BUCKETS: i64 = 48;

/// The timeline's bucket width for a window: a round width that makes at
/// most [`TIMELINE_BUCKETS`] buckets (the last step, 30 days, beyond).
pub fn timeline_bin(start: DateTime<Utc>, end: DateTime<Utc>) -> chrono::Duration {
    let window = (end - start).num_seconds().max(1);
    let step = BIN_STEPS
        .iter()
        .copied()
        .find(|s| (window + s - 1) / s <= TIMELINE_BUCKETS)
        .unwrap_or(BIN_STEPS[BIN_STEPS.len() - 1]);
    chrono::Duration::seconds(step)
}

/// The timeline query for `vault_ids` over [start, end] in buckets of `bin`.
pub fn access_timeline(
    vault_ids: &[String],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    bin: chrono::Duration,
) -> String {
    fill(ACCESS_TIMELINE, vault_ids, start, end)
        .replace("{{BIN}}", &format!("{}s", bin.num_seconds().max(1)))
}

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

/// An IP address or CIDR range as the network of IPv6 addresses it stands
/// for: IPv4 as IPv4-mapped (`::ffff:a.b.c.d`), the form `parse_ipv6` gives
/// both in KQL. `None` for anything else.
pub fn ip_filter(s: &str) -> Option<ipnet::Ipv6Net> {
    let net = s
        .trim()
        .parse::<ipnet::IpNet>()
        .or_else(|_| s.trim().parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .ok()?;
    let (addr, len) = match net {
        ipnet::IpNet::V4(n) => (n.network().to_ipv6_mapped(), n.prefix_len() + 96),
        ipnet::IpNet::V6(n) => (n.network(), n.prefix_len()),
    };
    ipnet::Ipv6Net::new(addr, len).ok()
}

/// The canonical `parse_ipv6` prefixes that hold exactly the addresses of
/// `net`, and their length: whole hex digits, so a prefix length that is
/// not a multiple of 4 spreads over the 2..8 values of its last digit.
pub fn ip_prefixes(net: &ipnet::Ipv6Net) -> (usize, Vec<String>) {
    let bits = u32::from(net.prefix_len());
    let digits = format!("{:032x}", u128::from(net.network()));
    let (whole, rest) = ((bits / 4) as usize, bits % 4);
    let canonical = |hex: &str| -> String {
        let mut out = String::with_capacity(hex.len() + hex.len() / 4);
        for (i, c) in hex.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(':');
            }
            out.push(c);
        }
        out
    };
    let prefixes: Vec<String> = if rest == 0 {
        vec![canonical(&digits[..whole])]
    } else {
        let first = u32::from_str_radix(&digits[whole..=whole], 16).unwrap_or(0);
        (0..1u32 << (4 - rest))
            .map(|v| canonical(&format!("{}{:x}", &digits[..whole], first + v)))
            .collect()
    };
    (prefixes[0].len(), prefixes)
}

/// Filters: an empty string or a 0 status means "no filter". Strings are
/// escaped into KQL string literals, so they cannot change the query. A
/// caller that is an IP address or a CIDR range matches the caller IPs in
/// it, however they are written (compressed or not, IPv4 or IPv4-mapped).
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
    let (caller, (prefix_len, prefixes)) = match ip_filter(caller) {
        Some(net) => ("", ip_prefixes(&net)),
        None => (caller, (0, Vec::new())),
    };
    let prefixes: Vec<String> = prefixes.iter().map(|p| kql_string(p)).collect();
    fill(ACCESS_EVENTS, vault_ids, start, end)
        .replace("{{LIMIT}}", &limit.to_string())
        .replace("{{OPERATION}}", &kql_string(operation))
        .replace("{{CALLER}}", &kql_string(caller))
        .replace(
            "{{CALLER_PREFIXES}}",
            &format!("dynamic([{}])", prefixes.join(", ")),
        )
        .replace("{{CALLER_PREFIX_LENGTH}}", &prefix_len.to_string())
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

    #[test]
    fn timeline_bins_are_round_and_few() {
        let t = |h: i64| {
            let start: DateTime<Utc> = "2026-11-26T09:00:00Z".parse().unwrap();
            timeline_bin(start, start + chrono::Duration::hours(h)).num_seconds()
        };
        assert_eq!(t(24), 1_800);
        assert_eq!(t(1), 300);
        assert_eq!(t(24 * 7), 21_600);
        assert_eq!(t(24 * 30), 86_400);
        assert_eq!(t(24 * 90), 172_800);
        let q = access_timeline(
            &["/x".into()],
            "2026-11-26T09:00:00Z".parse().unwrap(),
            "2026-11-27T09:00:00Z".parse().unwrap(),
            chrono::Duration::minutes(30),
        );
        assert!(q.contains("let binSize = 1800s;"), "{q}");
        assert!(!q.contains("{{"), "{q}");
    }

    fn prefixes(s: &str) -> (usize, Vec<String>) {
        ip_prefixes(&ip_filter(s).expect(s))
    }

    #[test]
    fn ip_filters_become_canonical_prefixes() {
        let mapped = "0000:0000:0000:0000:0000:ffff";
        assert_eq!(
            prefixes("10.1.2.3"),
            (39, vec![format!("{mapped}:0a01:0203")])
        );
        assert_eq!(prefixes("10.0.0.0/8"), (32, vec![format!("{mapped}:0a")]));
        // 10.0.0.0/30: the last hex digit is 0..3.
        let (n, p) = prefixes("10.0.0.5/30");
        assert_eq!(n, 39);
        assert_eq!(
            p,
            (4..8)
                .map(|d| format!("{mapped}:0a00:000{d}"))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            prefixes("2001:DB8::/32"),
            (9, vec!["2001:0db8".to_string()])
        );
        assert_eq!(
            prefixes("2001:db8::1"),
            (
                39,
                vec!["2001:0db8:0000:0000:0000:0000:0000:0001".to_string()]
            )
        );
        // /1: eight values of the first digit.
        assert_eq!(prefixes("8000::/1").1.len(), 8);
        assert_eq!(prefixes("::/0"), (0, vec![String::new()]));
        assert_eq!(ip_filter("app 1234"), None);
        assert_eq!(ip_filter("alice@contoso.com"), None);
        assert_eq!(ip_filter("10.0.0.0/33"), None);
    }

    #[test]
    fn an_ip_caller_is_sent_as_prefixes() {
        let q = access_events(
            &["/x".into()],
            "2026-11-26T09:00:00Z".parse().unwrap(),
            "2026-11-27T09:00:00Z".parse().unwrap(),
            100,
            "",
            "192.0.2.0/24",
            0,
            "",
            "",
        );
        assert!(q.contains(r#"let callerFilter = "";"#), "{q}");
        assert!(
            q.contains(
                r#"let callerPrefixes = dynamic(["0000:0000:0000:0000:0000:ffff:c000:02"]);"#
            ),
            "{q}"
        );
        assert!(q.contains("let callerPrefixLength = 37;"), "{q}");
    }
}

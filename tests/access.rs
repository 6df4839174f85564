//! `kvaudit access` end to end against the fake Azure: every view and
//! format, the window edges, a vault that logs nowhere, a workspace that
//! answers 403. The queries are executed by duckdb-kql over the seeded rows.
mod common;
#[path = "support/fake_azure.rs"]
mod fake_azure;
#[path = "support/tenant.rs"]
mod tenant;

use std::collections::BTreeMap;

use fake_azure::Faults;
use serde_json::Value;
use tenant::*;

fn access(setup: &Setup, extra: &[&str]) -> Out {
    kvaudit(setup, "access", extra, &[])
}

fn json_of(out: &Out) -> Value {
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn expected_access() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/audit/expected-access.json")).unwrap(),
    )
    .unwrap()
}

/// The scan's 401/403 groups (tests/fixtures/audit/expected.json) by (vault, ip, client, identity).
fn evidence_groups() -> BTreeMap<(String, String, String, String, String), Value> {
    let e: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/audit/expected.json")).unwrap(),
    )
    .unwrap();
    let mut out = BTreeMap::new();
    for ws in ["workspace-a.json", "workspace-b.json"] {
        for r in e["workspaces"][ws]["rows"].as_array().unwrap() {
            let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
            let who = identity(&s("upn"), &s("appId"), &s("objectId"));
            out.insert(
                (s("kind"), s("vault"), s("callerIp"), s("client"), who),
                r.clone(),
            );
        }
    }
    out
}

fn identity(upn: &str, app: &str, oid: &str) -> String {
    kvaudit::access::identity_label(upn, app, oid)
}

#[test]
fn callers_agree_with_the_scan_evidence_and_mark_challenges() {
    let setup = start(Faults::default());
    let doc = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--subscription",
            SUB_B,
            "--format",
            "json",
        ],
    ));
    let callers = doc["callers"].as_array().unwrap();
    assert!(!callers.is_empty());
    let groups = evidence_groups();
    // Every 401/403 group of the scan appears in the caller's counts, exactly.
    for ((kind, vault, ip, client, who), g) in &groups {
        let c = callers
            .iter()
            .find(|c| {
                c["vault"] == vault.as_str()
                    && c["callerIp"] == ip.as_str()
                    && c["client"] == client.as_str()
                    && c["identity"] == who.as_str()
            })
            .unwrap_or_else(|| panic!("no caller row for {kind} {vault} {ip} {client} {who}"));
        if kind == "unauthorized" {
            assert_eq!(c["unauthorized"], g["count"], "{c}");
            assert_eq!(c["challenges"], g["challenges"], "{c}");
            assert_eq!(
                c["unexplained"].as_u64().unwrap(),
                g["count"].as_u64().unwrap() - g["challenges"].as_u64().unwrap()
            );
        } else {
            assert_eq!(c["forbidden"], g["count"], "{c}");
        }
    }
    // ... and no caller has 401s or 403s the scan did not see.
    for c in callers {
        let key = |k: &str| {
            (
                k.to_string(),
                c["vault"].as_str().unwrap().to_string(),
                c["callerIp"].as_str().unwrap().to_string(),
                c["client"].as_str().unwrap().to_string(),
                c["identity"].as_str().unwrap().to_string(),
            )
        };
        if c["unauthorized"].as_u64().unwrap() > 0 {
            assert!(groups.contains_key(&key("unauthorized")), "{c}");
        }
        if c["forbidden"].as_u64().unwrap() > 0 {
            assert!(groups.contains_key(&key("forbidden")), "{c}");
        }
        assert!(c["requests"].as_u64() >= c["failures"].as_u64());
        let ops: u64 = c["operations"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(
            ops,
            c["requests"].as_u64().unwrap(),
            "operations add up to requests: {c}"
        );
    }
    // By vault; in each, suspicious callers first, then by requests.
    for w in callers.windows(2) {
        let key = |c: &Value| {
            (
                c["vault"].as_str().unwrap().to_string(),
                c["suspicious"] != true,
            )
        };
        assert!(key(&w[0]) <= key(&w[1]), "{} before {}", w[0], w[1]);
        if key(&w[0]) == key(&w[1]) && w[0]["suspicious"] == false {
            assert!(w[0]["requests"].as_u64() >= w[1]["requests"].as_u64());
        }
    }
    // Unreadable vaults are named with the reason; the exit code stayed 0.
    let unread: BTreeMap<String, String> = doc["unread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["vault"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                u["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        unread["kv-app-legacy"]
            .contains("no diagnostic setting sends AuditEvent to a Log Analytics workspace"),
        "{unread:?}"
    );
    assert!(
        unread["kv-denied"].contains("AuthorizationFailed"),
        "{unread:?}"
    );
    assert!(
        unread["kv-sandbox-01"].contains("could not be queried")
            && unread["kv-sandbox-01"].contains("403"),
        "{unread:?}"
    );
}

#[test]
fn callers_match_the_hand_computed_rows() {
    let setup = start(Faults::default());
    let want = expected_access();
    let doc = json_of(&access(
        &setup,
        &[
            "--vault",
            "kv-app-01",
            "--vault",
            "kv-data-01",
            "--vault",
            "kv-quiet-01",
            "--format",
            "json",
        ],
    ));
    let case = want["views"]["callers"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["workspace"] == "workspace-a.json"
                && c["parameters"].as_object().is_none_or(|p| p.is_empty())
        })
        .expect("expected-access.json has the callers of workspace-a");
    let rows = case["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    let got = doc["callers"].as_array().unwrap();
    for r in rows {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
        if !["kv-app-01", "kv-data-01", "kv-quiet-01"]
            .iter()
            .any(|v| s("vault").ends_with(v))
        {
            continue;
        }
        let who = identity(&s("upn"), &s("appId"), &s("objectId"));
        let c = got
            .iter()
            .find(|c| {
                c["vault"] == s("vault").as_str()
                    && c["callerIp"] == s("callerIp").as_str()
                    && c["client"] == s("client").as_str()
                    && c["identity"] == who.as_str()
            })
            .unwrap_or_else(|| panic!("missing {r}"));
        for k in [
            "requests",
            "failures",
            "unauthorized",
            "forbidden",
            "challenges",
            "firstSeen",
            "lastSeen",
        ] {
            assert_eq!(c[k], r[k], "{k} of {r}");
        }
        let ops: BTreeMap<String, u64> = r["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
            .collect();
        let got_ops: BTreeMap<String, u64> =
            serde_json::from_value(c["operations"].clone()).unwrap();
        assert_eq!(got_ops, ops, "{r}");
    }
}

#[test]
fn allow_listed_callers_are_known() {
    let setup = start(Faults::default());
    let data = setup.dir.path().join("data.json");
    std::fs::write(
        &data,
        r#"{"config": {"allowList": {"ips": ["203.0.113.0/24"]}}}"#,
    )
    .unwrap();
    let doc = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--format",
            "json",
            "--data",
            data.to_str().unwrap(),
        ],
    ));
    for c in doc["callers"].as_array().unwrap() {
        let known = c["callerIp"].as_str().unwrap().starts_with("203.0.113.");
        assert_eq!(c["known"], known, "{c}");
    }
}

#[test]
fn failures_and_events_views() {
    let setup = start(Faults::default());
    let doc = json_of(&access(
        &setup,
        &["--subscription", SUB_A, "--failures", "--format", "json"],
    ));
    let failures = doc["failures"].as_array().unwrap();
    assert!(!failures.is_empty());
    for f in failures {
        assert!(f["httpStatus"].as_u64().unwrap() >= 400, "{f}");
        assert!(
            !f["requestPath"].as_str().unwrap().contains('?'),
            "query strings are cut: {f}"
        );
    }
    let counts: Vec<u64> = failures
        .iter()
        .map(|f| f["count"].as_u64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]));
    // The total of failures equals the callers' failures.
    let callers = json_of(&access(
        &setup,
        &["--subscription", SUB_A, "--format", "json"],
    ));
    let total: u64 = callers["callers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["failures"].as_u64().unwrap())
        .sum();
    assert_eq!(counts.iter().sum::<u64>(), total);

    // Events: newest first, limited, filtered.
    let doc = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--events",
            "--limit",
            "5",
            "--format",
            "json",
        ],
    ));
    let events = doc["events"].as_array().unwrap();
    assert_eq!(events.len(), 5);
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = events
        .iter()
        .map(|e| chrono::DateTime::parse_from_rfc3339(e["time"].as_str().unwrap()).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let doc = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--events",
            "--status",
            "403",
            "--format",
            "json",
        ],
    ));
    let events = doc["events"].as_array().unwrap();
    let forbidden: u64 = callers["callers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["forbidden"].as_u64().unwrap())
        .sum();
    assert_eq!(events.len() as u64, forbidden.min(100));
    assert!(events.iter().all(|e| e["httpStatus"] == 403));
    let ip = events[0]["callerIp"].as_str().unwrap().to_string();
    let doc = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--events",
            "--caller",
            &ip,
            "--format",
            "json",
        ],
    ));
    assert!(
        doc["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["callerIp"] == ip.as_str())
    );
    let doc = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--events",
            "--operation",
            "secretget",
            "--format",
            "json",
        ],
    ));
    let ev = doc["events"].as_array().unwrap();
    assert!(
        !ev.is_empty()
            && ev.iter().all(|e| e["operation"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case("SecretGet"))
    );
}

#[test]
fn every_format_renders() {
    let setup = start(Faults::default());
    let table = access(&setup, &["--subscription", SUB_A]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("Caller IP")
            && table.stdout.contains("caller(s) on")
            && table.stdout.contains("not read: kv-app-legacy"),
        "{}",
        table.stdout
    );
    let csv = access(&setup, &["--subscription", SUB_A, "--format", "csv"]);
    let mut lines = csv.stdout.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Vault,Suspicious,Identity,Caller IP,Client,Requests,Failures,401,401 challenge,401 unexplained,403,Top operations,First seen,Last seen,Known,Not read"
    );
    let json = json_of(&access(
        &setup,
        &["--subscription", SUB_A, "--format", "json"],
    ));
    // One row per caller, then one per unread vault with its reason; the
    // count columns are numbers.
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let callers = json["callers"].as_array().unwrap().len();
    let unread = json["unread"].as_array().unwrap().len();
    assert!(unread > 0);
    assert_eq!(records.len(), callers + unread);
    for r in &records[..callers] {
        for col in 5..=10 {
            r[col]
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("column {col} of {r:?}"));
        }
        assert_eq!(
            r[7].parse::<u64>().unwrap(),
            r[8].parse::<u64>().unwrap() + r[9].parse::<u64>().unwrap()
        );
    }
    assert!(records[callers..].iter().all(|r| !r[15].is_empty()));
    assert!(records[callers..].iter().any(|r| &r[0] == "kv-app-legacy"));
    let md = access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--failures",
            "--format",
            "markdown",
        ],
    );
    assert!(
        md.stdout.starts_with("## kvaudit access: ")
            && md.stdout.contains("| Vault | Operation | Request path |")
            && md.stdout.contains("### Not read"),
        "{}",
        md.stdout
    );
}

#[test]
fn nothing_readable_exits_2_naming_why() {
    let setup = start(Faults::default());
    let out = access(&setup, &["--vault", "kv-app-legacy"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("no vault's audit logs could be read")
            && out
                .stderr
                .contains("no diagnostic setting sends AuditEvent"),
        "{}",
        out.stderr
    );
}

#[test]
fn suspicious_callers_come_first_in_their_vault_and_filters_take_the_tables_labels() {
    let setup = start(Faults::default());
    let doc = json_of(&access(
        &setup,
        &["--subscription", SUB_A, "--format", "json"],
    ));
    let callers = doc["callers"].as_array().unwrap();
    let suspicious = callers.iter().filter(|c| c["suspicious"] == true).count();
    assert!(suspicious > 0, "the fixture has unexplained 401s and 403s");
    // Grouped by vault; in each vault no quiet caller before a suspicious one.
    for pair in callers.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            a["vault"].as_str() <= b["vault"].as_str(),
            "grouped by vault"
        );
        if a["vault"] == b["vault"] {
            assert!(
                a["suspicious"] == true || b["suspicious"] == false,
                "{a} before {b}"
            );
        }
    }
    for c in callers {
        let flagged = c["known"] == false
            && (c["unexplained"].as_u64().unwrap() > 0 || c["forbidden"].as_u64().unwrap() > 0);
        assert_eq!(c["suspicious"], flagged, "{c}");
    }
    // The table marks them.
    let table = access(&setup, &["--subscription", SUB_A]);
    assert_eq!(
        table.stdout.matches('⚠').count(),
        suspicious + 1,
        "one mark per suspicious row and the header: {}",
        table.stdout
    );
    // The table at 120 columns: one line per caller, none wider.
    let at_120 = kvaudit(
        &setup,
        "access",
        &["--subscription", SUB_A],
        &[("COLUMNS", "120")],
    );
    for line in at_120.stdout.lines() {
        assert!(line.chars().count() <= 120, "{line}");
    }
    let snap = root().join("tests/snapshots/access-120.txt");
    if std::env::var_os("KVAUDIT_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snap, &at_120.stdout).unwrap();
    }
    assert_eq!(
        at_120.stdout,
        std::fs::read_to_string(&snap).expect("snapshot (KVAUDIT_UPDATE_SNAPSHOTS=1 writes it)"),
        "the access table changed; review it and rerun with KVAUDIT_UPDATE_SNAPSHOTS=1"
    );
    // --caller takes the label the table prints, for callers and events.
    let app = callers
        .iter()
        .find_map(|c| c["identity"].as_str().filter(|i| i.starts_with("app ")))
        .expect("an app caller")
        .to_string();
    let only = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--format",
            "json",
            "--caller",
            &app,
        ],
    ));
    let got = only["callers"].as_array().unwrap();
    assert!(!got.is_empty());
    assert!(got.iter().all(|c| c["identity"] == app.as_str()));
    let events = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--events",
            "--format",
            "json",
            "--caller",
            &app,
        ],
    ));
    let ev = events["events"].as_array().unwrap();
    assert!(!ev.is_empty(), "events of {app}");
    assert!(ev.iter().all(|e| e["identity"] == app.as_str()));
    // A filter a view cannot apply is refused, not ignored.
    let refused = access(&setup, &["--subscription", SUB_A, "--status", "403"]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("--status"), "{}", refused.stderr);
    let refused = access(
        &setup,
        &["--subscription", SUB_A, "--failures", "--caller", &app],
    );
    assert_eq!(refused.code, 2);
    // --status and --limit apply to the failures view.
    let failures = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--failures",
            "--format",
            "json",
            "--status",
            "403",
            "--limit",
            "2",
        ],
    ));
    let f = failures["failures"].as_array().unwrap();
    assert!(!f.is_empty() && f.len() <= 2);
    assert!(f.iter().all(|x| x["httpStatus"] == 403));
}

#[test]
fn who_read_this_secret_path_and_object_filters() {
    let setup = start(Faults::default());
    let all = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--events",
            "--limit",
            "10000",
            "--format",
            "json",
        ],
    ));
    let events = all["events"].as_array().unwrap();
    let object_of = |p: &str| -> Option<String> {
        let parts: Vec<&str> = p.trim_start_matches('/').split('/').collect();
        (parts.len() >= 2
            && ["secrets", "keys", "certificates"]
                .contains(&parts[0].to_ascii_lowercase().as_str())
            && !parts[1].is_empty())
        .then(|| parts[1].to_ascii_lowercase())
    };
    let (name, path) = events
        .iter()
        .find_map(|e| {
            let p = e["requestPath"].as_str()?;
            object_of(p).map(|o| (o, p.to_string()))
        })
        .expect("an event on a secret, key or certificate");
    let want = events
        .iter()
        .filter(|e| object_of(e["requestPath"].as_str().unwrap()).as_deref() == Some(name.as_str()))
        .count();
    assert!(want < events.len(), "the filter must leave something out");
    let only = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--events",
            "--limit",
            "10000",
            "--format",
            "json",
            "--object",
            &name.to_ascii_uppercase(),
        ],
    ));
    let got = only["events"].as_array().unwrap();
    assert_eq!(got.len(), want, "events for object {name}");
    // --path takes the path with or without its leading slash, any case.
    let kind_and_name: Vec<&str> = path
        .trim_start_matches('/')
        .splitn(3, '/')
        .take(2)
        .collect();
    let prefix = kind_and_name.join("/");
    let by_path = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--events",
            "--limit",
            "10000",
            "--format",
            "json",
            "--path",
            &prefix.to_ascii_uppercase(),
        ],
    ));
    let paths = by_path["events"].as_array().unwrap();
    assert!(!paths.is_empty());
    assert!(paths.iter().all(|e| {
        let p = e["requestPath"].as_str().unwrap().to_ascii_lowercase();
        let want = format!("/{}", prefix.to_ascii_lowercase());
        p == want || p.starts_with(&format!("{want}/"))
    }));
    // The callers view does not keep paths: refused, with what to do.
    let refused = access(&setup, &["--subscription", SUB_A, "--object", &name]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("--events --object"),
        "{}",
        refused.stderr
    );
}

#[path = "support/browser.rs"]
mod browser;

/// `access --format html` of SUB_A, loaded in chromium: it made no request
/// and logged nothing.
fn html_page(setup: &Setup, name: &str) -> browser::Load {
    let page = setup.dir.path().join(name);
    let out = access(
        setup,
        &[
            "--subscription",
            SUB_A,
            "--format",
            "html",
            "--output",
            page.to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let l = browser::load(&page, &[]);
    assert!(l.requests.is_empty(), "{:?}", l.requests);
    assert!(l.console.is_empty(), "{:?}", l.console);
    l
}

#[test]
fn the_html_page_opens_offline_with_the_suspicious_callers_first() {
    let setup = start(Faults::default());
    let doc = json_of(&access(
        &setup,
        &["--subscription", SUB_A, "--format", "json"],
    ));
    let suspicious = doc["callers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["suspicious"] == true)
        .count();
    let l = html_page(&setup, "access.html");
    assert!(
        l.dom
            .contains(&format!("{suspicious} suspicious caller(s)")),
        "the page counts the suspicious callers"
    );
    // In each vault's table the marked rows come first.
    for section in l.dom.split("<section class=\"vault\"").skip(1) {
        let rows: Vec<&str> = section.split("<tr class=\"").skip(1).collect();
        let first_quiet = rows.iter().position(|r| r.starts_with("pass"));
        let last_marked = rows.iter().rposition(|r| r.starts_with("fail"));
        if let (Some(q), Some(m)) = (first_quiet, last_marked) {
            assert!(m < q, "a suspicious caller after a quiet one");
        }
    }
    assert!(l.dom.contains("Not read") && l.dom.contains("kv-app-legacy"));
}

/// `--caller` with an IP or a CIDR in the events view is a KQL filter
/// (before the limit): it returns exactly the events whose caller IP is in
/// the range, however the range or the IP is written.
#[test]
fn events_take_an_ip_range_as_the_caller() {
    let setup = start(Faults::default());
    let events = |caller: Option<&str>| -> Vec<Value> {
        let mut args = vec![
            "--subscription",
            SUB_A,
            "--events",
            "--limit",
            "10000",
            "--format",
            "json",
        ];
        if let Some(c) = caller {
            args.extend(["--caller", c]);
        }
        json_of(&access(&setup, &args))["events"]
            .as_array()
            .unwrap()
            .clone()
    };
    let all = events(None);
    let within = |net: &str| -> Vec<Value> {
        let net: ipnet::IpNet = net.parse().unwrap();
        all.iter()
            .filter(|e| {
                e["callerIp"]
                    .as_str()
                    .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
                    .is_some_and(|ip| net.contains(&ip))
            })
            .cloned()
            .collect()
    };
    for net in ["203.0.113.0/24", "198.51.100.0/25", "203.0.113.8/30"] {
        let want = within(net);
        assert!(!want.is_empty(), "the fixture has callers in {net}");
        assert!(want.len() < all.len(), "{net} leaves some out");
        assert_eq!(events(Some(net)), want, "--caller {net}");
    }
    // One address, written as IPv4-mapped IPv6: the same rows as the plain one.
    let ip = all[0]["callerIp"].as_str().unwrap().to_string();
    let plain = events(Some(&ip));
    assert_eq!(plain, within(&format!("{ip}/32")));
    assert_eq!(events(Some(&format!("::ffff:{ip}"))), plain);
    // The callers view takes the same forms.
    let callers = |c: &str| -> Vec<Value> {
        json_of(&access(
            &setup,
            &["--subscription", SUB_A, "--format", "json", "--caller", c],
        ))["callers"]
            .as_array()
            .unwrap()
            .clone()
    };
    let mapped = callers(&format!("::ffff:{ip}"));
    assert!(!mapped.is_empty());
    assert_eq!(mapped, callers(&ip));
}

/// The HTML page's timeline counts what the events view lists: per bucket
/// of the window, the requests, 401s and 403s of every vault read.
#[test]
fn the_html_timeline_counts_every_request_in_its_bucket() {
    let setup = start(Faults::default());
    let events = json_of(&access(
        &setup,
        &[
            "--subscription",
            SUB_A,
            "--events",
            "--limit",
            "10000",
            "--format",
            "json",
        ],
    ));
    let start: chrono::DateTime<chrono::Utc> =
        events["windowStart"].as_str().unwrap().parse().unwrap();
    // A 24-hour window: 48 buckets of 30 minutes.
    let bucket = |t: &str| -> i64 {
        let t: chrono::DateTime<chrono::Utc> = t.parse().unwrap();
        ((t - start).num_seconds() / 1_800).min(47)
    };
    let mut want: BTreeMap<(String, i64), (u64, u64, u64)> = BTreeMap::new();
    for e in events["events"].as_array().unwrap() {
        let vault = e["vault"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let n = want
            .entry((vault, bucket(e["time"].as_str().unwrap())))
            .or_default();
        n.0 += 1;
        n.1 += u64::from(e["httpStatus"] == 401);
        n.2 += u64::from(e["httpStatus"] == 403);
    }
    assert!(want.len() > 3, "the fixture spreads over several buckets");
    let l = html_page(&setup, "timeline.html");
    assert!(
        l.dom.contains("buckets of 30 minutes"),
        "the bucket width is stated"
    );
    // Each vault's figure: one <title> per non-empty bucket, "YYYY-MM-DD HH:MM: N request(s), A 401, B 403, ...".
    let mut got: BTreeMap<(String, i64), (u64, u64, u64)> = BTreeMap::new();
    for figure in l
        .dom
        .split("<figure class=\"timeline\" data-vault=\"")
        .skip(1)
    {
        let vault = figure.split('"').next().unwrap().to_string();
        let figure = figure.split("</figure>").next().unwrap();
        for title in figure.split("<title>").skip(1) {
            let title = title.split("</title>").next().unwrap();
            let (when, counts) = title.split_at(16);
            let when = chrono::NaiveDateTime::parse_from_str(when, "%Y-%m-%d %H:%M")
                .unwrap()
                .and_utc();
            let numbers: Vec<u64> = counts
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            let b = (when - start).num_seconds() / 1_800;
            // [requests, 401s, 401, 403s, 403, other failures]
            got.insert((vault.clone(), b), (numbers[0], numbers[1], numbers[3]));
        }
    }
    assert_eq!(got, want);
    // The all-vaults chart sums them.
    let all = l.dom.split("id=\"timeline-all\"").nth(1).unwrap();
    let all = all.split("</figure>").next().unwrap();
    let total: u64 = all
        .split("<title>")
        .skip(1)
        .map(|t| {
            t[16..]
                .trim_start_matches(": ")
                .split(' ')
                .next()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, events["events"].as_array().unwrap().len() as u64);
}

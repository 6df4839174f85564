//! Hostile and broken answers, end to end: the real binary against the fake
//! Azure of tests/support with one fault injected per case. Each case must
//! end in a correct verdict or not evaluable (never a pass on data that was
//! not read), a one-line error, or a bounded wait; no output format may
//! carry a raw control character from Azure data, and no token is written.
mod common;
#[path = "support/fake_azure.rs"]
mod fake_azure;
#[path = "support/tenant.rs"]
mod tenant;

use common::demo_inventory;
use fake_azure::{Answer, Faults, Override};
use serde_json::{Value, json};
use tenant::*;

fn faults(overrides: Vec<Override>) -> Faults {
    Faults {
        overrides,
        ..Faults::default()
    }
}

/// The run ended with a verdict (0, 1, or 3 for not evaluable), not an error.
fn assert_ran(out: &Out, what: &str) {
    let tail: Vec<&str> = out.stderr.lines().rev().take(3).collect();
    assert!(
        [0, 1, 3].contains(&out.code),
        "{what}: exit {}: {tail:?}",
        out.code
    );
}

fn json_report(out: &Out) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {} stderr {}", out.stdout, out.stderr))
}

/// Statuses of `rule` on vault `name`.
fn statuses(report: &Value, name: &str, rule: &str) -> Vec<String> {
    verdicts(report)
        .get(&(name.to_string(), rule.to_string()))
        .map(|v| v.iter().map(|(s, _)| s.clone()).collect())
        .unwrap_or_default()
}

/// Every finding of `rule` on `name` is not evaluable (and there is one).
fn assert_not_evaluable(report: &Value, name: &str, rule: &str) {
    let s = statuses(report, name, rule);
    assert!(
        !s.is_empty() && s.iter().all(|s| s == "not_evaluable"),
        "{rule} on {name}: {s:?}"
    );
}

fn query_path(ws: (&str, &str)) -> String {
    format!("/v1/workspaces/{}/query", ws.1)
}

/// Runs a scan of the request rules with the WS_A evidence answer replaced,
/// saves the inventory and reads it back with `eval`.
fn scan_with_broken_evidence(answer: Answer) -> (Value, Out) {
    let setup = start(faults(vec![Override::new(&query_path(WS_A), answer)]));
    let inv = setup.dir.path().join("inventory.json");
    let out = kvaudit(
        &setup,
        "scan",
        &[
            "--rule",
            "kv/unauthorized-requests",
            "--rule",
            "kv/forbidden-requests",
            "--format",
            "json",
            "--save-inventory",
            inv.to_str().unwrap(),
        ],
        &[],
    );
    assert_ran(&out, "scan");
    let report = json_report(&out);
    // What scan saved, eval reads.
    let back = eval(&[inv.to_str().unwrap(), "--format", "json"]);
    assert_ran(&back, "eval of the saved inventory");
    (report, out)
}

/// The names of a Log Analytics result table's columns.
fn column_names(table: &Value) -> Vec<String> {
    table["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

/// Rewrites every row of the result table with `f(column name, value)`.
fn rows_rewritten(f: fn(&str, Value) -> Value) -> Answer {
    Answer::rewrite(move |mut v, _| {
        let table = &mut v["tables"][0];
        let cols = column_names(table);
        for row in table["rows"].as_array_mut().unwrap() {
            for (i, cell) in row.as_array_mut().unwrap().iter_mut().enumerate() {
                *cell = f(&cols[i], cell.take());
            }
        }
        v
    })
}

const WS_A_VAULTS: [&str; 3] = ["kv-app-01", "kv-data-01", "kv-quiet-01"];

#[test]
fn log_analytics_answers_of_the_wrong_shape_are_never_a_pass() {
    let objects = Answer::rewrite(|mut v, _| {
        let table = &mut v["tables"][0];
        let cols = column_names(table);
        for row in table["rows"].as_array_mut().unwrap() {
            let obj: serde_json::Map<String, Value> = cols
                .iter()
                .cloned()
                .zip(row.as_array().unwrap().iter().cloned())
                .collect();
            *row = Value::Object(obj);
        }
        v
    });
    // (what, answer, whether the whole answer is unusable or only the rows
    // it spoils: kv-quiet-01 has no rows, so a bad row cannot be its)
    let cases: Vec<(&str, Answer, bool)> = vec![
        ("no tables", Answer::json(200, json!({})), true),
        (
            "empty tables",
            Answer::json(200, json!({"tables": []})),
            true,
        ),
        ("rows as objects", objects, true),
        (
            "times without an offset",
            rows_rewritten(|c, v| match (c, &v) {
                ("firstSeen" | "lastSeen", Value::String(s)) => json!(s.trim_end_matches('Z')),
                _ => v,
            }),
            false,
        ),
        (
            "missing counts",
            rows_rewritten(|c, v| if c == "count" { Value::Null } else { v }),
            false,
        ),
        (
            "a column missing",
            Answer::rewrite(|mut v, _| {
                let t = &mut v["tables"][0];
                let i = t["columns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .position(|c| c["name"] == "count")
                    .unwrap();
                t["columns"].as_array_mut().unwrap().remove(i);
                for row in t["rows"].as_array_mut().unwrap() {
                    row.as_array_mut().unwrap().remove(i);
                }
                v
            }),
            true,
        ),
    ];
    for (what, answer, whole) in cases {
        let (report, out) = scan_with_broken_evidence(answer);
        let spoilt: &[&str] = if whole {
            &WS_A_VAULTS
        } else {
            &WS_A_VAULTS[..2]
        };
        if !whole {
            // A vault without rows was read: its verdict stands.
            assert_eq!(
                statuses(&report, "kv-quiet-01", "kv/unauthorized-requests"),
                ["pass"],
                "{what}"
            );
        }
        for name in spoilt {
            for rule in ["kv/unauthorized-requests", "kv/forbidden-requests"] {
                let s = statuses(&report, name, rule);
                assert!(
                    !s.is_empty() && s.iter().all(|s| s == "not_evaluable"),
                    "{what}: {rule} on {name}: {s:?}\n{}",
                    out.stderr
                );
            }
        }
        // The other workspace's vaults are still judged on their evidence.
        assert!(
            statuses(&report, "kv-ops-01", "kv/unauthorized-requests")
                .iter()
                .any(|s| s != "not_evaluable"),
            "{what}"
        );
    }
}

#[test]
fn arm_lists_without_value_are_errors_not_empty_lists() {
    let setup = start(faults(vec![
        Override::new("/vaults/kv-app-01/keys", Answer::json(200, json!({}))),
        Override::new("/vaults/kv-app-01/secrets", Answer::json(200, json!({}))),
        Override::new(
            &format!("/subscriptions/{SUB_B}/providers/microsoft.keyvault/vaults"),
            Answer::json(200, json!({"nextLink": null})),
        ),
    ]));
    let out = kvaudit(&setup, "scan", &["--format", "json"], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = json_report(&out);
    for rule in ["kv/key-expiry", "kv/key-rotation", "kv/secret-expiry"] {
        assert_not_evaluable(&report, "kv-app-01", rule);
    }
    // SUB_B's vaults did not vanish: its scope is not evaluable, by name.
    let sub_b: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["subscriptionId"] == SUB_B)
        .collect();
    assert!(!sub_b.is_empty());
    assert!(
        sub_b.iter().all(|f| f["status"] == "not_evaluable"),
        "{sub_b:?}"
    );
    assert!(sub_b.iter().any(|f| f["discriminator"] == "vault-list"));
}

#[test]
fn redirects_are_not_followed_and_their_answers_not_believed() {
    // kv-app-legacy fails kv/audit-logging (storage only); a redirect to a
    // forged list that would make it pass must not be believed.
    let forged = "/forged/diagnosticSettings";
    let setup = start(faults(vec![
        Override::new(
            "/vaults/kv-app-legacy/providers/microsoft.insights/diagnosticsettings",
            Answer::Fixed(
                302,
                vec![("location", format!("http://127.0.0.2:9{forged}"))],
                String::new(),
            ),
        ),
        Override::new(
            "/vaults/kv-app-01/providers/microsoft.insights/diagnosticsettings",
            Answer::Fixed(
                307,
                vec![("location", "http://example.com/settings".into())],
                String::new(),
            ),
        ),
    ]));
    let out = kvaudit(
        &setup,
        "scan",
        &["--rule", "kv/audit-logging", "--format", "json"],
        &[],
    );
    assert_ran(&out, "scan");
    let report = json_report(&out);
    for name in ["kv-app-legacy", "kv-app-01"] {
        assert_not_evaluable(&report, name, "kv/audit-logging");
    }
    // Not followed: following would have failed to connect instead.
    assert!(out.stdout.contains("UnexpectedRedirect"), "{}", out.stdout);
    assert!(!out.stdout.contains("RequestFailed"), "{}", out.stdout);
}

#[test]
fn a_paging_loop_is_stopped_at_once() {
    let path = format!("/subscriptions/{SUB_A}/providers/microsoft.keyvault/vaults");
    let setup = start(faults(vec![Override::new(
        &path,
        Answer::rewrite(|mut v, url| {
            v["nextLink"] = json!(url);
            v
        }),
    )]));
    let out = kvaudit(&setup, "scan", &["--format", "json", "-v"], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("paging loop"), "{}", out.stderr);
    let by_kind = setup.fake.counters.by_kind.lock().unwrap().clone();
    let lists = by_kind.get("vaults").copied().unwrap_or(0);
    assert!(lists <= 4, "vault lists fetched {lists} times: {by_kind:?}");
    let report = json_report(&out);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["resource"]["subscriptionId"] == SUB_A)
            .all(|f| f["status"] == "not_evaluable")
    );
}

#[test]
fn bad_retry_after_headers_are_survived() {
    let busy = json!({"error": {"code": "TooManyRequests", "message": "slow down"}}).to_string();
    let setup = start(faults(vec![
        Override::new(
            "/subscriptions",
            Answer::Fixed(429, vec![("retry-after", "NaN".into())], busy.clone()),
        )
        .times(2),
        Override::new(
            "/vaults/kv-app-01/keys",
            Answer::Fixed(503, vec![("retry-after", "inf".into())], busy.clone()),
        )
        .times(1),
        Override::new(
            "/vaults/kv-data-01/keys",
            Answer::Fixed(429, vec![("retry-after", "-1e309".into())], busy),
        )
        .times(1),
    ]));
    let out = kvaudit(&setup, "scan", &["--format", "json"], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = json_report(&out);
    // The retried reads succeeded: kv-app-01's key is judged.
    assert!(
        statuses(&report, "kv-app-01", "kv/key-expiry")
            .iter()
            .all(|s| s != "not_evaluable")
    );
}

#[test]
fn slow_answers_are_bounded_and_said() {
    let setup = start(faults(vec![Override::new(
        &query_path(WS_A),
        Answer::Delay(std::time::Duration::from_secs(30)),
    )]));
    let started = std::time::Instant::now();
    let out = kvaudit(
        &setup,
        "scan",
        &[
            "--rule",
            "kv/unauthorized-requests",
            "--format",
            "json",
            "--query-timeout",
            "2s",
            "-v",
        ],
        &[],
    );
    assert_ran(&out, "scan");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "the 30 s answer was waited for"
    );
    assert!(
        out.stderr.contains("querying Log Analytics workspace") && out.stderr.contains("up to 2 s"),
        "{}",
        out.stderr
    );
    let report = json_report(&out);
    for name in WS_A_VAULTS {
        assert_not_evaluable(&report, name, "kv/unauthorized-requests");
    }
    assert!(out.stdout.contains("--query-timeout"), "{}", out.stdout);

    // The run's own --timeout: what is not read by then is not evaluable.
    let out = kvaudit(
        &setup,
        "scan",
        &[
            "--rule",
            "kv/unauthorized-requests",
            "--format",
            "json",
            "--timeout",
            "3s",
        ],
        &[],
    );
    assert_ran(&out, "scan");
    let report = json_report(&out);
    for name in WS_A_VAULTS {
        assert_not_evaluable(&report, name, "kv/unauthorized-requests");
    }
    assert!(out.stdout.contains("--timeout"), "{}", out.stdout);
}

#[test]
fn a_hung_credential_process_is_timed_out() {
    let setup = start(Faults::default());
    let out = kvaudit(
        &setup,
        "scan",
        &["--credential-timeout", "2s"],
        &[("FAKE_AZ_HANG", "1")],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].contains("no token within 2 s"), "{}", out.stderr);
}

const ESCAPES: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\r\n";

fn has_raw_controls(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n') || s.contains(ESCAPES) || s.contains('\u{1b}')
}

/// Vault names, user agents and Azure's error text carrying terminal escapes.
fn hostile_text() -> Setup {
    let vaults = format!("/subscriptions/{SUB_A}/providers/microsoft.keyvault/vaults");
    start(faults(vec![
        Override::new(
            &vaults,
            Answer::rewrite(|mut v, _| {
                for vault in v["value"].as_array_mut().unwrap() {
                    if vault["name"] == "kv-app-01" {
                        vault["name"] = json!(format!("kv-app-01{ESCAPES}"));
                    }
                }
                v
            }),
        ),
        Override::new(
            &query_path(WS_A),
            rows_rewritten(|c, v| {
                if c == "client" {
                    json!(format!("=cmd|' /C calc'!A0{ESCAPES}"))
                } else {
                    v
                }
            }),
        ),
        Override::new(
            "/vaults/kv-data-01/keys",
            Answer::json(
                400,
                json!({"error": {"code": "BadRequest", "message": format!("bad\r\nrow{ESCAPES}; Authorization: Bearer fake-arm-token")}}),
            ),
        ),
    ]))
}

#[test]
fn azure_text_never_reaches_a_human_format_raw() {
    let setup = hostile_text();
    for format in ["table", "markdown", "sarif", "json"] {
        let out = kvaudit(
            &setup,
            "scan",
            &[
                "--format",
                format,
                "--color",
                "never",
                "--show-passed",
                "-v",
            ],
            &[],
        );
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        assert!(
            !out.stdout.contains("fake-arm-token"),
            "{format}: token in output"
        );
        assert!(
            !out.stderr.contains("fake-arm-token"),
            "{format}: token in logs"
        );
        assert!(
            !has_raw_controls(&out.stderr),
            "{format}: raw control in logs: {:?}",
            out.stderr
        );
        match format {
            "json" | "sarif" => {
                // Exact, as JSON escapes it.
                let v: Value = serde_json::from_str(&out.stdout).unwrap();
                assert!(
                    v.to_string().contains("\\u001b]0;pwned"),
                    "{format}: name not kept exactly"
                );
            }
            _ => {
                assert!(!has_raw_controls(&out.stdout), "{format}: {:?}", out.stdout);
                // Made visible (and, in markdown, escaped).
                let shown = if format == "markdown" {
                    "kv-app-01\\\\u{1b}\\]0;pwned"
                } else {
                    "kv-app-01\\u{1b}]0;pwned"
                };
                assert!(out.stdout.contains(shown), "{format}: {}", out.stdout);
            }
        }
    }
    for format in ["table", "csv", "markdown", "json"] {
        let out = kvaudit(&setup, "access", &["--format", format], &[]);
        assert!(out.code == 0, "access {format}: {}", out.stderr);
        if format != "json" {
            assert!(
                !has_raw_controls(&out.stdout),
                "access {format}: {:?}",
                out.stdout
            );
        }
        if format == "csv" {
            assert!(
                out.stdout.contains(",'=cmd|"),
                "formula not neutralised: {}",
                out.stdout
            );
            assert!(!out.stdout.contains(",=cmd"), "{}", out.stdout);
        }
    }
}

#[test]
fn tokens_and_secret_values_are_never_stored() {
    let setup = start(faults(vec![
        Override::new(
            "/vaults/kv-app-01/secrets",
            Answer::rewrite(|mut v, _| {
                for s in v["value"].as_array_mut().unwrap() {
                    s["properties"]["value"] = json!("hunter2-secret-value");
                    s["value"] = json!("hunter2-secret-value");
                }
                v
            }),
        ),
        Override::new(
            "/vaults/kv-data-01/keys",
            Answer::json(
                401,
                json!({"error": {"code": "InvalidAuthenticationToken", "message": "The token eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwcyJ9.c2lnbmF0dXJl is invalid; header was Authorization: Bearer fake-arm-token"}}),
            ),
        ),
    ]));
    let inv = setup.dir.path().join("inv.json");
    let sarif = setup.dir.path().join("out.sarif");
    let out = kvaudit(
        &setup,
        "scan",
        &[
            "--format",
            "sarif",
            "--output",
            sarif.to_str().unwrap(),
            "--save-inventory",
            inv.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let saved = std::fs::read_to_string(&inv).unwrap();
    let report = std::fs::read_to_string(&sarif).unwrap();
    for text in [&saved, &report, &out.stderr] {
        assert!(!text.contains("hunter2"), "secret value kept");
        assert!(!text.contains("fake-arm-token"), "token kept");
        assert!(!text.contains("eyJ0eXAi"), "JWT kept");
    }
    assert!(
        saved.contains("[redacted]"),
        "the error text is kept, redacted"
    );
}

// ---- Hostile local input: policies, data, inventories, waivers, flags ----

/// One line on stderr, exit 2, no panic, containing every fragment.
fn assert_one_line_error(out: &Out, fragments: &[&str]) {
    assert_eq!(out.code, 2, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().filter(|l| !l.is_empty()).collect();
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    for f in fragments {
        assert!(lines[0].contains(f), "{:?} lacks {f:?}", lines[0]);
    }
}

#[test]
fn a_recursive_policy_is_refused_by_name_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("loop.rego"),
        "package kv.custom.loop\nimport rego.v1\n\nmetadata := {\"id\": \"custom/loop\", \"title\": \"t\", \"description\": \"d\", \"severity\": \"low\", \"help\": \"h\", \"markdown\": \"m\", \"scope\": \"vault\"}\n\nf(x) := y if { y := f(x) }\n\nresults contains {\"status\": \"pass\", \"message\": \"m\"} if f(1)\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("loop_test.rego"),
        "package kv.custom.loop_test\nimport rego.v1\n\ntest_loop if data.kv.custom.loop.f(1)\n",
    )
    .unwrap();
    let p = dir.path().to_str().unwrap();
    let out = eval(&["--demo", "--policy", p]);
    assert_one_line_error(&out, &["loop.rego:6", "recursion", "data.kv.custom.loop.f"]);
    let o = assert_cmd::Command::cargo_bin("kvaudit")
        .unwrap()
        .args(["policy", "test", p])
        .output()
        .unwrap();
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    assert_one_line_error(&out, &["loop.rego:6", "recursion"]);
}

#[test]
fn wrong_policy_data_is_refused_with_the_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            json!({"config": {"windwHours": 48}}),
            "did you mean config.windowHours",
        ),
        (
            json!({"config": {"windowHours": 1e300}}),
            "config.windowHours must be a number of hours",
        ),
        (
            json!({"config": {"challengeSeconds": 0.5}}),
            "config.challengeSeconds must be a whole number",
        ),
        (
            json!({"config": {"allowList": {"ips": ["10.0.0.0/33"]}}}),
            "config.allowList.ips[0]",
        ),
        (
            json!({"config": {"allowList": {"ips": ["203.0.113.7", "not-an-ip"]}}}),
            "config.allowList.ips[1] \"not-an-ip\"",
        ),
        (
            json!({"config": {"allowList": {"appIds": ["my-app"]}}}),
            "is not a GUID",
        ),
        (
            json!({"config": {"allowList": {"ip": []}}}),
            "did you mean config.allowList.ips",
        ),
        (
            json!({"config": {"severities": {"kv/audit-loging": "high"}}}),
            "did you mean kv/audit-logging",
        ),
    ];
    for (i, (data, fragment)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("data-{i}.json"));
        std::fs::write(&path, data.to_string()).unwrap();
        let out = eval(&["--demo", "--data", path.to_str().unwrap()]);
        assert_one_line_error(&out, &[&format!("data-{i}.json"), fragment]);
    }
    // A key no built-in rule reads, far from any, is a warning, not an error.
    let path = dir.path().join("custom.json");
    std::fs::write(&path, json!({"config": {"myTeamThreshold": 3}}).to_string()).unwrap();
    let out = eval(&["--demo", "--data", path.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("config.myTeamThreshold"),
        "{}",
        out.stderr
    );
}

#[test]
fn duplicate_subscriptions_in_an_inventory_are_refused() {
    let mut inv = demo_inventory();
    let first = inv["subscriptions"][0].clone();
    inv["subscriptions"].as_array_mut().unwrap().push(first);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.json");
    std::fs::write(&path, inv.to_string()).unwrap();
    let out = eval(&[path.to_str().unwrap()]);
    assert_one_line_error(&out, &["dup.json", "listed twice"]);
}

#[test]
fn bad_numbers_on_the_command_line_are_errors_not_crashes() {
    for args in [
        vec!["scan", "--since", "9223372036854775807m"],
        vec!["scan", "--since", "99999999999999999999999d"],
        vec!["scan", "--concurrency", "18446744073709551615"],
        vec!["scan", "--concurrency", "0"],
        vec!["scan", "--timeout", "18446744073709551615h"],
        vec!["access", "--query-timeout", "0s"],
    ] {
        let o = assert_cmd::Command::cargo_bin("kvaudit")
            .unwrap()
            .args(&args)
            .env("PATH", root().join("tests/support/bin"))
            .env("FAKE_AZ_FAIL", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn long_and_nested_input_is_handled_in_linear_time() {
    // A 100,000-character vault name is cut in the table (the JSON keeps it).
    let mut inv = demo_inventory();
    let long = "a".repeat(100_000);
    let v = &mut inv["vaults"][0]["vault"];
    v["name"] = json!(long);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.json");
    std::fs::write(&path, inv.to_string()).unwrap();
    let out = eval(&[path.to_str().unwrap(), "--format", "table", "--show-passed"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    // Cut: the findings of that vault then show at most a few thousand of its
    // characters (the table wraps cells, so count rather than look for a run).
    let shown = out.stdout.chars().filter(|c| *c == 'a').count();
    assert!(shown < 50_000, "{shown} characters of the name shown");
    // Every line fits the table's width (120 columns without a terminal).
    for line in out.stdout.lines() {
        assert!(
            line.chars().count() <= 120,
            "{} characters",
            line.chars().count()
        );
    }
    assert!(out.stdout.contains("aaa…"), "the name is cut with a mark");
    let json = eval(&[path.to_str().unwrap(), "--format", "json"]);
    assert!(json.stdout.contains(&long));

    // A waivers file nested 100,000 deep is refused before the YAML parser.
    let waivers = dir.path().join("waivers.yaml");
    std::fs::write(
        &waivers,
        format!("waivers: {}{}", "[".repeat(100_000), "]".repeat(100_000)),
    )
    .unwrap();
    let out = eval(&["--demo", "--waivers", waivers.to_str().unwrap()]);
    assert_one_line_error(&out, &["waivers.yaml:1", "nested more than 16 deep"]);

    // A waiver whose resource is not a valid glob is refused.
    std::fs::write(
        &waivers,
        "waivers:\n  - rule: kv/audit-logging\n    resource: \"kv-[\"\n    justification: j\n    owner: o\n    expires: 2099-01-01\n",
    )
    .unwrap();
    let out = eval(&["--demo", "--waivers", waivers.to_str().unwrap()]);
    assert_one_line_error(&out, &["waivers.yaml:2", "not a valid glob"]);
}

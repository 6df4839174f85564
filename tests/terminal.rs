//! The terminal view: the summary first, one block per rule (or vault), one
//! line per finding, sized to the width it is given; snapshots of the demo
//! at 80, 120 and 200 columns, and a 200-vault inventory that never
//! overflows.
#[allow(dead_code)]
#[path = "../benches/gen_inventory.rs"]
mod gen_inventory;

use std::path::Path;

use assert_cmd::Command;

struct Out {
    code: i32,
    stdout: String,
}

fn table(columns: u16, args: &[&str]) -> Out {
    let o = Command::cargo_bin("kvaudit")
        .unwrap()
        .arg("eval")
        .args(args)
        .env("COLUMNS", columns.to_string())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
    }
}

/// Lines without SGR colour sequences.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn assert_fits(text: &str, columns: u16) {
    for (i, line) in plain(text).lines().enumerate() {
        let n = line.chars().count();
        assert!(
            n <= columns as usize,
            "line {} is {n} > {columns} columns: {line:?}",
            i + 1
        );
    }
}

fn snapshot(name: &str, text: &str) {
    let snap = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("KVAUDIT_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snap, text).unwrap();
    }
    let want = std::fs::read_to_string(&snap).unwrap_or_else(|_| {
        panic!("{name}: snapshot missing (KVAUDIT_UPDATE_SNAPSHOTS=1 writes it)")
    });
    assert_eq!(
        text, want,
        "{name} changed; review it and rerun with KVAUDIT_UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn the_demo_fits_80_120_and_200_columns_and_starts_with_its_summary() {
    for columns in [80u16, 120, 200] {
        let out = table(columns, &["--demo"]);
        assert_eq!(out.code, 1);
        assert_fits(&out.stdout, columns);
        let mut lines = out.stdout.lines();
        assert_eq!(
            lines.next().unwrap(),
            "kvaudit: gate failed: 47 failing result(s) at or above low"
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("8 vault(s), 18 rule(s): 47 failing")
        );
        // No colour when standard output is not a terminal.
        assert!(!out.stdout.contains('\u{1b}'));
        snapshot(&format!("table-demo-{columns}.txt"), &out.stdout);
    }
}

#[test]
fn one_block_per_rule_lists_its_failing_vaults_and_one_line_per_finding() {
    let out = table(120, &["--demo"]);
    let text = &out.stdout;
    // The most severe rules come first, each with its verdict line.
    let block = text
        .split("\n\n")
        .find(|b| b.starts_with("HIGH     kv/purge-protection"))
        .expect("a kv/purge-protection block");
    let lines: Vec<&str> = block.lines().collect();
    assert_eq!(
        lines[1].trim(),
        "fails on 2 of 8: kv-legacy-app, kv-sandbox-dev"
    );
    assert_eq!(lines.len(), 4, "{block}");
    assert!(lines[2].trim_start().starts_with("FAIL  kv-legacy-app"));
    // Failing blocks come before any block with only not-evaluable results.
    let first_high = text.find("\nHIGH ").unwrap();
    let first_medium = text.find("\nMEDIUM ").unwrap();
    assert!(first_high < first_medium);
}

#[test]
fn quiet_shows_only_the_summary_and_failures_and_group_by_vault_has_a_block_per_vault() {
    let quiet = table(120, &["--demo", "--quiet"]);
    assert!(quiet.stdout.contains("FAIL "));
    assert!(!quiet.stdout.contains("NOT EVALUABLE"), "{}", quiet.stdout);
    assert!(quiet.stdout.lines().count() < table(120, &["--demo"]).stdout.lines().count());

    let by_vault = table(120, &["--demo", "--group-by", "vault"]);
    assert_fits(&by_vault.stdout, 120);
    let heads: Vec<&str> = by_vault
        .stdout
        .split("\n\n")
        .skip(1)
        .filter_map(|b| b.lines().next())
        .collect();
    // The vault with the most failures comes first.
    assert!(
        heads[0].starts_with("kv-sandbox-dev: 11 failing"),
        "{heads:?}"
    );
    assert!(heads.iter().any(|h| h.starts_with("kv-legacy-app: ")));
}

#[test]
fn colour_marks_severity_and_status_when_asked_and_never_exceeds_the_width() {
    let out = table(100, &["--demo", "--color", "always"]);
    assert!(out.stdout.contains("\u{1b}[31mHIGH"), "high is red");
    assert!(out.stdout.contains("\u{1b}[33mMEDIUM"), "medium is yellow");
    assert_fits(&out.stdout, 100);
    // --color never and NO_COLOR win over a terminal.
    let never = table(100, &["--demo", "--color", "never"]);
    assert!(!never.stdout.contains('\u{1b}'));
}

#[test]
fn a_200_vault_inventory_fits_every_width_in_one_line_per_finding() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.json");
    std::fs::write(&inv, gen_inventory::generate(200, 2, false).to_string()).unwrap();
    let json = Command::cargo_bin("kvaudit")
        .unwrap()
        .args(["eval", inv.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let shown = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] != "pass")
        .count();
    let rules = doc["rules"].as_array().unwrap().len();
    for columns in [80u16, 120, 200] {
        let out = table(columns, &[inv.to_str().unwrap(), "--color", "always"]);
        assert_fits(&out.stdout, columns);
        let lines = out.stdout.lines().count();
        // One line per finding shown, plus at most three per rule block and
        // the summary: no finding takes several lines.
        assert!(
            lines <= shown + 4 * rules + 5,
            "{lines} lines for {shown} findings at {columns} columns"
        );
        assert!(out.stdout.starts_with("kvaudit: \u{1b}[31mgate failed"));
    }
}

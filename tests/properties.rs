//! Property tests: generated Log Analytics answers (well formed, spoilt row
//! by row, or of the wrong shape), generated inventories and generated text
//! go through kvaudit's real decoding, evaluation and escaping. Invariants:
//! no panic; no pass without read evidence (a vault whose evidence was
//! spoilt is not evaluable on the request rules); what a scan would save,
//! `eval` reads; escaped text carries no control character.
mod common;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use common::*;
use kvaudit::collect::Window;
use kvaudit::collect::audit_logs::{EVIDENCE_COLUMNS, apply_evidence};
use kvaudit::finding::Status;
use kvaudit::inventory::{AuditStatus, Inventory};
use kvaudit::policy::data::PolicyData;
use kvaudit::policy::selection::Selection;
use kvaudit::policy::{PolicySet, builtin};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The columns the evidence query projects, as the collector reads them.
const COLUMNS: &[&str] = EVIDENCE_COLUMNS;
const VAULTS: [&str; 3] = ["kv-p0", "kv-p1", "kv-p2"];
const WS: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg-monitoring/providers/microsoft.operationalinsights/workspaces/law";
const REQUEST_RULES: [&str; 2] = ["kv/unauthorized-requests", "kv/forbidden-requests"];

fn window() -> Window {
    let end: DateTime<Utc> = "2026-11-27T09:00:00Z".parse().unwrap();
    Window {
        start: end - chrono::Duration::hours(24),
        end,
        challenge_seconds: 60,
        volume_start: end - chrono::Duration::days(7),
    }
}

/// The request rules, compiled once.
static RULES: LazyLock<PolicySet> = LazyLock::new(|| {
    let mut set = PolicySet::compile(&builtin::files(), PolicyData::defaults()).unwrap();
    set.select(&Selection {
        rules: REQUEST_RULES.iter().map(|r| r.to_string()).collect(),
        ..Selection::default()
    })
    .unwrap();
    set
});

/// How a generated row is spoilt (or not).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Spoil {
    None,
    TimeWithoutOffset,
    NoTime,
    NullCount,
    NegativeCount,
    TextCount,
    FractionalCount,
    ChallengesAboveCount,
    UnknownKind,
}

#[derive(Debug, Clone)]
struct GenRow {
    vault: usize,
    unauthorized: bool,
    ip: String,
    client: String,
    count: u64,
    challenges: u64,
    minutes_before_end: i64,
    spoil: Spoil,
}

fn spoil() -> impl Strategy<Value = Spoil> {
    prop_oneof![
        6 => Just(Spoil::None),
        1 => Just(Spoil::TimeWithoutOffset),
        1 => Just(Spoil::NoTime),
        1 => Just(Spoil::NullCount),
        1 => Just(Spoil::NegativeCount),
        1 => Just(Spoil::TextCount),
        1 => Just(Spoil::FractionalCount),
        1 => Just(Spoil::ChallengesAboveCount),
        1 => Just(Spoil::UnknownKind),
    ]
}

fn row() -> impl Strategy<Value = GenRow> {
    (
        0..VAULTS.len(),
        any::<bool>(),
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}|[ -~\u{1b}\u{7}\r\n]{0,12}",
        "\\PC{0,16}|[\u{0}-\u{1f}\u{7f}-\u{9f}]{1,6}",
        1u64..5_000,
        0u64..5_000,
        0i64..(24 * 60 - 1),
        spoil(),
    )
        .prop_map(
            |(vault, unauthorized, ip, client, count, challenges, minutes_before_end, spoil)| {
                GenRow {
                    vault,
                    unauthorized,
                    ip,
                    client,
                    count,
                    challenges: challenges % (count + 1),
                    minutes_before_end,
                    spoil,
                }
            },
        )
}

impl GenRow {
    fn cells(&self) -> Vec<Value> {
        let end = window().end;
        let t = (end - chrono::Duration::minutes(self.minutes_before_end))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let time = match self.spoil {
            Spoil::TimeWithoutOffset => json!(t.trim_end_matches('Z')),
            Spoil::NoTime => json!(""),
            _ => json!(t),
        };
        let count = match self.spoil {
            Spoil::NullCount => Value::Null,
            Spoil::NegativeCount => json!(-(self.count as i64)),
            Spoil::TextCount => json!("many"),
            Spoil::FractionalCount => json!(self.count as f64 + 0.5),
            _ => json!(self.count),
        };
        let challenges = match (self.spoil, self.unauthorized) {
            (Spoil::ChallengesAboveCount, true) => json!(self.count + 1),
            (_, true) => json!(self.challenges),
            (_, false) => json!(0),
        };
        let kind = match (self.spoil, self.unauthorized) {
            (Spoil::UnknownKind, _) => "throttled",
            (_, true) => "unauthorized",
            (_, false) => "forbidden",
        };
        vec![
            json!(kind),
            json!(vault_id("rg-p", VAULTS[self.vault]).to_lowercase()),
            json!(self.ip),
            json!(self.client),
            json!(""),
            json!(""),
            json!("11111111-2222-3333-4444-555555555555"),
            count,
            challenges,
            time.clone(),
            time,
            Value::Null,
            json!("[\"SecretGet\"]"),
            json!(""),
        ]
    }

    /// Whether decoding must reject this row (ChallengesAboveCount only
    /// matters on a 401 row: a 403 row has no challenges).
    fn spoilt(&self) -> bool {
        match self.spoil {
            Spoil::None => false,
            Spoil::ChallengesAboveCount => self.unauthorized,
            _ => true,
        }
    }
}

/// What is wrong with the answer as a whole.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Good,
    NoTables,
    EmptyTables,
    NotPrimary,
    MissingColumn(usize),
    RowAsObject,
    ShortRow,
    NotJson,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        8 => Just(Shape::Good),
        1 => Just(Shape::NoTables),
        1 => Just(Shape::EmptyTables),
        1 => Just(Shape::NotPrimary),
        1 => (0..COLUMNS.len()).prop_map(Shape::MissingColumn),
        1 => Just(Shape::RowAsObject),
        1 => Just(Shape::ShortRow),
        1 => Just(Shape::NotJson),
    ]
}

fn answer(shape: Shape, rows: &[GenRow]) -> Vec<u8> {
    let mut columns: Vec<Value> = COLUMNS
        .iter()
        .map(|c| json!({"name": c, "type": "string"}))
        .collect();
    let mut cells: Vec<Vec<Value>> = rows.iter().map(GenRow::cells).collect();
    if let Shape::MissingColumn(i) = shape {
        columns.remove(i);
        for r in &mut cells {
            r.remove(i);
        }
    }
    let mut rows_json: Vec<Value> = cells.into_iter().map(Value::from).collect();
    if let Some(first) = rows_json.first_mut() {
        match shape {
            Shape::RowAsObject => {
                let obj: serde_json::Map<String, Value> = COLUMNS
                    .iter()
                    .map(|c| c.to_string())
                    .zip(first.as_array().unwrap().iter().cloned())
                    .collect();
                *first = Value::Object(obj);
            }
            Shape::ShortRow => {
                first.as_array_mut().unwrap().pop();
            }
            _ => {}
        }
    }
    let table = json!({"name": "PrimaryResult", "columns": columns, "rows": rows_json});
    let body = match shape {
        Shape::NoTables => json!({}),
        Shape::EmptyTables => json!({"tables": []}),
        Shape::NotPrimary => json!({"tables": [
            {"name": "Table_0", "columns": [], "rows": []},
            {"name": "Table_1", "columns": [], "rows": []}
        ]}),
        Shape::NotJson => return b"<html>gateway timeout</html>".to_vec(),
        _ => json!({"tables": [table]}),
    };
    body.to_string().into_bytes()
}

/// The answer's shape spoils every vault's evidence.
fn spoils_all(shape: Shape, rows: &[GenRow]) -> bool {
    match shape {
        Shape::Good => false,
        // A malformed first row: only if there is one.
        Shape::RowAsObject | Shape::ShortRow => !rows.is_empty(),
        _ => true,
    }
}

fn inventory_of_vaults() -> Value {
    let vaults = VAULTS
        .iter()
        .map(|n| {
            vault_entry(
                vault("rg-p", n),
                ok(json!([audit_to_workspace(&vault_id("rg-p", n))])),
                json!({"status": "notCollected", "reason": "set by the test"}),
            )
        })
        .collect();
    inventory(ok(json!([])), ok(json!([])), vaults)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_pass_without_read_evidence(shape in shape(), rows in prop::collection::vec(row(), 0..12)) {
        let mut inv = Inventory::from_json(&inventory_of_vaults().to_string(), "generated").unwrap();
        apply_evidence(&mut inv.vaults, WS, &answer(shape, &rows), &window());

        // What a scan would save, eval reads back.
        let saved = inv.to_json_pretty();
        let back = Inventory::from_json(&saved, "saved");
        prop_assert!(back.is_ok(), "eval rejects what scan saved: {:?}", back.err());

        let findings = RULES.evaluate(&inv).unwrap();
        for (i, name) in VAULTS.iter().enumerate() {
            let spoilt = spoils_all(shape, &rows)
                || rows.iter().any(|r| r.vault == i && r.spoilt());
            let status = inv.vaults[i].audit_logs.status;
            let mine: Vec<_> = findings.iter().filter(|f| f.resource.name == *name).collect();
            prop_assert!(!mine.is_empty());
            if spoilt {
                prop_assert_eq!(status, AuditStatus::Error, "{} read from a spoilt answer", name);
                for f in &mine {
                    prop_assert_eq!(f.status, Status::NotEvaluable, "{} {}: {}", name, f.rule_id, f.message);
                }
            } else {
                prop_assert_eq!(status, AuditStatus::Ok, "{}: {:?}", name, inv.vaults[i].audit_logs.error);
                // Every generated group of the vault is in its evidence.
                let n = inv.vaults[i].audit_logs.unauthorized.len() + inv.vaults[i].audit_logs.forbidden.len();
                prop_assert_eq!(n, rows.iter().filter(|r| r.vault == i).count());
                for f in &mine {
                    prop_assert_ne!(f.status, Status::NotEvaluable, "{} {}: {}", name, f.rule_id, f.message);
                }
            }
        }
    }

    #[test]
    fn escaped_text_carries_no_control_characters(s in "\\PC{0,40}|[\u{0}-\u{a0}\u{202a}-\u{202e}\u{2066}-\u{2069}]{0,40}") {
        let t = kvaudit::text::terminal(&s);
        prop_assert!(!t.chars().any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{2066}'..='\u{2069}').contains(&c)), "{:?}", t);
        let m = kvaudit::text::markdown(&s);
        prop_assert!(!m.chars().any(char::is_control));
        // Every `|` is escaped: no cell can be ended from inside.
        let unescaped_pipe = m.char_indices().any(|(i, c)| c == '|' && {
            let backslashes = m[..i].chars().rev().take_while(|b| *b == '\\').count();
            backslashes % 2 == 0
        });
        prop_assert!(!unescaped_pipe, "{:?}", m);
        let c = kvaudit::text::csv(&s);
        prop_assert!(!c.starts_with(['=', '+', '-', '@']), "{:?}", c);
    }

    #[test]
    fn generated_tokens_are_redacted(head in "[A-Za-z0-9_-]{8,40}", body in "[A-Za-z0-9_-]{8,200}", sig in "[A-Za-z0-9_-]{0,80}", prefix in "\\PC{0,30}") {
        let jwt = format!("eyJ{head}.{body}.{sig}");
        let text = format!("{prefix} Authorization: Bearer {jwt} and again {jwt}");
        let r = kvaudit::text::redact(&text);
        prop_assert!(!r.contains(&format!("eyJ{head}.{body}")), "{}", r);
    }

}

/// Every built-in rule, compiled once.
static ALL_RULES: LazyLock<PolicySet> =
    LazyLock::new(|| PolicySet::compile(&builtin::files(), PolicyData::defaults()).unwrap());

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn mutated_inventories_are_read_or_refused_without_panic(
        path in prop::collection::vec(0usize..64, 1..6),
        replacement in prop_oneof![
            Just(Value::Null), Just(json!("")), Just(json!(-1)), Just(json!(1e300)),
            Just(json!([])), Just(json!({})), Just(json!("2026-11-27T09:00:00")),
            Just(json!(true)), Just(json!("\u{1b}[2J")),
        ],
    ) {
        let mut inv: Value = serde_json::from_str(kvaudit::demo::DEMO_INVENTORY).unwrap();
        // Walk a path of (key or index) choices and replace what is there.
        let mut pointer = String::new();
        let mut at = &inv;
        for step in &path {
            let next = match at {
                Value::Object(m) if !m.is_empty() => {
                    let k = m.keys().nth(step % m.len()).unwrap();
                    pointer.push_str(&format!("/{}", k.replace('~', "~0").replace('/', "~1")));
                    &m[k]
                }
                Value::Array(a) if !a.is_empty() => {
                    pointer.push_str(&format!("/{}", step % a.len()));
                    &a[step % a.len()]
                }
                _ => break,
            };
            at = next;
        }
        *inv.pointer_mut(&pointer).unwrap() = replacement;
        if let Ok(parsed) = Inventory::from_json(&inv.to_string(), "mutated") {
            // Whatever parses evaluates to findings, without a panic.
            prop_assert!(ALL_RULES.evaluate(&parsed).is_ok());
        }
    }
}

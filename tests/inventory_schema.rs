//! The documented inventory format: docs/inventory.schema.json accepts the
//! demo and the documentation's example, rejects what kvaudit rejects, and
//! the example in docs/inventory.md evaluates.
use assert_cmd::Command;
use serde_json::{Value, json};

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/inventory.schema.json"
    ))
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn demo() -> Value {
    serde_json::from_str(kvaudit::demo::DEMO_INVENTORY).unwrap()
}

/// The first ```json block after the heading "A minimal complete example".
fn doc_example() -> Value {
    let md =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/inventory.md")).unwrap();
    let from = md
        .find("## A minimal complete example")
        .expect("docs/inventory.md has the example section");
    let rest = &md[from..];
    let start = rest.find("```json\n").unwrap() + 8;
    let end = start + rest[start..].find("\n```").unwrap();
    serde_json::from_str(&rest[start..end]).expect("the documented example is valid JSON")
}

#[test]
fn schema_accepts_the_demo_and_the_documented_example() {
    let v = schema();
    for (name, doc) in [("demo", demo()), ("docs example", doc_example())] {
        let errors: Vec<String> = v
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        kvaudit::inventory::Inventory::from_json(&doc.to_string(), name)
            .expect("kvaudit reads it too");
    }
}

/// A change that makes an inventory invalid.
type Mutation = Box<dyn Fn(&mut Value)>;

#[test]
fn schema_rejects_what_kvaudit_rejects() {
    let v = schema();
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "unknown top-level field",
            Box::new(|d: &mut Value| d["vault"] = json!([])),
        ),
        (
            "missing schemaVersion",
            Box::new(|d: &mut Value| {
                d.as_object_mut().unwrap().remove("schemaVersion");
            }),
        ),
        (
            "status not in the enum",
            Box::new(|d: &mut Value| {
                d["vaults"][0]["diagnosticSettings"]["status"] = json!("fine")
            }),
        ),
        (
            "negative count",
            Box::new(|d: &mut Value| {
                d["vaults"][0]["auditLogs"]["unauthorized"][0]["count"] = json!(-1)
            }),
        ),
        (
            "boolean as string",
            Box::new(|d: &mut Value| {
                d["vaults"][0]["vault"]["properties"]["enablePurgeProtection"] = json!("yes")
            }),
        ),
    ];
    for (name, change) in cases {
        let mut d = demo();
        // Make sure the first vault has an unauthorized group to mutate.
        if d["vaults"][0]["auditLogs"]["unauthorized"]
            .as_array()
            .is_none_or(|a| a.is_empty())
        {
            d["vaults"][0]["auditLogs"] = json!({"status": "ok", "windowEnd": "2026-11-27T09:00:00Z", "unauthorized": [{"callerIp": "192.0.2.1", "count": 1, "challenges": 1, "unexplained": 0, "firstSeen": "2026-11-27T08:00:00Z", "lastSeen": "2026-11-27T08:00:00Z"}], "forbidden": []});
        }
        change(&mut d);
        assert!(!v.is_valid(&d), "schema accepted: {name}");
        assert!(
            kvaudit::inventory::Inventory::from_json(&d.to_string(), name).is_err(),
            "kvaudit accepted: {name}"
        );
    }
}

#[test]
fn the_documented_example_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("example.json");
    std::fs::write(&p, doc_example().to_string()).unwrap();
    let out = Command::cargo_bin("kvaudit")
        .unwrap()
        .args(["eval", p.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["resources"], 1);
    // What the text above the example says of it.
    let status = |rule: &str| -> Vec<String> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["ruleId"] == rule)
            .map(|f| f["status"].as_str().unwrap().to_string())
            .collect()
    };
    for rule in [
        "kv/audit-logging",
        "kv/admin-alert",
        "kv/defender",
        "kv/key-expiry",
        "kv/key-rotation",
        "kv/logs-arriving",
    ] {
        assert_eq!(status(rule), ["pass"], "{rule}");
    }
    assert_eq!(status("kv/unauthorized-requests"), ["fail"]);
    assert_eq!(status("kv/forbidden-requests"), ["fail"]);
    assert_eq!(status("kv/secret-expiry"), ["not_evaluable"]);
}

#[test]
fn inconsistent_evidence_is_refused_with_its_location() {
    let mut d = demo();
    let i = d["vaults"]
        .as_array()
        .unwrap()
        .iter()
        .position(|v| v["auditLogs"]["status"] == "ok")
        .unwrap();
    let name = d["vaults"][i]["vault"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    d["vaults"][i]["auditLogs"]
        .as_object_mut()
        .unwrap()
        .remove("windowEnd");
    let e = kvaudit::inventory::Inventory::from_json(&d.to_string(), "inv.json")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "inv.json: vaults[{i}] ({name}).auditLogs.windowEnd: is missing; an auditLogs with status ok or partial needs it"
        )
    );
    let mut d = demo();
    d["vaults"][1]["vault"]["id"] = d["vaults"][0]["vault"]["id"].clone();
    let e = kvaudit::inventory::Inventory::from_json(&d.to_string(), "inv.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("the same vault as vaults[0]"), "{e}");
}

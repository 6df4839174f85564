//! The HTML report in a real browser: Debian's chromium (installed by
//! scripts/test.sh) loads it headless from a file, with every host
//! unresolvable. The page must make no network request and log nothing to
//! the console (a CSP violation is logged there), its DOM must hold the
//! report's counts and findings with their filled-in fixes, and a screenshot
//! must render. Control pages prove the detectors see a request and a
//! console message when there is one.
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

#[path = "support/browser.rs"]
mod browser;
use browser::load;

#[allow(dead_code)]
#[path = "../benches/gen_inventory.rs"]
mod gen_inventory;

mod common;
use common::run_kvaudit;

fn report(dir: &Path, inventory: &[&str]) -> PathBuf {
    let out = dir.join("report.html");
    let mut args = vec!["eval"];
    args.extend(inventory);
    args.extend(["--format", "html", "--output", out.to_str().unwrap()]);
    let (code, _, err) = run_kvaudit(&args);
    assert_eq!(code, 1, "{err}");
    out
}

#[test]
fn the_detectors_see_a_request_and_a_console_message() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("control.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\
         <img src=\"http://203.0.113.7/x.png\"><script>console.error(\"boom\")</script></body></html>",
    )
    .unwrap();
    let l = load(&page, &[]);
    assert_eq!(
        l.requests,
        vec!["http://203.0.113.7/x.png"],
        "{:?}",
        l.requests
    );
    assert!(
        l.console.iter().any(|c| c.contains("boom")),
        "{:?}",
        l.console
    );
}

#[test]
fn the_demo_report_opens_offline_with_every_finding_and_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    let page = report(dir.path(), &["--demo"]);
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: no script, no external reference.
    assert!(!html.contains("<script"), "no script");
    assert!(!html.contains("http://") || !html.contains("src=\"http"));
    assert!(html.contains("Content-Security-Policy"));

    let l = load(&page, &[]);
    assert!(l.requests.is_empty(), "the page requested {:?}", l.requests);
    assert!(l.console.is_empty(), "console: {:#?}", l.console);

    // The DOM holds the JSON report's counts and every failing and
    // not-evaluable result.
    let json = Command::cargo_bin("kvaudit")
        .unwrap()
        .args(["eval", "--demo", "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    let s = &doc["summary"];
    for (id, key) in [
        ("count-fail", "fail"),
        ("count-not-evaluable", "notEvaluable"),
        ("count-pass", "pass"),
    ] {
        let needle = format!("id=\"{id}\">{}<", s[key]);
        assert!(l.dom.contains(&needle), "DOM lacks {needle}");
    }
    assert!(
        l.dom
            .contains("kvaudit: gate failed: 47 failing result(s) at or above low")
    );
    let rows = l.dom.matches("<tr class=\"fail\">").count()
        + l.dom.matches("<tr class=\"not_evaluable\">").count();
    assert_eq!(
        rows as u64,
        s["fail"].as_u64().unwrap() + s["notEvaluable"].as_u64().unwrap()
    );
    // One finding with its evidence and its fix, filled with real names.
    let row = l
        .dom
        .split("<tr class=\"fail\">")
        .find(|r| r.contains("kv-legacy-app") && r.contains("purge protection is off"))
        .expect("the purge-protection finding of kv-legacy-app");
    assert!(row.contains(
        "az keyvault update --name kv-legacy-app --resource-group rg-legacy-apps --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --enable-purge-protection true"
    ));
    assert!(row.contains("enablePurgeProtection"), "evidence: {row}");
    // A posture card per vault and the CIS column.
    assert_eq!(
        l.dom.matches("class=\"card\"").count(),
        10,
        "8 vaults and 2 subscriptions"
    );
    assert!(l.dom.contains("CIS v6.0 8.3.5"));

    // And it renders.
    let shot = dir.path().join("shot.png");
    let _ = load(
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
        ],
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        png.len() > 20_000,
        "a screenshot of a rendered page: {} bytes",
        png.len()
    );
}

#[test]
fn untrusted_names_cannot_inject_markup() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/inventory.json");
    let mut inv: Value = serde_json::from_str(&std::fs::read_to_string(demo).unwrap()).unwrap();
    // Not a valid secret name, but the inventory is untrusted: the failing
    // secret of kv-legacy-app gets it, so its finding shows it.
    let evil = "<img src=http://203.0.113.9/a>\u{1b}[31m";
    let vault = inv["vaults"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|v| v["vault"]["name"] == "kv-legacy-app")
        .unwrap();
    let secret = vault["secrets"]["value"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["name"] == "legacy-db-password")
        .unwrap();
    secret["name"] = Value::from(evil);
    let p = dir.path().join("inv.json");
    std::fs::write(&p, inv.to_string()).unwrap();
    let page = report(dir.path(), &[p.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("&lt;img src=http://203.0.113.9/a&gt;"),
        "the name is shown, escaped"
    );
    assert!(
        !html.contains("<img"),
        "markup from the inventory reached the page"
    );
    assert!(
        !html.contains('\u{1b}'),
        "an escape character reached the page"
    );
    let l = load(&page, &[]);
    assert!(l.requests.is_empty(), "{:?}", l.requests);
    assert!(l.console.is_empty(), "{:?}", l.console);
}

#[test]
fn a_2000_vault_report_stays_under_5_mb_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.json");
    std::fs::write(&inv, gen_inventory::generate(2000, 4, false).to_string()).unwrap();
    let page = report(dir.path(), &[inv.to_str().unwrap()]);
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 5_000_000, "{size} bytes");
    let html = std::fs::read_to_string(&page).unwrap();
    // What did not fit is said, not silently dropped.
    assert!(html.contains("are left out to keep this file small"));
    let l = load(&page, &[]);
    assert!(l.dom.contains("<footer"), "the whole document loaded");
    assert!(l.requests.is_empty() && l.console.is_empty());
    assert_eq!(l.dom.matches("class=\"card\"").count(), 2004);
}

//! Loads a page in Debian's chromium (installed by scripts/test.sh),
//! headless, with every host unresolvable and the net log on, and returns
//! its DOM, its console lines and the requests the page itself made.
use std::path::Path;
use std::process::Command as Process;

use serde_json::Value;

fn chromium() -> String {
    std::env::var("KVAUDIT_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

pub struct Load {
    pub dom: String,
    /// Console lines chromium logged (CSP violations, errors, messages).
    pub console: Vec<String>,
    /// URLs the page itself requested (not chromium's own background traffic).
    pub requests: Vec<String>,
}

/// Loads `page` headless and returns its DOM, console lines and requests.
pub fn load(page: &Path, extra: &[&str]) -> Load {
    let dir = tempfile::tempdir().unwrap();
    let netlog = dir.path().join("net.json");
    let out = Process::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            // Any host the page names resolves nowhere: a request fails fast
            // but is still in the net log.
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--log-net-log={}", netlog.display()))
        .args(extra)
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): scripts/test.sh installs Debian's chromium",
                chromium()
            )
        });
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&netlog).unwrap()).unwrap();
    let mut requests: Vec<String> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let p = &e["params"];
            let url = p["url"].as_str()?;
            // The page's own requests carry its (file://) isolation key.
            let key = p["network_isolation_key"].as_str()?;
            (key.contains("file://") && !url.starts_with("file:")).then(|| url.to_string())
        })
        .collect();
    requests.sort();
    requests.dedup();
    Load {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console,
        requests,
    }
}

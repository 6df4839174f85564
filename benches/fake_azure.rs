//! Runs the tests' fake Azure as a server, for benchmarks and manual tries:
//!
//!     cargo run --release --example fake-azure -- --tenant INVENTORY.json \
//!         [--tables CUSTOMER_ID=TABLES.json]... [--empty-workspaces] [--latency-ms 20]
//!         [--bucket 250,25] [--page-size 100] [--canned-query RESPONSE.json]
//!
//! It prints its URL, then serves until killed. Point kvaudit at it with
//! `--auth cli --arm-endpoint URL --log-analytics-endpoint URL` and the fake
//! `az` of tests/support/bin first on PATH.
#[path = "../tests/support/fake_azure.rs"]
mod fake_azure;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use fake_azure::{Faults, Tenant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut tenant = None;
    let mut tables = HashMap::new();
    let mut faults = Faults::default();
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--tenant" => tenant = Some(PathBuf::from(v)),
            "--tables" => {
                let (id, file) = v.split_once('=').expect("--tables CUSTOMER_ID=FILE");
                tables.insert(id.to_lowercase(), PathBuf::from(file));
            }
            "--latency-ms" => {
                faults.latency = Duration::from_millis(v.parse().expect("--latency-ms N"))
            }
            "--page-size" => faults.page_size = v.parse().expect("--page-size N"),
            "--canned-query" => faults.canned_query = Some(PathBuf::from(v)),
            "--empty-workspaces" => {
                faults.empty_workspaces = true;
                i += 1;
                continue;
            }
            "--bucket" => {
                let (size, refill) = v.split_once(',').expect("--bucket SIZE,REFILL");
                faults.bucket = Some((size.parse().unwrap(), refill.parse().unwrap()));
            }
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    let tenant = Tenant::load(&tenant.expect("--tenant INVENTORY.json"), tables);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (addr, counters) = fake_azure::serve(tenant, faults).await;
        println!("http://{addr}");
        tokio::signal::ctrl_c().await.ok();
        eprintln!(
            "fake-azure: {} requests, {} throttled, {} queries",
            counters.requests.load(std::sync::atomic::Ordering::SeqCst),
            counters.throttled.load(std::sync::atomic::Ordering::SeqCst),
            counters.queries.load(std::sync::atomic::Ordering::SeqCst)
        );
    });
}

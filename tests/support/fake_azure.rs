//! A fake Azure for tests and benchmarks: ARM and the Log Analytics query
//! API on one loopback port, speaking the real REST shapes. The tenant comes
//! from an inventory-format file (its `auditLogs` are ignored); each
//! workspace's audit rows come from a tables file, and queries are executed
//! for real by duckdb-kql (tests/kql/engine.py).
//!
//! Faults: 429 with Retry-After, transient 503s, a persistent 403 on chosen
//! paths, per-audience token checks, added latency, an emulated ARM
//! token bucket per subscription, and [`Override`]s: a fixed answer (wrong
//! shapes, redirects, bad headers, echoed tokens), a delay, or the usual
//! answer rewritten (control characters, paging loops, malformed rows).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const ARM_TOKEN: &str = "fake-arm-token";
pub const LA_TOKEN: &str = "fake-la-token";
pub const METRICS_TOKEN: &str = "fake-metrics-token";
pub const VAULT_TOKEN: &str = "fake-vault-token";

/// Knobs for one fake.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The first N ARM requests answer 429 with `Retry-After: 1`.
    pub throttle_first: u64,
    /// Every Nth request (by count) answers 503 once.
    pub transient_every: u64,
    /// Path fragments (lower case) answered with a persistent 403.
    pub forbidden: Vec<String>,
    /// Added to every request.
    pub latency: Duration,
    /// Emulate ARM's per-subscription read bucket: (size, refill per second).
    pub bucket: Option<(f64, f64)>,
    /// Vaults per page in vault lists.
    pub page_size: usize,
    /// Workspace query answers with PartialError (customerId).
    pub partial: Vec<String>,
    /// Workspaces without a tables file hold no Key Vault rows (instead of 404).
    pub empty_workspaces: bool,
    /// Answer every query with this response file, without running an engine
    /// (to time kvaudit alone on a large answer).
    pub canned_query: Option<PathBuf>,
    /// Answers replaced for requests whose path contains a fragment (the
    /// first override that matches and has uses left applies).
    pub overrides: Vec<Override>,
}

/// One injected fault.
#[derive(Clone)]
pub struct Override {
    /// Lower-case fragment of the request path.
    pub path: String,
    pub answer: Answer,
    /// How many requests it applies to; 0 = every one.
    pub times: u64,
}

impl Override {
    pub fn new(path: &str, answer: Answer) -> Override {
        Override {
            path: path.to_lowercase(),
            answer,
            times: 0,
        }
    }

    pub fn times(mut self, n: u64) -> Override {
        self.times = n;
        self
    }
}

impl std::fmt::Debug for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Override({:?}, {} times)", self.path, self.times)
    }
}

/// Rewrites a JSON answer, given the request's URL.
pub type Rewriter = Arc<dyn Fn(Value, &str) -> Value + Send + Sync>;

/// What an override answers.
#[derive(Clone)]
pub enum Answer {
    /// Status, headers and body, verbatim.
    Fixed(u16, Vec<(&'static str, String)>, String),
    /// The usual answer, after a wait.
    Delay(Duration),
    /// The usual answer with its JSON body rewritten (given the request's URL).
    Rewrite(Rewriter),
}

impl Answer {
    pub fn json(status: u16, body: Value) -> Answer {
        Answer::Fixed(status, vec![], body.to_string())
    }

    pub fn rewrite(f: impl Fn(Value, &str) -> Value + Send + Sync + 'static) -> Answer {
        Answer::Rewrite(Arc::new(f))
    }
}

pub struct Tenant {
    pub subscriptions: Vec<Value>,
    /// subscription id → its inventory entry
    pub subscription_entries: BTreeMap<String, Value>,
    pub vaults: Vec<Value>,
    pub workspaces: Vec<Value>,
    pub categories: Value,
    /// customerId → tables file
    pub tables: HashMap<String, PathBuf>,
}

impl Tenant {
    /// From an inventory-format file and `customerId → tables file`.
    pub fn load(inventory: &Path, tables: HashMap<String, PathBuf>) -> Tenant {
        let inv: Value =
            serde_json::from_str(&std::fs::read_to_string(inventory).unwrap()).unwrap();
        let subs = inv["subscriptions"].as_array().cloned().unwrap_or_default();
        Tenant {
            subscriptions: subs.iter().map(|s| s["subscription"].clone()).collect(),
            subscription_entries: subs
                .iter()
                .map(|s| {
                    (
                        s["subscription"]["subscriptionId"]
                            .as_str()
                            .unwrap()
                            .to_lowercase(),
                        s.clone(),
                    )
                })
                .collect(),
            vaults: inv["vaults"].as_array().cloned().unwrap_or_default(),
            workspaces: inv["workspaces"].as_array().cloned().unwrap_or_default(),
            categories: inv["diagnosticCategories"]["microsoft.keyvault/vaults"].clone(),
            tables,
        }
    }
}

#[derive(Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub queries: AtomicU64,
    pub by_kind: Mutex<BTreeMap<String, u64>>,
    /// Query texts received.
    pub query_texts: Mutex<Vec<String>>,
}

struct Shared {
    tenant: Tenant,
    /// Each vault's position in `tenant.vaults` by lower-case id, so that a
    /// request costs the same at 20 vaults as at 20,000.
    vault_index: HashMap<String, usize>,
    faults: Faults,
    /// Uses of each override so far.
    override_uses: Vec<AtomicU64>,
    counters: Arc<Counters>,
    base: String,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    python: PathBuf,
    engine: PathBuf,
}

pub struct FakeAzure {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    _runtime: Option<tokio::runtime::Runtime>,
}

impl FakeAzure {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts the fake on 127.0.0.1 on a runtime of its own.
    pub fn start(tenant: Tenant, faults: Faults) -> FakeAzure {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (addr, counters) = rt.block_on(serve(tenant, faults));
        FakeAzure {
            addr,
            counters,
            _runtime: Some(rt),
        }
    }
}

/// The python with duckdb-kql, and the engine script.
pub fn kql_engine() -> (PathBuf, PathBuf) {
    let tools = std::env::var("KVAUDIT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/kvaudit-tools")
        });
    let python = tools.join("venv/bin/python");
    assert!(
        python.exists(),
        "{} missing: run scripts/kql-tools.sh (scripts/test.sh does)",
        python.display()
    );
    (
        python,
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/kql/engine.py"),
    )
}

pub async fn serve(tenant: Tenant, faults: Faults) -> (SocketAddr, Arc<Counters>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counters = Arc::new(Counters::default());
    let (python, engine) = kql_engine();
    let vault_index = tenant
        .vaults
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((v["vault"]["id"].as_str()?.to_lowercase(), i)))
        .collect();
    let shared = Arc::new(Shared {
        vault_index,
        tenant,
        override_uses: faults.overrides.iter().map(|_| AtomicU64::new(0)).collect(),
        faults,
        counters: counters.clone(),
        base: format!("http://{addr}"),
        buckets: Mutex::new(HashMap::new()),
        python,
        engine,
    });
    let app = axum::Router::new().fallback(handle).with_state(shared);
    tokio::spawn(async move {
        // No Nagle delay: a response written in two parts (head, body) must
        // not wait for the client's delayed ACK, which would add latency that
        // is the fake's, not Azure's.
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app).await.unwrap();
    });
    (addr, counters)
}

fn arm_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"error": {"code": code, "message": message}}).to_string(),
    )
        .into_response()
}

fn flat_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"code": code, "message": message}).to_string(),
    )
        .into_response()
}

fn ok_json(v: Value, remaining: Option<u64>) -> Response {
    let mut r = (
        StatusCode::OK,
        [("content-type", "application/json")],
        v.to_string(),
    )
        .into_response();
    if let Some(n) = remaining {
        r.headers_mut().insert(
            "x-ms-ratelimit-remaining-subscription-reads",
            n.to_string().parse().unwrap(),
        );
    }
    r
}

fn subscription_of(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("subscriptions"))
        .and_then(|i| parts.get(i + 1))
        .map(|s| s.to_lowercase())
}

async fn handle(
    State(s): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = s.counters.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if !s.faults.latency.is_zero() {
        // tokio's timer rounds up to its next millisecond tick and the
        // runtime wakes late under load (measured: 22.2 ms per request for
        // 20 ms asked, one request at a time); a blocking-pool thread's
        // sleep is accurate to tens of microseconds, so the fake adds what
        // it is asked to.
        let latency = s.faults.latency;
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(latency)).await;
    }
    let path = uri.path().to_string();
    let lower = path.to_lowercase();
    let query: HashMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let is_la = lower.starts_with("/v1/");
    // metrics:getBatch is Azure Monitor's data plane, not ARM: its own
    // audience, and no draw on ARM's read bucket.
    let is_metrics = lower.ends_with("/metrics:getbatch");
    // The Key Vault data plane, emulated at /dataplane/{vault}/ (`--data-plane`).
    let is_vault = lower.starts_with("/dataplane/");
    // Tokens per audience.
    let want = if is_la {
        LA_TOKEN
    } else if is_metrics {
        METRICS_TOKEN
    } else if is_vault {
        VAULT_TOKEN
    } else {
        ARM_TOKEN
    };
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(v) if v == format!("Bearer {want}") => {}
        Some(v) if v.starts_with("Bearer ") => {
            return arm_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationTokenAudience",
                "The access token has been obtained for wrong audience or resource.",
            );
        }
        _ => {
            return arm_error(
                StatusCode::UNAUTHORIZED,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
            );
        }
    }
    let mut rewrite = None;
    for (i, o) in s.faults.overrides.iter().enumerate() {
        if !lower.contains(&o.path) {
            continue;
        }
        let used = s.override_uses[i].fetch_add(1, Ordering::SeqCst);
        if o.times != 0 && used >= o.times {
            continue;
        }
        match &o.answer {
            Answer::Fixed(status, headers, body) => {
                let mut r = (
                    StatusCode::from_u16(*status).unwrap(),
                    [("content-type", "application/json")],
                    body.clone(),
                )
                    .into_response();
                for (k, v) in headers {
                    r.headers_mut().insert(*k, v.parse().unwrap());
                }
                return r;
            }
            Answer::Delay(d) => tokio::time::sleep(*d).await,
            Answer::Rewrite(f) => rewrite = Some(f.clone()),
        }
        break;
    }
    if let Some(f) = rewrite {
        let r = Box::pin(answer(&s, n, &method, &path, &lower, &query, &body)).await;
        let (parts, b) = r.into_parts();
        let bytes = axum::body::to_bytes(b, usize::MAX).await.unwrap();
        let new = match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => f(v, &format!("{}{uri}", s.base)).to_string(),
            Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
        };
        let mut r = Response::from_parts(parts, axum::body::Body::from(new));
        r.headers_mut().remove("content-length");
        return r;
    }
    answer(&s, n, &method, &path, &lower, &query, &body).await
}

/// The usual answer, with the knobs' faults.
async fn answer(
    s: &Shared,
    n: u64,
    method: &Method,
    path: &str,
    lower: &str,
    query: &HashMap<String, String>,
    body: &Bytes,
) -> Response {
    let is_la = lower.starts_with("/v1/");
    let is_metrics = lower.ends_with("/metrics:getbatch");
    if !is_la && !query.contains_key("api-version") {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    }
    // Faults.
    if !is_la && n <= s.faults.throttle_first {
        s.counters.throttled.fetch_add(1, Ordering::SeqCst);
        let mut r = arm_error(
            StatusCode::TOO_MANY_REQUESTS,
            "SubscriptionRequestsThrottled",
            "Number of 'read' requests for subscription exceeded. Please try again after '1' seconds.",
        );
        r.headers_mut().insert("retry-after", "1".parse().unwrap());
        return r;
    }
    if s.faults.transient_every > 0 && n % s.faults.transient_every == 0 {
        return arm_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is temporarily unavailable.",
        );
    }
    if s.faults
        .forbidden
        .iter()
        .any(|f| lower.contains(f.as_str()))
    {
        return if lower.contains("/diagnosticsettings") {
            flat_error(
                StatusCode::FORBIDDEN,
                "AuthorizationFailed",
                "The client does not have authorization to perform action 'microsoft.insights/diagnosticSettings/read' over scope; if access was recently granted, please refresh your credentials.",
            )
        } else {
            arm_error(
                StatusCode::FORBIDDEN,
                "InsufficientAccessError",
                "The provided credentials have insufficient access to perform the requested operation",
            )
        };
    }
    let mut remaining = None;
    if let (false, Some((size, refill)), Some(sub)) =
        (is_la || is_metrics, s.faults.bucket, subscription_of(path))
    {
        let mut buckets = s.buckets.lock().unwrap();
        let now = Instant::now();
        let (tokens, at) = buckets.entry(sub).or_insert((size, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * refill).min(size);
        *at = now;
        if *tokens < 1.0 {
            s.counters.throttled.fetch_add(1, Ordering::SeqCst);
            let wait = ((1.0 - *tokens) / refill).ceil().max(1.0);
            let mut r = arm_error(
                StatusCode::TOO_MANY_REQUESTS,
                "SubscriptionRequestsThrottled",
                "Number of 'read' requests for subscription exceeded.",
            );
            r.headers_mut()
                .insert("retry-after", format!("{wait}").parse().unwrap());
            return r;
        }
        *tokens -= 1.0;
        remaining = Some(tokens.floor() as u64);
    }
    route(s, method, lower, query, body, remaining).await
}

fn count(s: &Shared, kind: &str) {
    *s.counters
        .by_kind
        .lock()
        .unwrap()
        .entry(kind.to_string())
        .or_default() += 1;
}

async fn route(
    s: &Shared,
    method: &Method,
    lower: &str,
    query: &HashMap<String, String>,
    body: &Bytes,
    remaining: Option<u64>,
) -> Response {
    let parts: Vec<&str> = lower.trim_matches('/').split('/').collect();
    // Log Analytics.
    if let ["v1", "workspaces", guid, "query"] = parts.as_slice() {
        count(s, "query");
        if method != Method::POST {
            return arm_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "use POST",
            );
        }
        return run_query(s, guid, body).await;
    }
    // GET {vaultUri}/keys/{name}/rotationpolicy: the key's policy, or for a
    // key without one the data plane's empty policy (no lifetime actions).
    if let ["dataplane", vault, "keys", key, "rotationpolicy"] = parts.as_slice() {
        count(s, "dataplane-rotationpolicy");
        let found = s.tenant.vaults.iter().find(|v| {
            v["vault"]["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(vault))
        });
        let k = found.and_then(|v| {
            v["keys"]["value"].as_array().and_then(|ks| {
                ks.iter()
                    .find(|k| {
                        k["name"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(key))
                    })
                    .cloned()
            })
        });
        return match k {
            Some(k) => {
                let id = format!("https://{vault}.vault.azure.net/keys/{key}/rotationpolicy");
                let mut policy = k["properties"]["rotationPolicy"].clone();
                if !policy.is_object() {
                    policy = json!({"lifetimeActions": [], "attributes": {}});
                }
                policy["id"] = json!(id);
                ok_json(policy, None)
            }
            None => arm_error(
                StatusCode::NOT_FOUND,
                "KeyNotFound",
                "A key with (name/id) was not found in this key vault.",
            ),
        };
    }
    if let ["subscriptions", sub, "metrics:getbatch"] = parts.as_slice() {
        count(s, "metrics-batch");
        return metrics_batch(s, method, sub, query, body);
    }
    if method != Method::GET {
        return arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "read-only fake",
        );
    }
    let list = |kind: &str, items: Vec<Value>| -> Response {
        count(s, kind);
        ok_json(json!({"value": items}), remaining)
    };
    match parts.as_slice() {
        ["subscriptions"] => list("subscriptions", s.tenant.subscriptions.clone()),
        ["subscriptions", sub] => {
            count(s, "subscription");
            match s.tenant.subscriptions.iter().find(|x| {
                x["subscriptionId"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(sub)
            }) {
                Some(x) => ok_json(x.clone(), remaining),
                None => arm_error(
                    StatusCode::NOT_FOUND,
                    "SubscriptionNotFound",
                    &format!("The subscription '{sub}' could not be found."),
                ),
            }
        }
        [
            "subscriptions",
            sub,
            "providers",
            "microsoft.keyvault",
            "vaults",
        ] => vault_page(s, sub, None, query, remaining),
        [
            "subscriptions",
            sub,
            "resourcegroups",
            rg,
            "providers",
            "microsoft.keyvault",
            "vaults",
        ] => vault_page(s, sub, Some(rg), query, remaining),
        [
            "subscriptions",
            sub,
            "providers",
            "microsoft.insights",
            what,
        ] => {
            let key = match *what {
                "activitylogalerts" => "activityLogAlerts",
                "actiongroups" => "actionGroups",
                "scheduledqueryrules" => "scheduledQueryRules",
                _ => return arm_error(StatusCode::NOT_FOUND, "NotFound", "no such provider path"),
            };
            count(s, key);
            let entry = s
                .tenant
                .subscription_entries
                .get(*sub)
                .map(|e| e[key].clone())
                .unwrap_or(Value::Null);
            match entry["status"].as_str() {
                Some("ok") => ok_json(json!({"value": entry["value"]}), remaining),
                Some("error") => arm_error(
                    StatusCode::FORBIDDEN,
                    entry["error"]["code"]
                        .as_str()
                        .unwrap_or("AuthorizationFailed"),
                    entry["error"]["message"].as_str().unwrap_or(""),
                ),
                _ => ok_json(json!({"value": []}), remaining),
            }
        }
        _ if lower.ends_with("/providers/microsoft.insights/diagnosticsettings") => {
            count(s, "diagnosticSettings");
            let vault_id =
                &lower[..lower.len() - "/providers/microsoft.insights/diagnosticsettings".len()];
            match find_vault(s, vault_id) {
                Some(v) => match v["diagnosticSettings"]["status"].as_str() {
                    Some("ok") => ok_json(
                        json!({"value": v["diagnosticSettings"]["value"]}),
                        remaining,
                    ),
                    _ => flat_error(
                        StatusCode::FORBIDDEN,
                        "AuthorizationFailed",
                        "The client does not have authorization to perform action 'microsoft.insights/diagnosticSettings/read'.",
                    ),
                },
                None => flat_error(
                    StatusCode::NOT_FOUND,
                    "ResourceNotFound",
                    "The Resource was not found.",
                ),
            }
        }
        [
            "subscriptions",
            sub,
            "providers",
            "microsoft.security",
            "pricings",
            name,
        ] => {
            count(s, "pricings");
            let entry = s
                .tenant
                .subscription_entries
                .get(*sub)
                .map(|e| e["pricings"].clone())
                .unwrap_or(Value::Null);
            match entry["status"].as_str() {
                Some("ok") => match entry["value"].as_array().and_then(|a| {
                    a.iter().find(|p| {
                        p["name"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })
                }) {
                    Some(p) => ok_json(p.clone(), remaining),
                    None => arm_error(StatusCode::NOT_FOUND, "PricingNotFound", "no such plan"),
                },
                Some("error") => arm_error(
                    StatusCode::FORBIDDEN,
                    entry["error"]["code"]
                        .as_str()
                        .unwrap_or("AuthorizationFailed"),
                    entry["error"]["message"].as_str().unwrap_or(""),
                ),
                // A plan never enabled reads as Free, as in Azure.
                _ => ok_json(
                    json!({"id": format!("/subscriptions/{sub}/providers/Microsoft.Security/pricings/KeyVaults"),
                           "name": "KeyVaults", "type": "Microsoft.Security/pricings",
                           "properties": {"pricingTier": "Free", "freeTrialRemainingTime": "PT0S"}}),
                    remaining,
                ),
            }
        }
        _ if lower.ends_with("/providers/microsoft.insights/metrics") => {
            count(s, "metrics");
            let vault_id = &lower[..lower.len() - "/providers/microsoft.insights/metrics".len()];
            if query.get("metricnames").map(String::as_str) != Some("ServiceApiHit") {
                return flat_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "Failed to find metric configuration for provider: Microsoft.KeyVault, resource Type: vaults",
                );
            }
            match find_vault(s, vault_id).map(|v| v["apiHits"].clone()) {
                Some(h) if h["status"] == "ok" => ok_json(h["value"].clone(), remaining),
                Some(h) if h["status"] == "error" => arm_error(
                    StatusCode::FORBIDDEN,
                    "AuthorizationFailed",
                    "The client does not have authorization to perform action 'microsoft.insights/metrics/read'.",
                ),
                Some(_) => ok_json(
                    json!({"cost": 0, "timespan": query.get("timespan"), "interval": "P1D", "value": [{
                        "id": format!("{vault_id}/providers/Microsoft.Insights/metrics/ServiceApiHit"), "type": "Microsoft.Insights/metrics",
                        "name": {"value": "ServiceApiHit", "localizedValue": "Total Service Api Hits"}, "unit": "Count",
                        "timeseries": [{"metadatavalues": [], "data": []}], "errorCode": "Success"}]}),
                    remaining,
                ),
                None => arm_error(
                    StatusCode::NOT_FOUND,
                    "ResourceNotFound",
                    "The Resource was not found.",
                ),
            }
        }
        _ if parts.len() == 9
            && parts[6] == "vaults"
            && (parts[8] == "keys" || parts[8] == "secrets") =>
        {
            let what = if parts[8] == "keys" {
                "keys"
            } else {
                "secrets"
            };
            count(s, what);
            let vault_id = format!("/{}", parts[..8].join("/"));
            match find_vault(s, &vault_id).map(|v| v[what].clone()) {
                Some(c) if c["status"] == "error" => arm_error(
                    StatusCode::FORBIDDEN,
                    c["error"]["code"].as_str().unwrap_or("AuthorizationFailed"),
                    c["error"]["message"].as_str().unwrap_or(""),
                ),
                Some(c) => {
                    // Like ARM's list: keys carry no rotationPolicy (only
                    // Keys_Get does); pages of 2, to make kvaudit follow nextLink.
                    let mut items: Vec<Value> = c["value"].as_array().cloned().unwrap_or_default();
                    for i in &mut items {
                        if let Some(p) = i["properties"].as_object_mut() {
                            p.remove("rotationPolicy");
                        }
                    }
                    let skip: usize = query
                        .get("$skiptoken")
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0);
                    // Pages of 2 for small lists (so every test follows a
                    // nextLink), of 25 (ARM's maximum for these lists) for
                    // large ones, as the real-limits tenant has.
                    let size = if items.len() > 50 { 25 } else { 2 };
                    let page: Vec<Value> = items.iter().skip(skip).take(size).cloned().collect();
                    let mut body = json!({"value": page});
                    if skip + size < items.len() {
                        body["nextLink"] = json!(format!(
                            "{}{vault_id}/{what}?api-version=2026-02-01&$skiptoken={}",
                            s.base,
                            skip + size
                        ));
                    }
                    ok_json(body, remaining)
                }
                None => arm_error(
                    StatusCode::NOT_FOUND,
                    "ResourceNotFound",
                    "The Resource was not found.",
                ),
            }
        }
        _ if parts.len() == 10 && parts[6] == "vaults" && parts[8] == "keys" => {
            count(s, "key");
            let vault_id = format!("/{}", parts[..8].join("/"));
            let key = find_vault(s, &vault_id).and_then(|v| {
                v["keys"]["value"].as_array().and_then(|ks| {
                    ks.iter()
                        .find(|k| {
                            k["name"]
                                .as_str()
                                .is_some_and(|n| n.eq_ignore_ascii_case(parts[9]))
                        })
                        .cloned()
                })
            });
            match key {
                Some(k) => ok_json(k, remaining),
                None => arm_error(
                    StatusCode::NOT_FOUND,
                    "KeyNotFound",
                    "The key was not found.",
                ),
            }
        }
        _ if lower.ends_with("/providers/microsoft.insights/diagnosticsettingscategories") => {
            count(s, "diagnosticSettingsCategories");
            ok_json(json!({"value": s.tenant.categories}), remaining)
        }
        _ if lower.contains("/providers/microsoft.operationalinsights/workspaces/") => {
            count(s, "workspace");
            match s
                .tenant
                .workspaces
                .iter()
                .find(|w| w["id"].as_str().unwrap().to_lowercase() == lower)
            {
                Some(w) => ok_json(w.clone(), remaining),
                None => arm_error(
                    StatusCode::NOT_FOUND,
                    "ResourceNotFound",
                    "The Resource 'Microsoft.OperationalInsights/workspaces' was not found.",
                ),
            }
        }
        _ => arm_error(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            &format!("no route for {lower}"),
        ),
    }
}

/// The tenant's vault entry with this (lower-case) id.
/// `POST /subscriptions/{s}/metrics:getBatch` (2023-10-01): at most 50
/// resource ids, all of the path's subscription; one the identity may not
/// read fails the whole call with 403, as Azure Monitor does.
fn metrics_batch(
    s: &Shared,
    method: &Method,
    sub: &str,
    query: &HashMap<String, String>,
    body: &Bytes,
) -> Response {
    if method != Method::POST {
        return arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "use POST",
        );
    }
    if query.get("metricnames").map(String::as_str) != Some("ServiceApiHit")
        || query
            .get("metricnamespace")
            .map(|n| n.to_lowercase())
            .as_deref()
            != Some("microsoft.keyvault/vaults")
        || !query.contains_key("starttime")
        || !query.contains_key("endtime")
    {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "metricnamespace, metricnames, starttime and endtime are required",
        );
    }
    let ids: Vec<String> = match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v["resourceids"].as_array() {
            Some(a) => a
                .iter()
                .filter_map(|x| x.as_str())
                .map(str::to_lowercase)
                .collect(),
            None => {
                return arm_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "resourceids is required",
                );
            }
        },
        Err(_) => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "the body is not JSON",
            );
        }
    };
    if ids.is_empty() || ids.len() > 50 {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "resourceids must hold 1 to 50 resource ids",
        );
    }
    let mut values = vec![];
    for id in &ids {
        if subscription_of(id).as_deref() != Some(sub) {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "all resource ids must be in the subscription of the path",
            );
        }
        let Some(v) = find_vault(s, id) else {
            return arm_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                "The Resource was not found.",
            );
        };
        let hits = &v["apiHits"];
        let metrics = match hits["status"].as_str() {
            Some("ok") => hits["value"]["value"].clone(),
            Some("error") => {
                return arm_error(
                    StatusCode::FORBIDDEN,
                    "AuthorizationFailed",
                    "The client does not have authorization to perform action 'microsoft.insights/metrics/read'.",
                );
            }
            _ => json!([{
                "id": format!("{id}/providers/Microsoft.Insights/metrics/ServiceApiHit"), "type": "Microsoft.Insights/metrics",
                "name": {"value": "ServiceApiHit", "localizedValue": "Total Service Api Hits"}, "unit": "Count",
                "timeseries": [{"metadatavalues": [], "data": []}], "errorCode": "Success"}]),
        };
        values.push(json!({
            "starttime": query["starttime"], "endtime": query["endtime"], "interval": "P1D",
            "namespace": "microsoft.keyvault/vaults", "resourceregion": v["vault"]["location"],
            "resourceid": v["vault"]["id"], "value": metrics
        }));
    }
    ok_json(json!({"values": values}), None)
}

fn find_vault<'a>(s: &'a Shared, id: &str) -> Option<&'a Value> {
    s.vault_index.get(id).map(|&i| &s.tenant.vaults[i])
}

fn vault_page(
    s: &Shared,
    sub: &str,
    rg: Option<&str>,
    query: &HashMap<String, String>,
    remaining: Option<u64>,
) -> Response {
    count(s, "vaults");
    let all: Vec<Value> = s
        .tenant
        .vaults
        .iter()
        .map(|v| v["vault"].clone())
        .filter(|v| {
            let id = v["id"].as_str().unwrap().to_lowercase();
            id.starts_with(&format!("/subscriptions/{sub}/"))
                && rg.is_none_or(|rg| id.contains(&format!("/resourcegroups/{rg}/")))
        })
        .collect();
    let size = if s.faults.page_size == 0 {
        1000
    } else {
        s.faults.page_size
    };
    let skip: usize = query
        .get("$skiptoken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = all.iter().skip(skip).take(size).cloned().collect();
    let mut body = json!({"value": page});
    if skip + size < all.len() {
        // Like ARM: an absolute link, api-version and $skiptoken in the query.
        let rg_part = rg
            .map(|r| format!("/resourceGroups/{r}"))
            .unwrap_or_default();
        body["nextLink"] = json!(format!(
            "{}/subscriptions/{sub}{rg_part}/providers/Microsoft.KeyVault/vaults?api-version=2026-02-01&$skiptoken={}",
            s.base,
            skip + size
        ));
    }
    ok_json(body, remaining)
}

async fn run_query(s: &Shared, guid: &str, body: &Bytes) -> Response {
    s.counters.queries.fetch_add(1, Ordering::SeqCst);
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "BadArgumentError",
                &format!("body is not JSON: {e}"),
            );
        }
    };
    let Some(query) = req["query"].as_str() else {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "BadArgumentError",
            "The request had some invalid properties",
        );
    };
    s.counters
        .query_texts
        .lock()
        .unwrap()
        .push(query.to_string());
    if let Some(file) = &s.faults.canned_query {
        return ok_json(
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap(),
            None,
        );
    }
    let Some(tables) = s.tenant.tables.get(guid) else {
        if s.faults.empty_workspaces {
            // A workspace that holds no Key Vault rows: an empty result.
            return ok_json(
                json!({"tables": [{"name": "PrimaryResult", "columns": [], "rows": []}]}),
                None,
            );
        }
        return arm_error(
            StatusCode::NOT_FOUND,
            "WorkspaceNotFoundError",
            &format!("Workspace {guid} not found"),
        );
    };
    let mut child = tokio::process::Command::new(&s.python)
        .arg(&s.engine)
        .arg("--tables")
        .arg(tables)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python starts");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(query.as_bytes()).await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).to_string();
        return arm_error(
            StatusCode::BAD_REQUEST,
            "SemanticError",
            &format!("the KQL engine rejected the query: {msg}"),
        );
    }
    let mut resp: Value = serde_json::from_slice(&out.stdout).expect("engine prints JSON");
    if s.faults
        .partial
        .iter()
        .any(|p| p.eq_ignore_ascii_case(guid))
    {
        resp["error"] = json!({"code": "PartialError", "message": "There were some errors when processing your query.", "details": [{"code": "EngineError", "message": "Query execution exceeded limits"}]});
    }
    ok_json(resp, None)
}

//! One HTTP client for Azure Resource Manager and the Log Analytics query
//! API: bearer tokens per audience, bounded concurrency, a timeout per
//! request, retries on 408/429/5xx honouring Retry-After (else jittered
//! exponential backoff), pacing against ARM's read bucket per subscription
//! ([`super::throttle`]), and `nextLink` paging.
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;
use tracing::{debug, info, warn};
use url::Url;

use super::cloud::{Endpoints, is_loopback};
use super::credentials::TokenCache;
use super::error::{AzureError, parse_error_body};
use super::throttle::ReadBucket;

/// Tunables of the client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Timeout of one ARM request.
    pub arm_timeout: Duration,
    /// Timeout of one Log Analytics query attempt.
    pub query_timeout: Duration,
    /// Time one Log Analytics query may take in all, its retries included.
    pub query_budget: Duration,
    /// Read keys' rotation policies from the vaults' own data plane too
    /// (`--data-plane`).
    pub data_plane: bool,
    /// When the whole run must end (`--timeout`): past it, every request
    /// fails at once with a message that says so, and what it was about is
    /// recorded as not read.
    pub deadline: Option<Instant>,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff step (doubled per attempt, with full jitter).
    pub backoff: Duration,
    /// The rate at which the client assumes ARM refills a subscription's read
    /// bucket (reads per second): requests that find it empty are spaced at
    /// this rate.
    pub refill_per_second: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            concurrency: 16,
            arm_timeout: Duration::from_secs(60),
            query_timeout: Duration::from_secs(240),
            query_budget: Duration::from_secs(300),
            deadline: None,
            data_plane: false,
            max_attempts: 6,
            backoff: Duration::from_millis(500),
            // ARM refills 25 reads per second; staying just under it leaves a
            // margin for clocks and for answers counted late.
            refill_per_second: 24,
        }
    }
}

/// What the client did, for logs and benchmarks.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
}

pub struct AzureClient {
    http: reqwest::Client,
    endpoints: Endpoints,
    tokens: Arc<TokenCache>,
    permits: Semaphore,
    buckets: Mutex<HashMap<String, ReadBucket>>,
    options: ClientOptions,
    pub stats: Stats,
}

/// A list response: `{"value": [...], "nextLink": ...}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    /// Required: an answer without `value` is not an empty list.
    value: Vec<T>,
    #[serde(default)]
    next_link: Option<String>,
}

/// The path of a URL, for messages (never the query string, which may carry tokens of paging).
fn path_of(url: &Url) -> String {
    url.path().to_string()
}

/// The subscription a request counts against, for pacing.
fn subscription_of(url: &Url) -> Option<String> {
    let mut segs = url.path_segments()?;
    while let Some(s) = segs.next() {
        if s.eq_ignore_ascii_case("subscriptions") {
            return segs.next().map(|s| s.to_ascii_lowercase());
        }
    }
    None
}

fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// `Retry-After` as seconds (ARM and Log Analytics send seconds), capped.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let secs: f64 = v.trim().parse().ok()?;
    // `NaN` or `inf` would panic in from_secs_f64: ignore the header then.
    if !secs.is_finite() {
        return None;
    }
    Some(Duration::from_secs_f64(secs.clamp(0.0, 120.0)))
}

impl AzureClient {
    pub fn new(
        endpoints: Endpoints,
        tokens: Arc<TokenCache>,
        options: ClientOptions,
    ) -> Result<AzureClient, AzureError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("kvaudit/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            // A redirect is never followed: it would take the request off the
            // configured endpoint (and its answer would be believed as Azure's).
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(options.concurrency.max(1))
            .build()
            .map_err(|e| AzureError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(AzureClient {
            http,
            endpoints,
            tokens,
            permits: Semaphore::new(options.concurrency.max(1)),
            buckets: Mutex::new(HashMap::new()),
            options,
            stats: Stats::default(),
        })
    }

    /// Whether `--data-plane` reads were asked for.
    pub fn data_plane(&self) -> bool {
        self.options.data_plane
    }

    /// How long one Log Analytics query may take, retries included.
    pub fn query_budget(&self) -> Duration {
        self.options.query_budget
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Gets the tokens (ARM, Log Analytics, and metrics when `metrics`) now:
    /// a credential problem stops the run before any request, with what to
    /// do, and a short-lived federated token cannot expire midway.
    pub async fn authenticate(&self, metrics: bool) -> Result<(), AzureError> {
        // The data plane's token (--data-plane) is not asked for here: a
        // refused one makes only those reads fail.
        self.tokens.token(&self.endpoints.arm_scope).await?;
        self.tokens
            .token(&self.endpoints.log_analytics_scope)
            .await?;
        if metrics {
            self.tokens.token(&self.endpoints.metrics_scope).await?;
        }
        Ok(())
    }

    /// `POST {metrics host}/subscriptions/{s}/metrics:getBatch?{query}` with
    /// `{"resourceids": [...]}` (at most 50, all in that subscription and
    /// region). Not an ARM call: it does not draw on ARM's read bucket.
    pub async fn metrics_batch(
        &self,
        region: &str,
        subscription: &str,
        query: &str,
        resource_ids: &[String],
    ) -> Result<Vec<u8>, AzureError> {
        let mut url = self.endpoints.metrics_batch_url(region, subscription)?;
        url.set_query(Some(query));
        let body = serde_json::json!({ "resourceids": resource_ids });
        self.send(Method::POST, url, Some(body), Audience::Metrics)
            .await
    }

    /// `GET` a Key Vault data-plane `path` of the vault `name` (`--data-plane`),
    /// with the data plane's own token; see [`Endpoints::vault_url`].
    pub async fn vault_get<T: DeserializeOwned>(
        &self,
        name: &str,
        vault_uri: &str,
        path: &str,
    ) -> Result<T, AzureError> {
        let url = self.endpoints.vault_url(name, vault_uri, path)?;
        let body = self
            .send(Method::GET, url.clone(), None, Audience::Vault)
            .await?;
        serde_json::from_slice(&body).map_err(|e| AzureError::decode(path_of(&url), e.to_string()))
    }

    /// `GET` an ARM path (relative to the ARM endpoint, with its query).
    pub async fn arm_get<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<T, AzureError> {
        let url = self.arm_url(path_and_query)?;
        let body = self
            .send(Method::GET, url.clone(), None, Audience::Arm)
            .await?;
        serde_json::from_slice(&body).map_err(|e| AzureError::decode(path_of(&url), e.to_string()))
    }

    /// `GET` an ARM list and follow `nextLink` until it is absent. A page
    /// without `value` is an error (not an empty list), and a `nextLink`
    /// that returns to a page already read is a loop, stopped at once.
    pub async fn arm_list<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<Vec<T>, AzureError> {
        let mut url = self.arm_url(path_and_query)?;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            if !seen.insert(url.as_str().to_string()) {
                return Err(AzureError::decode(
                    path_of(&url),
                    "nextLink returns to a page already read (a paging loop); the list is incomplete",
                ));
            }
            let body = self
                .send(Method::GET, url.clone(), None, Audience::Arm)
                .await?;
            let page: Page<T> = serde_json::from_slice(&body)
                .map_err(|e| AzureError::decode(path_of(&url), e.to_string()))?;
            out.extend(page.value);
            match page.next_link.filter(|l| !l.is_empty()) {
                None => return Ok(out),
                Some(next) => url = self.next_link(&url, &next)?,
            }
        }
        Err(AzureError::decode(
            path_of(&url),
            "more than 10,000 pages: nextLink never ends",
        ))
    }

    /// `POST /v1/workspaces/{id}/query`.
    pub async fn log_analytics_query(
        &self,
        workspace_guid: &str,
        query: &str,
        timespan: &str,
    ) -> Result<Vec<u8>, AzureError> {
        let url = self
            .endpoints
            .log_analytics
            .join(&format!("v1/workspaces/{workspace_guid}/query"))
            .map_err(|e| AzureError::Config(format!("bad workspace id {workspace_guid:?}: {e}")))?;
        let body = serde_json::json!({ "query": query, "timespan": timespan });
        self.send(Method::POST, url, Some(body), Audience::LogAnalytics)
            .await
    }

    fn arm_url(&self, path_and_query: &str) -> Result<Url, AzureError> {
        self.endpoints
            .arm
            .join(path_and_query.trim_start_matches('/'))
            .map_err(|e| AzureError::Config(format!("bad ARM path {path_and_query:?}: {e}")))
    }

    /// A `nextLink` is followed verbatim, but only to the ARM endpoint's own
    /// scheme, host and port: a token is never sent anywhere else.
    fn next_link(&self, current: &Url, next: &str) -> Result<Url, AzureError> {
        let url = current.join(next).map_err(|e| {
            AzureError::decode(path_of(current), format!("nextLink is not a URL: {e}"))
        })?;
        let arm = &self.endpoints.arm;
        if url.scheme() != arm.scheme()
            || url.host_str() != arm.host_str()
            || url.port_or_known_default() != arm.port_or_known_default()
        {
            return Err(AzureError::decode(
                path_of(current),
                format!(
                    "nextLink points to {}, not to the ARM endpoint {}; not following it",
                    url.origin().ascii_serialization(),
                    arm.origin().ascii_serialization()
                ),
            ));
        }
        Ok(url)
    }

    /// Waits, when the subscription's read bucket is empty, for the token
    /// this request takes.
    async fn pace(&self, url: &Url) {
        let Some(sub) = subscription_of(url) else {
            return;
        };
        let wait = {
            let mut buckets = self.buckets.lock().await;
            self.bucket(&mut buckets, sub).take(Instant::now())
        };
        if let Some(at) = wait {
            tokio::time::sleep_until(at).await;
        }
    }

    /// The read bucket of `sub`, created on its first request.
    fn bucket<'a>(
        &self,
        buckets: &'a mut HashMap<String, ReadBucket>,
        sub: String,
    ) -> &'a mut ReadBucket {
        buckets
            .entry(sub)
            .or_insert_with(|| ReadBucket::new(f64::from(self.options.refill_per_second.max(1))))
    }

    /// What an ARM answer says of its subscription's read bucket: the reads
    /// left, or (a 429) none.
    async fn record_remaining(
        &self,
        url: &Url,
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
    ) {
        let Some(sub) = subscription_of(url) else {
            return;
        };
        let remaining = headers
            .get("x-ms-ratelimit-remaining-subscription-reads")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok());
        let throttled = status == StatusCode::TOO_MANY_REQUESTS;
        if remaining.is_none() && !throttled {
            return;
        }
        let mut buckets = self.buckets.lock().await;
        let bucket = self.bucket(&mut buckets, sub);
        match remaining {
            Some(r) if !throttled => bucket.observe(r, Instant::now()),
            _ => bucket.refused(Instant::now()),
        }
    }

    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<serde_json::Value>,
        audience: Audience,
    ) -> Result<Vec<u8>, AzureError> {
        let (scope, timeout) = match audience {
            Audience::Arm => (&self.endpoints.arm_scope, self.options.arm_timeout),
            Audience::LogAnalytics => (
                &self.endpoints.log_analytics_scope,
                self.options.query_timeout,
            ),
            Audience::Metrics => (&self.endpoints.metrics_scope, self.options.arm_timeout),
            Audience::Vault => (&self.endpoints.vault_scope, self.options.arm_timeout),
        };
        if url.scheme() != "https" && !is_loopback(&url) {
            return Err(AzureError::Config(format!(
                "{}: refusing to send a bearer token over plain http",
                path_of(&url)
            )));
        }
        let path = path_of(&url);
        // The latest moment this request may still be waited for: the run's
        // --timeout, and for a Log Analytics query its own budget.
        let started = Instant::now();
        let deadline = match audience {
            Audience::LogAnalytics => Some(started + self.options.query_budget),
            _ => None,
        };
        let deadline = match (deadline, self.options.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let out_of_time = |last: Option<&AzureError>| {
            let why = if self.options.deadline.is_some_and(|d| Instant::now() >= d) {
                "the run's --timeout was reached".to_string()
            } else {
                format!(
                    "no complete answer within {} s (--query-timeout), retries included",
                    self.options.query_budget.as_secs()
                )
            };
            AzureError::Transport {
                path: path.clone(),
                message: match last {
                    Some(e) => format!("{why}; last attempt: {e}"),
                    None => why,
                },
            }
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            if audience == Audience::Arm {
                self.pace(&url).await;
            }
            let result = {
                let _permit = self.permits.acquire().await.expect("semaphore open");
                // Worked out once the request may go (after pacing and the
                // queue for a permit), so --timeout bounds it from now.
                let attempt_timeout = match deadline {
                    Some(d) => {
                        let left = d.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            return Err(out_of_time(None));
                        }
                        timeout.min(left)
                    }
                    None => timeout,
                };
                let token =
                    match tokio::time::timeout(attempt_timeout, self.tokens.token(scope)).await {
                        Ok(t) => t?,
                        Err(_) => return Err(out_of_time(None)),
                    };
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
                let mut req = self
                    .http
                    .request(method.clone(), url.clone())
                    .bearer_auth(&token)
                    .timeout(attempt_timeout);
                if let Some(b) = &body {
                    req = req.json(b);
                    if audience == Audience::LogAnalytics {
                        req = req.header(
                            "Prefer",
                            format!("wait={}", attempt_timeout.as_secs().clamp(1, 600)),
                        );
                    }
                }
                let exchange = async {
                    let resp = req.send().await?;
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let bytes = resp.bytes().await?;
                    Ok::<_, reqwest::Error>((status, headers, Vec::from(bytes)))
                };
                (
                    watched(&path, attempt_timeout, exchange).await,
                    attempt_timeout,
                )
            };
            let (result, attempt_timeout) = result;
            let (delay, error) = match result {
                Ok((status, headers, bytes)) => {
                    if audience == Audience::Arm {
                        self.record_remaining(&url, status, &headers).await;
                    }
                    if status.is_success() {
                        return Ok(bytes);
                    }
                    if status.is_redirection() {
                        return Err(self.redirect_error(&url, status, &headers));
                    }
                    let (code, message) = parse_error_body(&String::from_utf8_lossy(&bytes));
                    let error = AzureError::Api {
                        path: path.clone(),
                        status: status.as_u16(),
                        code,
                        message,
                    };
                    if !retryable(status) {
                        return Err(error);
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    }
                    (retry_after(&headers), error)
                }
                Err(e) => {
                    let message = if e.is_timeout() {
                        format!("no answer within {} s", attempt_timeout.as_secs())
                    } else {
                        // reqwest's message names the URL without credentials.
                        format!("request failed: {}", e.without_url())
                    };
                    (
                        None,
                        AzureError::Transport {
                            path: path.clone(),
                            message,
                        },
                    )
                }
            };
            if attempt >= self.options.max_attempts {
                warn!("{path}: giving up after {attempt} attempts: {error}");
                return Err(error);
            }
            let delay = delay.unwrap_or_else(|| {
                let cap = self
                    .options
                    .backoff
                    .saturating_mul(1 << (attempt - 1).min(6))
                    .min(Duration::from_secs(30));
                cap.mul_f64(fastrand::f64())
            });
            if let Some(d) = deadline
                && Instant::now() + delay >= d
            {
                warn!("{path}: giving up: {}", out_of_time(Some(&error)));
                return Err(out_of_time(Some(&error)));
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            if delay >= Duration::from_secs(1) {
                info!(
                    "{path}: waiting {} s before attempt {} of {} ({error})",
                    delay.as_secs(),
                    attempt + 1,
                    self.options.max_attempts
                );
            } else {
                debug!(
                    "{path}: attempt {attempt} failed ({error}); retrying in {} ms",
                    delay.as_millis()
                );
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// A 3xx answer: where it points (origin only) and why it is not followed.
    fn redirect_error(
        &self,
        url: &Url,
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
    ) -> AzureError {
        let target = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| url.join(l).ok())
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|| "nowhere".into());
        AzureError::Api {
            path: path_of(url),
            status: status.as_u16(),
            code: "UnexpectedRedirect".into(),
            message: format!(
                "the endpoint redirected to {target}; kvaudit does not follow redirects (an answer from elsewhere is not Azure's)"
            ),
        }
    }
}

/// Runs one HTTP exchange, saying at info level (`-v`) what is being waited
/// for when it takes more than 10 s, then every 30 s.
async fn watched<T>(
    path: &str,
    limit: Duration,
    exchange: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(exchange);
    let started = Instant::now();
    let mut next = Duration::from_secs(10);
    loop {
        tokio::select! {
            out = &mut exchange => return out,
            _ = tokio::time::sleep_until(started + next) => {
                info!(
                    "still waiting for {path}: {} s so far (gives up after {} s)",
                    next.as_secs(),
                    limit.as_secs()
                );
                next += Duration::from_secs(30);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    Arm,
    LogAnalytics,
    Metrics,
    Vault,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_is_read_from_any_arm_path() {
        let u = Url::parse("https://management.azure.com/subscriptions/ABC/resourceGroups/rg/providers/x?api-version=1").unwrap();
        assert_eq!(subscription_of(&u).as_deref(), Some("abc"));
        assert_eq!(
            subscription_of(
                &Url::parse("https://management.azure.com/subscriptions?api-version=1").unwrap()
            ),
            None
        );
    }

    #[test]
    fn retry_after_is_seconds_and_capped() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after", "9999".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
        for bad in ["NaN", "inf", "-inf", "soon"] {
            h.insert("retry-after", bad.parse().unwrap());
            assert_eq!(retry_after(&h), None, "{bad}");
        }
        assert!(retryable(StatusCode::TOO_MANY_REQUESTS) && retryable(StatusCode::BAD_GATEWAY));
        assert!(!retryable(StatusCode::FORBIDDEN) && !retryable(StatusCode::NOT_FOUND));
    }
}

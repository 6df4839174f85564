//! Azure Monitor platform metrics of the vaults: `ServiceApiHit` totals per
//! day over the audit-volume window, so `kv/logs-arriving` can tell "no
//! requests" from "requests but no logs".
//!
//! Read with the metrics batch API (`metrics:getBatch`): one call per 50
//! vaults of one subscription and region, on the region's metrics host, with
//! the metrics audience. It does not draw on ARM's per-subscription read
//! bucket, which a per-vault ARM read did (one read per vault). A batch
//! refused as a whole (one vault the identity may not read fails the call)
//! is split in halves until the unreadable vaults are alone, so the others
//! keep their metrics.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream::{self, StreamExt};
use serde::Deserialize;

use crate::azure::client::AzureClient;
use crate::azure::error::AzureError;
use crate::azure::models::{ErrorDetail, Metric, MetricsResponse, Vault};
use crate::inventory::Collected;

use super::METRICS_BATCH_API;

/// Resource ids per call: the API's maximum.
pub const BATCH_SIZE: usize = 50;

/// The answer of `metrics:getBatch`: one entry per resource id.
#[derive(Deserialize)]
struct BatchAnswer {
    values: Vec<BatchEntry>,
}

#[derive(Deserialize)]
struct BatchEntry {
    resourceid: String,
    #[serde(default)]
    starttime: Option<String>,
    #[serde(default)]
    endtime: Option<String>,
    #[serde(default)]
    interval: Option<String>,
    value: Vec<Metric>,
}

/// One call's worth: vaults of one subscription and region.
struct Batch {
    subscription: String,
    region: String,
    ids: Vec<String>,
}

/// `ServiceApiHit` of each vault, keyed by its lower-case id.
pub async fn api_hits(
    client: &AzureClient,
    vaults: &[&Vault],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> HashMap<String, Collected<MetricsResponse>> {
    let enc = |t: DateTime<Utc>| {
        url::form_urlencoded::byte_serialize(
            t.to_rfc3339_opts(SecondsFormat::Secs, true).as_bytes(),
        )
        .collect::<String>()
    };
    let query = format!(
        "api-version={METRICS_BATCH_API}&metricnamespace=Microsoft.KeyVault%2Fvaults&metricnames=ServiceApiHit&aggregation=count%2Ctotal&interval=P1D&starttime={}&endtime={}",
        enc(start),
        enc(end)
    );
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for v in vaults {
        let sub = crate::policy::input::subscription_of(&v.id);
        let region = v
            .location
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .replace(' ', "");
        groups.entry((sub, region)).or_default().push(v.id.clone());
    }
    let mut queue: Vec<Batch> = groups
        .into_iter()
        .flat_map(|((subscription, region), ids)| {
            ids.chunks(BATCH_SIZE)
                .map(|c| Batch {
                    subscription: subscription.clone(),
                    region: region.clone(),
                    ids: c.to_vec(),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let query = query.as_str();
    let mut out = HashMap::new();
    while !queue.is_empty() {
        let answers: Vec<(Batch, Result<Vec<u8>, AzureError>)> =
            stream::iter(queue.drain(..).map(|b| async move {
                let r = client
                    .metrics_batch(&b.region, &b.subscription, query, &b.ids)
                    .await;
                (b, r)
            }))
            .buffer_unordered(8)
            .collect()
            .await;
        for (batch, answer) in answers {
            match answer.and_then(|body| decode(&body, &batch)) {
                Ok(mut entries) => {
                    for id in &batch.ids {
                        let key = id.to_ascii_lowercase();
                        let got = match entries.remove(&key) {
                            Some(m) => checked(m),
                            None => Collected::Error {
                                error: ErrorDetail {
                                    code: "MissingFromBatch".into(),
                                    message: "the metrics batch answer has no entry for this vault"
                                        .into(),
                                    http_status: Some(200),
                                },
                            },
                        };
                        out.insert(key, got);
                    }
                }
                // One vault the identity cannot read fails the whole call:
                // halve the batch until the unreadable ones are alone.
                Err(AzureError::Api { status, .. })
                    if batch.ids.len() > 1 && matches!(status, 400 | 403 | 404) =>
                {
                    let half = batch.ids.len() / 2;
                    for part in [&batch.ids[..half], &batch.ids[half..]] {
                        queue.push(Batch {
                            subscription: batch.subscription.clone(),
                            region: batch.region.clone(),
                            ids: part.to_vec(),
                        });
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        "ServiceApiHit metrics of {} vault(s) in {} ({}): {e}",
                        batch.ids.len(),
                        batch.region,
                        batch.subscription
                    );
                    for id in &batch.ids {
                        out.insert(
                            id.to_ascii_lowercase(),
                            Collected::Error { error: e.detail() },
                        );
                    }
                }
            }
        }
    }
    out
}

/// The answer's entries by lower-case resource id, as the per-resource
/// metrics shape the inventory keeps. A body without `values` is an error.
fn decode(body: &[u8], batch: &Batch) -> Result<HashMap<String, MetricsResponse>, AzureError> {
    let answer: BatchAnswer = serde_json::from_slice(body).map_err(|e| {
        AzureError::decode(
            format!("/subscriptions/{}/metrics:getBatch", batch.subscription),
            e.to_string(),
        )
    })?;
    Ok(answer
        .values
        .into_iter()
        .map(|e| {
            let timespan = match (e.starttime, e.endtime) {
                (Some(s), Some(t)) => Some(format!("{s}/{t}")),
                _ => None,
            };
            (
                e.resourceid.to_ascii_lowercase(),
                MetricsResponse {
                    timespan,
                    interval: e.interval,
                    value: e.value,
                    extra: Default::default(),
                },
            )
        })
        .collect())
}

/// One metric can fail inside a 200 answer (`errorCode` other than Success).
fn checked(m: MetricsResponse) -> Collected<MetricsResponse> {
    match m.value.iter().find(|x| {
        x.error_code
            .as_deref()
            .is_some_and(|c| !c.eq_ignore_ascii_case("Success"))
    }) {
        Some(bad) => Collected::Error {
            error: ErrorDetail {
                code: bad.error_code.clone().unwrap_or_default(),
                message: bad
                    .error_message
                    .clone()
                    .unwrap_or_else(|| format!("metric {} failed", bad.name.value)),
                http_status: Some(200),
            },
        },
        None => Collected::Ok { value: m },
    }
}

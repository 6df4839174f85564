//! Azure Monitor platform metrics of a vault: `ServiceApiHit` totals per day
//! over the audit-volume window, so `kv/logs-arriving` can tell "no requests"
//! from "requests but no logs".
use crate::azure::client::AzureClient;
use crate::azure::models::MetricsResponse;
use crate::inventory::Collected;
use chrono::{DateTime, SecondsFormat, Utc};

use super::{METRICS_API, recorded};

pub async fn api_hits(
    client: &AzureClient,
    vault_id: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Collected<MetricsResponse> {
    let timespan = format!(
        "{}/{}",
        start.to_rfc3339_opts(SecondsFormat::Secs, true),
        end.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let path = format!(
        "{}/providers/Microsoft.Insights/metrics?api-version={METRICS_API}&metricnames=ServiceApiHit&aggregation=Count,Total&interval=P1D&timespan={}",
        vault_id.trim_start_matches('/'),
        url::form_urlencoded::byte_serialize(timespan.as_bytes()).collect::<String>()
    );
    match recorded(
        client.arm_get::<MetricsResponse>(&path).await,
        format_args!("ServiceApiHit metrics of {vault_id}"),
    ) {
        // One metric can fail inside a 200 answer.
        Collected::Ok { value: m } => match m.value.iter().find(|x| {
            x.error_code
                .as_deref()
                .is_some_and(|c| !c.eq_ignore_ascii_case("Success"))
        }) {
            Some(bad) => Collected::Error {
                error: crate::azure::models::ErrorDetail {
                    code: bad.error_code.clone().unwrap_or_default(),
                    message: bad
                        .error_message
                        .clone()
                        .unwrap_or_else(|| format!("metric {} failed", bad.name.value)),
                    http_status: Some(200),
                },
            },
            None => Collected::Ok { value: m },
        },
        other => other,
    }
}

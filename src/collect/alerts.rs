//! What each subscription has for alerting: activity-log alerts, action
//! groups and log search alerts. A failure is recorded, not fatal.
use serde::de::DeserializeOwned;

use crate::azure::client::AzureClient;
use crate::azure::models::{ActionGroup, ActivityLogAlert, ScheduledQueryRule};
use crate::inventory::Collected;

use super::{ACTION_GROUPS_API, ACTIVITY_LOG_ALERTS_API, SCHEDULED_QUERY_RULES_API, recorded};

async fn list<T: DeserializeOwned>(client: &AzureClient, path: String) -> Collected<Vec<T>> {
    recorded(client.arm_list(&path).await, &path)
}

pub async fn activity_log_alerts(
    client: &AzureClient,
    sub: &str,
) -> Collected<Vec<ActivityLogAlert>> {
    let mut listed: Collected<Vec<ActivityLogAlert>> = list(client, format!("subscriptions/{sub}/providers/Microsoft.Insights/activityLogAlerts?api-version={ACTIVITY_LOG_ALERTS_API}")).await;
    // An alert a paging answer repeats is one alert.
    if let Collected::Ok { value } = &mut listed {
        let mut seen = std::collections::HashSet::new();
        value.retain(|a| seen.insert(a.id.to_ascii_lowercase()));
    }
    listed
}

pub async fn action_groups(client: &AzureClient, sub: &str) -> Collected<Vec<ActionGroup>> {
    list(client, format!("subscriptions/{sub}/providers/Microsoft.Insights/actionGroups?api-version={ACTION_GROUPS_API}")).await
}

pub async fn scheduled_query_rules(
    client: &AzureClient,
    sub: &str,
) -> Collected<Vec<ScheduledQueryRule>> {
    list(client, format!("subscriptions/{sub}/providers/Microsoft.Insights/scheduledQueryRules?api-version={SCHEDULED_QUERY_RULES_API}")).await
}

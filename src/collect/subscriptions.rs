//! Subscriptions: the ones asked for, or every enabled one the identity sees.
use crate::azure::client::AzureClient;
use crate::azure::error::AzureError;
use crate::azure::models::Subscription;

use super::{SUBSCRIPTIONS_API, Scope};

pub async fn list(client: &AzureClient, scope: &Scope) -> Result<Vec<Subscription>, AzureError> {
    if scope.subscriptions.is_empty() {
        let all: Vec<Subscription> = client
            .arm_list(&format!("subscriptions?api-version={SUBSCRIPTIONS_API}"))
            .await?;
        let enabled: Vec<Subscription> = all
            .into_iter()
            .filter(|s| {
                s.state
                    .as_deref()
                    .is_none_or(|st| st.eq_ignore_ascii_case("Enabled"))
            })
            .collect();
        if enabled.is_empty() {
            return Err(AzureError::Config(
                "the identity sees no enabled subscription: grant it Reader on a subscription, or name one with --subscription".into(),
            ));
        }
        return Ok(enabled);
    }
    let mut out = Vec::new();
    for id in &scope.subscriptions {
        let s: Subscription = client
            .arm_get(&format!(
                "subscriptions/{id}?api-version={SUBSCRIPTIONS_API}"
            ))
            .await?;
        out.push(s);
    }
    Ok(out)
}

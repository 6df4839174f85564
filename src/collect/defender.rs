//! Defender for Cloud: the `KeyVaults` plan of a subscription
//! (`Microsoft.Security/pricings/KeyVaults`). One GET per subscription.
use tracing::warn;

use crate::azure::client::AzureClient;
use crate::azure::models::Pricing;
use crate::inventory::Collected;

use super::PRICINGS_API;

/// The subscription's Key Vault plan, as a one-item list.
pub async fn key_vault_pricing(client: &AzureClient, sub: &str) -> Collected<Vec<Pricing>> {
    let path = format!(
        "subscriptions/{sub}/providers/Microsoft.Security/pricings/KeyVaults?api-version={PRICINGS_API}"
    );
    match client.arm_get::<Pricing>(&path).await {
        Ok(p) => Collected::Ok { value: vec![p] },
        Err(e) => {
            warn!("Defender pricing of subscription {sub}: {e}");
            Collected::Error { error: e.detail() }
        }
    }
}

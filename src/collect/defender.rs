//! Defender for Cloud: the `KeyVaults` plan of a subscription
//! (`Microsoft.Security/pricings/KeyVaults`). One GET per subscription.
use crate::azure::client::AzureClient;
use crate::azure::models::Pricing;
use crate::inventory::Collected;

use super::{PRICINGS_API, recorded};

/// The subscription's Key Vault plan, as a one-item list.
pub async fn key_vault_pricing(client: &AzureClient, sub: &str) -> Collected<Vec<Pricing>> {
    let path = format!(
        "subscriptions/{sub}/providers/Microsoft.Security/pricings/KeyVaults?api-version={PRICINGS_API}"
    );
    recorded(
        client.arm_get::<Pricing>(&path).await.map(|p| vec![p]),
        format_args!("Defender pricing of subscription {sub}"),
    )
}

//! Vaults of a subscription (paged), each vault's diagnostic settings, and
//! the diagnostic categories of the Key Vault resource type.
use std::collections::BTreeMap;

use tracing::warn;

use crate::azure::client::AzureClient;
use crate::azure::error::AzureError;
use crate::azure::models::{DiagnosticCategory, DiagnosticSetting, Vault};
use crate::inventory::{Collected, VaultInventory};

use super::{DIAGNOSTIC_SETTINGS_API, Scope, VAULTS_API, recorded};

pub async fn list(
    client: &AzureClient,
    subscription: &str,
    scope: &Scope,
) -> Result<Vec<Vault>, AzureError> {
    let path = match &scope.resource_group {
        Some(rg) => format!(
            "subscriptions/{subscription}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults?api-version={VAULTS_API}"
        ),
        None => format!(
            "subscriptions/{subscription}/providers/Microsoft.KeyVault/vaults?api-version={VAULTS_API}"
        ),
    };
    let vaults: Vec<Vault> = match client.arm_list(&path).await {
        // `--resource-group` without `--subscription`: a subscription that
        // has no such group has none of its vaults.
        Err(AzureError::Api {
            status: 404, code, ..
        }) if scope.resource_group.is_some()
            && code.eq_ignore_ascii_case("ResourceGroupNotFound") =>
        {
            vec![]
        }
        r => r?,
    };
    Ok(vaults.into_iter().filter(|v| scope.wants(v)).collect())
}

pub async fn diagnostic_settings(
    client: &AzureClient,
    vault_id: &str,
) -> Collected<Vec<DiagnosticSetting>> {
    let path = format!(
        "{}/providers/Microsoft.Insights/diagnosticSettings?api-version={DIAGNOSTIC_SETTINGS_API}",
        vault_id.trim_start_matches('/')
    );
    // Not pageable (nextLinkName is null in the spec): one GET.
    recorded(
        client.arm_get::<SettingsList>(&path).await.map(|l| l.value),
        format_args!(
            "diagnostic settings of vault {}",
            crate::access::vault_name(vault_id)
        ),
    )
}

#[derive(serde::Deserialize)]
struct SettingsList {
    #[serde(default)]
    value: Vec<DiagnosticSetting>,
}

#[derive(serde::Deserialize)]
struct CategoryList {
    #[serde(default)]
    value: Vec<DiagnosticCategory>,
}

/// Categories once for the resource type, read from the first vault.
pub async fn categories(
    client: &AzureClient,
    vaults: &[VaultInventory],
) -> BTreeMap<String, Vec<DiagnosticCategory>> {
    let mut out = BTreeMap::new();
    let Some(first) = vaults.first() else {
        return out;
    };
    let path = format!(
        "{}/providers/Microsoft.Insights/diagnosticSettingsCategories?api-version={DIAGNOSTIC_SETTINGS_API}",
        first.vault.id.trim_start_matches('/')
    );
    match client.arm_get::<CategoryList>(&path).await {
        Ok(list) => {
            out.insert("microsoft.keyvault/vaults".to_string(), list.value);
        }
        Err(e) => warn!("diagnostic categories of Key Vault: {e}"),
    }
    out
}

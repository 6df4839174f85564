//! Keys and secrets of a vault, listed through the management plane
//! (`{vault}/keys`, `{vault}/secrets` on ARM), never the data plane: ARM
//! answers for vaults whose network rules shut the data plane off, and it
//! returns metadata only (no key material, no secret values).
use serde::de::DeserializeOwned;
use tracing::warn;

use crate::azure::client::AzureClient;
use crate::azure::error::AzureError;
use crate::azure::models::{Key, Secret, Vault};
use crate::inventory::Collected;

use super::{VAULTS_API, recorded};

async fn list<T: DeserializeOwned>(
    client: &AzureClient,
    vault_id: &str,
    what: &str,
) -> Collected<Vec<T>> {
    let path = format!(
        "{}/{what}?api-version={VAULTS_API}",
        vault_id.trim_start_matches('/')
    );
    recorded(
        client.arm_list(&path).await,
        format_args!("{what} of vault {}", crate::access::vault_name(vault_id)),
    )
}

/// The keys; with `rotation`, each key is also read on its own (Keys_Get),
/// because only that answer carries `rotationPolicy` (omitted when empty).
/// Each key gets `rotationPolicyRead` (`{"status": "ok"}` or the error): a
/// key whose GET fails keeps no `rotationPolicy`, and is not judged.
pub async fn keys(client: &AzureClient, vault: &Vault, rotation: bool) -> Collected<Vec<Key>> {
    let vault_id = vault.id.as_str();
    let listed = list::<Key>(client, vault_id, "keys").await;
    let Collected::Ok { value } = listed else {
        return listed;
    };
    if !rotation {
        return Collected::Ok { value };
    }
    // After the vault's data plane refuses or cannot be reached once, its
    // other keys are not tried (a firewall would time out every one).
    let data_plane_down: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let data_plane_down = &data_plane_down;
    let read = value.into_iter().map(|k| async move {
        let path = format!(
            "{}/keys/{}?api-version={VAULTS_API}",
            vault_id.trim_start_matches('/'),
            url::form_urlencoded::byte_serialize(k.name.as_bytes()).collect::<String>()
        );
        // What the read gave is recorded beside the key, so the rule can
        // tell "no policy returned" from "the read failed" from "not read".
        let (mut key, read) = match client.arm_get::<Key>(&path).await {
            Ok(full) => (full, serde_json::json!({"status": "ok"})),
            Err(e) => {
                warn!(
                    "key {} of vault {}: {}",
                    k.name,
                    crate::access::vault_name(vault_id),
                    e.without_path()
                );
                (
                    k,
                    serde_json::json!({"status": "error", "error": e.detail()}),
                )
            }
        };
        key.extra.insert("rotationPolicyRead", read);
        if client.data_plane() {
            key.extra.insert(
                "rotationPolicyDataPlane",
                data_plane_policy(client, vault, &key.name, data_plane_down).await,
            );
        }
        key
    });
    Collected::Ok {
        value: futures::future::join_all(read).await,
    }
}

/// The key's rotation policy from the vault's own data plane
/// (`GET {vaultUri}/keys/{name}/rotationpolicy`, `--data-plane`), recorded
/// as `{"status": "ok", "value": policy}` or `{"status": "error", "error"}`:
/// a refused or unreachable data plane (a firewall, a private endpoint, no
/// data-plane role) is recorded and changes nothing.
async fn data_plane_policy(
    client: &AzureClient,
    vault: &Vault,
    key: &str,
    down: &std::sync::Mutex<Option<String>>,
) -> serde_json::Value {
    if let Some(why) = down.lock().expect("not poisoned").clone() {
        return serde_json::json!({"status": "error", "error": {"code": "DataPlaneUnavailable", "message": format!("not tried: an earlier read of this vault's data plane failed ({why})")}});
    }
    let Some(uri) = vault.properties.vault_uri.as_deref() else {
        return serde_json::json!({"status": "error", "error": {"code": "NoVaultUri", "message": "the vault has no vaultUri"}});
    };
    let path = format!(
        "keys/{}/rotationpolicy?api-version={KEY_VAULT_DATA_PLANE_API}",
        url::form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>()
    );
    match client
        .vault_get::<serde_json::Value>(&vault.name, uri, &path)
        .await
    {
        Ok(policy) if policy.is_object() => serde_json::json!({"status": "ok", "value": policy}),
        Ok(_) => {
            serde_json::json!({"status": "error", "error": {"code": "UnexpectedResponse", "message": "the rotation policy is not an object"}})
        }
        Err(e) => {
            warn!(
                "data-plane rotation policy of key {key} in vault {}: {}",
                vault.name,
                e.without_path()
            );
            // Unreachable, refused or not allowed: the same for every key of the vault.
            let vault_wide = match &e {
                AzureError::Api { status, .. } => matches!(status, 401 | 403),
                AzureError::Transport { .. } | AzureError::Config(_) | AzureError::Auth { .. } => {
                    true
                }
                AzureError::Decode { .. } => false,
            };
            if vault_wide {
                let d = e.detail();
                *down.lock().expect("not poisoned") = Some(format!("{}: {}", d.code, d.message));
            }
            serde_json::json!({"status": "error", "error": e.detail()})
        }
    }
}

/// Key Vault data-plane api-version (`--data-plane`).
pub const KEY_VAULT_DATA_PLANE_API: &str = "7.5";

pub async fn secrets(client: &AzureClient, vault_id: &str) -> Collected<Vec<Secret>> {
    list(client, vault_id, "secrets").await
}

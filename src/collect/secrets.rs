//! Keys and secrets of a vault, listed through the management plane
//! (`{vault}/keys`, `{vault}/secrets` on ARM), never the data plane: ARM
//! answers for vaults whose network rules shut the data plane off, and it
//! returns metadata only (no key material, no secret values).
use serde::de::DeserializeOwned;
use tracing::warn;

use crate::azure::client::AzureClient;
use crate::azure::models::{Key, Secret};
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
        format_args!("{what} of {vault_id}"),
    )
}

/// The keys; with `rotation`, each key is also read on its own (Keys_Get),
/// because only that answer carries `rotationPolicy` (omitted when empty).
/// Each key gets `rotationPolicyRead` (`{"status": "ok"}` or the error): a
/// key whose GET fails keeps no `rotationPolicy`, and is not judged.
pub async fn keys(client: &AzureClient, vault_id: &str, rotation: bool) -> Collected<Vec<Key>> {
    let listed = list::<Key>(client, vault_id, "keys").await;
    let Collected::Ok { value } = listed else {
        return listed;
    };
    if !rotation {
        return Collected::Ok { value };
    }
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
                warn!("key {} of {vault_id}: {e}", k.name);
                (
                    k,
                    serde_json::json!({"status": "error", "error": e.detail()}),
                )
            }
        };
        key.extra.insert("rotationPolicyRead".into(), read);
        key
    });
    Collected::Ok {
        value: futures::future::join_all(read).await,
    }
}

pub async fn secrets(client: &AzureClient, vault_id: &str) -> Collected<Vec<Secret>> {
    list(client, vault_id, "secrets").await
}

//! Credentials from azure_identity 1.x, picked explicitly (the SDK removed
//! DefaultAzureCredential on purpose), and a per-scope token cache. Tokens
//! are never logged, printed or written.
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use azure_core::credentials::{Secret, TokenCredential};
use azure_identity::{
    AzureCliCredential, AzureDeveloperCliCredential, ClientSecretCredential,
    ManagedIdentityCredential, WorkloadIdentityCredential,
};
use tokio::sync::Mutex;
use tracing::info;

use super::error::AzureError;

/// `--auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMethod {
    /// The first whose inputs are present: env, workload-identity, managed-identity, cli.
    Auto,
    /// The Azure CLI's login (`az login`).
    Cli,
    /// A service principal: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET.
    Env,
    /// Workload identity federation: AZURE_FEDERATED_TOKEN_FILE (GitHub Actions OIDC, AKS).
    WorkloadIdentity,
    /// The managed identity of the Azure host (IDENTITY_ENDPOINT / IMDS).
    ManagedIdentity,
    /// The Azure Developer CLI's login (`azd auth login`).
    Azd,
}

impl AuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Auto => "auto",
            AuthMethod::Cli => "cli",
            AuthMethod::Env => "env",
            AuthMethod::WorkloadIdentity => "workload-identity",
            AuthMethod::ManagedIdentity => "managed-identity",
            AuthMethod::Azd => "azd",
        }
    }

    fn hint(self) -> &'static str {
        match self {
            AuthMethod::Cli | AuthMethod::Auto => "run `az login` (or pick another --auth)",
            AuthMethod::Env => {
                "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal"
            }
            AuthMethod::WorkloadIdentity => {
                "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (azure/login with OIDC sets them)"
            }
            AuthMethod::ManagedIdentity => {
                "run on an Azure host with a managed identity assigned (set AZURE_CLIENT_ID for a user-assigned one)"
            }
            AuthMethod::Azd => "run `azd auth login`",
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Resolves `auto` to the first method whose inputs are present.
pub fn resolve(method: AuthMethod) -> AuthMethod {
    if method != AuthMethod::Auto {
        return method;
    }
    let picked = if var("AZURE_TENANT_ID").is_some()
        && var("AZURE_CLIENT_ID").is_some()
        && var("AZURE_CLIENT_SECRET").is_some()
    {
        AuthMethod::Env
    } else if var("AZURE_FEDERATED_TOKEN_FILE").is_some() {
        AuthMethod::WorkloadIdentity
    } else if var("IDENTITY_ENDPOINT").is_some() || var("MSI_ENDPOINT").is_some() {
        AuthMethod::ManagedIdentity
    } else {
        AuthMethod::Cli
    };
    info!("--auth auto picked {}", picked.name());
    picked
}

fn missing(method: AuthMethod, names: &[&str]) -> Result<(), AzureError> {
    let absent: Vec<&str> = names.iter().copied().filter(|n| var(n).is_none()).collect();
    if absent.is_empty() {
        return Ok(());
    }
    Err(AzureError::Auth {
        method: method.name().into(),
        message: format!("{} not set", absent.join(", ")),
        hint: method.hint().into(),
    })
}

/// Builds the credential for `method` (after `resolve`).
pub fn credential(method: AuthMethod) -> Result<Arc<dyn TokenCredential>, AzureError> {
    let method = resolve(method);
    let fail = |e: azure_core::Error| AzureError::Auth {
        method: method.name().into(),
        message: first_line(&e.to_string()),
        hint: method.hint().into(),
    };
    let cred: Arc<dyn TokenCredential> = match method {
        AuthMethod::Cli | AuthMethod::Auto => AzureCliCredential::new(None).map_err(fail)?,
        AuthMethod::Azd => AzureDeveloperCliCredential::new(None).map_err(fail)?,
        AuthMethod::Env => {
            missing(
                method,
                &["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"],
            )?;
            ClientSecretCredential::new(
                &var("AZURE_TENANT_ID").unwrap_or_default(),
                var("AZURE_CLIENT_ID").unwrap_or_default(),
                Secret::new(var("AZURE_CLIENT_SECRET").unwrap_or_default()),
                None,
            )
            .map_err(fail)?
        }
        AuthMethod::WorkloadIdentity => {
            missing(
                method,
                &[
                    "AZURE_TENANT_ID",
                    "AZURE_CLIENT_ID",
                    "AZURE_FEDERATED_TOKEN_FILE",
                ],
            )?;
            let file = var("AZURE_FEDERATED_TOKEN_FILE").unwrap_or_default();
            if !Path::new(&file).is_file() {
                return Err(AzureError::Auth {
                    method: method.name().into(),
                    message: format!("AZURE_FEDERATED_TOKEN_FILE {file} does not exist"),
                    hint: method.hint().into(),
                });
            }
            WorkloadIdentityCredential::new(None).map_err(fail)?
        }
        AuthMethod::ManagedIdentity => ManagedIdentityCredential::new(None).map_err(fail)?,
    };
    info!("authenticating with {}", method.name());
    Ok(cred)
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// Tokens per scope, reused until five minutes before they expire.
pub struct TokenCache {
    credential: Arc<dyn TokenCredential>,
    method: AuthMethod,
    /// How long one token request may take (a hung `az` must not block forever).
    timeout: std::time::Duration,
    tokens: Mutex<HashMap<String, (Secret, azure_core::time::OffsetDateTime)>>,
    /// Scopes whose token could not be had, and why: asked once per run, so
    /// a refused audience (the data plane's) does not cost every request a
    /// credential call while the others wait for the lock.
    refused: Mutex<HashMap<String, String>>,
}

impl TokenCache {
    pub fn new(
        credential: Arc<dyn TokenCredential>,
        method: AuthMethod,
        timeout: std::time::Duration,
    ) -> TokenCache {
        TokenCache {
            credential,
            method: resolve(method),
            timeout,
            tokens: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
        }
    }

    /// A bearer token for `scope`. The lock is held while fetching, so
    /// concurrent requests share one `az` call instead of starting many.
    pub async fn token(&self, scope: &str) -> Result<String, AzureError> {
        let mut tokens = self.tokens.lock().await;
        if let Some(why) = self.refused.lock().await.get(scope) {
            return Err(self.auth_error(why.clone()));
        }
        let now = azure_core::time::OffsetDateTime::now_utc();
        if let Some((secret, expires)) = tokens.get(scope)
            && *expires - azure_core::time::Duration::minutes(5) > now
        {
            return Ok(secret.secret().to_string());
        }
        info!(
            "waiting for {} to issue a token for {scope} (up to {} s)",
            self.method.name(),
            self.timeout.as_secs()
        );
        let token =
            match tokio::time::timeout(self.timeout, self.credential.get_token(&[scope], None))
                .await
            {
                Ok(Ok(t)) => t,
                Ok(Err(e)) => return Err(self.refuse(scope, first_line(&e.to_string())).await),
                Err(_) => {
                    let why = format!(
                        "no token within {} s (--credential-timeout)",
                        self.timeout.as_secs()
                    );
                    return Err(self.refuse(scope, why).await);
                }
            };
        let value = token.token.secret().to_string();
        tokens.insert(scope.to_string(), (token.token, token.expires_on));
        Ok(value)
    }

    fn auth_error(&self, message: String) -> AzureError {
        AzureError::Auth {
            method: self.method.name().into(),
            message: crate::text::redact(&message).into_owned(),
            hint: self.method.hint().into(),
        }
    }

    /// Records that `scope` was refused, for the rest of the run.
    async fn refuse(&self, scope: &str, why: String) -> AzureError {
        self.refused
            .lock()
            .await
            .insert(scope.to_string(), why.clone());
        self.auth_error(why)
    }
}

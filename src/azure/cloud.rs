//! Azure clouds and the endpoints kvaudit talks to.
use url::Url;

use super::error::AzureError;

/// A sovereign cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Cloud {
    /// Azure public cloud.
    Public,
    /// Azure US Government.
    Usgov,
    /// Azure operated by 21Vianet (China).
    China,
}

impl Cloud {
    pub fn arm_endpoint(self) -> &'static str {
        match self {
            Cloud::Public => "https://management.azure.com/",
            Cloud::Usgov => "https://management.usgovcloudapi.net/",
            Cloud::China => "https://management.chinacloudapi.cn/",
        }
    }

    pub fn log_analytics_endpoint(self) -> &'static str {
        match self {
            Cloud::Public => "https://api.loganalytics.io/",
            Cloud::Usgov => "https://api.loganalytics.us/",
            Cloud::China => "https://api.loganalytics.azure.cn/",
        }
    }

    /// Token scope for ARM.
    pub fn arm_scope(self) -> &'static str {
        match self {
            Cloud::Public => "https://management.azure.com/.default",
            Cloud::Usgov => "https://management.usgovcloudapi.net/.default",
            Cloud::China => "https://management.chinacloudapi.cn/.default",
        }
    }

    /// The DNS suffix of the regional Azure Monitor metrics hosts
    /// (`{region}.metrics.monitor.azure.com`), which serve `metrics:getBatch`.
    pub fn metrics_suffix(self) -> &'static str {
        match self {
            Cloud::Public => "metrics.monitor.azure.com",
            Cloud::Usgov => "metrics.monitor.azure.us",
            Cloud::China => "metrics.monitor.azure.cn",
        }
    }

    /// Token scope for the metrics batch API (not ARM's audience).
    pub fn metrics_scope(self) -> &'static str {
        match self {
            Cloud::Public => "https://metrics.monitor.azure.com/.default",
            Cloud::Usgov => "https://metrics.monitor.azure.us/.default",
            Cloud::China => "https://metrics.monitor.azure.cn/.default",
        }
    }

    /// The DNS suffix of Key Vault data-plane hosts (`{vault}.vault.azure.net`).
    pub fn vault_suffix(self) -> &'static str {
        match self {
            Cloud::Public => "vault.azure.net",
            Cloud::Usgov => "vault.usgovcloudapi.net",
            Cloud::China => "vault.azure.cn",
        }
    }

    /// Token scope for the Key Vault data plane (`--data-plane`).
    pub fn vault_scope(self) -> &'static str {
        match self {
            Cloud::Public => "https://vault.azure.net/.default",
            Cloud::Usgov => "https://vault.usgovcloudapi.net/.default",
            Cloud::China => "https://vault.azure.cn/.default",
        }
    }

    /// Token scope for the Log Analytics query API.
    pub fn log_analytics_scope(self) -> &'static str {
        match self {
            Cloud::Public => "https://api.loganalytics.io/.default",
            Cloud::Usgov => "https://api.loganalytics.us/.default",
            Cloud::China => "https://api.loganalytics.azure.cn/.default",
        }
    }
}

/// The endpoints of one scan, after `--arm-endpoint`/`--log-analytics-endpoint`
/// and `--metrics-endpoint`.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub arm: Url,
    pub log_analytics: Url,
    pub metrics: MetricsEndpoint,
    pub arm_scope: String,
    pub log_analytics_scope: String,
    pub metrics_scope: String,
    /// Where Key Vault data-plane reads go (`--data-plane`).
    pub vault: VaultEndpoint,
    pub vault_scope: String,
}

/// Where a vault's data plane is read: its own `vaultUri`, if that is in the
/// cloud's Key Vault domain (a `vaultUri` is Azure data, so a token is never
/// sent to a host outside that domain), or, when ARM is a loopback
/// emulator, that emulator (`{arm}/dataplane/{vault name}/...`).
#[derive(Debug, Clone, PartialEq)]
pub enum VaultEndpoint {
    Domain { suffix: String },
    Emulator(Url),
}

/// Where `metrics:getBatch` goes: the host of the vaults' region (the API
/// answers only for resources in its own region), or one fixed endpoint (an
/// emulator, a private link).
#[derive(Debug, Clone, PartialEq)]
pub enum MetricsEndpoint {
    /// `https://{region}.{suffix}/`.
    Regional {
        suffix: String,
    },
    Fixed(Url),
}

impl Endpoints {
    /// Checks each endpoint: https, or http only to a loopback address (a
    /// bearer token never crosses a network in clear text).
    pub fn new(
        cloud: Cloud,
        arm: Option<&str>,
        log_analytics: Option<&str>,
    ) -> Result<Endpoints, AzureError> {
        let arm = checked_url("--arm-endpoint", arm.unwrap_or(cloud.arm_endpoint()))?;
        let log_analytics = checked_url(
            "--log-analytics-endpoint",
            log_analytics.unwrap_or(cloud.log_analytics_endpoint()),
        )?;
        // An ARM emulator on loopback serves the metrics too, unless told
        // otherwise: existing emulator setups keep working.
        let metrics = if is_loopback(&arm) {
            MetricsEndpoint::Fixed(arm.clone())
        } else {
            MetricsEndpoint::Regional {
                suffix: cloud.metrics_suffix().to_string(),
            }
        };
        let vault = if is_loopback(&arm) {
            VaultEndpoint::Emulator(arm.clone())
        } else {
            VaultEndpoint::Domain {
                suffix: cloud.vault_suffix().to_string(),
            }
        };
        Ok(Endpoints {
            arm,
            log_analytics,
            metrics,
            arm_scope: cloud.arm_scope().to_string(),
            log_analytics_scope: cloud.log_analytics_scope().to_string(),
            metrics_scope: cloud.metrics_scope().to_string(),
            vault,
            vault_scope: cloud.vault_scope().to_string(),
        })
    }

    /// `--metrics-endpoint` (or `KVAUDIT_METRICS_ENDPOINT`): one endpoint for
    /// every region, checked like the others.
    pub fn with_metrics_endpoint(
        mut self,
        endpoint: Option<&str>,
    ) -> Result<Endpoints, AzureError> {
        if let Some(e) = endpoint {
            self.metrics = MetricsEndpoint::Fixed(checked_url("--metrics-endpoint", e)?);
        }
        Ok(self)
    }

    /// The data-plane URL of `path` (`keys/{name}/rotationpolicy`) in the
    /// vault named `name` whose `vaultUri` is `vault_uri`.
    pub fn vault_url(&self, name: &str, vault_uri: &str, path: &str) -> Result<Url, AzureError> {
        let base = match &self.vault {
            VaultEndpoint::Emulator(arm) => arm
                .join(&format!("dataplane/{name}/"))
                .map_err(|e| AzureError::Config(format!("bad vault name {name:?}: {e}")))?,
            VaultEndpoint::Domain { suffix } => {
                let uri = Url::parse(vault_uri).map_err(|e| {
                    AzureError::Config(format!("vaultUri {vault_uri:?} is not a URL: {e}"))
                })?;
                let host = uri.host_str().unwrap_or("").to_ascii_lowercase();
                if uri.scheme() != "https"
                    || !host.ends_with(&format!(".{suffix}"))
                    || uri.port().is_some()
                {
                    return Err(AzureError::Config(format!(
                        "vaultUri {vault_uri:?} is not an https host in {suffix}; no token is sent there"
                    )));
                }
                uri.join("/")
                    .map_err(|e| AzureError::Config(format!("bad vaultUri {vault_uri:?}: {e}")))?
            }
        };
        base.join(path)
            .map_err(|e| AzureError::Config(format!("bad data-plane path {path:?}: {e}")))
    }

    /// The metrics batch URL of a subscription's vaults in `region` (an
    /// Azure location name such as `westeurope`).
    pub fn metrics_batch_url(&self, region: &str, subscription: &str) -> Result<Url, AzureError> {
        let path = format!("subscriptions/{subscription}/metrics:getBatch");
        let base = match &self.metrics {
            MetricsEndpoint::Fixed(u) => u.clone(),
            MetricsEndpoint::Regional { suffix } => {
                let region = region.to_ascii_lowercase().replace(' ', "");
                if region.is_empty() || !region.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(AzureError::Config(format!(
                        "vault location {region:?} is not an Azure region name; cannot choose its metrics host"
                    )));
                }
                checked_url("metrics host", &format!("https://{region}.{suffix}/"))?
            }
        };
        base.join(&path)
            .map_err(|e| AzureError::Config(format!("bad metrics path {path:?}: {e}")))
    }
}

/// Whether a URL's host is a loopback address (127.0.0.0/8, ::1, localhost).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn checked_url(option: &str, text: &str) -> Result<Url, AzureError> {
    let mut url = Url::parse(text)
        .map_err(|e| AzureError::Config(format!("{option} {text:?} is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(AzureError::Config(format!(
                "{option} {text}: refusing to send a bearer token over plain http to a non-loopback host; use https"
            )));
        }
        other => {
            return Err(AzureError::Config(format!(
                "{option} {text}: unsupported scheme {other:?}; use https"
            )));
        }
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_plane_reads_stay_in_the_clouds_key_vault_domain() {
        let e = Endpoints::new(Cloud::Public, None, None).unwrap();
        assert_eq!(
            e.vault_url(
                "kv",
                "https://kv.vault.azure.net/",
                "keys/k/rotationpolicy?api-version=7.5"
            )
            .unwrap()
            .as_str(),
            "https://kv.vault.azure.net/keys/k/rotationpolicy?api-version=7.5"
        );
        for bad in [
            "http://kv.vault.azure.net/",
            "https://kv.vault.azure.net.evil.example/",
            "https://evil.example/kv.vault.azure.net/",
            "https://kv.vault.azure.net:8443/",
            "not a url",
        ] {
            assert!(
                e.vault_url("kv", bad, "keys/k/rotationpolicy").is_err(),
                "{bad}"
            );
        }
        let local = Endpoints::new(Cloud::Public, Some("http://127.0.0.1:9/"), None).unwrap();
        assert_eq!(
            local
                .vault_url("kv", "https://kv.vault.azure.net/", "keys/k/rotationpolicy")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/dataplane/kv/keys/k/rotationpolicy"
        );
    }

    #[test]
    fn plain_http_is_allowed_only_to_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9/",
            "http://localhost:1/x",
            "http://[::1]:80",
            "https://example.com",
        ] {
            assert!(
                Endpoints::new(Cloud::Public, Some(ok), None).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "http://10.0.0.1:8080",
            "http://example.com",
            "http://192.168.1.10",
            "ftp://127.0.0.1",
        ] {
            let e = Endpoints::new(Cloud::Public, Some(bad), None)
                .unwrap_err()
                .to_string();
            assert!(e.contains("--arm-endpoint"), "{e}");
        }
    }

    #[test]
    fn metrics_go_to_the_region_or_follow_a_loopback_arm_emulator() {
        let e = Endpoints::new(Cloud::Public, None, None).unwrap();
        assert_eq!(
            e.metrics_batch_url("West Europe", "s1").unwrap().as_str(),
            "https://westeurope.metrics.monitor.azure.com/subscriptions/s1/metrics:getBatch"
        );
        assert!(e.metrics_batch_url("west/europe", "s1").is_err());
        assert_eq!(
            e.metrics_scope,
            "https://metrics.monitor.azure.com/.default"
        );
        let cn = Endpoints::new(Cloud::China, None, None).unwrap();
        assert!(
            cn.metrics_batch_url("chinanorth3", "s")
                .unwrap()
                .as_str()
                .starts_with("https://chinanorth3.metrics.monitor.azure.cn/")
        );
        let emu = Endpoints::new(Cloud::Public, Some("http://127.0.0.1:9"), None).unwrap();
        assert_eq!(
            emu.metrics_batch_url("westeurope", "s1").unwrap().as_str(),
            "http://127.0.0.1:9/subscriptions/s1/metrics:getBatch"
        );
        let fixed = Endpoints::new(Cloud::Public, None, None)
            .unwrap()
            .with_metrics_endpoint(Some("https://metrics.example.net/m"))
            .unwrap();
        assert_eq!(
            fixed
                .metrics_batch_url("westeurope", "s1")
                .unwrap()
                .as_str(),
            "https://metrics.example.net/m/subscriptions/s1/metrics:getBatch"
        );
        assert!(
            Endpoints::new(Cloud::Public, None, None)
                .unwrap()
                .with_metrics_endpoint(Some("http://10.0.0.1/"))
                .is_err()
        );
    }

    #[test]
    fn clouds_have_their_own_scopes() {
        let e = Endpoints::new(Cloud::Usgov, None, None).unwrap();
        assert_eq!(e.arm.as_str(), "https://management.usgovcloudapi.net/");
        assert_eq!(
            e.log_analytics_scope,
            "https://api.loganalytics.us/.default"
        );
    }
}

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

    /// Token scope for the Log Analytics query API.
    pub fn log_analytics_scope(self) -> &'static str {
        match self {
            Cloud::Public => "https://api.loganalytics.io/.default",
            Cloud::Usgov => "https://api.loganalytics.us/.default",
            Cloud::China => "https://api.loganalytics.azure.cn/.default",
        }
    }
}

/// The endpoints of one scan, after `--arm-endpoint`/`--log-analytics-endpoint`.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub arm: Url,
    pub log_analytics: Url,
    pub arm_scope: String,
    pub log_analytics_scope: String,
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
        Ok(Endpoints {
            arm,
            log_analytics,
            arm_scope: cloud.arm_scope().to_string(),
            log_analytics_scope: cloud.log_analytics_scope().to_string(),
        })
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
    fn clouds_have_their_own_scopes() {
        let e = Endpoints::new(Cloud::Usgov, None, None).unwrap();
        assert_eq!(e.arm.as_str(), "https://management.usgovcloudapi.net/");
        assert_eq!(
            e.log_analytics_scope,
            "https://api.loganalytics.us/.default"
        );
    }
}

//! Errors of the Azure layer. A request error names the resource (URL path)
//! it was about, the HTTP status and Azure's error code, and never a token.
use serde::Deserialize;
use thiserror::Error;

use super::models::ErrorDetail;

#[derive(Debug, Error)]
pub enum AzureError {
    /// Bad endpoints or options.
    #[error("{0}")]
    Config(String),
    /// No token could be had.
    #[error("authentication failed ({method}): {message}; {hint}")]
    Auth {
        method: String,
        message: String,
        hint: String,
    },
    /// Azure answered with an error status.
    #[error("{path}: HTTP {status} {code}: {message}")]
    Api {
        path: String,
        status: u16,
        code: String,
        message: String,
    },
    /// The request did not get an answer.
    #[error("{path}: {message}")]
    Transport { path: String, message: String },
    /// The body was not what the API documents.
    #[error("{path}: unexpected response: {message}")]
    Decode { path: String, message: String },
}

impl AzureError {
    /// The error without the request path, for a log line whose subject
    /// already names the resource (so an id is not printed twice).
    pub fn without_path(&self) -> String {
        match self {
            AzureError::Api {
                status,
                code,
                message,
                ..
            } => format!("HTTP {status} {code}: {message}"),
            AzureError::Transport { message, .. } => message.clone(),
            AzureError::Decode { message, .. } => format!("unexpected response: {message}"),
            other => other.to_string(),
        }
    }

    /// A body that is not what the API documents (its text redacted).
    pub fn decode(path: impl Into<String>, message: impl AsRef<str>) -> AzureError {
        AzureError::Decode {
            path: path.into(),
            message: crate::text::redact(message.as_ref()).into_owned(),
        }
    }

    /// The error as the inventory records it.
    pub fn detail(&self) -> ErrorDetail {
        match self {
            AzureError::Api {
                status,
                code,
                message,
                ..
            } => ErrorDetail {
                code: code.clone(),
                message: message.clone(),
                http_status: Some(*status),
            },
            AzureError::Transport { message, .. } => ErrorDetail {
                code: "RequestFailed".into(),
                message: message.clone(),
                http_status: None,
            },
            AzureError::Decode { message, .. } => ErrorDetail {
                code: "UnexpectedResponse".into(),
                message: message.clone(),
                http_status: None,
            },
            other => ErrorDetail {
                code: "Error".into(),
                message: other.to_string(),
                http_status: None,
            },
        }
    }
}

/// Both ARM error shapes: `{"error": {"code", "message"}}` (ARM, Log
/// Analytics) and the flat `{"code", "message"}` (diagnostic settings,
/// activity-log alerts).
#[derive(Deserialize)]
struct Wrapped {
    error: Flat,
}

#[derive(Deserialize)]
struct Flat {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Azure's code and message from an error body, whichever shape it has,
/// with anything that looks like a token redacted (some servers echo the
/// request's headers).
pub fn parse_error_body(body: &str) -> (String, String) {
    let (code, message) = error_body(body);
    (
        crate::text::redact(&code).into_owned(),
        crate::text::redact(&message).into_owned(),
    )
}

fn error_body(body: &str) -> (String, String) {
    if let Ok(w) = serde_json::from_str::<Wrapped>(body) {
        return (
            w.error.code.unwrap_or_else(|| "Unknown".into()),
            w.error.message.unwrap_or_default(),
        );
    }
    if let Ok(f) = serde_json::from_str::<Flat>(body)
        && (f.code.is_some() || f.message.is_some())
    {
        return (
            f.code.unwrap_or_else(|| "Unknown".into()),
            f.message.unwrap_or_default(),
        );
    }
    let text: String = body.chars().take(200).collect();
    ("Unknown".into(), text)
}

#[cfg(test)]
mod tests {
    use super::parse_error_body;

    #[test]
    fn both_error_shapes_are_read() {
        assert_eq!(
            parse_error_body(r#"{"error":{"code":"AuthorizationFailed","message":"no"}}"#),
            ("AuthorizationFailed".into(), "no".into())
        );
        assert_eq!(
            parse_error_body(
                r#"{"code":"ResourceTypeNotSupported","message":"The resource type does not support diagnostic settings."}"#
            ),
            (
                "ResourceTypeNotSupported".into(),
                "The resource type does not support diagnostic settings.".into()
            )
        );
        assert_eq!(parse_error_body("<html>bad gateway</html>").0, "Unknown");
        let echoed = r#"{"error":{"code":"BadRequest","message":"header Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig was rejected"}}"#;
        let (_, m) = parse_error_body(echoed);
        assert!(!m.contains("eyJhbGci"), "{m}");
    }
}

//! Plain HTTP GETs to the in-process sandbox's own endpoints: its SNS email
//! outbox, and the confirmation links in the emails it holds. Only URLs under
//! the sandbox's endpoint are fetched, so a link in a message can never make
//! the console reach elsewhere.

use std::time::Duration;

use crate::http_client;

/// A failed GET to the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxClientError {
    #[error("{0} is not under the sandbox endpoint")]
    Foreign(String),
    #[error("the sandbox could not be reached: {0}")]
    Unreachable(String),
    /// The sandbox refused the request itself (4xx): the link is stale or
    /// wrong, which the user can act on. `code` is the AWS error code the
    /// sandbox answered with (`InvalidParameter` for a used-up token).
    #[error("the sandbox refused the request ({status}): {code} {message}")]
    Refused { status: http::StatusCode, code: String, message: String },
    #[error("the sandbox answered {0}")]
    Status(http::StatusCode),
}

/// How long one GET may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// GETs `url`, which must start with `endpoint` (`http://host:port`), and
/// returns the body as text.
pub async fn get(endpoint: &str, url: &str) -> Result<String, SandboxClientError> {
    let prefix = format!("{}/", endpoint.trim_end_matches('/'));
    if !url.starts_with(&prefix) {
        return Err(SandboxClientError::Foreign(url.to_owned()));
    }
    let uri: http::Uri =
        url.parse().map_err(|e: http::uri::InvalidUri| SandboxClientError::Unreachable(e.to_string()))?;
    let request =
        http_client::Request { method: http::Method::GET, uri: &uri, body: None, tls: None, timeout: TIMEOUT };
    let answer = http_client::send(request).await.map_err(|error| match error {
        http_client::HttpClientError::TimedOut(_) => SandboxClientError::Unreachable("no answer in time".into()),
        http_client::HttpClientError::Failed(text) => SandboxClientError::Unreachable(text),
    })?;
    if answer.status.is_client_error() {
        let (code, message) = aws_error(&answer.body);
        return Err(SandboxClientError::Refused { status: answer.status, code, message });
    }
    if !answer.status.is_success() {
        return Err(SandboxClientError::Status(answer.status));
    }
    Ok(answer.body)
}

/// The `Code` and `Message` of an AWS Query-protocol error body
/// (`<ErrorResponse><Error><Code>…</Code><Message>…</Message>`), as the
/// sandbox's SNS answers an unusable confirmation link.
fn aws_error(body: &str) -> (String, String) {
    let element = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        body.split_once(&open).and_then(|(_, rest)| rest.split_once(&close)).map(|(text, _)| text.trim().to_owned())
    };
    (element("Code").unwrap_or_else(|| "Unknown".into()), element("Message").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    // https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html (Query error shape)
    #[test]
    fn query_error_bodies_give_their_code_and_message() {
        let body = "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type>\
                    <Code>InvalidParameter</Code><Message>Invalid token</Message></Error></ErrorResponse>";
        assert_eq!(aws_error(body), ("InvalidParameter".to_owned(), "Invalid token".to_owned()));
        assert_eq!(aws_error("not xml"), ("Unknown".to_owned(), String::new()));
    }
}

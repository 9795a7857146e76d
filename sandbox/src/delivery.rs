//! Outbound HTTP: the POSTs SNS makes to `http` subscribers, with the
//! headers AWS sends. The queue of what is owed, and the retry policy, are
//! SNS's ([`crate::sns::SnsState::take_due_http`]); this module only sends.
//!
//! Headers: <https://docs.aws.amazon.com/sns/latest/dg/http-header.html>.

use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;

use crate::sns::HttpDelivery;

/// How long one attempt may take before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);

/// POSTs one delivery; `Ok` when the subscriber answered 2xx.
pub async fn post(delivery: &HttpDelivery) -> Result<(), String> {
    match tokio::time::timeout(ATTEMPT_TIMEOUT, attempt(delivery)).await {
        Ok(result) => result,
        Err(_) => Err("the subscriber did not answer in time".to_owned()),
    }
}

async fn attempt(delivery: &HttpDelivery) -> Result<(), String> {
    let uri: http::Uri = delivery.url.parse().map_err(|_| format!("{} is not a URL", delivery.url))?;
    if uri.scheme_str() != Some("http") {
        // The sandbox has no TLS client for https endpoints.
        return Err(format!("the sandbox delivers only to http:// endpoints, not {}", delivery.url));
    }
    let host = uri.host().ok_or("the endpoint names no host")?.to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = http::Request::builder()
        .method(http::Method::POST)
        .uri(path)
        .header(http::header::HOST, uri.authority().map_or(host.clone(), |a| a.to_string()))
        .header(http::header::CONTENT_TYPE, "text/plain; charset=UTF-8")
        .header(http::header::USER_AGENT, "Amazon Simple Notification Service Agent")
        .header("x-amz-sns-message-type", delivery.message_type.as_str())
        .header("x-amz-sns-message-id", delivery.message_id.as_str())
        .header("x-amz-sns-topic-arn", delivery.topic_arn.as_str());
    if let Some(subscription) = &delivery.subscription_arn {
        request = request.header("x-amz-sns-subscription-arn", subscription.as_str());
    }
    let request = request.body(Full::new(bytes::Bytes::from(delivery.body.clone()))).map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status();
    // Drain the body so the connection closes cleanly.
    let _ = response.into_body().collect().await;
    if status.is_success() { Ok(()) } else { Err(format!("the subscriber answered {status}")) }
}

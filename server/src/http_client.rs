//! The console's one plain HTTP/1.1 client, for the few requests that are
//! not AWS API calls (those go through the SDK): the sandbox's own
//! endpoints, the lab application's routes, and the SNS signing
//! certificate on AWS. One request per fresh connection, over TCP or over
//! TLS with the caller's settings, within a time limit; the caller decides
//! which URLs it may fetch.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;

/// A response: its status and its body as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: http::StatusCode,
    pub body: String,
}

/// Why there is no answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("{0}")]
    Failed(String),
    #[error("no answer within {} s", .0.as_secs())]
    TimedOut(Duration),
}

/// One request: `method` to `uri` (absolute), with `body` sent as `content_type`
/// when given, over TLS when `tls` is given (port 443 unless the URI names one).
pub struct Request<'a> {
    pub method: http::Method,
    pub uri: &'a http::Uri,
    pub body: Option<(&'static str, Bytes)>,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub timeout: Duration,
}

/// Sends `request` and reads the whole answer.
pub async fn send(request: Request<'_>) -> Result<Answer, HttpClientError> {
    let timeout = request.timeout;
    match tokio::time::timeout(timeout, exchange(request)).await {
        Ok(result) => result.map_err(|error| HttpClientError::Failed(error.to_string())),
        Err(_) => Err(HttpClientError::TimedOut(timeout)),
    }
}

async fn exchange(request: Request<'_>) -> Result<Answer, Box<dyn std::error::Error + Send + Sync>> {
    let Request { method, uri, body, tls, .. } = request;
    let host = uri.host().ok_or("the URL has no host")?.to_owned();
    let port = uri.port_u16().unwrap_or(if tls.is_some() { 443 } else { 80 });
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
    let mut builder = http::Request::builder()
        .method(method)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(http::header::HOST, uri.authority().map_or(host.clone(), |a| a.to_string()));
    let body = match body {
        Some((content_type, bytes)) => {
            builder = builder.header(http::header::CONTENT_TYPE, content_type);
            bytes
        }
        None => Bytes::new(),
    };
    let request = builder.body(Full::new(body))?;
    let response = match tls {
        Some(config) => {
            let server_name = rustls::pki_types::ServerName::try_from(host)?;
            let stream = tokio_rustls::TlsConnector::from(config).connect(server_name, tcp).await?;
            send_on(TokioIo::new(stream), request).await?
        }
        None => send_on(TokioIo::new(tcp), request).await?,
    };
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok(Answer { status, body: String::from_utf8_lossy(&bytes).into_owned() })
}

/// The request over a new HTTP/1.1 connection on `io`.
async fn send_on<I>(
    io: I,
    request: http::Request<Full<Bytes>>,
) -> Result<http::Response<hyper::body::Incoming>, hyper::Error>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender.send_request(request).await
}

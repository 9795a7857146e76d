//! Requests to the console's router in-process (`tower`'s `oneshot`, no
//! socket), as a browser or a script would send them to [`LISTEN`], and
//! their replies read whole.

use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode, header};
use tower::ServiceExt;

use super::LISTEN;

/// The most of a reply a test reads.
const REPLY_LIMIT: usize = 1 << 24;

/// A reply, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The value of header `name` (empty when absent).
    pub fn header(&self, name: impl header::AsHeaderName) -> String {
        self.headers.get(name).map(|value| value.to_str().expect("ascii").to_owned()).unwrap_or_default()
    }
}

/// A request for `path` on the console, with its `Host`.
pub fn request(method: Method, path: &str) -> http::request::Builder {
    Request::builder().method(method).uri(path).header(header::HOST, LISTEN)
}

/// Sends `request` through `app` and reads the reply.
pub async fn send(app: &axum::Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), REPLY_LIMIT).await.expect("body");
    Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// `GET path`.
pub async fn get(app: &axum::Router, path: &str) -> Reply {
    send(app, request(Method::GET, path).body(Body::empty()).expect("request")).await
}

/// `POST path` with an urlencoded `form` (see [`form`]), asking for JSON
/// as the pages' server functions do.
pub async fn post_form(app: &axum::Router, path: &str, form: &str) -> Reply {
    let request = request(Method::POST, path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(form.to_owned()))
        .expect("request");
    send(app, request).await
}

/// `POST path` with a JSON body, asking for JSON.
pub async fn post_json(app: &axum::Router, path: &str, json: &serde_json::Value) -> Reply {
    let request = request(Method::POST, path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(json.to_string()))
        .expect("request");
    send(app, request).await
}

/// `fields` as an urlencoded form body.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(key, value)| format!("{}={}", encode(key), encode(value))).collect::<Vec<_>>().join("&")
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

//! Protection against cross-site requests for every form and server
//! function, the security headers on every response (`no-store` caching
//! included), and the request body limit.
//!
//! A state-changing request is refused when the browser says it comes from
//! another site: `Sec-Fetch-Site: cross-site`, or an `Origin` whose host is
//! not the one the request was sent to. Requests that carry neither header
//! (curl, the SDKs, very old browsers) are not browser cross-site requests
//! and pass. This is the check OWASP's CSRF cheat sheet describes under
//! "Verifying Origin with standard headers" and "Fetch Metadata headers".

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};

/// Axum middleware refusing cross-site state-changing requests with 403.
pub async fn reject_cross_site(request: Request<Body>, next: Next) -> Response {
    if is_cross_site(&request) {
        tracing::warn!(method = %request.method(), path = %request.uri().path(), "cross-site request refused");
        return (StatusCode::FORBIDDEN, "Cross-site requests are not allowed").into_response();
    }
    next.run(request).await
}

/// The Content-Security-Policy of responses that set none themselves (the
/// login page, server function replies, files, errors): styles and images
/// from the console only, no script at all. Pages set their own policy with
/// the nonce of their inline scripts (`keywatch_app::csp`).
pub const DEFAULT_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                                  base-uri 'none'; frame-ancestors 'none'";

/// Axum middleware adding the security headers to every response:
/// Content-Security-Policy (unless the page set its own), no MIME sniffing,
/// no framing (`frame-ancestors 'none'` and, for older browsers,
/// `X-Frame-Options`), and a referrer policy that keeps URLs (which carry
/// filters and ids) on this console. `same-origin` still sends the Referer
/// Leptos uses to return a form posted without JavaScript to its page.
pub async fn security_headers(mut request: Request<Body>, next: Next) -> Response {
    // Pages and server-function answers show the account's resources and
    // must not outlive a logout in a shared browser's cache; the site's
    // static files carry nothing private.
    let cacheable = request.uri().path().starts_with("/pkg/") || request.uri().path() == "/favicon.svg";
    let page_policy = keywatch_app::csp::PolicySlot::default();
    request.extensions_mut().insert(page_policy.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !cacheable && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = page_policy.policy().unwrap_or(HeaderValue::from_static(DEFAULT_POLICY));
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Largest request body the console reads: its forms and server functions
/// send a few kilobytes at most.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Axum middleware answering 413 to bodies over [`MAX_BODY_BYTES`] before
/// any handler reads them (Leptos would answer 500 for a body it could not
/// read). A body without a length is read up to the limit here.
pub async fn limit_body(request: Request<Body>, next: Next) -> Response {
    let too_large = || (StatusCode::PAYLOAD_TOO_LARGE, "The request body is too large").into_response();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_BODY_BYTES as u64 => too_large(),
        // hyper holds a declared body to its length.
        Some(_) => next.run(request).await,
        None if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) => next.run(request).await,
        None => {
            let (parts, body) = request.into_parts();
            match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
                Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
                Err(_) => too_large(),
            }
        }
    }
}

fn is_cross_site(request: &Request<Body>) -> bool {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let headers = request.headers();
    if headers.get("sec-fetch-site").is_some_and(|site| site == "cross-site" || site == "same-site") {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, authority)| authority.trim_end_matches('/'));
    // "null" origins (sandboxed frames, file: pages) have no host and fail here.
    match (origin_host, host) {
        (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(headers: &[(&str, &str)]) -> Request<Body> {
        let mut builder = Request::builder().method(Method::POST).uri("/api/connection/check");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).expect("request")
    }

    #[test]
    fn same_origin_and_non_browser_requests_pass() {
        assert!(!is_cross_site(&post(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:3000")])));
        assert!(!is_cross_site(&post(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "same-origin")])));
        assert!(!is_cross_site(&post(&[("host", "127.0.0.1:3000")])));
    }

    #[test]
    fn cross_site_requests_are_refused() {
        assert!(is_cross_site(&post(&[("host", "127.0.0.1:3000"), ("origin", "https://evil.example")])));
        assert!(is_cross_site(&post(&[("host", "127.0.0.1:3000"), ("origin", "null")])));
        assert!(is_cross_site(&post(&[("host", "127.0.0.1:3000"), ("sec-fetch-site", "cross-site")])));
        // Another port on the same host is another origin.
        assert!(is_cross_site(&post(&[("host", "127.0.0.1:3000"), ("origin", "http://127.0.0.1:8080")])));
    }
}

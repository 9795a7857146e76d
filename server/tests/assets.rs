//! Issue 20's serving through the console's real router: the bundle under
//! `/pkg/` from its precompressed `.br`/`.gz` siblings as `Accept-Encoding`
//! allows (identity otherwise), pages and server-function JSON compressed
//! on the fly, `no-store` on pages, and caching of the bundle.

mod support;

use std::io::Read as _;

use axum::body::Body;
use http::{Method, StatusCode, header};
use support::World;
use support::requests::request;
use tower::ServiceExt as _;

/// The raw reply: status, headers and undecoded body bytes.
async fn fetch(
    app: &axum::Router,
    path: &str,
    accept_encoding: Option<&str>,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut builder = request(Method::GET, path);
    if let Some(accepted) = accept_encoding {
        builder = builder.header(header::ACCEPT_ENCODING, accepted);
    }
    // Bounded: a page that never ends (see the last test) fails here
    // instead of holding CI to its limit.
    let exchange = async {
        let response = app.clone().oneshot(builder.body(Body::empty()).expect("request")).await.expect("response");
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.expect("body");
        (parts.status, parts.headers, bytes.to_vec())
    };
    match tokio::time::timeout(std::time::Duration::from_secs(60), exchange).await {
        Ok(answer) => answer,
        Err(_) => panic!("GET {path} ({accept_encoding:?}) did not finish within 60 s"),
    }
}

fn header_of(headers: &http::HeaderMap, name: header::HeaderName) -> &str {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
}

fn unbrotli(bytes: &[u8]) -> String {
    let mut text = String::new();
    brotli::Decompressor::new(bytes, 4096).read_to_string(&mut text).expect("brotli");
    text
}

fn ungzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut text).expect("gzip");
    text
}

#[tokio::test]
async fn the_bundle_is_served_precompressed_as_the_browser_accepts() {
    let world = World::new().await;
    let pkg = world.dir.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    let script = "export function hydrate() { /* the bundle */ }\n".repeat(400);
    std::fs::write(pkg.join("keywatch.js"), &script).expect("js");
    keywatch::assets::precompress(world.dir.path()).expect("precompress");
    let app = world.app(world.auth().await);

    let (status, headers, body) = fetch(&app, "/pkg/keywatch.js", Some("gzip, deflate, br, zstd")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), "br");
    assert!(header_of(&headers, header::CONTENT_TYPE).contains("javascript"), "{headers:?}");
    assert!(body.len() < script.len() / 10, "{} bytes", body.len());
    assert_eq!(unbrotli(&body), script);
    // Without hashed names (no cargo-leptos hash file here) a reload
    // revalidates; pages' `no-store` is not applied to the bundle.
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-cache");

    let (_, headers, body) = fetch(&app, "/pkg/keywatch.js", Some("gzip")).await;
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), "gzip");
    assert_eq!(ungzip(&body), script);

    let (_, headers, body) = fetch(&app, "/pkg/keywatch.js", None).await;
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), "");
    assert_eq!(String::from_utf8(body).expect("utf-8"), script);

    let (status, _, _) = fetch(&app, "/pkg/missing.js", Some("br")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hashed_bundles_are_immutable() {
    let site = tempfile::tempdir().expect("site");
    std::fs::create_dir(site.path().join("pkg")).expect("pkg");
    std::fs::write(site.path().join("pkg/keywatch.0123abcd.wasm"), [0u8, 97, 115, 109]).expect("wasm");
    let app: axum::Router = keywatch::assets::pkg_router(site.path(), true);
    let (status, headers, _) = fetch(&app, "/pkg/keywatch.0123abcd.wasm", Some("br")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert_eq!(header_of(&headers, header::CONTENT_TYPE), "application/wasm");
}

#[tokio::test]
async fn pages_are_compressed_on_the_fly_and_never_stored() {
    let world = World::new().await;
    let app = world.app(world.auth().await);

    let (status, plain_headers, plain) = fetch(&app, "/history", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&plain_headers, header::CONTENT_ENCODING), "");
    let plain = String::from_utf8(plain).expect("utf-8");
    assert!(plain.contains("<!DOCTYPE html>"), "{plain}");

    let (status, headers, body) = fetch(&app, "/history", Some("gzip, deflate, br, zstd")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), "br");
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-store");
    let page = unbrotli(&body);
    assert!(page.contains("<!DOCTYPE html>") && body.len() * 2 < page.len(), "{} of {}", body.len(), page.len());

    let (_, headers, body) = fetch(&app, "/history", Some("gzip")).await;
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), "gzip");
    assert!(ungzip(&body).contains("<!DOCTYPE html>"));
}

#[tokio::test]
async fn the_streamed_csv_export_is_compressed_whole() {
    let world = World::new().await;
    let app = world.app(world.auth().await);
    let (status, headers, body) = fetch(&app, "/history.csv?state=ALARM", Some("gzip,deflate,br")).await;
    assert_eq!(status, StatusCode::OK, "{headers:?}");
    assert_eq!(header_of(&headers, header::CONTENT_ENCODING), "br");
    assert!(unbrotli(&body).starts_with("timestamp,alarm_name,"), "{headers:?}");
}

/// Routers built while another serves pages (every test builds its own, in
/// parallel) must not hold that router's pages back: building one once
/// walked the App with leptos_server's process-wide "hold resources" flag
/// up, and a page rendered meanwhile waited forever for its resources.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_routers_are_built() {
    let world = World::new().await;
    let mut readers = Vec::new();
    for _ in 0..4 {
        let app = world.app(world.auth().await);
        readers.push(tokio::spawn(async move {
            for _ in 0..25 {
                let (status, _, body) = fetch(&app, "/history", None).await;
                assert_eq!(status, StatusCode::OK);
                assert!(String::from_utf8_lossy(&body).contains("</html>"));
            }
        }));
    }
    for reader in readers {
        reader.await.expect("reader");
    }
}

//! Issue 15's attacks, each reproduced against the console's router as
//! `serve` builds it (`web::app`), over an in-process sandbox and a
//! temporary database, and shown refused:
//! - DNS rebinding: a page under the attacker's name, resolved to loopback,
//!   posting and reading with `Host` and `Origin` both its own;
//! - parallel wrong logins racing the limit, a flood from many addresses
//!   locking the admin out, an IPv6 /64 rotating addresses, a restart
//!   resetting the limit;
//! - slow clients holding connections;
//! - `/healthz` details, caching, oversized bodies, a password that
//!   disappears while the console runs beyond loopback, file modes.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Method, Request, StatusCode, header};
use keywatch::auth::AuthSettings;
use support::World;
use support::requests::send;
use support::wire;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "correct horse battery staple";

/// A request as it arrives from `peer` over TCP, for `host`.
fn request(method: Method, path: &str, host: &str, peer: &str) -> http::request::Builder {
    let peer: SocketAddr =
        format!("{peer}:50000").parse().unwrap_or_else(|_| format!("[{peer}]:50000").parse().expect("peer"));
    Request::builder().method(method).uri(path).header(header::HOST, host).extension(ConnectInfo(peer))
}

fn login(peer: &str, password: &str) -> Request<Body> {
    request(Method::POST, "/login", support::LISTEN, peer)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("password={}", password.replace(' ', "+"))))
        .expect("request")
}

async fn with_password() -> World {
    let world = World::new().await;
    let hash = keywatch::auth::hash_password(PASSWORD).expect("hash");
    world.db.accounts().set_password_hash(keywatch::auth::ADMIN, &hash, 0).await.expect("stored");
    world
}

// Finding 1: with Host and Origin both the attacker's, the same-origin check
// passed and a POST changed the retention; reads worked the same way.
#[tokio::test]
async fn dns_rebinding_cannot_post_or_read() {
    let world = World::new().await;
    let app = world.app(world.auth().await);
    let rebound = "rebind.attacker.example:3000";
    let set_retention = |host: &str| {
        request(Method::POST, "/api/history/set-retention", host, "127.0.0.1")
            .header(header::ORIGIN, format!("http://{host}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("input[keep_days]=1"))
            .expect("request")
    };
    let reply = send(&app, set_retention(rebound)).await;
    assert_eq!(reply.status, StatusCode::MISDIRECTED_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("--allowed-host rebind.attacker.example"), "{}", reply.body);
    assert_eq!(world.db.history_retention().keep_days().await.expect("retention"), None, "nothing changed");
    for path in ["/", "/audit", "/healthz", "/history.csv", "/lab"] {
        let reply = send(&app, request(Method::GET, path, rebound, "127.0.0.1").body(Body::empty()).expect("r")).await;
        assert_eq!(reply.status, StatusCode::MISDIRECTED_REQUEST, "GET {path}");
    }
    let audit = world.db.audit().page(None, 100).await.expect("audit");
    assert!(audit.is_empty(), "the refused POST recorded nothing: {audit:?}");

    // The console's own names still work, and an operator can add one.
    assert_eq!(send(&app, set_retention("127.0.0.1:3000")).await.status, StatusCode::OK);
    assert_eq!(send(&app, set_retention("localhost:3000")).await.status, StatusCode::OK);
    let named = world.app_with(world.auth().await, &["keywatch.corp.example".to_owned()]);
    assert_eq!(send(&named, set_retention("keywatch.corp.example")).await.status, StatusCode::OK);
}

// Finding 3: the failure was counted after argon2 finished, so 60 parallel
// wrong logins from one address ran 35 checks (limit 5).
#[tokio::test]
async fn parallel_wrong_logins_from_one_address_run_at_most_five_password_checks() {
    let world = with_password().await;
    let auth = world.auth().await;
    let app = world.app(auth.clone());
    let attempts = (0..60).map(|n| {
        let app = app.clone();
        async move { send(&app, login("127.0.0.1", &format!("wrong guess number {n}"))).await.status }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let wrong = statuses.iter().filter(|status| **status == StatusCode::UNAUTHORIZED).count();
    let limited = statuses.iter().filter(|status| **status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((wrong, limited), (5, 55), "{statuses:?}");
    assert_eq!(auth.password_checks(), 5, "argon2 ran once per counted attempt");
}

// Finding 4: 50 failures spread over 127.0.0.2–.11 made the right password
// from 127.0.0.1 answer 429 for 15 minutes.
#[tokio::test]
async fn a_flood_from_other_addresses_never_locks_the_admin_out() {
    let world = with_password().await;
    let app = world.app(world.auth().await);
    for host in 2..=11 {
        for _ in 0..5 {
            let status = send(&app, login(&format!("127.0.0.{host}"), "not the password")).await.status;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
        // Each attacking address is limited itself.
        let status = send(&app, login(&format!("127.0.0.{host}"), "not the password")).await.status;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    let reply = send(&app, login("127.0.0.1", PASSWORD)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "the admin logs in: {}", reply.body);
    assert!(reply.headers.get(header::SET_COOKIE).is_some());
}

// Finding 4, IPv6: limited per single address, so a /64 was unlimited.
#[tokio::test]
async fn ipv6_addresses_are_limited_per_64() {
    let world = with_password().await;
    let app = world.app(world.auth().await);
    for n in 1..=5 {
        assert_eq!(send(&app, login(&format!("2001:db8:0:1::{n}"), "guess")).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(send(&app, login("2001:db8:0:1:ffff::7", "guess")).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(send(&app, login("2001:db8:0:2::1", "guess")).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_login_limit_survives_a_restart() {
    let world = with_password().await;
    let app = world.app(world.auth().await);
    for _ in 0..5 {
        assert_eq!(send(&app, login("127.0.0.9", "guess")).await.status, StatusCode::UNAUTHORIZED);
    }
    // A new process: a new router and limiter on the same database.
    let restarted = world.app(world.auth().await);
    assert_eq!(send(&restarted, login("127.0.0.9", PASSWORD)).await.status, StatusCode::TOO_MANY_REQUESTS);
    // A success from elsewhere does not lift it, and forgets its own failures.
    assert_eq!(send(&restarted, login("127.0.0.1", PASSWORD)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(send(&restarted, login("127.0.0.9", PASSWORD)).await.status, StatusCode::TOO_MANY_REQUESTS);
}

// Finding 5: no header-read timeout; 250 half-sent requests made /healthz
// time out and exhausted file descriptors.
#[tokio::test]
async fn slow_clients_are_closed_and_healthz_keeps_answering() {
    let world = World::new().await;
    let addr = support::world::serve(world.app(world.auth().await)).await;
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(b"POST /api/history/set-retention HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.expect("w");
        slow.push(stream);
    }
    let health = tokio::time::timeout(
        Duration::from_secs(5),
        wire::send_async(&addr.to_string(), wire::Request::get("/healthz")),
    )
    .await
    .expect("answered within 5 s")
    .expect("read")
    .head;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // Closed at the header-read timeout (10 s), not held.
    let deadline = tokio::time::Instant::now() + keywatch_net::Limits::CONSOLE.header_read_timeout * 2;
    for stream in &mut slow {
        let mut buffer = [0u8; 256];
        loop {
            match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
                Err(_) => panic!("a half-sent request was still open after twice the header timeout"),
                Ok(Ok(0) | Err(_)) => break,
                Ok(Ok(_)) => {}
            }
        }
    }
}

// Finding 6: /healthz showed AWS's error text to anyone.
#[tokio::test]
async fn healthz_gives_details_only_with_a_session() {
    let world = with_password().await;
    let app = world.app(world.auth().await);
    let error = keywatch::error::ServerError::Config("User arn:aws:iam::111122223333:user/ci is not authorized".into());
    keywatch::metrics::global().poller_failed("attacks-test-poller", keywatch::pollers::fault(&error));

    let anonymous =
        send(&app, request(Method::GET, "/healthz", support::LISTEN, "127.0.0.1").body(Body::empty()).expect("r"))
            .await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert!(
        anonymous.body.contains("\"degraded\"") && anonymous.body.contains("attacks-test-poller"),
        "{}",
        anonymous.body
    );
    assert!(!anonymous.body.contains("111122223333"), "no error text without a session: {}", anonymous.body);

    let logged_in = send(&app, login("127.0.0.1", PASSWORD)).await;
    let cookie = logged_in.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).expect("cookie");
    let cookie = cookie.split(';').next().expect("pair").to_owned();
    let detailed = send(
        &app,
        request(Method::GET, "/healthz", support::LISTEN, "127.0.0.1")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("r"),
    )
    .await;
    assert!(detailed.body.contains("111122223333"), "details with a session: {}", detailed.body);
}

// Finding 7: the loopback-only rule was checked at start-up only.
#[tokio::test]
async fn without_a_password_nothing_is_served_beyond_loopback() {
    let world = with_password().await;
    let beyond = AuthSettings { listen_beyond_loopback: true, ..AuthSettings::default() };
    let app = world.app(keywatch::auth::Auth::load(world.db.clone(), beyond).await.expect("auth"));
    let page = || request(Method::GET, "/login", support::LISTEN, "192.0.2.5").body(Body::empty()).expect("r");
    assert_eq!(send(&app, page()).await.status, StatusCode::OK, "with a password the login page is served");
    // The password disappears while the console runs (database edited, variable unset…).
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", world.db_path.display())).await.expect("pool");
    sqlx::query("DELETE FROM admin_account").execute(&pool).await.expect("deleted");
    pool.close().await;
    let reply = send(&app, page()).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.body.contains("keywatch user set-password"), "{}", reply.body);

    // On loopback without a password, a client that is not local (through a
    // trusted proxy) is refused too.
    let world = World::new().await;
    let proxied = AuthSettings { trust_proxy_headers: true, ..AuthSettings::default() };
    let app = world.app(keywatch::auth::Auth::load(world.db.clone(), proxied).await.expect("auth"));
    let from_outside = request(Method::GET, "/audit", support::LISTEN, "127.0.0.1")
        .header("x-forwarded-for", "198.51.100.20")
        .body(Body::empty())
        .expect("r");
    assert_eq!(send(&app, from_outside).await.status, StatusCode::SERVICE_UNAVAILABLE);
    let local = request(Method::GET, "/audit", support::LISTEN, "127.0.0.1").body(Body::empty()).expect("r");
    assert_eq!(send(&app, local).await.status, StatusCode::OK);
}

// Finding 7: no Cache-Control on logged-in pages; 500 for oversized bodies.
#[tokio::test]
async fn pages_are_not_stored_and_oversized_bodies_get_413() {
    let world = World::new().await;
    let app = world.app(world.auth().await);
    for (method, path) in [(Method::GET, "/audit"), (Method::GET, "/healthz"), (Method::POST, "/api/session/info")] {
        let reply =
            send(&app, request(method.clone(), path, support::LISTEN, "127.0.0.1").body(Body::empty()).expect("r"))
                .await;
        assert_eq!(
            reply.headers.get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
            Some(&b"no-store"[..]),
            "{method} {path}"
        );
    }
    let huge = "input[keep_days]=".to_owned() + &"9".repeat(2 * 1024 * 1024);
    let declared = request(Method::POST, "/api/history/set-retention", support::LISTEN, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, huge.len())
        .body(Body::from(huge.clone()))
        .expect("r");
    assert_eq!(send(&app, declared).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let chunked = request(Method::POST, "/api/history/set-retention", support::LISTEN, "127.0.0.1")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(huge))
        .expect("r");
    assert_eq!(send(&app, chunked).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(world.db.history_retention().keep_days().await.expect("retention"), None);
}

// Finding 6: keywatch.db was created 0644 in a 0755 directory.
#[cfg(unix)]
#[tokio::test]
async fn the_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fresh").join("keywatch.db");
    let db = keywatch::db::Database::open(&path).await.expect("database");
    db.ping().await.expect("ping");
    let mode = |path: &std::path::Path| std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().expect("parent")), 0o700);
    let wal = path.with_extension("db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
}

// Finding 7: /alarms/edit logged a Leptos SSR panic ("reactive value …
// disposed") in about one load of four. The cause: the page read a
// LocalResource (which never loads on the server) under its Suspense, so
// the render gave up, served the fallback and ran the rest on disposed
// signals. Every load now renders the editor itself.
#[tokio::test]
async fn the_alarm_page_renders_its_editor_on_every_load() {
    let world = World::new().await;
    world.put_alarm("pattern1-manual-alarm", "Pattern1Application/KMSSecurity").await;
    let app = world.app(world.auth().await);
    for load in 0..20 {
        let page = request(Method::GET, "/alarms/edit?name=pattern1-manual-alarm", support::LISTEN, "127.0.0.1")
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .expect("r");
        let reply = send(&app, page).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.body.contains(r#"aria-label="Settings""#), "load {load} rendered no editor: {}", reply.body);
    }
}

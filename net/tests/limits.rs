//! The connection loop against real sockets: half-sent requests are closed
//! at the header-read timeout while other clients are answered, slow
//! handlers get 408, the connection cap holds excess clients back without
//! refusing them, and the Host allow-list refuses a rebound name.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use keywatch_net::{AllowedHosts, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMITS: Limits = Limits {
    header_read_timeout: Duration::from_millis(500),
    request_timeout: Duration::from_millis(500),
    max_connections: 64,
};

async fn start(limits: Limits) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = Router::new().route("/healthz", get(|| async { "ok" })).route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }),
    );
    let router = AllowedHosts::for_listener(addr, &[], "--allowed-host").protect(router);
    tokio::spawn(keywatch_net::serve(listener, router, limits, std::future::pending()));
    addr
}

/// One whole request on a fresh connection; the status code.
async fn status(addr: std::net::SocketAddr, path: &str, host: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0)
}

/// Whether the server has closed `stream` (EOF or reset) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buffer = [0u8; 512];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A 408 or similar before the close is fine; keep reading to the end.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn half_sent_requests_are_closed_while_others_are_answered() {
    let addr = start(LIMITS).await;
    let mut slow = Vec::new();
    for _ in 0..40 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        // The header never ends.
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.expect("write");
        slow.push(stream);
    }
    // An idle connection that sends nothing at all is held no longer.
    slow.push(TcpStream::connect(addr).await.expect("connect"));
    assert_eq!(status(addr, "/healthz", "127.0.0.1").await, 200, "answered while 41 clients dawdle");
    for stream in &mut slow {
        assert!(closed_within(stream, Duration::from_secs(5)).await, "a half-sent request was left open");
    }
}

#[tokio::test]
async fn slow_handlers_answer_408() {
    let addr = start(LIMITS).await;
    assert_eq!(status(addr, "/slow", "127.0.0.1").await, 408);
}

#[tokio::test]
async fn the_connection_cap_queues_clients_instead_of_refusing_them() {
    let addr = start(Limits { max_connections: 4, ..LIMITS }).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.expect("write");
        held.push(stream);
    }
    // Over the cap: served once the header-read timeout frees a slot.
    assert_eq!(status(addr, "/healthz", "localhost").await, 200);
}

#[tokio::test]
async fn a_rebound_host_is_refused_before_routing() {
    let addr = start(LIMITS).await;
    assert_eq!(status(addr, "/healthz", &format!("rebind.attacker.example:{}", addr.port())).await, 421);
    assert_eq!(status(addr, "/healthz", &format!("localhost:{}", addr.port())).await, 200);
}

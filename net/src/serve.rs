//! The connection loop: accepts while under the connection cap, serves
//! each connection with hyper's HTTP/1.1 server and a header-read timeout,
//! times out slow requests, and shuts down gracefully.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use http::{Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// The limits one listener enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A client must send a request's whole header within this; it also
    /// bounds how long an idle keep-alive connection is held.
    pub header_read_timeout: Duration,
    /// A request must be answered (body read, handler done, response head
    /// sent) within this, or it gets 408. Streaming response bodies are not
    /// cut.
    pub request_timeout: Duration,
    /// Connections served at once; further clients wait in the kernel's
    /// accept queue until one closes.
    pub max_connections: usize,
}

impl Limits {
    /// The console: pages and server functions answer within seconds; the
    /// longest wait is a change-set preview on live AWS.
    pub const CONSOLE: Limits = Limits {
        header_read_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(120),
        max_connections: 256,
    };

    /// The sandbox: SDK clients keep connections in pools and SQS's long
    /// poll holds a request for up to 20 s.
    pub const SANDBOX: Limits = Limits {
        header_read_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(60),
        max_connections: 512,
    };

    /// The lab's application (and the sandbox's load balancers in front of
    /// it): each request is one KMS call and one database row.
    pub const WORKLOAD: Limits = Limits {
        header_read_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(30),
        max_connections: 256,
    };
}

/// Serves `router` on `listener` within `limits` until `shutdown`
/// completes, then stops accepting and lets open connections finish their
/// request in flight (callers bound that wait themselves). Handlers see the
/// peer as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // Waiting for a permit before accepting leaves excess clients in the
        // kernel's queue instead of spending a descriptor on each.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // EMFILE and friends: back off instead of spinning; the
                    // listener itself is still good.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let call = router.clone().oneshot(request.map(Body::new));
            async move {
                Ok::<Response, Infallible>(match tokio::time::timeout(limits.request_timeout, call).await {
                    Ok(Ok(response)) => response,
                    Ok(Err(never)) => match never {},
                    Err(_) => (StatusCode::REQUEST_TIMEOUT, "The request took too long\n").into_response(),
                })
            }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Timeouts and resets are how slow or vanished clients end.
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

//! Keywatch's sandbox: an offline stand-in for the AWS services Keywatch uses.
//!
//! It is an HTTP server on loopback that answers the official SDKs, the AWS
//! CLI and boto3 in each service's real wire protocol. Requests are decoded
//! by [`protocol`], run by plain service logic that never sees HTTP, and
//! encoded back in the protocol they came in.

pub mod error;
pub mod identity;
pub mod protocol;
pub mod sts;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::get;
use http::{HeaderMap, Method, Response, Uri};
use tokio::net::TcpListener;

use error::AwsError;
use identity::Principal;
use protocol::value::Value;
use protocol::{AwsRequest, ResponseContext};

/// Largest request body accepted; AWS's own limits are smaller for every
/// operation the sandbox serves (PutLogEvents: 1 MiB).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How the sandbox is set up.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The region requests are served in when they name none.
    pub default_region: String,
    /// Where state survives restarts; `None` keeps everything in memory.
    pub state_dir: Option<PathBuf>,
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox state directory {path} cannot be used: {source}")]
    StateDir { path: PathBuf, source: std::io::Error },
    #[error("the sandbox cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

struct Shared {
    config: SandboxConfig,
}

/// The sandbox, ready to serve.
#[derive(Clone)]
pub struct Sandbox {
    shared: Arc<Shared>,
}

/// A sandbox serving in the background of this process.
#[derive(Debug)]
pub struct RunningSandbox {
    /// The URL to give SDK clients as their endpoint.
    pub endpoint_url: String,
    pub local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sandbox {
    /// Prepares a sandbox, creating its state directory if one is configured.
    pub fn new(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        if let Some(path) = &config.state_dir {
            std::fs::create_dir_all(path).map_err(|source| SandboxError::StateDir { path: path.clone(), source })?;
            // Fail now, not on the first write, if the directory is read-only.
            let probe = path.join(".keywatch-write-probe");
            std::fs::write(&probe, b"ok")
                .and_then(|()| std::fs::remove_file(&probe))
                .map_err(|source| SandboxError::StateDir { path: path.clone(), source })?;
        }
        Ok(Sandbox { shared: Arc::new(Shared { config }) })
    }

    /// The sandbox's HTTP routes: one catch-all, because AWS routes by
    /// headers and body rather than by path.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/_keywatch/health", get(|| async { "ok" }))
            .fallback(handle)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(self.shared.clone())
    }

    /// Serves on `listener` until `shutdown` completes.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await
    }

    /// Starts serving on `addr` in the background (port 0 picks a free one).
    pub async fn start(self, addr: SocketAddr) -> Result<RunningSandbox, SandboxError> {
        let listener = TcpListener::bind(addr).await.map_err(|source| SandboxError::Listen { addr, source })?;
        let local_addr = listener.local_addr().map_err(|source| SandboxError::Listen { addr, source })?;
        let router = self.router();
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "sandbox server stopped");
            }
        });
        Ok(RunningSandbox { endpoint_url: format!("http://{local_addr}"), local_addr, task })
    }
}

async fn handle(State(shared): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response<Body> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (context, result) = match protocol::decode(&method, &uri, &headers, body, &shared.config.default_region, request_id) {
        Ok(request) => {
            let context = request.response_context();
            let result = dispatch(&shared, &request, &context);
            (context, result)
        }
        Err((context, error)) => (context, Err(error)),
    };
    let outcome = result.as_ref().map_or_else(|error| error.code.clone(), |_| "ok".to_owned());
    tracing::info!(
        service = %context.service,
        operation = %context.operation,
        outcome = %outcome,
        elapsed_us = started.elapsed().as_micros() as u64,
        "sandbox call"
    );
    protocol::encode(&context, result)
}

fn dispatch(_shared: &Shared, request: &AwsRequest, context: &ResponseContext) -> Result<Value, AwsError> {
    let caller = caller(request);
    match request.service.as_str() {
        "sts" => match sts::StsRequest::from_operation(&request.operation) {
            Some(operation) => sts::handle(&operation, &caller),
            None => Err(protocol::unknown_operation(context)),
        },
        _ => Err(protocol::unknown_operation(context)),
    }
}

/// The principal a request's credentials map to.
fn caller(request: &AwsRequest) -> Principal {
    let partition = keywatch_domain::region::find(&request.region)
        .map_or("aws", |region| region.partition.as_str());
    Principal::default_user(partition, request.scope.as_ref().map(|scope| scope.access_key_id.clone()))
}

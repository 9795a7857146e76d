//! Keywatch's workload: the lab's application, which encrypts users' text
//! with the app's KMS key, keeps the ciphertext per Name and decrypts it for
//! whoever presents the right key. A wrong key makes KMS fail, CloudTrail
//! records the failure, and that is what the lab's alarm counts.
//!
//! The binary reads its settings from the environment
//! ([`WorkloadConfig::from_env`]); the sandbox builds a [`Workload`] from a
//! [`WorkloadConfig`] and an `SdkConfig` and serves it in-process.

pub mod config;
pub mod kms;
pub mod routes;
pub mod storage;
pub mod telemetry;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

pub use config::{ConfigError, MysqlConfig, StorageConfig, WorkloadConfig};
pub use routes::{AppState, app};

/// Why the workload could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("the ciphertext store cannot be opened: {0}")]
    Storage(#[from] storage::StorageError),
    #[error("cannot listen on port {port}: {source}")]
    Listen { port: u16, source: std::io::Error },
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
}

/// The lab application, ready to serve.
#[derive(Clone)]
pub struct Workload {
    config: WorkloadConfig,
    state: AppState,
}

impl Workload {
    /// Builds the workload from the environment: its settings
    /// ([`WorkloadConfig::from_env`]) and the AWS SDK's usual sources
    /// (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials, the ECS task role).
    pub async fn from_env() -> Result<Workload, WorkloadError> {
        let config = WorkloadConfig::from_env()?;
        let sdk = aws_config::load_from_env().await;
        Workload::new(config, &sdk).await
    }

    /// Builds the workload from explicit settings and SDK configuration,
    /// opening (and if needed creating) the ciphertext store.
    pub async fn new(config: WorkloadConfig, sdk: &aws_config::SdkConfig) -> Result<Workload, WorkloadError> {
        let store = storage::open(&config.storage, sdk).await?;
        let kms = kms::Kms::new(aws_sdk_kms::Client::new(sdk));
        let state = AppState::new(kms, store, config.key_id.as_str());
        Ok(Workload { config, state })
    }

    /// The settings the workload was built with.
    pub fn config(&self) -> &WorkloadConfig {
        &self.config
    }

    /// The workload's routes (see [`app`]).
    pub fn router(&self) -> Router {
        app(self.state.clone())
    }

    /// Binds `0.0.0.0:<port>` from the configuration.
    pub async fn bind(&self) -> Result<TcpListener, WorkloadError> {
        let port = self.config.port;
        TcpListener::bind(("0.0.0.0", port)).await.map_err(|source| WorkloadError::Listen { port, source })
    }

    /// Serves on `listener` until `shutdown` completes, then finishes the
    /// requests in flight.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), WorkloadError> {
        // Header-read and request timeouts and a connection cap: behind an
        // ALB or not, slow clients must not hold every descriptor.
        keywatch_net::serve(listener, self.router(), keywatch_net::Limits::WORKLOAD, shutdown)
            .await
            .map_err(WorkloadError::Serve)
    }
}

/// Completes on Ctrl-C or SIGTERM (what ECS sends to stop a task).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

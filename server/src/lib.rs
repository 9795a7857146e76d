//! The Keywatch console server: configuration, AWS SDK wrappers, SQLite
//! repositories, and the axum application that serves the Leptos UI.
//!
//! `main.rs` only parses the command line; everything it runs is here so that
//! integration tests drive the same code.

pub mod aws;
pub mod backend;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod lab;
pub mod pollers;
pub mod sandbox_client;
pub mod sandbox_tasks;
pub mod security;
pub mod sns_endpoint;
pub mod thresholds;
pub mod web;

use std::sync::Arc;

use keywatch_app::api::backend::ConsoleBackend;
use keywatch_app::api::connection::{AwsMode, ConsoleSettings};
use keywatch_app::api::lab::port::LabBackend;
use keywatch_app::api::thresholds::port::ThresholdsBackend;
use keywatch_sandbox::{Sandbox, SandboxConfig};
use tokio::net::TcpListener;

use crate::aws::Aws;
use crate::backend::ServerBackend;
use crate::cli::SandboxArgs;
use crate::config::ServeConfig;
use crate::db::Database;
use crate::error::ServerError;
use crate::lab::ServerLab;
use crate::pollers::stack_watcher::{self, StackWatcher};

/// Runs the console until a shutdown signal arrives.
pub async fn serve(config: ServeConfig) -> Result<(), ServerError> {
    let db = Database::open(&config.database).await?;
    // In sandbox mode the sandbox runs in this process, on a free loopback
    // port, and every SDK client is pointed at it.
    let (aws, sandbox) = match config.mode {
        AwsMode::Sandbox => {
            let sandbox_config = SandboxConfig {
                default_region: config.region.code.to_owned(),
                state_dir: Some(config.sandbox_state_dir()),
                cloudtrail_delivery_delay: config.cloudtrail_delay,
                stack_pace: config.stack_pace,
                faults: config.faults.clone(),
                ..SandboxConfig::default()
            };
            let sandbox = Sandbox::new(sandbox_config)?;
            sandbox.set_task_launcher(sandbox_tasks::workload_launcher());
            let running = sandbox.start(([127, 0, 0, 1], 0).into()).await?;
            (Aws::sandbox(&running.endpoint_url, config.region.code), Some(running))
        }
        AwsMode::Live => (Aws::live(config.region.code, config.profile.as_deref()).await, None),
    };
    let settings = ConsoleSettings {
        mode: config.mode,
        mode_source: config.mode_source,
        region: config.region.code.to_owned(),
        region_name: config.region.display_name.to_owned(),
        profile: config.profile.clone(),
        sandbox_endpoint: sandbox.as_ref().map(|running| running.endpoint_url.clone()),
    };
    let server_lab = ServerLab::new(aws.clone(), db.clone(), settings.region.clone(), config.mode == AwsMode::Sandbox);
    // A teardown cut short by a stop is finished now.
    if let Err(error) = server_lab.resume_teardown().await {
        tracing::warn!(?error, "an unfinished teardown could not be resumed");
    }
    let lab: Arc<dyn LabBackend> = Arc::new(server_lab);
    let thresholds: Arc<dyn ThresholdsBackend> =
        Arc::new(thresholds::ServerThresholds::new(aws.clone(), db.clone(), lab.clone()));
    // Follows deployments left unfinished by an earlier run as well as new ones.
    let watcher = StackWatcher::new(aws.cloudformation(), db.clone()).spawn(stack_watcher::INTERVAL);
    let sns_endpoint = Arc::new(sns_endpoint::SnsEndpoint::new(db.clone(), settings.sandbox_endpoint.clone()));
    let backend: Arc<dyn ConsoleBackend> = Arc::new(ServerBackend::new(aws.clone(), db.clone(), settings));
    // History rounds cost a DescribeAlarmHistory call per managed alarm on
    // live AWS, so they are less frequent there; notifications arrive
    // through the inbox's long poll either way.
    let interval = match config.mode {
        AwsMode::Sandbox => std::time::Duration::from_secs(3),
        AwsMode::Live => std::time::Duration::from_secs(30),
    };
    let pollers = pollers::Pollers::start(aws, db.clone(), pollers::PollerConfig::new(interval));

    // The Connection page should show who we are on first load.
    let first_check = backend.clone();
    tokio::spawn(async move {
        if let Err(error) = first_check.check_connection().await {
            tracing::warn!(?error, "start-up connection check could not be recorded");
        }
    });

    let listener =
        TcpListener::bind(config.listen).await.map_err(|source| ServerError::Listen { addr: config.listen, source })?;
    // The SNS endpoint is merged after the console's layers so SNS's POSTs
    // skip the cross-site check: their signature authenticates them.
    let router =
        web::router_with_thresholds(backend, lab, thresholds, web::leptos_options(&config.site_root, config.listen))
            .merge(sns_endpoint::router(sns_endpoint));
    tracing::info!(
        url = %format!("http://{}", config.listen),
        mode = ?config.mode,
        region = config.region.code,
        database = %config.database.display(),
        "Keywatch console listening"
    );
    let served = axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await;
    watcher.abort();
    // Let the pollers and in-flight writes finish before the process exits.
    pollers.stop().await;
    db.close().await;
    drop(sandbox);
    served.map_err(ServerError::Serve)
}

/// Runs only the sandbox until a shutdown signal arrives.
pub async fn serve_sandbox(args: SandboxArgs) -> Result<(), ServerError> {
    config::require_loopback(args.listen, "the sandbox")?;
    keywatch_domain::region::parse(&args.region).map_err(|error| ServerError::Config(format!("--region: {error}")))?;
    let sandbox = Sandbox::new(SandboxConfig {
        default_region: args.region.clone(),
        state_dir: args.state_dir.clone(),
        cloudtrail_delivery_delay: std::time::Duration::from_millis(args.cloudtrail_delay_ms),
        stack_pace: std::time::Duration::from_millis(args.stack_pace_ms),
        faults: args.faults.clone(),
        ..SandboxConfig::default()
    })?;
    sandbox.set_task_launcher(sandbox_tasks::workload_launcher());
    let listener =
        TcpListener::bind(args.listen).await.map_err(|source| ServerError::Listen { addr: args.listen, source })?;
    tracing::info!(endpoint = %format!("http://{}", args.listen), "Keywatch sandbox listening");
    sandbox.serve(listener, shutdown_signal()).await.map_err(ServerError::Serve)
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

//! The Keywatch console server: configuration, AWS SDK wrappers, SQLite
//! repositories, and the axum application that serves the Leptos UI.
//!
//! `main.rs` only parses the command line; everything it runs is here so that
//! integration tests drive the same code.

pub mod aws;
pub mod backend;
pub mod cli;
pub mod config;
pub mod console;
pub mod db;
pub mod error;
pub mod health;
pub mod lab;
pub mod metrics;
pub mod pollers;
pub mod sandbox_client;
pub mod sandbox_tasks;
pub mod security;
pub mod sns_endpoint;
pub mod web;

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use keywatch_app::api::connection::AwsMode;
use keywatch_sandbox::{Sandbox, SandboxConfig};
use tokio::net::TcpListener;

use crate::cli::SandboxArgs;
use crate::config::ServeConfig;
use crate::console::{Console, ConsoleBase};
use crate::db::Database;
use crate::error::ServerError;

/// Runs the console until a shutdown signal arrives.
pub async fn serve(config: ServeConfig) -> Result<(), ServerError> {
    let db = Database::open(&config.database).await?;
    // In sandbox mode the sandbox runs in this process, on a free loopback
    // port, and every SDK client is pointed at it.
    let sandbox = match config.mode {
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
            Some(sandbox.start(([127, 0, 0, 1], 0).into()).await?)
        }
        AwsMode::Live => None,
    };
    let (region, profile) = connection_to_use(&config, &db).await?;
    let sandbox_endpoint = sandbox.as_ref().map(|running| running.endpoint_url.clone());
    let sns_endpoint = Arc::new(sns_endpoint::SnsEndpoint::new(db.clone(), sandbox_endpoint.clone()));
    // History rounds cost a DescribeAlarmHistory call per managed alarm on
    // live AWS, so they are less frequent there; notifications arrive
    // through the inbox's long poll either way.
    let poller_interval = match config.mode {
        AwsMode::Sandbox => std::time::Duration::from_secs(3),
        AwsMode::Live => std::time::Duration::from_secs(30),
    };
    let base = ConsoleBase {
        db: db.clone(),
        mode: config.mode,
        mode_source: config.mode_source,
        sandbox_endpoint,
        poller_interval,
    };
    let console = Console::start(base, region, profile).await;

    let listener =
        TcpListener::bind(config.listen).await.map_err(|source| ServerError::Listen { addr: config.listen, source })?;
    // The SNS endpoint is merged after the console's layers so SNS's POSTs
    // skip the cross-site check: their signature authenticates them.
    let router = web::router_from(console.ports(), web::leptos_options(&config.site_root, config.listen))
        .merge(sns_endpoint::router(sns_endpoint))
        .merge(health::router(db.clone()))
        .layer(axum::middleware::from_fn(metrics::track_requests));
    tracing::info!(
        url = %format!("http://{}", config.listen),
        mode = ?config.mode,
        region = region.code,
        database = %config.database.display(),
        "Keywatch console listening"
    );
    let served = serve_until_stopped(listener, router).await;
    // Requests are done (or out of time); the stack watcher and the pollers
    // finish their round and commit, within pollers::STOP_GRACE.
    console.stop().await;
    db.close().await;
    drop(sandbox);
    tracing::info!("stopped");
    served
}

/// How long in-flight requests get after a stop signal. Container runtimes
/// send SIGKILL 10 s (Docker) to 30 s (Kubernetes) after SIGTERM; with the
/// pollers' [`pollers::STOP_GRACE`] on top, a stop takes 9 s at most.
pub const REQUEST_GRACE: Duration = Duration::from_secs(4);

/// Serves until the stop signal: then stops accepting connections, lets
/// in-flight requests finish for at most [`REQUEST_GRACE`]; the caller
/// then stops the background work.
async fn serve_until_stopped(listener: TcpListener, router: axum::Router) -> Result<(), ServerError> {
    let (stop, mut signalled) = tokio::sync::watch::channel(false);
    let graceful = {
        let mut signalled = stop.subscribe();
        async move {
            let _ = signalled.wait_for(|stopping| *stopping).await;
        }
    };
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let server = axum::serve(listener, router).with_graceful_shutdown(graceful).into_future();
    tokio::pin!(server);
    tokio::select! {
        served = &mut server => served.map_err(ServerError::Serve),
        () = async {
            let _ = signalled.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(REQUEST_GRACE).await;
        } => {
            tracing::warn!(grace_seconds = REQUEST_GRACE.as_secs(), "requests still in flight after the grace period; closing them");
            Ok(())
        }
    }
}

/// The Region and profile to start with: the flags when given, else the
/// choice last made on the Connection page, else the defaults.
pub async fn connection_to_use(
    config: &ServeConfig,
    db: &Database,
) -> Result<(&'static keywatch_domain::region::Region, Option<String>), ServerError> {
    if config.connection_given {
        return Ok((config.region, config.profile.clone()));
    }
    let Some(stored) = db.connection_choice().get().await? else {
        return Ok((config.region, config.profile.clone()));
    };
    match keywatch_domain::region::parse(&stored.region) {
        Ok(region) => Ok((region, stored.profile)),
        Err(error) => {
            tracing::warn!(%error, "ignoring the stored Region choice");
            Ok((config.region, config.profile.clone()))
        }
    }
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

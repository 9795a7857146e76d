//! The Keywatch console server: configuration, AWS SDK wrappers, SQLite
//! repositories, and the axum application that serves the Leptos UI.
//!
//! `main.rs` only parses the command line; everything it runs is here so that
//! integration tests drive the same code.

pub mod adoption;
pub mod alarms;
pub mod assets;
pub mod attack;
pub mod audit;
pub mod auth;
pub mod aws;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connection;
pub mod console;
pub mod db;
pub mod error;
pub mod health;
pub mod history;
pub mod http_client;
pub mod lab;
pub mod metrics;
pub mod operations;
pub mod pollers;
pub mod responses;
pub mod sandbox_client;
pub mod sandbox_tasks;
pub mod security;
pub mod sns_endpoint;
pub mod subscribers;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use keywatch_app::api::connection::AwsMode;
use keywatch_sandbox::{Sandbox, SandboxConfig};
use tokio::net::TcpListener;

use crate::cli::{SandboxArgs, SetPasswordArgs};
use crate::config::ServeConfig;
use crate::console::{Console, ConsoleBase};
use crate::db::Database;
use crate::error::ServerError;

/// Runs the console until a shutdown signal arrives.
pub async fn serve(config: ServeConfig) -> Result<(), ServerError> {
    let db = Database::open(&config.database).await?;
    private_directory(&config.data_dir)?;
    let auth = auth::Auth::load(
        db.clone(),
        auth::AuthSettings {
            env_password_hash: config.admin_password_hash.clone(),
            trust_proxy_headers: config.trust_proxy_headers,
            listen_beyond_loopback: !config.listen.ip().is_loopback(),
        },
    )
    .await?;
    let password_set = auth.password_set().await?;
    config::require_password_beyond_loopback(config.listen, password_set)?;
    if !password_set {
        tracing::warn!("no admin password is set: the console runs without authentication (loopback only)");
    }
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
    let alarm_topics = sns_endpoint::AlarmTopicList::default();
    let sns_endpoint =
        Arc::new(sns_endpoint::SnsEndpoint::new(db.clone(), sandbox_endpoint.clone(), alarm_topics.clone()));
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
        alarm_topics,
        cloudtrail_delay: config.cloudtrail_delay,
        public_url: config.public_url.clone(),
    };
    // Attack runs whose task died with the previous process are marked so.
    if let Err(error) = db.attack_runs().interrupt_running(clock::now_ms()).await {
        tracing::warn!(%error, "unfinished attack runs could not be marked interrupted");
    }
    let console = Console::start(base, region, profile).await;

    let listener =
        TcpListener::bind(config.listen).await.map_err(|source| ServerError::Listen { addr: config.listen, source })?;
    let router = web::app(web::AppParts {
        ports: console.ports(),
        db: db.clone(),
        auth,
        sns_endpoint,
        leptos_options: web::leptos_options(&config.site_root, config.listen),
        allowed_hosts: config.allowed_hosts(),
    });
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
    let server = keywatch_net::serve(listener, router, keywatch_net::Limits::CONSOLE, graceful);
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

/// `keywatch user hash-password`: prints the argon2id PHC string of a new
/// password, for KEYWATCH_ADMIN_PASSWORD_HASH.
pub async fn print_password_hash() -> Result<(), ServerError> {
    println!("{}", new_password_hash().await?);
    Ok(())
}

/// Reads a new password and hashes it off the async workers.
async fn new_password_hash() -> Result<String, ServerError> {
    let password = tokio::task::spawn_blocking(read_new_password)
        .await
        .map_err(|error| ServerError::Config(format!("cannot read the password: {error}")))??;
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|error| ServerError::Config(format!("cannot hash the password: {error}")))?
        .map_err(|error| ServerError::Config(error.to_string()))
}

/// `keywatch user set-password`: reads a new admin password (from the
/// terminal without echo, twice, or from a pipe), stores its argon2id hash
/// and ends existing sessions.
pub async fn set_admin_password(args: SetPasswordArgs) -> Result<(), ServerError> {
    let (_, database) =
        config::database_location(args.data_dir.as_ref(), args.database.as_ref(), &|name| std::env::var(name).ok());
    let hash = new_password_hash().await?;
    let db = Database::open(&database).await?;
    let now = i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    db.accounts().set_password_hash(auth::ADMIN, &hash, now).await?;
    let ended = db.sessions().delete_for_user(auth::ADMIN).await?;
    let entry = db::audit::AuditEntry {
        user: "local (command line)".into(),
        action: db::audit::actions::PASSWORD_SET,
        target: auth::ADMIN.into(),
        outcome: db::audit::AuditOutcome::Succeeded,
        detail: Some(format!("{ended} session(s) ended")),
    };
    db.audit().record(entry).await;
    db.close().await;
    println!("Password set for {}; {ended} existing session(s) ended. Every page now asks for a login.", auth::ADMIN);
    Ok(())
}

/// The new password: typed twice without echo at a terminal, else the first
/// line of standard input (without its line ending).
fn read_new_password() -> Result<String, ServerError> {
    use std::io::{BufRead, IsTerminal};
    let unreadable = |error: std::io::Error| ServerError::Config(format!("cannot read the password: {error}"));
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!(
            "New password for {} (at least {} characters): ",
            auth::ADMIN,
            auth::MIN_PASSWORD_CHARS
        ))
        .map_err(unreadable)?;
        let again = rpassword::prompt_password("Again: ").map_err(unreadable)?;
        if first != again {
            return Err(ServerError::Config("the two passwords differ; nothing was changed".into()));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(unreadable)?;
    let password = line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(&line).to_owned();
    if password.is_empty() {
        return Err(ServerError::Config(
            "no password on standard input (pipe one in, or run this at a terminal); nothing was changed".into(),
        ));
    }
    Ok(password)
}

/// Creates Keywatch's data directory, or narrows an existing one, to its
/// owner alone (0700): it holds the database and the sandbox's keys.
fn private_directory(path: &std::path::Path) -> Result<(), ServerError> {
    let failed = |error: std::io::Error| ServerError::Config(format!("data directory {}: {error}", path.display()));
    std::fs::create_dir_all(path).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(failed)?;
    }
    Ok(())
}

/// `keywatch precompress`: the bundle's `.br` and `.gz`, with their sizes
/// printed for the build's log.
pub fn precompress_site(site_root: &std::path::Path) -> Result<(), ServerError> {
    let written = assets::precompress(site_root).map_err(|error| {
        ServerError::Config(format!("cannot precompress {}: {error}", site_root.join("pkg").display()))
    })?;
    for file in written {
        println!("{:<40} {:>9} bytes, brotli {:>9}, gzip {:>9}", file.file, file.raw, file.brotli, file.gzip);
    }
    Ok(())
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
        allowed_hosts: args.allowed_hosts.clone(),
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

//! The operations endpoints: `GET /healthz` (liveness and readiness, as
//! JSON) and `GET /metrics` (Prometheus text). Neither needs a login: a
//! container runtime and a scraper call them. Without a session `/healthz`
//! gives each check's status and kind only; the error texts (which can
//! carry AWS's words about the account) need a session, or a console
//! without a password.
//!
//! Readiness fails (503) only on what makes the console unusable: a
//! database that does not answer. A poller that AWS is throttling is a
//! degraded console, not a dead one: 200 with `"status": "degraded"`, so an
//! orchestrator does not restart it into the same throttling.
//!
//! The same poller state feeds the degraded-state panel
//! ([`crate::operations::PollerStatus`]).

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use serde::Serialize;

use keywatch_app::api::session::SessionInfo;

use crate::db::Database;
use crate::metrics;

/// How long the database check may take before it counts as failed.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

/// `/healthz`: mounted behind the session layer, which tells it whether the
/// caller may see details.
pub fn healthz_router(db: Database) -> Router {
    Router::new().route("/healthz", get(healthz)).with_state(db)
}

/// `/metrics`: counters and gauges with fixed labels, no error text.
pub fn metrics_router() -> Router {
    Router::new().route("/metrics", get(metrics::metrics_handler))
}

/// The `/healthz` body.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Health {
    /// `ok`, `degraded` (a poller is failing) or `unavailable` (a check failed).
    pub status: String,
    pub version: String,
    pub checks: Vec<Check>,
    pub pollers: Vec<PollerHealth>,
}

/// One readiness check.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    /// Why it failed.
    pub error: Option<String>,
}

/// One poller's state.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct PollerHealth {
    pub name: String,
    /// Seconds since its last successful round (since it started, before
    /// its first).
    pub seconds_since_success: f64,
    pub failing_rounds: u32,
    pub throttled: bool,
    pub error: Option<String>,
}

async fn healthz(State(db): State<Database>, session: Option<axum::Extension<SessionInfo>>) -> Response {
    // No session information means no session layer: fail closed.
    let details = session.is_some_and(|axum::Extension(session)| !session.password_required || session.user.is_some());
    let database = match tokio::time::timeout(DATABASE_TIMEOUT, db.ping()).await {
        Ok(Ok(())) => Check { name: "database".into(), ok: true, error: None },
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: the database did not answer");
            Check { name: "database".into(), ok: false, error: Some("the database query failed".into()) }
        }
        Err(_) => Check {
            name: "database".into(),
            ok: false,
            error: Some(format!("the database did not answer within {} s", DATABASE_TIMEOUT.as_secs())),
        },
    };
    let now_ms = i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let pollers: Vec<PollerHealth> = metrics::global()
        .pollers()
        .into_iter()
        .map(|(name, state)| PollerHealth {
            name: name.to_owned(),
            seconds_since_success: (now_ms - state.last_success_ms.unwrap_or(state.started_ms)) as f64 / 1000.0,
            failing_rounds: state.failing.as_ref().map_or(0, |failure| failure.rounds),
            throttled: state.failing.as_ref().is_some_and(|failure| failure.throttled),
            error: state.failing.map(|failure| failure.message),
        })
        .collect();
    let checks = vec![database];
    let (status, code) = if checks.iter().any(|check| !check.ok) {
        ("unavailable", StatusCode::SERVICE_UNAVAILABLE)
    } else if pollers.iter().any(|poller| poller.failing_rounds > 0) {
        ("degraded", StatusCode::OK)
    } else {
        ("ok", StatusCode::OK)
    };
    let mut body = Health { status: status.into(), version: env!("CARGO_PKG_VERSION").into(), checks, pollers };
    if !details {
        body.checks.iter_mut().for_each(|check| check.error = None);
        body.pollers.iter_mut().for_each(|poller| poller.error = None);
    }
    (code, axum::Json(body)).into_response()
}

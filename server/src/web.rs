//! The console's HTTP surface: [`app`] composes the whole router `serve`
//! runs and tests drive (Leptos pages and server functions, static files,
//! login, the SNS endpoint, `/healthz` and `/metrics`) with the middleware
//! around them all.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{StatusCode, header};
use keywatch_app::api::alarms::port::Alarms;
use keywatch_app::api::attack::port::Attack;
use keywatch_app::api::audit::port::Audit;
use keywatch_app::api::connection::port::Connection;
use keywatch_app::api::history::port::{History, HistoryBackend};
use keywatch_app::api::history::{HistoryCursor, HistoryEntry, HistoryFilter};
use keywatch_app::api::lab::port::Lab;
use keywatch_app::api::responses::port::Responses;
use keywatch_app::api::subscribers::port::Subscribers;
use keywatch_app::error::AppError;
use keywatch_app::{App, shell};
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};

use crate::auth::Auth;
use crate::console::{PortSource, Ports};
use crate::db::Database;
use crate::security::{reject_cross_site, security_headers};
use crate::sns_endpoint::SnsEndpoint;

/// Everything the console's router is built from.
pub struct AppParts {
    /// The backends requests use (switchable with the Region).
    pub ports: PortSource,
    pub db: Database,
    pub auth: Auth,
    pub sns_endpoint: Arc<SnsEndpoint>,
    pub leptos_options: LeptosOptions,
    /// The Host names the console answers to.
    pub allowed_hosts: keywatch_net::AllowedHosts,
}

/// The console's router, exactly as `serve` runs it; tests build it here
/// too, so there is no second composition to drift. From the outside in:
/// request metrics; the Host allow-list (before routing, so a rebound name
/// reaches nothing); security headers; the body limit; then the SNS
/// endpoint and `/metrics` (SNS signs its POSTs, scrapers carry no
/// session) beside the session layer, which guards the pages, server
/// functions and `/healthz` (details only with a session).
pub fn app(parts: AppParts) -> Router {
    let AppParts { ports, db, auth, sns_endpoint, leptos_options, allowed_hosts } = parts;
    let console = console_routes(ports, leptos_options).merge(crate::health::healthz_router(db));
    let app = crate::auth::protect(console, auth)
        .merge(crate::sns_endpoint::router(sns_endpoint))
        .merge(crate::health::metrics_router())
        .layer(axum::middleware::from_fn(crate::security::limit_body))
        .layer(axum::middleware::from_fn(security_headers));
    // Pages and server-function JSON compressed as the browser accepts
    // (the bundle under /pkg/ is precompressed and passes through as is).
    // No page reflects request input beside a secret, so compression gives
    // BREACH nothing to guess: sessions live in cookies, never in bodies.
    let app = app.layer(tower_http::compression::CompressionLayer::new().br(true).gzip(true));
    allowed_hosts.protect(app).layer(axum::middleware::from_fn(crate::metrics::track_requests))
}

/// The App's routes, walked once per process. Walking them renders the App
/// with every resource held back, and leptos_server holds them back with a
/// process-wide flag: a second walk while another router serves pages (tests
/// build one router per test, in parallel) left those pages waiting for
/// resources that never load. Walking once makes the flag's window the
/// process's start, before any page is served.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The console's own routes: the Leptos pages and server functions, the
/// CSV export and the static files. Each request uses the backends `ports`
/// holds when it arrives, so a Region switch takes effect at once.
fn console_routes(ports: PortSource, leptos_options: LeptosOptions) -> Router {
    let routes = route_list();
    let csv_ports = ports.clone();
    let context = move || {
        let Ports { connection, subscribers, history, audit, lab, attack, alarms, responses } = ports.current();
        provide_context(Connection(connection));
        provide_context(Subscribers(subscribers));
        provide_context(History(history));
        provide_context(Audit(audit));
        provide_context(Lab(lab));
        provide_context(Attack(attack));
        provide_context(Alarms(alarms));
        provide_context(Responses(responses));
        provide_context(keywatch_app::api::operations::port::Operations(Arc::new(crate::operations::PollerStatus)));
    };
    let page_options = leptos_options.clone();
    let site_root = std::path::PathBuf::from(leptos_options.site_root.as_ref());
    Router::new()
        .merge(crate::assets::pkg_router(&site_root, leptos_options.hash_files))
        .route(
            "/history.csv",
            get(move |Query(filter): Query<HistoryFilter>| {
                history_csv(csv_ports.current().history, filter.normalized())
            }),
        )
        .leptos_routes_with_context(&leptos_options, routes, context, move || shell(page_options.clone()))
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(axum::middleware::from_fn(server_fn_status))
        .layer(axum::middleware::from_fn(reject_cross_site))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(leptos_options)
}

/// Leptos settings for a console serving `site_root` on `addr`.
pub fn leptos_options(site_root: &std::path::Path, addr: std::net::SocketAddr) -> LeptosOptions {
    let reload_port = std::env::var("LEPTOS_RELOAD_PORT").ok().and_then(|port| port.parse().ok()).unwrap_or(3001);
    LeptosOptions::builder()
        .output_name(crate::assets::OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        // The bundle's names carry hashes when cargo-leptos wrote them (a
        // `cargo leptos build`); a binary built by plain cargo serves the
        // plain names.
        .hash_files(crate::assets::SiteHashes::beside_binary().hashed())
        .site_addr(addr)
        .reload_port(reload_port)
        .build()
}

/// The HTTP status for each kind of [`AppError`].
pub fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        // AWS refused the console's credentials: a gateway problem, not the
        // browser's (401 would tell it to authenticate itself).
        AppError::Credentials(_) => StatusCode::BAD_GATEWAY,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Largest server-function error body read back to find its kind.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Leptos answers every failed server function with 500; this gives the
/// response the status its [`AppError`] kind means, so API clients and logs
/// see 400 for bad input, 409 for a conflict, and so on. The body is
/// unchanged.
async fn server_fn_status(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, ERROR_BODY_LIMIT).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = status_of(&error);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Rows fetched per page while streaming the CSV export.
const CSV_PAGE: u32 = 1_000;

/// `GET /history.csv?<the History page's filter>`: every matching history
/// item, newest first, streamed page by page so the export never holds the
/// whole table in memory.
async fn history_csv(backend: Arc<dyn HistoryBackend>, filter: HistoryFilter) -> Response {
    // The first page is read before answering, so a bad filter is a 400
    // rather than a broken download.
    let first = match backend.history_page(filter.clone(), None, CSV_PAGE).await {
        Ok(page) => page,
        Err(error) => {
            return (status_of(&error), error.to_string()).into_response();
        }
    };
    let header_row = "timestamp,alarm_name,item_type,old_state,new_state,summary,notifications\r\n".to_owned();
    let head = futures_util::stream::once(async move { Ok::<_, AppError>(header_row) });
    let state = (Some(first.entries), first.next);
    let rows = futures_util::stream::unfold(
        state,
        move |(entries, next): (Option<Vec<HistoryEntry>>, Option<HistoryCursor>)| {
            let backend = backend.clone();
            let filter = filter.clone();
            async move {
                if let Some(entries) = entries {
                    return Some((Ok(csv_rows(&entries)), (None, next)));
                }
                let cursor = next?;
                match backend.history_page(filter, Some(cursor), CSV_PAGE).await {
                    Ok(page) => Some((Ok(csv_rows(&page.entries)), (None, page.next))),
                    // Ends the body early; the error was logged where it happened.
                    Err(error) => Some((Err(error), (None, None))),
                }
            }
        },
    );
    // Fused: a body may be polled again after its end (the compression
    // layer does), which an unfused `unfold` answers with a panic.
    let body = Body::from_stream(futures_util::StreamExt::fuse(futures_util::StreamExt::chain(head, rows)));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"alarm-history.csv\""),
        ],
        body,
    )
        .into_response()
}

fn csv_rows(entries: &[HistoryEntry]) -> String {
    let mut out = String::new();
    for entry in entries {
        let fields = [
            entry.timestamp.as_str(),
            &entry.alarm_name,
            &entry.item_type,
            entry.old_state.as_deref().unwrap_or_default(),
            entry.new_state.as_deref().unwrap_or_default(),
            &entry.summary,
            &entry.notification_count.to_string(),
        ];
        let cells: Vec<String> = fields.iter().map(|field| csv_cell(field)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One RFC 4180 cell. Cells a spreadsheet would run as a formula get a
/// leading apostrophe (OWASP's CSV injection advice): summaries carry text
/// from AWS and alarm names are user-chosen.
fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4180 quoting: https://www.rfc-editor.org/rfc/rfc4180#section-2
    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("Alarm updated from OK to ALARM"), "Alarm updated from OK to ALARM");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}

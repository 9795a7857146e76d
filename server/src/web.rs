//! The console's HTTP surface: Leptos pages and server functions, static
//! files, the health check, and the middleware around them all.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use keywatch_app::api::backend::{Backend, ConsoleBackend};
use keywatch_app::api::lab::port::{Lab, LabBackend};
use keywatch_app::{App, shell};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::security::reject_cross_site;

/// Builds the console's router. Tests drive it directly with `oneshot`.
pub fn router(backend: Arc<dyn ConsoleBackend>, lab: Arc<dyn LabBackend>, leptos_options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let backend = Backend(backend);
    let lab = Lab(lab);
    let context = move || {
        provide_context(backend.clone());
        provide_context(lab.clone());
    };
    let page_options = leptos_options.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes_with_context(&leptos_options, routes, context, move || shell(page_options.clone()))
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(axum::middleware::from_fn(reject_cross_site))
        .with_state(leptos_options)
}

/// Leptos settings for a console serving `site_root` on `addr`.
pub fn leptos_options(site_root: &std::path::Path, addr: std::net::SocketAddr) -> LeptosOptions {
    let reload_port = std::env::var("LEPTOS_RELOAD_PORT").ok().and_then(|port| port.parse().ok()).unwrap_or(3001);
    LeptosOptions::builder()
        .output_name("keywatch")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .reload_port(reload_port)
        .build()
}

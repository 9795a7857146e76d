//! The workload's logs: `tracing` events on stdout, as JSON lines when
//! `LOG_FORMAT=json` (what CloudWatch Logs Insights reads best), plain text
//! otherwise; the level comes from `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("logging cannot be initialised: {0}")]
pub struct TelemetryError(String);

/// Installs the global subscriber; `json` selects JSON lines.
pub fn init(json: bool) -> Result<(), TelemetryError> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
    result.map_err(|error| TelemetryError(error.to_string()))
}

/// Whether the environment asks for JSON logs (`LOG_FORMAT=json`).
pub fn json_requested() -> bool {
    std::env::var("LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"))
}

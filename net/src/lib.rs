//! How every Keywatch listener (the console, the sandbox, the load balancers
//! the sandbox runs for ECS services, and the workload's own binary) serves
//! HTTP: the limits a server facing untrusted clients needs, and the `Host`
//! allow-list that stops DNS rebinding.
//!
//! axum's `serve` sets no header-read timeout and no connection cap, so a
//! few hundred half-sent requests could hold every file descriptor (seen:
//! `/healthz` timed out behind 250 of them). [`serve`] is hyper's HTTP/1.1
//! connection loop with those limits; the router is unchanged.

pub mod host;
mod serve;

pub use host::{AllowedHosts, HostRefusal};
pub use serve::{Limits, serve};

/// Raises this process's open-file limit to its hard limit (Debian's soft
/// default is 1,024, which a few hundred connections to the console and its
/// in-process sandbox exhaust). Returns the limit in force.
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

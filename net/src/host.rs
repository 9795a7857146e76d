//! The `Host` allow-list, checked before routing.
//!
//! A DNS-rebinding page makes the browser send requests to a loopback
//! listener under the attacker's name: `Host` and `Origin` then agree, so
//! same-origin checks pass and the page reads and posts as the local user.
//! Refusing every `Host` that is not one of the listener's own names closes
//! that. IP literals cannot be rebound, and `*.localhost` always resolves to
//! loopback (RFC 6761 §6.3), so an attacker controls neither.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// The names a listener answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    /// Exact names, lower case, without port.
    names: Vec<String>,
    /// The listener's own IP; unspecified (0.0.0.0, `::`) accepts any IP literal.
    listen_ip: IpAddr,
    /// Also accept S3 virtual-hosted names (`bucket.s3.<region>.amazonaws.com`,
    /// `bucket.s3-<region>.amazonaws.com`), as the sandbox documents.
    s3_virtual_hosts: bool,
    /// The flag that adds a name, for the refusal's message.
    flag: &'static str,
}

/// Why a request's `Host` was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRefusal {
    /// The refused name, printable ASCII only (it goes to logs and the reply).
    pub host: String,
    flag: &'static str,
}

impl std::fmt::Display for HostRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Host {:?} is not a name this server answers to (a DNS rebinding defence)", self.host)?;
        if !self.flag.is_empty() {
            write!(f, "; to use that name, start it with {} {}", self.flag, self.host)?;
        }
        Ok(())
    }
}

impl AllowedHosts {
    /// `listen`'s address, `localhost` (and `*.localhost`), `127.0.0.1`,
    /// `[::1]`, and `extra` names (`--allowed-host`, given as `name` or
    /// `name:port`; ports are never compared). `flag` is how an operator
    /// adds a name, quoted in refusals (empty when there is none).
    pub fn for_listener(listen: SocketAddr, extra: &[String], flag: &'static str) -> AllowedHosts {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].into_iter().map(str::to_owned).collect();
        names.extend(extra.iter().map(|name| host_name(name.trim()).to_ascii_lowercase()).filter(|n| !n.is_empty()));
        AllowedHosts { names, listen_ip: listen.ip(), s3_virtual_hosts: false, flag }
    }

    /// Also accepts S3 virtual-hosted bucket names under `amazonaws.com`.
    pub fn with_s3_virtual_hosts(mut self) -> AllowedHosts {
        self.s3_virtual_hosts = true;
        self
    }

    /// Checks one request's host (its `Host` header, or the authority of an
    /// absolute-form URI). A request without one is not a browser's (HTTP/1.1
    /// browsers always send it) and passes.
    pub fn check(&self, host: Option<&str>) -> Result<(), HostRefusal> {
        let Some(host) = host else { return Ok(()) };
        let name = host_name(host).trim_end_matches('.').to_ascii_lowercase();
        if self.allows(&name) {
            return Ok(());
        }
        let shown: String = host.chars().filter(|c| c.is_ascii_graphic()).take(253).collect();
        Err(HostRefusal { host: shown, flag: self.flag })
    }

    fn allows(&self, name: &str) -> bool {
        if self.names.iter().any(|allowed| allowed == name) || name.ends_with(".localhost") {
            return true;
        }
        if let Ok(ip) = name.parse::<IpAddr>() {
            return ip.is_loopback() || self.listen_ip.is_unspecified() || ip == self.listen_ip;
        }
        self.s3_virtual_hosts
            && name.ends_with(".amazonaws.com")
            && (name.contains(".s3.") || name.contains(".s3-"))
            && !name.starts_with(".s3")
    }
}

/// The name part of a `Host` value: `name`, `name:port`, `[v6]`, `[v6]:port`.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(ip, _)| ip);
    }
    match host.rsplit_once(':') {
        // More than one colon without brackets: a bare IPv6 address.
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Axum middleware answering 421 Misdirected Request, with a one-line
/// reason, to any request whose host `hosts` refuses.
pub async fn require_allowed_host(State(hosts): State<Arc<AllowedHosts>>, request: Request, next: Next) -> Response {
    let host = request
        .uri()
        .authority()
        .map(|authority| authority.as_str().to_owned())
        .or_else(|| request.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned));
    match hosts.check(host.as_deref()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => {
            tracing::warn!(host = %refusal.host, path = %request.uri().path(), "request for another host refused");
            (StatusCode::MISDIRECTED_REQUEST, format!("{refusal}\n")).into_response()
        }
    }
}

impl AllowedHosts {
    /// Wraps `router` so every request is checked before routing.
    pub fn protect(self, router: axum::Router) -> axum::Router {
        router.layer(axum::middleware::from_fn_with_state(Arc::new(self), require_allowed_host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console() -> AllowedHosts {
        AllowedHosts::for_listener(
            "127.0.0.1:3000".parse().expect("addr"),
            &["keywatch.corp.example".into()],
            "--allowed-host",
        )
    }

    #[test]
    fn the_listeners_own_names_pass_with_any_port() {
        let hosts = console();
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "LOCALHOST",
            "[::1]:3000",
            "keywatch.corp.example",
            "keywatch.corp.example:443",
            "app.localhost:3000",
            "127.0.0.2:3000",
        ] {
            assert!(hosts.check(Some(host)).is_ok(), "{host}");
        }
        assert!(hosts.check(None).is_ok());
    }

    // The rebinding attack: the attacker's name, pointed at 127.0.0.1.
    #[test]
    fn other_names_are_refused_with_the_flag_to_add_them() {
        let hosts = console();
        let refusal = hosts.check(Some("rebind.attacker.example:3000")).expect_err("refused");
        assert!(refusal.to_string().contains("--allowed-host rebind.attacker.example:3000"), "{refusal}");
        for host in [
            "localhost.attacker.example",
            "127.0.0.1.attacker.example",
            "10.0.0.5:3000",
            "keywatch.corp.example.evil",
            "x.s3.ap-southeast-2.amazonaws.com",
        ] {
            assert!(hosts.check(Some(host)).is_err(), "{host}");
        }
    }

    #[test]
    fn all_addresses_accept_ip_literals_and_the_sandbox_accepts_s3_virtual_hosts() {
        let hosts = AllowedHosts::for_listener("0.0.0.0:3000".parse().expect("addr"), &[], "--allowed-host");
        assert!(hosts.check(Some("192.0.2.10:3000")).is_ok());
        assert!(hosts.check(Some("[2001:db8::1]:3000")).is_ok());
        assert!(hosts.check(Some("intranet.example")).is_err());
        let sandbox = AllowedHosts::for_listener("127.0.0.1:4566".parse().expect("addr"), &[], "--allowed-host")
            .with_s3_virtual_hosts();
        assert!(sandbox.check(Some("lab.s3.ap-southeast-2.amazonaws.com")).is_ok());
        assert!(sandbox.check(Some("lab.s3-ap-southeast-2.amazonaws.com:4566")).is_ok());
        assert!(sandbox.check(Some("lab.s3.attacker.example")).is_err());
        assert!(sandbox.check(Some("sns.ap-southeast-2.amazonaws.com")).is_err());
    }
}

//! The console's operational measurements and `GET /metrics`: HTTP requests
//! by route template and status class, AWS SDK calls and attempts by service,
//! operation and outcome (counted by an SDK interceptor on every client),
//! each poller's last successful round, the inbox queue's depth, and process
//! basics, rendered in the Prometheus text exposition format 0.0.4.
//! <https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format>
//!
//! One registry per process ([`global`]): the SDK interceptor, the HTTP
//! middleware and the pollers all run in places that cannot carry a handle,
//! and a process has one set of counters to scrape anyway.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, OnceLock};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

use crate::clock::now_ms;

/// How a poller's round failed, in the labels metrics keep: whether AWS
/// throttled it, the AWS operation that failed (its service is looked up
/// from the calls counted), and what users may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollerFault {
    pub throttled: bool,
    pub operation: Option<&'static str>,
    pub message: String,
}

/// The Prometheus text format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The process's registry.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Counters and gauges, behind one lock (updates are a map increment).
#[derive(Debug)]
pub struct Metrics {
    started_ms: i64,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// (method, route template, status class) → requests.
    http_requests: BTreeMap<(String, String, &'static str), u64>,
    /// (service, operation, outcome) → calls, after the SDK's retries.
    aws_calls: BTreeMap<(String, String, &'static str), u64>,
    /// (service, operation, outcome) → attempts, each retry counted.
    aws_attempts: BTreeMap<(String, String, &'static str), u64>,
    /// Operation → the service the SDK says it belongs to, learned from calls.
    operation_services: BTreeMap<String, String>,
    pollers: BTreeMap<&'static str, PollerState>,
    inbox_queue_messages: Option<u64>,
    /// argon2id checks run by the login form.
    password_checks: u64,
}

/// What a poller last did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollerState {
    /// When the poller started, epoch ms: its lag counts from here until
    /// its first success.
    pub started_ms: i64,
    pub last_success_ms: Option<i64>,
    /// Set while the poller's rounds fail; cleared by a success.
    pub failing: Option<PollerFailure>,
}

/// A poller's current failure streak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollerFailure {
    pub since_ms: i64,
    pub rounds: u32,
    /// AWS throttled the call that failed the round.
    pub throttled: bool,
    /// The AWS service of the failed call (`CloudWatch`, `SNS`...), when an
    /// AWS call failed it.
    pub service: Option<String>,
    /// The failure as users may see it (AWS's code and message).
    pub message: String,
}

impl Metrics {
    fn new() -> Metrics {
        Metrics { started_ms: now_ms(), inner: Mutex::new(Inner::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves counters that are
        // still counters: keep serving them.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one HTTP request.
    pub fn record_request(&self, method: &http::Method, route: &str, status: StatusCode) {
        // Only standard methods become labels: anything else a client sends
        // would grow the series without bound.
        let method = match *method {
            http::Method::GET
            | http::Method::HEAD
            | http::Method::POST
            | http::Method::PUT
            | http::Method::DELETE
            | http::Method::PATCH
            | http::Method::OPTIONS => method.as_str().to_owned(),
            _ => "other".to_owned(),
        };
        let class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        *self.lock().http_requests.entry((method, route.to_owned(), class)).or_default() += 1;
    }

    pub fn record_aws(&self, execution: bool, service: &str, operation: &str, outcome: &'static str) {
        let mut inner = self.lock();
        let map = if execution { &mut inner.aws_calls } else { &mut inner.aws_attempts };
        *map.entry((service.to_owned(), operation.to_owned(), outcome)).or_default() += 1;
        if !inner.operation_services.contains_key(operation) {
            inner.operation_services.insert(operation.to_owned(), service.to_owned());
        }
    }

    /// AWS calls so far (after retries) with these labels.
    pub fn aws_calls(&self, service: &str, operation: &str, outcome: &str) -> u64 {
        self.lock()
            .aws_calls
            .iter()
            .filter(|((s, o, out), _)| s == service && o == operation && *out == outcome)
            .map(|(_, count)| *count)
            .sum()
    }

    /// AWS attempts so far (each retry counted) with these labels.
    pub fn aws_attempts(&self, service: &str, operation: &str, outcome: &str) -> u64 {
        self.lock()
            .aws_attempts
            .iter()
            .filter(|((s, o, out), _)| s == service && o == operation && *out == outcome)
            .map(|(_, count)| *count)
            .sum()
    }

    /// A poller has started: its lag counts from now.
    pub fn poller_started(&self, poller: &'static str) {
        self.lock().pollers.entry(poller).or_insert(PollerState {
            started_ms: now_ms(),
            last_success_ms: None,
            failing: None,
        });
    }

    /// A poller finished a round and committed what it read.
    pub fn poller_succeeded(&self, poller: &'static str) {
        let now = now_ms();
        let mut inner = self.lock();
        let state = inner.pollers.entry(poller).or_insert(PollerState {
            started_ms: now,
            last_success_ms: None,
            failing: None,
        });
        state.last_success_ms = Some(now);
        state.failing = None;
    }

    /// A poller's round failed as `fault` says.
    pub fn poller_failed(&self, poller: &'static str, fault: PollerFault) {
        let now = now_ms();
        let mut inner = self.lock();
        let service = fault.operation.and_then(|operation| inner.operation_services.get(operation).cloned());
        let state = inner.pollers.entry(poller).or_insert(PollerState {
            started_ms: now,
            last_success_ms: None,
            failing: None,
        });
        let (since_ms, rounds) = state.failing.as_ref().map_or((now, 0), |f| (f.since_ms, f.rounds));
        state.failing = Some(PollerFailure {
            since_ms,
            rounds: rounds.saturating_add(1),
            throttled: fault.throttled,
            service,
            message: fault.message,
        });
    }

    /// Every poller's state, by name.
    pub fn pollers(&self) -> BTreeMap<&'static str, PollerState> {
        self.lock().pollers.clone()
    }

    /// One login password check (argon2id) ran.
    pub fn password_checked(&self) {
        self.lock().password_checks += 1;
    }

    /// What the inbox last learned of its queue's `ApproximateNumberOfMessages`.
    pub fn set_inbox_queue_messages(&self, messages: u64) {
        self.lock().inbox_queue_messages = Some(messages);
    }

    /// Everything, in the Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let now = now_ms();
        let inner = self.lock();
        let mut out = Exposition::default();
        out.family(
            "keywatch_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route template and status class.",
        );
        for ((method, route, class), count) in &inner.http_requests {
            out.sample(
                "keywatch_http_requests_total",
                &[("method", method), ("route", route), ("status", class)],
                *count as f64,
            );
        }
        out.family(
            "keywatch_aws_calls_total",
            "counter",
            "AWS SDK calls completed, after the SDK's retries, by service, operation and outcome.",
        );
        for ((service, operation, outcome), count) in &inner.aws_calls {
            out.sample(
                "keywatch_aws_calls_total",
                &[("service", service), ("operation", operation), ("outcome", outcome)],
                *count as f64,
            );
        }
        out.family(
            "keywatch_aws_attempts_total",
            "counter",
            "AWS SDK attempts (each retry counted), by service, operation and outcome.",
        );
        for ((service, operation, outcome), count) in &inner.aws_attempts {
            out.sample(
                "keywatch_aws_attempts_total",
                &[("service", service), ("operation", operation), ("outcome", outcome)],
                *count as f64,
            );
        }
        out.family(
            "keywatch_login_password_checks_total",
            "counter",
            "Password checks (argon2id) run by the login form.",
        );
        out.sample("keywatch_login_password_checks_total", &[], inner.password_checks as f64);
        out.family(
            "keywatch_poller_lag_seconds",
            "gauge",
            "Seconds since the poller's last successful round (since it started, before its first).",
        );
        for (poller, state) in &inner.pollers {
            let since = state.last_success_ms.unwrap_or(state.started_ms);
            out.sample("keywatch_poller_lag_seconds", &[("poller", poller)], seconds(now - since));
        }
        out.family(
            "keywatch_poller_failing_rounds",
            "gauge",
            "Consecutive failed rounds of the poller (0 while it succeeds).",
        );
        for (poller, state) in &inner.pollers {
            let rounds = state.failing.as_ref().map_or(0, |failure| failure.rounds);
            out.sample("keywatch_poller_failing_rounds", &[("poller", poller)], f64::from(rounds));
        }
        out.family(
            "keywatch_inbox_queue_messages",
            "gauge",
            "ApproximateNumberOfMessages of the notification inbox queue, as last read.",
        );
        if let Some(messages) = inner.inbox_queue_messages {
            out.sample("keywatch_inbox_queue_messages", &[], messages as f64);
        }
        drop(inner);
        out.family("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
        out.sample("process_start_time_seconds", &[], seconds(self.started_ms));
        let process = ProcessStats::read();
        if let Some(bytes) = process.resident_memory_bytes {
            out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
            out.sample("process_resident_memory_bytes", &[], bytes as f64);
        }
        if let Some(fds) = process.open_fds {
            out.family("process_open_fds", "gauge", "Number of open file descriptors.");
            out.sample("process_open_fds", &[], fds as f64);
        }
        if let Some(threads) = process.threads {
            out.family("process_threads", "gauge", "Number of OS threads in the process.");
            out.sample("process_threads", &[], threads as f64);
        }
        out.text
    }
}

/// AWS's part of a failure, never Keywatch's internals.
fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// Builds exposition text: `# HELP` and `# TYPE` once per family, then
/// its samples.
#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            let rendered: Vec<String> =
                labels.iter().map(|(key, value)| format!("{key}=\"{}\"", escape_label(value))).collect();
            let _ = write!(self.text, "{{{}}}", rendered.join(","));
        }
        let _ = writeln!(self.text, " {}", format_value(value));
    }
}

/// Label values escape backslash, double quote and line feed.
pub fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// HELP text escapes backslash and line feed.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf".to_owned() } else { "-Inf".to_owned() }
    } else {
        value.to_string()
    }
}

/// Linux's view of this process, from `/proc/self`; absent elsewhere.
#[derive(Debug, Default)]
struct ProcessStats {
    resident_memory_bytes: Option<u64>,
    open_fds: Option<u64>,
    threads: Option<u64>,
}

impl ProcessStats {
    fn read() -> ProcessStats {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        // `VmRSS:   12345 kB` and `Threads:  7` (proc(5)).
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|number| number.parse::<u64>().ok())
        };
        ProcessStats {
            resident_memory_bytes: field("VmRSS:").map(|kb| kb * 1024),
            open_fds: std::fs::read_dir("/proc/self/fd").ok().map(|entries| entries.count() as u64),
            threads: field("Threads:"),
        }
    }
}

/// `GET /metrics`.
pub async fn metrics_handler() -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], global().render()).into_response()
}

/// Counts every request by its route template (`/lab/{section}`, not the
/// path asked for, so paths cannot grow the series) and status class.
/// Requests no route matched (static files, 404s) count as `fallback`.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "fallback".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let response = next.run(request).await;
    global().record_request(&method, &route, response.status());
    response
}

// The exposition checker the tests below use is the server tests' own
// (`tests/support/exposition.rs`): it exists for tests only.
#[cfg(test)]
#[path = "../tests/support/exposition.rs"]
mod exposition;

#[cfg(test)]
mod tests {
    use super::*;

    // https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format:
    // label values escape \, " and line feed; HELP escapes \ and line feed.
    #[test]
    fn label_values_are_escaped_and_parse_back() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("two\nlines"), "two\\nlines");
        let metrics = Metrics::new();
        metrics.record_request(&http::Method::GET, "/odd\"route\\with\nbreak", StatusCode::OK);
        metrics.record_request(&http::Method::GET, "/lab/{section}", StatusCode::NOT_FOUND);
        metrics.record_request(&http::Method::from_bytes(b"BREW").expect("method"), "/x", StatusCode::BAD_GATEWAY);
        metrics.record_aws(true, "CloudWatch", "DescribeAlarms", "throttled");
        metrics.record_aws(false, "CloudWatch", "DescribeAlarms", "success");
        metrics.poller_started("alarm-history");
        metrics.poller_failed("alarm-history", PollerFault { throttled: false, operation: None, message: "no".into() });
        metrics.set_inbox_queue_messages(3);
        let text = metrics.render();
        let samples = exposition::parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
        let find = |name: &str, label: (&str, &str)| {
            samples
                .iter()
                .find(|(n, labels, _)| n == name && labels.iter().any(|(k, v)| k == label.0 && v == label.1))
                .map(|(_, _, value)| *value)
        };
        assert_eq!(find("keywatch_http_requests_total", ("route", "/odd\"route\\with\nbreak")), Some(1.0));
        assert_eq!(find("keywatch_http_requests_total", ("status", "4xx")), Some(1.0));
        assert_eq!(find("keywatch_http_requests_total", ("method", "other")), Some(1.0), "{text}");
        assert_eq!(find("keywatch_http_requests_total", ("status", "5xx")), Some(1.0));
        assert_eq!(find("keywatch_aws_calls_total", ("outcome", "throttled")), Some(1.0));
        assert_eq!(find("keywatch_aws_attempts_total", ("outcome", "success")), Some(1.0));
        assert_eq!(find("keywatch_poller_failing_rounds", ("poller", "alarm-history")), Some(1.0));
        assert!(find("keywatch_poller_lag_seconds", ("poller", "alarm-history")).is_some_and(|lag| lag >= 0.0));
        assert!(samples.iter().any(|(name, _, value)| name == "keywatch_inbox_queue_messages" && *value == 3.0));
        assert!(samples.iter().any(|(name, _, value)| name == "process_start_time_seconds" && *value > 1.7e9));
        // The raw line carries the escapes.
        assert!(text.contains(r#"route="/odd\"route\\with\nbreak""#), "{text}");
    }

    #[test]
    fn the_checker_refuses_what_the_format_forbids() {
        assert!(exposition::parse("up 1\n").is_err(), "a sample needs its TYPE");
        assert!(exposition::parse("# TYPE up gauge\nup 1\n").is_err(), "a TYPE needs its HELP");
        assert!(exposition::parse("# HELP up Up.\n# TYPE up gauge\nup{a=\"x} 1\n").is_err());
        assert!(exposition::parse("# HELP up Up.\n# TYPE up gauge\nup{a=\"\\q\"} 1\n").is_err());
        assert!(exposition::parse("# HELP up Up.\n# TYPE up counter\nup 1\n").is_err(), "counters end in _total");
        assert!(exposition::parse("# HELP up Up.\n# TYPE up gauge\nup one\n").is_err());
        let ok = exposition::parse("# HELP up Up.\n# TYPE up gauge\nup{a=\"\\\"\",b=\"c\"} 1\n").expect("valid");
        assert_eq!(ok[0].1, vec![("a".to_owned(), "\"".to_owned()), ("b".to_owned(), "c".to_owned())]);
    }

    #[test]
    fn a_failing_poller_keeps_its_streak_until_a_success() {
        let metrics = Metrics::new();
        metrics.poller_started("inbox");
        let throttled =
            PollerFault { throttled: true, operation: Some("ReceiveMessage"), message: "Rate exceeded".into() };
        metrics.record_aws(true, "SQS", "ReceiveMessage", "throttled");
        metrics.poller_failed("inbox", throttled.clone());
        metrics.poller_failed("inbox", throttled);
        let failing = metrics.pollers()["inbox"].failing.clone().expect("failing");
        assert_eq!((failing.rounds, failing.throttled, failing.service.as_deref()), (2, true, Some("SQS")));
        metrics.poller_succeeded("inbox");
        assert!(metrics.pollers()["inbox"].failing.is_none());
        assert!(metrics.pollers()["inbox"].last_success_ms.is_some());
    }
}

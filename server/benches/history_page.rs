//! `make bench`: the History page rendered on the server with 100,000 stored
//! history rows, 50 requests at a time, unfiltered and filtered, against the
//! Connection page (a one-row SQLite read) rendered the same way in the same
//! process, through the console's router as `serve` builds it. Prints
//! requests per second, latency percentiles and the ratio.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::{Request, StatusCode, header};
use keywatch::auth::{Auth, AuthSettings};
use keywatch::aws::Aws;
use keywatch::aws::cloudwatch::AlarmHistoryItem;
use keywatch::console::{PortSource, Ports};
use keywatch::db::Database;
use keywatch::sns_endpoint::{AlarmTopicList, SnsEndpoint};
use keywatch_app::api::connection::{AwsMode, ConsoleSettings, ModeSource};
use tower::ServiceExt;

const ROWS: i64 = 100_000;
const ALARMS: i64 = 4;
const CONCURRENCY: usize = 50;
const REQUESTS: usize = 500;

fn item(alarm: i64, i: i64) -> AlarmHistoryItem {
    let (old, new) = if i % 2 == 0 { ("OK", "ALARM") } else { ("ALARM", "OK") };
    AlarmHistoryItem {
        alarm_name: format!("pattern1-alarm-{alarm}"),
        alarm_type: "MetricAlarm".into(),
        timestamp_ms: 1_795_000_000_000 + i * 10_000,
        history_item_type: "StateUpdate".into(),
        history_summary: format!("Alarm updated from {old} to {new}"),
        history_data: format!(
            r#"{{"version":"1.0","oldState":{{"stateValue":"{old}"}},"newState":{{"stateValue":"{new}","stateReason":"Threshold Crossed"}}}}"#
        ),
    }
}

/// Latencies of `REQUESTS` GETs of `path`, `CONCURRENCY` at a time, and the wall time.
async fn load(router: &axum::Router, path: &'static str) -> (Vec<Duration>, Duration) {
    let started = Instant::now();
    let per_worker = REQUESTS / CONCURRENCY;
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_worker);
                for _ in 0..per_worker {
                    let request =
                        Request::get(path).header(header::HOST, "127.0.0.1:3000").body(Body::empty()).expect("request");
                    let sent = Instant::now();
                    let response = router.clone().oneshot(request).await.expect("response");
                    assert_eq!(response.status(), StatusCode::OK, "{path}");
                    axum::body::to_bytes(response.into_body(), 1 << 24).await.expect("body");
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(REQUESTS);
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    (latencies, started.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn report(router: &axum::Router, label: &str, path: &'static str) -> f64 {
    load(router, path).await; // warm-up
    let (mut latencies, wall) = load(router, path).await;
    latencies.sort();
    let rate = latencies.len() as f64 / wall.as_secs_f64();
    println!(
        "{label:<34} {rate:>8.0} req/s   p50 {:>7.1} ms   p95 {:>7.1} ms   max {:>7.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.95).as_secs_f64() * 1e3,
        percentile(&latencies, 1.0).as_secs_f64() * 1e3,
    );
    rate
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Database::open(&dir.path().join("keywatch.db")).await.expect("database");
    for alarm in 0..ALARMS {
        let items: Vec<AlarmHistoryItem> = (0..ROWS / ALARMS).map(|i| item(alarm, i)).collect();
        db.alarm_history().insert_items(None, &items, 0).await.expect("seed");
    }
    let settings = ConsoleSettings {
        mode: AwsMode::Sandbox,
        mode_source: ModeSource::Flag,
        region: "ap-southeast-2".into(),
        region_name: "Asia Pacific (Sydney)".into(),
        profile: None,
        sandbox_endpoint: None,
    };
    // The pages measured read SQLite only; AWS is never called.
    let aws = Aws::sandbox("http://127.0.0.1:9", "ap-southeast-2");
    let lab = Arc::new(keywatch::lab::ServerLab::new(
        aws.clone(),
        db.clone(),
        "ap-southeast-2".into(),
        keywatch_app::api::connection::AwsMode::Sandbox,
    ));
    let attack =
        keywatch::attack::ServerAttack::new(aws.clone(), db.clone(), keywatch_app::api::connection::AwsMode::Sandbox);
    let alarms = keywatch::alarms::ServerAlarms::new(aws.clone(), db.clone(), lab.clone());
    let responses = keywatch::responses::ServerResponses::new(aws.clone(), db.clone(), lab.clone());
    let subscribers = keywatch::subscribers::ServerSubscribers::new(aws.clone(), db.clone(), settings.clone());
    let connection = keywatch::connection::ServerConnection::new(aws, db.clone(), settings);
    let ports = Ports {
        connection: Arc::new(connection),
        subscribers: Arc::new(subscribers),
        history: Arc::new(keywatch::history::ServerHistory::new(db.clone())),
        audit: Arc::new(keywatch::audit::ServerAudit::new(db.clone())),
        lab,
        attack: Arc::new(attack),
        alarms: Arc::new(alarms),
        responses: Arc::new(responses),
    };
    // The router as `serve` builds it on loopback without a password.
    let listen = "127.0.0.1:3000".parse().expect("addr");
    let router = keywatch::web::app(keywatch::web::AppParts {
        ports: PortSource::fixed(ports),
        db: db.clone(),
        auth: Auth::load(db.clone(), AuthSettings::default()).await.expect("auth"),
        sns_endpoint: Arc::new(SnsEndpoint::new(db.clone(), None, AlarmTopicList::default())),
        leptos_options: keywatch::web::leptos_options(dir.path(), listen),
        allowed_hosts: keywatch_net::AllowedHosts::for_listener(listen, &[], "--allowed-host"),
    });

    println!("History page, {ROWS} stored rows, {CONCURRENCY} concurrent requests, {REQUESTS} per run");
    let baseline = report(&router, "Connection page (baseline)", "/").await;
    let newest = report(&router, "History, newest page", "/history").await;
    let filtered =
        report(&router, "History, alarm + state filter", "/history?alarm=pattern1-alarm-2&state=ALARM").await;
    let text = report(&router, "History, text filter", "/history?text=from%20ALARM").await;
    println!(
        "ratio to baseline: newest {:.2}, filtered {:.2}, text {:.2}",
        newest / baseline,
        filtered / baseline,
        text / baseline
    );
}

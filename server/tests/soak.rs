//! The sandbox's storage under the console's own load: the lab deployed
//! through CloudFormation, the console's pollers (stack watcher, alarm
//! history, notification inbox) running 60 times as often as they do on
//! the sandbox (every 50 ms instead of 3 s), and the lab's application
//! called as section 4 calls it, for 20 seconds. The state directory must
//! stay within what the retention rules allow: every record is stored a
//! bounded number of times (event history, the log group's events, the S3
//! log file), nothing grows with how much is already stored (no file
//! rewritten whole, the SQLite write-ahead log truncated after
//! checkpoints), and what falls due is delivered, not left queued.

use std::path::Path;
use std::time::{Duration, Instant};

use keywatch::console::{Console, ConsoleBase};
use keywatch::db::Database;
use keywatch_app::api::connection::{AwsMode, ModeSource};
use keywatch_domain::lab;
use keywatch_domain::region;
use keywatch_sandbox::{Sandbox, SandboxConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

mod support;

/// How long the load runs, and how often the console's pollers poll.
const SOAK: Duration = Duration::from_secs(20);
const POLL_EVERY: Duration = Duration::from_millis(50);

/// The most a stored CloudTrail record may cost on disk, all copies
/// together: its history row (a record of these calls is under 2 KiB of
/// JSON), its event in the lab's log group, its line in a gzip S3 log
/// file, and SQLite's indexes and page slack.
const BYTES_PER_RECORD: u64 = 8 * 1024;

/// What does not grow with records: the catalogs, the write-ahead log
/// (truncated to 16 MiB after each checkpoint, see the store) and the
/// empty database's pages.
const FIXED_BYTES: u64 = 24 * 1024 * 1024;

/// One HTTP/1.1 exchange with the lab's application, as its curl commands send.
async fn http(address: &str, method: &str, path: &str, body: &str) -> u16 {
    let Ok(mut stream) = tokio::net::TcpStream::connect(address).await else { return 0 };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return 0;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    response.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0)
}

/// Every file's size under `dir`, recursively.
fn size_of(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).expect("state dir").flatten() {
        let metadata = entry.metadata().expect("metadata");
        total += if metadata.is_dir() { size_of(&entry.path()) } else { metadata.len() };
    }
    total
}

async fn count(pool: &sqlx::SqlitePool, query: &'static str) -> u64 {
    let count: i64 = sqlx::query_scalar(query).fetch_one(pool).await.expect("count");
    u64::try_from(count).expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_directory_stays_within_its_retention_bound_under_the_consoles_pollers() {
    let dir = tempfile::tempdir().expect("dirs");
    let state_dir = dir.path().join("sandbox");
    let sandbox = Sandbox::new(SandboxConfig {
        state_dir: Some(state_dir.clone()),
        cloudtrail_delivery_delay: Duration::from_millis(100),
        cloudtrail_log_file_interval: Duration::from_secs(1),
        ..SandboxConfig::default()
    })
    .expect("sandbox");
    sandbox.set_task_launcher(keywatch::sandbox_tasks::workload_launcher());
    let running = sandbox.start("127.0.0.1:0".parse().expect("addr")).await.expect("sandbox started");
    let [_, app, _] = support::deploy_lab(&running.endpoint_url).await;
    let endpoint = support::output(&app, lab::APP_ENDPOINT_OUTPUT).expect("endpoint");

    let db = Database::open(&dir.path().join("keywatch.db")).await.expect("database");
    let console = Console::start(
        ConsoleBase {
            db: db.clone(),
            mode: AwsMode::Sandbox,
            mode_source: ModeSource::Flag,
            sandbox_endpoint: Some(running.endpoint_url.clone()),
            poller_interval: POLL_EVERY,
            alarm_topics: keywatch::sns_endpoint::AlarmTopicList::default(),
            cloudtrail_delay: Duration::from_millis(100),
        },
        region::parse("ap-southeast-2").expect("region"),
        None,
    )
    .await;

    // Section 4's calls, round and round: an encrypt, its decrypt, and a
    // decrypt with a false key (which the lab's metric filter counts).
    let started = Instant::now();
    let mut application_calls = 0_u64;
    while started.elapsed() < SOAK {
        let statuses = [
            http(&endpoint, "POST", "/encrypt", r#"{"Name":"Bob","Text":"Run your own race"}"#).await,
            http(&endpoint, "GET", "/decrypt", r#"{"Name":"Bob","Key":"some-random-false-key"}"#).await,
        ];
        application_calls += statuses.iter().filter(|status| **status != 0).count() as u64;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(application_calls > 100, "the application answered {application_calls} calls");
    console.stop().await;
    // Whatever fell due is delivered (1 s log files, 100 ms deliveries).
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(running);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let database = sqlx::sqlite::SqliteConnectOptions::new().filename(state_dir.join("sandbox.db")).read_only(true);
    let pool = sqlx::SqlitePool::connect_with(database).await.expect("sandbox.db");
    let records = count(&pool, "SELECT COUNT(*) FROM cloudtrail_event").await;
    let queued = count(&pool, "SELECT COUNT(*) FROM cloudtrail_queue").await;
    let log_events = count(&pool, "SELECT COUNT(*) FROM log_event").await;
    pool.close().await;
    let size = size_of(&state_dir);
    println!(
        "state directory: {size} bytes for {records} records ({log_events} log events, {queued} queued, {application_calls} application calls)"
    );
    // The pollers and the application make well over a thousand calls.
    assert!(records > 500, "only {records} CloudTrail records were stored");
    // Every record went to the trail's log group once, and left the queue.
    // (the few made before the trail started logging are not delivered;
    // the application writes its own lines too).
    assert!(
        log_events + 50 >= records && log_events <= records + application_calls * 4,
        "{log_events} log events for {records} records"
    );
    assert!(queued < records / 10, "{queued} of {records} records still queued for delivery");

    // Retention bounds what is kept: CloudTrail's history 90 days, the lab's
    // log group 7 days (RetentionInDays in logging.yaml), metrics 15 days:
    // all longer than this run, so everything made is kept, once.
    let bound = records * BYTES_PER_RECORD + FIXED_BYTES;
    assert!(size <= bound, "the state directory holds {size} bytes, over the bound of {bound} for {records} records");
}

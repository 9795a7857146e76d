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

use keywatch_sandbox::SandboxConfig;
use support::World;

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

/// One of the lab's curl requests to its application: the status, 0
/// without an answer.
async fn http(address: &str, method: &str, path: &str, body: &str) -> u16 {
    support::lab::call_application(address, method, path, body).await.map_or(0, |response| response.status)
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
    let world = World::lab(SandboxConfig {
        cloudtrail_delivery_delay: Duration::from_millis(100),
        cloudtrail_log_file_interval: Duration::from_secs(1),
        ..SandboxConfig::default()
    })
    .await;
    let state_dir = world.sandbox_state_dir();
    let endpoint = support::lab::deploy(&world).await.endpoint;
    let console = world.start_console(POLL_EVERY).await;

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
    drop(world.sandbox);
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

//! `make bench`: the sandbox's request rate through the official Rust SDK
//! (STS GetCallerIdentity and KMS Encrypt),
//! reported as a ratio against a bare axum handler measured in the same
//! process, with the same client, so that machine speed cancels out.
//!
//! Then KMS Encrypt over raw HTTP/1.1 keep-alive, 8 connections, against a
//! sandbox with a state directory (every call's CloudTrail record
//! committed before it is answered) and against a bare axum handler with a
//! fixed body: requests per second, p50 and p99 latency, and their ratios;
//! once on a fresh directory and once after 1,000,000 CloudTrail records
//! and 1,000,000 log events are stored, to show a call's cost does not
//! grow with history.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use axum::Router;
use axum::routing::post;
use keywatch_sandbox::{Sandbox, SandboxConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

// The sandbox tests' set-up steps (the trail's bucket, the lab's filter).
#[path = "../tests/support/mod.rs"]
mod support;

/// Requests per measured round, and how many are in flight at once.
const REQUESTS: usize = 4_000;
const CONCURRENCY: usize = 16;
const ROUNDS: usize = 3;

/// What a bare handler answers: the same bytes the SDK must parse.
const CALLER_IDENTITY_XML: &str = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
<GetCallerIdentityResult><UserId>AIDASANDBOXADMIN00001</UserId><Account>111122223333</Account>\
<Arn>arn:aws:iam::111122223333:user/sandbox-admin</Arn></GetCallerIdentityResult>\
<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>\
</GetCallerIdentityResponse>";

fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("ap-southeast-2"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDBENCH",
            "secret",
            None,
            None,
            "bench",
        )))
        .build()
}

/// What a bare handler answers to Encrypt: a fixed 32-byte blob.
const ENCRYPT_JSON: &str = "{\"CiphertextBlob\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"KeyId\":\"arn:aws:kms:ap-southeast-2:111122223333:key/00000000-0000-0000-0000-000000000000\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}";

/// The baseline: a bare axum handler answering each operation with canned
/// bytes, so the ratio isolates the sandbox's own work (decoding, service
/// logic, CloudTrail recording, encoding).
async fn bare_axum() -> String {
    async fn canned(headers: http::HeaderMap) -> ([(http::header::HeaderName, &'static str); 1], &'static str) {
        match headers.get("x-amz-target").and_then(|target| target.to_str().ok()) {
            Some("TrentService.Encrypt") => {
                ([(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")], ENCRYPT_JSON)
            }
            _ => ([(http::header::CONTENT_TYPE, "text/xml")], CALLER_IDENTITY_XML),
        }
    }
    let router = Router::new().route("/", post(canned));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    format!("http://{addr}")
}

/// Runs `REQUESTS` calls of `call`, `CONCURRENCY` at a time; requests/second.
async fn rate<F, Fut>(call: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move {
                for _ in 0..REQUESTS / CONCURRENCY {
                    call().await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    (REQUESTS / CONCURRENCY * CONCURRENCY) as f64 / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Measures `sandbox` against `baseline`, interleaving rounds so drift in
/// machine load affects both alike, and prints the rates and their ratio.
async fn compare<F, G, FutF, FutG>(name: &str, sandbox: F, baseline: G)
where
    F: Fn() -> FutF + Clone + Send + 'static,
    G: Fn() -> FutG + Clone + Send + 'static,
    FutF: Future<Output = ()> + Send,
    FutG: Future<Output = ()> + Send,
{
    // Warm connections and allocators before measuring.
    rate(sandbox.clone()).await;
    rate(baseline.clone()).await;
    let (mut sandbox_rates, mut baseline_rates) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        sandbox_rates.push(rate(sandbox.clone()).await);
        baseline_rates.push(rate(baseline.clone()).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (sandbox_rate, baseline_rate) = (median(sandbox_rates), median(baseline_rates));
    println!("bench {name}");
    println!("  sandbox:        {sandbox_rate:>10.0} requests/s");
    println!("  bare axum:      {baseline_rate:>10.0} requests/s (same SDK client, canned response)");
    println!("  ratio:          {:>10.2} (sandbox / baseline)", sandbox_rate / baseline_rate);
}

// The allocator `keywatch` runs with (server/src/main.rs), so the bench
// measures what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    if child_role().is_some() {
        return;
    }
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime").block_on(measure());
}

async fn measure() {
    let config = SandboxConfig { default_region: "ap-southeast-2".into(), state_dir: None, ..SandboxConfig::default() };
    let sandbox = Sandbox::new(config)
        .expect("sandbox")
        .start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox listening");
    let baseline_endpoint = bare_axum().await;
    let (sandbox_config, baseline_config) = (sdk_config(&sandbox.endpoint_url), sdk_config(&baseline_endpoint));

    let (sandbox_sts, baseline_sts) =
        (aws_sdk_sts::Client::new(&sandbox_config), aws_sdk_sts::Client::new(&baseline_config));
    compare(
        "sts_get_caller_identity_via_sdk",
        move || {
            let sts = sandbox_sts.clone();
            async move {
                sts.get_caller_identity().send().await.expect("sandbox GetCallerIdentity");
            }
        },
        move || {
            let sts = baseline_sts.clone();
            async move {
                sts.get_caller_identity().send().await.expect("baseline GetCallerIdentity");
            }
        },
    )
    .await;

    // KMS Encrypt of a lab-sized record: real AES-256-GCM, a CloudTrail
    // record per call, against canned bytes.
    let (sandbox_kms, baseline_kms) =
        (aws_sdk_kms::Client::new(&sandbox_config), aws_sdk_kms::Client::new(&baseline_config));
    let key = sandbox_kms.create_key().send().await.expect("CreateKey");
    let key_id = key.key_metadata().map(|metadata| metadata.key_id().to_owned()).expect("key id");
    let plaintext = aws_sdk_kms::primitives::Blob::new(vec![b'x'; 256]);
    let (sandbox_key, sandbox_text) = (key_id.clone(), plaintext.clone());
    compare(
        "kms_encrypt_via_sdk",
        move || {
            let (kms, key_id, plaintext) = (sandbox_kms.clone(), sandbox_key.clone(), sandbox_text.clone());
            async move {
                kms.encrypt().key_id(key_id).plaintext(plaintext).send().await.expect("sandbox Encrypt");
            }
        },
        move || {
            let (kms, key_id, plaintext) = (baseline_kms.clone(), key_id.clone(), plaintext.clone());
            async move {
                kms.encrypt().key_id(key_id).plaintext(plaintext).send().await.expect("baseline Encrypt");
            }
        },
    )
    .await;

    raw_http_with_state_dir().await;
}

/// Connections and requests per connection of one raw-HTTP round.
const RAW_CONNECTIONS: usize = 8;
const RAW_REQUESTS_PER_CONNECTION: usize = 1_500;

/// How much history the second raw round runs on.
const SEEDED_TRAIL_EVENTS: usize = 1_000_000;
const SEEDED_LOG_EVENTS: usize = 1_000_000;

/// One raw round's outcome.
struct RawRound {
    rate: f64,
    latencies: Vec<Duration>,
}

/// Reads one HTTP/1.1 response (Content-Length framed) from `stream`;
/// panics unless it is a 200.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) {
    buffer.clear();
    let mut chunk = [0_u8; 8192];
    let header_end = loop {
        let read = stream.read(&mut chunk).await.expect("read");
        assert!(read > 0, "connection closed");
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .expect("content-length");
    while buffer.len() < header_end + length {
        let read = stream.read(&mut chunk).await.expect("read");
        assert!(read > 0, "connection closed");
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// `RAW_CONNECTIONS` keep-alive connections each sending `request`
/// `RAW_REQUESTS_PER_CONNECTION` times, one at a time.
async fn raw_round(addr: SocketAddr, request: &[u8]) -> RawRound {
    let started = Instant::now();
    let workers: Vec<_> = (0..RAW_CONNECTIONS)
        .map(|_| {
            let request = request.to_vec();
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let mut buffer = Vec::with_capacity(16 * 1024);
                let mut latencies = Vec::with_capacity(RAW_REQUESTS_PER_CONNECTION);
                for _ in 0..RAW_REQUESTS_PER_CONNECTION {
                    let sent = Instant::now();
                    stream.write_all(&request).await.expect("write");
                    read_response(&mut stream, &mut buffer).await;
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    let rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    RawRound { rate, latencies }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted[((sorted.len() as f64 * fraction) as usize).min(sorted.len() - 1)]
}

/// Interleaved rounds against the sandbox and the bare handler: the median
/// round of each (by rate).
async fn raw_compare(
    sandbox: SocketAddr,
    sandbox_request: &[u8],
    bare: SocketAddr,
    bare_request: &[u8],
) -> (RawRound, RawRound) {
    raw_round(sandbox, sandbox_request).await;
    raw_round(bare, bare_request).await;
    let (mut sandbox_rounds, mut bare_rounds) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        sandbox_rounds.push(raw_round(sandbox, sandbox_request).await);
        bare_rounds.push(raw_round(bare, bare_request).await);
    }
    let pick = |mut rounds: Vec<RawRound>| {
        rounds.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        rounds.swap_remove(rounds.len() / 2)
    };
    (pick(sandbox_rounds), pick(bare_rounds))
}

fn report(name: &str, sandbox: &RawRound, bare: &RawRound) {
    let p = |round: &RawRound, fraction| percentile(&round.latencies, fraction).as_secs_f64() * 1000.0;
    println!("bench {name}");
    println!(
        "  sandbox:        {:>10.0} requests/s  p50 {:>7.3} ms  p99 {:>7.3} ms",
        sandbox.rate,
        p(sandbox, 0.5),
        p(sandbox, 0.99)
    );
    println!(
        "  bare axum:      {:>10.0} requests/s  p50 {:>7.3} ms  p99 {:>7.3} ms (fixed body)",
        bare.rate,
        p(bare, 0.5),
        p(bare, 0.99)
    );
    println!(
        "  ratio:          {:>10.3} rate, p50 {:.2}x, p99 {:.2}x (sandbox / baseline)",
        sandbox.rate / bare.rate,
        p(sandbox, 0.5) / p(bare, 0.5),
        p(sandbox, 0.99) / p(bare, 0.99)
    );
}

fn raw_request(addr: SocketAddr, target: &str, body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: {target}\r\n\
Authorization: AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/ap-southeast-2/kms/aws4_request, SignedHeaders=host, Signature=0\r\n\
Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Which process this is: the bench itself, or one of the servers it runs
/// as child processes (so that each server's memory is its own and the
/// load generator's runtime is not the server's).
const ROLE: &str = "KEYWATCH_BENCH_ROLE";

/// Stores `SEEDED_TRAIL_EVENTS` CloudTrail records and `SEEDED_LOG_EVENTS`
/// log events in the state directory `dir`, in chunks committed like
/// calls' changes.
fn seed_history(dir: &std::path::Path) {
    let config = SandboxConfig { state_dir: Some(dir.to_owned()), ..SandboxConfig::default() };
    let sandbox = Sandbox::new(config).expect("sandbox on the state directory");
    let now = keywatch_sandbox::clock::now_ms();
    let record = serde_json::json!({"eventVersion": "1.11", "eventTime": keywatch_sandbox::clock::iso8601_seconds(now),
        "eventSource": "kms.amazonaws.com", "eventName": "Encrypt", "readOnly": true, "awsRegion": "ap-southeast-2",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/sandbox-admin"},
        "requestParameters": {"keyId": "seeded", "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}});
    let record = keywatch_sandbox::cloudtrail::record::Record::parse(record.to_string()).expect("a record");
    for _ in 0..SEEDED_TRAIL_EVENTS / 50_000 {
        sandbox.write_state(&[], |state| {
            // History only: the lab's trail would also queue each seeded
            // record for delivery, which the measured rounds would then
            // spend their time delivering.
            let trails = std::mem::take(&mut state.cloudtrail.trails);
            for _ in 0..50_000 {
                state.cloudtrail.record(record.clone(), "ap-southeast-2", now, now, 0, 0);
            }
            state.cloudtrail.trails = trails;
        });
    }
    sandbox.write_state(&[keywatch_sandbox::state::Part::Logs], |state| {
        let _ = state.logs.create_group("ap-southeast-2", "seeded", now);
    });
    let mut metrics = keywatch_sandbox::metrics::MetricStore::default();
    for chunk in 0..SEEDED_LOG_EVENTS / 10_000 {
        sandbox.write_state(&[keywatch_sandbox::state::Part::Logs], |state| {
            let stream = format!("stream-{}", chunk % 20);
            let target = keywatch_sandbox::logs::StreamTarget {
                region: "ap-southeast-2",
                group: "seeded",
                stream: &stream,
                create_stream: true,
            };
            let events = (0..10_000)
                .map(|i| keywatch_sandbox::logs::InputLogEvent {
                    timestamp: now - 60_000 + i,
                    message: format!("{{\"level\":\"info\",\"message\":\"seeded event {chunk} {i}\"}}"),
                })
                .collect();
            state.logs.ingest(&target, events, now, &mut metrics).expect("seeded");
        });
    }
}

/// A server in a child process of this bench, killed when dropped.
struct Child {
    process: std::process::Child,
    addr: SocketAddr,
}

impl Child {
    /// Runs this bench again as `role` (with `dir`, if any) and waits for
    /// the address it prints once listening.
    fn start(role: &str, dir: Option<&std::path::Path>) -> Child {
        use std::io::BufRead as _;
        let mut command = std::process::Command::new(std::env::current_exe().expect("bench executable"));
        command.env(ROLE, role).stdout(std::process::Stdio::piped());
        if let Some(dir) = dir {
            command.env("KEYWATCH_BENCH_STATE_DIR", dir);
        }
        let mut process = command.spawn().expect("child server");
        let stdout = process.stdout.take().expect("child stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).expect("child address");
        let addr = line.trim().parse().expect("child prints its address");
        Child { process, addr }
    }

    /// The child's resident set size, in MiB.
    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.id())).unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(f64::NAN);
        kib / 1024.0
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The child process's work, when this process is one; `None` otherwise.
fn child_role() -> Option<()> {
    let role = std::env::var(ROLE).ok()?;
    let dir = std::env::var_os("KEYWATCH_BENCH_STATE_DIR").map(std::path::PathBuf::from);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if role == "load" {
        // For profiling a server by hand: the bench's own load (raw Encrypt
        // rounds) against KEYWATCH_BENCH_TARGET, for about 20 s, under
        // KEYWATCH_BENCH_KEY or a key it creates.
        let addr: SocketAddr =
            std::env::var("KEYWATCH_BENCH_TARGET").ok().and_then(|addr| addr.parse().ok()).expect("target address");
        runtime.block_on(async move {
            let key_id = match std::env::var("KEYWATCH_BENCH_KEY") {
                Ok(key_id) => key_id,
                Err(_) => create_key(&format!("http://{addr}")).await,
            };
            let request = encrypt_request(addr, &key_id);
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(20) {
                let round = raw_round(addr, &request).await;
                println!("{:.0} requests/s", round.rate);
            }
        });
        return Some(());
    }
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        match role.as_str() {
            "seed" => {
                seed_history(dir.as_deref().expect("state dir"));
                println!("127.0.0.1:0");
            }
            "bare" => {
                println!("{}", listener.local_addr().expect("addr"));
                let router = Router::new().route("/", post(|| async { ENCRYPT_JSON }));
                axum::serve(listener, router).await.expect("serve");
            }
            _ => {
                // As `keywatch sandbox --state-dir` runs it.
                let config = SandboxConfig { state_dir: dir, ..SandboxConfig::default() };
                let sandbox = Sandbox::new(config).expect("sandbox");
                println!("{}", listener.local_addr().expect("addr"));
                sandbox.serve(listener, std::future::pending()).await.expect("serve");
            }
        }
    });
    Some(())
}

/// Deploys what the lab's logging stack makes the console's sandbox do
/// on every call: a trail delivering each record to a log group whose
/// metric filter (the lab's pattern) reads it, and S3 log files.
async fn deploy_lab_trail(endpoint: &str) {
    let sdk = sdk_config(endpoint);
    let bucket = "pattern1-logging-bucket";
    support::create_trail_bucket(&sdk, bucket).await;
    let group = "pattern1-logging-loggroup";
    aws_sdk_cloudwatchlogs::Client::new(&sdk)
        .create_log_group()
        .log_group_name(group)
        .send()
        .await
        .expect("CreateLogGroup");
    support::put_lab_metric_filter(&sdk, group, "{ $.errorCode = \"*\" && $.eventSource= \"kms.amazonaws.com\" }")
        .await;
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&sdk);
    cloudtrail
        .create_trail()
        .name("pattern1-logging-trail")
        .s3_bucket_name(bucket)
        .cloud_watch_logs_log_group_arn(format!("arn:aws:logs:ap-southeast-2:111122223333:log-group:{group}:*"))
        .cloud_watch_logs_role_arn("arn:aws:iam::111122223333:role/pattern1-logging-CloudTrailToLogs")
        .send()
        .await
        .expect("CreateTrail");
    cloudtrail.start_logging().name("pattern1-logging-trail").send().await.expect("StartLogging");
}

/// A KMS key in the sandbox at `endpoint`.
async fn create_key(endpoint: &str) -> String {
    let kms = aws_sdk_kms::Client::new(&sdk_config(endpoint));
    let key = kms.create_key().send().await.expect("CreateKey");
    key.key_metadata().map(|metadata| metadata.key_id().to_owned()).expect("key id")
}

/// The raw Encrypt request of 192 bytes under `key_id` to `addr`.
fn encrypt_request(addr: SocketAddr, key_id: &str) -> Vec<u8> {
    let body = format!("{{\"KeyId\":\"{key_id}\",\"Plaintext\":\"{}\"}}", "eHh4".repeat(64));
    raw_request(addr, "TrentService.Encrypt", &body)
}

/// The raw-HTTP comparison: each server in its own process, the sandbox as
/// `keywatch sandbox` runs it; in memory, on a fresh state directory with
/// the lab's trail, and after a million records and log events.
async fn raw_http_with_state_dir() {
    let bare = Child::start("bare", None);
    let bare_request = raw_request(bare.addr, "TrentService.Encrypt", "{}");

    // The same sandbox without a state directory: what the store costs.
    let memory = Child::start("sandbox", None);
    let memory_request = encrypt_request(memory.addr, &create_key(&memory.endpoint()).await);
    let (in_memory, bare_round) = raw_compare(memory.addr, &memory_request, bare.addr, &bare_request).await;
    report("kms_encrypt_raw_http_8_connections_in_memory", &in_memory, &bare_round);
    drop(memory);

    let dir = tempfile::tempdir().expect("state dir");
    let sandbox = Child::start("sandbox", Some(dir.path()));
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("  idle RSS on a fresh state directory: {:.1} MiB", sandbox.rss_mib());
    let key_id = create_key(&sandbox.endpoint()).await;
    let request = encrypt_request(sandbox.addr, &key_id);
    let (fresh, bare_round) = raw_compare(sandbox.addr, &request, bare.addr, &bare_request).await;
    report("kms_encrypt_raw_http_8_connections_state_dir", &fresh, &bare_round);
    println!("  state dir / in memory: {:>6.3} rate", fresh.rate / in_memory.rate);
    println!("  RSS after the fresh rounds: {:.1} MiB", sandbox.rss_mib());

    deploy_lab_trail(&sandbox.endpoint()).await;
    let (lab, bare_round) = raw_compare(sandbox.addr, &request, bare.addr, &bare_request).await;
    report("kms_encrypt_raw_http_8_connections_state_dir_lab_trail_delivering", &lab, &bare_round);
    tokio::time::sleep(Duration::from_secs(7)).await;
    println!("  RSS after the lab-trail rounds (their records delivered): {:.1} MiB", sandbox.rss_mib());
    drop(sandbox);

    let seeding = Instant::now();
    drop(Child::start("seed", Some(dir.path())));
    println!(
        "  seeded {SEEDED_TRAIL_EVENTS} CloudTrail records and {SEEDED_LOG_EVENTS} log events in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    // Let the kernel write back the seeding's gigabyte first, so the
    // measurement is of calls, not of writeback competing with fsync.
    let _ = std::process::Command::new("sync").status();
    let started = Instant::now();
    let seeded_sandbox = Child::start("sandbox", Some(dir.path()));
    println!("  start-up on the seeded state directory: {:.2} s", started.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("  idle RSS after the million records: {:.1} MiB", seeded_sandbox.rss_mib());
    let request = encrypt_request(seeded_sandbox.addr, &key_id);
    let (seeded, bare_round) = raw_compare(seeded_sandbox.addr, &request, bare.addr, &bare_request).await;
    report("kms_encrypt_raw_http_8_connections_state_dir_after_1m_records_1m_log_events", &seeded, &bare_round);
    println!("  seeded / lab trail: {:>10.3} rate", seeded.rate / lab.rate);
    println!("  RSS after the seeded rounds: {:.1} MiB", seeded_sandbox.rss_mib());
}

//! `make bench`: the sandbox's request rate through the official Rust SDK
//! (STS GetCallerIdentity and KMS Encrypt),
//! reported as a ratio against a bare axum handler measured in the same
//! process, with the same client, so that machine speed cancels out.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use axum::Router;
use axum::routing::post;
use keywatch_sandbox::{Sandbox, SandboxConfig};
use tokio::net::TcpListener;

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

#[tokio::main]
async fn main() {
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
}

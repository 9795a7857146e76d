//! `make bench`: the workload's encrypt+decrypt round trips per second
//! against the sandbox, as a ratio against the same KMS Encrypt and Decrypt
//! made directly through the SDK in the same process. The ratio is what the
//! application adds (routing, JSON, SQLite upsert and read) on top of KMS.

use std::future::Future;
use std::time::Instant;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use axum::body::Body;
use http::{Request, StatusCode};
use keywatch_sandbox::{Sandbox, SandboxConfig};
use tower::ServiceExt;
use workload::{StorageConfig, Workload, WorkloadConfig};

const ROUND_TRIPS: usize = 1_000;
const CONCURRENCY: usize = 8;
const ROUNDS: usize = 3;

fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("ap-southeast-2"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("AKIDBENCH", "secret", None, None, "b")))
        .build()
}

/// Runs `ROUND_TRIPS` of `round_trip(i)`, `CONCURRENCY` at a time; per second.
async fn rate<F, Fut>(round_trip: F) -> f64
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let started = Instant::now();
    let per_worker = ROUND_TRIPS / CONCURRENCY;
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|worker| {
            let round_trip = round_trip.clone();
            tokio::spawn(async move {
                for i in 0..per_worker {
                    round_trip(worker * per_worker + i).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    (per_worker * CONCURRENCY) as f64 / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn send(router: &axum::Router, method: &str, path: &str, body: String) -> (StatusCode, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    (status, axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body").to_vec())
}

#[tokio::main]
async fn main() {
    let sandbox = Sandbox::new(SandboxConfig::default())
        .expect("sandbox")
        .start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox listening");
    let sdk = sdk_config(&sandbox.endpoint_url);
    let kms = aws_sdk_kms::Client::new(&sdk);
    let key_id = kms
        .create_key()
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .map(|metadata| metadata.key_id().to_owned())
        .expect("key id");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = WorkloadConfig {
        port: 0,
        key_id: key_id.clone(),
        storage: StorageConfig::Sqlite { path: dir.path().join("workload.db") },
    };
    let router = Workload::new(config, &sdk).await.expect("workload").router();

    let workload_key = key_id.clone();
    let through_workload = move |i: usize| {
        let (router, key) = (router.clone(), workload_key.clone());
        async move {
            let name = format!("user-{i}");
            let (status, _) =
                send(&router, "POST", "/encrypt", format!(r#"{{"Name":"{name}","Text":"a lab-sized secret text"}}"#))
                    .await;
            assert_eq!(status, StatusCode::OK, "encrypt");
            let (status, body) =
                send(&router, "GET", "/decrypt", format!(r#"{{"Name":"{name}","Key":"{key}"}}"#)).await;
            assert_eq!(status, StatusCode::OK, "decrypt");
            assert!(body.starts_with(br#"{"Text":"#));
        }
    };
    let direct = move |_: usize| {
        let (kms, key) = (kms.clone(), key_id.clone());
        async move {
            let blob = kms
                .encrypt()
                .key_id(&key)
                .plaintext(aws_sdk_kms::primitives::Blob::new("a lab-sized secret text"))
                .send()
                .await
                .expect("Encrypt")
                .ciphertext_blob
                .expect("blob");
            kms.decrypt().key_id(&key).ciphertext_blob(blob).send().await.expect("Decrypt");
        }
    };

    rate(through_workload.clone()).await;
    rate(direct.clone()).await;
    let (mut workload_rates, mut direct_rates) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        workload_rates.push(rate(through_workload.clone()).await);
        direct_rates.push(rate(direct.clone()).await);
    }
    let (workload_rate, direct_rate) = (median(workload_rates), median(direct_rates));
    println!("bench workload_encrypt_decrypt_round_trips");
    println!("  workload:       {workload_rate:>10.0} round trips/s (POST /encrypt + GET /decrypt, SQLite)");
    println!("  direct SDK:     {direct_rate:>10.0} round trips/s (KMS Encrypt + Decrypt to the same sandbox)");
    println!("  ratio:          {:>10.2} (workload / direct)", workload_rate / direct_rate);
}

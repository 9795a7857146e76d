//! `make bench`: the sandbox's request rate through the official Rust SDK,
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
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new("AKIDBENCH", "secret", None, None, "bench")))
        .build()
}

async fn bare_axum() -> String {
    let router = Router::new().route(
        "/",
        post(|| async { ([(http::header::CONTENT_TYPE, "text/xml")], CALLER_IDENTITY_XML) }),
    );
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

#[tokio::main]
async fn main() {
    let sandbox = Sandbox::new(SandboxConfig { default_region: "ap-southeast-2".into(), state_dir: None, ..SandboxConfig::default() })
        .expect("sandbox")
        .start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox listening");
    let baseline_endpoint = bare_axum().await;
    let sandbox_sts = aws_sdk_sts::Client::new(&sdk_config(&sandbox.endpoint_url));
    let baseline_sts = aws_sdk_sts::Client::new(&sdk_config(&baseline_endpoint));

    let sandbox_call = move || {
        let sts = sandbox_sts.clone();
        async move {
            sts.get_caller_identity().send().await.expect("sandbox GetCallerIdentity");
        }
    };
    let baseline_call = move || {
        let sts = baseline_sts.clone();
        async move {
            sts.get_caller_identity().send().await.expect("baseline GetCallerIdentity");
        }
    };

    // Warm connections and allocators before measuring; interleave rounds so
    // drift in machine load affects both sides alike.
    rate(sandbox_call.clone()).await;
    rate(baseline_call.clone()).await;
    let (mut sandbox_rates, mut baseline_rates) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        sandbox_rates.push(rate(sandbox_call.clone()).await);
        baseline_rates.push(rate(baseline_call.clone()).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (sandbox_rate, baseline_rate) = (median(sandbox_rates), median(baseline_rates));
    println!("bench sts_get_caller_identity_via_sdk");
    println!("  sandbox:        {sandbox_rate:>10.0} requests/s");
    println!("  bare axum:      {baseline_rate:>10.0} requests/s (same SDK client, canned response)");
    println!("  ratio:          {:>10.2} (sandbox / baseline)", sandbox_rate / baseline_rate);
}

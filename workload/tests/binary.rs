//! The `workload` binary and `Workload::serve` on real sockets: configured
//! from the environment like the lab's container (including
//! `AWS_ENDPOINT_URL`), serving the lab's requests, and stopping cleanly.

mod support;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use workload::{StorageConfig, Workload, WorkloadConfig};

#[tokio::test]
async fn serve_stops_gracefully_when_asked() {
    let sandbox = support::start_sandbox().await;
    let sdk = support::sdk_config(&sandbox.endpoint_url);
    let key = support::create_key(&sdk).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config =
        WorkloadConfig { port: 0, key_id: key, storage: StorageConfig::Sqlite { path: dir.path().join("db") } };
    let workload = Workload::new(config, &sdk).await.expect("workload");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(workload.serve(listener, async move {
        let _ = stopped.await;
    }));

    assert_eq!(support::http(addr, "GET", "/", None).await, (200, "OK".to_owned()));
    stop.send(()).expect("server still running");
    let finished = tokio::time::timeout(Duration::from_secs(5), server).await.expect("stops promptly");
    finished.expect("task").expect("served without error");
}

/// A free loopback port (another process could take it before the binary
/// binds, which is unlikely enough for a test).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test]
async fn the_binary_runs_the_lab_flow_from_its_environment_and_exits_on_sigterm() {
    let sandbox = support::start_sandbox().await;
    let key = support::create_key(&support::sdk_config(&sandbox.endpoint_url)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_workload"))
        .env_clear()
        .env("PORT", port.to_string())
        .env("KeyId", &key)
        .env("SQLITE_PATH", dir.path().join("workload.db"))
        .env("AWS_ENDPOINT_URL", &sandbox.endpoint_url)
        .env("AWS_REGION", support::REGION)
        .env("AWS_ACCESS_KEY_ID", support::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", support::SECRET_KEY)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start the workload binary");

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut ready = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the workload never listened on {addr}");

    assert_eq!(support::http(addr, "GET", "/", None).await, (200, "OK".to_owned()));
    let (status, body) = support::http(
        addr,
        "POST",
        "/encrypt",
        Some(r#"{"Name":"Bob","Text":"Run your security as a well-oiled machine"}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, format!(r#"{{"Message":"Data encrypted and stored, keep your key save","Key":"{key}"}}"#));
    let decrypt = format!(r#"{{"Name":"Bob","Key":"{key}"}}"#);
    assert_eq!(
        support::http(addr, "GET", "/decrypt", Some(&decrypt)).await,
        (200, r#"{"Text":"Run your security as a well-oiled machine"}"#.to_owned())
    );
    let (status, _) =
        support::http(addr, "GET", "/decrypt", Some(r#"{"Name":"Bob","Key":"some-random-false-key"}"#)).await;
    assert_eq!(status, 400);

    let pid = child.id().expect("running").to_string();
    let killed = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill");
    assert!(killed.success());
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("exits promptly")
        .expect("exit status");
    assert!(output.status.success(), "{:?}", output.status);
    // Logs are JSON lines, one event each.
    let logs = String::from_utf8(output.stdout).expect("UTF-8 logs");
    assert!(logs.lines().count() >= 3, "{logs}");
    for line in logs.lines() {
        let event: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
        assert!(event.get("level").is_some(), "{line}");
    }
    assert!(logs.contains("workload listening") && logs.contains("shutting down"), "{logs}");
}

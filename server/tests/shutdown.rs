//! The real `keywatch serve` binary stopped by SIGTERM: a deployment request
//! in flight (CloudFormation slowed down by the sandbox's latency fault)
//! still gets its answer, the process exits 0 within its grace period, and
//! the deployment it recorded is in the database afterwards. Also its JSON
//! log lines: one object per line with level, target, message and fields.

mod support;

use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use keywatch_app::api::lab::{DeploymentView, PreviewOutcome};
use support::binary::{self, Server};
use support::wire;

/// `keywatch serve` on the sandbox logging JSON, its state and database in
/// `data_dir`, with the sandbox's `faults`.
fn start(data_dir: &std::path::Path, log: &std::path::Path, faults: &str) -> Server {
    binary::start_healthy(log, binary::CONSOLE_HEALTH, |command, port| {
        if !faults.is_empty() {
            command.env("KEYWATCH_SANDBOX_FAULTS", faults);
        }
        command
            .args(["serve", "--aws", "sandbox", "--listen", &wire::local(port)])
            .args(["--log-format", "json"])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--site-root")
            .arg(data_dir)
            .env("RUST_LOG", "info");
    })
}

/// A server function called with `json`: the status and body.
fn call(port: u16, path: &str, json: &str) -> std::io::Result<(u16, String)> {
    let request = wire::Request::new("POST", path).header("Accept", "application/json").json(json);
    wire::send(&wire::local(port), &request).map(|response| (response.status, response.text()))
}

fn sigterm(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
}

/// Waits for the process to exit; its exit code.
fn wait_exit(child: &mut Child, within: Duration, log: &std::path::Path) -> Option<i32> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running {within:?} after SIGTERM:\n{}", std::fs::read_to_string(log).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_during_a_deployment_finishes_the_request_commits_it_and_exits_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("console.log");
    // Every CloudFormation call takes 700 ms: the deploy request is still
    // running when the signal arrives.
    let mut console = start(dir.path(), &log, "cloudformation:latency-ms=700");
    let port = console.port;

    let (status, body) =
        call(port, "/api/lab/preview", r#"{"request":{"section":"BaseNetwork","prefix":"sigterm","parameters":[]}}"#)
            .expect("preview answered");
    assert_eq!(status, 200, "{body}");
    let PreviewOutcome::Changes { change_set_id, .. } = serde_json::from_str(&body).expect("preview json") else {
        panic!("expected changes: {body}")
    };
    let deploy = std::thread::spawn(move || {
        let answer = call(
            port,
            "/api/lab/deploy",
            &format!(
                r#"{{"request":{{"section":"BaseNetwork","prefix":"sigterm","change_set_id":"{change_set_id}"}}}}"#
            ),
        );
        (answer, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    sigterm(&console.child);

    let (answer, answered_at) = deploy.join().expect("deploy thread");
    assert!(answered_at > signalled, "the deploy was still in flight when SIGTERM arrived");
    let (status, body) = answer.expect("the in-flight deploy was answered");
    assert_eq!(status, 200, "{body}");
    let deployment: DeploymentView = serde_json::from_str(&body).expect("deployment json");
    let code = wait_exit(&mut console.child, Duration::from_secs(30), &log);
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(code, Some(0), "{log_text}");
    assert!(signalled.elapsed() < Duration::from_secs(20), "stopped within its grace periods");
    // The listener is closed.
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());

    // What the console answered is what it committed.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let stored = runtime.block_on(async {
        let db = keywatch::db::Database::open(&dir.path().join("keywatch.db")).await.expect("database");
        let stored = db.deployments().get(deployment.id).await.expect("query");
        db.close().await;
        stored
    });
    let stored = stored.expect("the deployment row survived the shutdown");
    assert_eq!(stored.stack_name, "sigterm-base");
    assert_eq!(stored.change_set_id, deployment.change_set_id);
    assert!(log_text.contains("shutting down") && log_text.contains("\"stopped\""), "{log_text}");
}

#[test]
fn json_logs_are_one_object_per_line_with_level_target_message_and_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("console.log");
    let mut console = start(dir.path(), &log, "");
    let port = console.port;
    sigterm(&console.child);
    assert_eq!(wait_exit(&mut console.child, Duration::from_secs(30), &log), Some(0));

    let text = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}")))
        .collect();
    assert!(lines.len() >= 3, "{text}");
    for line in &lines {
        for key in ["timestamp", "level", "target"] {
            assert!(line[key].is_string(), "no {key}: {line}");
        }
        assert!(line["fields"]["message"].is_string(), "no message: {line}");
    }
    let listening = lines
        .iter()
        .find(|line| line["fields"]["message"] == "Keywatch console listening")
        .unwrap_or_else(|| panic!("no start-up line: {text}"));
    assert_eq!(listening["level"], "INFO");
    assert_eq!(listening["target"], "keywatch");
    assert_eq!(listening["fields"]["url"], format!("http://127.0.0.1:{port}"));
    assert_eq!(listening["fields"]["mode"], "Sandbox");
    assert!(lines.iter().any(|line| line["fields"]["message"] == "stopped"), "{text}");
}

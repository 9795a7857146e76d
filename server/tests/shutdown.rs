//! The real `keywatch serve` binary stopped by SIGTERM: a deployment request
//! in flight (CloudFormation slowed down by the sandbox's latency fault)
//! still gets its answer, the process exits 0 within its grace period, and
//! the deployment it recorded is in the database afterwards. Also its JSON
//! log lines: one object per line with level, target, message and fields.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keywatch_app::api::lab::{DeploymentView, PreviewOutcome};

fn start(data_dir: &std::path::Path, port: u16, log: &std::path::Path, faults: &str) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keywatch"));
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "KEYWATCH_AWS", "KEYWATCH_LISTEN"] {
        command.env_remove(name);
    }
    if !faults.is_empty() {
        command.env("KEYWATCH_SANDBOX_FAULTS", faults);
    }
    command
        .args(["serve", "--aws", "sandbox", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--log-format", "json"])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--site-root")
        .arg(data_dir)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).map(Stdio::from).unwrap_or_else(|_| Stdio::null()))
        .spawn()
        .expect("keywatch serve starts")
}

/// One HTTP/1.1 request; returns the status and body.
fn http(port: u16, method: &str, path: &str, json: Option<&str>) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let body = json.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let body =
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_owned() };
    Some((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

fn wait_healthy(port: u16, child: &mut Child, log: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("the console exited ({status}) before it was healthy:\n{log}");
        }
        if http(port, "GET", "/healthz", None).is_some_and(|(status, _)| status == 200) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the console never became healthy");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).map(|addr| addr.port()).expect("a port")
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
    let port = free_port();
    let log = dir.path().join("console.log");
    // Every CloudFormation call takes 700 ms: the deploy request is still
    // running when the signal arrives.
    let mut console = start(dir.path(), port, &log, "cloudformation:latency-ms=700");
    wait_healthy(port, &mut console, &log);

    let (status, body) = http(
        port,
        "POST",
        "/api/lab/preview",
        Some(r#"{"request":{"section":"BaseNetwork","prefix":"sigterm","parameters":[]}}"#),
    )
    .expect("preview answered");
    assert_eq!(status, 200, "{body}");
    let PreviewOutcome::Changes { change_set_id, .. } = serde_json::from_str(&body).expect("preview json") else {
        panic!("expected changes: {body}")
    };
    let deploy = std::thread::spawn(move || {
        let answer = http(
            port,
            "POST",
            "/api/lab/deploy",
            Some(&format!(
                r#"{{"request":{{"section":"BaseNetwork","prefix":"sigterm","change_set_id":"{change_set_id}"}}}}"#
            )),
        );
        (answer, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    sigterm(&console);

    let (answer, answered_at) = deploy.join().expect("deploy thread");
    assert!(answered_at > signalled, "the deploy was still in flight when SIGTERM arrived");
    let (status, body) = answer.expect("the in-flight deploy was answered");
    assert_eq!(status, 200, "{body}");
    let deployment: DeploymentView = serde_json::from_str(&body).expect("deployment json");
    let code = wait_exit(&mut console, Duration::from_secs(30), &log);
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
    let port = free_port();
    let log = dir.path().join("console.log");
    let mut console = start(dir.path(), port, &log, "");
    wait_healthy(port, &mut console, &log);
    sigterm(&console);
    assert_eq!(wait_exit(&mut console, Duration::from_secs(30), &log), Some(0));

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

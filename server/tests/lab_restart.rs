//! Killing the console in the middle of a deployment and starting it again:
//! the real `keywatch serve` binary on the sandbox, its state and database in
//! one data directory, driven through the wizard's server functions. The
//! restarted console resumes following the stack, shows its true state and
//! the deployment's full event history.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keywatch_app::api::lab::{DeploymentView, PreviewOutcome, SectionLive};

fn start(data_dir: &std::path::Path, port: u16, log: &std::path::Path) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keywatch"));
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "KEYWATCH_AWS", "KEYWATCH_LISTEN"] {
        command.env_remove(name);
    }
    command
        .args(["serve", "--aws", "sandbox", "--listen", &format!("127.0.0.1:{port}")])
        // Each resource takes 400 ms, so the base stack stays in progress for
        // seconds even where independent resources are created side by side.
        .args(["--stack-pace-ms", "400"])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--site-root")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
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
    // Leptos answers server functions with chunked bodies sometimes.
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

/// Starts the console on a free port and waits until it answers /healthz.
/// A port taken by another process between choosing and binding it (other
/// tests run in parallel) is retried with a new one; any other early exit
/// fails the test with the console's log.
fn start_healthy(data_dir: &std::path::Path, log: &std::path::Path) -> (Child, u16) {
    for _attempt in 0..3 {
        let port = free_port();
        let mut child = start(data_dir, port, log);
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                if log.contains("cannot listen on") {
                    break;
                }
                panic!("the console exited ({status}) before it was healthy:\n{log}");
            }
            if http(port, "GET", "/healthz", None).is_some_and(|(status, _)| status == 200) {
                return (child, port);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if child.try_wait().ok().flatten().is_none() {
            panic!("the console never became healthy");
        }
    }
    panic!("no free port could be bound in three attempts");
}

fn call<T: serde::de::DeserializeOwned>(port: u16, function: &str, json: &str) -> T {
    let (status, body) = http(port, "POST", &format!("/api/lab/{function}"), Some(json)).expect("an answer");
    assert_eq!(status, 200, "{function}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|error| panic!("{function}: {error}: {body}"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).map(|addr| addr.port()).expect("a port")
}

#[test]
fn a_console_killed_mid_deployment_resumes_following_the_stack_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first_log = dir.path().join("first.log");
    let (mut first, port) = start_healthy(dir.path(), &first_log);

    let preview: PreviewOutcome =
        call(port, "preview", r#"{"request":{"section":"BaseNetwork","prefix":"restart","parameters":[]}}"#);
    let PreviewOutcome::Changes { change_set_id, .. } = preview else { panic!("expected changes") };
    let deployment: DeploymentView = call(
        port,
        "deploy",
        &format!(r#"{{"request":{{"section":"BaseNetwork","prefix":"restart","change_set_id":"{change_set_id}"}}}}"#),
    );
    // Once the watcher has recorded some resources' creation, kill the
    // console outright while the stack is still in progress.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let midway: SectionLive = call(port, "live", r#"{"request":{"section":"BaseNetwork","prefix":"restart"}}"#);
        let finished =
            midway.stack.status.as_deref().is_some_and(|s| s.ends_with("_COMPLETE") || s.ends_with("_FAILED"));
        assert!(!finished, "the stack finished before the kill: {:?}", midway.stack);
        if midway.events.iter().any(|event| event.status == "CREATE_COMPLETE") {
            break;
        }
        assert!(Instant::now() < deadline, "no resource was created: {midway:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    first.kill().expect("killed");
    first.wait().expect("reaped");

    let second_log = dir.path().join("second.log");
    let (mut second, port) = start_healthy(dir.path(), &second_log);
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        let live: SectionLive = call(port, "live", r#"{"request":{"section":"BaseNetwork","prefix":"restart"}}"#);
        if live.deployment.as_ref().is_some_and(|d| d.outcome.is_some()) {
            break live;
        }
        assert!(Instant::now() < deadline, "the deployment never finished: {live:?}");
        std::thread::sleep(Duration::from_millis(250));
    };
    second.kill().expect("killed");
    let _ = second.wait();

    assert_eq!(done.stack.status.as_deref(), Some("CREATE_COMPLETE"));
    let recorded = done.deployment.expect("the deployment");
    assert_eq!(recorded.id, deployment.id, "the same deployment, followed across the restart");
    assert_eq!(recorded.outcome.as_deref(), Some("succeeded"));
    let stack_events: Vec<&str> = done
        .events
        .iter()
        .filter(|event| event.logical_id == "restart-base")
        .map(|event| event.status.as_str())
        .collect();
    assert_eq!(stack_events, ["REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"]);
    // Every resource's creation is in the history, before and after the kill.
    for resource in &done.resources {
        assert!(
            done.events.iter().any(|e| e.logical_id == resource.logical_id && e.status == "CREATE_COMPLETE"),
            "no CREATE_COMPLETE event for {}",
            resource.logical_id
        );
    }
    assert_eq!(done.done, done.total);
}

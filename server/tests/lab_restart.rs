//! Killing the console in the middle of a deployment and starting it again:
//! the real `keywatch serve` binary on the sandbox, its state and database in
//! one data directory, driven through the wizard's server functions. The
//! restarted console resumes following the stack, shows its true state and
//! the deployment's full event history.

mod support;

use std::time::{Duration, Instant};

use keywatch_app::api::lab::{DeploymentView, PreviewOutcome, SectionLive};
use support::binary::{self, Server};
use support::wire;

/// `keywatch serve` on the sandbox, its state and database in `data_dir`.
fn start(data_dir: &std::path::Path, log: &std::path::Path) -> Server {
    binary::start_healthy(log, binary::CONSOLE_HEALTH, |command, port| {
        command
            .args(["serve", "--aws", "sandbox", "--listen", &wire::local(port)])
            // Each resource takes 400 ms, so the base stack stays in progress for
            // seconds even where independent resources are created side by side.
            .args(["--stack-pace-ms", "400"])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--site-root")
            .arg(data_dir)
            .env("RUST_LOG", "warn");
    })
}

fn call<T: serde::de::DeserializeOwned>(console: &Server, function: &str, json: &str) -> T {
    let request = wire::Request::new("POST", &format!("/api/lab/{function}")).header("Accept", "application/json");
    let response = console.send(&request.json(json)).expect("an answer");
    let body = response.text();
    assert_eq!(response.status, 200, "{function}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|error| panic!("{function}: {error}: {body}"))
}

#[test]
fn a_console_killed_mid_deployment_resumes_following_the_stack_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first_log = dir.path().join("first.log");
    let mut first = start(dir.path(), &first_log);

    let preview: PreviewOutcome =
        call(&first, "preview", r#"{"request":{"section":"BaseNetwork","prefix":"restart","parameters":[]}}"#);
    let PreviewOutcome::Changes { change_set_id, .. } = preview else { panic!("expected changes") };
    let deployment: DeploymentView = call(
        &first,
        "deploy",
        &format!(r#"{{"request":{{"section":"BaseNetwork","prefix":"restart","change_set_id":"{change_set_id}"}}}}"#),
    );
    // Once the watcher has recorded some resources' creation, kill the
    // console outright while the stack is still in progress.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let midway: SectionLive = call(&first, "live", r#"{"request":{"section":"BaseNetwork","prefix":"restart"}}"#);
        let finished =
            midway.stack.status.as_deref().is_some_and(|s| s.ends_with("_COMPLETE") || s.ends_with("_FAILED"));
        assert!(!finished, "the stack finished before the kill: {:?}", midway.stack);
        if midway.events.iter().any(|event| event.status == "CREATE_COMPLETE") {
            break;
        }
        assert!(Instant::now() < deadline, "no resource was created: {midway:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    first.child.kill().expect("killed");
    first.child.wait().expect("reaped");

    let second_log = dir.path().join("second.log");
    let mut second = start(dir.path(), &second_log);
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        let live: SectionLive = call(&second, "live", r#"{"request":{"section":"BaseNetwork","prefix":"restart"}}"#);
        if live.deployment.as_ref().is_some_and(|d| d.outcome.is_some()) {
            break live;
        }
        assert!(Instant::now() < deadline, "the deployment never finished: {live:?}");
        std::thread::sleep(Duration::from_millis(250));
    };
    second.child.kill().expect("killed");
    let _ = second.child.wait();

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

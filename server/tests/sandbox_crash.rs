//! The real `keywatch sandbox` binary killed with SIGKILL while 8
//! connections write (KMS CreateKey, Secrets Manager PutSecretValue,
//! PutLogEvents, CloudWatch PutMetricData and S3 PutObject, each call also a
//! CloudTrail record): started again on the same state directory, every
//! write that was answered 200 is there, counted. Then a bounded soak: the restarted
//! sandbox keeps answering mixed writes for a few seconds and its database
//! opens again afterwards.

mod support;

use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use support::binary::{self, Server};
use support::wire;

const CONNECTIONS: usize = 8;
const REGION: &str = "ap-southeast-2";

/// `keywatch sandbox` keeping its state in `state_dir`.
fn start(state_dir: &Path, log: &Path) -> Server {
    binary::start_healthy(log, binary::SANDBOX_HEALTH, |command, port| {
        command
            .args(["sandbox", "--listen", &wire::local(port)])
            .arg("--state-dir")
            .arg(state_dir)
            .env("RUST_LOG", "warn");
    })
}

/// A keep-alive connection to the sandbox, signing (in shape) as a client
/// of the service each call is for.
struct Connection(wire::Connection);

impl Connection {
    fn open(port: u16) -> Option<Connection> {
        wire::Connection::open(&wire::local(port)).ok().map(Connection)
    }

    /// Sends one request and reads its response: status and body, or
    /// `None` if the connection failed (the process was killed).
    fn call(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Option<(u16, Vec<u8>)> {
        let mut request = wire::Request::new(method, path);
        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization")) {
            let scope = format!(
                "AWS4-HMAC-SHA256 Credential=AKIDCRASH/20260101/{REGION}/{}/aws4_request, SignedHeaders=host, Signature=0",
                if path.starts_with("/crash-bucket") { "s3" } else { "logs" }
            );
            request = request.header("Authorization", &scope);
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = self.0.send(&request.body(body)).ok()?;
        Some((response.status, response.body))
    }

    fn logs(&mut self, operation: &str, input: &serde_json::Value) -> Option<(u16, serde_json::Value)> {
        self.json("1.1", &format!("Logs_20140328.{operation}"), input)
    }

    /// A call in AWS JSON `version` (1.0 or 1.1) to `target`, signed (in
    /// shape: the sandbox routes by the credential scope's service) for
    /// the target's service.
    fn json(&mut self, version: &str, target: &str, input: &serde_json::Value) -> Option<(u16, serde_json::Value)> {
        let content_type = format!("application/x-amz-json-{version}");
        let service = match target.split('.').next() {
            Some("TrentService") => "kms",
            Some("secretsmanager") => "secretsmanager",
            Some("GraniteServiceVersion20100801") => "monitoring",
            _ => "logs",
        };
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDCRASH/20260101/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0"
        );
        let headers = [
            ("Content-Type", content_type.as_str()),
            ("X-Amz-Target", target),
            ("Authorization", authorization.as_str()),
        ];
        let (status, body) = self.call("POST", "/", &headers, input.to_string().as_bytes())?;
        Some((status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)))
    }
}

/// What one writer had acknowledged: log messages, object keys, KMS key
/// ids, the numbers of its secret's values and of its metric's datapoints.
#[derive(Default)]
struct Acknowledged {
    messages: Vec<String>,
    keys: Vec<String>,
    kms_keys: Vec<String>,
    secret_values: Vec<usize>,
    datapoints: Vec<usize>,
}

impl Acknowledged {
    fn count(&self) -> usize {
        self.messages.len() + self.keys.len() + self.kms_keys.len() + self.secret_values.len() + self.datapoints.len()
    }
}

/// Writes until `stop` or until the connection dies; what got a 200.
fn writer(port: u16, id: usize, stop: Arc<AtomicBool>) -> Acknowledged {
    let mut acknowledged = Acknowledged::default();
    let Some(mut connection) = Connection::open(port) else { return acknowledged };
    let mut n = 0_usize;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let message = format!("writer {id} event {n}");
        let input = serde_json::json!({
            "logGroupName": "crash", "logStreamName": format!("w{id}"),
            "logEvents": [{"timestamp": now_ms(), "message": message}],
        });
        match connection.logs("PutLogEvents", &input) {
            Some((200, _)) => acknowledged.messages.push(message),
            Some(_) => {}
            None => break,
        }
        let key = format!("w{id}/{n}");
        let body = format!("object {id} {n}");
        match connection.call("PUT", &format!("/crash-bucket/{key}"), &[], body.as_bytes()) {
            Some((200, _)) => acknowledged.keys.push(key),
            Some(_) => {}
            None => break,
        }
        match connection.json("1.1", "TrentService.CreateKey", &serde_json::json!({"Description": body})) {
            Some((200, output)) => {
                acknowledged.kms_keys.extend(output["KeyMetadata"]["KeyId"].as_str().map(str::to_owned));
            }
            Some(_) => {}
            None => break,
        }
        let secret = serde_json::json!({"SecretId": format!("crash-{id}"), "SecretString": n.to_string()});
        match connection.json("1.1", "secretsmanager.PutSecretValue", &secret) {
            Some((200, _)) => acknowledged.secret_values.push(n),
            Some(_) => {}
            None => break,
        }
        let datapoint = serde_json::json!({"Namespace": "Crash", "MetricData": [
            {"MetricName": format!("w{id}"), "Value": n, "Timestamp": now_ms() as f64 / 1000.0}]});
        match connection.json("1.0", "GraniteServiceVersion20100801.PutMetricData", &datapoint) {
            Some((200, _)) => acknowledged.datapoints.push(n),
            Some(_) => {}
            None => break,
        }
    }
    acknowledged
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Every message stored in stream `w{id}`.
fn stored_messages(connection: &mut Connection, id: usize) -> Vec<String> {
    let mut messages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input =
            serde_json::json!({"logGroupName": "crash", "logStreamName": format!("w{id}"), "startFromHead": true});
        if let Some(token) = &token {
            input["nextToken"] = serde_json::Value::String(token.clone());
        }
        let (status, output) = connection.logs("GetLogEvents", &input).expect("GetLogEvents answered");
        assert_eq!(status, 200, "{output}");
        let events = output["events"].as_array().cloned().unwrap_or_default();
        messages.extend(events.iter().filter_map(|event| event["message"].as_str().map(str::to_owned)));
        let next = output["nextForwardToken"].as_str().map(str::to_owned);
        if events.is_empty() || next == token {
            return messages;
        }
        token = next;
    }
}

fn run_writers(port: u16, for_at_least: Duration, kill: Option<&mut Child>) -> Vec<Acknowledged> {
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..CONNECTIONS)
        .map(|id| {
            let stop = stop.clone();
            std::thread::spawn(move || writer(port, id, stop))
        })
        .collect();
    std::thread::sleep(for_at_least);
    match kill {
        Some(child) => {
            // SIGKILL: no chance to flush anything.
            child.kill().expect("killed");
            let _ = child.wait();
        }
        None => stop.store(true, Ordering::Relaxed),
    }
    writers.into_iter().map(|writer| writer.join().expect("writer")).collect()
}

#[test]
fn every_answered_write_survives_sigkill_and_a_short_soak_follows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state_dir = dir.path().join("state");
    let log = dir.path().join("sandbox.log");
    let mut sandbox = start(&state_dir, &log);
    let port = sandbox.port;
    let mut setup = Connection::open(port).expect("connect");
    assert_eq!(setup.logs("CreateLogGroup", &serde_json::json!({"logGroupName": "crash"})).map(|r| r.0), Some(200));
    for id in 0..CONNECTIONS {
        let input = serde_json::json!({"logGroupName": "crash", "logStreamName": format!("w{id}")});
        assert_eq!(setup.logs("CreateLogStream", &input).map(|r| r.0), Some(200));
        let secret = serde_json::json!({"Name": format!("crash-{id}"), "SecretString": "0"});
        let created = setup.json("1.1", "secretsmanager.CreateSecret", &secret).expect("CreateSecret answered");
        assert_eq!(created.0, 200, "{}", created.1);
    }
    let location = format!(
        "<CreateBucketConfiguration><LocationConstraint>{REGION}</LocationConstraint></CreateBucketConfiguration>"
    );
    assert_eq!(setup.call("PUT", "/crash-bucket", &[], location.as_bytes()).map(|r| r.0), Some(200));
    drop(setup);

    let acknowledged = run_writers(port, Duration::from_millis(1500), Some(&mut sandbox.child));
    let answered: usize = acknowledged.iter().map(Acknowledged::count).sum();
    assert!(answered > 0, "no write was answered before the kill");

    sandbox = start(&state_dir, &log);
    let port = sandbox.port;
    let mut check = Connection::open(port).expect("connect");
    let mut found = 0_usize;
    for (id, written) in acknowledged.iter().enumerate() {
        let stored = stored_messages(&mut check, id);
        for message in &written.messages {
            assert!(stored.contains(message), "{message} was answered 200 but is gone after SIGKILL");
            found += 1;
        }
        for key in &written.keys {
            let (status, _) = check.call("HEAD", &format!("/crash-bucket/{key}"), &[], b"").expect("HeadObject");
            assert_eq!(status, 200, "{key} was answered 200 but is gone after SIGKILL");
            found += 1;
        }
        for key_id in &written.kms_keys {
            let described = check.json("1.1", "TrentService.DescribeKey", &serde_json::json!({"KeyId": key_id}));
            assert_eq!(described.map(|d| d.0), Some(200), "key {key_id} was answered 200 but is gone after SIGKILL");
            found += 1;
        }
        if let Some(last) = written.secret_values.last() {
            // Only the current value is kept (earlier versions lose their
            // labels and go, as in AWS); it is the last acknowledged one or
            // one written after it.
            let input = serde_json::json!({"SecretId": format!("crash-{id}")});
            let (status, output) = check.json("1.1", "secretsmanager.GetSecretValue", &input).expect("GetSecretValue");
            assert_eq!(status, 200, "{output}");
            let current: usize = output["SecretString"].as_str().and_then(|v| v.parse().ok()).expect("a number");
            assert!(current >= *last, "secret crash-{id} holds {current}, but {last} was answered 200");
            found += written.secret_values.len();
        }
        let (status, stored) = check
            .call("GET", &format!("/_keywatch/metrics?namespace=Crash&metricName=w{id}"), &[], b"")
            .expect("datapoints");
        assert_eq!(status, 200);
        let stored: serde_json::Value = serde_json::from_slice(&stored).expect("json");
        let values: Vec<usize> = stored["datapoints"]
            .as_array()
            .map(|points| points.iter().filter_map(|p| p["value"].as_f64()).map(|v| v as usize).collect())
            .unwrap_or_default();
        for n in &written.datapoints {
            assert!(values.contains(n), "datapoint {n} of w{id} was answered 200 but is gone after SIGKILL");
            found += 1;
        }
    }
    println!("{answered} writes answered 200 before SIGKILL, {found} found after the restart");
    assert_eq!(found, answered);

    // The soak: mixed writes on the restarted sandbox for a few seconds,
    // then a clean restart reads everything back.
    let soaked = run_writers(port, Duration::from_secs(5), None);
    let soaked_writes: usize = soaked.iter().map(Acknowledged::count).sum();
    assert!(soaked_writes > 0);
    sandbox.child.kill().expect("killed");
    let _ = sandbox.child.wait();
    sandbox = start(&state_dir, &log);
    let mut check = Connection::open(sandbox.port).expect("connect");
    for (id, written) in soaked.iter().enumerate() {
        let stored = stored_messages(&mut check, id);
        assert!(written.messages.iter().all(|message| stored.contains(message)), "soak writes lost");
    }
    println!("{soaked_writes} writes answered 200 in the soak, all found after a second SIGKILL");
    sandbox.child.kill().expect("killed");
    let _ = sandbox.child.wait();
}

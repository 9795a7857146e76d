//! The `keywatch` binary as users run it: bad input ends in one clear line,
//! and `keywatch sandbox` answers the AWS SDK.

mod support;

use std::process::Stdio;

use support::binary::{self, keywatch};
use support::wire;

fn stderr_lines(output: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| !line.trim().is_empty())
        // Log lines (timestamped) are not the error report.
        .filter(|line| line.starts_with("keywatch"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn an_unknown_flag_is_one_line_and_exit_2() {
    let output = keywatch().arg("--bogus").output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("keywatch: error: unexpected argument '--bogus'"), "{stderr}");
}

#[test]
fn listening_beyond_loopback_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = keywatch()
        .args(["serve", "--aws", "sandbox", "--listen", "0.0.0.0:39999"])
        .env("HOME", dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("refusing to serve the console on 0.0.0.0:39999 without a password"), "{lines:?}");
    assert!(lines[0].contains("keywatch user set-password"), "{lines:?}");
}

fn set_password(data_dir: &std::path::Path, password: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = keywatch()
        .args(["user", "set-password", "--data-dir"])
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("piped");
    child.wait_with_output().expect("finishes")
}

#[test]
fn a_short_password_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = set_password(dir.path(), "short");
    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines, vec!["keywatch: error: the password must be at least 12 characters long".to_owned()]);
    assert!(!dir.path().join("keywatch.db").exists(), "nothing written");
}

#[test]
fn a_malformed_password_hash_in_the_environment_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = keywatch()
        .args(["serve", "--aws", "sandbox", "--listen", "0.0.0.0:39998"])
        .env("HOME", dir.path())
        .env("KEYWATCH_ADMIN_PASSWORD_HASH", "plain-text-password")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("keywatch: error: KEYWATCH_ADMIN_PASSWORD_HASH: not a PHC string"), "{lines:?}");
}

/// Once `keywatch user set-password` has stored a hash (read from a pipe),
/// the console starts on a non-loopback address and asks for a login.
#[test]
fn with_a_password_set_the_console_listens_beyond_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = set_password(dir.path(), "a long enough password");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("Password set for admin"));
    let stored = std::fs::read(dir.path().join("keywatch.db")).expect("database");
    let wal = std::fs::read(dir.path().join("keywatch.db-wal")).unwrap_or_default();
    for bytes in [&stored, &wal] {
        assert!(!bytes.windows(22).any(|w| w == b"a long enough password"), "the password itself is stored");
    }

    let console = binary::start_healthy(&dir.path().join("console.log"), binary::CONSOLE_HEALTH, |command, port| {
        command
            .args(["serve", "--aws", "sandbox", "--listen", &format!("0.0.0.0:{port}"), "--data-dir"])
            .arg(dir.path())
            .env("HOME", dir.path());
    });
    // The status line and headers are all these checks read.
    let head = |path: &str| console.send(&wire::Request::get(path)).expect("an answer").head;
    let answer = head("/api/connection/settings");
    let health = head("/healthz");
    let sns = head("/sns/notifications");
    drop(console);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // The SNS endpoint sits outside the session check (SNS signs its POSTs)
    // but not outside the security headers.
    assert!(!sns.starts_with("HTTP/1.1 401"), "{sns}");
    for answer in [&answer, &health, &sns] {
        assert!(answer.contains("x-content-type-options: nosniff"), "{answer}");
        assert!(answer.contains("frame-ancestors 'none'"), "{answer}");
    }
}

#[test]
fn an_unwritable_database_path_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("not-a-directory");
    std::fs::write(&blocker, b"a file").expect("write");
    let output = keywatch()
        .args(["serve", "--aws", "sandbox", "--listen", "127.0.0.1:0"])
        .arg("--database")
        .arg(blocker.join("keywatch.db"))
        .env("HOME", dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("keywatch: error: cannot create the database directory"), "{lines:?}");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

#[tokio::test]
async fn keywatch_sandbox_answers_the_sdk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, state_dir) = (dir.path().join("sandbox.log"), dir.path().join("state"));
    // Started from the blocking pool: waiting for it to be healthy blocks.
    let sandbox = tokio::task::spawn_blocking(move || {
        binary::start_healthy(&log, binary::SANDBOX_HEALTH, |command, port| {
            command.args(["sandbox", "--listen", &wire::local(port)]).arg("--state-dir").arg(&state_dir);
        })
    })
    .await
    .expect("started");
    let endpoint = format!("http://{}", sandbox.address());

    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("ap-southeast-2"))
        .endpoint_url(&endpoint)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("AKIDANY", "any-secret", None, None, "test"),
        ))
        .build();
    let identity = aws_sdk_sts::Client::new(&config).get_caller_identity().send().await;
    drop(sandbox);

    let identity = identity.expect("GetCallerIdentity");
    assert_eq!(identity.account(), Some("111122223333"));
    assert!(dir.path().join("state").is_dir(), "state directory created");
}

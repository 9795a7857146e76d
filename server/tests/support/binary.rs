//! The real `keywatch` binary in a child process, as users run it: a
//! command with nothing of the test machine's AWS or Keywatch settings in
//! its environment, and a server started on a free port and waited for
//! until its health check answers.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::wire;

/// The console's health check.
pub const CONSOLE_HEALTH: &str = "/healthz";
/// The sandbox's health check (`keywatch sandbox`).
pub const SANDBOX_HEALTH: &str = "/_keywatch/health";

/// How long a server may take to become healthy (a debug build on a busy
/// machine, migrations and the in-process sandbox's start included).
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// Attempts at a free port before giving up.
const PORT_ATTEMPTS: usize = 3;

/// The binary under test. `KEYWATCH_TEST_BIN` overrides cargo's path: two
/// checkouts sharing one target directory share its `debug/keywatch`, so
/// cargo's path may hold the other checkout's build.
pub fn binary() -> PathBuf {
    std::env::var_os("KEYWATCH_TEST_BIN").map_or_else(|| env!("CARGO_BIN_EXE_keywatch").into(), Into::into)
}

/// `keywatch` with no AWS credentials, profile or `KEYWATCH_*` setting
/// leaking in from the machine running the tests, and no input.
pub fn keywatch() -> Command {
    let mut command = Command::new(binary());
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] {
        command.env_remove(name);
    }
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KEYWATCH_") {
            command.env_remove(name);
        }
    }
    command.stdin(Stdio::null());
    command
}

/// A `keywatch` server running in a child process; killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    /// Its standard error (the log).
    pub log: PathBuf,
}

impl Server {
    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        wire::local(self.port)
    }

    /// `request` on a connection of its own.
    pub fn send(&self, request: &wire::Request) -> std::io::Result<wire::Response> {
        wire::send(&self.address(), request)
    }

    /// What it has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A test that failed half-way leaves no server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts [`keywatch`] as `configure` sets it up for a free port (its
/// subcommand, `--listen` on that port, flags, environment), logging to
/// `log`, and waits until `health` answers 200 on it.
///
/// The port is free when chosen but another process (tests run in
/// parallel) may bind it first: a server that exits saying it cannot
/// listen is started again on a new port. Any other early exit fails the
/// test with the server's log.
pub fn start_healthy(log: &Path, health: &str, configure: impl Fn(&mut Command, u16)) -> Server {
    for _attempt in 0..PORT_ATTEMPTS {
        let port = free_port();
        let mut command = keywatch();
        configure(&mut command, port);
        let stderr = std::fs::File::create(log).expect("log file");
        let child = command.stdout(Stdio::null()).stderr(stderr).spawn().expect("keywatch starts");
        let mut server = Server { child, port, log: log.to_owned() };
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = server.log_text();
                if log.contains("cannot listen on") {
                    break;
                }
                panic!("keywatch exited ({status}) before it was healthy:\n{log}");
            }
            if server.send(&wire::Request::get(health)).is_ok_and(|response| response.status == 200) {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if server.child.try_wait().ok().flatten().is_none() {
            panic!("keywatch never became healthy:\n{}", server.log_text());
        }
    }
    panic!("no free port could be bound in {PORT_ATTEMPTS} attempts");
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

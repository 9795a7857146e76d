//! The world a server test runs in: an in-process sandbox standing in for
//! AWS, a temporary SQLite database with Keywatch's migrations, the
//! console's services over SDK clients pointed at the sandbox, and the
//! console's router built by `web::app`, the builder `serve` uses, so that
//! a test sees every layer a browser would (Host allow-list, security
//! headers, body limit, session layer, SNS endpoint, `/healthz`, `/metrics`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use keywatch::auth::{Auth, AuthSettings};
use keywatch::aws::Aws;
use keywatch::console::{Console, ConsoleBase, PortSource, Ports};
use keywatch::db::Database;
use keywatch::sns_endpoint::{AlarmTopicList, SnsEndpoint};
use keywatch_app::api::connection::{AwsMode, ConsoleSettings, ModeSource};
use keywatch_sandbox::{RunningSandbox, Sandbox, SandboxConfig};

/// The Region every world runs in (the lab's, the sandbox's default).
pub const REGION: &str = "ap-southeast-2";
/// The address the console's router believes it listens on; requests to it
/// carry it as their `Host`.
pub const LISTEN: &str = "127.0.0.1:3000";

/// A temporary directory holding a Keywatch database, for tests that need
/// SQLite but no AWS.
pub struct TempDb {
    pub db: Database,
    pub path: PathBuf,
    pub dir: tempfile::TempDir,
}

impl TempDb {
    /// `keywatch.db` in a new temporary directory, migrated as `serve` opens it.
    pub async fn new() -> TempDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keywatch.db");
        let db = Database::open(&path).await.expect("database");
        TempDb { db, path, dir }
    }

    /// A new pool on the same file, as a restarted console opens it.
    pub async fn reopen(&self) -> Database {
        Database::open(&self.path).await.expect("database reopened")
    }
}

/// A sandbox, a database and the AWS clients pointed at the sandbox.
pub struct World {
    pub sandbox: RunningSandbox,
    /// How long the sandbox takes to deliver a CloudTrail record to a log
    /// group (`serve` gives the console the same figure).
    pub cloudtrail_delay: Duration,
    pub aws: Aws,
    pub db: Database,
    pub db_path: PathBuf,
    pub dir: tempfile::TempDir,
    /// The alarm topics the SNS endpoint accepts (the inbox's list).
    pub alarm_topics: AlarmTopicList,
    /// The console's SNS endpoint, shared by every router built from this
    /// world so a test can ask it what it did.
    pub sns_endpoint: Arc<SnsEndpoint>,
}

impl World {
    /// A sandbox in memory with its default settings.
    pub async fn new() -> World {
        World::with(SandboxConfig::default()).await
    }

    /// A sandbox with `config` (stack pace, faults...).
    pub async fn with(config: SandboxConfig) -> World {
        World::start(config, false).await
    }

    /// A sandbox that can run the whole lab, as `serve` runs its own: state
    /// kept in [`World::sandbox_state_dir`] and the application stack's
    /// ECS tasks run as the lab's workload in this process.
    pub async fn lab(config: SandboxConfig) -> World {
        World::start(config, true).await
    }

    async fn start(mut config: SandboxConfig, lab: bool) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        if lab {
            config.state_dir = Some(dir.path().join("sandbox"));
        }
        let cloudtrail_delay = config.cloudtrail_delivery_delay;
        let sandbox = Sandbox::new(config).expect("sandbox");
        if lab {
            sandbox.set_task_launcher(keywatch::sandbox_tasks::workload_launcher());
        }
        let sandbox = sandbox.start("127.0.0.1:0".parse().expect("addr")).await.expect("sandbox started");
        let db_path = dir.path().join("keywatch.db");
        let db = Database::open(&db_path).await.expect("database");
        let aws = Aws::sandbox(&sandbox.endpoint_url, REGION);
        let alarm_topics = AlarmTopicList::default();
        let sns_endpoint =
            Arc::new(SnsEndpoint::new(db.clone(), Some(sandbox.endpoint_url.clone()), alarm_topics.clone()));
        World { sandbox, cloudtrail_delay, aws, db, db_path, dir, alarm_topics, sns_endpoint }
    }

    /// Where a [`World::lab`] sandbox keeps its state.
    pub fn sandbox_state_dir(&self) -> PathBuf {
        self.dir.path().join("sandbox")
    }

    /// A new pool on the database's file, as a restarted console opens it.
    pub async fn reopen(&self) -> Database {
        Database::open(&self.db_path).await.expect("database reopened")
    }

    /// Creates a metric alarm on the lab's metric by PutMetricAlarm, as an
    /// alarm made outside Keywatch would be (Sum > 1 for 1 of 1 periods of 10 s).
    pub async fn put_alarm(&self, alarm_name: &str, namespace: &str) {
        aws_sdk_cloudwatch::Client::new(&self.aws.sdk_config)
            .put_metric_alarm()
            .alarm_name(alarm_name)
            .namespace(namespace)
            .metric_name("KMSSecurityError")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
            .period(10)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
            .send()
            .await
            .expect("PutMetricAlarm");
    }

    /// What the Connection page shows for this world: sandbox mode chosen
    /// by flag, in [`REGION`].
    pub fn settings(&self) -> ConsoleSettings {
        ConsoleSettings {
            mode: AwsMode::Sandbox,
            mode_source: ModeSource::Flag,
            region: REGION.into(),
            region_name: "Asia Pacific (Sydney)".into(),
            profile: None,
            sandbox_endpoint: Some(self.sandbox.endpoint_url.clone()),
        }
    }

    /// The console's services over this world, fixed: no pollers, no
    /// stack watcher and no start-up check run behind the test's back.
    pub fn ports(&self) -> Ports {
        self.ports_over(self.aws.clone(), self.settings())
    }

    /// The lab service over this world's database and sandbox, calling
    /// AWS through `aws` (the world's own clients, or ones signing with
    /// another key), as the console builds it.
    pub fn lab_over(&self, aws: Aws) -> Arc<keywatch::lab::ServerLab> {
        Arc::new(keywatch::lab::ServerLab::new(
            aws,
            self.db.clone(),
            REGION.into(),
            keywatch_app::api::connection::AwsMode::Sandbox,
        ))
    }

    /// The console's services calling AWS through `aws` (an unreachable
    /// endpoint, credentials that fail...) and showing `settings`.
    pub fn ports_over(&self, aws: Aws, settings: ConsoleSettings) -> Ports {
        let lab = self.lab_over(aws.clone());
        let attack = keywatch::attack::ServerAttack::new(
            aws.clone(),
            self.db.clone(),
            keywatch_app::api::connection::AwsMode::Sandbox,
        );
        let alarms = keywatch::alarms::ServerAlarms::new(aws.clone(), self.db.clone(), lab.clone());
        let responses = keywatch::responses::ServerResponses::new(aws.clone(), self.db.clone(), lab.clone());
        let subscribers = keywatch::subscribers::ServerSubscribers::new(aws.clone(), self.db.clone(), settings.clone());
        let connection = keywatch::connection::ServerConnection::new(aws, self.db.clone(), settings);
        Ports {
            connection: Arc::new(connection),
            subscribers: Arc::new(subscribers),
            history: Arc::new(keywatch::history::ServerHistory::new(self.db.clone())),
            audit: Arc::new(keywatch::audit::ServerAudit::new(self.db.clone())),
            lab,
            attack: Arc::new(attack),
            alarms: Arc::new(alarms),
            responses: Arc::new(responses),
        }
    }

    /// The switchable console `serve` starts (pollers and stack watcher
    /// included, every `poller_interval`) over this world, in [`REGION`].
    pub async fn start_console(&self, poller_interval: Duration) -> Arc<Console> {
        let base = ConsoleBase {
            db: self.db.clone(),
            mode: AwsMode::Sandbox,
            mode_source: ModeSource::Flag,
            sandbox_endpoint: Some(self.sandbox.endpoint_url.clone()),
            poller_interval,
            alarm_topics: self.alarm_topics.clone(),
            cloudtrail_delay: self.cloudtrail_delay,
            public_url: "http://127.0.0.1:3000".into(),
        };
        let region = keywatch_domain::region::parse(REGION).expect("region");
        Console::start(base, region, None).await
    }

    /// Authentication as `serve` sets it up on loopback.
    pub async fn auth(&self) -> Auth {
        Auth::load(self.db.clone(), AuthSettings::default()).await.expect("auth")
    }

    /// The console's router as `serve` builds it, with `auth`, over
    /// [`World::ports`].
    pub fn app(&self, auth: Auth) -> axum::Router {
        self.app_with(auth, &[])
    }

    /// The same, answering also to `allowed_hosts` (`--allowed-host`).
    pub fn app_with(&self, auth: Auth, allowed_hosts: &[String]) -> axum::Router {
        self.build(PortSource::fixed(self.ports()), auth, allowed_hosts)
    }

    /// The console's router as `serve` builds it over `ports` (a running
    /// [`Console`]'s, or services over other clients).
    pub fn app_over(&self, ports: PortSource, auth: Auth) -> axum::Router {
        self.build(ports, auth, &[])
    }

    fn build(&self, ports: PortSource, auth: Auth, allowed_hosts: &[String]) -> axum::Router {
        let listen = LISTEN.parse().expect("addr");
        keywatch::web::app(keywatch::web::AppParts {
            ports,
            db: self.db.clone(),
            auth,
            sns_endpoint: self.sns_endpoint.clone(),
            // No site is built for tests: static files answer 404.
            leptos_options: keywatch::web::leptos_options(self.dir.path(), listen),
            allowed_hosts: keywatch_net::AllowedHosts::for_listener(listen, allowed_hosts, "--allowed-host"),
        })
    }
}

/// Serves `app` on a free loopback port as `serve` serves it (the console's
/// connection limits and timeouts, peers' addresses for the session layer);
/// the address.
pub async fn serve(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(keywatch_net::serve(listener, app, keywatch_net::Limits::CONSOLE, std::future::pending()));
    addr
}

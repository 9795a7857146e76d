//! The running console's AWS-facing parts — the backends server functions
//! use, the pollers and the stack watcher — built for one Region and profile,
//! and switched as a whole when the user picks another on the Connection page.
//!
//! Everything AWS-facing is rebuilt rather than mutated so that no part can
//! keep a client of the old Region: a switch stops the old pollers (they
//! finish the write in hand), builds new parts, and swaps what requests see.

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use keywatch_app::api::alarms::port::AlarmsBackend;
use keywatch_app::api::attack::port::AttackBackend;
use keywatch_app::api::audit::port::AuditBackend;
use keywatch_app::api::connection::port::ConnectionBackend;
use keywatch_app::api::connection::{AwsMode, ConsoleSettings, ModeSource};
use keywatch_app::api::history::port::HistoryBackend;
use keywatch_app::api::lab::port::LabBackend;
use keywatch_app::api::responses::port::ResponsesBackend;
use keywatch_app::api::subscribers::port::SubscribersBackend;
use keywatch_app::error::AppError;
use keywatch_domain::region::Region;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::alarms::ServerAlarms;
use crate::attack::ServerAttack;
use crate::audit::ServerAudit;
use crate::aws::{Aws, AwsErrorKind};
use crate::clock::now_ms;
use crate::connection::{ConnectionSwitch, ServerConnection};
use crate::db::Database;
use crate::db::connection_choice::StoredChoice;
use crate::history::ServerHistory;
use crate::lab::ServerLab;
use crate::pollers::stack_watcher::{self, StackWatcher};
use crate::pollers::{self, Pollers};
use crate::responses::ServerResponses;
use crate::subscribers::ServerSubscribers;

/// The backends one request sees, one per area.
#[derive(Clone)]
pub struct Ports {
    pub connection: Arc<dyn ConnectionBackend>,
    pub subscribers: Arc<dyn SubscribersBackend>,
    pub history: Arc<dyn HistoryBackend>,
    pub audit: Arc<dyn AuditBackend>,
    pub lab: Arc<dyn LabBackend>,
    /// The Testing page's backend (attack simulations).
    pub attack: Arc<dyn AttackBackend>,
    /// The Alarms pages' backend.
    pub alarms: Arc<dyn AlarmsBackend>,
    /// Responses to alarms: playbooks and decisions.
    pub responses: Arc<dyn ResponsesBackend>,
}

/// Where each request gets its [`Ports`]: fixed (tests) or switchable.
#[derive(Clone)]
pub struct PortSource(Arc<RwLock<Ports>>);

impl PortSource {
    /// Ports that never change.
    pub fn fixed(ports: Ports) -> PortSource {
        PortSource(Arc::new(RwLock::new(ports)))
    }

    /// The ports in force now.
    pub fn current(&self) -> Ports {
        // A poisoned lock still holds a complete `Ports` (it is replaced whole).
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn replace(&self, ports: Ports) {
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = ports;
    }
}

/// What does not change when the Region does.
#[derive(Debug, Clone)]
pub struct ConsoleBase {
    pub db: Database,
    pub mode: AwsMode,
    pub mode_source: ModeSource,
    /// The in-process sandbox's endpoint, in sandbox mode.
    pub sandbox_endpoint: Option<String>,
    /// How often the history poller runs a round.
    pub poller_interval: Duration,
    /// The alarm topics the inbox listens to, shared with the SNS endpoint.
    pub alarm_topics: crate::sns_endpoint::AlarmTopicList,
    /// How long the in-process sandbox takes to deliver a CloudTrail record
    /// to a log group (zero on live AWS).
    pub cloudtrail_delay: Duration,
    /// Where people reach the console, for links in its notifications.
    pub public_url: String,
}

/// The background work of one connection.
struct Running {
    pollers: Pollers,
    watcher: JoinHandle<()>,
    /// Stops the watcher and the pollers (each finishes its round first).
    stop: watch::Sender<bool>,
}

/// The switchable console.
pub struct Console {
    base: ConsoleBase,
    ports: PortSource,
    /// Held through a whole switch so two switches never interleave.
    running: tokio::sync::Mutex<Option<Running>>,
}

impl Console {
    /// Builds the console's parts for `region` and `profile` and starts its
    /// background work.
    pub async fn start(base: ConsoleBase, region: &'static Region, profile: Option<String>) -> Arc<Console> {
        let aws = aws_for(&base, region, profile.as_deref()).await;
        let mut lab = None;
        let console = Arc::new_cyclic(|switch: &Weak<Console>| {
            let (ports, server_lab) = build_ports(&base, aws.clone(), region, profile, switch.clone());
            lab = Some(server_lab);
            Console { base: base.clone(), ports: PortSource::fixed(ports), running: tokio::sync::Mutex::new(None) }
        });
        if let Some(lab) = lab {
            let running = console.start_background(aws, lab).await;
            *console.running.lock().await = Some(running);
        }
        // The Connection page shows who the console is on first load.
        let connection = console.ports.current().connection;
        tokio::spawn(async move {
            if let Err(error) = connection.check_connection().await {
                tracing::warn!(?error, "start-up connection check could not be recorded");
            }
        });
        console
    }

    /// The ports requests should use.
    pub fn ports(&self) -> PortSource {
        self.ports.clone()
    }

    /// Stops the background work, letting writes in hand finish.
    pub async fn stop(&self) {
        if let Some(running) = self.running.lock().await.take() {
            stop(running).await;
        }
    }

    /// Resumes an unfinished teardown, follows unfinished deployments, and
    /// starts the pollers.
    async fn start_background(&self, aws: Aws, lab: Arc<ServerLab>) -> Running {
        // A teardown cut short by a stop (or a switch) is finished now.
        if let Err(error) = lab.resume_teardown().await {
            tracing::warn!(?error, "an unfinished teardown could not be resumed");
        }
        // Follows deployments left unfinished by an earlier run as well as new ones.
        // Background callers retry more patiently than pages (`Aws::for_pollers`).
        let background = aws.for_pollers();
        let (stop, stopped) = watch::channel(false);
        let watcher =
            StackWatcher::new(&background, self.base.db.clone()).spawn(stack_watcher::INTERVAL, stopped.clone());
        let config = pollers::PollerConfig {
            alarm_topics: self.base.alarm_topics.clone(),
            console_url: Some(self.base.public_url.clone()),
            ..pollers::PollerConfig::new(self.base.poller_interval)
        };
        let pollers = Pollers::start_until(background, self.base.db.clone(), config, stopped);
        Running { pollers, watcher, stop }
    }

    fn is_sandbox(&self) -> bool {
        self.base.mode == AwsMode::Sandbox
    }
}

async fn aws_for(base: &ConsoleBase, region: &'static Region, profile: Option<&str>) -> Aws {
    match &base.sandbox_endpoint {
        Some(endpoint) => Aws::sandbox(endpoint, region.code),
        None => Aws::live(region.code, profile).await,
    }
}

#[async_trait]
impl ConnectionSwitch for Console {
    async fn switch(
        self: Arc<Self>,
        region: &'static Region,
        profile: Option<String>,
    ) -> Result<ConsoleSettings, AppError> {
        // Profiles belong to live AWS; the sandbox has one fixed identity.
        let profile = if self.is_sandbox() { None } else { profile };
        let mut running = self.running.lock().await;
        // The stack watcher follows a deployment in the Region it was made
        // in; switching mid-way would lose track of it.
        if let Some(deployment) = self.base.db.deployments().unfinished().await?.first() {
            return Err(AppError::Conflict(format!(
                "The stack {} is still being deployed; change Region once it finishes",
                deployment.stack_name
            )));
        }
        // An attack run's task keeps its own clients and watches its alarm
        // where it started.
        if self.base.db.attack_runs().running().await?.is_some() {
            return Err(AppError::Conflict(
                "An attack simulation is running; change Region once it ends (or stop it)".into(),
            ));
        }
        if self.base.db.teardowns().unfinished().await?.is_some() {
            return Err(AppError::Conflict("A teardown is in progress; change Region once it finishes".into()));
        }
        let aws = aws_for(&self.base, region, profile.as_deref()).await;
        // Nothing changes unless the new place answers: a profile without
        // credentials, or a Region the account has not enabled, is refused here.
        if let Err(error) = aws.sts().caller_identity().await {
            tracing::warn!(%error, region = region.code, ?profile, "refused a connection switch");
            return Err(match error.kind {
                AwsErrorKind::Credentials if profile.is_some() => AppError::InvalidInput {
                    field: Some("profile".into()),
                    message: format!(
                        "AWS did not accept this profile's credentials in {}: {}",
                        region.code,
                        error.user_message()
                    ),
                },
                AwsErrorKind::Credentials => AppError::InvalidInput {
                    field: Some("region".into()),
                    message: format!("AWS did not accept the credentials in {}: {}", region.code, error.user_message()),
                },
                _ => error.into(),
            });
        }
        let (ports, lab) = build_ports(&self.base, aws.clone(), region, profile.clone(), Arc::downgrade(&self));
        if let Some(previous) = running.take() {
            stop(previous).await;
        }
        self.ports.replace(ports);
        *running = Some(self.start_background(aws, lab).await);
        let choice = StoredChoice { region: region.code.to_owned(), profile };
        self.base.db.connection_choice().set(&choice, now_ms()).await?;
        tracing::info!(region = region.code, profile = ?choice.profile, "switched connection");
        let connection = self.ports.current().connection;
        // Recorded before answering, so the page's list of checks shows the
        // new place as soon as the switch returns.
        connection.check_connection().await?;
        Ok(connection.settings())
    }
}

fn build_ports(
    base: &ConsoleBase,
    aws: Aws,
    region: &'static Region,
    profile: Option<String>,
    switch: Weak<Console>,
) -> (Ports, Arc<ServerLab>) {
    let settings = ConsoleSettings {
        mode: base.mode,
        mode_source: base.mode_source,
        region: region.code.to_owned(),
        region_name: region.display_name.to_owned(),
        profile,
        sandbox_endpoint: base.sandbox_endpoint.clone(),
    };
    let sandbox = base.mode == AwsMode::Sandbox;
    let lab = Arc::new(ServerLab::new(aws.clone(), base.db.clone(), region.code.to_owned(), base.mode));
    // Records reach the metric one delivery delay after their call, and the
    // sandbox's alarms are evaluated on its delivery loop (at most 250 ms apart).
    let lag = if sandbox { base.cloudtrail_delay + Duration::from_millis(250) } else { Duration::ZERO };
    let attack = ServerAttack::new(aws.clone(), base.db.clone(), base.mode).with_delivery_lag(lag);
    let alarms = ServerAlarms::new(aws.clone(), base.db.clone(), lab.clone());
    let responses = ServerResponses::new(aws.clone(), base.db.clone(), lab.clone());
    let subscribers = ServerSubscribers::new(aws.clone(), base.db.clone(), settings.clone());
    let connection = ServerConnection::new(aws, base.db.clone(), settings).with_switch(switch);
    let ports = Ports {
        connection: Arc::new(connection),
        subscribers: Arc::new(subscribers),
        history: Arc::new(ServerHistory::new(base.db.clone())),
        audit: Arc::new(ServerAudit::new(base.db.clone())),
        lab: lab.clone(),
        attack: Arc::new(attack),
        alarms: Arc::new(alarms),
        responses: Arc::new(responses),
    };
    (ports, lab)
}

/// Stops the watcher and the pollers, waiting (at most
/// [`pollers::STOP_GRACE`]) for the rounds in hand to commit.
async fn stop(running: Running) {
    let _ = running.stop.send(true);
    let watcher = async {
        if tokio::time::timeout(pollers::STOP_GRACE, running.watcher).await.is_err() {
            tracing::warn!("the stack watcher did not finish its round in time; it resumes from SQLite");
        }
    };
    tokio::join!(watcher, running.pollers.stop());
}

//! Keywatch's sandbox: an offline stand-in for the AWS services Keywatch uses.
//!
//! It is an HTTP server on loopback that answers the official SDKs, the AWS
//! CLI and boto3 in each service's real wire protocol. Requests are decoded
//! by [`protocol`], run by plain service logic that never sees HTTP, and
//! encoded back in the protocol they came in. This module owns the
//! configuration, the routes and the background loops; `dispatch` runs one
//! call (locks, CloudTrail recording, commit), `ticks` what time makes
//! happen (deliveries, alarms, stacks), [`services`] the per-service locks
//! and [`store`] where the state lives.

pub mod clock;
pub mod cloudformation;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod delivery;
mod dispatch;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod elbv2;
pub mod error;
pub mod faults;
pub mod iam;
pub mod identity;
pub mod kms;
pub mod logs;
pub mod metrics;
pub mod protocol;
pub mod random;
pub mod rds;
pub mod s3;
pub mod secretsmanager;
pub mod service;
pub mod services;
pub mod sns;
pub mod sqs;
pub mod state;
pub mod store;
pub mod sts;
pub mod tasks;
mod ticks;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::routing::get;
use http::Response;
use tokio::net::TcpListener;

use dispatch::{Changed, handle};
use service::{CallContext, Handled};
use services::{AllServices, Recorder, Services, read, write};
use state::{Part, Persisted, SandboxState};
use store::{Commit, Storage, WriteError};

/// Largest request body accepted; AWS's own limits are smaller for every
/// operation the sandbox serves (PutLogEvents: 1 MiB).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How long CloudTrail takes to deliver a record to CloudWatch Logs unless
/// configured otherwise: short, so the lab's loop runs at interactive speed
/// (AWS itself takes minutes; set a longer delay to reproduce that).
pub const DEFAULT_CLOUDTRAIL_DELIVERY_DELAY: Duration = Duration::from_secs(1);

/// How often a trail writes a log file to its S3 bucket at most, unless
/// configured otherwise: AWS delivers about every five minutes; the sandbox
/// batches a few seconds of records per file so the bucket (kept in the
/// state) grows by few objects while the lab's loop runs.
pub const DEFAULT_CLOUDTRAIL_LOG_FILE_INTERVAL: Duration = Duration::from_secs(5);

/// The shortest time between two commits of CloudTrail records: how much
/// of the event history a `kill -9` can take with it, and what lets a
/// sandbox under load commit records in hundreds rather than one by one.
const RECORD_COMMIT_INTERVAL: Duration = Duration::from_millis(10);

/// How the sandbox is set up.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The region requests are served in when they name none.
    pub default_region: String,
    /// Where state survives restarts; `None` keeps everything in memory.
    pub state_dir: Option<PathBuf>,
    /// How long after a call its CloudTrail record reaches a trail's log
    /// group ([`DEFAULT_CLOUDTRAIL_DELIVERY_DELAY`] by default).
    pub cloudtrail_delivery_delay: Duration,
    /// How often a trail writes a log file to its S3 bucket at most
    /// ([`DEFAULT_CLOUDTRAIL_LOG_FILE_INTERVAL`] by default).
    pub cloudtrail_log_file_interval: Duration,
    /// How long CloudFormation spends on each resource of a stack
    /// operation: zero (the default) runs a whole stack at once; a few
    /// seconds make deployments take realistic time, so that progress can
    /// be watched.
    pub stack_pace: Duration,
    /// Faults to inject into calls (none by default); also settable while
    /// running through `PUT /_keywatch/faults`.
    pub faults: Vec<faults::FaultRule>,
    /// The most `sandbox.db` in the state directory may grow to, in bytes
    /// (none by default): past it, calls that store data answer their
    /// service's server error, as on a full disk, while reads go on.
    pub state_size_limit: Option<u64>,
    /// Host names clients may use besides the listen address, `localhost`
    /// (and `*.localhost`), `127.0.0.1`, `[::1]` and S3 virtual-hosted
    /// bucket names; any other Host is refused (DNS rebinding).
    pub allowed_hosts: Vec<String>,
}

impl SandboxConfig {
    fn stack_pace_ms(&self) -> i64 {
        i64::try_from(self.stack_pace.as_millis()).unwrap_or(i64::MAX)
    }
}

impl Default for SandboxConfig {
    /// ap-southeast-2 (the lab's region), in memory, one-second delivery,
    /// log files every five seconds.
    fn default() -> Self {
        SandboxConfig {
            default_region: "ap-southeast-2".to_owned(),
            state_dir: None,
            cloudtrail_delivery_delay: DEFAULT_CLOUDTRAIL_DELIVERY_DELAY,
            stack_pace: Duration::ZERO,
            faults: Vec::new(),
            cloudtrail_log_file_interval: DEFAULT_CLOUDTRAIL_LOG_FILE_INTERVAL,
            state_size_limit: None,
            allowed_hosts: Vec::new(),
        }
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox state directory {path} cannot be used: {source}")]
    StateDir { path: PathBuf, source: std::io::Error },
    #[error("the sandbox state cannot be loaded: {0}")]
    State(#[from] store::OpenError),
    #[error("the sandbox cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

struct Shared {
    config: SandboxConfig,
    storage: Storage,
    /// Each service's state behind its own lock.
    services: Services,
    /// Where calls drop their CloudTrail records.
    recorder: Recorder,
    /// The URL the sandbox is reached at, from its listen address (never
    /// from a request, whose Host a client chooses): queue URLs and SNS
    /// links point at it.
    endpoint: RwLock<String>,
    /// Runs ECS tasks; `None` until the embedding program provides one.
    launcher: Mutex<Option<tasks::TaskLauncher>>,
    /// The ECS tasks running in this process.
    tasks: tokio::sync::Mutex<tasks::RunningTasks>,
    /// The faults injected into calls.
    faults: RwLock<faults::Faults>,
}

impl Drop for Shared {
    /// Hands the records still waiting for the recording task's next
    /// commit to the store, which commits them before its writer stops:
    /// a sandbox that is shut down keeps every record of its calls.
    fn drop(&mut self) {
        drop(self.file_records());
    }
}

impl Shared {
    /// Every service, locked and lent out as one state.
    fn all(&self) -> AllServices<'_> {
        self.services.all(self.endpoint())
    }

    fn endpoint(&self) -> String {
        read(&self.endpoint).clone()
    }

    fn set_endpoint(&self, endpoint: String) {
        *write(&self.endpoint) = endpoint;
    }

    fn launcher(&self) -> Option<tasks::TaskLauncher> {
        self.launcher.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Hands what changed in the whole state to the store; see [`Storage::persist`].
    fn persist(&self, state: &mut SandboxState, parts: &[Part]) -> Commit {
        self.storage.persist(state, parts)
    }

    /// Saves changes made outside a request, waiting for the commit.
    fn persist_blocking(&self, state: &mut SandboxState, parts: &[Part]) {
        if let Err(error) = self.storage.persist_blocking(state, parts) {
            tracing::error!(%error, "the sandbox state could not be saved");
        }
    }

    /// Runs `call` on one service's state under that service's lock only,
    /// and hands what it changed to the store before releasing the lock.
    fn call_on<T: Persisted>(
        &self,
        lock: &RwLock<T>,
        call: impl FnOnce(&mut T) -> Option<Handled>,
    ) -> Option<(Handled, Commit)> {
        let mut service = write(lock);
        let handled = call(&mut service)?;
        let mut changed = Changed::default();
        changed.note(&self.storage, &mut *service, handled.mutated);
        Some((handled, changed.persist(&self.storage)))
    }

    /// Files the CloudTrail records calls have sent and hands them to the
    /// store: what the recording task does when woken, and what
    /// LookupEvents waits for so that it reads every answered call.
    fn file_records(&self) -> Commit {
        self.send_filed(&mut self.services.cloudtrail())
    }

    /// Hands the records filed in `cloudtrail` (held locked) to the store.
    fn send_filed(&self, cloudtrail: &mut cloudtrail::CloudTrailState) -> Commit {
        let mut changed = Changed::default();
        changed.note(&self.storage, cloudtrail, false);
        changed.persist(&self.storage)
    }

    /// [`Shared::file_records`], then waits until the records an earlier
    /// filing (the recording task's, perhaps still committing) handed over
    /// are committed too: what LookupEvents waits for before reading.
    async fn records_committed(&self) -> Result<(), WriteError> {
        // Both are sent under the CloudTrail lock, so the barrier follows
        // whatever any earlier filing sent.
        let (filed, barrier) = {
            let mut cloudtrail = self.services.cloudtrail();
            (self.send_filed(&mut cloudtrail), self.storage.barrier())
        };
        filed.wait().await?;
        barrier.wait().await
    }
}

/// The sandbox, ready to serve.
#[derive(Clone)]
pub struct Sandbox {
    shared: Arc<Shared>,
}

/// A sandbox serving in the background of this process.
#[derive(Debug)]
pub struct RunningSandbox {
    /// The URL to give SDK clients as their endpoint.
    pub endpoint_url: String,
    pub local_addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sandbox {
    /// Prepares a sandbox, creating its state directory if one is configured
    /// and loading the state saved there.
    pub fn new(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        if let Some(path) = &config.state_dir {
            std::fs::create_dir_all(path).map_err(|source| SandboxError::StateDir { path: path.clone(), source })?;
            // Its state holds KMS key material and secrets: owner only.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
                    .map_err(|source| SandboxError::StateDir { path: path.clone(), source })?;
            }
            // Fail now, not on the first write, if the directory is read-only.
            let probe = path.join(".keywatch-write-probe");
            std::fs::write(&probe, b"ok")
                .and_then(|()| std::fs::remove_file(&probe))
                .map_err(|source| SandboxError::StateDir { path: path.clone(), source })?;
        }
        let (storage, mut state) = Storage::open(config.state_dir.as_deref(), config.state_size_limit)?;
        // SNS signs with a certificate made once and kept with its state.
        if state.sns.ensure_signing_identity()
            && let Err(error) = storage.persist_blocking(&mut state, &[Part::Sns])
        {
            tracing::error!(%error, "the SNS signing certificate could not be saved");
        }
        let endpoint = RwLock::new("http://127.0.0.1".to_owned());
        let fault_rules = config.faults.clone();
        let filing = services::Filing {
            delivery_delay_ms: i64::try_from(config.cloudtrail_delivery_delay.as_millis()).unwrap_or(i64::MAX),
            log_file_interval_ms: i64::try_from(config.cloudtrail_log_file_interval.as_millis()).unwrap_or(i64::MAX),
        };
        let (services, recorder) = Services::new(state, filing);
        Ok(Sandbox {
            shared: Arc::new(Shared {
                config,
                storage,
                services,
                recorder,
                endpoint,
                launcher: Mutex::new(None),
                tasks: tokio::sync::Mutex::new(tasks::RunningTasks::default()),
                faults: RwLock::new(faults::Faults::new(fault_rules)),
            }),
        })
    }

    /// Lets the sandbox run the ECS services that stacks create: `launcher`
    /// turns a task definition into the router its container serves.
    pub fn set_task_launcher(&self, launcher: tasks::TaskLauncher) {
        *self.shared.launcher.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(launcher);
    }

    /// Reads the sandbox's state (for in-process consumers such as the
    /// CloudWatch alarms reading the metric store, and for tests).
    pub fn read_state<R>(&self, read: impl FnOnce(&SandboxState) -> R) -> R {
        read(&self.shared.all())
    }

    /// Changes the sandbox's state outside a request (CloudFormation's
    /// provisioners, tests), then saves `parts` (see
    /// [`cloudformation::provision::changed_parts`]).
    pub fn write_state<R>(&self, parts: &[Part], write: impl FnOnce(&mut SandboxState) -> R) -> R {
        let mut state = self.shared.all();
        let result = write(&mut state);
        self.shared.persist_blocking(&mut state, parts);
        result
    }

    /// The sandbox's routes as served on `listen`: [`Sandbox::router`]
    /// behind the Host allow-list.
    pub fn router_for(&self, listen: SocketAddr) -> Router {
        keywatch_net::AllowedHosts::for_listener(listen, &self.shared.config.allowed_hosts, "--allowed-host")
            .with_s3_virtual_hosts()
            .protect(self.router())
    }

    /// The sandbox's HTTP routes: one catch-all, because AWS routes by
    /// headers and body rather than by path.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/_keywatch/health", get(|| async { "ok" }))
            .route("/_keywatch/metrics", get(metric_datapoints))
            .route("/_keywatch/sns/outbox", get(sns_outbox))
            .route("/_keywatch/sns/SimpleNotificationService.pem", get(sns_certificate))
            .route("/_keywatch/faults", get(get_faults).put(put_faults))
            .fallback(handle)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(self.shared.clone())
    }

    /// Serves on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = listener.local_addr()?;
        self.shared.set_endpoint(loopback_url(addr));
        let server = keywatch_net::serve(listener, self.router_for(addr), keywatch_net::Limits::SANDBOX, shutdown);
        tokio::select! {
            result = server => result,
            () = self.delivery_loop() => Ok(()),
            () = self.record_loop() => Ok(()),
            () = self.http_delivery_loop() => Ok(()),
            () = self.task_loop() => Ok(()),
        }
    }

    /// Starts serving on `addr` in the background (port 0 picks a free one).
    pub async fn start(self, addr: SocketAddr) -> Result<RunningSandbox, SandboxError> {
        let listener = TcpListener::bind(addr).await.map_err(|source| SandboxError::Listen { addr, source })?;
        let local_addr = listener.local_addr().map_err(|source| SandboxError::Listen { addr, source })?;
        self.shared.set_endpoint(loopback_url(local_addr));
        let router = self.router_for(local_addr);
        let task = tokio::spawn(async move {
            let server =
                keywatch_net::serve(listener, router, keywatch_net::Limits::SANDBOX, std::future::pending::<()>());
            tokio::select! {
                result = server => {
                    if let Err(error) = result {
                        tracing::error!(%error, "sandbox server stopped");
                    }
                }
                () = self.delivery_loop() => {}
                () = self.record_loop() => {}
                () = self.http_delivery_loop() => {}
                () = self.task_loop() => {}
            }
        });
        Ok(RunningSandbox { endpoint_url: format!("http://{local_addr}"), local_addr, task })
    }

    /// Runs [`Shared::tick`] for as long as the server runs: CloudTrail
    /// records are delivered as they fall due, alarms are evaluated at
    /// their instants and stacks advance.
    async fn delivery_loop(&self) {
        loop {
            let now = clock::now_ms();
            let (next_due, commits) = self.shared.tick(now);
            for commit in commits {
                log_write_failure(commit.wait().await);
            }
            let wait = next_due.map_or(250, |due| (due - now).clamp(10, 250));
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
    }

    /// Files the CloudTrail records calls send: one commit for whatever
    /// arrived while the previous one was written, at most one per
    /// [`RECORD_COMMIT_INTERVAL`]. Nobody waits for these commits (a
    /// LookupEvents files and commits what is waiting itself), so under
    /// load they are made few and large: each commit's fsync and page
    /// writes cost the same for 1 record as for 500.
    async fn record_loop(&self) {
        loop {
            self.shared.recorder.woken().await;
            let started = tokio::time::Instant::now();
            log_write_failure(self.shared.file_records().wait().await);
            tokio::time::sleep_until(started + RECORD_COMMIT_INTERVAL).await;
        }
    }
}

impl Sandbox {
    /// Keeps the ECS services' tasks running: starts each wanted service's
    /// task on its load balancer's port, stops those no longer wanted, and
    /// retries a failed start after a pause.
    async fn task_loop(&self) {
        let mut failed_at: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let Some(launcher) = self.shared.launcher() else {
                continue;
            };
            let wanted = {
                let elb = read(&self.shared.services.elb);
                let ecs = read(&self.shared.services.ecs);
                tasks::wanted_services(&ecs, &elb)
            };
            let mut running = self.shared.tasks.lock().await;
            let keep: Vec<(String, u16)> = wanted.iter().map(|w| (w.deployment(), w.port)).collect();
            running.stop_unwanted(&keep);
            for service in wanted {
                let now = clock::now_ms();
                if running.is_running(&service.deployment())
                    || failed_at.get(&service.service_arn).is_some_and(|at| now - at < 10_000)
                {
                    continue;
                }
                let spec = self.task_spec(&service);
                let started = match launcher(spec).await {
                    Ok(router) => running
                        .start(service.deployment(), service.port, router)
                        .await
                        .map_err(|error| error.to_string()),
                    Err(error) => Err(error),
                };
                match started {
                    Ok(()) => {
                        tracing::info!(
                            service = %service.service_arn,
                            task_definition = %service.task_definition_arn,
                            port = service.port,
                            "sandbox ECS task running"
                        );
                        failed_at.remove(&service.service_arn);
                    }
                    Err(error) => {
                        tracing::warn!(service = %service.service_arn, %error, "sandbox ECS task could not start");
                        failed_at.insert(service.service_arn.clone(), now);
                    }
                }
            }
        }
    }

    /// What a task of `service` runs with, including a source of its task
    /// role's credentials (fresh role sessions, as ECS hands out).
    fn task_spec(&self, service: &tasks::WantedService) -> tasks::TaskSpec {
        let task_id = uuid::Uuid::new_v4().simple().to_string();
        let credentials = service.task_role_arn.clone().map(|role_arn| {
            let shared = self.shared.clone();
            let region = service.region.clone();
            let task_id = task_id.clone();
            let source: tasks::CredentialSource = Arc::new(move || {
                let now = clock::now_ms();
                let partition =
                    keywatch_domain::region::find(&region).map_or("aws", |r| r.partition.as_str()).to_owned();
                let role_name = sts::role_name_of(&role_arn, &partition)?;
                let ctx = CallContext {
                    caller: identity::Principal::default_user(&partition, None),
                    region: region.clone(),
                    partition,
                    now,
                    request_id: uuid::Uuid::new_v4().to_string(),
                };
                let (issued, commit) = {
                    let mut sts = write(&shared.services.sts);
                    // ECS names the task role's sessions after the task id.
                    let issued = sts::issue_session(&mut sts, &role_arn, &role_name, &task_id, &ctx, 3600)?;
                    let mut changed = Changed::default();
                    changed.note(&shared.storage, &mut *sts, true);
                    (issued, changed.persist_blocking(&shared.storage))
                };
                // The session is handed out only once it is saved.
                commit.wait().map_err(|error| error::storage_failure("sts", &error))?;
                Ok(tasks::TaskCredentials {
                    access_key_id: issued.access_key_id,
                    secret_access_key: issued.secret_access_key,
                    session_token: issued.session_token,
                    expiration_ms: issued.expiration_ms,
                })
            });
            source
        });
        let scratch_root = self
            .shared
            .config
            .state_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(format!("keywatch-sandbox-{}", std::process::id())));
        tasks::TaskSpec {
            service_arn: service.service_arn.clone(),
            container_name: service.container_name.clone(),
            image: service.image.clone(),
            environment: service.environment.clone(),
            task_role_arn: service.task_role_arn.clone(),
            endpoint_url: self.shared.endpoint(),
            region: service.region.clone(),
            credentials,
            scratch_dir: scratch_root.join("ecs").join(tasks::scratch_name(&service.service_arn)),
        }
    }
}

/// `http://<addr>`, with an unspecified address (0.0.0.0) as loopback.
fn loopback_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() { format!("http://127.0.0.1:{}", addr.port()) } else { format!("http://{addr}") }
}

/// `GET /_keywatch/faults`: the fault rules in force.
async fn get_faults(State(shared): State<Arc<Shared>>) -> axum::Json<Vec<faults::FaultRule>> {
    axum::Json(read(&shared.faults).rules().to_vec())
}

/// `PUT /_keywatch/faults` with a JSON list of rules: replaces the rules
/// (an empty list stops injecting faults).
async fn put_faults(
    State(shared): State<Arc<Shared>>,
    axum::Json(rules): axum::Json<Vec<faults::FaultRule>>,
) -> axum::Json<Vec<faults::FaultRule>> {
    let mut faults = write(&shared.faults);
    faults.set_rules(rules);
    axum::Json(faults.rules().to_vec())
}

/// `GET /_keywatch/sns/outbox`: the emails SNS sent (confirmations and
/// notifications to `email` and `email-json` subscribers), oldest first.
async fn sns_outbox(State(shared): State<Arc<Shared>>) -> axum::Json<serde_json::Value> {
    let sns = read(&shared.services.sns);
    axum::Json(serde_json::json!({ "messages": sns.outbox }))
}

/// `GET /_keywatch/sns/SimpleNotificationService.pem`: the certificate
/// whose key signs SNS messages (their `SigningCertURL`).
async fn sns_certificate(State(shared): State<Arc<Shared>>) -> Response<Body> {
    let pem = read(&shared.services.sns)
        .signing
        .as_ref()
        .map(|identity| identity.certificate_pem.clone())
        .unwrap_or_default();
    let mut response = Response::new(Body::from(pem));
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/x-x509-ca-cert"));
    response
}

impl Sandbox {
    /// Sends SNS's HTTP deliveries as they fall due, without holding the
    /// SNS lock while a subscriber answers; failures go back to SNS's
    /// queue with back-off.
    async fn http_delivery_loop(&self) {
        loop {
            let (due, commit) = {
                let mut sns = write(&self.shared.services.sns);
                let due = sns.take_due_http(clock::now_ms());
                let mut changed = Changed::default();
                changed.note(&self.shared.storage, &mut *sns, !due.is_empty());
                (due, changed.persist(&self.shared.storage))
            };
            log_write_failure(commit.wait().await);
            for delivery in due {
                let outcome = delivery::post(&delivery).await;
                let commit = {
                    let mut sns = write(&self.shared.services.sns);
                    match outcome {
                        Ok(()) => sns.complete_http(&delivery.id),
                        Err(error) => {
                            tracing::warn!(url = %delivery.url, %error, "SNS HTTP delivery failed");
                            sns.retry_http(delivery, clock::now_ms());
                        }
                    }
                    let mut changed = Changed::default();
                    changed.note(&self.shared.storage, &mut *sns, true);
                    changed.persist(&self.shared.storage)
                };
                log_write_failure(commit.wait().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Logs a failed write of changes made outside a request (the next
/// commit tries them again).
fn log_write_failure(outcome: Result<(), store::WriteError>) {
    if let Err(error) = outcome {
        tracing::error!(%error, "the sandbox state could not be saved");
    }
}

/// `GET /_keywatch/metrics?namespace=N&metricName=M`: the metric store's
/// datapoints as JSON, for tools that have no CloudWatch client (the boto3
/// check script); both parameters are optional filters.
async fn metric_datapoints(
    State(shared): State<Arc<Shared>>,
    Query(filter): Query<std::collections::HashMap<String, String>>,
) -> axum::Json<serde_json::Value> {
    let metrics = read(&shared.services.metrics);
    let datapoints: Vec<serde_json::Value> = metrics
        .all()
        .iter()
        .filter(|point| filter.get("namespace").is_none_or(|n| *n == point.namespace))
        .filter(|point| filter.get("metricName").is_none_or(|m| *m == point.metric_name))
        .map(|point| {
            let dimensions: serde_json::Map<String, serde_json::Value> =
                point.dimensions.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
            serde_json::json!({
                "namespace": point.namespace,
                "metricName": point.metric_name,
                "dimensions": dimensions,
                "timestamp": point.timestamp,
                "value": point.value,
                "unit": point.unit,
            })
        })
        .collect();
    axum::Json(serde_json::json!({ "datapoints": datapoints }))
}

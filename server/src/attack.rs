//! The server's side of the Testing page's port ([`AttackBackend`], lab
//! section 4): round trips through the deployed application, simulated
//! attacks (wrong-key decrypts at a fixed pace) run as background tasks and
//! recorded in SQLite, and the live view of the alarm's metric, state and
//! notification.
//!
//! The application is reached over plain HTTP at the application stack's
//! endpoint output (the load balancer's DNS name; `127.0.0.1:<port>` on the
//! sandbox), exactly as the lab's curl commands reach it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use keywatch_app::api::attack::port::AttackBackend;
use keywatch_app::api::attack::{
    AlarmView, AttackRequest, AttackRunView, HttpExchange, MetricPoint, NotificationView, RoundTripRequest,
    RoundTripResult, StopRequest, TestingLive, TestingOverview,
};
use keywatch_app::api::connection::AwsMode;
use keywatch_app::api::lab::StackState;
use keywatch_app::error::AppError;
use keywatch_domain::attack::{self, AlarmSettings};
use keywatch_domain::lab::{self, LabSection, Prefix};
use tokio::sync::watch;

use crate::aws::Aws;
use crate::aws::cloudwatch::AlarmSnapshot;
use crate::clock::now_ms;
use crate::clock::rfc3339;
use crate::db::Database;
use crate::db::attack_runs::{NewAttackRun, StoredNotification};
use crate::db::audit::{AuditEntry, AuditOutcome, actions};
use crate::http_client;

/// How often a run checks the alarm and its notification, and how often the
/// page polls.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long one request to the application may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The record the attack's wrong-key decrypts ask for. It is encrypted
/// first so that every decrypt reaches KMS: an unknown name fails before KMS
/// and CloudTrail would record nothing.
const ATTACK_RECORD_NAME: &str = "keywatch-attack-target";
/// How long a notification may take to reach the SQS inbox after the alarm
/// history records the SNS action, before the history's time is used instead.
const INBOX_GRACE_MS: i64 = 5_000;
/// How many responses of the newest run the page shows.
const RESPONSES_SHOWN: u32 = 50;
/// How many past runs the page lists.
const RUNS_SHOWN: u32 = 20;
/// The live chart's span: a few alarm periods on the sandbox; on live AWS
/// long enough to include datapoints CloudTrail delivers minutes late.
const CHART_SPAN_SANDBOX_MS: i64 = 5 * 60 * 1000;
const CHART_SPAN_LIVE_MS: i64 = 30 * 60 * 1000;
/// How long the stacks' outputs (endpoint, key, alarm name) are reused by
/// the once-a-second live view before CloudFormation is asked again.
const LAB_CACHE_FOR: Duration = Duration::from_secs(10);

/// What the deployed lab offers the Testing page.
#[derive(Debug, Clone)]
struct LabTargets {
    prefix: Prefix,
    missing: Vec<LabSection>,
    endpoint: Option<String>,
    key_id: Option<String>,
    alarm_name: Option<String>,
}

/// The Testing page's backend.
#[derive(Clone)]
pub struct ServerAttack {
    aws: Aws,
    db: Database,
    live_aws: bool,
    /// How long a call's CloudTrail record takes to become a datapoint
    /// (the sandbox's delivery delay): the default attack covers it.
    delivery_lag_ms: u32,
    /// Stop signals of the runs this process is running, by run id.
    stops: Arc<Mutex<HashMap<i64, watch::Sender<bool>>>>,
    /// Serialises starts, so two browsers cannot start two runs at once.
    start_lock: Arc<tokio::sync::Mutex<()>>,
    targets_cache: Arc<Mutex<Option<(Instant, LabTargets)>>>,
}

impl ServerAttack {
    /// Sizes the default attack for records that reach the metric `lag`
    /// after their call.
    pub fn with_delivery_lag(mut self, lag: std::time::Duration) -> ServerAttack {
        self.delivery_lag_ms = u32::try_from(lag.as_millis()).unwrap_or(u32::MAX);
        self
    }

    /// The Testing backend, on live AWS or the built-in sandbox (`mode`).
    pub fn new(aws: Aws, db: Database, mode: AwsMode) -> ServerAttack {
        ServerAttack {
            aws,
            db,
            live_aws: mode == AwsMode::Live,
            delivery_lag_ms: 0,
            stops: Arc::new(Mutex::new(HashMap::new())),
            start_lock: Arc::new(tokio::sync::Mutex::new(())),
            targets_cache: Arc::new(Mutex::new(None)),
        }
    }

    /// Marks runs left `running` by a previous process as interrupted: their
    /// tasks died with it. Call once at start-up, before serving.
    pub async fn interrupt_unfinished(&self) -> Result<u64, AppError> {
        Ok(self.db.attack_runs().interrupt_running(now_ms()).await?)
    }

    fn stops(&self) -> std::sync::MutexGuard<'_, HashMap<i64, watch::Sender<bool>>> {
        self.stops.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn targets(&self) -> Result<LabTargets, AppError> {
        let prefix = self
            .db
            .deployments()
            .latest_prefix()
            .await?
            .and_then(|prefix| Prefix::parse(&prefix).ok())
            .unwrap_or_default();
        let (stacks, _) = crate::adoption::lab_stacks(&self.db, &prefix).await?;
        let mut missing = Vec::new();
        let mut outputs: HashMap<(LabSection, String), String> = HashMap::new();
        for section in LabSection::ALL {
            let Some(name) = stacks.name(section).map(str::to_owned).or_else(|| prefix.stack_name(section)) else {
                continue;
            };
            let stack = self.aws.cloudformation().describe_stack(&name).await?;
            let ready = StackState {
                stack_name: name,
                status: stack.as_ref().map(|stack| stack.status.clone()),
                reason: None,
                outputs: Vec::new(),
            }
            .is_ready();
            if !ready {
                missing.push(section);
            }
            for output in stack.into_iter().flat_map(|stack| stack.outputs) {
                outputs.insert((section, output.key), output.value);
            }
        }
        let output = |section, key: &str| outputs.get(&(section, key.to_owned())).cloned();
        // The lab's own templates name the key only as OutputPattern1KMSKey
        // and the alarm in no output: it is the logging stack's resource.
        let mut alarm_name = output(LabSection::LoggingAndAlarm, lab::LOGGING_ALARM_OUTPUT);
        if alarm_name.is_none()
            && !missing.contains(&LabSection::LoggingAndAlarm)
            && let Some(logging) = stacks.name(LabSection::LoggingAndAlarm)
        {
            alarm_name = crate::adoption::logging_resources(&self.aws, logging).await?.alarm.map(|(_, name)| name);
        }
        let targets = LabTargets {
            endpoint: output(LabSection::Application, lab::APP_ENDPOINT_OUTPUT),
            key_id: output(LabSection::Application, lab::APP_KEY_ID_OUTPUT)
                .or_else(|| output(LabSection::Application, lab::APP_KMS_KEY_OUTPUT)),
            alarm_name,
            prefix,
            missing,
        };
        *self.targets_cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((Instant::now(), targets.clone()));
        Ok(targets)
    }

    /// The targets, reused for a few seconds by the once-a-second live view.
    async fn cached_targets(&self) -> Result<LabTargets, AppError> {
        let cached = self.targets_cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        match cached {
            Some((at, targets)) if at.elapsed() < LAB_CACHE_FOR => Ok(targets),
            _ => self.targets().await,
        }
    }

    /// The targets of a deployed lab, or a conflict naming what is missing.
    async fn ready_targets(&self) -> Result<(String, String, String, LabTargets), AppError> {
        let targets = self.targets().await?;
        if let Some(first) = targets.missing.first() {
            return Err(AppError::Conflict(format!(
                "Deploy section {} ({}) first: the Testing section needs the lab's three stacks",
                first.number(),
                first.title()
            )));
        }
        match (targets.endpoint.clone(), targets.key_id.clone(), targets.alarm_name.clone()) {
            (Some(endpoint), Some(key_id), Some(alarm)) => Ok((endpoint, key_id, alarm, targets)),
            _ => Err(AppError::Conflict(
                "The lab's stacks lack the application endpoint, key or alarm outputs; deploy them again".into(),
            )),
        }
    }

    async fn alarm(&self, alarm_name: &str) -> Result<Option<AlarmSnapshot>, AppError> {
        Ok(self.aws.cloudwatch().describe_alarm(alarm_name).await?)
    }

    async fn run_view(&self, id: i64) -> Result<AttackRunView, AppError> {
        self.db.attack_runs().get(id).await?.ok_or_else(|| AppError::NotFound(format!("Attack run {id}")))
    }

    /// One wrong-key decrypt run, from its first call to the end of its watch.
    async fn run_attack(self, run: RunPlan, mut stop: watch::Receiver<bool>) {
        let body = json_body(&[("Name", ATTACK_RECORD_NAME), ("Key", attack::LAB_WRONG_KEY)]);
        let mut stopped = false;
        let mut last_check = Instant::now();
        for index in 0..run.count {
            let wait = attack::call_due_ms(run.started_ms, index, run.rate) - now_ms();
            if wait > 0 {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())) => {}
                    _ = stop.wait_for(|stop| *stop) => { stopped = true; break; }
                }
            }
            if *stop.borrow() {
                stopped = true;
                break;
            }
            let sent_at = now_ms();
            let exchange = send(&run.endpoint, "GET", "/decrypt", &body).await;
            if let Err(error) = self
                .db
                .attack_runs()
                .record_response(run.id, index + 1, sent_at, exchange.status, &exchange.response_body)
                .await
            {
                tracing::warn!(%error, run = run.id, "an attack response could not be recorded");
            }
            if last_check.elapsed() >= CHECK_EVERY {
                last_check = Instant::now();
                self.check_detection(run.id, &run.alarm_name).await;
            }
        }
        if !stopped {
            let until = now_ms() + attack::watch_window_ms(self.live_aws, &run.settings);
            if let Err(error) = self.db.attack_runs().set_watch_until(run.id, until).await {
                tracing::warn!(%error, run = run.id, "the watch window could not be recorded");
            }
            loop {
                let (alarmed, notified) = self.check_detection(run.id, &run.alarm_name).await;
                if (alarmed && notified) || now_ms() >= until {
                    break;
                }
                tokio::select! {
                    () = tokio::time::sleep(CHECK_EVERY) => {}
                    _ = stop.wait_for(|stop| *stop) => { stopped = true; break; }
                }
            }
        }
        let alarmed =
            matches!(self.db.attack_runs().times(run.id).await, Ok(Some(times)) if times.alarm_at_ms.is_some());
        let outcome = if alarmed {
            "alarm"
        } else if stopped {
            "stopped"
        } else {
            "no_alarm"
        };
        if let Err(error) = self.db.attack_runs().finish(run.id, outcome, now_ms()).await {
            tracing::error!(%error, run = run.id, "an attack run's outcome could not be recorded");
        }
        self.stops().remove(&run.id);
        tracing::info!(run = run.id, outcome, "attack run finished");
    }

    /// Looks for the alarm's transition to ALARM and its notification after
    /// the run's first failing call, and records what it finds. Returns
    /// (alarm seen, notification seen); failures are logged and retried on
    /// the next check.
    async fn check_detection(&self, run_id: i64, alarm_name: &str) -> (bool, bool) {
        let runs = self.db.attack_runs();
        let Ok(Some(times)) = runs.times(run_id).await else { return (false, false) };
        let Some(first_failure) = times.first_failure_at_ms else { return (false, false) };
        let mut alarmed = times.alarm_at_ms.is_some();
        if !alarmed {
            match self.aws.cloudwatch().describe_alarm(alarm_name).await {
                Ok(Some(alarm)) => {
                    if let Some(at) =
                        alarm.state_transitioned_ms.filter(|at| alarm.state_value == "ALARM" && *at >= first_failure)
                    {
                        alarmed = runs.set_alarm_at(run_id, at).await.is_ok();
                    }
                }
                Ok(None) => tracing::warn!(alarm_name, "the lab's alarm is gone"),
                Err(error) => tracing::warn!(%error, "the alarm's state could not be read"),
            }
        }
        let mut notified = times.notified_at_ms.is_some();
        if !notified && let Some(notification) = self.find_notification(alarm_name, first_failure).await {
            notified = runs.set_notification(run_id, &notification).await.is_ok();
        }
        (alarmed, notified)
    }

    /// The alarm's ALARM notification since `since_ms`: from the SQS inbox
    /// when it has arrived there; otherwise the SNS action in the alarm's
    /// history (DescribeAlarmHistory), once the inbox has had time to get it.
    async fn find_notification(&self, alarm_name: &str, since_ms: i64) -> Option<StoredNotification> {
        match self.db.notifications().first_since(alarm_name, "ALARM", since_ms).await {
            Ok(Some((received_at_ms, subject, message))) => {
                return Some(StoredNotification {
                    notified_at_ms: received_at_ms,
                    notification_source: "inbox".into(),
                    notification_subject: subject,
                    notification_message: message,
                });
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "the notification inbox could not be read"),
        }
        let page = match self.aws.cloudwatch().describe_alarm_history(alarm_name, Some(since_ms), None).await {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(%error, "the alarm's history could not be read");
                return None;
            }
        };
        page.items
            .into_iter()
            .find(|item| {
                item.history_item_type == "Action"
                    && item.timestamp_ms >= since_ms
                    && item.history_summary.starts_with("Successfully executed action")
                    && item.history_summary.contains(":sns:")
            })
            .filter(|item| now_ms() - item.timestamp_ms >= INBOX_GRACE_MS)
            .map(|item| StoredNotification {
                notified_at_ms: item.timestamp_ms,
                notification_source: "alarm history".into(),
                notification_subject: None,
                notification_message: item.history_summary,
            })
    }
}

/// What a run's task needs.
struct RunPlan {
    id: i64,
    endpoint: String,
    alarm_name: String,
    settings: AlarmSettings,
    count: u32,
    rate: u32,
    started_ms: i64,
}

/// What an attack is sized from. An alarm on metric math or an anomaly band
/// has no one statistic, which sizing refuses.
fn settings_of(alarm: &AlarmSnapshot) -> AlarmSettings {
    alarm.settings.as_ref().map_or_else(|| AlarmSettings { statistic: None, ..AlarmSettings::lab() }, AlarmSettings::of)
}

/// The alarm as the Testing page shows it; an alarm on metric math or an
/// anomaly band has no one metric, and shows none.
fn alarm_view(alarm: AlarmSnapshot) -> AlarmView {
    let settings = alarm.settings;
    AlarmView {
        alarm_name: alarm.alarm_name,
        state_value: alarm.state_value,
        state_reason: alarm.state_reason,
        state_updated_at: alarm.state_transitioned_ms.map(rfc3339),
        namespace: settings.as_ref().map(|s| s.namespace.clone()).unwrap_or_default(),
        metric_name: settings.as_ref().map(|s| s.metric_name.clone()).unwrap_or_default(),
        threshold: settings.as_ref().map(|s| s.threshold).unwrap_or_default(),
        comparison_operator: settings.as_ref().map(|s| s.comparison_operator.as_str().to_owned()).unwrap_or_default(),
        statistic: settings.as_ref().and_then(|s| s.statistic).map(|statistic| statistic.as_str().to_owned()),
        period_seconds: settings.as_ref().map(|s| s.period).unwrap_or_default(),
        evaluation_periods: settings.as_ref().map_or(1, |s| s.evaluation_periods),
        datapoints_to_alarm: settings.as_ref().and_then(|s| s.datapoints_to_alarm),
    }
}

/// KMS Encrypt's `Plaintext` is 1 to 4,096 bytes; longer text fails in the
/// application with the lab's generic "Data encryption failed".
/// <https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html>
const MAX_TEXT_BYTES: usize = 4096;
/// Longest record name the Testing page sends.
const MAX_NAME_CHARS: usize = 256;

fn invalid(field: &str, message: String) -> AppError {
    AppError::InvalidInput { field: Some(field.to_owned()), message }
}

impl ServerAttack {
    /// Encrypts `request.text` under `request.name` through the workload, then decrypts it.
    async fn run_round_trip(&self, request: RoundTripRequest) -> Result<RoundTripResult, AppError> {
        if request.name.trim().is_empty() {
            return Err(invalid("name", "a name is required".into()));
        }
        if request.name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid("name", format!("use a name of at most {MAX_NAME_CHARS} characters")));
        }
        if request.text.is_empty() {
            return Err(invalid("text", "some text to encrypt is required".into()));
        }
        if request.text.len() > MAX_TEXT_BYTES {
            return Err(invalid(
                "text",
                format!(
                    "KMS encrypts at most {MAX_TEXT_BYTES} bytes of text at once (this is {} bytes): shorten it",
                    request.text.len()
                ),
            ));
        }
        let (endpoint, key_id, _, _) = self.ready_targets().await?;
        let body = json_body(&[("Name", &request.name), ("Text", &request.text)]);
        let encrypt = send(&endpoint, "POST", "/encrypt", &body).await;
        if encrypt.status != Some(200) {
            return Ok(RoundTripResult { key_id, encrypt, decrypt: None, passed: false });
        }
        let body = json_body(&[("Name", &request.name), ("Key", &key_id)]);
        let decrypt = send(&endpoint, "GET", "/decrypt", &body).await;
        let text_back = serde_json::from_str::<serde_json::Value>(&decrypt.response_body)
            .ok()
            .and_then(|json| json["Text"].as_str().map(str::to_owned));
        let passed = decrypt.status == Some(200) && text_back.as_deref() == Some(request.text.as_str());
        Ok(RoundTripResult { key_id, encrypt, decrypt: Some(decrypt), passed })
    }
}

#[async_trait]
impl AttackBackend for ServerAttack {
    async fn overview(&self) -> Result<TestingOverview, AppError> {
        let targets = self.targets().await?;
        let alarm = match &targets.alarm_name {
            Some(name) => self.alarm(name).await?,
            None => None,
        };
        let rate = attack::LAB_RATE_PER_SECOND;
        let settings = alarm.as_ref().map_or_else(AlarmSettings::lab, settings_of);
        let (default_count, sizing_problem) = match attack::default_count(&settings, rate, self.delivery_lag_ms) {
            Ok(count) => (Some(count), None),
            Err(error) => (None, Some(error.to_string())),
        };
        Ok(TestingOverview {
            prefix: targets.prefix.as_str().to_owned(),
            missing_prerequisites: targets.missing,
            endpoint: targets.endpoint,
            key_id: targets.key_id,
            alarm: alarm.map(alarm_view),
            default_count,
            sizing_problem,
            default_rate: rate,
            max_count: attack::MAX_COUNT,
            max_rate: attack::MAX_RATE_PER_SECOND,
            live_aws: self.live_aws,
        })
    }

    async fn round_trip(&self, request: RoundTripRequest) -> Result<RoundTripResult, AppError> {
        // It writes a record into the lab's database and makes KMS calls.
        let target = format!("round trip as {:?}", request.name);
        let result = self.run_round_trip(request).await;
        let entry = match &result {
            Ok(done) if !done.passed => {
                AuditEntry::new(crate::auth::current_user(), actions::ROUND_TRIP, target, AuditOutcome::Failed)
                    .with_detail("the text did not come back")
            }
            _ => AuditEntry::of_result(crate::auth::current_user(), actions::ROUND_TRIP, target, &result),
        };
        self.db.audit().record(entry).await;
        result
    }

    async fn start_attack(&self, request: AttackRequest) -> Result<AttackRunView, AppError> {
        let target = format!("{} wrong-key decrypts at {}/s", request.count.trim(), request.rate.trim());
        let result = self.start_attack_run(request).await;
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::ATTACK_SIMULATION, target, &result))
            .await;
        result
    }

    async fn stop_attack(&self, request: StopRequest) -> Result<AttackRunView, AppError> {
        let target = format!("attack run {}", request.id);
        let result = self.stop_attack_run(request).await;
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::ATTACK_STOP, target, &result))
            .await;
        result
    }

    async fn live(&self) -> Result<TestingLive, AppError> {
        let runs = self.db.attack_runs().list(RUNS_SHOWN).await?;
        let latest = runs.first().cloned();
        let alarm_name = match latest.as_ref().and_then(|run| run.alarm_name.clone()) {
            Some(name) => Some(name),
            None => self.cached_targets().await?.alarm_name,
        };
        let alarm = match &alarm_name {
            Some(name) => self.alarm(name).await?,
            None => None,
        };
        let to = now_ms();
        let from = to - if self.live_aws { CHART_SPAN_LIVE_MS } else { CHART_SPAN_SANDBOX_MS };
        let datapoints = match alarm.as_ref().and_then(|alarm| alarm.settings.as_ref()) {
            Some(settings) if !settings.namespace.is_empty() => self
                .aws
                .cloudwatch()
                .get_metric_statistics(
                    &settings.namespace,
                    &settings.metric_name,
                    settings.statistic.map_or("Sum", |statistic| statistic.as_str()),
                    settings.period.max(1),
                    from,
                    to,
                )
                .await?
                .into_iter()
                .map(|(timestamp_ms, value)| MetricPoint { timestamp_ms, value })
                .collect(),
            _ => Vec::new(),
        };
        let (responses, notification) = match &latest {
            Some(run) => (
                self.db.attack_runs().responses(run.id, RESPONSES_SHOWN).await?,
                self.db.attack_runs().notification(run.id).await?.map(|stored| NotificationView {
                    source: stored.notification_source,
                    at: rfc3339(stored.notified_at_ms),
                    subject: stored.notification_subject,
                    message: pretty(&stored.notification_message),
                }),
            ),
            None => (Vec::new(), None),
        };
        Ok(TestingLive {
            alarm: alarm.map(alarm_view),
            datapoints,
            chart_from_ms: from,
            chart_to_ms: to,
            latest,
            responses,
            notification,
            runs,
            live_aws: self.live_aws,
        })
    }
}

/// The attack runs behind the Testing page's Start and Stop, audited by
/// their [`AttackBackend`] wrappers.
impl ServerAttack {
    async fn start_attack_run(&self, request: AttackRequest) -> Result<AttackRunView, AppError> {
        // Checked before anything is looked up or recorded.
        let count = attack::parse_count(&request.count).map_err(|error| invalid("count", error.to_string()))?;
        let rate = attack::parse_rate(&request.rate).map_err(|error| invalid("rate", error.to_string()))?;
        let _starting = self.start_lock.lock().await;
        if let Some(running) = self.db.attack_runs().running().await? {
            return Err(AppError::Conflict(format!("Attack run {running} is still running; stop it first")));
        }
        let (endpoint, _, alarm_name, targets) = self.ready_targets().await?;
        let alarm = self.alarm(&alarm_name).await?.ok_or_else(|| AppError::NotFound(format!("Alarm {alarm_name}")))?;
        // The decrypts must reach KMS, so the record they ask for must exist.
        let seed = serde_json::json!({ "Name": ATTACK_RECORD_NAME, "Text": "target of Keywatch's simulated attack" });
        let seeded = send(&endpoint, "POST", "/encrypt", &seed.to_string()).await;
        if seeded.status != Some(200) {
            return Err(AppError::Unavailable(format!(
                "The application did not store the attack's target record ({}): {}",
                seeded.status.map_or_else(|| "no answer".to_owned(), |status| status.to_string()),
                seeded.response_body
            )));
        }
        // An alarm already in ALARM would not transition again; SetAlarmState
        // is AWS's way to put it back for a test.
        let alarm_reset = alarm.state_value == "ALARM";
        if alarm_reset {
            self.aws
                .cloudwatch()
                .set_alarm_state(
                    &alarm_name,
                    "OK",
                    "Keywatch: reset before a simulated attack so its alarm can be timed",
                )
                .await?;
        }
        let started_ms = now_ms();
        let id = self
            .db
            .attack_runs()
            .insert(&NewAttackRun {
                prefix: targets.prefix.as_str().to_owned(),
                endpoint: endpoint.clone(),
                alarm_name: Some(alarm_name.clone()),
                wrong_key: attack::LAB_WRONG_KEY.to_owned(),
                requested_count: count,
                rate_per_second: rate,
                alarm_reset,
                started_at_ms: started_ms,
            })
            .await?;
        let (stop, stopped) = watch::channel(false);
        self.stops().insert(id, stop);
        let plan = RunPlan { id, endpoint, alarm_name, settings: settings_of(&alarm), count, rate, started_ms };
        tokio::spawn(self.clone().run_attack(plan, stopped));
        tracing::info!(run = id, count, rate, "attack run started");
        self.run_view(id).await
    }

    async fn stop_attack_run(&self, request: StopRequest) -> Result<AttackRunView, AppError> {
        let run = self.run_view(request.id).await?;
        if !run.is_running() {
            return Err(AppError::Conflict(format!("Attack run {} has already ended", run.id)));
        }
        let signalled = self.stops().get(&request.id).is_some_and(|stop| stop.send(true).is_ok());
        if !signalled {
            // No task of this process runs it: record the end directly.
            self.db.attack_runs().finish(request.id, "stopped", now_ms()).await?;
        }
        // The task records the outcome; wait briefly so the answer shows it.
        for _ in 0..50 {
            let run = self.run_view(request.id).await?;
            if !run.is_running() {
                return Ok(run);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.run_view(request.id).await
    }
}

/// One HTTP/1.1 request to the application with a JSON body, as the lab's
/// curl commands send it (`GET /decrypt` carries a body too). Never fails:
/// an unreachable application is an exchange without a status.
pub async fn send(endpoint: &str, method: &str, path: &str, body: &str) -> HttpExchange {
    let url = format!("http://{}{path}", endpoint.trim_end_matches('/'));
    let sent = match (url.parse::<http::Uri>(), http::Method::from_bytes(method.as_bytes())) {
        (Ok(uri), Ok(verb)) => {
            let body = Some(("application/json", Bytes::from(body.to_owned())));
            let request = http_client::Request { method: verb, uri: &uri, body, tls: None, timeout: REQUEST_TIMEOUT };
            http_client::send(request).await
        }
        (Err(error), _) => Err(http_client::HttpClientError::Failed(error.to_string())),
        (_, Err(error)) => Err(http_client::HttpClientError::Failed(error.to_string())),
    };
    let (status, response_body) = match sent {
        Ok(answer) => (Some(answer.status.as_u16()), answer.body),
        Err(http_client::HttpClientError::TimedOut(limit)) => (None, format!("no answer within {} s", limit.as_secs())),
        Err(http_client::HttpClientError::Failed(error)) => (None, format!("no answer: {error}")),
    };
    HttpExchange { method: method.to_owned(), url, request_body: body.to_owned(), status, response_body }
}

/// A JSON object with its members in the given order, as the lab's curl
/// commands write them (`{"Name":...,"Key":...}`); serde_json's maps sort keys.
fn json_body(members: &[(&str, &str)]) -> String {
    let members: Vec<String> = members
        .iter()
        .map(|(key, value)| format!("{}:{}", serde_json::Value::from(*key), serde_json::Value::from(*value)))
        .collect();
    format!("{{{}}}", members.join(","))
}

/// CloudWatch's alarm message, indented when it is JSON.
fn pretty(message: &str) -> String {
    serde_json::from_str::<serde_json::Value>(message)
        .ok()
        .and_then(|json| serde_json::to_string_pretty(&json).ok())
        .unwrap_or_else(|| message.to_owned())
}

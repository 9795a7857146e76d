//! The server's side of the Alarms page ([`AlarmsBackend`]): alarms with
//! their settings from DescribeAlarms, the preview over the metric's history
//! (GetMetricData, chunked by the domain's fetch plan, then the domain's
//! replay), and Apply: through the logging stack's parameters with the lab
//! service's own change-set path when the stack owns the alarm, through a
//! change set over its stack's own template when an adopted lab's stack
//! owns it (`crate::adoption`), else PutMetricAlarm. Every applied change is
//! recorded in `threshold_changes`; the stack watcher finishes a change-set
//! change when CloudFormation finishes its deployment.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use keywatch_app::api::alarms::port::AlarmsBackend;
use keywatch_app::api::alarms::{
    AlarmListQuery, AlarmRequest, AlarmSummary, AlarmView, ChangePath, DetectionField, DetectionRequest, DetectionView,
    Detections, ThresholdChange, ThresholdRequest, form_error,
};
use keywatch_app::api::lab::{DeployRequest, PreviewOutcome};
use keywatch_app::error::AppError;
use keywatch_domain::alarm::{
    AlarmError, MetricAlarm, MetricSample, Preview, StateValue, Sweep, fetch_period_seconds, fetch_plan, preview,
    threshold_sweep,
};
use keywatch_domain::cloudformation::Template;
use keywatch_domain::lab::{self, LabSection, Prefix};
use keywatch_domain::lab_alarms::{Detection, alarm_parameters, changed_fields, parameter_values};

use crate::aws::Aws;
use crate::aws::cloudformation::StackDescription;
use crate::aws::cloudwatch::AlarmSnapshot;
use crate::clock::now_ms;
use crate::db::Database;
use crate::db::audit::{AuditEntry, actions};
use crate::db::threshold_changes::NewThresholdChange;
use crate::lab::ServerLab;
use crate::pollers;

/// How far back the pattern tester's recent events go, and how many.
const TRAIL_EVENTS_SINCE_MS: i64 = 3_600_000;
const TRAIL_EVENTS: usize = 50;
/// The pattern tester's events: CloudTrail records of KMS calls.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html>
const KMS_EVENTS: &str = r#"{ $.eventSource = "kms.amazonaws.com" }"#;
/// How long fetched history is reused: typing in the form previews against
/// the same data instead of fetching 15 days again per keystroke.
const HISTORY_TTL: Duration = Duration::from_secs(30);
/// Chart buckets sent to the browser (not 129,600 datapoints).
const CHART_POINTS: usize = 600;
/// Candidate thresholds the sweep spans the metric's values with.
const SWEEP_CANDIDATES: usize = 100;

/// Runs a replay over the cached history on the blocking pool. A refused
/// setting is the user's to fix; a task that died is logged and internal.
async fn off_the_workers<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> Result<T, AlarmError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| {
            tracing::error!(%error, what, "a replay task failed");
            AppError::Internal
        })?
        .map_err(|error| AppError::InvalidInput { field: None, message: error.to_string() })
}
/// How many recorded changes the alarm's page lists.
const CHANGES_SHOWN: u32 = 100;

/// History fetched for one metric at one resolution.
struct CachedHistory {
    key: String,
    fetched: Instant,
    from_ms: i64,
    to_ms: i64,
    samples: Arc<Vec<MetricSample>>,
}

/// The lab's logging stack as DescribeStacks has it now, deployed (not
/// deleted, not waiting for its first change set).
struct LoggingStack {
    prefix: Prefix,
    stack: StackDescription,
}

/// The Alarms page's backend.
#[derive(Clone)]
pub struct ServerAlarms {
    aws: Aws,
    db: Database,
    lab: Arc<ServerLab>,
    lab_prefix: String,
    history: Arc<Mutex<Option<CachedHistory>>>,
}

impl ServerAlarms {
    /// The backend; `lab` is the lab service, whose prefix and change-set
    /// path Apply uses.
    pub fn new(aws: Aws, db: Database, lab: Arc<ServerLab>) -> ServerAlarms {
        ServerAlarms {
            aws,
            db,
            lab,
            lab_prefix: pollers::DEFAULT_LAB_PREFIX.to_owned(),
            history: Arc::new(Mutex::new(None)),
        }
    }

    /// Applies a threshold change through the owning stack or PutMetricAlarm.
    async fn apply_now(&self, request: ThresholdRequest) -> Result<ThresholdChange, AppError> {
        let (_, current) = self.detail(&request.alarm_name).await?;
        // Refused here, before anything is sent or recorded.
        let proposed = form_error(&request.form, &current)?;
        let fields = changed_fields(&current, &proposed);
        if fields.is_empty() {
            return Err(AppError::InvalidInput {
                field: None,
                message: "These are the alarm's current settings: there is nothing to apply".to_owned(),
            });
        }
        // An adopted lab's alarm: its template fixes the settings, so the
        // change set changes the template (crate::adoption), never the alarm alone.
        if let Some(owner) = crate::adoption::adopted_owner(&self.aws, &self.db, &request.alarm_name).await? {
            return crate::adoption::apply_threshold(&self.aws, &self.db, owner, fields, &current, &proposed).await;
        }
        match self.owning_stack(&request.alarm_name).await? {
            Some((logging, ChangePath::Stack { stack_name, parameters: bindings, .. })) => {
                let overrides = parameter_values(&bindings, &current, &proposed).map_err(|fixed| {
                    let field = fixed.first().map(|f| f.field.clone()).unwrap_or_default();
                    AppError::InvalidInput {
                        message: format!(
                            "{field} is fixed by the template of {stack_name}, not a stack parameter; changing it \
                             here would make the alarm drift from its stack"
                        ),
                        field: Some(field),
                    }
                })?;
                // Every other parameter keeps its current value.
                self.update_logging_stack(logging, request.alarm_name, fields, overrides, Some(proposed)).await
            }
            _ => {
                let result = self.aws.cloudwatch().put_metric_alarm(&proposed).await;
                let (outcome, detail) = match &result {
                    Ok(()) => ("succeeded", None),
                    Err(error) => ("failed", Some(error.user_message())),
                };
                let change = self
                    .db
                    .threshold_changes()
                    .insert(NewThresholdChange {
                        requested_at_ms: now_ms(),
                        alarm_name: request.alarm_name,
                        fields,
                        path: "PutMetricAlarm",
                        stack_name: None,
                        change_set_id: None,
                        outcome,
                        detail,
                        finished_at_ms: Some(now_ms()),
                        proposed: Some(proposed),
                    })
                    .await?;
                result?;
                Ok(change)
            }
        }
    }

    async fn detail(&self, alarm_name: &str) -> Result<(AlarmSnapshot, MetricAlarm), AppError> {
        // AlarmName is 1 to 255 characters (PutMetricAlarm API reference):
        // anything else names no alarm, and is not echoed back whole.
        if alarm_name.is_empty() || alarm_name.chars().count() > 255 {
            return Err(AppError::InvalidInput {
                field: Some("alarm_name".to_owned()),
                message: "An alarm name has 1 to 255 characters".to_owned(),
            });
        }
        let detail = self
            .aws
            .cloudwatch()
            .describe_alarm(alarm_name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("The alarm {alarm_name}")))?;
        let settings = detail.settings.clone().ok_or_else(|| {
            AppError::Conflict(format!(
                "{alarm_name} is not a static-threshold alarm on one metric; the threshold form does not edit it"
            ))
        })?;
        Ok((detail, settings))
    }

    /// The logging stack of the lab's current prefix (from the deployments
    /// table, or an adopted lab's own name): its name, and what
    /// DescribeStacks says of it now.
    async fn logging_stack(&self) -> Result<(Prefix, String, Option<StackDescription>), AppError> {
        let prefix = self.lab.prefix().await?;
        let stack_name = self.lab.lab_stack_name(LabSection::LoggingAndAlarm, &prefix).await?;
        let stack = self.aws.cloudformation().describe_stack(&stack_name).await?;
        Ok((prefix, stack_name, stack))
    }

    /// The logging stack deployed from Keywatch's template, if there is one.
    /// An adopted lab's keeps its own template: its alarm changes through
    /// `crate::adoption`, and it has no detections to switch.
    async fn deployed_logging_stack(&self) -> Result<Option<LoggingStack>, AppError> {
        let (prefix, _, stack) = self.logging_stack().await?;
        if self.lab.stacks(&prefix).await?.1 {
            return Ok(None);
        }
        Ok(stack
            .filter(|stack| stack.status != "DELETE_COMPLETE" && stack.status != "REVIEW_IN_PROGRESS")
            .map(|stack| LoggingStack { prefix, stack }))
    }

    /// Updates the logging stack with `overrides` (every other parameter
    /// keeps its value) through the lab service's change set for the
    /// section, and records the change as pending; returns the record.
    async fn update_logging_stack(
        &self,
        logging: LoggingStack,
        alarm_name: String,
        fields: Vec<(String, String, String)>,
        overrides: Vec<(String, String)>,
        proposed: Option<MetricAlarm>,
    ) -> Result<ThresholdChange, AppError> {
        let LoggingStack { prefix, stack } = logging;
        let mut values = stack.parameters.clone();
        for (key, value) in overrides {
            match values.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => values.push((key, value)),
            }
        }
        let section = LabSection::LoggingAndAlarm;
        let stack_name = stack.stack_name.clone();
        let preview = self.lab.section_change_set(section, &prefix, &values, Some(&stack)).await?;
        let PreviewOutcome::Changes { change_set_id, changes, .. } = preview else {
            return Err(AppError::Conflict(format!("CloudFormation found nothing to change in {stack_name}")));
        };
        let deploy =
            DeployRequest { section, prefix: prefix.as_str().to_owned(), change_set_id: change_set_id.clone() };
        self.lab.deploy_described(deploy, stack, &changes).await?;
        Ok(self
            .db
            .threshold_changes()
            .insert(NewThresholdChange {
                requested_at_ms: now_ms(),
                alarm_name,
                fields,
                path: "change set",
                stack_name: Some(stack_name),
                change_set_id: Some(change_set_id),
                outcome: "pending",
                detail: None,
                finished_at_ms: None,
                proposed,
            })
            .await?)
    }

    /// Where Apply changes `alarm_name`: what the page says is what
    /// [`ServerAlarms::apply_now`] does.
    async fn change_path(&self, alarm_name: &str) -> Result<ChangePath, AppError> {
        if let Some(owner) = crate::adoption::adopted_owner(&self.aws, &self.db, alarm_name).await? {
            return Ok(ChangePath::StackTemplate { stack_name: owner.stack_name, logical_id: owner.logical_id });
        }
        Ok(self.owning_stack(alarm_name).await?.map_or(ChangePath::PutMetricAlarm, |(_, path)| path))
    }

    /// The logging stack, if it is deployed and owns `alarm_name`, with the
    /// alarm's change path through it.
    async fn owning_stack(&self, alarm_name: &str) -> Result<Option<(LoggingStack, ChangePath)>, AppError> {
        let Some(logging) = self.deployed_logging_stack().await? else { return Ok(None) };
        let stack_name = logging.stack.stack_name.clone();
        let resources = self.aws.cloudformation().stack_resources(&stack_name).await?;
        let Some(resource) = resources.into_iter().find(|resource| {
            resource.resource_type == "AWS::CloudWatch::Alarm" && resource.physical_id.as_deref() == Some(alarm_name)
        }) else {
            return Ok(None);
        };
        let template = logging_template()?;
        let parameters = alarm_parameters(&template, &resource.logical_id);
        Ok(Some((logging, ChangePath::Stack { stack_name, logical_id: resource.logical_id, parameters })))
    }

    /// The metric's history at `period_s`, fetched in GetMetricData's chunks
    /// or reused from the last fetch.
    async fn history(
        &self,
        alarm: &MetricAlarm,
        period_s: u32,
    ) -> Result<(i64, i64, Arc<Vec<MetricSample>>), AppError> {
        let key = format!("{}\u{0}{}\u{0}{:?}\u{0}{period_s}", alarm.namespace, alarm.metric_name, alarm.dimensions);
        {
            let cached = self.history.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(cached) = cached.as_ref().filter(|c| c.key == key && c.fetched.elapsed() < HISTORY_TTL) {
                return Ok((cached.from_ms, cached.to_ms, cached.samples.clone()));
            }
        }
        let plan = fetch_plan(period_s, now_ms());
        let (Some(first), Some(last)) = (plan.first(), plan.last()) else {
            return Err(AppError::Internal);
        };
        let (from_ms, to_ms) = (first.start_ms, last.end_ms);
        let cloudwatch = self.aws.cloudwatch();
        let mut samples = Vec::new();
        for window in plan {
            samples.extend(cloudwatch.metric_statistic_sets(alarm, window).await?);
        }
        let samples = Arc::new(samples);
        *self.history.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(CachedHistory { key, fetched: Instant::now(), from_ms, to_ms, samples: samples.clone() });
        Ok((from_ms, to_ms, samples))
    }
}

#[async_trait]
impl AlarmsBackend for ServerAlarms {
    async fn alarms(&self, query: AlarmListQuery) -> Result<Vec<AlarmSummary>, AppError> {
        // The poller's prefix, and the one the wizard deployed last.
        let mut prefixes = vec![self.lab_prefix.clone()];
        let current = self.lab.prefix().await?.as_str().to_owned();
        if !prefixes.contains(&current) {
            prefixes.push(current);
        }
        let mut managed: Vec<String> = Vec::new();
        for prefix in prefixes {
            let found = pollers::discover_managed(&self.aws, &self.db, &prefix).await?;
            managed.extend(found.managed_alarms.into_iter().map(|alarm| alarm.alarm_name));
        }
        let details = self.aws.cloudwatch().describe_metric_alarms().await?;
        Ok(details
            .into_iter()
            .map(|detail| AlarmSummary {
                managed: managed.contains(&detail.alarm_name),
                metric: detail.settings.as_ref().map_or_else(
                    || "metric math or anomaly band".to_owned(),
                    |s| format!("{} / {}", s.namespace, s.metric_name),
                ),
                condition: detail.settings.as_ref().map(MetricAlarm::describe_condition),
                alarm_name: detail.alarm_name,
                state_value: detail.state_value,
            })
            .filter(|summary| query.all || summary.managed)
            .collect())
    }

    async fn alarm(&self, request: AlarmRequest) -> Result<AlarmView, AppError> {
        let (detail, settings) = self.detail(&request.alarm_name).await?;
        let path = self.change_path(&request.alarm_name).await?;
        let changes = self.db.threshold_changes().for_alarm(&request.alarm_name, CHANGES_SHOWN).await?;
        Ok(AlarmView {
            alarm_name: detail.alarm_name,
            state_value: detail.state_value,
            state_reason: detail.state_reason,
            condition: settings.describe_condition(),
            settings,
            path,
            changes,
        })
    }

    async fn preview(&self, request: ThresholdRequest) -> Result<Preview, AppError> {
        let (_, current) = self.detail(&request.alarm_name).await?;
        let proposed = form_error(&request.form, &current)?;
        let period_s = fetch_period_seconds(&current).min(fetch_period_seconds(&proposed));
        let (from_ms, to_ms, samples) = self.history(&current, period_s).await?;
        // 15 days of 10-second data take a few milliseconds per setting:
        // off the async workers all the same.
        off_the_workers("preview", move || {
            preview(&current, &proposed, &samples, from_ms, to_ms, StateValue::InsufficientData, CHART_POINTS)
        })
        .await
    }

    async fn sweep(&self, request: ThresholdRequest) -> Result<Sweep, AppError> {
        let (_, current) = self.detail(&request.alarm_name).await?;
        let proposed = form_error(&request.form, &current)?;
        // The preview's period, so both share the cached history.
        let period_s = fetch_period_seconds(&current).min(fetch_period_seconds(&proposed));
        let (from_ms, to_ms, samples) = self.history(&current, period_s).await?;
        let marked = [current.threshold, proposed.threshold];
        off_the_workers("sweep", move || {
            threshold_sweep(
                &proposed,
                &samples,
                from_ms,
                to_ms,
                StateValue::InsufficientData,
                SWEEP_CANDIDATES,
                &marked,
            )
        })
        .await
    }

    async fn apply(&self, request: ThresholdRequest) -> Result<ThresholdChange, AppError> {
        let target = request.alarm_name.clone();
        let result = self.apply_now(request).await;
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::THRESHOLD_CHANGE, target, &result))
            .await;
        result
    }

    async fn detections(&self) -> Result<Detections, AppError> {
        self.detections_now().await
    }

    async fn set_detection(&self, request: DetectionRequest) -> Result<ThresholdChange, AppError> {
        let target = format!("detection {:?} {}", request.detection, if request.enabled { "on" } else { "off" });
        let result = self.set_detection_now(request).await;
        self.db
            .audit()
            .record(AuditEntry::of_result(crate::auth::current_user(), actions::DETECTION_CHANGE, target, &result))
            .await;
        result
    }

    async fn recent_trail_events(&self) -> Result<Vec<String>, AppError> {
        let (_, stack_name, stack) = self.logging_stack().await?;
        let outputs = stack.map(|stack| stack.outputs).unwrap_or_default();
        let output = |key: &str| outputs.iter().find(|o| o.key == key).map(|o| o.value.clone());
        // An adopted lab's original template names it only under the lab's key.
        let log_group = output(lab::LOGGING_TRAIL_LOG_GROUP_OUTPUT)
            .or_else(|| output(lab::LOGGING_LAB_LOG_GROUP_OUTPUT))
            .ok_or_else(|| AppError::Conflict(format!("{stack_name} has no trail log group yet")))?;
        let now = now_ms();
        // KMS's records only: the trail also records every call the console's
        // own pollers make, which would crowd the failed decrypts out of the
        // newest 50 within seconds.
        let logs = self.aws.logs();
        Ok(logs.recent_messages(&log_group, KMS_EVENTS, now - TRAIL_EVENTS_SINCE_MS, now, TRAIL_EVENTS).await?)
    }
}

impl ServerAlarms {
    /// The detections as the stack holds them.
    pub async fn detections_now(&self) -> Result<Detections, AppError> {
        let Some(LoggingStack { stack, .. }) = self.deployed_logging_stack().await? else {
            return Ok(Detections { stack_name: None, detections: Vec::new() });
        };
        let (stack_name, parameters) = (stack.stack_name, stack.parameters);
        let template = logging_template()?;
        let current = |key: &str| {
            parameters
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .or_else(|| template.parameter(key).and_then(|p| p.default.clone()))
                .unwrap_or_default()
        };
        let detections = Detection::ALL
            .into_iter()
            .map(|detection| {
                let enabled = current(detection.switch_parameter()) == "true";
                DetectionView {
                    detection,
                    title: detection.title().to_owned(),
                    enabled,
                    stack_name: stack_name.clone(),
                    alarm_name: enabled.then(|| detection.alarm_name(&stack_name)),
                    fields: detection
                        .parameters()
                        .iter()
                        .map(|key| DetectionField {
                            key: (*key).to_owned(),
                            description: template.parameter(key).and_then(|p| p.description.clone()),
                            value: current(key),
                        })
                        .collect(),
                }
            })
            .collect();
        Ok(Detections { stack_name: Some(stack_name), detections })
    }

    /// Switches and tunes a detection through the logging stack.
    pub async fn set_detection_now(&self, request: DetectionRequest) -> Result<ThresholdChange, AppError> {
        let detection = request.detection;
        let template = logging_template()?;
        // Only the detection's own parameters; refused before anything is sent.
        let values: Vec<(String, String)> = request
            .values
            .into_iter()
            .filter(|(key, _)| detection.parameters().contains(&key.as_str()))
            .map(|(key, value)| (key, value.trim().to_owned()))
            .collect();
        if let Some(error) = detection.errors(&template, &values).into_iter().next() {
            return Err(AppError::InvalidInput { field: Some(error.field), message: error.message });
        }
        let Some(logging) = self.deployed_logging_stack().await? else {
            return Err(AppError::Conflict("Deploy the logging and alarm section first".to_owned()));
        };
        let (stack_name, parameters) = (logging.stack.stack_name.clone(), &logging.stack.parameters);
        let mut overrides = values;
        overrides.push((detection.switch_parameter().to_owned(), request.enabled.to_string()));
        let fields: Vec<(String, String, String)> = overrides
            .iter()
            .filter_map(|(key, new)| {
                let old = parameters.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
                (old != *new).then(|| (key.clone(), old, new.clone()))
            })
            .collect();
        if fields.is_empty() {
            return Err(AppError::InvalidInput {
                field: None,
                message: "These are the detection's current settings: there is nothing to apply".to_owned(),
            });
        }
        let alarm_name = detection.alarm_name(&stack_name);
        self.update_logging_stack(logging, alarm_name, fields, overrides, None).await
    }
}

fn logging_template() -> Result<Template, AppError> {
    let body = LabSection::LoggingAndAlarm.template().ok_or(AppError::Internal)?;
    Template::parse(body).map_err(|error| {
        tracing::error!(%error, "the embedded logging template does not parse");
        AppError::Internal
    })
}

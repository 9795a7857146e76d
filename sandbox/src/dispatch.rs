//! One call, from the HTTP request to its answer: decoded by [`protocol`],
//! run by its service under that service's lock (and those of the
//! services it touches, in [`Services`]' order), recorded by CloudTrail
//! through the recorder without holding the caller, and answered once what
//! it changed is committed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::connect_info::ConnectInfo;
use http::{Extensions, HeaderMap, Method, Response, Uri};

use crate::error::{self, AwsError};
use crate::identity::PrincipalKind;
use crate::protocol::value::Value;
use crate::protocol::{self, AwsRequest, Input, Protocol, ResponseContext};
use crate::service::{CallContext, Handled};
use crate::services::{Recorded, read, write};
use crate::state::{Part, Persisted};
use crate::store::journal::Change;
use crate::store::{self, Commit, Storage, WriteError};
use crate::ticks::{advance_stacks, run_alarm_actions, run_composite_actions};
use crate::{
    Shared, clock, cloudformation, cloudtrail, cloudwatch, ecr, ecs, faults, iam, kms, log_write_failure, logs, rds,
    s3, secretsmanager, sns, sqs, sts,
};

/// What a call changed, gathered from the services it holds locked, for
/// the store.
#[derive(Default)]
pub(crate) struct Changed {
    changes: Vec<Change>,
    files: Vec<(Part, Vec<u8>)>,
    failed: Option<WriteError>,
}

impl Changed {
    /// Takes `service`'s journal and, if its catalog changed and the state
    /// is kept on disk, its catalog file's bytes.
    pub(crate) fn note<T: Persisted>(
        &mut self,
        storage: &Storage,
        service: &mut T,
        catalog_changed: bool,
    ) -> &mut Changed {
        self.changes.extend(service.take_journal());
        if catalog_changed && storage.is_persistent() {
            match service.catalog_json() {
                Ok(bytes) => self.files.push((T::PART, bytes)),
                Err(error) => self.failed = Some(WriteError::from(error)),
            }
        }
        self
    }

    /// Hands the changes to the store; call it before releasing the locks.
    pub(crate) fn persist(self, storage: &Storage) -> Commit {
        match self.failed {
            Some(error) => Commit::Failed(error),
            None => storage.persist_changes(self.changes, self.files),
        }
    }

    /// [`Changed::persist`] for a caller that waits on its own thread.
    pub(crate) fn persist_blocking(self, storage: &Storage) -> store::BlockingCommit {
        match self.failed {
            Some(error) => store::BlockingCommit::Failed(error),
            None => storage.persist_changes_blocking(self.changes, self.files),
        }
    }
}

pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    extensions: Extensions,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let source_ip = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "127.0.0.1".to_owned(), |ConnectInfo(addr)| addr.ip().to_string());
    let (context, result) = match protocol::decode(
        &method,
        &uri,
        &headers,
        body,
        &shared.config.default_region,
        request_id,
    ) {
        Ok(mut request) => {
            // S3 routes by method, path and query: name the operation
            // before the call is dispatched and recorded.
            if let (true, Input::Rest(input)) = (request.service == "s3", &request.input) {
                let operation = s3::api::operation(input);
                if !operation.is_empty() {
                    request.operation = operation.to_owned();
                }
            }
            let context = request.response_context();
            // Most sandboxes inject no faults: those never take the write lock.
            let decision = if read(&shared.faults).rules().is_empty() {
                faults::Decision { delay: Duration::ZERO, error: None }
            } else {
                write(&shared.faults).decide(&request.service)
            };
            if !decision.delay.is_zero() {
                tokio::time::sleep(decision.delay).await;
            }
            if let Some(error) = decision.error {
                tracing::debug!(service = %context.service, operation = %context.operation, code = %error.code, "sandbox fault injected");
                return protocol::encode(&context, Err(error));
            }
            if (request.service.as_str(), request.operation.as_str()) == ("cloudtrail", "LookupEvents") {
                // Reads the stored history: every answered call's record first.
                log_write_failure(shared.records_committed().await);
            }
            let mut result = dispatch_durably(&shared, &request, &context, &source_ip).await;
            if let ("sqs", "ReceiveMessage", Input::Json(input)) =
                (request.service.as_str(), request.operation.as_str(), &request.input)
            {
                // Long polling: retry an empty receive until a message
                // arrives or the wait ends, never holding the lock asleep.
                let wait = sqs::wait_seconds(&read(&shared.services.sqs), &request.region, input);
                let deadline = Instant::now() + Duration::from_secs(wait);
                while result.as_ref().is_ok_and(sqs::is_empty_receive) && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    result = dispatch_durably(&shared, &request, &context, &source_ip).await;
                }
            }
            (context, result)
        }
        Err(rejected) => {
            let (context, error) = *rejected;
            (context, Err(error))
        }
    };
    let outcome = result.as_ref().map_or_else(|error| error.code.clone(), |_| "ok".to_owned());
    // One line per call: DEBUG, or an idle console's terminal fills with
    // its pollers' calls (RUST_LOG=info,keywatch_sandbox=debug shows them).
    tracing::debug!(
        service = %context.service,
        operation = %context.operation,
        outcome = %outcome,
        elapsed_us = started.elapsed().as_micros() as u64,
        "sandbox call"
    );
    protocol::encode(&context, result)
}

/// Runs one call and answers once what it changed is committed: a call
/// whose changes could not be saved answers its service's own server
/// error instead of its result. No lock is held during the wait, so
/// concurrent calls share one commit.
async fn dispatch_durably(
    shared: &Shared,
    request: &AwsRequest,
    context: &ResponseContext,
    source_ip: &str,
) -> Result<Value, AwsError> {
    let (result, commit) = dispatch(shared, request, context, source_ip);
    shared.recorder.throttle().await;
    match commit.wait().await {
        Ok(()) => result,
        Err(error) => {
            tracing::error!(service = %context.service, operation = %context.operation, %error, "call not saved");
            Err(error::storage_failure(&context.service, &error))
        }
    }
}

/// Runs one call: resolves the caller, hands the call to its service under
/// that service's lock (and those of the services it touches), and sends
/// CloudTrail its record. Returns the result and the commit of what the
/// call changed; the record is filed without holding the caller.
fn dispatch(
    shared: &Shared,
    request: &AwsRequest,
    context: &ResponseContext,
    source_ip: &str,
) -> (Result<Value, AwsError>, Commit) {
    let now = clock::now_ms();
    let partition =
        keywatch_domain::region::find(&request.region).map_or("aws", |region| region.partition.as_str()).to_owned();
    let access_key_id = request.scope.as_ref().map(|scope| scope.access_key_id.clone());
    let caller = read(&shared.services.sts).principal(&partition, access_key_id, now);
    let caller = match caller {
        Ok(caller) => caller,
        Err(mut error) => {
            if request.protocol == Protocol::Query {
                // Query services name it without the suffix.
                error.code = "ExpiredToken".to_owned();
            }
            return (Err(error), Commit::Done);
        }
    };
    let ctx =
        CallContext { caller, region: request.region.clone(), partition, now, request_id: request.request_id.clone() };
    let Some((handled, commit)) = call_service(shared, request, &ctx) else {
        return (Err(protocol::unknown_operation(context)), Commit::Done);
    };
    if let Some(audit) = &handled.audit {
        let record = cloudtrail::record::build(&cloudtrail::record::CallFacts {
            caller: &ctx.caller,
            region: &ctx.region,
            event_time: now,
            service: &request.service,
            operation: &request.operation,
            source_ip,
            user_agent: request.user_agent.as_deref().unwrap_or_default(),
            request_id: &request.request_id,
            event_id: uuid::Uuid::new_v4().to_string(),
            audit,
            error: handled.result.as_ref().err(),
        });
        shared.recorder.send(Recorded { record, region: ctx.region.clone(), event_time: now });
    }
    (handled.result, commit)
}

/// Hands a call to its service, holding only the locks of the services it
/// touches (taken in [`Services`]' order); `None` for an operation the
/// sandbox does not serve.
fn call_service(shared: &Shared, request: &AwsRequest, ctx: &CallContext) -> Option<(Handled, Commit)> {
    let services = &shared.services;
    let storage = &shared.storage;
    let operation = request.operation.as_str();
    let empty = serde_json::Value::Object(serde_json::Map::new());
    let json = match &request.input {
        Input::Json(json) => json,
        _ => &empty,
    };
    match (request.service.as_str(), &request.input) {
        ("sts", Input::Params(params)) => shared.call_on(&services.sts, |sts| sts::call(sts, ctx, operation, params)),
        ("kms", Input::Json(_)) => {
            // A role session's calls answer to its role's identity-based
            // policies, read under IAM's shared lock and released before
            // KMS's is taken, so no lock is held while waiting for another.
            // The default user has none to read and never touches IAM's
            // lock: its calls cost what they always did.
            let policies = match &ctx.caller.kind {
                PrincipalKind::AssumedRole { role_name, .. } => read(&services.iam).identity_policies(role_name),
                PrincipalKind::IamUser { .. } => Vec::new(),
            };
            shared.call_on(&services.kms, |kms| kms::api::call_authorized(kms, ctx, operation, json, &policies))
        }
        ("cloudtrail", Input::Json(_)) => {
            let mut cloudtrail = services.cloudtrail();
            let logs = read(&services.logs);
            let s3 = read(&services.s3);
            let targets = cloudtrail::api::DeliveryTargets {
                log_group_exists: &|region: &str, name: &str| logs.group(region, name).is_ok(),
                bucket_policy: &|name: &str| s3.bucket(name).ok().map(|bucket| bucket.policy.clone()),
            };
            let handled = cloudtrail::api::call(&mut cloudtrail, ctx, operation, json, &targets)?;
            let mut changed = Changed::default();
            changed.note(storage, &mut *cloudtrail, handled.mutated);
            Some((handled, changed.persist(storage)))
        }
        ("s3", Input::Rest(input)) => shared.call_on(&services.s3, |s3| s3::api::call(s3, ctx, operation, input)),
        ("secretsmanager", Input::Json(_)) => {
            shared.call_on(&services.secretsmanager, |secrets| secretsmanager::api::call(secrets, ctx, operation, json))
        }
        ("ecr", Input::Json(_)) => shared.call_on(&services.ecr, |ecr| ecr::api::call(ecr, ctx, operation, json)),
        ("ecs", Input::Json(_)) => shared.call_on(&services.ecs, |ecs| ecs::api::call(ecs, ctx, operation, json)),
        ("logs", Input::Json(_)) => {
            let mut logs = write(&services.logs);
            let mut metrics = write(&services.metrics);
            let handled = logs::api::call(&mut logs, &mut metrics, ctx, operation, json)?;
            let mut changed = Changed::default();
            changed.note(storage, &mut *logs, handled.mutated).note(storage, &mut *metrics, false);
            Some((handled, changed.persist(storage)))
        }
        ("monitoring", Input::Json(_) | Input::Cbor(_)) => {
            // Both protocols carry the same document; CBOR converts to it.
            let input = match &request.input {
                Input::Cbor(cbor) => protocol::cbor::to_json(cbor),
                _ => json.clone(),
            };
            let mut metrics = write(&services.metrics);
            let mut cloudwatch = write(&services.cloudwatch);
            let (handled, changes) = cloudwatch::api::call(&mut cloudwatch, &mut metrics, ctx, operation, &input)?;
            let mut changed = Changed::default();
            changed.note(storage, &mut *metrics, false);
            // A new composite is evaluated at once, and a change of an alarm
            // a composite names may change the composite; PutMetricData,
            // the hot path, changes no alarm's state and settles nothing.
            let alarms_changed = handled.mutated && operation != "PutMetricData";
            let composite_changes =
                if !changes.is_empty() || alarms_changed { cloudwatch.settle_composites(ctx.now) } else { Vec::new() };
            if !changes.is_empty() || !composite_changes.is_empty() {
                let mut sns = write(&services.sns);
                let mut sqs = write(&services.sqs);
                let endpoint = shared.endpoint();
                let acted = run_alarm_actions(&mut cloudwatch, &mut sns, &mut sqs, &endpoint, &changes, ctx.now)
                    | run_composite_actions(
                        &mut cloudwatch,
                        &mut sns,
                        &mut sqs,
                        &endpoint,
                        &composite_changes,
                        ctx.now,
                    );
                changed.note(storage, &mut *sns, acted).note(storage, &mut *sqs, acted);
            }
            let cloudwatch_changed = handled.mutated || !changes.is_empty() || !composite_changes.is_empty();
            changed.note(storage, &mut *cloudwatch, cloudwatch_changed);
            Some((handled, changed.persist(storage)))
        }
        ("sqs", Input::Json(_)) => {
            let endpoint = shared.endpoint();
            shared.call_on(&services.sqs, |sqs| sqs::call(sqs, ctx, &endpoint, operation, json))
        }
        ("cloudformation", Input::Params(params)) => {
            let pace = shared.config.stack_pace_ms();
            let mut state = shared.all();
            let handled = cloudformation::api::call(&mut state, ctx, operation, params, pace)?;
            let mut parts = Vec::new();
            if handled.mutated {
                // A stack operation may create or delete resources anywhere.
                parts.extend(Part::ALL);
                parts.extend(advance_stacks(&mut state, ctx.now, pace));
            }
            let commit = shared.persist(&mut state, &parts);
            Some((handled, commit))
        }
        ("iam", Input::Params(params)) => {
            shared.call_on(&services.iam, |state| iam::api::call(state, ctx, operation, params))
        }
        ("rds", Input::Params(params)) => {
            shared.call_on(&services.rds, |rds| rds::api::call(rds, ctx, operation, params))
        }
        ("sns", Input::Params(params)) => {
            let endpoint = shared.endpoint();
            let mut sns = write(&services.sns);
            let mut sqs = write(&services.sqs);
            let handled = sns::api::call(&mut sns, &mut sqs, ctx, &endpoint, operation, params)?;
            let mut changed = Changed::default();
            changed.note(storage, &mut *sns, handled.mutated).note(storage, &mut *sqs, handled.mutated);
            Some((handled, changed.persist(storage)))
        }
        _ => None,
    }
}

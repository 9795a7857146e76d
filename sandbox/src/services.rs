//! The services' states, each behind its own lock, so that unrelated calls
//! never wait for one another: a KMS Encrypt holds the KMS lock only, a
//! PutLogEvents the Logs and metric locks, and every call reads STS's
//! sessions under a shared (read) lock to know its caller. A role session's
//! KMS call also reads its role's policies under IAM's shared lock, released
//! before KMS's is taken, so it never holds two.
//!
//! A call that spans services takes their locks in one fixed order (the
//! order of [`SandboxState`]'s fields), so two such calls can never
//! deadlock. Work that touches everything (CloudFormation creating
//! resources in any service, tests) borrows the whole state with
//! [`Services::all`], which takes every lock in that order.
//!
//! CloudTrail records every call, so recording must not make calls queue
//! behind one lock: a call drops its record into the [`Recorder`]'s
//! channel and returns; whoever takes the CloudTrail lock next (the
//! recording task, the delivery loop, a CloudTrail call) first files what
//! is waiting there, so a reader of CloudTrail's state never misses a
//! record that an answered call sent.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Records waiting to be filed beyond which calls wait for the recording
/// task to catch up: a sandbox called faster than it can store keeps its
/// memory bounded by slowing its callers, as AWS throttles.
pub const MAX_WAITING_RECORDS: usize = 4_096;

use crate::cloudformation::CloudFormationState;
use crate::cloudtrail::CloudTrailState;
use crate::cloudwatch::CloudWatchState;
use crate::ec2::Ec2State;
use crate::ecr::EcrState;
use crate::ecs::EcsState;
use crate::elbv2::ElbState;
use crate::iam::IamState;
use crate::kms::KmsState;
use crate::logs::LogsState;
use crate::metrics::MetricStore;
use crate::rds::RdsState;
use crate::s3::S3State;
use crate::secretsmanager::SecretsManagerState;
use crate::sns::SnsState;
use crate::sqs::SqsState;
use crate::state::SandboxState;
use crate::sts::StsState;

/// A read lock, even if a panicking thread poisoned it: every change is
/// completed before a guard drops, so what it guards is consistent.
pub fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// A write lock, even if poisoned (see [`read`]).
pub fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// A call's record on its way to CloudTrail's event history and trails.
#[derive(Debug)]
pub struct Recorded {
    pub record: crate::cloudtrail::record::Record,
    pub region: String,
    /// When the call was made (epoch milliseconds).
    pub event_time: i64,
}

/// How CloudTrail files records: when they reach a trail's log group and
/// its S3 log files.
#[derive(Debug, Clone, Copy)]
pub struct Filing {
    pub delivery_delay_ms: i64,
    pub log_file_interval_ms: i64,
}

/// Where calls drop their CloudTrail records without taking a lock.
#[derive(Clone)]
pub struct Recorder {
    sender: mpsc::Sender<Recorded>,
    wake: Arc<tokio::sync::Notify>,
    backlog: Arc<Backlog>,
}

/// How many records wait to be filed, and a signal when some were.
#[derive(Default)]
struct Backlog {
    waiting: AtomicUsize,
    filed: tokio::sync::Notify,
}

impl Recorder {
    /// Queues `recorded` for CloudTrail and wakes the recording task.
    pub fn send(&self, recorded: Recorded) {
        self.backlog.waiting.fetch_add(1, Ordering::Relaxed);
        // The receiver lives as long as the services; a send can only fail
        // while the sandbox is being dropped.
        let _ = self.sender.send(recorded);
        self.wake.notify_one();
    }

    /// Resolves at once unless more than [`MAX_WAITING_RECORDS`] wait to
    /// be filed; then once the recording task has filed them.
    pub async fn throttle(&self) {
        // The usual case, checked before registering for a wake-up.
        if self.backlog.waiting.load(Ordering::Relaxed) <= MAX_WAITING_RECORDS {
            return;
        }
        loop {
            let filed = self.backlog.filed.notified();
            tokio::pin!(filed);
            // Registered before the check, so a filing in between wakes it.
            filed.as_mut().enable();
            if self.backlog.waiting.load(Ordering::Relaxed) <= MAX_WAITING_RECORDS {
                return;
            }
            filed.await;
        }
    }

    /// Resolves when records were sent since the last wake-up.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }
}

macro_rules! services {
    ($($field:ident: $state:ty),* $(,)?) => {
        /// Each service's state behind its own lock, in lock order.
        pub struct Services {
            $(pub $field: RwLock<$state>,)*
            /// Records waiting to be filed; only read with the CloudTrail
            /// lock held.
            inbox: Mutex<mpsc::Receiver<Recorded>>,
            filing: Filing,
            backlog: Arc<Backlog>,
        }

        /// Every service's lock, held.
        struct Guards<'a> {
            $($field: RwLockWriteGuard<'a, $state>,)*
        }

        /// The whole state, lent out of its locks (all held) until dropped.
        pub struct AllServices<'a> {
            guards: Guards<'a>,
            state: SandboxState,
        }

        impl Services {
            /// `state`'s services, each behind its own lock, and the
            /// recorder calls hand their CloudTrail records to.
            pub fn new(state: SandboxState, filing: Filing) -> (Services, Recorder) {
                let (sender, receiver) = mpsc::channel();
                let backlog = Arc::new(Backlog::default());
                let recorder =
                    Recorder { sender, wake: Arc::new(tokio::sync::Notify::new()), backlog: backlog.clone() };
                let services = Services {
                    $($field: RwLock::new(state.$field),)*
                    inbox: Mutex::new(receiver),
                    filing,
                    backlog,
                };
                (services, recorder)
            }

            /// Every service, locked in order and lent out as one state
            /// (with `endpoint` set), with waiting records filed.
            pub fn all(&self, endpoint: String) -> AllServices<'_> {
                $(let mut $field = write(&self.$field);)*
                let mut state = SandboxState { $($field: std::mem::take(&mut *$field),)* endpoint };
                self.file_waiting(&mut state.cloudtrail);
                AllServices { guards: Guards { $($field,)* }, state }
            }
        }

        impl Drop for AllServices<'_> {
            /// Puts each service's state back behind its lock (also when
            /// the borrower panicked), before the locks are released.
            fn drop(&mut self) {
                $(*self.guards.$field = std::mem::take(&mut self.state.$field);)*
            }
        }
    };
}

services! {
    sts: StsState,
    kms: KmsState,
    cloudtrail: CloudTrailState,
    logs: LogsState,
    metrics: MetricStore,
    cloudwatch: CloudWatchState,
    sns: SnsState,
    sqs: SqsState,
    cloudformation: CloudFormationState,
    iam: IamState,
    ec2: Ec2State,
    elb: ElbState,
    ecs: EcsState,
    rds: RdsState,
    s3: S3State,
    secretsmanager: SecretsManagerState,
    ecr: EcrState,
}

impl Services {
    /// CloudTrail's state, locked, with every record calls have sent so
    /// far filed in it.
    pub fn cloudtrail(&self) -> RwLockWriteGuard<'_, CloudTrailState> {
        let mut cloudtrail = write(&self.cloudtrail);
        self.file_waiting(&mut cloudtrail);
        cloudtrail
    }

    /// Files the records waiting in the inbox; the caller holds the
    /// CloudTrail lock, so records are filed in the order they were sent.
    fn file_waiting(&self, cloudtrail: &mut CloudTrailState) {
        let inbox = self.inbox.lock().unwrap_or_else(PoisonError::into_inner);
        let Filing { delivery_delay_ms, log_file_interval_ms } = self.filing;
        let mut filed = 0;
        while let Ok(recorded) = inbox.try_recv() {
            let Recorded { record, region, event_time } = recorded;
            cloudtrail.record(record, &region, event_time, event_time, delivery_delay_ms, log_file_interval_ms);
            filed += 1;
        }
        if filed > 0 {
            self.backlog.waiting.fetch_sub(filed, Ordering::Relaxed);
            self.backlog.filed.notify_waiters();
        }
    }
}

impl std::ops::Deref for AllServices<'_> {
    type Target = SandboxState;
    fn deref(&self) -> &SandboxState {
        &self.state
    }
}

impl std::ops::DerefMut for AllServices<'_> {
    fn deref_mut(&mut self) -> &mut SandboxState {
        &mut self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudtrail::record::Record;

    fn filing() -> Filing {
        Filing { delivery_delay_ms: 0, log_file_interval_ms: 0 }
    }

    #[test]
    fn the_whole_state_goes_back_behind_its_locks() {
        let (services, _recorder) = Services::new(SandboxState::default(), filing());
        {
            let mut all = services.all("http://127.0.0.1:1".into());
            all.ecs.revisions.insert("family".into(), 3);
        }
        assert_eq!(read(&services.ecs).revisions.get("family"), Some(&3));
    }

    #[test]
    fn a_panic_while_borrowing_loses_nothing() {
        let (services, _recorder) = Services::new(SandboxState::default(), filing());
        write(&services.ecs).revisions.insert("kept".into(), 1);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut all = services.all(String::new());
            all.ecs.revisions.insert("also".into(), 2);
            panic!("a provisioner failed");
        }));
        assert!(outcome.is_err());
        let ecs = read(&services.ecs);
        assert_eq!((ecs.revisions.get("kept"), ecs.revisions.get("also")), (Some(&1), Some(&2)));
    }

    #[test]
    fn records_sent_are_filed_before_cloudtrail_is_read() {
        let (services, recorder) = Services::new(SandboxState::default(), filing());
        for n in 0..3 {
            recorder.send(Recorded {
                record: Record::parse(serde_json::json!({"n": n}).to_string()).expect("a record"),
                region: "ap-southeast-2".into(),
                event_time: n,
            });
        }
        let cloudtrail = services.cloudtrail();
        let filed: Vec<_> = cloudtrail.history.iter().map(|record| record.json()["n"].clone()).collect();
        assert_eq!(filed, vec![0, 1, 2]);
    }
}

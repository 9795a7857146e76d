//! The sandbox's state: one sub-state per service, and its catalog files.
//!
//! With a state directory, each service's catalog (keys, trails, log
//! groups, buckets, topics, stacks: what stays small) is a JSON file there
//! (`sts.json`, `kms.json`, ...), rewritten atomically (temporary file,
//! fsync, rename) when a call changed it and read back when the sandbox
//! starts. The data that grows with use (CloudTrail's event history, log
//! events, datapoints, S3 objects) is never serialized here (those fields
//! are `skip_serializing`); [`crate::store`] keeps it in a database.
//! A missing file is an empty service, so a fresh directory starts empty.
//! The files hold KMS key material and secret values: they are the only
//! place those are ever written.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

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
use crate::store::journal::Change;
use crate::sts::StsState;

/// Everything the sandbox's services hold.
#[derive(Debug, Clone, Default)]
pub struct SandboxState {
    pub sts: StsState,
    pub kms: KmsState,
    pub cloudtrail: CloudTrailState,
    pub logs: LogsState,
    pub metrics: MetricStore,
    pub cloudwatch: CloudWatchState,
    pub sns: SnsState,
    pub sqs: SqsState,
    pub cloudformation: CloudFormationState,
    pub iam: IamState,
    pub ec2: Ec2State,
    pub elb: ElbState,
    pub ecs: EcsState,
    pub rds: RdsState,
    /// The URL the sandbox is reached at (SNS links and SQS queue URLs
    /// made outside a request use it); not persisted, set by the server.
    pub endpoint: String,
    pub s3: S3State,
    pub secretsmanager: SecretsManagerState,
    pub ecr: EcrState,
}

/// One persisted part of the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    Sts,
    Kms,
    CloudTrail,
    Logs,
    Metrics,
    CloudWatch,
    Sns,
    Sqs,
    CloudFormation,
    Iam,
    Ec2,
    Elb,
    Ecs,
    Rds,
    S3,
    SecretsManager,
    Ecr,
}

impl Part {
    /// Every part, in load order.
    pub const ALL: [Part; 17] = [
        Part::Sts,
        Part::Kms,
        Part::CloudTrail,
        Part::Logs,
        Part::Metrics,
        Part::CloudWatch,
        Part::Sns,
        Part::Sqs,
        Part::CloudFormation,
        Part::Iam,
        Part::Ec2,
        Part::Elb,
        Part::Ecs,
        Part::Rds,
        Part::S3,
        Part::SecretsManager,
        Part::Ecr,
    ];

    /// The part's file in the state directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Part::Sts => "sts.json",
            Part::Kms => "kms.json",
            Part::CloudTrail => "cloudtrail.json",
            Part::Logs => "logs.json",
            Part::Metrics => "metrics.json",
            Part::CloudWatch => "cloudwatch.json",
            Part::Sns => "sns.json",
            Part::Sqs => "sqs.json",
            Part::CloudFormation => "cloudformation.json",
            Part::Iam => "iam.json",
            Part::Ec2 => "ec2.json",
            Part::Elb => "elbv2.json",
            Part::Ecs => "ecs.json",
            Part::Rds => "rds.json",
            Part::S3 => "s3.json",
            Part::SecretsManager => "secretsmanager.json",
            Part::Ecr => "ecr.json",
        }
    }
}

/// Why saved state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid sandbox state: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
}

/// Where the state is kept; `None` keeps it in memory only.
#[derive(Debug, Clone)]
pub struct Store {
    dir: Option<PathBuf>,
}

impl Store {
    /// A store in `dir` (which must exist), or in memory.
    pub fn new(dir: Option<PathBuf>) -> Store {
        Store { dir }
    }

    /// Reads every part saved in the directory.
    pub fn load(&self) -> Result<SandboxState, LoadError> {
        let Some(dir) = &self.dir else {
            return Ok(SandboxState::default());
        };
        Ok(SandboxState {
            sts: read(dir, Part::Sts)?,
            kms: read(dir, Part::Kms)?,
            cloudtrail: read(dir, Part::CloudTrail)?,
            logs: read(dir, Part::Logs)?,
            metrics: read(dir, Part::Metrics)?,
            cloudwatch: read(dir, Part::CloudWatch)?,
            sns: read(dir, Part::Sns)?,
            sqs: read(dir, Part::Sqs)?,
            cloudformation: read(dir, Part::CloudFormation)?,
            iam: read(dir, Part::Iam)?,
            ec2: read(dir, Part::Ec2)?,
            elb: read(dir, Part::Elb)?,
            ecs: read(dir, Part::Ecs)?,
            rds: read(dir, Part::Rds)?,
            endpoint: String::new(),
            s3: read(dir, Part::S3)?,
            secretsmanager: read(dir, Part::SecretsManager)?,
            ecr: read(dir, Part::Ecr)?,
        })
    }

    /// Saves `parts` of `state`, each atomically.
    pub fn save(&self, state: &SandboxState, parts: &[Part]) -> std::io::Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        for part in parts {
            write_part(dir, *part, &part_json(state, *part)?)?;
        }
        Ok(())
    }
}

/// The JSON of one part of `state`, as its file holds it.
pub fn part_json(state: &SandboxState, part: Part) -> std::io::Result<Vec<u8>> {
    match part {
        Part::Sts => to_json(&state.sts),
        Part::Kms => to_json(&state.kms),
        Part::CloudTrail => to_json(&state.cloudtrail),
        Part::Logs => to_json(&state.logs),
        Part::Metrics => to_json(&state.metrics),
        Part::CloudWatch => to_json(&state.cloudwatch),
        Part::Sns => to_json(&state.sns),
        Part::Sqs => to_json(&state.sqs),
        Part::CloudFormation => to_json(&state.cloudformation),
        Part::Iam => to_json(&state.iam),
        Part::Ec2 => to_json(&state.ec2),
        Part::Elb => to_json(&state.elb),
        Part::Ecs => to_json(&state.ecs),
        Part::Rds => to_json(&state.rds),
        Part::S3 => to_json(&state.s3),
        Part::SecretsManager => to_json(&state.secretsmanager),
        Part::Ecr => to_json(&state.ecr),
    }
}

/// A service's state as the store sees it: the catalog file it is kept in
/// and the journal of its growing data.
pub trait Persisted: Serialize + Sized {
    const PART: Part;

    /// Takes the changes to growing data noted since the store last looked.
    fn take_journal(&mut self) -> Vec<Change> {
        Vec::new()
    }

    /// The catalog file's bytes.
    fn catalog_json(&self) -> std::io::Result<Vec<u8>> {
        to_json(self)
    }
}

macro_rules! persisted {
    ($($state:ty => $part:ident),* $(,)?) => {
        $(impl Persisted for $state {
            const PART: Part = Part::$part;
        })*
    };
}

persisted! {
    StsState => Sts,
    KmsState => Kms,
    CloudWatchState => CloudWatch,
    CloudFormationState => CloudFormation,
    IamState => Iam,
    Ec2State => Ec2,
    ElbState => Elb,
    EcsState => Ecs,
    RdsState => Rds,
    SecretsManagerState => SecretsManager,
    EcrState => Ecr,
}

impl Persisted for CloudTrailState {
    const PART: Part = Part::CloudTrail;
    fn take_journal(&mut self) -> Vec<Change> {
        self.journal.take()
    }
}

impl Persisted for LogsState {
    const PART: Part = Part::Logs;
    fn take_journal(&mut self) -> Vec<Change> {
        self.journal.take()
    }
}

impl Persisted for MetricStore {
    const PART: Part = Part::Metrics;
    fn take_journal(&mut self) -> Vec<Change> {
        self.journal.take()
    }
}

impl Persisted for S3State {
    const PART: Part = Part::S3;
    fn take_journal(&mut self) -> Vec<Change> {
        self.journal.take()
    }
}

impl Persisted for SnsState {
    const PART: Part = Part::Sns;
    fn take_journal(&mut self) -> Vec<Change> {
        self.journal.take()
    }
}

impl Persisted for SqsState {
    const PART: Part = Part::Sqs;
    fn take_journal(&mut self) -> Vec<Change> {
        self.queues.values_mut().flat_map(|queue| queue.journal.take()).collect()
    }
}

/// Replaces the file of `part` in `dir` with `bytes`, atomically.
pub fn write_part(dir: &Path, part: Part, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically(&dir.join(part.file_name()), bytes)
}

fn read<T: DeserializeOwned + Default>(dir: &Path, part: Part) -> Result<T, LoadError> {
    let path = dir.join(part.file_name());
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| LoadError::Parse { path, source }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(source) => Err(LoadError::Read { path, source }),
    }
}

fn to_json<T: Serialize>(value: &T) -> std::io::Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(std::io::Error::other)
}

/// Writes a temporary file beside `path`, syncs it, then renames it over
/// `path`, so a crash leaves either the old or the new file, never half.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("json.tmp");
    {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        // Owner-only: kms.json holds key material.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&temporary, path)?;
    // The rename itself is durable once the directory is synced.
    if let Some(parent) = path.parent()
        && let Ok(directory) = fs::File::open(parent)
    {
        let _ = directory.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sts::RoleSession;

    #[test]
    fn saved_parts_load_back_and_fresh_directories_are_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(Some(dir.path().to_owned()));
        let mut state = store.load().expect("empty");
        assert!(state.sts.sessions.is_empty());
        state.sts.sessions.insert(
            "ASIAEXAMPLE".into(),
            RoleSession {
                role_arn: "arn:aws:iam::111122223333:role/r".into(),
                session_name: "s".into(),
                role_id: "AROAX".into(),
                created_ms: 1,
                expiration_ms: 2,
            },
        );
        store.save(&state, &[Part::Sts]).expect("saved");
        assert!(!dir.path().join("sts.json.tmp").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.path().join("sts.json")).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let loaded = store.load().expect("loaded");
        assert_eq!(loaded.sts, state.sts);
    }

    // The services only CloudFormation fills persist like the others.
    #[test]
    fn provisioned_stores_load_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::new(Some(dir.path().to_owned()));
        let mut state = SandboxState::default();
        state.iam.roles.insert(
            "r".into(),
            crate::iam::Role {
                name: "r".into(),
                path: "/".into(),
                arn: "arn:aws:iam::111122223333:role/r".into(),
                role_id: crate::iam::role_id("111122223333", "r"),
                description: None,
                assume_role_policy_document: "{}".into(),
                max_session_duration: 3600,
                permissions_boundary: None,
                inline_policies: Default::default(),
                managed_policy_arns: Vec::new(),
                tags: Default::default(),
                create_date: 1,
            },
        );
        state.ecs.revisions.insert("family".into(), 3);
        store.save(&state, &[Part::Iam, Part::Ec2, Part::Elb, Part::Ecs, Part::Rds]).expect("saved");
        assert!(dir.path().join("iam.json").exists() && dir.path().join("elbv2.json").exists());
        let loaded = store.load().expect("loaded");
        assert_eq!(loaded.iam, state.iam);
        assert_eq!(loaded.ecs, state.ecs);
    }

    #[test]
    fn corrupt_files_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("kms.json"), b"{oops").expect("written");
        let error = Store::new(Some(dir.path().to_owned())).load().expect_err("corrupt");
        assert!(error.to_string().contains("kms.json"), "{error}");
    }
}

//! Where the sandbox's state lives: in memory only, or in a state directory
//! that survives restarts and crashes.
//!
//! A state directory holds each service's small catalog as a JSON file
//! ([`crate::state::Store`]) and the data that grows with use in an SQLite
//! database ([`db`]): CloudTrail's event history and delivery queues, log
//! events, datapoints and S3 objects, one row each. Services note what
//! they append or drop in a [`journal::Journal`]; [`Storage::persist`]
//! takes those changes and the catalogs a call changed and hands them to
//! one writer thread, which commits whatever has queued up in one
//! transaction (one fsync for many concurrent calls: group commit) and then
//! replaces the catalog files that changed. A call is answered once its
//! [`Commit`] resolves, and no lock is held while it waits.
//!
//! A directory written by an earlier release (every part a JSON file, the
//! history inline) is imported into the database on first start.

pub mod db;
pub mod journal;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::cloudtrail::EVENT_HISTORY_RETENTION_MS;
use crate::state::{self, LoadError, Part, SandboxState};
use db::{Database, DbError};
use journal::Change;

/// How often the writer deletes CloudTrail records past their retention.
const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// Most calls' changes committed in one transaction.
const MAX_GROUP: usize = 4096;

/// Why a state directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Files(#[from] LoadError),
    #[error("the sandbox database {path} cannot be used ({source}); to start afresh, move the state directory aside")]
    Database { path: PathBuf, source: DbError },
    #[error(
        "the sandbox state in {path} could not be imported ({source}); to start afresh, move the state directory aside"
    )]
    Import { path: PathBuf, source: std::io::Error },
    #[error("the sandbox's writer thread could not start: {0}")]
    Thread(std::io::Error),
}

/// Why a call's changes were not saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("the sandbox state directory is full")]
    DiskFull,
    #[error("the sandbox state could not be saved: {0}")]
    Failed(String),
    #[error("the sandbox's writer has stopped")]
    Stopped,
}

impl From<DbError> for WriteError {
    fn from(error: DbError) -> WriteError {
        if error.is_disk_full() { WriteError::DiskFull } else { WriteError::Failed(error.to_string()) }
    }
}

impl From<std::io::Error> for WriteError {
    fn from(error: std::io::Error) -> WriteError {
        if error.kind() == std::io::ErrorKind::StorageFull {
            WriteError::DiskFull
        } else {
            WriteError::Failed(error.to_string())
        }
    }
}

/// How the writer tells a caller its changes are committed.
enum Notify {
    Async(tokio::sync::oneshot::Sender<Result<(), WriteError>>),
    Blocking(mpsc::SyncSender<Result<(), WriteError>>),
}

impl Notify {
    fn send(self, outcome: Result<(), WriteError>) {
        // A caller that went away no longer needs the answer.
        let _ = match self {
            Notify::Async(sender) => sender.send(outcome).map_err(|_| ()),
            Notify::Blocking(sender) => sender.send(outcome).map_err(|_| ()),
        };
    }
}

/// One call's changes on their way to the writer.
struct Batch {
    changes: Vec<Change>,
    files: Vec<(Part, Vec<u8>)>,
    notify: Notify,
}

/// A call's changes being committed.
#[must_use = "a call is answered only once its changes are committed"]
pub enum Commit {
    /// Nothing to write (or no state directory).
    Done,
    Waiting(tokio::sync::oneshot::Receiver<Result<(), WriteError>>),
    Failed(WriteError),
}

impl Commit {
    /// Resolves once the changes are on disk.
    pub async fn wait(self) -> Result<(), WriteError> {
        match self {
            Commit::Done => Ok(()),
            Commit::Failed(error) => Err(error),
            Commit::Waiting(receiver) => receiver.await.unwrap_or(Err(WriteError::Stopped)),
        }
    }
}

/// [`Commit`] for a caller that waits on its own thread.
#[must_use = "a change is handed out only once it is committed"]
pub enum BlockingCommit {
    Done,
    Waiting(mpsc::Receiver<Result<(), WriteError>>),
    Failed(WriteError),
}

impl BlockingCommit {
    /// Blocks until the changes are on disk.
    pub fn wait(self) -> Result<(), WriteError> {
        match self {
            BlockingCommit::Done => Ok(()),
            BlockingCommit::Failed(error) => Err(error),
            BlockingCommit::Waiting(receiver) => receiver.recv().unwrap_or(Err(WriteError::Stopped)),
        }
    }
}

struct Directory {
    writer: Option<mpsc::Sender<Batch>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The sandbox's storage: in memory only, or a state directory.
pub struct Storage {
    directory: Option<Directory>,
}

impl Drop for Storage {
    /// Lets the writer finish what is queued, so that a sandbox started
    /// again on the same directory in this process reads every change.
    fn drop(&mut self) {
        if let Some(directory) = &mut self.directory {
            directory.writer.take();
            if let Some(thread) = directory.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

impl Storage {
    /// Opens `dir` (which must exist) and reads the state kept there, or
    /// keeps everything in memory.
    pub fn open(dir: Option<&Path>, size_limit: Option<u64>) -> Result<(Storage, SandboxState), OpenError> {
        let Some(dir) = dir else {
            return Ok((Storage { directory: None }, SandboxState::default()));
        };
        let files = state::Store::new(Some(dir.to_owned()));
        let mut state = files.load()?;
        let path = dir.join(db::FILE_NAME);
        let database_error = |source| OpenError::Database { path: path.clone(), source };
        let mut database = Database::open(&path).map_err(database_error)?;
        if let Some(bytes) = size_limit {
            database.limit_size(bytes).map_err(database_error)?;
        }
        if database.is_initialized().map_err(database_error)? {
            // Catalog files this release wrote hold no history; drop any a
            // crash during an import left behind (the database has it).
            take_growing_data(&mut state);
            database.load_into(&mut state).map_err(database_error)?;
        } else {
            import(dir, &files, &mut database, &mut state)?;
        }
        let _ = database.expire_trail_events(crate::clock::now_ms() - EVENT_HISTORY_RETENTION_MS);
        let reader = db::history_reader(&path).map_err(database_error)?;
        state.cloudtrail.archive = crate::cloudtrail::Archive::new(reader);
        let events = db::event_store(&path).map_err(database_error)?;
        state.logs.archive = crate::logs::EventArchive::new(events);
        let bodies = db::body_store(&path).map_err(database_error)?;
        state.s3.archive = crate::s3::BodyArchive::new(bodies);
        let (sender, receiver) = mpsc::channel();
        let writer_dir = dir.to_owned();
        let thread = std::thread::Builder::new()
            .name("sandbox-store".to_owned())
            .spawn(move || write_loop(database, &writer_dir, &receiver))
            .map_err(OpenError::Thread)?;
        let directory = Directory { writer: Some(sender), thread: Some(thread) };
        Ok((Storage { directory: Some(directory) }, state))
    }

    /// Hands what changed in `state` (its journals, and the catalogs of
    /// `parts`) to the writer; the call is durable once the returned
    /// [`Commit`] resolves. Call it with the services' locks held, so that
    /// changes reach the writer in the order they were made, and wait for
    /// the commit after releasing them.
    pub fn persist(&self, state: &mut SandboxState, parts: &[Part]) -> Commit {
        match self.send(state, parts, |notify| notify) {
            Ok(Some(Notified::Async(receiver))) => Commit::Waiting(receiver),
            Ok(_) => Commit::Done,
            Err(error) => Commit::Failed(error),
        }
    }

    /// Whether changes are kept anywhere but in memory.
    pub fn is_persistent(&self) -> bool {
        self.directory.is_some()
    }

    /// Hands what a call changed in the services it holds locked (their
    /// journals' `changes` and the catalog `files` it rewrote) to the
    /// writer; as [`Storage::persist`], call it before releasing those
    /// locks, so that each service's changes reach the writer in order.
    pub fn persist_changes(&self, changes: Vec<Change>, files: Vec<(Part, Vec<u8>)>) -> Commit {
        let Some(directory) = &self.directory else {
            return Commit::Done;
        };
        if changes.is_empty() && files.is_empty() {
            return Commit::Done;
        }
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let Some(writer) = directory.writer.as_ref() else {
            return Commit::Failed(WriteError::Stopped);
        };
        match writer.send(Batch { changes, files, notify: Notify::Async(sender) }) {
            Ok(()) => Commit::Waiting(receiver),
            Err(_) => Commit::Failed(WriteError::Stopped),
        }
    }

    /// Resolves once every change handed to the writer before it is
    /// committed (the writer commits in order): an empty batch through the
    /// same queue.
    pub fn barrier(&self) -> Commit {
        let Some(directory) = &self.directory else {
            return Commit::Done;
        };
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let Some(writer) = directory.writer.as_ref() else {
            return Commit::Failed(WriteError::Stopped);
        };
        match writer.send(Batch { changes: Vec::new(), files: Vec::new(), notify: Notify::Async(sender) }) {
            Ok(()) => Commit::Waiting(receiver),
            Err(_) => Commit::Failed(WriteError::Stopped),
        }
    }

    /// [`Storage::persist_changes`] for a caller that waits on its own
    /// thread (outside the async runtime's work).
    pub fn persist_changes_blocking(&self, changes: Vec<Change>, files: Vec<(Part, Vec<u8>)>) -> BlockingCommit {
        let Some(directory) = &self.directory else {
            return BlockingCommit::Done;
        };
        if changes.is_empty() && files.is_empty() {
            return BlockingCommit::Done;
        }
        let (sender, receiver) = mpsc::sync_channel(1);
        let Some(writer) = directory.writer.as_ref() else {
            return BlockingCommit::Failed(WriteError::Stopped);
        };
        match writer.send(Batch { changes, files, notify: Notify::Blocking(sender) }) {
            Ok(()) => BlockingCommit::Waiting(receiver),
            Err(_) => BlockingCommit::Failed(WriteError::Stopped),
        }
    }

    /// [`Storage::persist`], waiting on this thread for the commit (for
    /// changes made outside a request).
    pub fn persist_blocking(&self, state: &mut SandboxState, parts: &[Part]) -> Result<(), WriteError> {
        match self.send(state, parts, |_| Wanted::Blocking)? {
            Some(Notified::Blocking(receiver)) => receiver.recv().unwrap_or(Err(WriteError::Stopped)),
            _ => Ok(()),
        }
    }

    fn send(
        &self,
        state: &mut SandboxState,
        parts: &[Part],
        wanted: impl FnOnce(Wanted) -> Wanted,
    ) -> Result<Option<Notified>, WriteError> {
        let changes = take_journals(state);
        let Some(directory) = &self.directory else {
            return Ok(None);
        };
        let mut files = Vec::new();
        let mut seen: Vec<Part> = Vec::new();
        for &part in parts {
            // Datapoints are all rows: metrics.json is no longer written.
            if part == Part::Metrics || seen.contains(&part) {
                continue;
            }
            seen.push(part);
            files.push((part, state::part_json(state, part)?));
        }
        if changes.is_empty() && files.is_empty() {
            return Ok(None);
        }
        let (notify, notified) = match wanted(Wanted::Async) {
            Wanted::Async => {
                let (sender, receiver) = tokio::sync::oneshot::channel();
                (Notify::Async(sender), Notified::Async(receiver))
            }
            Wanted::Blocking => {
                let (sender, receiver) = mpsc::sync_channel(1);
                (Notify::Blocking(sender), Notified::Blocking(receiver))
            }
        };
        let writer = directory.writer.as_ref().ok_or(WriteError::Stopped)?;
        writer.send(Batch { changes, files, notify }).map_err(|_| WriteError::Stopped)?;
        Ok(Some(notified))
    }
}

enum Wanted {
    Async,
    Blocking,
}

enum Notified {
    Async(tokio::sync::oneshot::Receiver<Result<(), WriteError>>),
    Blocking(mpsc::Receiver<Result<(), WriteError>>),
}

/// Takes every service's journal, in a fixed order.
fn take_journals(state: &mut SandboxState) -> Vec<Change> {
    use crate::state::Persisted as _;
    let mut changes = state.cloudtrail.take_journal();
    changes.extend(state.logs.take_journal());
    changes.extend(state.metrics.take_journal());
    changes.extend(state.s3.take_journal());
    changes.extend(state.sqs.take_journal());
    changes.extend(state.sns.take_journal());
    changes
}

/// Takes the growing data out of `state`, as changes that insert it.
fn take_growing_data(state: &mut SandboxState) -> Vec<Change> {
    let mut changes = Vec::new();
    let cloudtrail = &mut state.cloudtrail;
    for record in std::mem::take(&mut cloudtrail.history) {
        let event_time = crate::cloudtrail::api::event_time(&record.json());
        changes.push(Change::TrailEvent { event_time, record: record.text });
    }
    changes.extend(std::mem::take(&mut cloudtrail.pending).into_iter().map(Change::TrailDelivery));
    changes.extend(std::mem::take(&mut cloudtrail.pending_files).into_iter().map(Change::TrailLogFileRecord));
    for (region, groups) in &mut state.logs.regions {
        for group in groups.values_mut() {
            for stream in group.streams.values_mut() {
                for event in std::mem::take(&mut stream.events) {
                    changes.push(Change::LogEvent {
                        region: region.clone(),
                        group: group.name.clone(),
                        stream: stream.name.clone(),
                        event,
                    });
                }
            }
        }
    }
    changes.extend(state.metrics.take_all().into_iter().map(Change::Datapoint));
    for bucket in state.s3.buckets.values_mut() {
        for object in std::mem::take(&mut bucket.objects).into_values() {
            changes.push(Change::ObjectPut { bucket: bucket.name.clone(), object });
        }
    }
    changes.extend(std::mem::take(&mut state.sns.outbox).into_iter().map(Change::SnsEmail));
    for queue in state.sqs.queues.values_mut() {
        let key = queue.key();
        for message in std::mem::take(&mut queue.messages) {
            changes.push(Change::SqsMessage { queue: key.clone(), message });
        }
    }
    take_journals(state);
    changes
}

/// Imports a directory an earlier release wrote (or a fresh one): its
/// growing data goes into the database in one transaction, which marks the
/// database as holding the state; then the catalog files are rewritten
/// without it. A crash before the commit imports again on the next start;
/// a crash after it leaves files whose inline history is ignored.
fn import(
    dir: &Path,
    files: &state::Store,
    database: &mut Database,
    state: &mut SandboxState,
) -> Result<(), OpenError> {
    let import_error = |source| OpenError::Import { path: dir.to_owned(), source };
    let changes = take_growing_data(state);
    let imported = !changes.is_empty();
    database.apply(&changes, true).map_err(|source| OpenError::Database { path: dir.join(db::FILE_NAME), source })?;
    database.load_into(state).map_err(|source| OpenError::Database { path: dir.join(db::FILE_NAME), source })?;
    if imported {
        let present: Vec<Part> = Part::ALL
            .into_iter()
            .filter(|part| *part != Part::Metrics && dir.join(part.file_name()).exists())
            .collect();
        files.save(state, &present).map_err(import_error)?;
        match std::fs::remove_file(dir.join(Part::Metrics.file_name())) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(import_error(error)),
            _ => {}
        }
        tracing::info!(dir = %dir.display(), rows = changes.len(), "sandbox state imported into its database");
    }
    Ok(())
}

/// The writer thread: commits queued calls' changes in groups, then writes
/// the catalog files they changed, and tells each call the outcome. Changes
/// that could not be written are kept and tried again with the next group,
/// so a full disk loses nothing that a later commit can save.
fn write_loop(mut database: Database, dir: &Path, receiver: &mpsc::Receiver<Batch>) {
    let mut retry_changes: Vec<Change> = Vec::new();
    let mut retry_files: BTreeMap<Part, Vec<u8>> = BTreeMap::new();
    // The bytes each catalog file holds, to skip rewriting it unchanged.
    let mut written: BTreeMap<Part, u64> = BTreeMap::new();
    let mut last_sweep = Instant::now();
    while let Ok(first) = receiver.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(batch) => group.push(batch),
                Err(_) => break,
            }
        }
        let mut changes = std::mem::take(&mut retry_changes);
        let mut files = std::mem::take(&mut retry_files);
        let mut notifies = Vec::with_capacity(group.len());
        for batch in group {
            changes.extend(batch.changes);
            files.extend(batch.files);
            notifies.push(batch.notify);
        }
        let outcome = match database.apply(&changes, false) {
            Err(error) => {
                tracing::error!(%error, "the sandbox state could not be saved");
                retry_changes = changes;
                retry_files = files;
                Err(WriteError::from(error))
            }
            Ok(()) => write_files(dir, files, &mut written, &mut retry_files),
        };
        for notify in notifies {
            notify.send(outcome.clone());
        }
        if last_sweep.elapsed() >= SWEEP_INTERVAL {
            last_sweep = Instant::now();
            if let Err(error) = database.expire_trail_events(crate::clock::now_ms() - EVENT_HISTORY_RETENTION_MS) {
                tracing::warn!(%error, "expired CloudTrail records could not be deleted");
            }
        }
    }
}

/// Writes the catalog files in `files` whose bytes changed; those that fail
/// go to `retry`.
fn write_files(
    dir: &Path,
    files: BTreeMap<Part, Vec<u8>>,
    written: &mut BTreeMap<Part, u64>,
    retry: &mut BTreeMap<Part, Vec<u8>>,
) -> Result<(), WriteError> {
    let mut outcome = Ok(());
    for (part, bytes) in files {
        let digest = digest(&bytes);
        if written.get(&part) == Some(&digest) {
            continue;
        }
        match state::write_part(dir, part, &bytes) {
            Ok(()) => {
                written.insert(part, digest);
            }
            Err(error) => {
                tracing::error!(%error, file = part.file_name(), "the sandbox state could not be saved");
                written.remove(&part);
                retry.insert(part, bytes);
                outcome = Err(WriteError::from(error));
            }
        }
    }
    outcome
}

fn digest(bytes: &[u8]) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

//! SQLite: the pool, its settings, and the migrations applied at start-up.
//! Each table has a module of its own with explicit-column queries.

pub mod accounts;
pub mod adopted_labs;
pub mod alarm_history;
pub mod attack_runs;
pub mod audit;
pub mod connection_checks;
pub mod connection_choice;
pub mod deployments;
pub mod history_retention;
pub mod login_failures;
pub mod maintenance_windows;
pub mod notifications;
pub mod poller_cursors;
pub mod responses;
pub mod sessions;
pub mod stack_events;
pub mod teardowns;
pub mod threshold_changes;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database {path}: {source}")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("cannot create the database directory {path}: {source}")]
    Directory { path: PathBuf, source: std::io::Error },
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the database holds a value Keywatch does not know: {0}")]
    Corrupt(String),
}

/// Creates missing directories readable by their owner alone (0700);
/// existing ones are left as they are (the database may live in a shared
/// directory the user chose).
fn private_dir_builder() -> std::fs::DirBuilder {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
}

/// Creates the database file as 0600, or narrows an existing one to it:
/// it holds the session digests and the audit log. SQLite gives its -wal
/// and -shm files the database file's permissions.
fn owner_only_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The console's database.
#[derive(Debug, Clone)]
pub struct Database {
    pool: SqlitePool,
}

impl Database {
    /// Opens (creating if needed) the database at `path` and applies pending
    /// migrations.
    pub async fn open(path: &Path) -> Result<Database, DbError> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            private_dir_builder()
                .create(parent)
                .map_err(|source| DbError::Directory { path: parent.to_path_buf(), source })?;
        }
        owner_only_file(path).map_err(|source| DbError::Directory { path: path.to_path_buf(), source })?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // WAL lets the pages read while pollers write; NORMAL is durable
            // across application crashes in WAL mode, which is what we need.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|source| DbError::Open { path: path.to_path_buf(), source })?;
        sqlx::migrate!("../migrations").run(&pool).await?;
        Ok(Database { pool })
    }

    /// The `connection_checks` table.
    pub fn connection_checks(&self) -> connection_checks::ConnectionChecks<'_> {
        connection_checks::ConnectionChecks::new(&self.pool)
    }

    /// The `connection_choice` table.
    pub fn connection_choice(&self) -> connection_choice::ConnectionChoice<'_> {
        connection_choice::ConnectionChoice::new(&self.pool)
    }

    /// The `maintenance_windows` and `muted_alarms` tables.
    pub fn maintenance_windows(&self) -> maintenance_windows::MaintenanceWindows<'_> {
        maintenance_windows::MaintenanceWindows::new(&self.pool)
    }

    /// The `response_playbooks` and `responses` tables.
    pub fn responses(&self) -> responses::Responses<'_> {
        responses::Responses::new(&self.pool)
    }

    /// The `adopted_labs` table.
    pub fn adopted_labs(&self) -> adopted_labs::AdoptedLabs<'_> {
        adopted_labs::AdoptedLabs::new(&self.pool)
    }

    /// The `deployments` table.
    pub fn deployments(&self) -> deployments::Deployments<'_> {
        deployments::Deployments::new(&self.pool)
    }

    /// The `teardowns` table.
    pub fn teardowns(&self) -> teardowns::Teardowns<'_> {
        teardowns::Teardowns::new(&self.pool)
    }

    /// The `stack_events` table.
    pub fn stack_events(&self) -> stack_events::StackEvents<'_> {
        stack_events::StackEvents::new(&self.pool)
    }

    /// The `alarm_history` table.
    pub fn alarm_history(&self) -> alarm_history::AlarmHistory<'_> {
        alarm_history::AlarmHistory::new(&self.pool)
    }

    /// The `notifications` table.
    pub fn notifications(&self) -> notifications::Notifications<'_> {
        notifications::Notifications::new(&self.pool)
    }

    /// The `poller_cursors` table.
    pub fn poller_cursors(&self) -> poller_cursors::PollerCursors<'_> {
        poller_cursors::PollerCursors::new(&self.pool)
    }

    /// The `history_retention` table.
    pub fn history_retention(&self) -> history_retention::HistoryRetention<'_> {
        history_retention::HistoryRetention::new(&self.pool)
    }

    /// Answers when SQLite does (`/healthz`'s readiness check).
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The `admin_account` table.
    pub fn accounts(&self) -> accounts::Accounts<'_> {
        accounts::Accounts::new(&self.pool)
    }

    /// The `login_failures` table.
    pub fn login_failures(&self) -> login_failures::LoginFailures<'_> {
        login_failures::LoginFailures::new(&self.pool)
    }

    /// The `sessions` table.
    pub fn sessions(&self) -> sessions::Sessions<'_> {
        sessions::Sessions::new(&self.pool)
    }

    /// The audit log: every mutation, recorded through [`audit::AuditLog::record`].
    pub fn audit(&self) -> audit::AuditLog<'_> {
        audit::AuditLog::new(&self.pool)
    }

    /// The `attack_runs` and `attack_responses` tables.
    pub fn attack_runs(&self) -> attack_runs::AttackRuns<'_> {
        attack_runs::AttackRuns::new(&self.pool)
    }

    /// The `threshold_changes` table.
    pub fn threshold_changes(&self) -> threshold_changes::ThresholdChanges<'_> {
        threshold_changes::ThresholdChanges::new(&self.pool)
    }

    /// Closes the pool, waiting for in-flight writes to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

//! The `response_playbooks` and `responses` tables: what Keywatch does when
//! a managed alarm fires, and each response it made, one per alarm episode
//! and playbook (the table's UNIQUE key keeps it to one across restarts).

use keywatch_domain::response::{Playbook, ResponseMode, ResponseStatus};
use sqlx::SqlitePool;

use super::DbError;

/// Queries on `response_playbooks` and `responses`.
pub struct Responses<'a> {
    pool: &'a SqlitePool,
}

/// One alarm's playbook and its settings.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PlaybookSetting {
    pub alarm_name: String,
    #[sqlx(try_from = "String")]
    pub playbook: Playbook,
    #[sqlx(try_from = "String")]
    pub mode: ResponseMode,
    /// The role contain-role denies.
    pub role_arn: Option<String>,
    pub key_arn: String,
}

/// One response, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Response {
    pub id: i64,
    pub alarm_name: String,
    pub episode_ms: i64,
    #[sqlx(try_from = "String")]
    pub playbook: Playbook,
    #[sqlx(try_from = "String")]
    pub mode: ResponseMode,
    pub role_arn: Option<String>,
    pub key_arn: String,
    #[sqlx(try_from = "String")]
    pub status: ResponseStatus,
    pub created_at_ms: i64,
    pub decided_by: Option<String>,
    pub done_at_ms: Option<i64>,
    pub reverted_by: Option<String>,
    pub reverted_at_ms: Option<i64>,
    pub detail: Option<String>,
}

/// An alarm episode a playbook has not responded to yet.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Episode {
    #[sqlx(flatten)]
    pub setting: PlaybookSetting,
    pub episode_ms: i64,
}

/// The columns of [`Response`] (a macro, so that queries stay static strings).
macro_rules! response_columns {
    () => {
        "id, alarm_name, episode_ms, playbook, mode, role_arn, key_arn, status, created_at_ms, decided_by, \
         done_at_ms, reverted_by, reverted_at_ms, detail"
    };
}

impl<'a> Responses<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        Responses { pool }
    }

    /// Sets an alarm's playbook. A new one responds to episodes from `now_ms`
    /// on; a changed one keeps its start, so an episode the old setting saw
    /// is not answered again.
    pub async fn set_playbook(&self, setting: &PlaybookSetting, user: &str, now_ms: i64) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO response_playbooks (alarm_name, playbook, mode, role_arn, key_arn, enabled_at_ms, updated_by)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (alarm_name, playbook) DO UPDATE SET
                 mode = excluded.mode, role_arn = excluded.role_arn, key_arn = excluded.key_arn,
                 updated_by = excluded.updated_by",
        )
        .bind(&setting.alarm_name)
        .bind(setting.playbook.as_str())
        .bind(setting.mode.as_str())
        .bind(&setting.role_arn)
        .bind(&setting.key_arn)
        .bind(now_ms)
        .bind(user)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Removes an alarm's playbook; its responses stay recorded.
    pub async fn remove_playbook(&self, alarm_name: &str, playbook: Playbook) -> Result<bool, DbError> {
        let done = sqlx::query("DELETE FROM response_playbooks WHERE alarm_name = ? AND playbook = ?")
            .bind(alarm_name)
            .bind(playbook.as_str())
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The alarm's playbooks.
    pub async fn playbooks(&self, alarm_name: &str) -> Result<Vec<PlaybookSetting>, DbError> {
        Ok(sqlx::query_as::<_, PlaybookSetting>(
            "SELECT alarm_name, playbook, mode, role_arn, key_arn FROM response_playbooks
             WHERE alarm_name = ? ORDER BY playbook",
        )
        .bind(alarm_name)
        .fetch_all(self.pool)
        .await?)
    }

    /// The stored transitions into ALARM that a playbook set before them has
    /// not answered yet, oldest first.
    pub async fn unanswered_episodes(&self) -> Result<Vec<Episode>, DbError> {
        Ok(sqlx::query_as::<_, Episode>(
            "SELECT p.alarm_name, p.playbook, p.mode, p.role_arn, p.key_arn, h.timestamp_ms AS episode_ms
             FROM response_playbooks p
             JOIN alarm_history h ON h.alarm_name = p.alarm_name
             WHERE h.item_type = 'StateUpdate' AND h.new_state = 'ALARM' AND h.timestamp_ms >= p.enabled_at_ms
               AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.alarm_name = p.alarm_name
                               AND r.episode_ms = h.timestamp_ms AND r.playbook = p.playbook)
             ORDER BY h.timestamp_ms, p.playbook",
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// Records the response to an episode in `status`; `None` when the
    /// episode already has one (another round, or another process, got there
    /// first).
    pub async fn insert(
        &self,
        episode: &Episode,
        status: ResponseStatus,
        detail: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<i64>, DbError> {
        let setting = &episode.setting;
        let done = sqlx::query(
            "INSERT OR IGNORE INTO responses
                 (alarm_name, episode_ms, playbook, mode, role_arn, key_arn, status, created_at_ms, detail)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&setting.alarm_name)
        .bind(episode.episode_ms)
        .bind(setting.playbook.as_str())
        .bind(setting.mode.as_str())
        .bind(&setting.role_arn)
        .bind(&setting.key_arn)
        .bind(status.as_str())
        .bind(now_ms)
        .bind(detail)
        .execute(self.pool)
        .await?;
        Ok((done.rows_affected() > 0).then(|| done.last_insert_rowid()))
    }

    /// One response.
    pub async fn get(&self, id: i64) -> Result<Option<Response>, DbError> {
        let row =
            sqlx::query_as::<_, Response>(concat!("SELECT ", response_columns!(), " FROM responses WHERE id = ?"))
                .bind(id)
                .fetch_optional(self.pool)
                .await?;
        Ok(row)
    }

    /// The newest `limit` responses, of one alarm or all.
    pub async fn newest(&self, alarm_name: Option<&str>, limit: u32) -> Result<Vec<Response>, DbError> {
        let rows = sqlx::query_as::<_, Response>(concat!(
            "SELECT ",
            response_columns!(),
            " FROM responses WHERE (?1 IS NULL OR alarm_name = ?1) ORDER BY created_at_ms DESC, id DESC LIMIT ?2"
        ))
        .bind(alarm_name)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        Ok(rows)
    }

    /// The responses whose AWS calls are to be made, oldest first.
    pub async fn approved(&self) -> Result<Vec<Response>, DbError> {
        let rows = sqlx::query_as::<_, Response>(concat!(
            "SELECT ",
            response_columns!(),
            " FROM responses WHERE status = 'approved' ORDER BY id"
        ))
        .fetch_all(self.pool)
        .await?;
        Ok(rows)
    }

    /// Moves a response from `from` to `to` for `user`'s decision; false when
    /// it was no longer in `from` (someone else decided first).
    pub async fn decide(
        &self,
        id: i64,
        from: ResponseStatus,
        to: ResponseStatus,
        user: &str,
        now_ms: i64,
    ) -> Result<bool, DbError> {
        let query = if to == ResponseStatus::Reverted {
            "UPDATE responses SET status = ?, reverted_by = ?, reverted_at_ms = ? WHERE id = ? AND status = ?"
        } else {
            "UPDATE responses SET status = ?, decided_by = ?, decided_at_ms = ? WHERE id = ? AND status = ?"
        };
        let done = sqlx::query(query)
            .bind(to.as_str())
            .bind(user)
            .bind(now_ms)
            .bind(id)
            .bind(from.as_str())
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records how an approved response's AWS calls ended.
    pub async fn finish(
        &self,
        id: i64,
        status: ResponseStatus,
        detail: Option<&str>,
        now_ms: i64,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE responses SET status = ?, detail = ?, done_at_ms = CASE WHEN ? = 'done' THEN ? ELSE done_at_ms END
             WHERE id = ? AND status = 'approved'",
        )
        .bind(status.as_str())
        .bind(detail)
        .bind(status.as_str())
        .bind(now_ms)
        .bind(id)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Notes why a revert's AWS calls failed; the response stays as it was.
    pub async fn note(&self, id: i64, detail: &str) -> Result<(), DbError> {
        sqlx::query("UPDATE responses SET detail = ? WHERE id = ?").bind(detail).bind(id).execute(self.pool).await?;
        Ok(())
    }
}

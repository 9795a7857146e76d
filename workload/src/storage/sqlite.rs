//! The SQLite store: a local file, used whenever no MySQL database is set
//! (development, tests, the sandbox's in-process ECS service).

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use super::{CiphertextStore, StorageError};

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS encrypted_texts (
    name TEXT PRIMARY KEY NOT NULL,
    ciphertext TEXT NOT NULL
)";
const UPSERT: &str = "INSERT INTO encrypted_texts (name, ciphertext) VALUES (?1, ?2)
    ON CONFLICT (name) DO UPDATE SET ciphertext = excluded.ciphertext";
const SELECT: &str = "SELECT ciphertext FROM encrypted_texts WHERE name = ?1";

/// Ciphertexts in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path`.
    pub async fn open(path: &Path) -> Result<SqliteStore, StorageError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // WAL lets reads proceed while a write is in progress.
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::query(CREATE_TABLE).execute(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

#[async_trait::async_trait]
impl CiphertextStore for SqliteStore {
    async fn put(&self, name: &str, ciphertext: &str) -> Result<(), StorageError> {
        sqlx::query(UPSERT).bind(name).bind(ciphertext).execute(&self.pool).await?;
        Ok(())
    }

    async fn get(&self, name: &str) -> Result<Option<String>, StorageError> {
        Ok(sqlx::query_scalar(SELECT).bind(name).fetch_optional(&self.pool).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn upserts_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("db.sqlite")).await.expect("open");
        assert_eq!(store.get("bob").await.expect("get"), None);
        store.put("bob", "one").await.expect("put");
        store.put("bob", "two").await.expect("put");
        store.put("Bob", "three").await.expect("put");
        assert_eq!(store.get("bob").await.expect("get").as_deref(), Some("two"));
        assert_eq!(store.get("Bob").await.expect("get").as_deref(), Some("three"));
    }
}

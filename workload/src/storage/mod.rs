//! Where ciphertexts live: one row per Name, replaced on every encrypt.
//! Every statement is a constant with bound parameters; user input never
//! becomes SQL text (sqlx 0.9's `query` only accepts `&'static str` SQL).

mod mysql;
mod sqlite;

use std::sync::Arc;

pub use mysql::{DatabaseSecret, MysqlStore, SecretError};
pub use sqlite::SqliteStore;

use crate::config::StorageConfig;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database credentials cannot be read: {0}")]
    Secret(#[from] SecretError),
}

/// The ciphertexts of the lab's users, by Name.
#[async_trait::async_trait]
pub trait CiphertextStore: Send + Sync + 'static {
    /// Stores `ciphertext` (base64) under `name`, replacing what was there.
    async fn put(&self, name: &str, ciphertext: &str) -> Result<(), StorageError>;
    /// The ciphertext stored under `name`, if any.
    async fn get(&self, name: &str) -> Result<Option<String>, StorageError>;
}

/// Opens the store `config` names, creating its table if missing. The SDK
/// configuration is used to read MySQL credentials from Secrets Manager.
pub async fn open(
    config: &StorageConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<Arc<dyn CiphertextStore>, StorageError> {
    Ok(match config {
        StorageConfig::Sqlite { path } => Arc::new(SqliteStore::open(path).await?),
        StorageConfig::Mysql(mysql) => {
            Arc::new(MysqlStore::open(mysql.clone(), aws_sdk_secretsmanager::Client::new(sdk)).await?)
        }
    })
}

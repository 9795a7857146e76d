//! The MySQL store: the lab's RDS database. Credentials come from the
//! Secrets Manager secret once at start, and again only when MySQL refuses
//! them (the secret was rotated), never per request as the original app did.

use std::future::Future;
use std::sync::RwLock;

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use serde::Deserialize;
use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlPoolOptions, MySqlSslMode};

use super::{CiphertextStore, StorageError};
use crate::config::MysqlConfig;

/// MySQL's port when neither `DBHOST` nor the secret names one.
const DEFAULT_MYSQL_PORT: u16 = 3306;

/// MySQL's "access denied" errors: ER_ACCESS_DENIED_ERROR and
/// ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
const ACCESS_DENIED: [u16; 2] = [1045, 1698];

// utf8mb4_bin: Names compare byte for byte, as in SQLite, so "Bob" and "bob"
// are different users and any Unicode round-trips unchanged.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS encrypted_texts (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    ciphertext TEXT NOT NULL
) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin";
// VALUES() rather than the row-alias syntax: it also works on MySQL 5.7
// and MariaDB, at the cost of a deprecation note on MySQL 8.0.20+.
const UPSERT: &str = "INSERT INTO encrypted_texts (name, ciphertext) VALUES (?, ?)
    ON DUPLICATE KEY UPDATE ciphertext = VALUES(ciphertext)";
const SELECT: &str = "SELECT ciphertext FROM encrypted_texts WHERE name = ?";

/// Why the database credentials could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("Secrets Manager GetSecretValue failed: {0}")]
    Unavailable(String),
    #[error("the secret has no SecretString (binary secrets are not supported)")]
    NotText,
    #[error("the secret is not the JSON {{\"username\", \"password\"}} RDS uses: {0}")]
    Malformed(String),
    #[error("no database name: set DBNAME or put dbname in the secret")]
    NoDatabase,
    #[error("DBHOST {0:?} has a port that is not a number")]
    InvalidHost(String),
}

/// The fields of an RDS database secret the workload uses. Secrets created
/// by CloudFormation hold only username and password; secrets attached to
/// an instance also carry host, port and dbname.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct DatabaseSecret {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default, deserialize_with = "port_number_or_text")]
    pub port: Option<u16>,
    #[serde(default)]
    pub dbname: Option<String>,
}

impl std::fmt::Debug for DatabaseSecret {
    /// Never prints the password (the secret may end up in a log line).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSecret")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .finish()
    }
}

/// RDS writes the port as a number; hand-made secrets often quote it.
fn port_number_or_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u16>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Port {
        Number(u16),
        Text(String),
    }
    match Option::<Port>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Port::Number(port)) => Ok(Some(port)),
        Some(Port::Text(text)) => text.trim().parse().map(Some).map_err(serde::de::Error::custom),
    }
}

impl DatabaseSecret {
    /// Parses a SecretString.
    pub fn parse(secret_string: &str) -> Result<DatabaseSecret, SecretError> {
        // serde_json's message names the line and column, never the value.
        serde_json::from_str(secret_string).map_err(|error| SecretError::Malformed(error.to_string()))
    }

    /// The connection settings for `config` signed in as this secret's user.
    /// `DBHOST` (which may carry `:port`) and `DBNAME` win over the secret.
    pub fn connect_options(&self, config: &MysqlConfig) -> Result<MySqlConnectOptions, SecretError> {
        let (host, port) = match config.host.rsplit_once(':') {
            Some((host, port)) => {
                (host, Some(port.parse::<u16>().map_err(|_| SecretError::InvalidHost(config.host.clone()))?))
            }
            None => (config.host.as_str(), None),
        };
        let database = config.database.as_deref().or(self.dbname.as_deref()).ok_or(SecretError::NoDatabase)?;
        Ok(MySqlConnectOptions::new()
            .host(host)
            .port(port.or(self.port).unwrap_or(DEFAULT_MYSQL_PORT))
            .username(&self.username)
            .password(&self.password)
            .database(database)
            // RDS offers TLS: use it when the server does, without pinning
            // the RDS certificate authority into the image.
            .ssl_mode(MySqlSslMode::Preferred))
    }
}

/// Whether MySQL refused the credentials (as opposed to any other failure).
/// sqlx's pool hands a refusal while connecting back as this database error
/// itself, not as a pool timeout, so it is seen on the request that met it.
fn is_access_denied(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.try_downcast_ref::<MySqlDatabaseError>())
        .is_some_and(|error| ACCESS_DENIED.contains(&error.number()))
}

/// Ciphertexts in the lab's MySQL database.
#[derive(Debug)]
pub struct MysqlStore {
    config: MysqlConfig,
    secrets: aws_sdk_secretsmanager::Client,
    /// The pool for the credentials last read, with a generation number so
    /// concurrent requests that all hit a rotation re-read the secret once.
    current: RwLock<(u64, MySqlPool)>,
    refreshing: tokio::sync::Mutex<()>,
}

impl MysqlStore {
    /// Reads the credentials, connects and creates the table if missing.
    pub async fn open(
        config: MysqlConfig,
        secrets: aws_sdk_secretsmanager::Client,
    ) -> Result<MysqlStore, StorageError> {
        let pool = connect(&config, &secrets).await?;
        let store =
            MysqlStore { config, secrets, current: RwLock::new((0, pool)), refreshing: tokio::sync::Mutex::new(()) };
        store.with_retry(|pool| async move { sqlx::query(CREATE_TABLE).execute(&pool).await.map(|_| ()) }).await?;
        Ok(store)
    }

    fn current(&self) -> (u64, MySqlPool) {
        // A poisoned lock still holds a valid pool: the write is a swap.
        let guard = self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        (guard.0, guard.1.clone())
    }

    /// Re-reads the secret and reconnects, unless another request already
    /// did so since `seen` was current.
    async fn refresh(&self, seen: u64) -> Result<MySqlPool, StorageError> {
        let _only_one = self.refreshing.lock().await;
        let (generation, pool) = self.current();
        if generation != seen {
            return Ok(pool);
        }
        tracing::warn!(secret = %self.config.secret_id, "MySQL refused the credentials: re-reading the secret");
        let fresh = connect(&self.config, &self.secrets).await?;
        let old = {
            let mut guard = self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            std::mem::replace(&mut *guard, (generation + 1, fresh.clone())).1
        };
        tokio::spawn(async move { old.close().await });
        Ok(fresh)
    }

    /// Runs `operation`; if MySQL refuses the credentials, re-reads them and
    /// runs it once more.
    async fn with_retry<T, F, Fut>(&self, operation: F) -> Result<T, StorageError>
    where
        F: Fn(MySqlPool) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        let (generation, pool) = self.current();
        match operation(pool).await {
            Err(error) if is_access_denied(&error) => {
                let pool = self.refresh(generation).await?;
                Ok(operation(pool).await?)
            }
            result => Ok(result?),
        }
    }
}

/// Reads the secret and opens a pool with it.
async fn connect(config: &MysqlConfig, secrets: &aws_sdk_secretsmanager::Client) -> Result<MySqlPool, StorageError> {
    let secret = read_secret(secrets, &config.secret_id).await?;
    let options = secret.connect_options(config)?;
    Ok(MySqlPoolOptions::new().max_connections(5).connect_with(options).await?)
}

async fn read_secret(secrets: &aws_sdk_secretsmanager::Client, secret_id: &str) -> Result<DatabaseSecret, SecretError> {
    let output = secrets
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|error| SecretError::Unavailable(DisplayErrorContext(&error).to_string()))?;
    DatabaseSecret::parse(output.secret_string().ok_or(SecretError::NotText)?)
}

#[async_trait::async_trait]
impl CiphertextStore for MysqlStore {
    async fn put(&self, name: &str, ciphertext: &str) -> Result<(), StorageError> {
        self.with_retry(|pool| async move {
            sqlx::query(UPSERT).bind(name).bind(ciphertext).execute(&pool).await.map(|_| ())
        })
        .await
    }

    async fn get(&self, name: &str) -> Result<Option<String>, StorageError> {
        self.with_retry(|pool| async move { sqlx::query_scalar(SELECT).bind(name).fetch_optional(&pool).await }).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(host: &str, database: Option<&str>) -> MysqlConfig {
        MysqlConfig { host: host.into(), secret_id: "db-secret".into(), database: database.map(str::to_owned) }
    }

    #[test]
    fn parses_the_secrets_rds_and_cloudformation_write() {
        let generated = DatabaseSecret::parse(r#"{"username":"admin","password":"p\"w'd"}"#).expect("parse");
        assert_eq!(generated.username, "admin");
        assert_eq!(generated.password, "p\"w'd");
        assert_eq!((generated.host, generated.port, generated.dbname), (None, None, None));
        let attached = DatabaseSecret::parse(
            r#"{"username":"admin","password":"x","engine":"mysql","host":"db.rds","port":3306,"dbname":"lab"}"#,
        )
        .expect("parse");
        assert_eq!(attached.port, Some(3306));
        assert_eq!(attached.dbname.as_deref(), Some("lab"));
        let quoted = DatabaseSecret::parse(r#"{"username":"a","password":"b","port":"3307"}"#).expect("parse");
        assert_eq!(quoted.port, Some(3307));
    }

    #[test]
    fn rejects_malformed_secrets_without_echoing_them() {
        for text in [r#"{"username":"admin"}"#, "hunter2", r#"{"username":"a","password":"hunter2","port":"x"}"#] {
            let error = DatabaseSecret::parse(text).expect_err(text);
            assert!(matches!(error, SecretError::Malformed(_)), "{error:?}");
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let secret = DatabaseSecret::parse(r#"{"username":"admin","password":"hunter2"}"#).expect("parse");
        let shown = format!("{secret:?}");
        assert!(shown.contains("admin") && !shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn connect_options_prefer_the_environment() {
        let secret = DatabaseSecret::parse(r#"{"username":"admin","password":"x","port":3307,"dbname":"fromsecret"}"#)
            .expect("parse");
        let options = secret.connect_options(&config("db.rds", Some("pattern1"))).expect("options");
        assert_eq!(options.get_host(), "db.rds");
        assert_eq!(options.get_port(), 3307);
        assert_eq!(options.get_username(), "admin");
        assert_eq!(options.get_database(), Some("pattern1"));
        assert!(matches!(options.get_ssl_mode(), MySqlSslMode::Preferred));

        let options = secret.connect_options(&config("db.rds:3310", None)).expect("options");
        assert_eq!(options.get_port(), 3310);
        assert_eq!(options.get_database(), Some("fromsecret"));
    }

    #[test]
    fn connect_options_need_a_database_and_a_numeric_port() {
        let secret = DatabaseSecret::parse(r#"{"username":"admin","password":"x"}"#).expect("parse");
        let options = secret.connect_options(&config("db.rds", Some("pattern1"))).expect("options");
        assert_eq!(options.get_port(), DEFAULT_MYSQL_PORT);
        assert!(matches!(secret.connect_options(&config("db.rds", None)), Err(SecretError::NoDatabase)));
        assert!(matches!(secret.connect_options(&config("db.rds:x", None)), Err(SecretError::InvalidHost(_))));
    }

    #[test]
    fn only_access_denied_triggers_a_refresh() {
        assert!(!is_access_denied(&sqlx::Error::RowNotFound));
        assert!(!is_access_denied(&sqlx::Error::PoolTimedOut));
    }
}

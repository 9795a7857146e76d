//! The workload's configuration: what the lab's task definition passes in
//! environment variables (`KeyId`, `DBHOST`, `DBSecret`, `DBNAME`, `PORT`),
//! turned into plain values so tests and the sandbox can build it directly.

use std::path::PathBuf;

/// The port the lab's task definition, load balancer and curl commands use.
pub const DEFAULT_PORT: u16 = 80;

/// Where the SQLite file goes when no `SQLITE_PATH` is given.
pub const DEFAULT_SQLITE_PATH: &str = "workload.db";

/// The workload's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadConfig {
    /// The port to listen on (all interfaces) when run as a binary.
    pub port: u16,
    /// The app's KMS key (`KeyId`): what `/encrypt` encrypts with and returns.
    pub key_id: String,
    /// Where ciphertexts are kept.
    pub storage: StorageConfig,
}

/// Which database holds the ciphertexts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// A local SQLite file, created if missing (the default off AWS).
    Sqlite { path: PathBuf },
    /// The lab's RDS MySQL instance.
    Mysql(MysqlConfig),
}

/// How to reach the lab's MySQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MysqlConfig {
    /// The database endpoint (`DBHOST`), optionally `host:port`.
    pub host: String,
    /// The Secrets Manager secret (`DBSecret`, name or ARN) holding
    /// `{"username": ..., "password": ...}`.
    pub secret_id: String,
    /// The database to use (`DBNAME`); when absent the secret's `dbname`.
    pub database: Option<String>,
}

/// Why the environment does not describe a runnable workload.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("KeyId is not set: the workload needs the app's KMS key id")]
    MissingKeyId,
    #[error("PORT must be a port number, not {0:?}")]
    InvalidPort(String),
    #[error("DBHOST and DBSecret must be set together (only {0} is set)")]
    HalfMysql(&'static str),
}

impl WorkloadConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<WorkloadConfig, ConfigError> {
        WorkloadConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (an environment stand-in). Empty
    /// values count as unset, as CloudFormation passes empty strings for
    /// parameters left blank.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<WorkloadConfig, ConfigError> {
        let get = |name: &str| lookup(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        let key_id = get("KeyId").ok_or(ConfigError::MissingKeyId)?;
        let port = match get("PORT") {
            Some(text) => text.parse::<u16>().map_err(|_| ConfigError::InvalidPort(text))?,
            None => DEFAULT_PORT,
        };
        let storage = match (get("DBHOST"), get("DBSecret")) {
            (Some(host), Some(secret_id)) => {
                StorageConfig::Mysql(MysqlConfig { host, secret_id, database: get("DBNAME") })
            }
            (Some(_), None) => return Err(ConfigError::HalfMysql("DBHOST")),
            (None, Some(_)) => return Err(ConfigError::HalfMysql("DBSecret")),
            (None, None) => StorageConfig::Sqlite {
                path: get("SQLITE_PATH").unwrap_or_else(|| DEFAULT_SQLITE_PATH.to_owned()).into(),
            },
        };
        Ok(WorkloadConfig { port, key_id, storage })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<WorkloadConfig, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        WorkloadConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn sqlite_on_port_80_by_default() {
        let config = config(&[("KeyId", "k1")]).expect("config");
        assert_eq!(config.port, 80);
        assert_eq!(config.key_id, "k1");
        assert_eq!(config.storage, StorageConfig::Sqlite { path: DEFAULT_SQLITE_PATH.into() });
    }

    #[test]
    fn mysql_when_the_lab_sets_the_database() {
        let config = config(&[
            ("KeyId", "k1"),
            ("PORT", "8080"),
            ("DBHOST", "db.example"),
            ("DBSecret", "arn:aws:secretsmanager:ap-southeast-2:1:secret:db"),
            ("DBNAME", "pattern1"),
        ])
        .expect("config");
        assert_eq!(config.port, 8080);
        assert_eq!(
            config.storage,
            StorageConfig::Mysql(MysqlConfig {
                host: "db.example".into(),
                secret_id: "arn:aws:secretsmanager:ap-southeast-2:1:secret:db".into(),
                database: Some("pattern1".into()),
            })
        );
    }

    #[test]
    fn rejects_incomplete_settings() {
        assert_eq!(config(&[]), Err(ConfigError::MissingKeyId));
        assert_eq!(config(&[("KeyId", " ")]), Err(ConfigError::MissingKeyId));
        assert_eq!(config(&[("KeyId", "k"), ("PORT", "http")]), Err(ConfigError::InvalidPort("http".into())));
        assert_eq!(config(&[("KeyId", "k"), ("DBHOST", "h")]), Err(ConfigError::HalfMysql("DBHOST")));
        assert_eq!(config(&[("KeyId", "k"), ("DBSecret", "s")]), Err(ConfigError::HalfMysql("DBSecret")));
    }
}

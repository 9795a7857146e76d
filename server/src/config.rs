//! Turning command-line flags into a checked configuration: where data lives,
//! which AWS to talk to and why, and which addresses are safe to listen on.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use keywatch_app::api::connection::{AwsMode, ModeSource};
use keywatch_domain::region::DEFAULT_REGION;

use crate::cli::{AwsChoice, ServeArgs};
use crate::error::ServerError;

/// The console's checked configuration.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub database: PathBuf,
    pub data_dir: PathBuf,
    pub mode: AwsMode,
    pub mode_source: ModeSource,
    pub region: &'static keywatch_domain::region::Region,
    pub profile: Option<String>,
    /// Whether `--region` or `--profile` was given; if not, the choice last
    /// made on the Connection page (kept in SQLite) wins over the defaults.
    pub connection_given: bool,
    pub site_root: PathBuf,
    /// Time CloudFormation spends per resource in the sandbox.
    pub stack_pace: std::time::Duration,
    /// Time from a call to its CloudTrail record in the log group, in the sandbox.
    pub cloudtrail_delay: std::time::Duration,
    /// Faults the sandbox injects.
    pub faults: Vec<keywatch_sandbox::faults::FaultRule>,
    /// The admin's password hash from the environment (checked to be argon2id).
    pub admin_password_hash: Option<String>,
    /// Believe X-Forwarded-Proto / X-Forwarded-For from a reverse proxy.
    pub trust_proxy_headers: bool,
    /// Names besides the listen address that requests may carry as Host.
    pub allowed_hosts: Vec<String>,
    /// Where people reach the console (no trailing slash), for links.
    pub public_url: String,
}

impl ServeConfig {
    /// Checks the flags, reading the environment only to find whether AWS
    /// credentials are configured (never the credentials themselves).
    pub fn from_args(args: &ServeArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<ServeConfig, ServerError> {
        // Whether a non-loopback address may be used depends on the stored
        // password, so `serve` checks it once the database is open.
        let admin_password_hash = args.admin_password_hash.as_deref().map(str::trim).filter(|h| !h.is_empty());
        if let Some(hash) = admin_password_hash {
            crate::auth::check_password_hash(hash)
                .map_err(|error| ServerError::Config(format!("KEYWATCH_ADMIN_PASSWORD_HASH: {error}")))?;
        }
        let region = keywatch_domain::region::parse(args.region.as_deref().unwrap_or(DEFAULT_REGION))
            .map_err(|error| ServerError::Config(format!("--region: {error}")))?;
        let (data_dir, database) = database_location(args.data_dir.as_ref(), args.database.as_ref(), env);
        let public_url = match args.public_url.as_deref().map(str::trim) {
            None | Some("") => format!("http://{}", args.listen),
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                url.trim_end_matches('/').to_owned()
            }
            Some(url) => {
                return Err(ServerError::Config(format!("--public-url: {url} is not an http:// or https:// URL")));
            }
        };
        let (mode, mode_source) = match args.aws {
            Some(AwsChoice::Sandbox) => (AwsMode::Sandbox, ModeSource::Flag),
            Some(AwsChoice::Live) => (AwsMode::Live, ModeSource::Flag),
            None if args.profile.is_some() || credentials_configured(env) => {
                (AwsMode::Live, ModeSource::CredentialsFound)
            }
            None => (AwsMode::Sandbox, ModeSource::NoCredentialsFound),
        };
        Ok(ServeConfig {
            listen: args.listen,
            database,
            data_dir,
            mode,
            mode_source,
            region,
            profile: args.profile.clone(),
            connection_given: args.region.is_some() || args.profile.is_some(),
            site_root: args.site_root.clone(),
            stack_pace: std::time::Duration::from_millis(args.stack_pace_ms),
            cloudtrail_delay: std::time::Duration::from_millis(args.cloudtrail_delay_ms),
            faults: args.faults.clone(),
            admin_password_hash: admin_password_hash.map(str::to_owned),
            trust_proxy_headers: args.trust_proxy_headers,
            allowed_hosts: args.allowed_hosts.clone(),
            public_url,
        })
    }

    /// The Host names the console answers to.
    pub fn allowed_hosts(&self) -> keywatch_net::AllowedHosts {
        keywatch_net::AllowedHosts::for_listener(self.listen, &self.allowed_hosts, "--allowed-host")
    }

    /// Where the in-process sandbox keeps its state.
    pub fn sandbox_state_dir(&self) -> PathBuf {
        self.data_dir.join("sandbox")
    }
}

/// The data directory and database file the flags name, with their defaults.
pub fn database_location(
    data_dir: Option<&PathBuf>,
    database: Option<&PathBuf>,
    env: &dyn Fn(&str) -> Option<String>,
) -> (PathBuf, PathBuf) {
    let data_dir = data_dir.cloned().unwrap_or_else(|| default_data_dir(env));
    let database = database.cloned().unwrap_or_else(|| data_dir.join("keywatch.db"));
    (data_dir, database)
}

/// Refuses a console on a non-loopback address without a password: anyone
/// who reaches it could create and delete infrastructure.
pub fn require_password_beyond_loopback(addr: SocketAddr, password_set: bool) -> Result<(), ServerError> {
    if addr.ip().is_loopback() || password_set {
        Ok(())
    } else {
        Err(ServerError::Config(format!(
            "refusing to serve the console on {addr} without a password: anyone who reaches it could create and \
             delete AWS infrastructure. Set one with `keywatch user set-password` (or KEYWATCH_ADMIN_PASSWORD_HASH), \
             or listen on a loopback address such as 127.0.0.1:{port}",
            port = addr.port()
        )))
    }
}

/// Refuses non-loopback addresses for the sandbox, which has no
/// authentication of its own (the SDKs' signatures are not checked).
pub fn require_loopback(addr: SocketAddr, what: &str) -> Result<(), ServerError> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(ServerError::Config(format!(
            "refusing to serve {what} on {addr}: without authentication Keywatch listens only on loopback \
             addresses such as 127.0.0.1:{port} or [::1]:{port}",
            port = addr.port()
        )))
    }
}

/// `$XDG_DATA_HOME/keywatch`, else `~/.local/share/keywatch`, else `./.keywatch`.
fn default_data_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(dir) = env("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Path::new(&dir).join("keywatch");
    }
    match env("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Path::new(&home).join(".local/share/keywatch"),
        None => PathBuf::from(".keywatch"),
    }
}

/// Whether the default credential chain has something to find, judged
/// without network calls: environment credentials, a profile, web identity,
/// container credentials, or a shared file naming a credential source.
/// (Instance-profile credentials cannot be seen without asking the instance
/// metadata service; users on EC2 pass `--aws live`.)
fn credentials_configured(env: &dyn Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| env(name).is_some_and(|value| !value.trim().is_empty());
    if [
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]
    .iter()
    .any(|name| set(name))
    {
        return true;
    }
    let home = env("HOME").unwrap_or_default();
    let files = [
        env("AWS_SHARED_CREDENTIALS_FILE").unwrap_or_else(|| format!("{home}/.aws/credentials")),
        env("AWS_CONFIG_FILE").unwrap_or_else(|| format!("{home}/.aws/config")),
    ];
    files.iter().any(|file| std::fs::read_to_string(file).is_ok_and(|text| names_credential_source(&text)))
}

/// Whether an AWS shared config or credentials file names a way to get
/// credentials (a region-only config file does not count).
fn names_credential_source(text: &str) -> bool {
    const KEYS: &[&str] = &[
        "aws_access_key_id",
        "credential_process",
        "role_arn",
        "sso_session",
        "sso_start_url",
        "web_identity_token_file",
        "credential_source",
        "login_session",
    ];
    text.lines().any(|line| {
        let key = line.split('=').next().unwrap_or_default().trim();
        KEYS.contains(&key)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use std::collections::HashMap;

    fn args(flags: &[&str]) -> ServeArgs {
        let mut argv = vec!["keywatch", "serve"];
        argv.extend_from_slice(flags);
        match Cli::try_parse_from(argv).expect("parses").into_command() {
            Command::Serve(args) => args,
            _ => panic!("not serve"),
        }
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn no_credentials_means_sandbox_and_says_why() {
        let config = ServeConfig::from_args(&args(&[]), &env_of(&[("HOME", "/nonexistent")])).expect("valid");
        assert_eq!((config.mode, config.mode_source), (AwsMode::Sandbox, ModeSource::NoCredentialsFound));
        assert_eq!(config.database, PathBuf::from("/nonexistent/.local/share/keywatch/keywatch.db"));
    }

    #[test]
    fn environment_credentials_or_a_profile_mean_live() {
        let from_env = env_of(&[("HOME", "/nonexistent"), ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")]);
        let config = ServeConfig::from_args(&args(&[]), &from_env).expect("valid");
        assert_eq!((config.mode, config.mode_source), (AwsMode::Live, ModeSource::CredentialsFound));

        let profile = ServeConfig::from_args(&args(&["--profile", "lab"]), &env_of(&[])).expect("valid");
        assert_eq!(profile.mode, AwsMode::Live);
    }

    #[test]
    fn the_flag_wins() {
        let from_env = env_of(&[("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")]);
        let config = ServeConfig::from_args(&args(&["--aws", "sandbox"]), &from_env).expect("valid");
        assert_eq!((config.mode, config.mode_source), (AwsMode::Sandbox, ModeSource::Flag));
    }

    #[test]
    fn non_loopback_addresses_need_a_password() {
        let error =
            require_password_beyond_loopback("0.0.0.0:3000".parse().expect("addr"), false).expect_err("refused");
        assert!(
            error.to_string().contains("refusing to serve the console on 0.0.0.0:3000 without a password"),
            "{error}"
        );
        assert!(require_password_beyond_loopback("0.0.0.0:3000".parse().expect("addr"), true).is_ok());
        assert!(require_password_beyond_loopback("[::1]:3000".parse().expect("addr"), false).is_ok());
    }

    #[test]
    fn an_environment_password_hash_must_be_argon2id() {
        let error =
            ServeConfig::from_args(&args(&["--admin-password-hash", "hunter2"]), &env_of(&[])).expect_err("refused");
        assert!(error.to_string().starts_with("KEYWATCH_ADMIN_PASSWORD_HASH: not a PHC string"), "{error}");
    }

    #[test]
    fn unknown_regions_are_refused() {
        let error = ServeConfig::from_args(&args(&["--region", "moon-1"]), &env_of(&[])).expect_err("refused");
        assert!(error.to_string().starts_with("--region:"), "{error}");
    }

    #[test]
    fn a_region_only_config_file_is_not_a_credential_source() {
        assert!(!names_credential_source("[default]\nregion = ap-southeast-2\n"));
        assert!(names_credential_source("[default]\naws_access_key_id = AKID\n"));
        assert!(names_credential_source("[profile lab]\nsso_session = corp\n"));
    }
}

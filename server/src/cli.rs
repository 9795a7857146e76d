//! The `keywatch` command line. Every flag can also be set through the
//! environment variable named in its help, so that containers and service
//! managers configure Keywatch without arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keywatch: set up and run autonomous monitoring of KMS activity on AWS.
#[derive(Debug, Parser)]
#[command(name = "keywatch", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `keywatch` alone means `keywatch serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web console (the default).
    Serve(ServeArgs),
    /// Run only the sandbox, for the AWS CLI, boto3 or any SDK (--endpoint-url).
    Sandbox(SandboxArgs),
    /// Manage the console's admin account.
    #[command(subcommand)]
    User(UserCommand),
    /// Write .br and .gz beside each file of the built site's pkg/, once
    /// per build (`make run` does it after `cargo leptos build`).
    Precompress(PrecompressArgs),
}

/// `keywatch precompress`
#[derive(Debug, Clone, Args)]
pub struct PrecompressArgs {
    /// Directory holding the compiled site (pkg/ with the wasm, JS and CSS).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

/// `keywatch user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Set the admin's password: read from the terminal without echo, or from
    /// standard input when it is a pipe. Only its argon2id hash is stored.
    /// Once set, every page asks for a login and existing sessions end.
    SetPassword(SetPasswordArgs),
    /// Print the argon2id hash (PHC string) of a password read like
    /// set-password's, for KEYWATCH_ADMIN_PASSWORD_HASH; nothing is stored.
    HashPassword,
}

#[derive(Debug, Clone, Args)]
pub struct SetPasswordArgs {
    /// SQLite database file [default: <data-dir>/keywatch.db].
    #[arg(long, env = "KEYWATCH_DATABASE")]
    pub database: Option<PathBuf>,
    /// Where Keywatch keeps its database
    /// [default: $XDG_DATA_HOME/keywatch or ~/.local/share/keywatch].
    #[arg(long, env = "KEYWATCH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Which AWS the console talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AwsChoice {
    /// The built-in offline sandbox.
    Sandbox,
    /// Real AWS through the default credential chain (or --profile).
    Live,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address the console listens on. Addresses other than loopback are
    /// accepted only once an admin password is set.
    #[arg(long, env = "KEYWATCH_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// The admin's password as an argon2id PHC string (`$argon2id$v=19$...`),
    /// instead of the one `keywatch user set-password` stores.
    #[arg(long, env = "KEYWATCH_ADMIN_PASSWORD_HASH", hide_env_values = true)]
    pub admin_password_hash: Option<String>,
    /// Behind a reverse proxy that terminates TLS: believe its
    /// X-Forwarded-Proto (https marks the session cookie Secure) and
    /// X-Forwarded-For (the client address logins are rate-limited by).
    /// Set only when the proxy overwrites both headers.
    #[arg(long, env = "KEYWATCH_TRUST_PROXY_HEADERS")]
    pub trust_proxy_headers: bool,
    /// A name browsers reach the console by, besides its listen address,
    /// localhost, 127.0.0.1 and [::1]; requests for any other Host are
    /// refused (DNS rebinding). Repeat, or comma-separate in the variable.
    #[arg(long = "allowed-host", env = "KEYWATCH_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// The URL people reach the console by, for the links in the
    /// notifications it sends (a response awaiting approval)
    /// [default: http://<listen address>].
    #[arg(long, env = "KEYWATCH_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// SQLite database file [default: <data-dir>/keywatch.db].
    #[arg(long, env = "KEYWATCH_DATABASE")]
    pub database: Option<PathBuf>,
    /// Where Keywatch keeps its database and sandbox state
    /// [default: $XDG_DATA_HOME/keywatch or ~/.local/share/keywatch].
    #[arg(long, env = "KEYWATCH_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sandbox or live [default: live when AWS credentials are configured, else sandbox].
    #[arg(long, env = "KEYWATCH_AWS", value_enum)]
    pub aws: Option<AwsChoice>,
    /// AWS Region to work in [default: the one last chosen on the Connection
    /// page, else ap-southeast-2].
    #[arg(long, env = "KEYWATCH_REGION")]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config for live AWS [default: the one last
    /// chosen on the Connection page, else the default credential chain].
    #[arg(long, env = "KEYWATCH_PROFILE")]
    pub profile: Option<String>,
    /// Directory holding the compiled site (pkg/ with the wasm, JS and CSS).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
    /// Log format.
    #[arg(long, env = "KEYWATCH_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Sandbox only: milliseconds CloudFormation spends on each resource
    /// (0 deploys a stack at once; 2000 or so makes progress watchable).
    #[arg(long, env = "KEYWATCH_SANDBOX_STACK_PACE_MS", default_value_t = 0)]
    pub stack_pace_ms: u64,
    /// Sandbox only: milliseconds from a call to its CloudTrail record reaching
    /// the trail's log group (AWS takes 5 to 15 minutes).
    #[arg(long, env = "KEYWATCH_SANDBOX_CLOUDTRAIL_DELAY_MS", default_value_t = 1000)]
    pub cloudtrail_delay_ms: u64,
    /// Sandbox only: inject faults, `service:throttle-every=N,error-every=N,latency-ms=N`
    /// (e.g. `cloudformation:throttle-every=2`); repeat for several services.
    #[arg(long = "fault", env = "KEYWATCH_SANDBOX_FAULTS", value_delimiter = ';', value_parser = parse_fault)]
    pub faults: Vec<keywatch_sandbox::faults::FaultRule>,
}

#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Address the sandbox listens on. Only loopback addresses are accepted.
    #[arg(long, env = "KEYWATCH_SANDBOX_LISTEN", default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,
    /// Directory where the sandbox keeps its state between runs.
    #[arg(long, env = "KEYWATCH_SANDBOX_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// A name clients reach the sandbox by, besides its listen address,
    /// localhost (and *.localhost), 127.0.0.1, [::1] and S3 virtual-hosted
    /// bucket names; requests for any other Host are refused.
    #[arg(long = "allowed-host", env = "KEYWATCH_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// Region for requests that are not signed for one.
    #[arg(long, env = "KEYWATCH_REGION", default_value = keywatch_domain::region::DEFAULT_REGION)]
    pub region: String,
    /// Log format.
    #[arg(long, env = "KEYWATCH_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Sandbox only: milliseconds CloudFormation spends on each resource
    /// (0 deploys a stack at once; 2000 or so makes progress watchable).
    #[arg(long, env = "KEYWATCH_SANDBOX_STACK_PACE_MS", default_value_t = 0)]
    pub stack_pace_ms: u64,
    /// Sandbox only: milliseconds from a call to its CloudTrail record reaching
    /// the trail's log group (AWS takes 5 to 15 minutes).
    #[arg(long, env = "KEYWATCH_SANDBOX_CLOUDTRAIL_DELAY_MS", default_value_t = 1000)]
    pub cloudtrail_delay_ms: u64,
    /// Sandbox only: inject faults, `service:throttle-every=N,error-every=N,latency-ms=N`
    /// (e.g. `cloudformation:throttle-every=2`); repeat for several services.
    #[arg(long = "fault", env = "KEYWATCH_SANDBOX_FAULTS", value_delimiter = ';', value_parser = parse_fault)]
    pub faults: Vec<keywatch_sandbox::faults::FaultRule>,
}

fn parse_fault(spec: &str) -> Result<keywatch_sandbox::faults::FaultRule, String> {
    keywatch_sandbox::faults::FaultRule::parse(spec).map_err(|error| error.to_string())
}

impl Cli {
    /// The command to run, with `serve` as the default.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_subcommand_means_serve_with_defaults() {
        let cli = Cli::try_parse_from(["keywatch"]).expect("parses");
        let Command::Serve(args) = cli.into_command() else { panic!("not serve") };
        assert_eq!(args.listen, "127.0.0.1:3000".parse().expect("addr"));
        assert_eq!(args.region, None);
        assert_eq!(args.aws, None);
    }

    #[test]
    fn sandbox_subcommand_takes_its_own_flags() {
        let cli = Cli::try_parse_from(["keywatch", "sandbox", "--listen", "127.0.0.1:4567", "--state-dir", "/tmp/s"])
            .expect("parses");
        let Command::Sandbox(args) = cli.into_command() else { panic!("not sandbox") };
        assert_eq!(args.listen.port(), 4567);
        assert_eq!(args.state_dir, Some(PathBuf::from("/tmp/s")));
    }

    #[test]
    fn faults_are_parsed_from_flags_and_refused_when_malformed() {
        let cli = Cli::try_parse_from([
            "keywatch",
            "sandbox",
            "--fault",
            "kms:throttle-every=2",
            "--fault",
            "s3:latency-ms=5",
        ])
        .expect("parses");
        let Command::Sandbox(args) = cli.into_command() else { panic!("not sandbox") };
        assert_eq!(args.faults.len(), 2);
        assert_eq!(args.faults[0].throttle_every, Some(2));
        assert!(Cli::try_parse_from(["keywatch", "sandbox", "--fault", "kms:never=1"]).is_err());
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Cli::try_parse_from(["keywatch", "--aws", "maybe"]).is_err());
        assert!(Cli::try_parse_from(["keywatch", "--listen", "not-an-address"]).is_err());
    }
}

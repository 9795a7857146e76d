//! The `keywatch` binary: parses the command line, sets up logging, and runs
//! the console or the sandbox. Failures end in one line on stderr.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use keywatch::cli::{Cli, Command, LogFormat, UserCommand};
use keywatch::config::ServeConfig;

// mimalloc rather than glibc's malloc: the sandbox allocates per call on
// every runtime thread, and glibc spent a fifth of its CPU under load in
// malloc, free and arena locks, and kept the memory of a burst (`make
// bench` reports both).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            // clap's own report spans several lines; its first line says it all.
            let rendered = error.to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("keywatch: {first} (see keywatch --help)");
            return ExitCode::from(2);
        }
    };
    // Each connection costs a descriptor; the connection caps assume more than 1,024.
    if let Err(error) = keywatch_net::raise_open_file_limit() {
        eprintln!("keywatch: warning: cannot raise the open-file limit: {error}");
    }
    let result = match cli.into_command() {
        Command::Serve(args) => {
            init_logging(args.log_format);
            match ServeConfig::from_args(&args, &|name| std::env::var(name).ok()) {
                Ok(config) => keywatch::serve(config).await,
                Err(error) => Err(error),
            }
        }
        Command::Sandbox(args) => {
            init_logging(args.log_format);
            keywatch::serve_sandbox(args).await
        }
        Command::User(UserCommand::SetPassword(args)) => keywatch::set_admin_password(args).await,
        Command::User(UserCommand::HashPassword) => keywatch::print_password_hash().await,
        Command::Precompress(args) => keywatch::precompress_site(&args.site_root),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("keywatch: error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// INFO for lifecycle events and problems. The lab's application, run in
/// process for the sandbox's ECS task, logs every request (and every refused
/// decrypt, which an attack makes by the thousand): those are its per-call
/// lines, shown only when `RUST_LOG` asks.
const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,aws_config=warn,tower_http=warn,workload::routes=error";

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

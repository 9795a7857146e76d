//! The `workload` binary: the lab's application on `0.0.0.0:$PORT`
//! (default 80), configured from the environment like the lab's container.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(error) = workload::telemetry::init(workload::telemetry::json_requested()) {
        eprintln!("{error}");
        return ExitCode::FAILURE;
    }
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the workload stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), workload::WorkloadError> {
    let workload = workload::Workload::from_env().await?;
    let listener = workload.bind().await?;
    let storage = match &workload.config().storage {
        workload::StorageConfig::Sqlite { .. } => "sqlite",
        workload::StorageConfig::Mysql(_) => "mysql",
    };
    tracing::info!(port = workload.config().port, storage, key_id = %workload.config().key_id, "workload listening");
    workload.serve(listener, workload::shutdown_signal()).await
}

//! What the sandbox's ECS tasks run: the lab's workload, in this process,
//! with its task role's credentials and the sandbox as its AWS endpoint.
//!
//! The sandbox has no container runtime, so whatever image a task
//! definition names, the task runs `workload/` — the application the lab's
//! image is built from. Its ciphertexts go to a SQLite file in the task's
//! scratch directory: the sandbox's RDS instance is a record, not a MySQL
//! server, so `DBHOST`/`DBSecret` are not used there.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use keywatch_sandbox::tasks::{CredentialSource, TaskLauncher, TaskSpec};
use workload::{StorageConfig, Workload, WorkloadConfig};

/// The launcher `keywatch serve` and `keywatch sandbox` give the sandbox.
pub fn workload_launcher() -> TaskLauncher {
    Arc::new(|spec: TaskSpec| Box::pin(launch(spec)))
}

async fn launch(spec: TaskSpec) -> Result<axum::Router, String> {
    let key_id = spec
        .environment
        .get("KeyId")
        .cloned()
        .ok_or_else(|| format!("container {} has no KeyId environment variable", spec.container_name))?;
    std::fs::create_dir_all(&spec.scratch_dir)
        .map_err(|error| format!("cannot create {}: {error}", spec.scratch_dir.display()))?;
    let config = WorkloadConfig {
        port: workload::config::DEFAULT_PORT,
        key_id,
        storage: StorageConfig::Sqlite { path: spec.scratch_dir.join("workload.db") },
    };
    let mut sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(spec.region.clone()))
        .endpoint_url(spec.endpoint_url.clone());
    if let Some(source) = spec.credentials.clone() {
        sdk = sdk.credentials_provider(SharedCredentialsProvider::new(TaskRoleCredentials(source)));
    }
    let workload = Workload::new(config, &sdk.build()).await.map_err(|error| error.to_string())?;
    tracing::info!(image = %spec.image, service = %spec.service_arn, "running the workload for the sandbox's ECS task");
    Ok(workload.router())
}

/// The task role's credentials, as ECS's credential endpoint serves them.
#[derive(Clone)]
struct TaskRoleCredentials(CredentialSource);

impl std::fmt::Debug for TaskRoleCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TaskRoleCredentials")
    }
}

impl ProvideCredentials for TaskRoleCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(match (self.0)() {
            Ok(issued) => Ok(Credentials::new(
                issued.access_key_id,
                issued.secret_access_key,
                Some(issued.session_token),
                u64::try_from(issued.expiration_ms).ok().map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
                "keywatch-sandbox-ecs-task",
            )),
            Err(error) => Err(CredentialsError::provider_error(error)),
        })
    }
}

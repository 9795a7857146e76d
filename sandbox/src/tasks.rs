//! ECS tasks in the sandbox: the services CloudFormation created are run
//! in this process, each behind its load balancer's loopback port.
//!
//! The sandbox does not know what an image contains. Whoever embeds it
//! supplies a [`TaskLauncher`] that turns a task's definition (image,
//! environment, task-role credentials, the sandbox endpoint) into an HTTP
//! router; the Keywatch binary launches the lab's workload that way. Without
//! a launcher, services are created but run nothing, which CloudFormation
//! does not notice either.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::AwsError;

/// Credentials of the task role, fresh at each call (the SDK caches them
/// until shortly before they expire, as it does ECS's credential endpoint).
pub type CredentialSource = Arc<dyn Fn() -> Result<TaskCredentials, AwsError> + Send + Sync>;

/// A role session's temporary credentials.
#[derive(Debug, Clone)]
pub struct TaskCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Epoch milliseconds.
    pub expiration_ms: i64,
}

/// What a task runs with: its container definition and where AWS is.
#[derive(Clone)]
pub struct TaskSpec {
    pub service_arn: String,
    pub container_name: String,
    pub image: String,
    pub environment: BTreeMap<String, String>,
    pub task_role_arn: Option<String>,
    /// The sandbox's URL, for the task's SDK clients (`AWS_ENDPOINT_URL`).
    pub endpoint_url: String,
    pub region: String,
    /// `None` when the task definition has no task role.
    pub credentials: Option<CredentialSource>,
    /// A directory the task may keep files in (its "ephemeral storage").
    pub scratch_dir: std::path::PathBuf,
}

/// Starts a task: returns the router that serves its container port.
pub type TaskLauncher =
    Arc<dyn Fn(TaskSpec) -> Pin<Box<dyn Future<Output = Result<axum::Router, String>> + Send>> + Send + Sync>;

/// The tasks running now, by deployment ([`WantedService::deployment`]).
#[derive(Default)]
pub struct RunningTasks {
    tasks: HashMap<String, RunningTask>,
}

struct RunningTask {
    port: u16,
    handle: tokio::task::JoinHandle<()>,
}

impl Drop for RunningTask {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl RunningTasks {
    /// Deployments that run but are no longer wanted (scaled to 0, deleted,
    /// given a new revision, or moved port) are stopped.
    pub fn stop_unwanted(&mut self, wanted: &[(String, u16)]) {
        self.tasks.retain(|deployment, task| wanted.iter().any(|(w, port)| w == deployment && *port == task.port));
    }

    /// Whether the deployment's task runs.
    pub fn is_running(&self, deployment: &str) -> bool {
        self.tasks.get(deployment).is_some_and(|task| !task.handle.is_finished())
    }

    /// Serves `router` on `127.0.0.1:<port>` for the deployment.
    pub async fn start(&mut self, deployment: String, port: u16, router: axum::Router) -> Result<(), std::io::Error> {
        let listener = bind_after_stop(port).await?;
        let listen = listener.local_addr()?;
        // The load balancer's DNS name is this loopback address; other names are refused.
        let router = keywatch_net::AllowedHosts::for_listener(listen, &[], "").protect(router);
        let arn = deployment.clone();
        let handle = tokio::spawn(async move {
            let serve =
                keywatch_net::serve(listener, router, keywatch_net::Limits::WORKLOAD, std::future::pending::<()>());
            if let Err(error) = serve.await {
                tracing::error!(service = %arn, %error, "sandbox ECS task stopped");
            }
        });
        self.tasks.insert(deployment, RunningTask { port, handle });
        Ok(())
    }
}

/// Binds the load balancer's port; a task stopped just before (a rolling
/// deployment) may hold it for a moment, until its aborted server drops.
async fn bind_after_stop(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let mut attempts = 0;
    loop {
        match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Err(error) if error.kind() == std::io::ErrorKind::AddrInUse && attempts < 40 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            result => return result,
        }
    }
}

/// An ECS service that should have a running task.
#[derive(Debug, Clone, PartialEq)]
pub struct WantedService {
    pub service_arn: String,
    pub region: String,
    pub container_name: String,
    pub image: String,
    pub environment: BTreeMap<String, String>,
    pub task_role_arn: Option<String>,
    /// The task definition revision the task runs.
    pub task_definition_arn: String,
    /// The loopback port of the load balancer in front of it.
    pub port: u16,
}

impl WantedService {
    /// What names the running task: the service on its revision, so that
    /// a service given a new task definition has its old task stopped and
    /// a new one started, as an ECS deployment rolls its tasks.
    pub fn deployment(&self) -> String {
        format!("{}@{}", self.service_arn, self.task_definition_arn)
    }
}

/// A file-system-safe name for a service's scratch directory.
pub fn scratch_name(service_arn: &str) -> String {
    service_arn
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("service")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}
/// The services that should run now: desired count above zero and a load
/// balancer in front (the sandbox reaches a task only through one). The
/// region is the service ARN's.
pub fn wanted_services(ecs: &crate::ecs::EcsState, elb: &crate::elbv2::ElbState) -> Vec<WantedService> {
    crate::ecs::services_of(ecs, elb)
        .into_iter()
        .filter(|service| service.desired_count > 0)
        .filter_map(|service| {
            let endpoint = service.endpoints.first()?;
            let container = service
                .task_definition
                .containers
                .iter()
                .find(|c| c.name == endpoint.container_name)
                .or_else(|| service.task_definition.containers.first())?;
            Some(WantedService {
                region: service.service_arn.split(':').nth(3).unwrap_or_default().to_owned(),
                service_arn: service.service_arn.clone(),
                container_name: container.name.clone(),
                image: container.image.clone(),
                environment: container.environment.clone(),
                task_role_arn: service.task_definition.task_role_arn.clone(),
                task_definition_arn: service.task_definition.arn.clone(),
                port: endpoint.loopback_port,
            })
        })
        .collect()
}

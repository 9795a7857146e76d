//! What server tests share: a world of an in-process sandbox, a temporary
//! SQLite database and the console's services over them, and the console's
//! router built by `web::app`, exactly as `serve` builds it.
#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::sync::Arc;

use keywatch::auth::{Auth, AuthSettings};
use keywatch::aws::Aws;
use keywatch::backend::ServerBackend;
use keywatch::console::{PortSource, Ports};
use keywatch::db::Database;
use keywatch::sns_endpoint::{AlarmTopicList, SnsEndpoint};
use keywatch_app::api::connection::{AwsMode, ConsoleSettings, ModeSource};
use keywatch_sandbox::{RunningSandbox, Sandbox, SandboxConfig};

pub const REGION: &str = "ap-southeast-2";
/// The address the console's router believes it listens on.
pub const LISTEN: &str = "127.0.0.1:3000";

/// A sandbox, a database and the AWS clients pointed at the sandbox.
pub struct World {
    pub sandbox: RunningSandbox,
    pub aws: Aws,
    pub db: Database,
    pub db_path: std::path::PathBuf,
    pub dir: tempfile::TempDir,
    /// The alarm topics the SNS endpoint accepts (the inbox's list).
    pub alarm_topics: AlarmTopicList,
}

impl World {
    pub async fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let sandbox = Sandbox::new(SandboxConfig { default_region: REGION.into(), ..SandboxConfig::default() })
            .expect("sandbox")
            .start("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("sandbox started");
        let db_path = dir.path().join("keywatch.db");
        let db = Database::open(&db_path).await.expect("database");
        let aws = Aws::sandbox(&sandbox.endpoint_url, REGION);
        World { sandbox, aws, db, db_path, dir, alarm_topics: AlarmTopicList::default() }
    }

    /// Creates a metric alarm on the lab's metric by PutMetricAlarm, as an
    /// alarm made outside Keywatch would be (Sum > 1 for 1 of 1 periods of 10 s).
    pub async fn put_alarm(&self, alarm_name: &str, namespace: &str) {
        aws_sdk_cloudwatch::Client::new(&self.aws.sdk_config)
            .put_metric_alarm()
            .alarm_name(alarm_name)
            .namespace(namespace)
            .metric_name("KMSSecurityError")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
            .period(10)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
            .send()
            .await
            .expect("PutMetricAlarm");
    }

    /// The console's services over this world.
    pub fn ports(&self) -> Ports {
        let settings = ConsoleSettings {
            mode: AwsMode::Sandbox,
            mode_source: ModeSource::Flag,
            region: REGION.into(),
            region_name: "Asia Pacific (Sydney)".into(),
            profile: None,
            sandbox_endpoint: Some(self.sandbox.endpoint_url.clone()),
        };
        let backend = ServerBackend::new(self.aws.clone(), self.db.clone(), settings);
        let lab = Arc::new(keywatch::lab::ServerLab::new(self.aws.clone(), self.db.clone(), REGION.into(), true));
        let testing = keywatch::testing::ServerTesting::new(self.aws.clone(), self.db.clone(), false);
        let thresholds = keywatch::thresholds::ServerThresholds::new(self.aws.clone(), self.db.clone(), lab.clone());
        Ports { backend: Arc::new(backend), lab, testing: Arc::new(testing), thresholds: Some(Arc::new(thresholds)) }
    }

    /// Authentication as `serve` sets it up on loopback.
    pub async fn auth(&self) -> Auth {
        Auth::load(self.db.clone(), AuthSettings::default()).await.expect("auth")
    }

    /// The console's router as `serve` builds it, with `auth`.
    pub fn app(&self, auth: Auth) -> axum::Router {
        self.app_with(auth, &[])
    }

    /// The same, answering also to `allowed_hosts` (`--allowed-host`).
    pub fn app_with(&self, auth: Auth, allowed_hosts: &[String]) -> axum::Router {
        let listen = LISTEN.parse().expect("addr");
        keywatch::web::app(keywatch::web::AppParts {
            ports: PortSource::fixed(self.ports()),
            db: self.db.clone(),
            auth,
            sns_endpoint: Arc::new(SnsEndpoint::new(
                self.db.clone(),
                Some(self.sandbox.endpoint_url.clone()),
                self.alarm_topics.clone(),
            )),
            leptos_options: keywatch::web::leptos_options(self.dir.path(), listen),
            allowed_hosts: keywatch_net::AllowedHosts::for_listener(listen, allowed_hosts, "--allowed-host"),
        })
    }
}

/// SDK configuration for the sandbox at `endpoint` (it accepts any
/// credentials).
pub fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"),
        ))
        .build()
}

/// A stack's outputs: (key, value).
pub type Outputs = Vec<(String, String)>;

/// The value of output `key`.
pub fn output(outputs: &Outputs, key: &str) -> Option<String> {
    outputs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// Creates `section`'s stack under the lab's default prefix with
/// `parameters` and waits for CREATE_COMPLETE, as the SDK's waiter does;
/// its outputs.
pub async fn deploy_section(
    cfn: &aws_sdk_cloudformation::Client,
    section: keywatch_domain::lab::LabSection,
    parameters: Vec<aws_sdk_cloudformation::types::Parameter>,
) -> Outputs {
    use aws_sdk_cloudformation::types::{Capability, StackStatus};
    let name = keywatch_domain::lab::Prefix::default().stack_name(section).expect("a stack");
    let mut request = cfn
        .create_stack()
        .stack_name(&name)
        .template_body(section.template().expect("template"))
        .set_parameters(Some(parameters));
    for capability in section.capabilities() {
        request = request.capabilities(Capability::from(*capability));
    }
    request.send().await.expect("create-stack");
    for _ in 0..400 {
        let stacks = cfn.describe_stacks().stack_name(&name).send().await.expect("describe");
        let stack = &stacks.stacks()[0];
        match stack.stack_status() {
            Some(StackStatus::CreateComplete) => {
                return stack
                    .outputs()
                    .iter()
                    .map(|o| {
                        (o.output_key().unwrap_or_default().to_owned(), o.output_value().unwrap_or_default().to_owned())
                    })
                    .collect();
            }
            Some(StackStatus::CreateInProgress) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            other => panic!("{name} ended {other:?}: {:?}", stack.stack_status_reason()),
        }
    }
    panic!("{name} never completed");
}

/// The lab's three sections deployed in order on the sandbox at
/// `endpoint`, each wired to the previous one's outputs as the wizard
/// does: the base, application and logging stacks' outputs.
pub async fn deploy_lab(endpoint: &str) -> [Outputs; 3] {
    use keywatch_domain::lab::{self, LabSection};
    let cfn = aws_sdk_cloudformation::Client::new(&sdk(endpoint));
    let prefix = lab::Prefix::default();
    let wired = |section, outputs: &Outputs| {
        lab::wired_parameters(section, &prefix, &|_, key| output(outputs, key))
            .expect("wired")
            .into_iter()
            .map(|p| {
                aws_sdk_cloudformation::types::Parameter::builder()
                    .parameter_key(p.key)
                    .parameter_value(p.value)
                    .build()
            })
            .collect::<Vec<_>>()
    };
    let base = deploy_section(&cfn, LabSection::BaseNetwork, Vec::new()).await;
    let app = deploy_section(&cfn, LabSection::Application, wired(LabSection::Application, &base)).await;
    let logging = deploy_section(&cfn, LabSection::LoggingAndAlarm, wired(LabSection::LoggingAndAlarm, &app)).await;
    [base, app, logging]
}

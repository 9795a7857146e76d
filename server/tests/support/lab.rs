//! The lab on the sandbox: its three stacks deployed through CloudFormation
//! as the wizard wires them, and the application behind its load balancer
//! answering, as section 4 of the lab finds it.

use std::time::Duration;

use super::{REGION, World, wire};

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

/// The lab deployed on a [`World::lab`] sandbox.
pub struct DeployedLab {
    /// The base, application and logging stacks' outputs.
    pub outputs: [Outputs; 3],
    /// The application's load balancer, `host:port`.
    pub endpoint: String,
}

/// Deploys the lab's three stacks on `world`'s sandbox and waits until the
/// application stack's ECS service answers at its load balancer.
pub async fn deploy(world: &World) -> DeployedLab {
    let outputs = deploy_lab(&world.sandbox.endpoint_url).await;
    let endpoint = output(&outputs[1], keywatch_domain::lab::APP_ENDPOINT_OUTPUT).expect("endpoint");
    for _ in 0..100 {
        if wire::send_async(&endpoint, wire::Request::get("/")).await.is_ok_and(|response| response.status == 200) {
            return DeployedLab { outputs, endpoint };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the ECS service never answered at {endpoint}");
}

/// One of the lab's curl requests to its application at `endpoint`: a
/// JSON body (possibly empty); the response, or why there was none.
pub async fn call_application(endpoint: &str, method: &str, path: &str, body: &str) -> std::io::Result<wire::Response> {
    wire::send_async(endpoint, wire::Request::new(method, path).json(body)).await
}

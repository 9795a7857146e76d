//! Shared set-up for the sandbox's integration tests: a sandbox on a free
//! loopback port and SDK configuration pointing at it.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use keywatch_sandbox::{RunningSandbox, Sandbox, SandboxConfig};

/// Starts an in-memory sandbox on a free loopback port.
pub async fn start_sandbox() -> RunningSandbox {
    let config = SandboxConfig { default_region: "ap-southeast-2".into(), state_dir: None };
    Sandbox::new(config)
        .expect("sandbox")
        .start("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox listening")
}

/// SDK configuration for `endpoint_url` with throw-away credentials: the
/// sandbox accepts any.
pub fn sdk_config(endpoint_url: &str, region: &str) -> SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint_url)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            Credentials::new("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None, None, "test"),
        ))
        .build()
}

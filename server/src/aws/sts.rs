//! AWS STS: who the console's credentials belong to.

use aws_config::SdkConfig;
use keywatch_app::api::connection::CallerIdentity;

use super::AwsCallError;
use super::interceptor::CallMetrics;

/// The STS client, wrapped to take and return Keywatch's own types.
#[derive(Debug, Clone)]
pub struct Sts {
    client: aws_sdk_sts::Client,
}

impl Sts {
    pub fn new(config: &SdkConfig) -> Sts {
        Sts {
            client: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(config).interceptor(CallMetrics).build(),
            ),
        }
    }

    /// `GetCallerIdentity`: the account, ARN and unique id of the caller.
    pub async fn caller_identity(&self) -> Result<CallerIdentity, AwsCallError> {
        let output = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(|error| AwsCallError::from_sdk("GetCallerIdentity", error))?;
        Ok(CallerIdentity {
            account_id: output.account().unwrap_or_default().to_owned(),
            arn: output.arn().unwrap_or_default().to_owned(),
            user_id: output.user_id().unwrap_or_default().to_owned(),
        })
    }
}

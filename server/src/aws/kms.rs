//! AWS KMS: disabling a key in response to an alarm, and enabling it again
//! when the response is reverted.

use aws_config::SdkConfig;

use super::AwsCallError;
use super::interceptor::CallMetrics;

/// The KMS client, wrapped to take and return Keywatch's types.
#[derive(Debug, Clone)]
pub struct Kms {
    client: aws_sdk_kms::Client,
}

impl Kms {
    /// A KMS client for `config`.
    pub fn new(config: &SdkConfig) -> Kms {
        Kms {
            client: aws_sdk_kms::Client::from_conf(
                aws_sdk_kms::config::Builder::from(config).interceptor(CallMetrics).build(),
            ),
        }
    }

    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_DisableKey.html>
    pub async fn disable_key(&self, key_id: &str) -> Result<(), AwsCallError> {
        self.client
            .disable_key()
            .key_id(key_id)
            .send()
            .await
            .map_err(|error| AwsCallError::from_sdk("DisableKey", error))?;
        Ok(())
    }

    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKey.html>
    pub async fn enable_key(&self, key_id: &str) -> Result<(), AwsCallError> {
        self.client
            .enable_key()
            .key_id(key_id)
            .send()
            .await
            .map_err(|error| AwsCallError::from_sdk("EnableKey", error))?;
        Ok(())
    }
}

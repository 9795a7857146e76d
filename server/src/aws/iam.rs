//! AWS IAM: the inline policies a response puts on a role and takes off
//! again (PutRolePolicy, DeleteRolePolicy).

use aws_config::SdkConfig;

use super::AwsCallError;
use super::interceptor::CallMetrics;

/// The IAM client, wrapped to take and return Keywatch's types.
#[derive(Debug, Clone)]
pub struct Iam {
    client: aws_sdk_iam::Client,
}

impl Iam {
    /// An IAM client for `config`.
    pub fn new(config: &SdkConfig) -> Iam {
        Iam {
            client: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(config).interceptor(CallMetrics).build(),
            ),
        }
    }

    /// Adds (or replaces) the role's inline policy `policy_name`.
    /// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html>
    pub async fn put_role_policy(&self, role: &str, policy_name: &str, document: &str) -> Result<(), AwsCallError> {
        self.client
            .put_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(|error| AwsCallError::from_sdk("PutRolePolicy", error))?;
        Ok(())
    }

    /// Deletes the role's inline policy `policy_name`; one already gone is
    /// deleted (a revert may follow a response that failed half-way).
    /// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRolePolicy.html>
    pub async fn delete_role_policy(&self, role: &str, policy_name: &str) -> Result<(), AwsCallError> {
        match self.client.delete_role_policy().role_name(role).policy_name(policy_name).send().await {
            Ok(_) => Ok(()),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => Ok(()),
            Err(error) => Err(AwsCallError::from_sdk("DeleteRolePolicy", error)),
        }
    }
}

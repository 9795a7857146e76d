//! How the console reaches AWS: one SDK configuration for the whole process
//! (live AWS or the in-process sandbox, same code path after this point), one
//! wrapper per SDK client, and one error type that classifies SDK failures by
//! kind.

pub mod cloudformation;
pub mod cloudwatch;
pub mod ecr;
pub mod iam;
pub mod interceptor;
pub mod kms;
pub mod logs;
pub mod rds;
pub mod s3;
pub mod sns;
pub mod sqs;
pub mod sts;

use std::sync::{Arc, OnceLock};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

/// Where SDK calls go, and with what, and the SDK clients built from it.
#[derive(Debug, Clone)]
pub struct Aws {
    pub sdk_config: SdkConfig,
    clients: Arc<Clients>,
}

/// Each service's wrapper, built the first time it is asked for and then
/// shared: an SDK client carries its resolved configuration, interceptors
/// and runtime plugins, worth building once per connection rather than at
/// every call site. Clones share the client (and its connection pool).
#[derive(Debug, Default)]
struct Clients {
    sts: OnceLock<sts::Sts>,
    cloudformation: OnceLock<cloudformation::CloudFormation>,
    ecr: OnceLock<ecr::Ecr>,
    iam: OnceLock<iam::Iam>,
    kms: OnceLock<kms::Kms>,
    s3: OnceLock<s3::S3>,
    cloudwatch: OnceLock<cloudwatch::CloudWatch>,
    sns: OnceLock<sns::Sns>,
    rds: OnceLock<rds::Rds>,
    logs: OnceLock<logs::Logs>,
    sqs: OnceLock<sqs::Sqs>,
}

impl Aws {
    /// SDK calls made with `sdk_config`.
    pub fn new(sdk_config: SdkConfig) -> Aws {
        Aws { sdk_config, clients: Arc::default() }
    }

    /// Configuration for the sandbox at `endpoint_url`. The credentials are
    /// fixed and fake: the sandbox accepts any, and real ones must never be
    /// sent to it.
    pub fn sandbox(endpoint_url: &str, region: &str) -> Aws {
        let credentials =
            Credentials::new("AKIAKEYWATCHSANDBOX1", "sandbox-secret-access-key", None, None, "keywatch-sandbox");
        let sdk_config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(endpoint_url)
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .retry_config(interactive_retries())
            .build();
        Aws::new(sdk_config)
    }

    /// Configuration for live AWS through the default credential chain,
    /// optionally from a named profile. Keywatch never stores the credentials
    /// it finds this way.
    pub async fn live(region: &str, profile: Option<&str>) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_owned()));
        if let Some(profile) = profile {
            loader = loader.profile_name(profile);
        }
        // Retry settings the user gave through the environment are theirs
        // to make; otherwise the console's apply.
        let user_set = ["AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"].iter().any(|name| std::env::var_os(name).is_some());
        if !user_set {
            loader = loader.retry_config(interactive_retries());
        }
        Aws::new(loader.load().await)
    }

    /// The same AWS for the background pollers: adaptive retries with more
    /// attempts (see [`POLLER_MAX_ATTEMPTS`]), unless the user set retry
    /// settings in the environment.
    pub fn for_pollers(&self) -> Aws {
        if ["AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"].iter().any(|name| std::env::var_os(name).is_some()) {
            return self.clone();
        }
        let sdk_config = self
            .sdk_config
            .to_builder()
            .retry_config(RetryConfig::adaptive().with_max_attempts(POLLER_MAX_ATTEMPTS))
            .build();
        Aws::new(sdk_config)
    }

    /// The STS wrapper.
    pub fn sts(&self) -> sts::Sts {
        self.clients.sts.get_or_init(|| sts::Sts::new(&self.sdk_config)).clone()
    }

    /// The CloudFormation wrapper.
    pub fn cloudformation(&self) -> cloudformation::CloudFormation {
        self.clients.cloudformation.get_or_init(|| cloudformation::CloudFormation::new(&self.sdk_config)).clone()
    }

    /// The ECR wrapper.
    pub fn ecr(&self) -> ecr::Ecr {
        self.clients.ecr.get_or_init(|| ecr::Ecr::new(&self.sdk_config)).clone()
    }

    /// The IAM wrapper.
    pub fn iam(&self) -> iam::Iam {
        self.clients.iam.get_or_init(|| iam::Iam::new(&self.sdk_config)).clone()
    }

    /// The KMS wrapper.
    pub fn kms(&self) -> kms::Kms {
        self.clients.kms.get_or_init(|| kms::Kms::new(&self.sdk_config)).clone()
    }

    /// The S3 wrapper; buckets are addressed by path when an endpoint URL is
    /// set (the sandbox), by virtual host on AWS.
    pub fn s3(&self) -> s3::S3 {
        self.clients.s3.get_or_init(|| s3::S3::new(&self.sdk_config, self.sdk_config.endpoint_url().is_some())).clone()
    }

    /// The CloudWatch wrapper.
    pub fn cloudwatch(&self) -> cloudwatch::CloudWatch {
        self.clients.cloudwatch.get_or_init(|| cloudwatch::CloudWatch::new(&self.sdk_config)).clone()
    }

    /// The SNS wrapper.
    pub fn sns(&self) -> sns::Sns {
        self.clients.sns.get_or_init(|| sns::Sns::new(&self.sdk_config)).clone()
    }

    /// The RDS wrapper.
    pub fn rds(&self) -> rds::Rds {
        self.clients.rds.get_or_init(|| rds::Rds::new(&self.sdk_config)).clone()
    }

    /// The CloudWatch Logs wrapper.
    pub fn logs(&self) -> logs::Logs {
        self.clients.logs.get_or_init(|| logs::Logs::new(&self.sdk_config)).clone()
    }

    /// The SQS wrapper.
    pub fn sqs(&self) -> sqs::Sqs {
        self.clients.sqs.get_or_init(|| sqs::Sqs::new(&self.sdk_config)).clone()
    }
}

/// Attempts per call made while someone waits on a page: standard mode,
/// AWS's recommended default, with one attempt more than its default of
/// three, so a page rides out a short burst of throttling (exponential
/// backoff with jitter between attempts) before it reports AWS as busy.
/// <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>
pub const INTERACTIVE_MAX_ATTEMPTS: u32 = 4;

/// Attempts per call for the background pollers, whose rounds nobody waits
/// on. They run in adaptive mode, which AWS recommends for callers that are
/// "single-resource, throttling-heavy, latency-tolerant" (a poller asking
/// CloudWatch for alarm history every few seconds is exactly that): it adds
/// client-side rate limiting that slows the poller down while AWS throttles
/// it. A round that still fails is retried by the poller's own back-off,
/// from its stored cursor.
/// <https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>
pub const POLLER_MAX_ATTEMPTS: u32 = 8;

fn interactive_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(INTERACTIVE_MAX_ATTEMPTS)
}

/// What kind of failure an AWS call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// Credentials are missing, expired, wrong, or lack the permission.
    Credentials,
    /// AWS asked us to slow down.
    Throttled,
    /// AWS could not be reached, timed out, or failed on its side.
    Unavailable,
    /// The resource named in the request does not exist (a wrapper decides
    /// this from the operation's own not-found error variant).
    NotFound,
    /// AWS refused the request itself (validation, state).
    Rejected,
    /// The SDK failed before sending, for reasons that are ours.
    Internal,
}

/// A failed AWS call, classified.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed ({kind:?}): {code}: {message}")]
pub struct AwsCallError {
    pub operation: &'static str,
    pub kind: AwsErrorKind,
    /// AWS's error code, or a description of the failure class.
    pub code: String,
    pub message: String,
}

/// Error codes with which AWS says the caller's identity or rights are the
/// problem (STS, IAM and the common service errors).
const CREDENTIAL_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AuthFailure",
    "ExpiredToken",
    "ExpiredTokenException",
    "IncompleteSignature",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
];

/// Error codes with which AWS throttles (the SDK retries these itself first).
const THROTTLING_CODES: &[&str] =
    &["Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown"];

impl AwsCallError {
    /// Classifies an SDK error by its variant and, for service errors, by
    /// AWS's error code.
    pub fn from_sdk<E, R>(operation: &'static str, error: SdkError<E, R>) -> AwsCallError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let credentials_failure = has_credentials_error(&error);
        let (kind, code, message) = match &error {
            SdkError::ServiceError(context) => {
                let service_error = context.err();
                let code = service_error.code().unwrap_or("Unknown").to_owned();
                let kind = if CREDENTIAL_CODES.contains(&code.as_str()) {
                    AwsErrorKind::Credentials
                } else if THROTTLING_CODES.contains(&code.as_str()) {
                    AwsErrorKind::Throttled
                } else {
                    AwsErrorKind::Rejected
                };
                (kind, code, service_error.message().unwrap_or_default().to_owned())
            }
            _ if credentials_failure => (
                AwsErrorKind::Credentials,
                "NoCredentials".to_owned(),
                "no usable AWS credentials were found".to_owned(),
            ),
            SdkError::TimeoutError(_) => {
                (AwsErrorKind::Unavailable, "Timeout".to_owned(), "AWS did not answer in time".to_owned())
            }
            SdkError::DispatchFailure(_) => {
                (AwsErrorKind::Unavailable, "Unreachable".to_owned(), "AWS could not be reached".to_owned())
            }
            SdkError::ResponseError(_) => (
                AwsErrorKind::Unavailable,
                "BadResponse".to_owned(),
                "AWS sent a response Keywatch could not read".to_owned(),
            ),
            _ => (AwsErrorKind::Internal, "SdkFailure".to_owned(), source_chain(&error)),
        };
        AwsCallError { operation, kind, code, message }
    }

    /// The same error, reclassified as not found: wrappers call this when
    /// the SDK's typed error variant says so.
    pub fn not_found(mut self) -> AwsCallError {
        self.kind = AwsErrorKind::NotFound;
        self
    }

    /// The part of the error users see: AWS's own code and message, never
    /// Keywatch's internals.
    pub fn user_message(&self) -> String {
        match self.kind {
            AwsErrorKind::Internal => format!("{} could not be sent", self.operation),
            _ if self.message.is_empty() => format!("{} failed: {}", self.operation, self.code),
            _ => format!("{} failed: {} ({})", self.operation, self.message, self.code),
        }
    }
}

/// Whether the failure came from resolving credentials, found by type in the
/// error's source chain.
fn has_credentials_error(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = error.source();
    while let Some(source) = current {
        if source.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        current = source.source();
    }
    false
}

fn source_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(source) = current {
        text.push_str(": ");
        text.push_str(&source.to_string());
        current = source.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use aws_config::retry::RetryMode;

    use super::*;

    // https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html:
    // standard mode for interactive calls, adaptive for latency-tolerant,
    // throttling-heavy callers; max_attempts raised from the default three.
    #[test]
    fn pages_retry_in_standard_mode_and_pollers_in_adaptive_mode_with_more_attempts() {
        if ["AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"].iter().any(|name| std::env::var_os(name).is_some()) {
            // The user's settings win; nothing of ours to check.
            return;
        }
        let aws = Aws::sandbox("http://127.0.0.1:1", "ap-southeast-2");
        let interactive = aws.sdk_config.retry_config().expect("retry config");
        assert_eq!((interactive.mode(), interactive.max_attempts()), (RetryMode::Standard, INTERACTIVE_MAX_ATTEMPTS));
        let pollers = aws.for_pollers();
        let background = pollers.sdk_config.retry_config().expect("retry config");
        assert_eq!((background.mode(), background.max_attempts()), (RetryMode::Adaptive, POLLER_MAX_ATTEMPTS));
        // Everything else is the same AWS.
        assert_eq!(pollers.sdk_config.endpoint_url(), aws.sdk_config.endpoint_url());
        assert_eq!(pollers.sdk_config.region(), aws.sdk_config.region());
    }
}

//! The one error type of the sandbox's service layer: an AWS error as a
//! service would return it, before any protocol has encoded it.

use http::StatusCode;

/// Who AWS blames for an error; Query-protocol responses print it as
/// `<Type>Sender</Type>` or `<Type>Receiver</Type>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Sender,
    Receiver,
}

/// An error a sandboxed service returns, shaped like the AWS one it imitates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AwsError {
    /// The error code AWS uses (e.g. `InvalidAction`, `NotFoundException`).
    pub code: String,
    pub message: String,
    pub status: StatusCode,
    pub fault: Fault,
    /// The Query-protocol code of a service that moved from Query to JSON or
    /// CBOR and is "awsQueryCompatible" (SQS, CloudWatch): sent in the
    /// `x-amzn-query-error` header, which the SDKs read before `__type`.
    pub query_code: Option<String>,
    /// Extra members of a REST-XML error (S3's `<BucketName>`, `<Key>`), in order.
    pub details: Vec<(String, String)>,
    /// The `errorCode` CloudTrail records when it is not [`AwsError::code`]:
    /// a call refused by IAM authorization is recorded as `AccessDenied`
    /// whatever the service's own exception is called. A static name keeps
    /// the error small enough to return by value everywhere.
    pub trail_code: Option<&'static str>,
}

impl AwsError {
    /// A client error with HTTP 400, the status most AWS errors use.
    pub fn sender(code: &str, message: impl Into<String>) -> AwsError {
        AwsError {
            code: code.to_owned(),
            message: message.into(),
            status: StatusCode::BAD_REQUEST,
            fault: Fault::Sender,
            query_code: None,
            details: Vec::new(),
            trail_code: None,
        }
    }

    /// The same error with another HTTP status (S3's 404s and 409s).
    pub fn with_status(mut self, status: StatusCode) -> AwsError {
        self.status = status;
        self
    }

    /// The same error with one more REST-XML member (see [`AwsError::details`]).
    pub fn with_detail(mut self, name: &str, value: impl Into<String>) -> AwsError {
        self.details.push((name.to_owned(), value.into()));
        self
    }

    /// The same error with its Query-protocol code (see [`AwsError::query_code`]).
    pub fn with_query_code(mut self, code: &str) -> AwsError {
        self.query_code = Some(code.to_owned());
        self
    }

    /// The same error recorded by CloudTrail as `code` (see [`AwsError::trail_code`]).
    pub fn with_trail_code(mut self, code: &'static str) -> AwsError {
        self.trail_code = Some(code);
        self
    }

    /// A server-side failure (HTTP 500, `InternalFailure` as AWS names it).
    pub fn internal(message: impl Into<String>) -> AwsError {
        AwsError {
            code: "InternalFailure".to_owned(),
            message: message.into(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
            fault: Fault::Receiver,
            query_code: None,
            details: Vec::new(),
            trail_code: None,
        }
    }

    /// A server-side failure under the code `service` uses for one.
    pub fn internal_as(code: &str, message: String) -> AwsError {
        AwsError { code: code.to_owned(), ..AwsError::internal(message) }
    }

    /// The error every protocol returns for an operation the service lacks.
    pub fn unknown_operation(service: &str, operation: &str) -> AwsError {
        AwsError::sender(
            "UnknownOperationException",
            format!("The Keywatch sandbox does not implement {service}:{operation}"),
        )
    }
}

/// What a call answers when its changes could not be saved (a full or
/// failing state directory): the service's own server error (HTTP 500),
/// so SDKs treat it as retryable. The message says why.
pub fn storage_failure(service: &str, reason: &impl std::fmt::Display) -> AwsError {
    let message = format!("The Keywatch sandbox could not save this call: {reason}");
    // Each service's documented 500 error.
    let code = match service {
        "kms" => "KMSInternalException",
        "logs" => "ServiceUnavailableException",
        "monitoring" | "secretsmanager" => "InternalServiceError",
        "s3" | "sns" => "InternalError",
        "ecr" => "ServerException",
        _ => "InternalFailure",
    };
    AwsError::internal_as(code, message)
}

//! The server layer's one error type, and how each kind reaches the browser.
//!
//! Errors carry kinds; [`From<ServerError> for AppError`] maps by kind, logs
//! internal detail once, and passes on only what users may see.

use keywatch_app::error::AppError;

use crate::aws::{AwsCallError, AwsErrorKind};
use crate::db::DbError;

/// Anything that can go wrong inside the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Refused at start-up: bad configuration, said in one line.
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Aws(#[from] AwsCallError),
    #[error(transparent)]
    Sandbox(#[from] keywatch_sandbox::SandboxError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    SandboxClient(#[from] crate::sandbox_client::SandboxClientError),
}

impl From<ServerError> for AppError {
    fn from(error: ServerError) -> AppError {
        match error {
            ServerError::Aws(error) => error.into(),
            ServerError::Database(error) => error.into(),
            // A link the sandbox refuses (a used or wrong confirmation
            // token) is the user's to fix, not an outage.
            ServerError::SandboxClient(crate::sandbox_client::SandboxClientError::Refused { code, .. }) => {
                AppError::InvalidInput {
                    field: None,
                    message: format!(
                        "SNS refused this confirmation link ({code}): it has been used already or is no longer \
                         valid. Ask for a new confirmation from the Subscribers page."
                    ),
                }
            }
            ServerError::SandboxClient(error) => {
                tracing::warn!(%error, "sandbox request failed");
                AppError::Unavailable("The sandbox did not answer".into())
            }
            other => {
                tracing::error!(error = %other, "server error");
                AppError::Internal
            }
        }
    }
}

impl From<AwsCallError> for AppError {
    fn from(error: AwsCallError) -> AppError {
        let message = error.user_message();
        match error.kind {
            AwsErrorKind::Credentials => AppError::Credentials(message),
            AwsErrorKind::Unavailable | AwsErrorKind::Throttled => AppError::Unavailable(message),
            AwsErrorKind::Rejected => AppError::InvalidInput { field: None, message },
            // AWS names the missing resource in its message; the page shows it.
            AwsErrorKind::NotFound => {
                AppError::NotFound(format!("What {} asked for ({})", error.operation, error.message))
            }
            AwsErrorKind::Internal => {
                tracing::error!(error = %error, "AWS call failed inside the SDK");
                AppError::Internal
            }
        }
    }
}

impl From<DbError> for AppError {
    fn from(error: DbError) -> AppError {
        tracing::error!(error = %error, "database error");
        AppError::Internal
    }
}

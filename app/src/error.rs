//! The app layer's one error type: what the browser may learn about a failure.
//!
//! Every variant is a kind with a message fit for users. Server code maps its
//! own errors into these by kind, logging any internal detail itself, so that
//! nothing internal reaches the browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A failure as the console's pages see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The request was refused before anything changed; `field` names the
    /// form field to show the message beside.
    #[error("{message}")]
    InvalidInput { field: Option<String>, message: String },
    #[error("{0} was not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// AWS (or the sandbox) refused the credentials or the caller's rights.
    #[error("{0}")]
    Credentials(String),
    /// AWS (or the sandbox) could not be reached or is failing; worth retrying.
    #[error("{0}")]
    Unavailable(String),
    /// Something broke inside Keywatch; the detail is in the server's log.
    #[error("Keywatch hit an internal error; its log has the details")]
    Internal,
    /// The request never reached the server function, or its reply was unreadable.
    #[error("the request could not be completed: {0}")]
    Transport(String),
}

impl AppError {
    /// A short heading for the kind, for error panels.
    pub fn title(&self) -> &'static str {
        match self {
            AppError::InvalidInput { .. } => "Invalid input",
            AppError::NotFound(_) => "Not found",
            AppError::Conflict(_) => "Conflict",
            AppError::Credentials(_) => "AWS credentials problem",
            AppError::Unavailable(_) => "AWS is unavailable",
            AppError::Internal => "Internal error",
            AppError::Transport(_) => "Connection to Keywatch failed",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Argument errors are the caller's malformed input, not ours.
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                AppError::InvalidInput { field: None, message: clipped(message) }
            }
            ServerFnErrorErr::Request(message) | ServerFnErrorErr::Deserialization(message) => {
                AppError::Transport(clipped(message))
            }
            _ => AppError::Internal,
        }
    }
}

/// Decoding errors quote the input they could not read; a message keeps
/// only its start, so a huge hostile body is not sent back whole.
fn clipped(message: String) -> String {
    const SHOWN: usize = 300;
    match message.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message,
    }
}

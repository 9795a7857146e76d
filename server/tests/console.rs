//! The console's router against an in-process sandbox and a temporary SQLite
//! database: server functions, pages and cross-site protection, end to end
//! through the real SDK clients.

mod support;

use axum::body::Body;
use http::{Method, StatusCode, header};
use keywatch::aws::Aws;
use keywatch::console::PortSource;
use keywatch_app::api::connection::{CheckOutcome, ConnectionCheck, ConsoleSettings, ModeSource};
use keywatch_app::error::AppError;
use support::World;
use support::requests::{self, post_form};

struct Harness {
    router: axum::Router,
    world: World,
}

/// The sandbox mode the Connection page explains: no credentials found.
fn settings(world: &World) -> ConsoleSettings {
    ConsoleSettings { mode_source: ModeSource::NoCredentialsFound, ..world.settings() }
}

/// The console's router over services that call AWS through `aws(endpoint)`.
async fn harness_with(aws: impl FnOnce(&str) -> Aws) -> Harness {
    let world = World::new().await;
    let ports = world.ports_over(aws(&world.sandbox.endpoint_url), settings(&world));
    let router = world.app_over(PortSource::fixed(ports), world.auth().await);
    Harness { router, world }
}

async fn harness() -> Harness {
    harness_with(|endpoint| Aws::sandbox(endpoint, support::REGION)).await
}

/// A server function called as the pages call it: status and body.
async fn post(router: &axum::Router, path: &str) -> (StatusCode, String) {
    let reply = post_form(router, path, "").await;
    (reply.status, reply.body)
}

#[tokio::test]
async fn check_connection_asks_sts_and_records_the_answer_in_sqlite() {
    let harness = harness().await;

    let (status, body) = post(&harness.router, "/api/connection/check").await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let check: ConnectionCheck = serde_json::from_str(&body).expect("a ConnectionCheck");
    let CheckOutcome::Connected(identity) = &check.outcome else { panic!("not connected: {check:?}") };
    assert_eq!(identity.account_id, "111122223333");
    assert_eq!(identity.arn, "arn:aws:iam::111122223333:user/sandbox-admin");
    let stored = harness.world.db.connection_checks().recent(10).await.expect("query");
    assert_eq!(stored, vec![check]);
}

#[tokio::test]
async fn recent_checks_come_back_newest_first() {
    let harness = harness().await;
    for _ in 0..3 {
        assert_eq!(post(&harness.router, "/api/connection/check").await.0, StatusCode::OK);
    }

    let (status, body) = post(&harness.router, "/api/connection/checks").await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let checks: Vec<ConnectionCheck> = serde_json::from_str(&body).expect("checks");
    let ids: Vec<i64> = checks.iter().map(|check| check.id).collect();
    assert_eq!(ids, [3, 2, 1]);
}

#[tokio::test]
async fn the_connection_page_renders_the_sandbox_account_on_the_server() {
    let harness = harness().await;
    post(&harness.router, "/api/connection/check").await;

    let response = requests::get(&harness.router, "/").await;

    assert_eq!(response.status, StatusCode::OK);
    let html = response.body;
    assert!(html.contains("<h1>Connection</h1>"), "{html}");
    assert!(html.contains("111122223333"), "account id missing from the page");
    assert!(html.contains("No AWS credentials were found"), "sandbox mode not explained");
}

#[tokio::test]
async fn unknown_pages_are_404() {
    let harness = harness().await;
    let response = requests::get(&harness.router, "/no-such-page").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_cross_site_post_is_refused_and_writes_nothing() {
    let harness = harness().await;

    let request = requests::request(Method::POST, "/api/connection/check")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header("origin", "https://attacker.example")
        .body(Body::empty())
        .expect("request");
    let status = requests::send(&harness.router, request).await.status;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(harness.world.db.connection_checks().recent(10).await.expect("query").is_empty());
}

#[tokio::test]
async fn an_unreachable_aws_is_recorded_as_unavailable_not_a_crash() {
    // Port 1 on loopback: nothing listens there.
    let harness = harness_with(|_| Aws::sandbox("http://127.0.0.1:1", support::REGION)).await;

    let (status, body) = post(&harness.router, "/api/connection/check").await;

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
                .region(aws_config::Region::new(support::REGION))
                .endpoint_url(endpoint)
                .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(NoCredentials))
                .build(),
        )
    })
    .await;

    let (_, body) = post(&harness.router, "/api/connection/check").await;

    let check: ConnectionCheck = serde_json::from_str(&body).expect("a ConnectionCheck");
    let CheckOutcome::Failed(AppError::Credentials(message)) = &check.outcome else { panic!("{check:?}") };
    assert!(message.contains("credentials"), "{message}");
}

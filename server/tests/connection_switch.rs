//! Changing Region from the Connection page: the choice is checked before
//! anything changes, every AWS-facing part follows it, it survives a restart,
//! and it is refused while CloudFormation is still working on a deployment.
//! Real SDK clients against an in-process sandbox, through the router.

mod support;

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use http::StatusCode;
use keywatch::cli::{Cli, Command};
use keywatch::config::ServeConfig;
use keywatch::console::Console;
use keywatch::db::deployments::NewDeployment;
use keywatch_app::api::connection::{ConnectionCheck, ConsoleSettings};
use keywatch_app::api::subscribers::AlarmTopic;
use keywatch_app::error::AppError;
use keywatch_domain::lab::LabSection;
use keywatch_sandbox::SandboxConfig;
use support::World;
use support::requests::post_form;

struct Harness {
    console: Arc<Console>,
    router: axum::Router,
    world: World,
}

/// The switchable console `serve` runs, on a sandbox taking `stack_pace`
/// per resource, behind its router.
async fn harness(stack_pace: Duration) -> Harness {
    let world = World::with(SandboxConfig { stack_pace, ..SandboxConfig::default() }).await;
    let console = world.start_console(Duration::from_secs(1)).await;
    let router = world.app_over(console.ports(), world.auth().await);
    Harness { console, router, world }
}

async fn post(router: &axum::Router, path: &str, form: &str) -> (StatusCode, String) {
    let reply = post_form(router, path, form).await;
    (reply.status, reply.body)
}

async fn settings(router: &axum::Router) -> ConsoleSettings {
    let (status, body) = post(router, "/api/connection/settings", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).expect("settings")
}

fn sdk(world: &World, region: &str) -> aws_config::SdkConfig {
    keywatch::aws::Aws::sandbox(&world.sandbox.endpoint_url, region).sdk_config
}

#[tokio::test]
async fn switching_region_moves_every_part_and_is_remembered() {
    let harness = harness(Duration::ZERO).await;
    // A lab topic in Sydney: the Subscribers page lists it there only.
    let sydney_sns = aws_sdk_sns::Client::new(&sdk(&harness.world, "ap-southeast-2"));
    sydney_sns.create_topic().name("pattern1-logging-topic").send().await.expect("topic");
    let (_, body) = post(&harness.router, "/api/subscribers/topics", "").await;
    let topics: Vec<AlarmTopic> = serde_json::from_str(&body).expect("topics");
    assert_eq!(topics.len(), 1, "{body}");

    let (status, body) = post(&harness.router, "/api/connection/change", "input[region]=eu-west-1").await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let changed: ConsoleSettings = serde_json::from_str(&body).expect("settings");
    assert_eq!((changed.region.as_str(), changed.region_name.as_str()), ("eu-west-1", "Europe (Ireland)"));
    assert_eq!(settings(&harness.router).await.region, "eu-west-1");
    // Every AWS call now goes to Ireland, where the lab has no topic.
    let (_, body) = post(&harness.router, "/api/subscribers/topics", "").await;
    let topics: Vec<AlarmTopic> = serde_json::from_str(&body).expect("topics");
    assert!(topics.is_empty(), "{body}");
    // A connection check in the new Region is recorded by itself.
    let mut checked_in_ireland = false;
    for _ in 0..50 {
        let (_, body) = post(&harness.router, "/api/connection/checks", "").await;
        let checks: Vec<ConnectionCheck> = serde_json::from_str(&body).expect("checks");
        if checks.first().is_some_and(|check| check.region == "eu-west-1") {
            checked_in_ireland = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(checked_in_ireland, "no connection check recorded in eu-west-1");

    // A restart without --region comes back to Ireland; with one, the flag wins.
    let stored = harness.world.db.connection_choice().get().await.expect("read").expect("stored");
    assert_eq!((stored.region.as_str(), stored.profile), ("eu-west-1", None));
    let (region, _) = keywatch::connection_to_use(&serve_config(&[]), &harness.world.db).await.expect("choice");
    assert_eq!(region.code, "eu-west-1");
    let (region, _) = keywatch::connection_to_use(&serve_config(&["--region", "us-east-1"]), &harness.world.db)
        .await
        .expect("choice");
    assert_eq!(region.code, "us-east-1");
    harness.console.stop().await;
}

fn serve_config(flags: &[&str]) -> ServeConfig {
    let mut argv = vec!["keywatch", "serve", "--aws", "sandbox"];
    argv.extend_from_slice(flags);
    let Command::Serve(args) = Cli::try_parse_from(argv).expect("parses").into_command() else { panic!("not serve") };
    ServeConfig::from_args(&args, &|_| None).expect("valid")
}

#[tokio::test]
async fn a_region_that_does_not_exist_is_refused_beside_the_field_and_nothing_changes() {
    let harness = harness(Duration::ZERO).await;
    let hostile = [
        "input[region]=mars-north-1",
        "input[region]=",
        "input[region]=AP-SOUTHEAST-2",
        "input[region]=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "input[region]=eu-west-1%27%3B%20DROP%20TABLE%20connection_choice%3B--",
        "input[region]=eu-west-1%00",
    ];
    for form in hostile {
        let (status, body) = post(&harness.router, "/api/connection/change", form).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{form}: {body}");
        let error: AppError = serde_json::from_str(&body).expect("an AppError");
        assert!(
            matches!(&error, AppError::InvalidInput { field: Some(field), .. } if field == "region"),
            "{form}: {error:?}"
        );
    }
    let huge = format!("input[region]={}", "x".repeat(100_000));
    let (_, body) = post(&harness.router, "/api/connection/change", &huge).await;
    assert!(body.len() < 500, "the message echoes a bounded part of the input: {} bytes", body.len());

    assert_eq!(settings(&harness.router).await.region, "ap-southeast-2");
    assert_eq!(harness.world.db.connection_choice().get().await.expect("read"), None);
    harness.console.stop().await;
}

#[tokio::test]
async fn switching_is_refused_while_a_stack_is_being_deployed() {
    // Each resource takes a second, so the stack is still in progress below.
    let harness = harness(Duration::from_secs(1)).await;
    let cloudformation = aws_sdk_cloudformation::Client::new(&sdk(&harness.world, "ap-southeast-2"));
    let template = r#"{"Resources": {
        "A": {"Type": "AWS::SNS::Topic"}, "B": {"Type": "AWS::SNS::Topic"},
        "C": {"Type": "AWS::SNS::Topic"}, "D": {"Type": "AWS::SNS::Topic"},
        "E": {"Type": "AWS::SNS::Topic"}, "F": {"Type": "AWS::SNS::Topic"}}}"#;
    let created =
        cloudformation.create_stack().stack_name("pattern1-base").template_body(template).send().await.expect("create");
    harness
        .world
        .db
        .deployments()
        .insert(NewDeployment {
            actor: "console".into(),
            section: LabSection::BaseNetwork,
            prefix: "pattern1".into(),
            stack_name: "pattern1-base".into(),
            stack_id: created.stack_id,
            action: "create",
            change_set_id: None,
            started_at_ms: 0,
        })
        .await
        .expect("deployment recorded");

    let (status, body) = post(&harness.router, "/api/connection/change", "input[region]=eu-west-1").await;

    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let error: AppError = serde_json::from_str(&body).expect("an AppError");
    assert!(matches!(&error, AppError::Conflict(message) if message.contains("pattern1-base")), "{error:?}");
    assert_eq!(settings(&harness.router).await.region, "ap-southeast-2");
    assert_eq!(harness.world.db.connection_choice().get().await.expect("read"), None);
    harness.console.stop().await;
}

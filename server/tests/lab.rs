//! The setup wizard's backend against the in-process sandbox and a temporary
//! SQLite database: previews as change sets, deployments recorded and
//! followed by the stack watcher, re-deploys without changes, form
//! validation before anything reaches AWS, a watcher that resumes after a
//! restart, and the server functions through the router.

mod support;

use std::time::Duration;

use http::StatusCode;
use keywatch::db::Database;
use keywatch::lab::ServerLab;
use keywatch::pollers::stack_watcher::StackWatcher;
use keywatch_app::api::lab::port::LabBackend;
use keywatch_app::api::lab::{
    DeployRequest, DeploymentView, LabOverview, LeftoverRemoval, PreviewOutcome, PreviewRequest, RemoveLeftoverRequest,
    SectionRequest, TeardownQuery, TeardownRequest,
};
use keywatch_app::error::AppError;
use keywatch_domain::lab::LabSection;
use keywatch_sandbox::SandboxConfig;
use support::World;
use support::requests::{self, post_form};

struct Harness {
    lab: ServerLab,
    world: World,
}

/// The wizard's backend on a sandbox taking `stack_pace` per resource.
async fn harness(stack_pace: Duration) -> Harness {
    let world = World::with(SandboxConfig { stack_pace, ..SandboxConfig::default() }).await;
    let lab = ServerLab::new(
        world.aws.clone(),
        world.db.clone(),
        support::REGION.into(),
        keywatch_app::api::connection::AwsMode::Sandbox,
    );
    Harness { lab, world }
}

fn preview_request(section: LabSection, prefix: &str, parameters: &[(&str, &str)]) -> PreviewRequest {
    PreviewRequest {
        section,
        prefix: prefix.into(),
        parameters: parameters.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect(),
    }
}

/// Previews and deploys; returns the recorded deployment.
async fn deploy(harness: &Harness, request: PreviewRequest) -> DeploymentView {
    let section = request.section;
    let prefix = request.prefix.clone();
    let PreviewOutcome::Changes { change_set_id, .. } = harness.lab.preview(request).await.expect("preview") else {
        panic!("expected changes")
    };
    harness.lab.deploy(DeployRequest { section, prefix, change_set_id }).await.expect("deploy")
}

/// The trail bucket an earlier lab left behind (the logging stack retains
/// it): the next logging stack's create fails on it and rolls back.
async fn leave_trail_bucket(harness: &Harness) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&harness.world.aws.sdk_config).force_path_style(true).build(),
    );
    let constraint = aws_sdk_s3::types::BucketLocationConstraint::from("ap-southeast-2");
    s3.create_bucket()
        .bucket(TRAIL_BUCKET)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(constraint).build(),
        )
        .send()
        .await
        .expect("CreateBucket");
    s3
}

/// The lab's trail bucket name in the sandbox's account and Region.
const TRAIL_BUCKET: &str = "pattern1-logging-trail-111122223333-ap-southeast-2";

/// Runs the watcher until the deployment has an outcome.
async fn follow(watcher: &StackWatcher, db: &Database, id: i64) -> DeploymentView {
    for _ in 0..300 {
        watcher.poll_once().await.expect("watcher round");
        let deployment = db.deployments().get(id).await.expect("query").expect("recorded");
        if deployment.outcome.is_some() {
            return deployment;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("deployment {id} never finished")
}

#[tokio::test]
async fn deploying_base_through_the_api_records_the_deployment_and_its_events() {
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html:
    // a change set previews the changes before they are executed.
    let harness = harness(Duration::ZERO).await;
    let preview = harness.lab.preview(preview_request(LabSection::BaseNetwork, "team-a", &[])).await.expect("preview");
    let PreviewOutcome::Changes { change_set_id, update, changes } = preview else { panic!("expected changes") };
    assert!(!update, "a new stack is a creation");
    assert!(changes.iter().all(|change| change.action == "Add"), "{changes:?}");
    assert!(changes.iter().any(|change| change.logical_id == "VPC" && change.resource_type == "AWS::EC2::VPC"));

    let deployment = harness
        .lab
        .deploy(DeployRequest { section: LabSection::BaseNetwork, prefix: "team-a".into(), change_set_id })
        .await
        .expect("deploy");
    // Who deployed: the request's user (outside a request, as here, the
    // console's local user), which the audit log names with the outcome.
    assert_eq!((deployment.action.as_str(), deployment.actor.as_str()), ("create", keywatch::auth::LOCAL_USER));
    assert_eq!(deployment.stack_name, "team-a-base");

    let watcher = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    let done = follow(&watcher, &harness.world.db, deployment.id).await;
    assert_eq!(done.outcome.as_deref(), Some("succeeded"));
    assert_eq!(done.final_status.as_deref(), Some("CREATE_COMPLETE"));
    // Polling again stores nothing twice: events are keyed by CloudFormation's event id.
    let stored = harness.world.db.stack_events().count_for_deployment(deployment.id).await.expect("count");
    watcher.poll_once().await.expect("round");
    assert_eq!(harness.world.db.stack_events().count_for_deployment(deployment.id).await.expect("count"), stored);

    let live = harness.lab.live(SectionRequest { section: LabSection::BaseNetwork, prefix: None }).await.expect("live");
    assert_eq!(live.stack.status.as_deref(), Some("CREATE_COMPLETE"));
    assert_eq!(live.done, live.total);
    assert!(live.events.iter().any(|event| event.logical_id == "team-a-base" && event.status == "CREATE_COMPLETE"));
    assert!(live.stack.outputs.iter().any(|output| output.key == "OutputPattern1AppContainerRepositoryUri"));

    // The overview follows the last deployed prefix.
    let overview = harness.lab.overview().await.expect("overview");
    assert_eq!(overview.prefix, "team-a");
    assert_eq!(overview.sections[0].stack.status.as_deref(), Some("CREATE_COMPLETE"));
    assert_eq!(overview.sections[1].stack.status, None);
}

#[tokio::test]
async fn redeploying_without_changes_says_so() {
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html:
    // a change set with no changes FAILS with "The submitted information didn't contain changes."
    let harness = harness(Duration::ZERO).await;
    let watcher = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    let first = deploy(&harness, preview_request(LabSection::BaseNetwork, "pattern1", &[])).await;
    follow(&watcher, &harness.world.db, first.id).await;

    let again = harness.lab.preview(preview_request(LabSection::BaseNetwork, "pattern1", &[])).await.expect("preview");
    assert_eq!(again, PreviewOutcome::NoChanges);
}

#[tokio::test]
async fn an_existing_stack_is_updated_through_a_change_set() {
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets-create.html
    let harness = harness(Duration::ZERO).await;
    let watcher = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    let base = deploy(&harness, preview_request(LabSection::BaseNetwork, "pattern1", &[])).await;
    follow(&watcher, &harness.world.db, base.id).await;
    let app = deploy(&harness, preview_request(LabSection::Application, "pattern1", &[])).await;
    assert_eq!(follow(&watcher, &harness.world.db, app.id).await.outcome.as_deref(), Some("succeeded"));

    let detail = harness
        .lab
        .section(SectionRequest { section: LabSection::Application, prefix: Some("pattern1".into()) })
        .await
        .expect("detail");
    assert!(detail.missing_prerequisites.is_empty());
    // The console wires these itself; they are not form fields.
    assert_eq!(detail.wired.iter().map(|w| w.key.as_str()).collect::<Vec<_>>(), ["BaselineVpcStack", "ECRImageURI"]);
    assert!(detail.fields.iter().all(|field| field.key != "ECRImageURI"));
    let db_class = detail.fields.iter().find(|field| field.key == "DBInstanceClass").expect("a form field");
    assert_eq!(db_class.value, "db.t3.micro");
    assert!(db_class.allowed_values.contains(&"db.t3.small".to_owned()));
    let image = detail.image.expect("the application section shows the image");
    assert!(image.sandbox);
    assert!(image.push_commands.iter().any(|command| command.starts_with("docker push ")));

    let preview = harness
        .lab
        .preview(preview_request(LabSection::Application, "pattern1", &[("DBInstanceClass", "db.t3.small")]))
        .await
        .expect("preview");
    let PreviewOutcome::Changes { change_set_id, update, changes } = preview else { panic!("expected changes") };
    assert!(update);
    assert!(changes.iter().any(|change| change.action == "Modify" && change.logical_id == "Pattern1DB"), "{changes:?}");
    let deployment = harness
        .lab
        .deploy(DeployRequest { section: LabSection::Application, prefix: "pattern1".into(), change_set_id })
        .await
        .expect("deploy");
    assert_eq!(deployment.action, "update");
    assert_eq!(
        follow(&watcher, &harness.world.db, deployment.id).await.final_status.as_deref(),
        Some("UPDATE_COMPLETE")
    );
}

#[tokio::test]
async fn bad_input_is_refused_beside_its_field_before_anything_reaches_aws() {
    // Stack names: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html
    // Parameter constraints: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
    let harness = harness(Duration::ZERO).await;
    let field_of = |error: AppError| match error {
        AppError::InvalidInput { field, .. } => field,
        other => panic!("not an input error: {other:?}"),
    };
    for prefix in ["", "Team_A", "9lives"] {
        let error = harness.lab.preview(preview_request(LabSection::BaseNetwork, prefix, &[])).await.expect_err(prefix);
        assert_eq!(field_of(error), Some("prefix".to_owned()), "{prefix:?}");
    }
    // Logging's prerequisites are missing too, but the form is checked first.
    let error = harness
        .lab
        .preview(preview_request(LabSection::LoggingAndAlarm, "pattern1", &[("EmailAddress", "not-an-email")]))
        .await
        .expect_err("bad email");
    assert_eq!(field_of(error), Some("EmailAddress".to_owned()));
    let missing =
        harness.lab.preview(preview_request(LabSection::Application, "pattern1", &[])).await.expect_err("no base");
    assert_eq!(missing, AppError::Conflict("deploy Base network first".to_owned()));
    assert!(harness.sandbox_has_no_stacks().await);
}

impl Harness {
    async fn sandbox_has_no_stacks(&self) -> bool {
        // Nothing was sent: no change set made a stack in REVIEW_IN_PROGRESS.
        let listed = aws_sdk_cloudformation::Client::new(&self.world.aws.sdk_config)
            .list_stacks()
            .send()
            .await
            .expect("ListStacks");
        listed.stack_summaries().is_empty()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_console_resumes_following_and_keeps_the_full_history() {
    // Each resource takes 100 ms, so the deployment is still running when
    // the first console goes away.
    let harness = harness(Duration::from_millis(100)).await;
    let deployment = deploy(&harness, preview_request(LabSection::BaseNetwork, "pattern1", &[])).await;
    let first = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    first.poll_once().await.expect("round");
    let midway = harness.world.db.deployments().get(deployment.id).await.expect("query").expect("row");
    assert_eq!(midway.outcome, None, "still in progress");
    harness.world.db.close().await;
    drop(first);

    // The restart: a new pool on the same file, a new watcher.
    let reopened = harness.world.reopen().await;
    let second = StackWatcher::new(&harness.world.aws, reopened.clone());
    let done = follow(&second, &reopened, deployment.id).await;
    assert_eq!(done.outcome.as_deref(), Some("succeeded"));
    let events = reopened.stack_events().for_stack("pattern1-base", 1000).await.expect("events");
    let stack_events: Vec<_> =
        events.iter().filter(|event| event.logical_id == "pattern1-base").map(|event| event.status.as_str()).collect();
    assert_eq!(stack_events, ["REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"]);
    assert!(events.iter().any(|event| event.logical_id == "VPC" && event.status == "CREATE_COMPLETE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_needs_the_prefix_typed_and_deletes_the_stacks_in_order() {
    let harness = harness(Duration::ZERO).await;
    let watcher = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    let base = deploy(&harness, preview_request(LabSection::BaseNetwork, "pattern1", &[])).await;
    follow(&watcher, &harness.world.db, base.id).await;

    let refused = harness
        .lab
        .teardown(TeardownRequest { prefix: "pattern1".into(), confirmation: "pattern".into() })
        .await
        .expect_err("wrong confirmation");
    assert!(matches!(refused, AppError::InvalidInput { field: Some(ref field), .. } if field == "confirmation"));

    let started = harness
        .lab
        .teardown(TeardownRequest { prefix: "pattern1".into(), confirmation: "pattern1".into() })
        .await
        .expect("teardown");
    assert!(started.running);
    let mut status = started;
    for _ in 0..200 {
        status = harness.lab.teardown_status(TeardownQuery { prefix: None }).await.expect("status");
        if !status.running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!status.running, "{status:?}");
    let states: Vec<_> = status.steps.iter().map(|step| step.state.as_str()).collect();
    // Logging and application never existed; base is deleted.
    assert_eq!(&states[1..4], ["skipped", "skipped", "done"], "{:?}", status.steps);
    // No database was deleted, so no final snapshot is reported.
    assert!(status.leftovers.is_empty(), "{:?}", status.leftovers);
    assert!(status.steps[3].detail.as_deref().is_some_and(|detail| detail.ends_with("deleted")));
    assert!(status.stacks.iter().all(|stack| !stack.stack.exists()), "{:?}", status.stacks);
}

#[tokio::test]
async fn the_overview_server_function_answers_through_the_router() {
    let harness = harness(Duration::ZERO).await;
    let router = harness.world.app(harness.world.auth().await);
    let response = post_form(&router, "/api/lab/overview", "").await;
    assert_eq!(response.status, StatusCode::OK);
    let overview: LabOverview = serde_json::from_str(&response.body).expect("a LabOverview");
    assert_eq!(overview.prefix, "pattern1");
    assert_eq!(overview.sections.len(), 3);
}

async fn get_page(router: &axum::Router, path: &str) -> (StatusCode, String) {
    let reply = requests::get(router, path).await;
    (reply.status, reply.body)
}

#[tokio::test]
async fn the_wizard_pages_render_on_the_server_before_hydration() {
    let harness = harness(Duration::ZERO).await;
    let watcher = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    let base = deploy(&harness, preview_request(LabSection::BaseNetwork, "pattern1", &[])).await;
    follow(&watcher, &harness.world.db, base.id).await;
    let router = harness.world.app(harness.world.auth().await);

    let (status, page) = get_page(&router, "/lab").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("pattern1-base") && page.contains("CREATE_COMPLETE"), "{page}");

    let (status, page) = get_page(&router, "/lab/base-network").await;
    assert_eq!(status, StatusCode::OK);
    for expected in ["What this section creates", "AWS::EC2::VPC", "Stack events", "Pattern1AppContainerRepositoryUri"]
    {
        assert!(page.contains(expected), "{expected} missing from the base network page");
    }

    let (status, page) = get_page(&router, "/lab/logging").await;
    assert_eq!(status, StatusCode::OK);
    // The application stack is missing: the page says so and links there.
    assert!(page.contains("href=\"/lab/application\""), "{page}");
    assert!(page.contains("EmailAddress"));

    let (status, page) = get_page(&router, "/lab/teardown").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Type the prefix pattern1 to confirm"), "{page}");

    let (status, _) = get_page(&router, "/lab/no-such-section").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_lab_deploys_and_tears_down_leaving_only_the_reported_snapshot() {
    // Teardown order and the retained bucket:
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
    let harness = harness(Duration::ZERO).await;
    let watcher = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    for section in [LabSection::BaseNetwork, LabSection::Application, LabSection::LoggingAndAlarm] {
        let deployment = deploy(&harness, preview_request(section, "pattern1", &[])).await;
        let done = follow(&watcher, &harness.world.db, deployment.id).await;
        assert_eq!(done.final_status.as_deref(), Some("CREATE_COMPLETE"), "{section:?}: {done:?}");
    }
    let logging =
        harness.lab.live(SectionRequest { section: LabSection::LoggingAndAlarm, prefix: None }).await.expect("live");
    let bucket = logging
        .stack
        .outputs
        .iter()
        .find(|output| output.key == "OutputPattern1TrailBucket")
        .map(|output| output.value.clone())
        .expect("the trail bucket output");

    // The console's inbox listens to the alarm topic, as `keywatch serve` runs it.
    let inbox = keywatch::pollers::PollerConfig::new(Duration::from_secs(1));
    keywatch::pollers::inbox::ensure_subscribed(&harness.world.aws, &harness.world.db, &inbox, &mut None)
        .await
        .expect("inbox")
        .expect("queue");
    harness
        .lab
        .teardown(TeardownRequest { prefix: "pattern1".into(), confirmation: "pattern1".into() })
        .await
        .expect("teardown");
    let mut status = None;
    for _ in 0..600 {
        let now = harness.lab.teardown_status(TeardownQuery { prefix: None }).await.expect("status");
        if !now.running {
            status = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = status.expect("teardown finished");
    let states: Vec<_> = status.steps.iter().map(|step| step.state.as_str()).collect();
    // The three stacks, the trail bucket and the console's inbox queue.
    assert_eq!(states[1..], ["done", "done", "done", "done", "done"], "{:?}", status.steps);
    let queues =
        aws_sdk_sqs::Client::new(&harness.world.aws.sdk_config).list_queues().send().await.expect("ListQueues");
    assert!(queues.queue_urls().is_empty(), "{:?}", queues.queue_urls());
    assert!(status.stacks.iter().all(|stack| !stack.stack.exists()), "{:?}", status.stacks);
    assert_eq!(status.leftovers.len(), 1, "{:?}", status.leftovers);
    assert_eq!(status.leftovers[0].name, "pattern1-app-db-final");
    assert_eq!(status.leftovers[0].removal, Some(LeftoverRemoval::DeleteDbSnapshot));

    // The snapshot is real to RDS, and the page's button deletes it.
    let rds = aws_sdk_rds::Client::new(&harness.world.aws.sdk_config);
    let described = rds.describe_db_snapshots().db_instance_identifier("pattern1-app-db").send().await.expect("listed");
    assert_eq!(described.db_snapshots().len(), 1);
    // Only what teardown recorded can be removed.
    let refused = harness
        .lab
        .remove_leftover(RemoveLeftoverRequest { prefix: "pattern1".into(), name: "someone-elses-snapshot".into() })
        .await
        .expect_err("not a leftover");
    assert!(matches!(refused, AppError::InvalidInput { .. }), "{refused:?}");
    let after = harness
        .lab
        .remove_leftover(RemoveLeftoverRequest { prefix: "pattern1".into(), name: "pattern1-app-db-final".into() })
        .await
        .expect("removed");
    assert!(after.leftovers.is_empty(), "{:?}", after.leftovers);
    let described = rds.describe_db_snapshots().send().await.expect("listed");
    assert!(described.db_snapshots().is_empty(), "{:?}", described.db_snapshots());
    // Recorded: the stored teardown no longer lists it.
    let stored = harness.world.db.teardowns().latest().await.expect("read").expect("a teardown");
    assert!(stored.status.leftovers.is_empty());

    // Through the SDK: no stack, no bucket, no repository.
    let cloudformation = aws_sdk_cloudformation::Client::new(&harness.world.aws.sdk_config);
    let stacks = cloudformation.list_stacks().send().await.expect("ListStacks");
    assert!(
        stacks
            .stack_summaries()
            .iter()
            .all(|stack| stack.stack_status().map(|s| s.as_str()) == Some("DELETE_COMPLETE"))
    );
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&harness.world.aws.sdk_config).force_path_style(true).build(),
    );
    let buckets = s3.list_buckets().send().await.expect("ListBuckets");
    assert!(buckets.buckets().iter().all(|b| b.name() != Some(bucket.as_str())), "{bucket} is left");
    let ecr = aws_sdk_ecr::Client::new(&harness.world.aws.sdk_config);
    let repositories = ecr.describe_repositories().send().await.expect("DescribeRepositories");
    assert!(repositories.repositories().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teardown_cut_short_by_a_restart_is_finished_at_start_up_and_stays_recorded() {
    let harness = harness(Duration::ZERO).await;
    let watcher = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    let base = deploy(&harness, preview_request(LabSection::BaseNetwork, "pattern1", &[])).await;
    follow(&watcher, &harness.world.db, base.id).await;
    // What the previous console had recorded when it stopped: a running teardown.
    let status = keywatch_app::api::lab::TeardownStatus {
        prefix: "pattern1".into(),
        stacks: Vec::new(),
        running: true,
        steps: Vec::new(),
        leftovers: Vec::new(),
        finished_at: None,
    };
    harness.world.db.teardowns().insert("console", 0, &status).await.expect("recorded");

    let restarted = ServerLab::new(
        harness.world.aws.clone(),
        harness.world.db.clone(),
        support::REGION.into(),
        keywatch_app::api::connection::AwsMode::Sandbox,
    );
    assert!(restarted.resume_teardown().await.expect("resumed"));
    let mut finished = false;
    for _ in 0..200 {
        if harness.world.db.teardowns().unfinished().await.expect("query").is_none() {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(finished, "the resumed teardown never finished");
    // A console started later still shows how it ended.
    let later = ServerLab::new(
        harness.world.aws.clone(),
        harness.world.db.clone(),
        support::REGION.into(),
        keywatch_app::api::connection::AwsMode::Sandbox,
    );
    let shown = later.teardown_status(TeardownQuery { prefix: None }).await.expect("status");
    assert!(!shown.running);
    // ECR, three stacks, the trail bucket, the inbox queue.
    assert_eq!(shown.steps.len(), 6, "{:?}", shown.steps);
    assert_eq!(shown.steps[3].state, "done", "the base stack was deleted: {:?}", shown.steps);
    assert!(shown.stacks.iter().all(|stack| !stack.stack.exists()), "{:?}", shown.stacks);
    assert!(!later.resume_teardown().await.expect("nothing to resume"));
}

// Issue 17, E: the audit log said "lab.deploy pattern1-logging succeeded"
// for a create that rolled back. Starting a deployment is not its outcome:
// the watcher records what CloudFormation ended with. The logging stack's
// create fails here on the trail bucket a previous lab left behind (its
// DeletionPolicy is Retain), so CloudFormation rolls it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_rolls_back_is_audited_as_a_failure() {
    let harness = harness(Duration::ZERO).await;
    let watcher = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    leave_trail_bucket(&harness).await;
    for section in [LabSection::BaseNetwork, LabSection::Application, LabSection::LoggingAndAlarm] {
        let deployment = deploy(&harness, preview_request(section, "pattern1", &[])).await;
        follow(&watcher, &harness.world.db, deployment.id).await;
    }
    // Nothing is recorded twice by later rounds.
    watcher.poll_once().await.expect("round");
    let audit = harness.world.db.audit().page(None, 50).await.expect("audit");
    let deploys: Vec<(&str, &str)> = audit
        .iter()
        .filter(|record| record.action == "lab.deploy")
        .map(|record| (record.target.as_str(), record.outcome.as_str()))
        .collect();
    assert_eq!(
        deploys,
        [("pattern1-logging", "failed"), ("pattern1-app", "succeeded"), ("pattern1-base", "succeeded")],
        "{audit:?}"
    );
    let failed = audit.iter().find(|record| record.target == "pattern1-logging").expect("logging");
    assert!(failed.detail.as_deref().is_some_and(|detail| detail.contains("ROLLBACK")), "{failed:?}");
    assert_eq!(failed.user, keywatch::auth::LOCAL_USER);
}

// Issue 17, B: the wizard accepted DatapointsToAlarm 5 with EvaluationPeriods
// 1 (and a period of 15, and 100000 periods), which CloudFormation then
// rolled back. The section's check is PutMetricAlarm's, as on the Alarms page.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
#[tokio::test]
async fn the_logging_form_refuses_what_putmetricalarm_would() {
    let harness = harness(Duration::ZERO).await;
    for (parameters, field) in [
        (&[("AlarmEvaluationPeriods", "1"), ("AlarmDatapointsToAlarm", "5")][..], "AlarmDatapointsToAlarm"),
        (&[("AlarmPeriod", "15")][..], "AlarmPeriod"),
        (&[("AlarmEvaluationPeriods", "100000"), ("AlarmDatapointsToAlarm", "1")][..], "AlarmEvaluationPeriods"),
    ] {
        let mut all = vec![
            ("AlarmThreshold", "1"),
            ("AlarmComparisonOperator", "GreaterThanThreshold"),
            ("AlarmStatistic", "Sum"),
            ("AlarmPeriod", "10"),
            ("AlarmEvaluationPeriods", "1"),
            ("AlarmDatapointsToAlarm", "1"),
            ("AlarmTreatMissingData", "ignore"),
        ];
        for (key, value) in parameters {
            if let Some(slot) = all.iter_mut().find(|(k, _)| k == key) {
                slot.1 = value;
            }
        }
        let refused = harness
            .lab
            .preview(preview_request(LabSection::LoggingAndAlarm, "pattern1", &all))
            .await
            .expect_err("refused");
        match refused {
            AppError::InvalidInput { field: Some(f), message } => assert_eq!(f, field, "{message}"),
            other => panic!("{other:?}"),
        }
    }
    let stacks =
        aws_sdk_cloudformation::Client::new(&harness.world.aws.sdk_config).list_stacks().send().await.expect("List");
    assert!(stacks.stack_summaries().is_empty(), "nothing reached CloudFormation");
}

// Issue 17, A: the bar read "1 of 1 (100%)", then "5 of 5 (100%)" while the
// stack was being created (it counted what existed), and "0 of 22" before.
// It now counts what the change set planned, so it passes through values in
// between and ends at all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_what_the_change_set_planned() {
    let harness = harness(Duration::from_millis(150)).await;
    let request = SectionRequest { section: LabSection::BaseNetwork, prefix: Some("pattern1".into()) };
    let before = harness.lab.live(request.clone()).await.expect("live");
    assert_eq!((before.done, before.total), (0, 0), "nothing planned, nothing counted");

    let preview =
        harness.lab.preview(preview_request(LabSection::BaseNetwork, "pattern1", &[])).await.expect("preview");
    let PreviewOutcome::Changes { change_set_id, changes, .. } = preview else { panic!("expected changes") };
    let planned = changes.len();
    let deployment = harness
        .lab
        .deploy(DeployRequest { section: LabSection::BaseNetwork, prefix: "pattern1".into(), change_set_id })
        .await
        .expect("deploy");
    let watcher = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    let mut seen_between = false;
    for _ in 0..600 {
        watcher.poll_once().await.expect("round");
        let live = harness.lab.live(request.clone()).await.expect("live");
        assert_eq!(live.total, planned, "always out of the planned resources");
        assert_eq!(live.resources.len(), planned);
        seen_between |= live.done > 0 && live.done < live.total;
        if harness.world.db.deployments().get(deployment.id).await.expect("query").expect("row").outcome.is_some() {
            let live = harness.lab.live(request.clone()).await.expect("live");
            assert_eq!(live.done, planned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen_between, "the count moved through values between 0 and {planned}");
}

// Issue 17, C: after one section's create rolled back, Preview answered 409
// "tear it down first", and the only teardown removed all three stacks. One
// section is now deleted and deployed again on its own; a section whose
// outputs a later one uses is refused, as CloudFormation refuses to delete a
// stack whose exports are imported.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failed_section_is_deleted_and_deployed_again_without_touching_the_others() {
    let harness = harness(Duration::ZERO).await;
    let watcher = StackWatcher::new(&harness.world.aws, harness.world.db.clone());
    let s3 = leave_trail_bucket(&harness).await;
    for section in [LabSection::BaseNetwork, LabSection::Application, LabSection::LoggingAndAlarm] {
        let deployment = deploy(&harness, preview_request(section, "pattern1", &[])).await;
        follow(&watcher, &harness.world.db, deployment.id).await;
    }
    let request = |section| SectionRequest { section, prefix: Some("pattern1".into()) };
    let logging = harness.lab.live(request(LabSection::LoggingAndAlarm)).await.expect("live");
    assert_eq!(logging.stack.status.as_deref(), Some("ROLLBACK_COMPLETE"));

    // The base is used by the application: refused, nothing deleted.
    let refused = harness.lab.delete_section(request(LabSection::BaseNetwork)).await.expect_err("refused");
    assert!(matches!(&refused, AppError::Conflict(message) if message.contains("pattern1-app")), "{refused:?}");

    harness.lab.delete_section(request(LabSection::LoggingAndAlarm)).await.expect("deleting");
    let mut gone = false;
    for _ in 0..300 {
        watcher.poll_once().await.expect("round");
        let now = harness.lab.live(request(LabSection::LoggingAndAlarm)).await.expect("live");
        if !now.stack.exists() && s3.head_bucket().bucket(TRAIL_BUCKET).send().await.is_err() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gone, "the logging stack and its retained bucket were deleted");
    for section in [LabSection::BaseNetwork, LabSection::Application] {
        let live = harness.lab.live(request(section)).await.expect("live");
        assert_eq!(live.stack.status.as_deref(), Some("CREATE_COMPLETE"), "{section:?} untouched");
    }
    // Deployed again, it succeeds.
    let again = deploy(&harness, preview_request(LabSection::LoggingAndAlarm, "pattern1", &[])).await;
    let done = follow(&watcher, &harness.world.db, again.id).await;
    assert_eq!(done.final_status.as_deref(), Some("CREATE_COMPLETE"));
    let audit = harness.world.db.audit().page(None, 50).await.expect("audit");
    let deletions: Vec<&str> =
        audit.iter().filter(|record| record.action == "lab.delete-section").map(|r| r.outcome.as_str()).collect();
    assert_eq!(deletions, ["succeeded", "refused"]);
}

//! Labs deployed by hand: recognising the lab's stacks by what they contain
//! (resource types, logical ids, outputs), never by their names, pairing
//! them into labs the way their parameters wire them, naming an adopted lab
//! inside Keywatch, and changing an adopted alarm's fixed settings in its
//! stack's own template.
//!
//! A user who followed the lab with the AWS CLI may have named the stacks
//! anything; what the lab's templates create is what identifies them. Both
//! the lab's original templates and Keywatch's own are recognised.

use serde_json::Value;

use crate::alarm::MetricAlarm;
use crate::cloudformation::Template;
use crate::lab::{LabSection, LabStacks, MAX_PREFIX_LEN, Prefix};
use crate::lab_alarms::changed_fields;

/// One resource of a stack, as ListStackResources gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceFact {
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
}

/// What DescribeStacks and ListStackResources say about one stack.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StackFacts {
    pub stack_name: String,
    pub stack_id: String,
    pub parameters: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
    pub resources: Vec<ResourceFact>,
}

impl StackFacts {
    fn has_type(&self, resource_type: &str) -> bool {
        self.resources.iter().any(|resource| resource.resource_type == resource_type)
    }

    fn output(&self, key: &str) -> Option<&str> {
        self.outputs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Which lab stack `stack` is, from what it contains: `None` for anything
/// else. Each section needs the resource types that make it that section
/// (not one of them is optional in either the lab's templates or
/// Keywatch's), so a stack that merely shares a VPC or a topic is not taken
/// for the lab.
pub fn classify(stack: &StackFacts) -> Option<LabSection> {
    let all = |types: &[&str]| types.iter().all(|t| stack.has_type(t));
    let base = all(&["AWS::EC2::VPC", "AWS::EC2::NatGateway", "AWS::ECR::Repository"])
        && stack.output(crate::lab::BASE_REPOSITORY_OUTPUT).is_some();
    let application = all(&[
        "AWS::ECS::Service",
        "AWS::ECS::TaskDefinition",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::KMS::Key",
        "AWS::IAM::Role",
    ]) && stack.output(crate::lab::APP_TASK_ROLE_OUTPUT).is_some()
        && stack.output(crate::lab::APP_ENDPOINT_OUTPUT).is_some();
    let logging = all(&[
        "AWS::CloudTrail::Trail",
        "AWS::Logs::LogGroup",
        "AWS::Logs::MetricFilter",
        "AWS::CloudWatch::Alarm",
        "AWS::SNS::Topic",
        "AWS::S3::Bucket",
    ]) && stack.parameter("AppECSTaskRoleArn").is_some();
    match (base, application, logging) {
        (true, false, false) => Some(LabSection::BaseNetwork),
        (false, true, false) => Some(LabSection::Application),
        (false, false, true) => Some(LabSection::LoggingAndAlarm),
        _ => None,
    }
}

/// Pairs recognised stacks into labs as the lab wires them: an application
/// stack's `BaselineVpcStack` parameter names its base stack, and a logging
/// stack's `AppECSTaskRoleArn` parameter is an application stack's
/// `OutputPattern1ECSTaskRole`. A stack nothing pairs with is a lab of its
/// own (half deployed, or half torn down). Labs come in the order of their
/// first stack in `stacks`.
pub fn group(stacks: &[StackFacts]) -> Vec<LabStacks> {
    let of = |section| stacks.iter().filter(move |stack| classify(stack) == Some(section));
    let mut labs: Vec<LabStacks> = Vec::new();
    let mut used: Vec<String> = Vec::new();
    for app in of(LabSection::Application) {
        let base = app
            .parameter("BaselineVpcStack")
            .and_then(|name| of(LabSection::BaseNetwork).find(|base| base.stack_name == name));
        let role = app.output(crate::lab::APP_TASK_ROLE_OUTPUT);
        let logging = of(LabSection::LoggingAndAlarm).find(|logging| {
            role.is_some() && logging.parameter("AppECSTaskRoleArn") == role && !used.contains(&logging.stack_name)
        });
        let lab = LabStacks {
            base: base.map(|stack| stack.stack_name.clone()),
            application: Some(app.stack_name.clone()),
            logging: logging.map(|stack| stack.stack_name.clone()),
        };
        used.extend(lab.names().into_iter().map(str::to_owned));
        labs.push(lab);
    }
    for stack in stacks.iter().filter(|stack| !used.contains(&stack.stack_name)) {
        let name = Some(stack.stack_name.clone());
        match classify(stack) {
            Some(LabSection::BaseNetwork) => labs.push(LabStacks { base: name, ..LabStacks::default() }),
            Some(LabSection::LoggingAndAlarm) => labs.push(LabStacks { logging: name, ..LabStacks::default() }),
            _ => {}
        }
    }
    let position = |lab: &LabStacks| {
        stacks.iter().position(|stack| lab.names().contains(&stack.stack_name.as_str())).unwrap_or(usize::MAX)
    };
    labs.sort_by_key(position);
    labs
}

/// The logical ids of the lab's alarm in the lab's template and in Keywatch's.
pub const LAB_ALARM_LOGICAL_IDS: [&str; 2] = ["Pattern1CloudWatchLogGroupMetricFilterAlarm", "KMSSecurityAlarm"];
const LAB_TOPIC_LOGICAL_IDS: [&str; 2] = ["Pattern1CloudWatchAlarmTopic", "AlarmTopic"];
const LAB_BUCKET_LOGICAL_IDS: [&str; 2] = ["Pattern1CloudTrailS3Bucket", "TrailBucket"];

/// What the console manages in a logging stack, found among its resources.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoggingResources {
    /// The lab's alarm: logical id and name.
    pub alarm: Option<(String, String)>,
    /// The alarm topic's ARN.
    pub topic_arn: Option<String>,
    /// The trail bucket (retained when the stack is deleted).
    pub trail_bucket: Option<String>,
}

/// The lab's alarm, topic and trail bucket among a logging stack's
/// resources: by the templates' logical ids, else the only one of its type.
pub fn logging_resources(resources: &[ResourceFact]) -> LoggingResources {
    let pick = |resource_type: &str, ids: &[&str]| {
        let of_type: Vec<&ResourceFact> = resources
            .iter()
            .filter(|r| r.resource_type == resource_type && r.physical_id.as_deref().is_some_and(|id| !id.is_empty()))
            .collect();
        of_type
            .iter()
            .find(|r| ids.contains(&r.logical_id.as_str()))
            .or_else(|| if of_type.len() == 1 { of_type.first() } else { None })
            .map(|r| (r.logical_id.clone(), r.physical_id.clone().unwrap_or_default()))
    };
    LoggingResources {
        alarm: pick("AWS::CloudWatch::Alarm", &LAB_ALARM_LOGICAL_IDS),
        topic_arn: pick("AWS::SNS::Topic", &LAB_TOPIC_LOGICAL_IDS).map(|(_, arn)| arn),
        trail_bucket: pick("AWS::S3::Bucket", &LAB_BUCKET_LOGICAL_IDS).map(|(_, name)| name),
    }
}

/// The name Keywatch files an adopted lab under: the stacks' common start
/// (`pattern1` for `pattern1-base`, `pattern1-app`, `pattern1-logging`)
/// when it makes a valid prefix, else `adopted`; with `-2`, `-3`… when that
/// is `taken` already. Only a label: the stacks keep their own names.
pub fn adoption_prefix(names: &[&str], taken: &[String]) -> Prefix {
    let common = names.iter().skip(1).fold(names.first().copied().unwrap_or_default().to_owned(), |common, name| {
        common.chars().zip(name.chars()).take_while(|(a, b)| a == b).map(|(a, _)| a).collect()
    });
    let cleaned: String = common.to_ascii_lowercase().chars().take(MAX_PREFIX_LEN - 3).collect();
    let cleaned = cleaned.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    let base = Prefix::parse(cleaned).unwrap_or_else(|_| Prefix::parse("adopted").unwrap_or_default());
    let free = |candidate: &Prefix| !taken.iter().any(|t| t == candidate.as_str());
    if free(&base) {
        return base;
    }
    (2..1000).filter_map(|n| Prefix::parse(&format!("{}-{n}", base.as_str())).ok()).find(free).unwrap_or(base)
}

/// Why an alarm's template could not be changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetuneError {
    #[error("the stack's template does not parse: {0}")]
    Template(String),
    #[error("the stack's template has no alarm {0}")]
    NoAlarm(String),
}

/// The stack's template (`body`, as GetTemplate returns it) with the alarm
/// resource `logical_id` set to `new`'s settings where they differ from
/// `old`, as JSON (CloudFormation takes either; the long form keeps every
/// intrinsic function). A setting a parameter feeds (`Ref`) becomes the
/// value written: the change is the template's, never the alarm's alone,
/// so the stack and the alarm cannot drift.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html>
pub fn retune_alarm(body: &str, logical_id: &str, old: &MetricAlarm, new: &MetricAlarm) -> Result<String, RetuneError> {
    let template = Template::parse(body).map_err(|error| RetuneError::Template(error.to_string()))?;
    let mut document = template.body;
    let properties = document
        .get_mut("Resources")
        .and_then(|resources| resources.get_mut(logical_id))
        .filter(|resource| resource.get("Type").and_then(Value::as_str) == Some("AWS::CloudWatch::Alarm"))
        .and_then(|resource| {
            let object = resource.as_object_mut()?;
            Some(object.entry("Properties").or_insert_with(|| Value::Object(serde_json::Map::new())))
        })
        .and_then(Value::as_object_mut)
        .ok_or_else(|| RetuneError::NoAlarm(logical_id.to_owned()))?;
    for (field, _, after) in changed_fields(old, new) {
        let value = match field.as_str() {
            "Threshold" => serde_json::Number::from_f64(new.threshold).map(Value::Number),
            "Period" => Some(Value::from(new.period)),
            "EvaluationPeriods" => Some(Value::from(new.evaluation_periods)),
            "DatapointsToAlarm" => Some(Value::from(new.effective_datapoints_to_alarm())),
            "Statistic" => {
                // A percentile is ExtendedStatistic; the two exclude each other.
                let (set, clear) = if new.statistic.is_some() {
                    ("Statistic", "ExtendedStatistic")
                } else {
                    ("ExtendedStatistic", "Statistic")
                };
                properties.remove(clear);
                properties.insert(set.to_owned(), Value::String(after));
                continue;
            }
            _ => Some(Value::String(after)),
        };
        if let Some(value) = value {
            properties.insert(field, value);
        }
    }
    serde_json::to_string_pretty(&document).map_err(|error| RetuneError::Template(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The alarm and topic of the lab's pattern1-logging.yml, as published.
    const ORIGINAL_LOGGING: &str = r#"
Parameters:
  AppECSTaskRoleArn:
    Type: String
Resources:
  Pattern1CloudWatchLogGroupMetricFilterAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: Pattern1 Application KMS Security Alarm.
      AlarmName: Pattern1ApplicationKMSSecurityAlarm
      ComparisonOperator: GreaterThanThreshold
      EvaluationPeriods: 1
      Namespace: "Pattern1Application/KMSSecurity"
      MetricName: "KMSSecurityError"
      Period: 10
      Statistic: Sum
      Threshold: 1
      TreatMissingData: ignore
      AlarmActions:
        - !Ref Pattern1CloudWatchAlarmTopic
  Pattern1CloudWatchAlarmTopic:
    Type: 'AWS::SNS::Topic'
    Properties: {}
"#;

    fn resource(logical_id: &str, resource_type: &str) -> ResourceFact {
        ResourceFact {
            logical_id: logical_id.to_owned(),
            resource_type: resource_type.to_owned(),
            physical_id: Some(format!("{logical_id}-physical")),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// The lab's original stacks as DescribeStacks and ListStackResources
    /// show them (pattern1-base.yml, pattern1-app.yml, pattern1-logging.yml).
    fn original(base: &str, app: &str, logging: &str) -> Vec<StackFacts> {
        let role = format!("arn:aws:iam::111122223333:role/{app}-Pattern1ECSTaskRole");
        vec![
            StackFacts {
                stack_name: logging.to_owned(),
                parameters: pairs(&[("AppECSTaskRoleArn", &role), ("EmailAddress", "secops@example.com")]),
                outputs: pairs(&[("OutputPattern1CloudWatchLogGroup", "lg"), ("OutputPattern1CloudTrail", "trail")]),
                resources: vec![
                    resource("Pattern1CloudTrailS3Bucket", "AWS::S3::Bucket"),
                    resource("Pattern1CloudTrailS3BucketPolicy", "AWS::S3::BucketPolicy"),
                    resource("Pattern1CloudTrail", "AWS::CloudTrail::Trail"),
                    resource("Pattern1CloudWatchLogGroupRole", "AWS::IAM::Role"),
                    resource("Pattern1CloudWatchLogGroup", "AWS::Logs::LogGroup"),
                    resource("Pattern1CloudWatchLogGroupMetricFilter", "AWS::Logs::MetricFilter"),
                    resource("Pattern1CloudWatchLogGroupMetricFilterAlarm", "AWS::CloudWatch::Alarm"),
                    resource("Pattern1CloudWatchAlarmTopic", "AWS::SNS::Topic"),
                    resource("Pattern1CloudWatchAlarmTopicSubscription", "AWS::SNS::Subscription"),
                    resource("Pattern1KMSCloudTrail", "AWS::KMS::Key"),
                ],
                ..StackFacts::default()
            },
            StackFacts {
                stack_name: app.to_owned(),
                parameters: pairs(&[("BaselineVpcStack", base), ("ECRImageURI", "repo:latest")]),
                outputs: pairs(&[
                    ("OutputPattern1ApplicationEndpoint", "127.0.0.1:4000"),
                    ("OutputPattern1ECSTaskRole", &role),
                    ("OutputPattern1KMSKey", "key-id"),
                ]),
                resources: vec![
                    resource("Pattern1ALB", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
                    resource("Pattern1ECSCluster", "AWS::ECS::Cluster"),
                    resource("Pattern1ECSService", "AWS::ECS::Service"),
                    resource("Pattern1TaskDefinition", "AWS::ECS::TaskDefinition"),
                    resource("Pattern1ECSTaskRole", "AWS::IAM::Role"),
                    resource("Pattern1KMSKey", "AWS::KMS::Key"),
                    resource("Pattern1RDS", "AWS::RDS::DBInstance"),
                ],
                ..StackFacts::default()
            },
            StackFacts {
                stack_name: base.to_owned(),
                outputs: pairs(&[("OutputPattern1VPC", "vpc-1"), ("OutputPattern1AppContainerRepository", "repo")]),
                resources: vec![
                    resource("Pattern1VPC", "AWS::EC2::VPC"),
                    resource("Pattern1NatGateway", "AWS::EC2::NatGateway"),
                    resource("Pattern1AppContainerRepository", "AWS::ECR::Repository"),
                ],
                ..StackFacts::default()
            },
        ]
    }

    #[test]
    fn the_labs_stacks_are_recognised_by_what_they_contain_whatever_their_names() {
        let stacks = original("net", "my-app", "Monitoring");
        assert_eq!(classify(&stacks[0]), Some(LabSection::LoggingAndAlarm));
        assert_eq!(classify(&stacks[1]), Some(LabSection::Application));
        assert_eq!(classify(&stacks[2]), Some(LabSection::BaseNetwork));
        // Something else with a VPC, or a topic and an alarm, is not the lab.
        let vpc_only = StackFacts {
            stack_name: "pattern1-base".into(),
            resources: vec![resource("VPC", "AWS::EC2::VPC")],
            ..StackFacts::default()
        };
        assert_eq!(classify(&vpc_only), None);
        let mut alarms_only = stacks[0].clone();
        alarms_only.resources.retain(|r| r.resource_type != "AWS::CloudTrail::Trail");
        assert_eq!(classify(&alarms_only), None);
    }

    #[test]
    fn stacks_are_paired_by_their_wiring_not_their_names() {
        let mut stacks = original("net", "my-app", "Monitoring");
        stacks.extend(original("b2", "a2", "l2"));
        // An unrelated stack, and a base nothing uses.
        stacks.push(StackFacts { stack_name: "website".into(), ..StackFacts::default() });
        let mut lone = original("lonely-base", "x", "y").remove(2);
        lone.stack_name = "lonely-base".into();
        stacks.push(lone);
        let labs = group(&stacks);
        assert_eq!(
            labs,
            vec![
                LabStacks {
                    base: Some("net".into()),
                    application: Some("my-app".into()),
                    logging: Some("Monitoring".into())
                },
                LabStacks { base: Some("b2".into()), application: Some("a2".into()), logging: Some("l2".into()) },
                LabStacks { base: Some("lonely-base".into()), ..LabStacks::default() },
            ]
        );
    }

    #[test]
    fn the_original_logging_stacks_alarm_topic_and_bucket_are_its_resources() {
        let stacks = original("net", "app", "logging");
        let found = logging_resources(&stacks[0].resources);
        assert_eq!(
            found.alarm,
            Some((
                "Pattern1CloudWatchLogGroupMetricFilterAlarm".into(),
                "Pattern1CloudWatchLogGroupMetricFilterAlarm-physical".into()
            ))
        );
        assert_eq!(found.topic_arn.as_deref(), Some("Pattern1CloudWatchAlarmTopic-physical"));
        assert_eq!(found.trail_bucket.as_deref(), Some("Pattern1CloudTrailS3Bucket-physical"));
    }

    #[test]
    fn an_adopted_lab_is_filed_under_its_stacks_common_start() {
        let none: Vec<String> = Vec::new();
        let prefix = |names: &[&str], taken: &[String]| adoption_prefix(names, taken).as_str().to_owned();
        assert_eq!(prefix(&["pattern1-base", "pattern1-app", "pattern1-logging"], &none), "pattern1");
        assert_eq!(prefix(&["KMS-Net", "KMS-App", "KMS-Logging"], &none), "kms");
        assert_eq!(prefix(&["net", "app", "monitoring"], &none), "adopted");
        assert_eq!(prefix(&["pattern1-base", "pattern1-app"], &["pattern1".into(), "pattern1-2".into()]), "pattern1-3");
        assert_eq!(prefix(&["a-very-long-stack-name-indeed-base"], &none).len(), MAX_PREFIX_LEN - 3);
    }

    #[test]
    fn retuning_writes_the_new_settings_into_the_alarms_resource() {
        let old = MetricAlarm::lab();
        let mut new = old.clone();
        new.threshold = 4.0;
        new.period = 60;
        let body =
            retune_alarm(ORIGINAL_LOGGING, "Pattern1CloudWatchLogGroupMetricFilterAlarm", &old, &new).expect("retuned");
        let template = Template::parse(&body).expect("still a template");
        let alarm = template.resource("Pattern1CloudWatchLogGroupMetricFilterAlarm").expect("alarm");
        assert_eq!(alarm.properties["Threshold"], serde_json::json!(4.0));
        assert_eq!(alarm.properties["Period"], serde_json::json!(60));
        // What did not change is as it was, intrinsic functions included.
        assert_eq!(alarm.properties["EvaluationPeriods"], serde_json::json!(1));
        assert_eq!(alarm.properties["AlarmActions"], serde_json::json!([{"Ref": "Pattern1CloudWatchAlarmTopic"}]));
        assert_eq!(retune_alarm(ORIGINAL_LOGGING, "Nothing", &old, &new), Err(RetuneError::NoAlarm("Nothing".into())));
    }
}

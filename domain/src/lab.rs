//! The lab's plan: its sections, in order, and how a user-chosen prefix names
//! the stacks each section deploys.
//!
//! The lab calls its stacks `pattern1-base`, `pattern1-app` and
//! `pattern1-logging`; Keywatch keeps that scheme but lets the prefix change so
//! that several copies of the lab can live in one account.

use serde::{Deserialize, Serialize};

/// The prefix the lab itself uses.
pub const DEFAULT_PREFIX: &str = "pattern1";

/// Longest prefix accepted. The longest name derived from it is the task role
/// `<prefix>-app-Pattern1ECSTaskRole`, and IAM role names stop at 64
/// characters; 20 leaves room for every other derived name too.
pub const MAX_PREFIX_LEN: usize = 20;

/// The lab's sections, in the order they must be completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LabSection {
    BaseNetwork,
    Application,
    LoggingAndAlarm,
    Testing,
}

impl LabSection {
    /// All sections, in lab order.
    pub const ALL: [LabSection; 4] =
        [LabSection::BaseNetwork, LabSection::Application, LabSection::LoggingAndAlarm, LabSection::Testing];

    /// The section's number in the lab (1-based).
    pub fn number(self) -> u8 {
        match self {
            LabSection::BaseNetwork => 1,
            LabSection::Application => 2,
            LabSection::LoggingAndAlarm => 3,
            LabSection::Testing => 4,
        }
    }

    /// Title as the console shows it.
    pub fn title(self) -> &'static str {
        match self {
            LabSection::BaseNetwork => "Base network",
            LabSection::Application => "Application",
            LabSection::LoggingAndAlarm => "Logging and alarm",
            LabSection::Testing => "Testing",
        }
    }

    /// The URL path segment of the section's page.
    pub fn slug(self) -> &'static str {
        match self {
            LabSection::BaseNetwork => "base-network",
            LabSection::Application => "application",
            LabSection::LoggingAndAlarm => "logging",
            LabSection::Testing => "testing",
        }
    }

    /// The suffix of the CloudFormation stack the section deploys, if any
    /// (testing deploys nothing).
    pub fn stack_suffix(self) -> Option<&'static str> {
        match self {
            LabSection::BaseNetwork => Some("base"),
            LabSection::Application => Some("app"),
            LabSection::LoggingAndAlarm => Some("logging"),
            LabSection::Testing => None,
        }
    }

    /// Sections that must be complete before this one can start.
    pub fn prerequisites(self) -> &'static [LabSection] {
        match self {
            LabSection::BaseNetwork => &[],
            LabSection::Application => &[LabSection::BaseNetwork],
            LabSection::LoggingAndAlarm => &[LabSection::Application],
            LabSection::Testing => &[LabSection::LoggingAndAlarm],
        }
    }
}

/// A validated stack-name prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Prefix(String);

/// Why a prefix was refused; each message is fit to show beside the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    #[error("a prefix is required")]
    Empty,
    #[error("use at most {MAX_PREFIX_LEN} characters")]
    TooLong,
    #[error("start with a lower-case letter")]
    BadStart,
    #[error("use only lower-case letters, digits and single hyphens")]
    BadCharacter,
    #[error("do not end with a hyphen")]
    TrailingHyphen,
}

impl Prefix {
    /// Validates a prefix. Lower case only because the prefix also names the
    /// CloudTrail S3 bucket, and bucket names must be lower case; a letter
    /// first because CloudFormation stack names must start with one.
    pub fn parse(input: &str) -> Result<Prefix, PrefixError> {
        let prefix = input.trim();
        if prefix.is_empty() {
            return Err(PrefixError::Empty);
        }
        // What is wrong with the characters comes first: a long prefix of
        // markup was told only to be shorter.
        if !prefix.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(PrefixError::BadStart);
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !prefix.chars().all(allowed) || prefix.contains("--") {
            return Err(PrefixError::BadCharacter);
        }
        if prefix.ends_with('-') {
            return Err(PrefixError::TrailingHyphen);
        }
        if prefix.chars().count() > MAX_PREFIX_LEN {
            return Err(PrefixError::TooLong);
        }
        Ok(Prefix(prefix.to_owned()))
    }

    /// The prefix as typed (after validation).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of the stack a section deploys under this prefix.
    pub fn stack_name(&self, section: LabSection) -> Option<String> {
        section.stack_suffix().map(|suffix| format!("{}-{suffix}", self.0))
    }
}

impl Default for Prefix {
    fn default() -> Self {
        Prefix(DEFAULT_PREFIX.to_owned())
    }
}

/// The lab's stack of each section, by its CloudFormation name: under a
/// prefix, `<prefix>-base`, `<prefix>-app` and `<prefix>-logging`; for a lab
/// deployed by hand and adopted, the names its user chose. A section
/// without a stack is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LabStacks {
    pub base: Option<String>,
    pub application: Option<String>,
    pub logging: Option<String>,
}

impl LabStacks {
    /// The stacks Keywatch names under `prefix`.
    pub fn of_prefix(prefix: &Prefix) -> LabStacks {
        LabStacks {
            base: prefix.stack_name(LabSection::BaseNetwork),
            application: prefix.stack_name(LabSection::Application),
            logging: prefix.stack_name(LabSection::LoggingAndAlarm),
        }
    }

    /// The stack of `section`, if there is one.
    pub fn name(&self, section: LabSection) -> Option<&str> {
        match section {
            LabSection::BaseNetwork => self.base.as_deref(),
            LabSection::Application => self.application.as_deref(),
            LabSection::LoggingAndAlarm => self.logging.as_deref(),
            LabSection::Testing => None,
        }
    }

    /// The stacks' names, base first.
    pub fn names(&self) -> Vec<&str> {
        [&self.base, &self.application, &self.logging].into_iter().flatten().map(String::as_str).collect()
    }
}

/// The lab's CloudFormation templates, embedded from `cloudformation/` so
/// that the binary deploys exactly what users can read there.
pub mod templates {
    /// Stack 1: the base network and the ECR repository.
    pub const BASE: &str = include_str!("../../cloudformation/base.yaml");
    /// Stack 2: the application (ALB, ECS, RDS, KMS key, task role).
    pub const APPLICATION: &str = include_str!("../../cloudformation/application.yaml");
    /// Stack 3: the trail, log group, metric filters, alarms and topic.
    pub const LOGGING: &str = include_str!("../../cloudformation/logging.yaml");
}

/// Outputs of the base stack the application stack is wired from.
pub const BASE_REPOSITORY_URI_OUTPUT: &str = "OutputPattern1AppContainerRepositoryUri";
/// The base stack's output naming the ECR repository.
pub const BASE_REPOSITORY_OUTPUT: &str = "OutputPattern1AppContainerRepository";
/// The application stack's output the logging stack is wired from.
pub const APP_TASK_ROLE_OUTPUT: &str = "OutputPattern1ECSTaskRole";
/// The application stack's output with the load balancer's DNS name.
pub const APP_ENDPOINT_OUTPUT: &str = "OutputPattern1ApplicationEndpoint";
/// The logging stack's output naming the retained trail bucket.
pub const LOGGING_TRAIL_BUCKET_OUTPUT: &str = "OutputPattern1TrailBucket";
/// The application stack's output holding its KMS key id (what `/encrypt` returns as `Key`).
pub const APP_KEY_ID_OUTPUT: &str = "OutputPattern1AppKeyId";
/// The application stack's output with its KMS key's ARN.
pub const APP_KEY_ARN_OUTPUT: &str = "OutputPattern1AppKeyArn";
/// The application stack's output with its KMS key (the lab's own
/// template's only output naming the key).
pub const APP_KMS_KEY_OUTPUT: &str = "OutputPattern1KMSKey";
/// The logging stack's output naming the lab's alarm.
pub const LOGGING_ALARM_OUTPUT: &str = "OutputPattern1KMSSecurityAlarm";
/// The logging stack's output naming the trail's log group.
pub const LOGGING_TRAIL_LOG_GROUP_OUTPUT: &str = "OutputPattern1TrailLogGroup";
/// The same log group under the lab's own output key (its original
/// template's only output naming it).
pub const LOGGING_LAB_LOG_GROUP_OUTPUT: &str = "OutputPattern1CloudWatchLogGroup";

/// The image tag the console deploys and the push commands use.
pub const IMAGE_TAG: &str = "latest";

/// The order teardown deletes the stacks in: each stack imports from or
/// depends on the one after it.
pub const TEARDOWN_ORDER: [LabSection; 3] =
    [LabSection::LoggingAndAlarm, LabSection::Application, LabSection::BaseNetwork];

impl LabSection {
    /// The section's template, if it deploys a stack.
    pub fn template(self) -> Option<&'static str> {
        match self {
            LabSection::BaseNetwork => Some(templates::BASE),
            LabSection::Application => Some(templates::APPLICATION),
            LabSection::LoggingAndAlarm => Some(templates::LOGGING),
            LabSection::Testing => None,
        }
    }

    /// The capabilities its stack must acknowledge: the application and
    /// logging stacks create IAM roles with custom names.
    pub fn capabilities(self) -> &'static [&'static str] {
        match self {
            LabSection::Application | LabSection::LoggingAndAlarm => &["CAPABILITY_NAMED_IAM"],
            LabSection::BaseNetwork | LabSection::Testing => &[],
        }
    }
}

/// A parameter the console fills in itself, and which stack output it
/// comes from (the lab made users copy these by hand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WiredParameter {
    pub key: &'static str,
    pub value: String,
}

/// What is missing before a section can be wired.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {section} stack has no output {output}: deploy {section} first")]
pub struct MissingOutput {
    pub section: &'static str,
    pub output: &'static str,
}

/// The parameters the console passes to a section's stack, from the
/// outputs of the stacks before it (`outputs(section, key)` looks one up).
pub fn wired_parameters(
    section: LabSection,
    prefix: &Prefix,
    outputs: &dyn Fn(LabSection, &str) -> Option<String>,
) -> Result<Vec<WiredParameter>, MissingOutput> {
    let need = |from: LabSection, output: &'static str| {
        outputs(from, output).ok_or(MissingOutput { section: from.title(), output })
    };
    Ok(match section {
        LabSection::BaseNetwork | LabSection::Testing => Vec::new(),
        LabSection::Application => {
            let repository = need(LabSection::BaseNetwork, BASE_REPOSITORY_URI_OUTPUT)?;
            vec![
                WiredParameter {
                    key: "BaselineVpcStack",
                    value: prefix.stack_name(LabSection::BaseNetwork).unwrap_or_default(),
                },
                WiredParameter { key: "ECRImageURI", value: format!("{repository}:{IMAGE_TAG}") },
            ]
        }
        LabSection::LoggingAndAlarm => vec![WiredParameter {
            key: "AppECSTaskRoleArn",
            value: need(LabSection::Application, APP_TASK_ROLE_OUTPUT)?,
        }],
    })
}

/// The commands that build `workload/`'s image and push it to the lab's
/// repository (`repository_uri` is `<account>.dkr.ecr.<region>.amazonaws.com/<name>`).
/// <https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-push-ecr-image.html>
pub fn image_push_commands(repository_uri: &str, region: &str) -> Vec<String> {
    let registry = repository_uri.split('/').next().unwrap_or(repository_uri);
    vec![
        format!(
            "aws ecr get-login-password --region {region} | docker login --username AWS --password-stdin {registry}"
        ),
        format!("docker build -t {repository_uri}:{IMAGE_TAG} -f workload/Dockerfile ."),
        format!("docker push {repository_uri}:{IMAGE_TAG}"),
    ]
}

/// What a resource type is for, in plain words, for the section pages'
/// "what this creates" lists.
pub fn resource_purpose(resource_type: &str) -> &'static str {
    match resource_type {
        "AWS::EC2::VPC" => "The private network everything else runs in.",
        "AWS::EC2::InternetGateway" => "Connects the network to the internet.",
        "AWS::EC2::VPCGatewayAttachment" => "Attaches the internet gateway to the network.",
        "AWS::EC2::Subnet" => "A slice of the network in one availability zone.",
        "AWS::EC2::EIP" => "A fixed public address for the NAT gateway.",
        "AWS::EC2::NatGateway" => "Lets private subnets reach out to the internet without being reachable.",
        "AWS::EC2::RouteTable" => "Decides where a subnet's traffic goes.",
        "AWS::EC2::Route" => "One rule of a route table.",
        "AWS::EC2::SubnetRouteTableAssociation" => "Puts a subnet under a route table.",
        "AWS::EC2::SecurityGroup" => "A firewall around a set of resources.",
        "AWS::ECR::Repository" => "Stores the application's container image.",
        "AWS::KMS::Key" => "The encryption key whose use is monitored.",
        "AWS::KMS::Alias" => "A readable name for a KMS key.",
        "AWS::SecretsManager::Secret" => "Holds the database password, generated and never shown.",
        "AWS::SecretsManager::SecretTargetAttachment" => "Links the database password to its database.",
        "AWS::RDS::DBSubnetGroup" => "The private subnets the database may live in.",
        "AWS::RDS::DBInstance" => "The application's MySQL database.",
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => "Receives the application's HTTP requests.",
        "AWS::ElasticLoadBalancingV2::TargetGroup" => "The running containers the load balancer sends requests to.",
        "AWS::ElasticLoadBalancingV2::Listener" => "The load balancer's HTTP port and where it forwards.",
        "AWS::IAM::Role" => "An identity with just the permissions its user needs.",
        "AWS::Logs::LogGroup" => "Where log lines are kept.",
        "AWS::Logs::MetricFilter" => "Counts matching log lines as a CloudWatch metric.",
        "AWS::ECS::Cluster" => "Where the application's containers run.",
        "AWS::ECS::TaskDefinition" => "How to run the application's container.",
        "AWS::ECS::Service" => "Keeps the application's container running behind the load balancer.",
        "AWS::S3::Bucket" => "Keeps the CloudTrail log files; retained when the stack is deleted.",
        "AWS::S3::BucketPolicy" => "Lets CloudTrail write to the bucket.",
        "AWS::CloudTrail::Trail" => "Records every KMS call and delivers the records.",
        "AWS::CloudWatch::Alarm" => "Goes off when a metric crosses its threshold.",
        "AWS::CloudWatch::CompositeAlarm" => {
            "Goes off when its rule over other alarms holds (two of them in ALARM together)."
        }
        "AWS::SNS::Topic" => "Sends the alarm's notifications.",
        "AWS::SNS::Subscription" => "Emails the alarm's notifications to you.",
        _ => "Part of the lab.",
    }
}

/// The message to show beside a parameter's form field, if `value` is not
/// acceptable: CloudFormation's own check, run on that parameter alone so
/// that each field gets its own message, in the browser as on the server.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html>
pub fn parameter_error(template: &crate::cloudformation::Template, key: &str, value: &str) -> Option<String> {
    use crate::cloudformation::{SuppliedParameter, resolve_parameters};
    let mut single = template.clone();
    single.parameters.retain(|(name, _)| name == key);
    let supplied =
        [SuppliedParameter { key: key.to_owned(), value: Some(value.to_owned()), use_previous_value: false }];
    resolve_parameters(&single, &supplied, None).err().map(|error| error.message())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_prefix_gives_the_labs_stack_names() {
        // lab.md: stacks `pattern1-base`, `pattern1-app`, `pattern1-logging`.
        let prefix = Prefix::default();
        let names: Vec<_> = LabSection::ALL.iter().filter_map(|s| prefix.stack_name(*s)).collect();
        assert_eq!(names, ["pattern1-base", "pattern1-app", "pattern1-logging"]);
    }

    #[test]
    fn sections_are_numbered_in_order_and_depend_on_the_previous_one() {
        for (index, section) in LabSection::ALL.iter().enumerate() {
            assert_eq!(usize::from(section.number()), index + 1);
            let expected: Vec<_> = LabSection::ALL[..index].iter().rev().take(1).copied().collect();
            assert_eq!(section.prerequisites(), expected.as_slice());
        }
    }

    #[test]
    fn prefix_validation() {
        assert_eq!(Prefix::parse(" team-a1 ").map(|p| p.0), Ok("team-a1".to_owned()));
        assert_eq!(Prefix::parse(""), Err(PrefixError::Empty));
        assert_eq!(Prefix::parse("1abc"), Err(PrefixError::BadStart));
        assert_eq!(Prefix::parse("Pattern1"), Err(PrefixError::BadStart));
        assert_eq!(Prefix::parse("pat_tern"), Err(PrefixError::BadCharacter));
        assert_eq!(Prefix::parse("pat--tern"), Err(PrefixError::BadCharacter));
        assert_eq!(Prefix::parse("pattern<script>"), Err(PrefixError::BadCharacter));
        assert_eq!(Prefix::parse("pattern-"), Err(PrefixError::TrailingHyphen));
        assert_eq!(Prefix::parse(&"a".repeat(21)), Err(PrefixError::TooLong));
        // Issue 17, K: markup longer than 20 characters was told only to be shorter.
        assert_eq!(Prefix::parse("<script>alert(1)</script>"), Err(PrefixError::BadStart));
        assert_eq!(Prefix::parse("team<script>alert(1)</script>"), Err(PrefixError::BadCharacter));
        assert!(Prefix::parse(&"a".repeat(20)).is_ok());
    }

    #[test]
    fn longest_prefix_keeps_the_task_role_name_within_iam_limits() {
        // IAM quotas: role names are at most 64 characters.
        let prefix = Prefix::parse(&"a".repeat(MAX_PREFIX_LEN)).expect("valid");
        let stack = prefix.stack_name(LabSection::Application).expect("app stack");
        assert!(format!("{stack}-Pattern1ECSTaskRole").len() <= 64);
    }

    #[test]
    fn the_application_and_logging_stacks_are_wired_from_the_outputs_before_them() {
        let prefix = Prefix::parse("team-a").expect("valid");
        let outputs = |section: LabSection, key: &str| match (section, key) {
            (LabSection::BaseNetwork, BASE_REPOSITORY_URI_OUTPUT) => {
                Some("111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/team-a-repo".to_owned())
            }
            (LabSection::Application, APP_TASK_ROLE_OUTPUT) => {
                Some("arn:aws:iam::111122223333:role/team-a-app-Pattern1ECSTaskRole".to_owned())
            }
            _ => None,
        };
        let app = wired_parameters(LabSection::Application, &prefix, &outputs).expect("wired");
        assert_eq!(app[0], WiredParameter { key: "BaselineVpcStack", value: "team-a-base".into() });
        assert_eq!(app[1].value, "111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/team-a-repo:latest");
        let logging = wired_parameters(LabSection::LoggingAndAlarm, &prefix, &outputs).expect("wired");
        assert_eq!(logging[0].key, "AppECSTaskRoleArn");
        let nothing = |_: LabSection, _: &str| None;
        let missing = wired_parameters(LabSection::LoggingAndAlarm, &prefix, &nothing).expect_err("missing");
        assert_eq!(
            missing.to_string(),
            "the Application stack has no output OutputPattern1ECSTaskRole: deploy Application first"
        );
    }

    #[test]
    fn templates_are_embedded_and_teardown_runs_backwards() {
        for section in [LabSection::BaseNetwork, LabSection::Application, LabSection::LoggingAndAlarm] {
            assert!(section.template().is_some_and(|t| t.contains("AWSTemplateFormatVersion")));
        }
        assert_eq!(TEARDOWN_ORDER.map(|s| s.number()), [3, 2, 1]);
        let commands = image_push_commands("111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/repo", "ap-southeast-2");
        assert!(commands[0].ends_with("--password-stdin 111122223333.dkr.ecr.ap-southeast-2.amazonaws.com"));
        assert_eq!(commands[2], "docker push 111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/repo:latest");
    }

    #[test]
    fn parameter_errors_are_cloudformations_per_field() {
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
        // AllowedPattern failures report the ConstraintDescription.
        let logging = crate::cloudformation::Template::parse(templates::LOGGING).expect("logging template");
        assert_eq!(parameter_error(&logging, "EmailAddress", ""), None);
        assert_eq!(parameter_error(&logging, "EmailAddress", "ops@example.com"), None);
        let bad = parameter_error(&logging, "EmailAddress", "not-an-email").expect("refused");
        assert!(bad.contains("must be empty or an email address"), "{bad}");
        // MaxLength too reports the ConstraintDescription, so it names the
        // limit (issue 17, J: a 5,000-character address read as "not an
        // email address").
        let long = format!("{}@example.com", "a".repeat(243));
        assert_eq!(parameter_error(&logging, "EmailAddress", &long[1..]), None, "254 characters");
        let refused = parameter_error(&logging, "EmailAddress", &long).expect("255 characters refused");
        assert!(refused.contains("at most 254 characters"), "{refused}");
        // MinValue: "Parameter 'AlarmPeriod' must be a number not less than 10".
        assert!(parameter_error(&logging, "AlarmPeriod", "5").is_some());
        assert!(parameter_error(&logging, "AlarmPeriod", "ten").is_some());
        let app = crate::cloudformation::Template::parse(templates::APPLICATION).expect("application template");
        // AllowedValues: "Parameter 'DBInstanceClass' must be one of AllowedValues".
        assert!(parameter_error(&app, "DBInstanceClass", "db.m5.large").is_some());
        assert_eq!(parameter_error(&app, "DBInstanceClass", "db.t3.small"), None);
    }

    #[test]
    fn every_lab_resource_type_has_a_purpose() {
        for section in [LabSection::BaseNetwork, LabSection::Application, LabSection::LoggingAndAlarm] {
            let template =
                crate::cloudformation::Template::parse(section.template().expect("template")).expect("parses");
            for (logical_id, resource) in &template.resources {
                assert_ne!(resource_purpose(&resource.resource_type), "Part of the lab.", "{logical_id}");
            }
        }
    }
}

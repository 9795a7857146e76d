//! The project's three templates (cloudformation/*.yaml) go through the
//! whole language: parse, parameters, conditions, every resource's
//! properties, outputs, creation order and change planning.

use serde_json::{Value, json};

use super::changes::{ChangeAction, DeployedResource, Replacement, plan_changes};
use super::graph::creation_order;
use super::intrinsics::Evaluator;
use super::parameters::{ResolvedParameters, SuppliedParameter, resolve_parameters};
use super::template::{Capability, Template};
use super::test_support::FakeStack;

const BASE: &str = include_str!("../../../cloudformation/base.yaml");
const APPLICATION: &str = include_str!("../../../cloudformation/application.yaml");
const LOGGING: &str = include_str!("../../../cloudformation/logging.yaml");

fn parse(body: &str) -> Template {
    match Template::parse(body) {
        Ok(template) => template,
        Err(error) => panic!("{error}"),
    }
}

fn supplied(pairs: &[(&str, &str)]) -> Vec<SuppliedParameter> {
    pairs
        .iter()
        .map(|(key, value)| SuppliedParameter {
            key: (*key).to_owned(),
            value: Some((*value).to_owned()),
            use_previous_value: false,
        })
        .collect()
}

fn parameters(template: &Template, pairs: &[(&str, &str)]) -> ResolvedParameters {
    match resolve_parameters(template, &supplied(pairs), None) {
        Ok(parameters) => parameters,
        Err(error) => panic!("{error}"),
    }
}

/// Resolves every active resource's properties and every output; returns
/// the active resources.
fn resolve_everything(template: &Template, parameters: &ResolvedParameters) -> Vec<String> {
    let stack = FakeStack::new();
    let evaluator = match Evaluator::new(template, parameters, &stack) {
        Ok(evaluator) => evaluator,
        Err(error) => panic!("{error}"),
    };
    for logical_id in evaluator.active_resources() {
        if let Err(error) = evaluator.resource_properties(logical_id) {
            panic!("{logical_id}: {error}");
        }
    }
    if let Err(error) = evaluator.outputs() {
        panic!("outputs: {error}");
    }
    evaluator.active_resources().into_iter().map(str::to_owned).collect()
}

fn position(order: &[String], logical_id: &str) -> usize {
    order.iter().position(|name| name == logical_id).unwrap_or(usize::MAX)
}

/// Stack 1 of /work/shared/docs/lab.md: resolves, and orders the VPC before
/// the subnets and the gateway attachment before the public routes
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html).
#[test]
fn base_template_resolves_and_orders_the_network() {
    let template = parse(BASE);
    let parameters = parameters(&template, &[]);
    let active = resolve_everything(&template, &parameters);
    assert_eq!(active.len(), template.resources.len());
    let active: Vec<&str> = active.iter().map(String::as_str).collect();
    let order = match creation_order(&template, &active) {
        Ok(order) => order,
        Err(error) => panic!("{error}"),
    };
    for subnet in ["PublicSubnet1", "PrivateSubnet1", "PublicSubnet2", "PrivateSubnet2"] {
        assert!(position(&order, "VPC") < position(&order, subnet), "{subnet}");
    }
    for route in ["PublicDefaultRoute1", "PublicDefaultRoute2"] {
        assert!(position(&order, "InternetGatewayAttachment") < position(&order, route), "{route}");
    }
    assert!(position(&order, "NatGatewayEIP") < position(&order, "NatGateway"));
    assert!(position(&order, "NatGateway") < position(&order, "PrivateDefaultRoute1"));
    assert_eq!(template.required_capabilities(), Vec::<Capability>::new());

    let stack = FakeStack::new();
    let evaluator = Evaluator::new(&template, &parameters, &stack);
    let subnet = evaluator.as_ref().map(|evaluator| evaluator.resource_properties("PublicSubnet2"));
    let subnet = match subnet {
        Ok(Ok(value)) => value,
        _ => panic!("PublicSubnet2 did not resolve"),
    };
    assert_eq!(subnet.get("AvailabilityZone"), Some(&json!("ap-southeast-2b")));
    assert_eq!(subnet.get("VpcId"), Some(&json!("vpc-id")));
    let outputs = evaluator.and_then(|evaluator| evaluator.outputs()).unwrap_or_default();
    // The lab's output key (its scripts query it); the export name is what
    // the application stack imports.
    let vpc = outputs.iter().find(|output| output.key == "OutputPattern1VPC");
    assert_eq!(vpc.and_then(|output| output.export_name.clone()).as_deref(), Some("pattern1-base-VpcId"));
}

/// Stack 2: needs CAPABILITY_NAMED_IAM and resolves (Fn::ImportValue, the
/// Secrets Manager dynamic reference built with Fn::Sub).
#[test]
fn application_template_resolves() {
    let template = parse(APPLICATION);
    assert_eq!(template.required_capabilities(), vec![Capability::NamedIam]);
    let parameters =
        parameters(&template, &[("ECRImageURI", "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/app:1")]);
    resolve_everything(&template, &parameters);
    let summary = template.summary();
    assert!(summary.capabilities_reason.is_some_and(|reason| reason.contains("AWS::IAM::Role")));
    assert!(summary.parameters.iter().any(|parameter| parameter.key == "ECRImageURI" && parameter.default.is_none()));
}

/// Stack 3, with its optional detections off (defaults) and on.
#[test]
fn logging_template_resolves_with_conditions_both_ways() {
    let template = parse(LOGGING);
    assert_eq!(template.required_capabilities(), vec![Capability::NamedIam]);
    let role = ("AppECSTaskRoleArn", "arn:aws:iam::123456789012:role/pattern1-app-Pattern1ECSTaskRole");
    let defaults = parameters(&template, &[role]);
    let fewer = resolve_everything(&template, &defaults);
    let all_on = parameters(
        &template,
        &[
            role,
            ("EmailAddress", "ops@example.com"),
            ("EnableHighVolumeDetection", "true"),
            ("EnableKeyDisableDetection", "true"),
            ("EnablePendingDeletionDetection", "true"),
            ("EnableKeyMaterialDetection", "true"),
            ("EnableKeyPolicyChangeDetection", "true"),
            ("EnableOtherPrincipalDetection", "true"),
            ("MultiRegionTrail", "true"),
        ],
    );
    let more = resolve_everything(&template, &all_on);
    assert!(more.len() > fewer.len(), "{fewer:?} vs {more:?}");
    let bad = resolve_parameters(&template, &supplied(&[("AppECSTaskRoleArn", "nope")]), None);
    assert_eq!(
        bad.err().map(|error| error.message()).as_deref(),
        Some("Parameter AppECSTaskRoleArn failed to satisfy constraint: must be an IAM role ARN")
    );
}

fn deployed(template: &Template, parameters: &ResolvedParameters) -> Vec<DeployedResource> {
    let stack = FakeStack::new();
    let evaluator = match Evaluator::new(template, parameters, &stack) {
        Ok(evaluator) => evaluator,
        Err(error) => panic!("{error}"),
    };
    evaluator
        .active_resources()
        .into_iter()
        .filter_map(|logical_id| {
            let declaration = template.resource(logical_id)?;
            Some(DeployedResource {
                logical_id: logical_id.to_owned(),
                resource_type: declaration.resource_type.clone(),
                physical_id: format!("{}-id", logical_id.to_lowercase()),
                properties: evaluator.resource_properties(logical_id).ok()?,
            })
        })
        .collect()
}

/// Change sets per
/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html
/// and the Replacement / RequiresRecreation / Evaluation fields of API_ResourceChange(Detail).html.
#[test]
fn change_sets_of_the_base_template() {
    let old = parse(BASE);
    let parameters = parameters(&old, &[]);
    let current = deployed(&old, &parameters);
    let stack = FakeStack::new();

    // Same template: no changes.
    let same = Evaluator::new(&old, &parameters, &stack)
        .and_then(|evaluator| plan_changes(&current, Some(&old), &old, &evaluator));
    assert_eq!(same.map(|changes| changes.len()), Ok(0));

    // A subnet's CIDR changes (replacement), a tag changes (no
    // replacement), the ECR repository goes, a topic comes.
    let edited = BASE
        .replace("CidrBlock: 172.31.3.0/24", "CidrBlock: 172.31.5.0/24")
        .replace("Value: !Sub '${AWS::StackName}-igw'", "Value: !Sub '${AWS::StackName}-gateway'")
        .replace(
            "  Pattern1AppContainerRepository:\n    Type: AWS::ECR::Repository",
            "  Alerts:\n    Type: AWS::SNS::Topic\n  Unused:\n    Type: AWS::ECR::Repository",
        );
    let edited = edited
        .replace("!Ref Pattern1AppContainerRepository", "!Ref Unused")
        .replace("!GetAtt Pattern1AppContainerRepository.RepositoryUri", "!GetAtt Unused.RepositoryUri");
    let new = parse(&edited);
    let new_parameters = parameters.clone();
    let changes = Evaluator::new(&new, &new_parameters, &stack)
        .and_then(|evaluator| plan_changes(&current, Some(&old), &new, &evaluator));
    let changes = match changes {
        Ok(changes) => changes,
        Err(error) => panic!("{error}"),
    };
    let find = |logical_id: &str| changes.iter().find(|change| change.logical_id == logical_id);
    let subnet = find("PublicSubnet2");
    assert_eq!(subnet.map(|c| (c.action, c.replacement)), Some((ChangeAction::Modify, Some(Replacement::True))));
    assert_eq!(
        subnet.and_then(|c| c.details.first()).map(|d| (
            d.name.clone(),
            d.requires_recreation.as_str(),
            d.change_source.as_str()
        )),
        Some((Some("CidrBlock".to_owned()), "Always", "DirectModification"))
    );
    // What refers to the replaced subnet changes once it exists: Dynamic.
    let association = find("PublicSubnet2RouteTableAssociation");
    assert_eq!(
        association.and_then(|c| c.details.first()).map(|d| (d.evaluation.as_str(), d.causing_entity.clone())),
        Some(("Dynamic", Some("PublicSubnet2".to_owned())))
    );
    let gateway = find("InternetGateway");
    assert_eq!(
        gateway.map(|c| (c.replacement, c.scope.clone())),
        Some((Some(Replacement::False), vec!["Tags".to_owned()]))
    );
    assert_eq!(find("Alerts").map(|c| c.action), Some(ChangeAction::Add));
    assert_eq!(find("Unused").map(|c| c.action), Some(ChangeAction::Add));
    assert_eq!(find("Pattern1AppContainerRepository").map(|c| c.action), Some(ChangeAction::Remove));
    assert_eq!(find("VPC"), None);
}

/// The same template as JSON parses to the same model
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-formats.html).
#[test]
fn json_and_yaml_forms_agree() {
    let yaml = parse(BASE);
    let json_body = match serde_json::to_string_pretty(&yaml.body) {
        Ok(text) => text,
        Err(error) => panic!("{error}"),
    };
    let json = parse(&json_body);
    let names = |template: &Template| template.resources.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>();
    // serde_json sorts members; order then comes from the JSON text itself.
    let mut sorted = names(&yaml);
    sorted.sort();
    assert_eq!(names(&json), sorted);
    assert_eq!(
        json.resources.iter().map(|(_, r)| r.properties.clone()).collect::<Vec<Value>>().len(),
        yaml.resources.len()
    );
}

/// A parameter change shows as a ParameterReference detail on what uses it
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChangeDetail.html).
#[test]
fn parameter_changes_are_parameter_references() {
    let template = parse(APPLICATION);
    let image = ("ECRImageURI", "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/app:1");
    let before = parameters(&template, &[image]);
    let current = deployed(&template, &before);
    let after = parameters(&template, &[image, ("DBInstanceClass", "db.t4g.small")]);
    let stack = FakeStack::new();
    let changes = Evaluator::new(&template, &after, &stack)
        .and_then(|evaluator| plan_changes(&current, Some(&template), &template, &evaluator));
    let changes = match changes {
        Ok(changes) => changes,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(changes.len(), 1, "{changes:?}");
    let change = &changes[0];
    assert_eq!((change.action, change.replacement), (ChangeAction::Modify, Some(Replacement::False)));
    let detail = &change.details[0];
    assert_eq!(detail.name.as_deref(), Some("DBInstanceClass"));
    assert_eq!(
        (detail.requires_recreation.as_str(), detail.evaluation.as_str(), detail.change_source.as_str()),
        ("Never", "Static", "ParameterReference")
    );
    assert_eq!(detail.causing_entity.as_deref(), Some("DBInstanceClass"));
}

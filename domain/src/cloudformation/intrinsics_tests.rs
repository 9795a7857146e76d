//! Table tests of the intrinsic functions and condition functions, each
//! citing the AWS page it follows.

use serde_json::{Value, json};

use super::error::TemplateError;
use super::intrinsics::Evaluator;
use super::parameters::{ResolvedParameters, SuppliedParameter, resolve_parameters};
use super::template::Template;
use super::test_support::FakeStack;

const TEMPLATE: &str = r#"
Parameters:
  Env: {Type: String, Default: prod}
  Subnets: {Type: CommaDelimitedList, Default: 'a,b,c'}
  Empty: {Type: String, Default: ''}
Mappings:
  RegionMap:
    ap-southeast-2: {AMI: ami-123, Bits: 32}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Equals [!Ref Empty, '']]
  Either: !Or [!Condition IsDev, !Equals [x, y]]
  NumberEquals: !Equals [1, '1']
Resources:
  Queue: {Type: AWS::SQS::Queue}
  DevOnly: {Type: AWS::SNS::Topic, Condition: IsDev}
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !If [IsProd, prod-topic, !Ref AWS::NoValue]
      Tags:
        - !If [IsDev, {Key: a, Value: b}, !Ref AWS::NoValue]
        - {Key: c, Value: d}
Outputs:
  Zones:
    Value: !GetAZs ''
  Dev:
    Condition: IsDev
    Value: x
  Url:
    Value: !GetAtt Queue.QueueUrl
    Export: {Name: !Sub '${AWS::StackName}-Url'}
"#;

fn template() -> Template {
    match Template::parse(TEMPLATE) {
        Ok(template) => template,
        Err(error) => panic!("{error}"),
    }
}

fn parameters(template: &Template) -> ResolvedParameters {
    match resolve_parameters(template, &[] as &[SuppliedParameter], None) {
        Ok(parameters) => parameters,
        Err(error) => panic!("{error}"),
    }
}

fn resolve(value: Value) -> Result<Value, String> {
    let template = template();
    let parameters = parameters(&template);
    let stack = FakeStack::new();
    let evaluator = Evaluator::new(&template, &parameters, &stack).map_err(|error| error.message())?;
    evaluator.resolve(&value).map_err(|error| error.message())
}

/// Each row: input, expected value or error text.
fn table(rows: Vec<(Value, Result<Value, &str>)>) {
    for (input, expected) in rows {
        let expected = expected.map_err(str::to_owned);
        assert_eq!(resolve(input.clone()), expected, "{input}");
    }
}

/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-ref.html
/// and https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
#[test]
fn ref_of_parameters_resources_and_pseudo_parameters() {
    table(vec![
        (json!({"Ref": "Env"}), Ok(json!("prod"))),
        (json!({"Ref": "Subnets"}), Ok(json!(["a", "b", "c"]))),
        (json!({"Ref": "Queue"}), Ok(json!("queue-id"))),
        (json!({"Ref": "AWS::Region"}), Ok(json!("ap-southeast-2"))),
        (json!({"Ref": "AWS::Partition"}), Ok(json!("aws"))),
        (json!({"a": {"Ref": "AWS::NoValue"}, "b": 1}), Ok(json!({"b": 1}))),
        (json!([1, {"Ref": "AWS::NoValue"}, 2]), Ok(json!([1, 2]))),
        (
            json!({"Ref": "DevOnly"}),
            Err(
                "Template format error: Unresolved resource dependencies [DevOnly] in the Resources block of the template",
            ),
        ),
    ]);
}

/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-getatt.html
#[test]
fn get_att() {
    table(vec![
        (json!({"Fn::GetAtt": ["Queue", "Arn"]}), Ok(json!("Queue.Arn"))),
        (json!({"Fn::GetAtt": "Queue.QueueUrl"}), Ok(json!("Queue.QueueUrl"))),
        (json!({"Fn::GetAtt": ["Queue", {"Fn::Join": ["", ["Queue", "Name"]]}]}), Ok(json!("Queue.QueueName"))),
        (
            json!({"Fn::GetAtt": ["Nope", "Arn"]}),
            Err("Template error: instance of Fn::GetAtt references undefined resource Nope"),
        ),
        (
            json!({"Fn::GetAtt": ["Queue", "Nope"]}),
            Err("Template error: resource Queue does not support attribute type Nope in Fn::GetAtt"),
        ),
    ]);
}

/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-sub.html
#[test]
fn sub() {
    table(vec![
        (json!({"Fn::Sub": "${AWS::StackName}-${Env}"}), Ok(json!("pattern1-base-prod"))),
        (json!({"Fn::Sub": "arn:${AWS::Partition}:sqs:::${Queue}"}), Ok(json!("arn:aws:sqs:::queue-id"))),
        (json!({"Fn::Sub": "${Queue.Arn}"}), Ok(json!("Queue.Arn"))),
        (json!({"Fn::Sub": "${!Literal}-${ Env }"}), Ok(json!("${Literal}-prod"))),
        (json!({"Fn::Sub": ["www.${Domain}", {"Domain": {"Ref": "Env"}}]}), Ok(json!("www.prod"))),
        (json!({"Fn::Sub": "no variables"}), Ok(json!("no variables"))),
        (
            json!({"Fn::Sub": ["${a-b}", {"a-b": "x"}]}),
            Err(
                "Template error: every key of the context object of every Fn::Sub object must contain only alphanumeric characters and underscores",
            ),
        ),
        (
            json!({"Fn::Sub": ["${A}", {"A": ["x"]}]}),
            Err(
                "Template error: every value of the context object of every Fn::Sub object must be a string or a function that returns a string",
            ),
        ),
        (
            json!({"Fn::Sub": "${Nope.Arn}"}),
            Err("Template error: instance of Fn::Sub references invalid resource attribute Nope.Arn"),
        ),
        (
            json!({"Fn::Sub": "${Subnets}"}),
            Err("Template error: every variable in an Fn::sub object must reference a string"),
        ),
        (
            json!({"Fn::Sub": "${Bad-Name}"}),
            Err(
                "Template error: variable names in Fn::Sub syntax must contain only alphanumeric characters, underscores, periods, and colons",
            ),
        ),
    ]);
}

/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-join.html
#[test]
fn join() {
    table(vec![
        (json!({"Fn::Join": [":", ["a", "b", "c"]]}), Ok(json!("a:b:c"))),
        (json!({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::b"]]}), Ok(json!("arn:aws:s3:::b"))),
        (json!({"Fn::Join": [",", {"Ref": "Subnets"}]}), Ok(json!("a,b,c"))),
        (
            json!({"Fn::Join": [","]}),
            Err(
                "Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.",
            ),
        ),
    ]);
}

/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-select.html
#[test]
fn select() {
    table(vec![
        (json!({"Fn::Select": ["1", ["apples", "grapes", "oranges", "mangoes"]]}), Ok(json!("grapes"))),
        (json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}), Ok(json!("ap-southeast-2a"))),
        (json!({"Fn::Select": [2, {"Ref": "Subnets"}]}), Ok(json!("c"))),
        (
            json!({"Fn::Select": [5, ["a"]]}),
            Err("Template error: Fn::Select cannot select nonexistent value at index 5"),
        ),
    ]);
}

/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-split.html
#[test]
fn split() {
    table(vec![
        (json!({"Fn::Split": ["|", "a|b|c"]}), Ok(json!(["a", "b", "c"]))),
        (json!({"Fn::Split": ["|", "a||c|"]}), Ok(json!(["a", "", "c", ""]))),
        (
            json!({"Fn::Select": [2, {"Fn::Split": [",", {"Fn::ImportValue": "AccountSubnetIDs"}]}]}),
            Err("Template error: Fn::Select cannot select nonexistent value at index 2"),
        ),
    ]);
}

/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-getavailabilityzones.html
/// and intrinsic-function-reference-importvalue.html
#[test]
fn get_azs_and_import_value() {
    table(vec![
        (json!({"Fn::GetAZs": ""}), Ok(json!(["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"]))),
        (
            json!({"Fn::GetAZs": {"Ref": "AWS::Region"}}),
            Ok(json!(["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"])),
        ),
        (json!({"Fn::GetAZs": "us-east-1"}), Ok(json!(["us-east-1a", "us-east-1b", "us-east-1c"]))),
        (json!({"Fn::ImportValue": {"Fn::Sub": "${Env}-VpcId"}}), Ok(json!("imported:prod-VpcId"))),
    ]);
}

/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-conditions.html
#[test]
fn condition_functions() {
    let template = template();
    let parameters = parameters(&template);
    let stack = FakeStack::new();
    let evaluator = Evaluator::new(&template, &parameters, &stack);
    let evaluator = match evaluator {
        Ok(evaluator) => evaluator,
        Err(error) => panic!("{error}"),
    };
    assert_eq!(evaluator.condition("IsProd"), Some(true));
    assert_eq!(evaluator.condition("IsDev"), Some(false));
    assert_eq!(evaluator.condition("Both"), Some(true));
    assert_eq!(evaluator.condition("Either"), Some(false));
    assert_eq!(evaluator.condition("NumberEquals"), Some(true));
    assert_eq!(evaluator.condition("Nope"), None);
    assert_eq!(evaluator.active_resources(), vec!["Queue", "Topic"]);
    assert_eq!(
        evaluator.resource_properties("Topic"),
        Ok(json!({"TopicName": "prod-topic", "Tags": [{"Key": "c", "Value": "d"}]}))
    );
    table(vec![
        (json!({"Fn::If": ["IsDev", "a", "b"]}), Ok(json!("b"))),
        (json!({"Fn::If": ["Nope", "a", "b"]}), Err("Template error: unresolved condition dependency Nope in Fn::If")),
        (json!({"Fn::If": ["IsDev", "a"]}), Err("Template error: Fn::If requires a list argument with three elements")),
        (
            json!({"Fn::Not": [{"Condition": "IsDev"}, 1]}),
            Err("Template error: Fn::Not requires a list argument with one element"),
        ),
        (json!({"Fn::Equals": ["a"]}), Err("Template error: Fn::Equals requires a list argument with two elements")),
        (
            json!({"Fn::And": [{"Condition": "IsProd"}]}),
            Err(
                "Template error: every Fn::And object requires a list of at least 2 and at most 10 boolean parameters.",
            ),
        ),
    ]);
}

/// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-findinmap.html,
/// intrinsic-function-reference-base64.html and intrinsic-function-reference-cidr.html
#[test]
fn find_in_map_base64_and_cidr() {
    table(vec![
        (json!({"Fn::FindInMap": ["RegionMap", {"Ref": "AWS::Region"}, "AMI"]}), Ok(json!("ami-123"))),
        (
            json!({"Fn::FindInMap": ["RegionMap", "us-east-9", "AMI"]}),
            Err("Template error: Unable to get mapping for RegionMap::us-east-9::AMI"),
        ),
        (json!({"Fn::Base64": "AWS CloudFormation"}), Ok(json!("QVdTIENsb3VkRm9ybWF0aW9u"))),
        (
            json!({"Fn::Cidr": ["192.168.0.0/24", 6, 5]}),
            Ok(json!([
                "192.168.0.0/27",
                "192.168.0.32/27",
                "192.168.0.64/27",
                "192.168.0.96/27",
                "192.168.0.128/27",
                "192.168.0.160/27"
            ])),
        ),
        (json!({"Fn::Select": [1, {"Fn::Cidr": ["10.0.0.0/16", "2", "8"]}]}), Ok(json!("10.0.1.0/24"))),
    ]);
}

/// Outputs: only active ones, lists comma-joined, export names resolved
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html).
#[test]
fn outputs_resolve() {
    let template = template();
    let parameters = parameters(&template);
    let stack = FakeStack::new();
    let outputs = Evaluator::new(&template, &parameters, &stack).and_then(|evaluator| evaluator.outputs());
    let outputs = match outputs {
        Ok(outputs) => outputs,
        Err(error) => panic!("{error}"),
    };
    let keys: Vec<&str> = outputs.iter().map(|output| output.key.as_str()).collect();
    assert_eq!(keys, vec!["Zones", "Url"]);
    assert_eq!(outputs[0].value, "ap-southeast-2a,ap-southeast-2b,ap-southeast-2c");
    assert_eq!(outputs[1].export_name.as_deref(), Some("pattern1-base-Url"));
}

/// A resource not created yet is reported as such, not as a template error.
#[test]
fn pending_resources_are_not_yet_available() {
    let template = template();
    let parameters = parameters(&template);
    let mut stack = FakeStack::new();
    stack.pending.insert("Queue".to_owned());
    let evaluator = Evaluator::new(&template, &parameters, &stack);
    let result = evaluator.and_then(|evaluator| evaluator.resolve(&json!({"Ref": "Queue"})));
    assert_eq!(result, Err(TemplateError::NotYetAvailable { logical_id: "Queue".to_owned() }));
}

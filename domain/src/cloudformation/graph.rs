//! The resource dependency graph: what each resource waits for (`DependsOn`,
//! `Ref`, `Fn::GetAtt`, `Fn::Sub` variables) and the order CloudFormation
//! creates and deletes them in.
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html

use std::collections::BTreeSet;

use super::error::TemplateError;
use super::intrinsics::{References, collect_references};
use super::template::Template;

/// The resources `logical_id` depends on.
pub fn dependencies(template: &Template, logical_id: &str) -> BTreeSet<String> {
    let Some(resource) = template.resource(logical_id) else { return BTreeSet::new() };
    let mut references = References::default();
    collect_references(&resource.properties, &mut references);
    let mut found: BTreeSet<String> = resource.depends_on.iter().cloned().collect();
    found.extend(references.resource_targets().filter(|name| template.resource(name).is_some()).cloned());
    found
}

/// The creation order of the `active` resources: each after what it
/// depends on, ties broken by template order. Dependencies on resources
/// outside `active` are ignored.
pub fn creation_order(template: &Template, active: &[&str]) -> Result<Vec<String>, TemplateError> {
    let in_order: Vec<&str> =
        template.resources.iter().map(|(name, _)| name.as_str()).filter(|name| active.contains(name)).collect();
    let waits: Vec<BTreeSet<String>> = in_order
        .iter()
        .map(|name| {
            dependencies(template, name)
                .into_iter()
                .filter(|dependency| in_order.contains(&dependency.as_str()))
                .collect()
        })
        .collect();
    let mut done: Vec<String> = Vec::with_capacity(in_order.len());
    let mut placed = vec![false; in_order.len()];
    while done.len() < in_order.len() {
        let next = (0..in_order.len())
            .find(|&index| !placed[index] && waits[index].iter().all(|dependency| done.contains(dependency)));
        match next {
            Some(index) => {
                placed[index] = true;
                done.push(in_order[index].to_owned());
            }
            None => {
                let stuck: Vec<&str> =
                    (0..in_order.len()).filter(|&index| !placed[index]).map(|index| in_order[index]).collect();
                return Err(TemplateError::CircularDependency(stuck.into_iter().map(str::to_owned).collect()));
            }
        }
    }
    Ok(done)
}

/// The deletion order: the reverse of the creation order.
pub fn deletion_order(template: &Template, active: &[&str]) -> Result<Vec<String>, TemplateError> {
    let mut order = creation_order(template, active)?;
    order.reverse();
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Template {
        match Template::parse(body) {
            Ok(template) => template,
            Err(error) => panic!("{error}"),
        }
    }

    /// DependsOn, Ref, GetAtt and Sub all make dependencies
    /// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html).
    #[test]
    fn dependencies_come_from_depends_on_and_intrinsics() {
        let template = parse(
            r#"
Parameters:
  P: {Type: String}
Resources:
  A: {Type: AWS::SNS::Topic}
  B: {Type: AWS::SQS::Queue}
  C: {Type: AWS::SQS::Queue}
  D: {Type: AWS::KMS::Key}
  E:
    Type: AWS::SNS::Subscription
    DependsOn: D
    Properties:
      TopicArn: !Ref A
      Endpoint: !GetAtt B.Arn
      Protocol: !Sub '${C.QueueName}-${P}-${AWS::Region}-${!Literal}'
"#,
        );
        let found: Vec<String> = dependencies(&template, "E").into_iter().collect();
        assert_eq!(found, vec!["A", "B", "C", "D"]);
        let order = creation_order(&template, &["E", "D", "C", "B", "A"]);
        assert_eq!(order, Ok(vec!["A".into(), "B".into(), "C".into(), "D".into(), "E".into()]));
        assert_eq!(
            deletion_order(&template, &["A", "B", "C", "D", "E"]).ok().and_then(|o| o.first().cloned()),
            Some("E".to_owned())
        );
    }

    #[test]
    fn ties_keep_template_order_and_inactive_resources_are_skipped() {
        let template = parse(
            "Resources:\n  Z: {Type: AWS::SNS::Topic, DependsOn: Y}\n  Y: {Type: AWS::SNS::Topic}\n  X: {Type: AWS::SNS::Topic}",
        );
        assert_eq!(creation_order(&template, &["Z", "Y", "X"]), Ok(vec!["Y".into(), "Z".into(), "X".into()]));
        assert_eq!(creation_order(&template, &["Z", "X"]), Ok(vec!["Z".into(), "X".into()]));
    }
}

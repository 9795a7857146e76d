//! Change-set planning: what an update would add, modify (and whether that
//! replaces) or remove, with the details `DescribeChangeSet` reports.
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChange.html
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChangeDetail.html

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::error::TemplateError;
use super::graph::creation_order;
use super::intrinsics::{Evaluator, References, collect_references};
use super::resource_types::resource_type;
use super::template::Template;

/// `ResourceChange.Action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeAction {
    /// `Add`.
    Add,
    /// `Modify`.
    Modify,
    /// `Remove`.
    Remove,
}

impl ChangeAction {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Add => "Add",
            ChangeAction::Modify => "Modify",
            ChangeAction::Remove => "Remove",
        }
    }
}

/// `ResourceChange.Replacement`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replacement {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Conditional`.
    Conditional,
}

impl Replacement {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Replacement::True => "True",
            Replacement::False => "False",
            Replacement::Conditional => "Conditional",
        }
    }
}

/// One `ResourceChange`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    /// `Action`.
    pub action: ChangeAction,
    /// `LogicalResourceId`.
    pub logical_id: String,
    /// `ResourceType`.
    pub resource_type: String,
    /// `PhysicalResourceId` (absent for additions).
    pub physical_id: Option<String>,
    /// `Replacement` (modifications only).
    pub replacement: Option<Replacement>,
    /// `Scope`: `Properties`, `Tags`.
    pub scope: Vec<String>,
    /// `Details`.
    pub details: Vec<ChangeDetail>,
}

/// One `ResourceChangeDetail` (its `Target` flattened).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeDetail {
    /// `Target.Attribute`: `Properties` or `Tags`.
    pub attribute: String,
    /// `Target.Name`: the property.
    pub name: Option<String>,
    /// `Target.RequiresRecreation`: `Never`, `Conditionally` or `Always`.
    pub requires_recreation: String,
    /// `Evaluation`: `Static` or `Dynamic`.
    pub evaluation: String,
    /// `ChangeSource`.
    pub change_source: String,
    /// `CausingEntity`.
    pub causing_entity: Option<String>,
}

/// A resource as the stack has it now.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployedResource {
    /// Logical id.
    pub logical_id: String,
    /// Type.
    pub resource_type: String,
    /// Physical id.
    pub physical_id: String,
    /// The properties it was created or last updated with, resolved.
    pub properties: Value,
}

/// Plans the changes from `deployed` (created from `old_template`) to
/// `new_template`, whose values `new` resolves (its context answers with the
/// deployed resources' current ids and attributes).
pub fn plan_changes(
    deployed: &[DeployedResource],
    old_template: Option<&Template>,
    new_template: &Template,
    new: &Evaluator,
) -> Result<Vec<ResourceChange>, TemplateError> {
    let active = new.active_resources();
    let order = creation_order(new_template, &active)?;
    // Resources replaced by this update: what refers to them changes too,
    // but only once the replacement exists (a "Dynamic" evaluation).
    let mut replaced: BTreeSet<String> = BTreeSet::new();
    let mut changes = Vec::new();
    for logical_id in &order {
        let Some(declaration) = new_template.resource(logical_id) else { continue };
        let Some(current) = deployed.iter().find(|resource| &resource.logical_id == logical_id) else {
            // A new resource's dependents see a new id too.
            replaced.insert(logical_id.clone());
            changes.push(ResourceChange {
                action: ChangeAction::Add,
                logical_id: logical_id.clone(),
                resource_type: declaration.resource_type.clone(),
                physical_id: None,
                replacement: None,
                scope: Vec::new(),
                details: Vec::new(),
            });
            continue;
        };
        let replacement_properties =
            resource_type(&declaration.resource_type).map(|known| known.replacement_properties).unwrap_or(&[]);
        let recreation = |name: &str| if replacement_properties.contains(&name) { "Always" } else { "Never" };
        let old_expressions = old_template.and_then(|old| old.resource(logical_id)).map(|old| &old.properties);
        let empty = Map::new();
        let new_expressions = declaration.properties.as_object().unwrap_or(&empty);
        let current_properties = current.properties.as_object().unwrap_or(&empty);
        let mut names: Vec<&String> = new_expressions.keys().collect();
        for name in current_properties.keys() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let mut details = Vec::new();
        for name in names {
            let expression = new_expressions.get(name.as_str());
            let old_expression = old_expressions.and_then(|old| old.get(name.as_str()));
            let mut references = References::default();
            if let Some(expression) = expression {
                collect_references(expression, &mut references);
            }
            let detail = |evaluation: &str, change_source: &str, causing_entity: Option<String>| ChangeDetail {
                attribute: if name == "Tags" { "Tags".to_owned() } else { "Properties".to_owned() },
                name: Some(name.clone()),
                requires_recreation: recreation(name).to_owned(),
                evaluation: evaluation.to_owned(),
                change_source: change_source.to_owned(),
                causing_entity,
            };
            // Dynamic: the property refers to a resource replaced or added by this plan.
            let mut dynamic = false;
            for target in &references.refs {
                if replaced.contains(target) {
                    details.push(detail("Dynamic", "ResourceReference", Some(target.clone())));
                    dynamic = true;
                }
            }
            for (resource, attribute) in &references.get_atts {
                if replaced.contains(resource) {
                    let entity = attribute
                        .as_ref()
                        .map_or_else(|| resource.clone(), |attribute| format!("{resource}.{attribute}"));
                    details.push(detail("Dynamic", "ResourceAttribute", Some(entity)));
                    dynamic = true;
                }
            }
            if dynamic {
                continue;
            }
            let resolved = match expression {
                Some(expression) => match new.resolve(expression) {
                    Ok(value) => Some(value),
                    Err(TemplateError::NotYetAvailable { logical_id: pending }) => {
                        details.push(detail("Dynamic", "ResourceReference", Some(pending)));
                        continue;
                    }
                    Err(error) => return Err(error),
                },
                None => None,
            };
            if resolved.as_ref() == current_properties.get(name.as_str()) {
                continue;
            }
            if old_template.is_some() && old_expression == expression {
                // Same expression, new value: what it refers to changed.
                let parameter = references.refs.iter().find(|target| new_template.parameter(target).is_some());
                match parameter {
                    Some(parameter) => details.push(detail("Static", "ParameterReference", Some(parameter.clone()))),
                    None => details.push(detail("Static", "ResourceReference", references.refs.first().cloned())),
                }
            } else {
                details.push(detail("Static", "DirectModification", None));
            }
        }
        if declaration.resource_type != current.resource_type {
            details.push(ChangeDetail {
                attribute: "Properties".to_owned(),
                name: None,
                requires_recreation: "Always".to_owned(),
                evaluation: "Static".to_owned(),
                change_source: "DirectModification".to_owned(),
                causing_entity: None,
            });
        }
        if details.is_empty() {
            continue;
        }
        let replacement =
            if details.iter().any(|detail| detail.requires_recreation == "Always" && detail.evaluation == "Static") {
                Replacement::True
            } else if details.iter().any(|detail| detail.requires_recreation != "Never") {
                Replacement::Conditional
            } else {
                Replacement::False
            };
        if replacement == Replacement::True {
            replaced.insert(logical_id.clone());
        }
        let mut scope = Vec::new();
        for detail in &details {
            if !scope.contains(&detail.attribute) {
                scope.push(detail.attribute.clone());
            }
        }
        changes.push(ResourceChange {
            action: ChangeAction::Modify,
            logical_id: logical_id.clone(),
            resource_type: declaration.resource_type.clone(),
            physical_id: Some(current.physical_id.clone()),
            replacement: Some(replacement),
            scope,
            details,
        });
    }
    for resource in deployed {
        if !order.contains(&resource.logical_id) {
            changes.push(ResourceChange {
                action: ChangeAction::Remove,
                logical_id: resource.logical_id.clone(),
                resource_type: resource.resource_type.clone(),
                physical_id: Some(resource.physical_id.clone()),
                replacement: None,
                scope: Vec::new(),
                details: Vec::new(),
            });
        }
    }
    Ok(changes)
}

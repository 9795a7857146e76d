//! Conditions and intrinsic functions: the `Evaluator` resolves a template's
//! values against resolved parameters and what the stack knows about its
//! resources (`StackContext`), and `collect_references` finds the names a
//! value refers to, for validation and the dependency graph.
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::cidr::cidr;
use super::error::TemplateError;
use super::parameters::ResolvedParameters;
use super::resource_types::resource_type;
use super::template::{Template, scalar_text};

/// Pseudo parameters
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html).
const PSEUDO_PARAMETERS: [&str; 8] = [
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

const JOIN_ARGUMENTS: &str = "every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.";
const SPLIT_ARGUMENTS: &str = "every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.";
const FIND_IN_MAP_ARGUMENTS: &str =
    "every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value";
const SUB_CONTEXT_KEYS: &str =
    "every key of the context object of every Fn::Sub object must contain only alphanumeric characters and underscores";
const SUB_CONTEXT_VALUES: &str =
    "every value of the context object of every Fn::Sub object must be a string or a function that returns a string";
const SUB_VARIABLE_NAMES: &str =
    "variable names in Fn::Sub syntax must contain only alphanumeric characters, underscores, periods, and colons";

/// Whether `name` is a pseudo parameter such as `AWS::Region`.
pub fn is_pseudo_parameter(name: &str) -> bool {
    PSEUDO_PARAMETERS.contains(&name)
}

/// What the stack knows beyond the template: pseudo parameters, the physical
/// ids and attributes of resources created so far, exports and zones.
pub trait StackContext {
    /// `AWS::Region`, `AWS::AccountId`, `AWS::StackName`, `AWS::StackId`,
    /// `AWS::Partition`, `AWS::URLSuffix`, `AWS::NotificationARNs`.
    fn pseudo_parameter(&self, name: &str) -> Option<Value>;
    /// `Ref` of a resource; `None` when it is not created yet.
    fn physical_id(&self, logical_id: &str) -> Option<String>;
    /// `Fn::GetAtt` of a resource; `None` when not available yet.
    fn attribute(&self, logical_id: &str, attribute: &str) -> Option<Value>;
    /// The value another stack exported under `export_name`.
    fn import_value(&self, export_name: &str) -> Option<String>;
    /// `Fn::GetAZs` of a region (never empty for the stack's region).
    fn availability_zones(&self, region: &str) -> Vec<String>;
}

/// An output after resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedOutput {
    /// `OutputKey`.
    pub key: String,
    /// `OutputValue` (lists are comma-joined, as CloudFormation shows them).
    pub value: String,
    /// `Description`.
    pub description: Option<String>,
    /// `ExportName`.
    pub export_name: Option<String>,
}

/// Names a value refers to.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct References {
    /// `Ref` targets and `${Name}` of `Fn::Sub` (parameters, resources, pseudo parameters).
    pub(crate) refs: Vec<String>,
    /// `Fn::GetAtt` (and `${Resource.Attribute}`) pairs; the attribute is
    /// `None` when it is computed by a function.
    pub(crate) get_atts: Vec<(String, Option<String>)>,
    /// Condition names of `Fn::If`.
    pub(crate) if_conditions: Vec<String>,
    /// `{"Condition": name}` references.
    pub(crate) conditions: Vec<String>,
}

impl References {
    /// Resources this value depends on (refs and GetAtts), in order of appearance.
    pub(crate) fn resource_targets(&self) -> impl Iterator<Item = &String> {
        self.refs.iter().chain(self.get_atts.iter().map(|(resource, _)| resource))
    }
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|known| known == item) {
        list.push(item.to_owned());
    }
}

/// Collects the names `value` refers to through intrinsic functions.
pub(crate) fn collect_references(value: &Value, references: &mut References) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| collect_references(item, references)),
        Value::Object(members) => {
            if members.len() == 1
                && let Some((key, argument)) = members.iter().next()
            {
                match (key.as_str(), argument) {
                    ("Ref", Value::String(target)) => {
                        push_unique(&mut references.refs, target);
                        return;
                    }
                    ("Condition", Value::String(name)) => {
                        push_unique(&mut references.conditions, name);
                        return;
                    }
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        if let Some(Value::String(resource)) = parts.first() {
                            let attribute = match parts.get(1) {
                                Some(Value::String(attribute)) => Some(attribute.clone()),
                                _ => None,
                            };
                            if !references.get_atts.contains(&(resource.clone(), attribute.clone())) {
                                references.get_atts.push((resource.clone(), attribute));
                            }
                        }
                        parts.iter().skip(1).for_each(|part| collect_references(part, references));
                        return;
                    }
                    ("Fn::GetAtt", Value::String(dotted)) => {
                        if let Some((resource, attribute)) = dotted.split_once('.') {
                            let pair = (resource.to_owned(), Some(attribute.to_owned()));
                            if !references.get_atts.contains(&pair) {
                                references.get_atts.push(pair);
                            }
                        }
                        return;
                    }
                    ("Fn::Sub", argument) => {
                        let (text, variables) = match argument {
                            Value::String(text) => (Some(text.as_str()), None),
                            Value::Array(parts) => {
                                (parts.first().and_then(Value::as_str), parts.get(1).and_then(Value::as_object))
                            }
                            _ => (None, None),
                        };
                        if let Some(variables) = variables {
                            variables.values().for_each(|variable| collect_references(variable, references));
                        }
                        for name in text.map(sub_variables).unwrap_or_default() {
                            if variables.is_some_and(|variables| variables.contains_key(&name)) {
                                continue;
                            }
                            match name.split_once('.') {
                                Some((resource, attribute)) => {
                                    let pair = (resource.to_owned(), Some(attribute.to_owned()));
                                    if !references.get_atts.contains(&pair) {
                                        references.get_atts.push(pair);
                                    }
                                }
                                None => push_unique(&mut references.refs, &name),
                            }
                        }
                        return;
                    }
                    ("Fn::If", Value::Array(parts)) => {
                        if let Some(Value::String(condition)) = parts.first() {
                            push_unique(&mut references.if_conditions, condition);
                        }
                        parts.iter().skip(1).for_each(|part| collect_references(part, references));
                        return;
                    }
                    _ => {}
                }
            }
            members.values().for_each(|member| collect_references(member, references));
        }
        _ => {}
    }
}

/// One piece of an `Fn::Sub` string.
#[derive(Debug, PartialEq)]
enum SubPart<'s> {
    Text(&'s str),
    /// `${!Literal}` written out as `${Literal}`.
    Literal(&'s str),
    Variable(&'s str),
}

/// Splits an `Fn::Sub` string into text, literals and variables.
fn sub_parts(text: &str) -> Vec<SubPart<'_>> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(length) = rest[start..].find('}') else { break };
        if start > 0 {
            parts.push(SubPart::Text(&rest[..start]));
        }
        let inner = &rest[start + 2..start + length];
        match inner.strip_prefix('!') {
            Some(literal) => parts.push(SubPart::Literal(literal)),
            None => parts.push(SubPart::Variable(inner.trim())),
        }
        rest = &rest[start + length + 1..];
    }
    if !rest.is_empty() {
        parts.push(SubPart::Text(rest));
    }
    parts
}

fn sub_variables(text: &str) -> Vec<String> {
    sub_parts(text)
        .into_iter()
        .filter_map(|part| match part {
            SubPart::Variable(name) => Some(name.to_owned()),
            _ => None,
        })
        .collect()
}

fn valid_sub_variable(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'))
}

/// Resolves a template's values for one stack.
pub struct Evaluator<'a> {
    template: &'a Template,
    parameters: &'a ResolvedParameters,
    context: &'a dyn StackContext,
    conditions: BTreeMap<String, bool>,
}

impl std::fmt::Debug for Evaluator<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Evaluator").field("conditions", &self.conditions).finish_non_exhaustive()
    }
}

impl<'a> Evaluator<'a> {
    /// Evaluates every condition of the template.
    pub fn new(
        template: &'a Template,
        parameters: &'a ResolvedParameters,
        context: &'a dyn StackContext,
    ) -> Result<Evaluator<'a>, TemplateError> {
        let mut evaluator = Evaluator { template, parameters, context, conditions: BTreeMap::new() };
        for name in template.conditions.keys() {
            let mut visiting = Vec::new();
            evaluator.evaluate_condition(name, &mut visiting)?;
        }
        Ok(evaluator)
    }

    fn evaluate_condition(&mut self, name: &str, visiting: &mut Vec<String>) -> Result<bool, TemplateError> {
        if let Some(known) = self.conditions.get(name) {
            return Ok(*known);
        }
        if visiting.iter().any(|seen| seen == name) {
            return Err(TemplateError::format(format!(
                "Circular dependency between conditions: [{}]",
                visiting.join(", ")
            )));
        }
        let Some(body) = self.template.conditions.get(name) else {
            return Err(TemplateError::format(format!("Condition {name} is not defined.")));
        };
        visiting.push(name.to_owned());
        // Conditions referenced by this one are evaluated first so that
        // `resolve` can look them up.
        let mut references = References::default();
        collect_references(body, &mut references);
        for dependency in &references.conditions {
            self.evaluate_condition(dependency, visiting)?;
        }
        visiting.pop();
        let value = self.resolve_inner(body)?.unwrap_or(Value::Null);
        let result = as_condition(&value)
            .ok_or_else(|| TemplateError::intrinsic(format!("Condition {name} must evaluate to a boolean")))?;
        self.conditions.insert(name.to_owned(), result);
        Ok(result)
    }

    /// The value of a condition; `None` when the template does not declare it.
    pub fn condition(&self, name: &str) -> Option<bool> {
        self.conditions.get(name).copied()
    }

    fn is_active(&self, condition: Option<&String>) -> bool {
        condition.is_none_or(|name| self.condition(name).unwrap_or(false))
    }

    /// Resources whose `Condition` is true or absent, in template order.
    pub fn active_resources(&self) -> Vec<&'a str> {
        self.template
            .resources
            .iter()
            .filter(|(_, resource)| self.is_active(resource.condition.as_ref()))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Resolves every intrinsic function in `value`. A top-level
    /// `AWS::NoValue` resolves to `null`.
    pub fn resolve(&self, value: &Value) -> Result<Value, TemplateError> {
        Ok(self.resolve_inner(value)?.unwrap_or(Value::Null))
    }

    /// The resolved `Properties` of a resource.
    pub fn resource_properties(&self, logical_id: &str) -> Result<Value, TemplateError> {
        let resource = self
            .template
            .resource(logical_id)
            .ok_or_else(|| TemplateError::unresolved(&[logical_id.to_owned()], "Resources"))?;
        self.resolve(&resource.properties)
    }

    /// The active outputs, resolved, in template order.
    pub fn outputs(&self) -> Result<Vec<ResolvedOutput>, TemplateError> {
        let mut outputs = Vec::new();
        for (key, output) in &self.template.outputs {
            if !self.is_active(output.condition.as_ref()) {
                continue;
            }
            let value = output_text(&self.resolve(&output.value)?);
            let export_name = match &output.export_name {
                Some(name) => Some(output_text(&self.resolve(name)?)),
                None => None,
            };
            outputs.push(ResolvedOutput {
                key: key.clone(),
                value,
                description: output.description.clone(),
                export_name,
            });
        }
        Ok(outputs)
    }

    /// `None` means `AWS::NoValue`: the caller drops the member or element.
    fn resolve_inner(&self, value: &Value) -> Result<Option<Value>, TemplateError> {
        match value {
            Value::Array(items) => {
                let mut resolved = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(item) = self.resolve_inner(item)? {
                        resolved.push(item);
                    }
                }
                Ok(Some(Value::Array(resolved)))
            }
            Value::Object(members) => {
                if members.len() == 1
                    && let Some((key, argument)) = members.iter().next()
                    && let Some(result) = self.function(key, argument)?
                {
                    return Ok(result);
                }
                let mut resolved = Map::new();
                for (key, member) in members {
                    if let Some(member) = self.resolve_inner(member)? {
                        resolved.insert(key.clone(), member);
                    }
                }
                Ok(Some(Value::Object(resolved)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    fn resolve_strict(&self, value: &Value) -> Result<Value, TemplateError> {
        Ok(self.resolve_inner(value)?.unwrap_or(Value::Null))
    }

    /// Applies the intrinsic function `key`; `Ok(None)` when `key` is not one
    /// (the object is then data, e.g. an IAM statement's `Condition`).
    fn function(&self, key: &str, argument: &Value) -> Result<Option<Option<Value>>, TemplateError> {
        let result = match key {
            "Ref" => {
                let Value::String(target) = argument else { return Ok(None) };
                self.reference(target)?
            }
            "Condition" => {
                let Value::String(name) = argument else { return Ok(None) };
                let value = self
                    .condition(name)
                    .ok_or_else(|| TemplateError::format(format!("Condition {name} is not defined.")))?;
                Some(Value::Bool(value))
            }
            "Fn::GetAtt" => Some(self.get_att(argument)?),
            "Fn::Sub" => Some(Value::String(self.sub(argument)?)),
            "Fn::Join" => Some(Value::String(self.join(argument)?)),
            "Fn::Select" => self.select(argument)?,
            "Fn::Split" => Some(self.split(argument)?),
            "Fn::GetAZs" => Some(self.get_azs(argument)?),
            "Fn::ImportValue" => {
                let name = self.resolve_text(argument, "Fn::ImportValue")?;
                let value = self.context.import_value(&name).ok_or(TemplateError::ExportNotFound(name))?;
                Some(Value::String(value))
            }
            "Fn::If" => return self.if_function(argument).map(Some),
            "Fn::Equals" => {
                let parts = arguments(argument, 2, "Fn::Equals requires a list argument with two elements")?;
                let left = self.resolve_strict(&parts[0])?;
                let right = self.resolve_strict(&parts[1])?;
                Some(Value::Bool(comparable(&left) == comparable(&right)))
            }
            "Fn::Not" => {
                let parts = arguments(argument, 1, "Fn::Not requires a list argument with one element")?;
                let value = self.resolve_strict(&parts[0])?;
                let flag = as_condition(&value).ok_or_else(|| {
                    TemplateError::intrinsic("Fn::Not requires a list argument with one function token")
                })?;
                Some(Value::Bool(!flag))
            }
            "Fn::And" | "Fn::Or" => {
                let name = key.trim_start_matches("Fn::");
                let arity = || {
                    TemplateError::intrinsic(format!(
                        "every Fn::{name} object requires a list of at least 2 and at most 10 boolean parameters."
                    ))
                };
                let Value::Array(parts) = argument else { return Err(arity()) };
                if parts.len() < 2 || parts.len() > 10 {
                    return Err(arity());
                }
                let mut flags = Vec::with_capacity(parts.len());
                for part in parts {
                    let value = self.resolve_strict(part)?;
                    flags.push(as_condition(&value).ok_or_else(arity)?);
                }
                let result = if key == "Fn::And" { flags.iter().all(|f| *f) } else { flags.iter().any(|f| *f) };
                Some(Value::Bool(result))
            }
            "Fn::FindInMap" => Some(self.find_in_map(argument)?),
            "Fn::Base64" => {
                let text = scalar_text(&self.resolve_strict(argument)?).ok_or_else(|| {
                    TemplateError::intrinsic("every Fn::Base64 object must have a String-typed value.")
                })?;
                Some(Value::String(base64::engine::general_purpose::STANDARD.encode(text.as_bytes())))
            }
            "Fn::Cidr" => {
                let parts = arguments(argument, 3, "Fn::Cidr requires a list argument with three elements")?;
                let block = self.resolve_text(&parts[0], "Fn::Cidr")?;
                let count = self.resolve_integer(&parts[1], "Fn::Cidr")?;
                let bits = self.resolve_integer(&parts[2], "Fn::Cidr")?;
                Some(Value::Array(cidr(&block, count, bits)?.into_iter().map(Value::String).collect()))
            }
            "Fn::Transform" => {
                return Err(TemplateError::intrinsic("Fn::Transform (macros) is not supported by this engine"));
            }
            _ => return Ok(None),
        };
        Ok(Some(result))
    }

    fn reference(&self, target: &str) -> Result<Option<Value>, TemplateError> {
        if target == "AWS::NoValue" {
            return Ok(None);
        }
        if let Some(parameter) = self.parameters.get(target) {
            return Ok(Some(parameter.value.clone()));
        }
        if is_pseudo_parameter(target) {
            return self
                .context
                .pseudo_parameter(target)
                .map(Some)
                .ok_or_else(|| TemplateError::unresolved(&[target.to_owned()], "Resources"));
        }
        match self.template.resource(target) {
            Some(resource) if self.is_active(resource.condition.as_ref()) => self
                .context
                .physical_id(target)
                .map(|id| Some(Value::String(id)))
                .ok_or_else(|| TemplateError::NotYetAvailable { logical_id: target.to_owned() }),
            _ => Err(TemplateError::unresolved(&[target.to_owned()], "Resources")),
        }
    }

    fn get_att(&self, argument: &Value) -> Result<Value, TemplateError> {
        let (resource, attribute) = match argument {
            Value::String(dotted) => match dotted.split_once('.') {
                Some((resource, attribute)) => (resource.to_owned(), attribute.to_owned()),
                None => {
                    return Err(TemplateError::intrinsic(
                        "every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute",
                    ));
                }
            },
            Value::Array(parts) if parts.len() == 2 => {
                let resource = parts[0].as_str().map(str::to_owned);
                let attribute = self.resolve_text(&parts[1], "Fn::GetAtt")?;
                match resource {
                    Some(resource) => (resource, attribute),
                    None => {
                        return Err(TemplateError::intrinsic(
                            "every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute",
                        ));
                    }
                }
            }
            _ => {
                return Err(TemplateError::intrinsic(
                    "every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute",
                ));
            }
        };
        self.attribute(&resource, &attribute)
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Result<Value, TemplateError> {
        let Some(declaration) = self.template.resource(resource) else {
            return Err(TemplateError::intrinsic(format!(
                "instance of Fn::GetAtt references undefined resource {resource}"
            )));
        };
        if let Some(known) = resource_type(&declaration.resource_type)
            && !known.attributes.contains(&attribute)
        {
            return Err(TemplateError::intrinsic(format!(
                "resource {resource} does not support attribute type {attribute} in Fn::GetAtt"
            )));
        }
        if !self.is_active(declaration.condition.as_ref()) {
            return Err(TemplateError::unresolved(&[resource.to_owned()], "Resources"));
        }
        self.context
            .attribute(resource, attribute)
            .ok_or_else(|| TemplateError::NotYetAvailable { logical_id: resource.to_owned() })
    }

    fn sub(&self, argument: &Value) -> Result<String, TemplateError> {
        let (text, variables) = match argument {
            Value::String(text) => (text.as_str(), None),
            Value::Array(parts) if parts.len() == 2 => match (&parts[0], &parts[1]) {
                (Value::String(text), Value::Object(variables)) => (text.as_str(), Some(variables)),
                _ => {
                    return Err(TemplateError::intrinsic(
                        "One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
                    ));
                }
            },
            _ => {
                return Err(TemplateError::intrinsic(
                    "One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
                ));
            }
        };
        if let Some(variables) = variables
            && variables.keys().any(|key| key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(TemplateError::intrinsic(SUB_CONTEXT_KEYS));
        }
        let mut out = String::with_capacity(text.len());
        for part in sub_parts(text) {
            match part {
                SubPart::Text(text) => out.push_str(text),
                SubPart::Literal(literal) => {
                    out.push_str("${");
                    out.push_str(literal);
                    out.push('}');
                }
                SubPart::Variable(name) => {
                    if !valid_sub_variable(name) {
                        return Err(TemplateError::intrinsic(SUB_VARIABLE_NAMES));
                    }
                    let value = match variables.and_then(|variables| variables.get(name)) {
                        Some(value) => {
                            let value = self.resolve_strict(value)?;
                            if scalar_text(&value).is_none() {
                                return Err(TemplateError::intrinsic(SUB_CONTEXT_VALUES));
                            }
                            value
                        }
                        None => match name.split_once('.') {
                            Some((resource, attribute)) if !is_pseudo_parameter(name) => {
                                if self.template.resource(resource).is_none() {
                                    return Err(TemplateError::intrinsic(format!(
                                        "instance of Fn::Sub references invalid resource attribute {name}"
                                    )));
                                }
                                self.attribute(resource, attribute)?
                            }
                            _ => self.reference(name)?.unwrap_or(Value::Null),
                        },
                    };
                    out.push_str(&scalar_text(&value).ok_or_else(|| {
                        TemplateError::intrinsic("every variable in an Fn::sub object must reference a string")
                    })?);
                }
            }
        }
        Ok(out)
    }

    fn join(&self, argument: &Value) -> Result<String, TemplateError> {
        let parts = arguments(argument, 2, JOIN_ARGUMENTS)?;
        let delimiter = match self.resolve_strict(&parts[0])? {
            Value::String(delimiter) => delimiter,
            _ => return Err(TemplateError::intrinsic(JOIN_ARGUMENTS)),
        };
        let Value::Array(items) = self.resolve_strict(&parts[1])? else {
            return Err(TemplateError::intrinsic(JOIN_ARGUMENTS));
        };
        let texts: Option<Vec<String>> = items.iter().map(scalar_text).collect();
        let texts = texts.ok_or_else(|| TemplateError::intrinsic(JOIN_ARGUMENTS))?;
        Ok(texts.join(&delimiter))
    }

    fn select(&self, argument: &Value) -> Result<Option<Value>, TemplateError> {
        let parts = arguments(
            argument,
            2,
            "Fn::Select requires a list argument with two elements: an integer index and a list",
        )?;
        let index = scalar_text(&self.resolve_strict(&parts[0])?)
            .and_then(|text| text.trim().parse::<i64>().ok())
            .ok_or_else(|| {
                TemplateError::intrinsic(
                    "Fn::Select requires a list argument with a valid index value as its first element",
                )
            })?;
        let list = match self.resolve_strict(&parts[1])? {
            Value::Array(items) => items,
            // A CommaDelimitedList parameter may arrive as text.
            Value::String(text) => text.split(',').map(|item| Value::String(item.to_owned())).collect(),
            _ => {
                return Err(TemplateError::intrinsic(
                    "Fn::Select requires a list argument with two elements: an integer index and a list",
                ));
            }
        };
        let item = usize::try_from(index).ok().and_then(|index| list.get(index)).cloned();
        item.map(Some).ok_or_else(|| {
            TemplateError::intrinsic(format!("Fn::Select cannot select nonexistent value at index {index}"))
        })
    }

    fn split(&self, argument: &Value) -> Result<Value, TemplateError> {
        let parts = arguments(argument, 2, SPLIT_ARGUMENTS)?;
        let (Value::String(delimiter), Value::String(text)) =
            (self.resolve_strict(&parts[0])?, self.resolve_strict(&parts[1])?)
        else {
            return Err(TemplateError::intrinsic(SPLIT_ARGUMENTS));
        };
        if delimiter.is_empty() {
            return Err(TemplateError::intrinsic(SPLIT_ARGUMENTS));
        }
        Ok(Value::Array(text.split(delimiter.as_str()).map(|item| Value::String(item.to_owned())).collect()))
    }

    fn get_azs(&self, argument: &Value) -> Result<Value, TemplateError> {
        let mut region = match self.resolve_strict(argument)? {
            Value::String(region) => region,
            Value::Null => String::new(),
            _ => return Err(TemplateError::intrinsic("every Fn::GetAZs object must have a String-typed value.")),
        };
        // An empty region means the stack's region
        // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-getavailabilityzones.html).
        if region.is_empty() {
            region =
                self.context.pseudo_parameter("AWS::Region").and_then(|value| scalar_text(&value)).unwrap_or_default();
        }
        Ok(Value::Array(self.context.availability_zones(&region).into_iter().map(Value::String).collect()))
    }

    fn if_function(&self, argument: &Value) -> Result<Option<Value>, TemplateError> {
        let parts = arguments(argument, 3, "Fn::If requires a list argument with three elements")?;
        let Value::String(name) = &parts[0] else {
            return Err(TemplateError::intrinsic(
                "Fn::If requires a list argument with the first element being a condition",
            ));
        };
        let flag = self
            .condition(name)
            .ok_or_else(|| TemplateError::intrinsic(format!("unresolved condition dependency {name} in Fn::If")))?;
        self.resolve_inner(if flag { &parts[1] } else { &parts[2] })
    }

    fn find_in_map(&self, argument: &Value) -> Result<Value, TemplateError> {
        let parts = arguments(argument, 3, FIND_IN_MAP_ARGUMENTS)?;
        let text = |part: &Value| -> Result<String, TemplateError> {
            scalar_text(&self.resolve_strict(part)?).ok_or_else(|| TemplateError::intrinsic(FIND_IN_MAP_ARGUMENTS))
        };
        let (map, top, second) = (text(&parts[0])?, text(&parts[1])?, text(&parts[2])?);
        let Some(mapping) = self.template.mappings.get(&map) else {
            return Err(TemplateError::intrinsic(format!(
                "Mapping named '{map}' is not present in the 'Mappings' section of template"
            )));
        };
        mapping
            .get(&top)
            .and_then(|level| level.get(&second))
            .cloned()
            .ok_or_else(|| TemplateError::intrinsic(format!("Unable to get mapping for {map}::{top}::{second}")))
    }

    fn resolve_text(&self, value: &Value, function: &str) -> Result<String, TemplateError> {
        scalar_text(&self.resolve_strict(value)?)
            .ok_or_else(|| TemplateError::intrinsic(format!("{function} requires a string argument")))
    }

    fn resolve_integer(&self, value: &Value, function: &str) -> Result<u64, TemplateError> {
        let text = self.resolve_text(value, function)?;
        text.trim()
            .parse::<u64>()
            .map_err(|_| TemplateError::intrinsic(format!("{function} requires an integer argument, got {text}")))
    }
}

/// Exactly `count` list arguments, or the function's error.
fn arguments<'v>(argument: &'v Value, count: usize, error: &str) -> Result<&'v [Value], TemplateError> {
    match argument {
        Value::Array(parts) if parts.len() == count => Ok(parts),
        _ => Err(TemplateError::intrinsic(error)),
    }
}

/// Condition results are booleans; "true"/"false" strings count too, as
/// parameters carry them that way.
fn as_condition(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// `Fn::Equals` compares values as CloudFormation sees them: scalars as text.
fn comparable(value: &Value) -> Value {
    match value {
        Value::Number(_) | Value::Bool(_) => Value::String(scalar_text(value).unwrap_or_default()),
        Value::Array(items) => Value::Array(items.iter().map(comparable).collect()),
        other => other.clone(),
    }
}

/// Output values are strings; lists are comma-joined.
fn output_text(value: &Value) -> String {
    match value {
        Value::Array(items) => items.iter().map(output_text).collect::<Vec<_>>().join(","),
        Value::Null => String::new(),
        other => scalar_text(other).unwrap_or_else(|| other.to_string()),
    }
}

//! The template model and `Template::parse`: structure checks and the
//! reference checks `ValidateTemplate` performs, required capabilities and
//! the summary `ValidateTemplate` / `GetTemplateSummary` return.
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::error::TemplateError;
use super::graph;
use super::intrinsics::{self, References};
use super::resource_types::resource_type;
use super::syntax::parse_body;

/// The top-level sections a template may have
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html).
const SECTIONS: [&str; 10] = [
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];

/// The attributes a resource declaration may have
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resources-section-structure.html).
const RESOURCE_MEMBERS: [&str; 9] = [
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Metadata",
    "CreationPolicy",
    "UpdatePolicy",
];

/// Parameter types CloudFormation accepts besides the SSM and `List<..>` forms
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html).
pub(crate) const AWS_PARAMETER_TYPES: [&str; 10] = [
    "AWS::EC2::AvailabilityZone::Name",
    "AWS::EC2::Image::Id",
    "AWS::EC2::Instance::Id",
    "AWS::EC2::KeyPair::KeyName",
    "AWS::EC2::SecurityGroup::GroupName",
    "AWS::EC2::SecurityGroup::Id",
    "AWS::EC2::Subnet::Id",
    "AWS::EC2::Volume::Id",
    "AWS::EC2::VPC::Id",
    "AWS::Route53::HostedZone::Id",
];

/// Maximum number of outputs in a template
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
const MAX_OUTPUTS: usize = 200;

/// IAM resource types that need `CAPABILITY_IAM`, with the property that
/// gives them a custom name (which needs `CAPABILITY_NAMED_IAM`)
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html).
const IAM_TYPES: [(&str, Option<&str>); 8] = [
    ("AWS::IAM::AccessKey", None),
    ("AWS::IAM::Group", Some("GroupName")),
    ("AWS::IAM::InstanceProfile", Some("InstanceProfileName")),
    ("AWS::IAM::ManagedPolicy", Some("ManagedPolicyName")),
    ("AWS::IAM::Policy", None),
    ("AWS::IAM::Role", Some("RoleName")),
    ("AWS::IAM::User", Some("UserName")),
    ("AWS::IAM::UserToGroupAddition", None),
];

/// A parsed, validated template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// `AWSTemplateFormatVersion`.
    pub format_version: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Parameters`, in template order.
    pub parameters: Vec<(String, ParameterDecl)>,
    /// `Mappings`, long form.
    pub mappings: Map<String, Value>,
    /// `Conditions`, long form.
    pub conditions: Map<String, Value>,
    /// `Resources`, in template order.
    pub resources: Vec<(String, ResourceDecl)>,
    /// `Outputs`, in template order.
    pub outputs: Vec<(String, OutputDecl)>,
    /// `Metadata`.
    pub metadata: Option<Value>,
    /// `Transform` names (a string or a list in the template).
    pub transforms: Vec<String>,
    /// The whole template as parsed, in long-form JSON.
    pub body: Value,
    /// The text as submitted (GetTemplate returns it unchanged).
    pub original_body: String,
}

/// One `Parameters` member. Serializable so the console can send a
/// section's declarations to the browser, which checks values with
/// [`super::check_parameter_value`] without parsing the template itself.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ParameterDecl {
    /// `Type`.
    pub parameter_type: String,
    /// `Default`, as text.
    pub default: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `AllowedValues`, as text.
    pub allowed_values: Vec<String>,
    /// `AllowedPattern`.
    pub allowed_pattern: Option<String>,
    /// `MinLength`.
    pub min_length: Option<u64>,
    /// `MaxLength`.
    pub max_length: Option<u64>,
    /// `MinValue`.
    pub min_value: Option<f64>,
    /// `MaxValue`.
    pub max_value: Option<f64>,
    /// `NoEcho`.
    pub no_echo: bool,
    /// `ConstraintDescription`.
    pub constraint_description: Option<String>,
}

/// One `Resources` member.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDecl {
    /// `Type`.
    pub resource_type: String,
    /// `Properties` (an object; `{}` when absent), long form, unresolved.
    pub properties: Value,
    /// `DependsOn` (a string or a list in the template).
    pub depends_on: Vec<String>,
    /// `Condition`.
    pub condition: Option<String>,
    /// `DeletionPolicy`, or the type's default.
    pub deletion_policy: DeletionPolicy,
    /// `UpdateReplacePolicy`, or `Delete`.
    pub update_replace_policy: DeletionPolicy,
    /// `Metadata`.
    pub metadata: Option<Value>,
}

/// What happens to a resource when it leaves the stack
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html).
///
/// `RetainExceptOnCreate` is read as `Retain`: both keep the resource when
/// the stack is deleted; they differ only when the creating operation rolls
/// back, which the engine does not distinguish yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeletionPolicy {
    /// Delete it (the default for most types).
    #[default]
    Delete,
    /// Keep it.
    Retain,
    /// Snapshot it, then delete it.
    Snapshot,
}

impl DeletionPolicy {
    /// The template spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionPolicy::Delete => "Delete",
            DeletionPolicy::Retain => "Retain",
            DeletionPolicy::Snapshot => "Snapshot",
        }
    }

    fn parse(text: &str, key: &str) -> Option<DeletionPolicy> {
        match text {
            "Delete" => Some(DeletionPolicy::Delete),
            "Retain" => Some(DeletionPolicy::Retain),
            // Only DeletionPolicy accepts RetainExceptOnCreate
            // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatereplacepolicy.html).
            "RetainExceptOnCreate" if key == "DeletionPolicy" => Some(DeletionPolicy::Retain),
            "Snapshot" => Some(DeletionPolicy::Snapshot),
            _ => None,
        }
    }
}

/// One `Outputs` member.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputDecl {
    /// `Value`, long form, unresolved.
    pub value: Value,
    /// `Description`.
    pub description: Option<String>,
    /// `Export.Name`, long form, unresolved.
    pub export_name: Option<Value>,
    /// `Condition`.
    pub condition: Option<String>,
}

/// A capability a stack operation must acknowledge
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// `CAPABILITY_IAM`.
    Iam,
    /// `CAPABILITY_NAMED_IAM`.
    NamedIam,
    /// `CAPABILITY_AUTO_EXPAND`.
    AutoExpand,
}

impl Capability {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Iam => "CAPABILITY_IAM",
            Capability::NamedIam => "CAPABILITY_NAMED_IAM",
            Capability::AutoExpand => "CAPABILITY_AUTO_EXPAND",
        }
    }

    /// Parses the API spelling.
    pub fn parse(text: &str) -> Option<Capability> {
        match text {
            "CAPABILITY_IAM" => Some(Capability::Iam),
            "CAPABILITY_NAMED_IAM" => Some(Capability::NamedIam),
            "CAPABILITY_AUTO_EXPAND" => Some(Capability::AutoExpand),
            _ => None,
        }
    }
}

/// A parameter as `ValidateTemplate` / `GetTemplateSummary` describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryParameter {
    /// `ParameterKey`.
    pub key: String,
    /// `DefaultValue`.
    pub default: Option<String>,
    /// `NoEcho`.
    pub no_echo: bool,
    /// `Description`.
    pub description: Option<String>,
    /// `ParameterType`.
    pub parameter_type: String,
}

/// What `ValidateTemplate` / `GetTemplateSummary` return about a template.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSummary {
    /// `Description`.
    pub description: Option<String>,
    /// `Parameters`, template order.
    pub parameters: Vec<SummaryParameter>,
    /// `Capabilities`.
    pub capabilities: Vec<Capability>,
    /// `CapabilitiesReason`.
    pub capabilities_reason: Option<String>,
    /// `ResourceTypes`, distinct, in template order.
    pub resource_types: Vec<String>,
    /// `DeclaredTransforms`.
    pub declared_transforms: Vec<String>,
}

impl Template {
    /// Parses and validates a template body (JSON or YAML) as
    /// `ValidateTemplate` does.
    pub fn parse(body: &str) -> Result<Template, TemplateError> {
        let parsed = parse_body(body)?;
        let Value::Object(top) = &parsed.value else {
            return Err(TemplateError::format("unsupported structure."));
        };
        let unknown: Vec<&str> = top.keys().map(String::as_str).filter(|key| !SECTIONS.contains(key)).collect();
        if !unknown.is_empty() {
            return Err(TemplateError::format(format!(
                "Invalid template property or properties [{}]",
                unknown.join(", ")
            )));
        }
        if let Some(path) = first_null(&parsed.value, String::new()) {
            return Err(TemplateError::format(format!("[{path}] 'null' values are not allowed in templates")));
        }
        for section in ["Conditions", "Resources", "Outputs"] {
            if let Some(function) = top.get(section).and_then(unsupported_function) {
                return Err(TemplateError::UnsupportedFunction(function));
            }
        }
        let format_version = match top.get("AWSTemplateFormatVersion") {
            None => None,
            Some(Value::String(version)) if version == "2010-09-09" => Some(version.clone()),
            Some(other) => {
                return Err(TemplateError::format(format!(
                    "AWSTemplateFormatVersion is not supported: {}",
                    scalar_text(other).unwrap_or_default()
                )));
            }
        };
        let description = top.get("Description").and_then(scalar_text);
        let order = |section: &str, members: &Map<String, Value>| -> Vec<String> {
            let mut keys: Vec<String> = parsed.order.get(section).cloned().unwrap_or_default();
            keys.retain(|key| members.contains_key(key));
            for key in members.keys() {
                if !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
            keys
        };

        let parameters_section = section_object(top, "Parameters")?;
        let mut parameters = Vec::new();
        for name in order("Parameters", &parameters_section) {
            let declaration = parameters_section.get(&name).cloned().unwrap_or(Value::Null);
            parameters.push((name.clone(), parse_parameter(&name, &declaration)?));
        }

        let mappings = section_object(top, "Mappings")?;
        let conditions = section_object(top, "Conditions")?;

        let resources_section = match top.get("Resources") {
            Some(Value::Object(members)) if !members.is_empty() => members.clone(),
            _ => return Err(TemplateError::format("At least one Resources member must be defined.")),
        };
        let mut resources = Vec::new();
        for name in order("Resources", &resources_section) {
            let declaration = resources_section.get(&name).cloned().unwrap_or(Value::Null);
            resources.push((name.clone(), parse_resource(&name, &declaration)?));
        }

        let outputs_section = section_object(top, "Outputs")?;
        if outputs_section.len() > MAX_OUTPUTS {
            return Err(TemplateError::format(format!(
                "Outputs count {} is greater than max allowed {MAX_OUTPUTS}",
                outputs_section.len()
            )));
        }
        let mut outputs = Vec::new();
        for name in order("Outputs", &outputs_section) {
            let declaration = outputs_section.get(&name).cloned().unwrap_or(Value::Null);
            outputs.push((name.clone(), parse_output(&name, &declaration)?));
        }

        let transforms = match top.get("Transform") {
            None => Vec::new(),
            Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
            Some(other) => scalar_text(other).into_iter().collect(),
        };

        let template = Template {
            format_version,
            description,
            parameters,
            mappings,
            conditions,
            resources,
            outputs,
            metadata: top.get("Metadata").cloned(),
            transforms,
            body: parsed.value.clone(),
            original_body: body.to_owned(),
        };
        template.validate_references()?;
        Ok(template)
    }

    /// The declaration of a resource by logical id.
    pub fn resource(&self, logical_id: &str) -> Option<&ResourceDecl> {
        self.resources.iter().find(|(name, _)| name == logical_id).map(|(_, declaration)| declaration)
    }

    /// The declaration of a parameter by name.
    pub fn parameter(&self, name: &str) -> Option<&ParameterDecl> {
        self.parameters.iter().find(|(key, _)| key == name).map(|(_, declaration)| declaration)
    }

    /// The capabilities a stack operation on this template must acknowledge:
    /// IAM resources need `CAPABILITY_IAM`, or `CAPABILITY_NAMED_IAM` when any
    /// has a custom name; a `Transform` needs `CAPABILITY_AUTO_EXPAND`.
    pub fn required_capabilities(&self) -> Vec<Capability> {
        let mut capabilities = Vec::new();
        let mut named = false;
        let mut iam = false;
        for (_, resource) in &self.resources {
            if let Some((_, name_property)) = IAM_TYPES.iter().find(|(name, _)| *name == resource.resource_type) {
                iam = true;
                if name_property.is_some_and(|property| resource.properties.get(property).is_some()) {
                    named = true;
                }
            }
        }
        if named {
            capabilities.push(Capability::NamedIam);
        } else if iam {
            capabilities.push(Capability::Iam);
        }
        if !self.transforms.is_empty() {
            capabilities.push(Capability::AutoExpand);
        }
        capabilities
    }

    /// The IAM resource types that make capabilities necessary, distinct, in template order.
    fn capability_resource_types(&self) -> Vec<String> {
        let mut types = Vec::new();
        for (_, resource) in &self.resources {
            if IAM_TYPES.iter().any(|(name, _)| *name == resource.resource_type)
                && !types.contains(&resource.resource_type)
            {
                types.push(resource.resource_type.clone());
            }
        }
        types
    }

    /// What `ValidateTemplate` / `GetTemplateSummary` report.
    pub fn summary(&self) -> TemplateSummary {
        let iam_types = self.capability_resource_types();
        let capabilities_reason = (!iam_types.is_empty())
            .then(|| format!("The following resource(s) require capabilities: [{}]", iam_types.join(", ")));
        let mut resource_types = Vec::new();
        for (_, resource) in &self.resources {
            if !resource_types.contains(&resource.resource_type) {
                resource_types.push(resource.resource_type.clone());
            }
        }
        TemplateSummary {
            description: self.description.clone(),
            parameters: self
                .parameters
                .iter()
                .map(|(key, declaration)| SummaryParameter {
                    key: key.clone(),
                    default: declaration.default.clone(),
                    no_echo: declaration.no_echo,
                    description: declaration.description.clone(),
                    parameter_type: declaration.parameter_type.clone(),
                })
                .collect(),
            capabilities: self.required_capabilities(),
            capabilities_reason,
            resource_types,
            declared_transforms: self.transforms.clone(),
        }
    }

    /// The checks of names used across sections, in the order CloudFormation
    /// reports them: conditions, resources, outputs, then cycles.
    fn validate_references(&self) -> Result<(), TemplateError> {
        let parameter_names: BTreeSet<&str> = self.parameters.iter().map(|(name, _)| name.as_str()).collect();
        let resource_names: BTreeSet<&str> = self.resources.iter().map(|(name, _)| name.as_str()).collect();

        // Conditions may reference parameters and other conditions only
        // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html).
        for (_, condition) in &self.conditions {
            let mut references = References::default();
            intrinsics::collect_references(condition, &mut references);
            let unresolved: Vec<String> = references
                .refs
                .iter()
                .filter(|name| !parameter_names.contains(name.as_str()) && !name.starts_with("AWS::"))
                .cloned()
                .collect();
            if !unresolved.is_empty() {
                return Err(TemplateError::format(format!(
                    "Unresolved dependencies [{}]. Cannot reference resources in the Conditions block of the template",
                    unresolved.join(", ")
                )));
            }
            self.check_conditions(&references)?;
        }

        let mut unresolved = Vec::new();
        for (_, resource) in &self.resources {
            if let Some(condition) = &resource.condition
                && !self.conditions.contains_key(condition)
            {
                return Err(TemplateError::format(format!("Condition {condition} is not defined.")));
            }
            let mut references = References::default();
            intrinsics::collect_references(&resource.properties, &mut references);
            if let Some(metadata) = &resource.metadata {
                intrinsics::collect_references(metadata, &mut references);
            }
            // DependsOn names resources only; Ref may also name parameters.
            for target in &resource.depends_on {
                if !resource_names.contains(target.as_str()) && !unresolved.contains(target) {
                    unresolved.push(target.clone());
                }
            }
            for target in &references.refs {
                let known = parameter_names.contains(target.as_str())
                    || resource_names.contains(target.as_str())
                    || intrinsics::is_pseudo_parameter(target);
                if !known && !unresolved.contains(target) {
                    unresolved.push(target.clone());
                }
            }
            self.check_get_atts(&references)?;
            self.check_conditions(&references)?;
        }
        if !unresolved.is_empty() {
            return Err(TemplateError::unresolved(&unresolved, "Resources"));
        }

        let mut unresolved = Vec::new();
        for (_, output) in &self.outputs {
            if let Some(condition) = &output.condition
                && !self.conditions.contains_key(condition)
            {
                return Err(TemplateError::format(format!("Condition {condition} is not defined.")));
            }
            let mut references = References::default();
            intrinsics::collect_references(&output.value, &mut references);
            if let Some(export) = &output.export_name {
                intrinsics::collect_references(export, &mut references);
            }
            for target in &references.refs {
                let known = parameter_names.contains(target.as_str())
                    || resource_names.contains(target.as_str())
                    || intrinsics::is_pseudo_parameter(target);
                if !known && !unresolved.contains(target) {
                    unresolved.push(target.clone());
                }
            }
            self.check_get_atts(&references)?;
            self.check_conditions(&references)?;
        }
        if !unresolved.is_empty() {
            return Err(TemplateError::unresolved(&unresolved, "Outputs"));
        }

        let all: Vec<&str> = self.resources.iter().map(|(name, _)| name.as_str()).collect();
        graph::creation_order(self, &all).map(|_| ())
    }

    fn check_get_atts(&self, references: &References) -> Result<(), TemplateError> {
        for (resource, attribute) in &references.get_atts {
            let Some(declaration) = self.resource(resource) else {
                return Err(TemplateError::intrinsic(format!(
                    "instance of Fn::GetAtt references undefined resource {resource}"
                )));
            };
            if let (Some(attribute), Some(known)) = (attribute, resource_type(&declaration.resource_type))
                && !known.attributes.contains(&attribute.as_str())
            {
                return Err(TemplateError::intrinsic(format!(
                    "resource {resource} does not support attribute type {attribute} in Fn::GetAtt"
                )));
            }
        }
        Ok(())
    }

    fn check_conditions(&self, references: &References) -> Result<(), TemplateError> {
        for condition in &references.if_conditions {
            if !self.conditions.contains_key(condition) {
                return Err(TemplateError::intrinsic(format!("unresolved condition dependency {condition} in Fn::If")));
            }
        }
        for condition in &references.conditions {
            if !self.conditions.contains_key(condition) {
                return Err(TemplateError::format(format!("Condition {condition} is not defined.")));
            }
        }
        Ok(())
    }
}

/// The JSON pointer of the first `null` in the template: CloudFormation
/// rejects them wherever they are (an empty `Properties:` in YAML is one).
fn first_null(value: &Value, path: String) -> Option<String> {
    match value {
        Value::Null => Some(path),
        Value::Array(items) => {
            items.iter().enumerate().find_map(|(index, item)| first_null(item, format!("{path}/{index}")))
        }
        Value::Object(members) => members.iter().find_map(|(key, member)| first_null(member, format!("{path}/{key}"))),
        _ => None,
    }
}

/// Functions CloudFormation evaluates (the list its "unsupported function"
/// error gives, plus `Fn::Transform`, which macros consume before).
const SUPPORTED_FUNCTIONS: [&str; 19] = [
    "Fn::Base64",
    "Fn::GetAtt",
    "Fn::GetAZs",
    "Fn::ImportValue",
    "Fn::Join",
    "Fn::Split",
    "Fn::FindInMap",
    "Fn::Select",
    "Fn::Equals",
    "Fn::If",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
    "Fn::Contains",
    "Fn::EachMemberEquals",
    "Fn::EachMemberIn",
    "Fn::Sub",
    "Fn::Cidr",
    "Fn::Transform",
];

/// The first object key that looks like a function (`Fn::`, any case) but
/// is not one CloudFormation supports.
fn unsupported_function(value: &Value) -> Option<String> {
    match value {
        Value::Array(items) => items.iter().find_map(unsupported_function),
        Value::Object(members) => members.iter().find_map(|(key, member)| {
            let looks_like_function = key.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("fn::"));
            if looks_like_function && !SUPPORTED_FUNCTIONS.contains(&key.as_str()) {
                Some(key.clone())
            } else {
                unsupported_function(member)
            }
        }),
        _ => None,
    }
}

/// A section that must be an object when present.
fn section_object(top: &Map<String, Value>, section: &str) -> Result<Map<String, Value>, TemplateError> {
    match top.get(section) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(members)) => Ok(members.clone()),
        Some(_) => Err(TemplateError::format(format!("{section} must be an object"))),
    }
}

/// A scalar as text, the way CloudFormation reads numbers and booleans given
/// where strings are expected.
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn is_alphanumeric(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())
}

fn parse_parameter(name: &str, declaration: &Value) -> Result<ParameterDecl, TemplateError> {
    if !is_alphanumeric(name) {
        return Err(TemplateError::format(format!("Parameter name {name} is non alphanumeric.")));
    }
    let Value::Object(members) = declaration else {
        return Err(TemplateError::format("Every Parameters object must contain a Type member."));
    };
    let Some(parameter_type) = members.get("Type").and_then(scalar_text) else {
        return Err(TemplateError::format("Every Parameters object must contain a Type member."));
    };
    if !is_known_parameter_type(&parameter_type) {
        return Err(TemplateError::format(format!("Unrecognized parameter type: {parameter_type}")));
    }
    let number = |key: &str| {
        members.get(key).and_then(|value| match value {
            Value::Number(number) => number.as_f64(),
            Value::String(text) => text.trim().parse::<f64>().ok(),
            _ => None,
        })
    };
    let default = match members.get("Default") {
        Some(Value::Array(items)) => Some(items.iter().filter_map(scalar_text).collect::<Vec<_>>().join(",")),
        Some(other) => scalar_text(other),
        None => None,
    };
    Ok(ParameterDecl {
        parameter_type,
        default,
        description: members.get("Description").and_then(scalar_text),
        allowed_values: match members.get("AllowedValues") {
            Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
            _ => Vec::new(),
        },
        allowed_pattern: members.get("AllowedPattern").and_then(scalar_text),
        min_length: number("MinLength").map(|value| value as u64),
        max_length: number("MaxLength").map(|value| value as u64),
        min_value: number("MinValue"),
        max_value: number("MaxValue"),
        no_echo: members.get("NoEcho").and_then(scalar_text).is_some_and(|text| text.eq_ignore_ascii_case("true")),
        constraint_description: members.get("ConstraintDescription").and_then(scalar_text),
    })
}

/// Whether CloudFormation accepts a parameter `Type`.
pub(crate) fn is_known_parameter_type(parameter_type: &str) -> bool {
    let base = parameter_type.strip_prefix("List<").and_then(|rest| rest.strip_suffix('>'));
    match parameter_type {
        "String" | "Number" | "List<Number>" | "CommaDelimitedList" | "AWS::SSM::Parameter::Name" => true,
        _ if parameter_type.starts_with("AWS::SSM::Parameter::Value<") && parameter_type.ends_with('>') => true,
        _ if AWS_PARAMETER_TYPES.contains(&parameter_type) => true,
        _ => base.is_some_and(|base| AWS_PARAMETER_TYPES.contains(&base)),
    }
}

fn parse_resource(name: &str, declaration: &Value) -> Result<ResourceDecl, TemplateError> {
    if !is_alphanumeric(name) {
        return Err(TemplateError::format(format!("Resource name {name} is non alphanumeric.")));
    }
    let Value::Object(members) = declaration else {
        return Err(TemplateError::format("Every Resources member must be an object."));
    };
    let Some(resource_type) = members.get("Type").and_then(scalar_text) else {
        return Err(TemplateError::format("Every Resources object must contain a Type member."));
    };
    if let Some(unknown) = members.keys().find(|key| !RESOURCE_MEMBERS.contains(&key.as_str())) {
        return Err(TemplateError::format(format!("Invalid template resource property '{unknown}'")));
    }
    let properties = match members.get("Properties") {
        None => Value::Object(Map::new()),
        Some(Value::Object(properties)) => Value::Object(properties.clone()),
        Some(_) => return Err(TemplateError::format("Every Properties member must be an object.")),
    };
    let depends_on = match members.get("DependsOn") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(other) => scalar_text(other).into_iter().collect(),
    };
    let catalog_default = resource_type_default_policy(&resource_type, &properties);
    let policy = |key: &str, default: DeletionPolicy| -> Result<DeletionPolicy, TemplateError> {
        match members.get(key) {
            None => Ok(default),
            Some(value) => {
                scalar_text(value).as_deref().and_then(|text| DeletionPolicy::parse(text, key)).ok_or_else(|| {
                    TemplateError::format(format!(
                        "Unrecognized {key} {} for resource {name}",
                        scalar_text(value).unwrap_or_default()
                    ))
                })
            }
        }
    };
    Ok(ResourceDecl {
        deletion_policy: policy("DeletionPolicy", catalog_default)?,
        update_replace_policy: policy("UpdateReplacePolicy", DeletionPolicy::Delete)?,
        resource_type,
        properties,
        depends_on,
        condition: members.get("Condition").and_then(scalar_text),
        metadata: members.get("Metadata").cloned(),
    })
}

/// The deletion policy applied when none is declared: the catalog's, except
/// that a DB instance in a cluster is deleted
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html).
fn resource_type_default_policy(resource_type: &str, properties: &Value) -> DeletionPolicy {
    if resource_type == "AWS::RDS::DBInstance" && properties.get("DBClusterIdentifier").is_some() {
        return DeletionPolicy::Delete;
    }
    super::resource_types::resource_type(resource_type).map(|known| known.default_deletion_policy).unwrap_or_default()
}

fn parse_output(name: &str, declaration: &Value) -> Result<OutputDecl, TemplateError> {
    if !is_alphanumeric(name) {
        return Err(TemplateError::format(format!("Output name {name} is non alphanumeric.")));
    }
    let Some(value) = declaration.get("Value").cloned() else {
        return Err(TemplateError::format("Every Outputs member must contain a Value object"));
    };
    Ok(OutputDecl {
        value,
        description: declaration.get("Description").and_then(scalar_text),
        export_name: declaration.get("Export").and_then(|export| export.get("Name")).cloned(),
        condition: declaration.get("Condition").and_then(scalar_text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(body: &str) -> String {
        Template::parse(body).err().map(|error| error.message()).unwrap_or_default()
    }

    /// Validation rules of
    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html and
    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ValidateTemplate.html
    #[test]
    fn structure_errors_use_cloudformations_texts() {
        let cases = [
            (
                "Foo: 1\nResources:\n  A:\n    Type: AWS::SNS::Topic",
                "Template format error: Invalid template property or properties [Foo]",
            ),
            ("Description: x", "Template format error: At least one Resources member must be defined."),
            ("Resources: {}", "Template format error: At least one Resources member must be defined."),
            ("Resources:\n  A: 1", "Template format error: Every Resources member must be an object."),
            (
                "Resources:\n  A:\n    Properties: {}",
                "Template format error: Every Resources object must contain a Type member.",
            ),
            (
                "Resources:\n  A-b:\n    Type: AWS::SNS::Topic",
                "Template format error: Resource name A-b is non alphanumeric.",
            ),
            (
                "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Foo: 1",
                "Template format error: Invalid template resource property 'Foo'",
            ),
            (
                "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Ref Nope",
                "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template",
            ),
            (
                "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Sub '${Nope}-${AWS::Region}-${!Skip}'",
                "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template",
            ),
            (
                "Parameters:\n  P:\n    Type: String\nResources:\n  A:\n    Type: AWS::SNS::Topic\n    DependsOn: P",
                "Template format error: Unresolved resource dependencies [P] in the Resources block of the template",
            ),
            (
                "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    DependsOn: [Nope]",
                "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template",
            ),
            (
                "Resources:\n  A:\n    Type: AWS::SNS::Topic\nOutputs:\n  O:\n    Value: !Ref Nope",
                "Template format error: Unresolved resource dependencies [Nope] in the Outputs block of the template",
            ),
            (
                "Resources:\n  A:\n    Type: AWS::SNS::Topic\nOutputs:\n  O:\n    Description: x",
                "Template format error: Every Outputs member must contain a Value object",
            ),
            (
                "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !GetAtt B.Arn",
                "Template error: instance of Fn::GetAtt references undefined resource B",
            ),
            (
                "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !GetAtt A.Nope",
                "Template error: resource A does not support attribute type Nope in Fn::GetAtt",
            ),
            (
                "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Condition: Nope",
                "Template format error: Condition Nope is not defined.",
            ),
            (
                "Conditions:\n  C: !Equals [!Ref A, x]\nResources:\n  A:\n    Type: AWS::SNS::Topic",
                "Template format error: Unresolved dependencies [A]. Cannot reference resources in the Conditions block of the template",
            ),
            (
                "Parameters:\n  P:\n    Type: Strin\nResources:\n  A:\n    Type: AWS::SNS::Topic",
                "Template format error: Unrecognized parameter type: Strin",
            ),
            (
                "Parameters:\n  P:\n    Default: x\nResources:\n  A:\n    Type: AWS::SNS::Topic",
                "Template format error: Every Parameters object must contain a Type member.",
            ),
            (
                "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    DependsOn: B\n  B:\n    Type: AWS::SNS::Topic\n    DependsOn: A",
                "Circular dependency between resources: [A, B]",
            ),
            ("- a\n- b", "Template format error: unsupported structure."),
            (
                "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: {'fn::GetAtt': [B, Arn]}",
                "Template Error: Encountered unsupported function: fn::GetAtt Supported functions are: [Fn::Base64, Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, Fn::Select, Ref, Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn, Fn::ValueOf, Fn::ValueOfAll, Fn::RefAll, Fn::Sub, Fn::Cidr]",
            ),
            (
                "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n",
                "Template format error: [/Resources/Bucket/Properties] 'null' values are not allowed in templates",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(error_of(body), expected, "{body}");
        }
    }

    /// Unknown types are accepted by ValidateTemplate's structure checks here;
    /// CloudFormation fails them when the stack is created.
    #[test]
    fn unknown_resource_types_parse() {
        assert!(Template::parse("Resources:\n  B:\n    Type: Custom::Other\n  A:\n    Type: Custom::Thing\n    Properties:\n      X: !GetAtt B.Whatever").is_ok());
    }

    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html (200 outputs).
    #[test]
    fn more_than_200_outputs_are_rejected() {
        let mut body = String::from("Resources:\n  A:\n    Type: AWS::SNS::Topic\nOutputs:\n");
        for index in 0..201 {
            body.push_str(&format!("  O{index}:\n    Value: x\n"));
        }
        assert_eq!(error_of(&body), "Template format error: Outputs count 201 is greater than max allowed 200");
    }

    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html (Capabilities).
    #[test]
    fn iam_resources_require_capabilities() {
        let unnamed = Template::parse("Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties: {}");
        assert_eq!(unnamed.as_ref().map(Template::required_capabilities).ok(), Some(vec![Capability::Iam]));
        let named = Template::parse("Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: x");
        assert_eq!(named.as_ref().map(Template::required_capabilities).ok(), Some(vec![Capability::NamedIam]));
        assert_eq!(
            named.ok().and_then(|template| template.summary().capabilities_reason),
            Some("The following resource(s) require capabilities: [AWS::IAM::Role]".to_owned())
        );
        let none = Template::parse("Resources:\n  T:\n    Type: AWS::SNS::Topic");
        assert_eq!(none.map(|template| template.required_capabilities()).ok(), Some(vec![]));
        let expand =
            Template::parse("Transform: AWS::Serverless-2016-10-31\nResources:\n  T:\n    Type: AWS::SNS::Topic");
        assert_eq!(expand.map(|template| template.required_capabilities()).ok(), Some(vec![Capability::AutoExpand]));
        assert_eq!(Capability::NamedIam.as_str(), "CAPABILITY_NAMED_IAM");
    }

    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
    #[test]
    fn deletion_policy_defaults() {
        let template = Template::parse(
            "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n  Member:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      DBClusterIdentifier: c\n  B:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain",
        );
        let policies: Vec<DeletionPolicy> = template
            .map(|template| template.resources.iter().map(|(_, r)| r.deletion_policy).collect())
            .unwrap_or_default();
        assert_eq!(policies, vec![DeletionPolicy::Snapshot, DeletionPolicy::Delete, DeletionPolicy::Retain]);
        let except_on_create =
            Template::parse("Resources:\n  B:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: RetainExceptOnCreate");
        assert_eq!(
            except_on_create.ok().and_then(|t| t.resource("B").map(|b| b.deletion_policy)),
            Some(DeletionPolicy::Retain)
        );
        assert!(
            Template::parse(
                "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    UpdateReplacePolicy: RetainExceptOnCreate"
            )
            .is_err()
        );
    }

    #[test]
    fn summary_lists_parameters_and_types_in_template_order() {
        let template = Template::parse(
            "Description: d\nParameters:\n  Zed:\n    Type: String\n    Default: z\n  Alpha:\n    Type: Number\n    NoEcho: true\nResources:\n  T:\n    Type: AWS::SNS::Topic\n  Q:\n    Type: AWS::SQS::Queue\n  T2:\n    Type: AWS::SNS::Topic",
        );
        let summary = template.map(|template| template.summary());
        let summary = summary.as_ref().ok();
        assert_eq!(
            summary.map(|s| s.parameters.iter().map(|p| p.key.as_str()).collect::<Vec<_>>()),
            Some(vec!["Zed", "Alpha"])
        );
        assert_eq!(summary.map(|s| s.parameters[1].no_echo), Some(true));
        assert_eq!(
            summary.map(|s| s.resource_types.clone()),
            Some(vec!["AWS::SNS::Topic".to_owned(), "AWS::SQS::Queue".to_owned()])
        );
    }
}

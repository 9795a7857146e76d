//! Parameter values for a stack operation: supplied, previous or default
//! values checked against each declaration's type and constraints, with
//! CloudFormation's messages.
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::TemplateError;
use super::template::{ParameterDecl, Template};

/// A parameter as `CreateStack` / `UpdateStack` / `CreateChangeSet` receive it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SuppliedParameter {
    /// `ParameterKey`.
    pub key: String,
    /// `ParameterValue`.
    pub value: Option<String>,
    /// `UsePreviousValue`.
    pub use_previous_value: bool,
}

/// A parameter's value for evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedParameter {
    /// What `Ref` returns: a string, or an array of strings for list types.
    pub value: Value,
    /// The value as given.
    pub raw: String,
    /// `NoEcho`: describe calls show `****`.
    pub no_echo: bool,
    /// The declared `Type`.
    pub parameter_type: String,
}

/// Resolved parameters by name.
pub type ResolvedParameters = BTreeMap<String, ResolvedParameter>;

/// Resource-id formats of the AWS-specific parameter types
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html).
const ID_PREFIXES: [(&str, &str); 6] = [
    ("AWS::EC2::VPC::Id", "vpc-"),
    ("AWS::EC2::Subnet::Id", "subnet-"),
    ("AWS::EC2::SecurityGroup::Id", "sg-"),
    ("AWS::EC2::Instance::Id", "i-"),
    ("AWS::EC2::Image::Id", "ami-"),
    ("AWS::EC2::Volume::Id", "vol-"),
];

/// Chooses and checks every declared parameter's value, in template order.
/// `previous` holds the stack's current raw values (for `UsePreviousValue`).
pub fn resolve_parameters(
    template: &Template,
    supplied: &[SuppliedParameter],
    previous: Option<&BTreeMap<String, String>>,
) -> Result<ResolvedParameters, TemplateError> {
    let unknown: Vec<&str> = supplied
        .iter()
        .map(|parameter| parameter.key.as_str())
        .filter(|key| template.parameter(key).is_none())
        .collect();
    if !unknown.is_empty() {
        return Err(TemplateError::Parameter(format!(
            "Parameters: [{}] do not exist in the template",
            unknown.join(", ")
        )));
    }
    let mut chosen = Vec::new();
    let mut missing = Vec::new();
    for (name, declaration) in &template.parameters {
        let given = supplied.iter().find(|parameter| &parameter.key == name);
        let value = match given {
            Some(parameter) if parameter.use_previous_value => match previous.and_then(|previous| previous.get(name)) {
                Some(value) => Some(value.clone()),
                None => {
                    return Err(TemplateError::Parameter(format!(
                        "Invalid input for parameter key {name}. Cannot specify usePreviousValue as true for a parameter key not in the previous template"
                    )));
                }
            },
            Some(parameter) if parameter.value.is_some() => parameter.value.clone(),
            _ => declaration.default.clone(),
        };
        match value {
            Some(value) => chosen.push((name, declaration, value)),
            None => missing.push(name.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(TemplateError::Parameter(format!("Parameters: [{}] must have values", missing.join(", "))));
    }
    let mut resolved = ResolvedParameters::new();
    for (name, declaration, raw) in chosen {
        check_parameter_value(name, declaration, &raw)?;
        let value = if is_list(&declaration.parameter_type) {
            let items = if raw.is_empty() {
                Vec::new()
            } else {
                // "each member string is space trimmed" (parameters-section-structure.html).
                raw.split(',').map(|item| Value::String(item.trim().to_owned())).collect()
            };
            Value::Array(items)
        } else {
            Value::String(raw.clone())
        };
        resolved.insert(
            name.clone(),
            ResolvedParameter {
                value,
                raw,
                no_echo: declaration.no_echo,
                parameter_type: declaration.parameter_type.clone(),
            },
        );
    }
    Ok(resolved)
}

fn is_list(parameter_type: &str) -> bool {
    parameter_type == "CommaDelimitedList" || parameter_type.starts_with("List<")
}

/// Numbers in messages read as the template wrote them (`1`, not `1.0`).
fn number_text(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 { format!("{}", number as i64) } else { number.to_string() }
}

/// One value against its declaration: `Type`, `AllowedValues`,
/// `AllowedPattern`, lengths and numeric bounds, with CloudFormation's
/// messages (and `ConstraintDescription` in place of them when given).
pub fn check_parameter_value(name: &str, declaration: &ParameterDecl, raw: &str) -> Result<(), TemplateError> {
    let failed = |default_message: String| -> TemplateError {
        match &declaration.constraint_description {
            Some(description) => {
                TemplateError::Parameter(format!("Parameter {name} failed to satisfy constraint: {description}"))
            }
            None => TemplateError::Parameter(default_message),
        }
    };
    let parameter_type = declaration.parameter_type.as_str();
    if parameter_type.starts_with("AWS::SSM::Parameter::") {
        return Err(TemplateError::Parameter(format!(
            "Parameter type {parameter_type} for parameter {name} is not supported by this engine"
        )));
    }
    let items: Vec<&str> = if is_list(parameter_type) { raw.split(',').map(str::trim).collect() } else { vec![raw] };
    let element_type =
        parameter_type.strip_prefix("List<").and_then(|rest| rest.strip_suffix('>')).unwrap_or(parameter_type);
    for item in &items {
        // NaN and values beyond f64 ("1e309", "inf") would slip past MinValue
        // and MaxValue comparisons; they are not numbers CloudFormation or
        // the services behind it take.
        if element_type == "Number" && !item.trim().parse::<f64>().is_ok_and(f64::is_finite) {
            return Err(TemplateError::Parameter(format!("Parameter '{name}' must be a number.")));
        }
        if let Some((_, prefix)) = ID_PREFIXES.iter().find(|(id_type, _)| *id_type == element_type)
            && !is_resource_id(item, prefix)
        {
            return Err(TemplateError::Parameter(format!(
                "Parameter value {item} for parameter name {name} does not exist"
            )));
        }
    }
    if !declaration.allowed_values.is_empty()
        && items.iter().any(|item| !declaration.allowed_values.iter().any(|allowed| allowed == item))
    {
        return Err(TemplateError::Parameter(format!("Parameter '{name}' must be one of AllowedValues")));
    }
    if let Some(pattern) = &declaration.allowed_pattern {
        let anchored = format!("^(?:{pattern})$");
        // regex-lite's \s \w \d are ASCII, which is what templates mean by
        // them; like CloudFormation's (Java) engine it matches characters,
        // not bytes.
        let regex = regex_lite::Regex::new(&anchored).map_err(|_| {
            TemplateError::Parameter(format!("Parameter {name} has an invalid AllowedPattern: {pattern}"))
        })?;
        if items.iter().any(|item| !regex.is_match(item)) {
            return Err(failed(format!(
                "Parameter {name} failed to satisfy constraint: Malformed input-Parameter {name} must match pattern {pattern}"
            )));
        }
    }
    let length = raw.chars().count() as u64;
    if let Some(min) = declaration.min_length
        && length < min
    {
        return Err(failed(format!("Parameter '{name}' must contain at least {min} characters")));
    }
    if let Some(max) = declaration.max_length
        && length > max
    {
        return Err(failed(format!("Parameter '{name}' must contain at most {max} characters")));
    }
    if element_type == "Number" {
        for item in &items {
            let number = item.trim().parse::<f64>().unwrap_or(f64::NAN);
            if let Some(min) = declaration.min_value
                && number < min
            {
                return Err(failed(format!("Parameter '{name}' must be a number not less than {}", number_text(min))));
            }
            if let Some(max) = declaration.max_value
                && number > max
            {
                return Err(failed(format!(
                    "Parameter '{name}' must be a number not greater than {}",
                    number_text(max)
                )));
            }
        }
    }
    Ok(())
}

/// `prefix` followed by 8 or 17 lowercase hex digits, as EC2 ids are.
fn is_resource_id(value: &str, prefix: &str) -> bool {
    value.strip_prefix(prefix).is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        let body = r#"
Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prod]
  Name:
    Type: String
    AllowedPattern: '^[a-z]+$'
    MinLength: 2
    MaxLength: 5
  Role:
    Type: String
    AllowedPattern: '^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$'
    ConstraintDescription: must be an IAM role ARN
  Email:
    Type: String
    Default: ''
    AllowedPattern: '^$|^[^@\s]+@[^@\s]+\.[^@\s]+$'
  Count:
    Type: Number
    Default: 3
    MinValue: 1
    MaxValue: 10
  Zones:
    Type: CommaDelimitedList
    Default: a,b
  Vpc:
    Type: AWS::EC2::VPC::Id
    Default: vpc-0123abcd
  Subnets:
    Type: List<AWS::EC2::Subnet::Id>
    Default: subnet-0123abcd,subnet-0123456789abcdef0
Resources:
  T:
    Type: AWS::SNS::Topic
"#;
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

    const GOOD: [(&str, &str); 3] = [("Env", "dev"), ("Name", "abc"), ("Role", "arn:aws:iam::123456789012:role/x")];

    fn error_with(overrides: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(&str, &str)> =
            GOOD.iter().filter(|(key, _)| !overrides.iter().any(|(k, _)| k == key)).copied().collect();
        pairs.extend_from_slice(overrides);
        resolve_parameters(&template(), &supplied(&pairs), None).err().map(|error| error.message()).unwrap_or_default()
    }

    /// Values, defaults and list types per
    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
    /// ("the parameter value becomes a string" for Number; list members are space trimmed).
    #[test]
    fn defaults_and_lists_resolve() {
        let spaced =
            resolve_parameters(&template(), &supplied(&[GOOD[0], GOOD[1], GOOD[2], ("Zones", " x , y")]), None);
        assert_eq!(
            spaced.ok().and_then(|r| r.get("Zones").map(|p| p.value.clone())),
            Some(serde_json::json!(["x", "y"]))
        );
        let resolved = resolve_parameters(&template(), &supplied(&GOOD), None);
        let resolved = resolved.as_ref().ok();
        assert_eq!(resolved.and_then(|r| r.get("Count")).map(|p| p.value.clone()), Some(Value::String("3".into())));
        assert_eq!(resolved.and_then(|r| r.get("Zones")).map(|p| p.value.clone()), Some(serde_json::json!(["a", "b"])));
        assert_eq!(resolved.and_then(|r| r.get("Email")).map(|p| p.raw.clone()), Some(String::new()));
    }

    /// Constraint messages of
    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
    #[test]
    fn constraint_violations_use_cloudformations_texts() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("Env", "test")], "Parameter 'Env' must be one of AllowedValues"),
            (
                &[("Name", "ABC")],
                "Parameter Name failed to satisfy constraint: Malformed input-Parameter Name must match pattern ^[a-z]+$",
            ),
            (&[("Name", "a")], "Parameter 'Name' must contain at least 2 characters"),
            (&[("Name", "abcdef")], "Parameter 'Name' must contain at most 5 characters"),
            (&[("Role", "nope")], "Parameter Role failed to satisfy constraint: must be an IAM role ARN"),
            (
                &[("Email", "not an email")],
                "Parameter Email failed to satisfy constraint: Malformed input-Parameter Email must match pattern ^$|^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
            ),
            (&[("Count", "x")], "Parameter 'Count' must be a number."),
            (&[("Count", "NaN")], "Parameter 'Count' must be a number."),
            (&[("Count", "1e309")], "Parameter 'Count' must be a number."),
            (&[("Count", "0")], "Parameter 'Count' must be a number not less than 1"),
            (&[("Count", "11")], "Parameter 'Count' must be a number not greater than 10"),
            (&[("Vpc", "vpc-xyz")], "Parameter value vpc-xyz for parameter name Vpc does not exist"),
            (
                &[("Subnets", "subnet-0123abcd,sg-0123abcd")],
                "Parameter value sg-0123abcd for parameter name Subnets does not exist",
            ),
            (&[("Nope", "x"), ("Other", "y")], "Parameters: [Nope, Other] do not exist in the template"),
        ];
        for (overrides, expected) in cases {
            assert_eq!(error_with(overrides), *expected, "{overrides:?}");
        }
        assert_eq!(error_with(&[("Email", "me@example.com")]), "");
    }

    #[test]
    fn missing_values_and_use_previous_value() {
        let error = resolve_parameters(&template(), &supplied(&[("Env", "dev")]), None).err().map(|e| e.message());
        assert_eq!(error.as_deref(), Some("Parameters: [Name, Role] must have values"));
        let mut with_previous = supplied(&GOOD);
        with_previous[0] = SuppliedParameter { key: "Env".into(), value: None, use_previous_value: true };
        let error = resolve_parameters(&template(), &with_previous, None).err().map(|e| e.message());
        assert_eq!(
            error.as_deref(),
            Some(
                "Invalid input for parameter key Env. Cannot specify usePreviousValue as true for a parameter key not in the previous template"
            )
        );
        let previous = BTreeMap::from([("Env".to_owned(), "prod".to_owned())]);
        let resolved = resolve_parameters(&template(), &with_previous, Some(&previous));
        assert_eq!(resolved.ok().and_then(|r| r.get("Env").map(|p| p.raw.clone())), Some("prod".to_owned()));
    }
}

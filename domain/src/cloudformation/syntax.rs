//! Template text to long-form JSON: JSON bodies as they are, YAML bodies with
//! CloudFormation's short-form tags (`!Ref`, `!GetAtt A.B`, `!Sub`, ...)
//! rewritten to the long form (`{"Ref": ..}`, `{"Fn::GetAtt": [A, B]}`, ...).
//!
//! `serde_json::Map` is sorted by key in this workspace, so the order of the
//! members of `Parameters`, `Resources` and `Outputs` (which CloudFormation
//! keeps, e.g. for ties in creation order) is captured separately.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::error::TemplateError;

/// The sections whose member order is kept.
const ORDERED_SECTIONS: [&str; 3] = ["Parameters", "Resources", "Outputs"];

/// A parsed body: long-form JSON plus the member order of the ordered sections.
pub(crate) struct ParsedBody {
    pub(crate) value: Value,
    pub(crate) order: BTreeMap<String, Vec<String>>,
}

/// Parses a template body: JSON when its first non-whitespace character is
/// `{`, YAML otherwise (as CloudFormation decides).
pub(crate) fn parse_body(body: &str) -> Result<ParsedBody, TemplateError> {
    if body.trim_start().starts_with('{') { parse_json(body) } else { parse_yaml(body) }
}

fn parse_json(body: &str) -> Result<ParsedBody, TemplateError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|error| TemplateError::JsonSyntax { line: error.line(), column: error.column() })?;
    let order = serde_json::from_str::<SectionOrder>(body)
        .map_err(|error| TemplateError::JsonSyntax { line: error.line(), column: error.column() })?
        .0;
    Ok(ParsedBody { value, order })
}

fn parse_yaml(body: &str) -> Result<ParsedBody, TemplateError> {
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(body).map_err(|error| {
        let (line, column) = error.location().map(|at| (at.line(), at.column())).unwrap_or((1, 1));
        TemplateError::YamlSyntax { line, column }
    })?;
    let mut order = BTreeMap::new();
    if let serde_yaml_ng::Value::Mapping(top) = &yaml {
        for (key, section) in top {
            let name = yaml_key(key);
            if ORDERED_SECTIONS.contains(&name.as_str())
                && let serde_yaml_ng::Value::Mapping(members) = section
            {
                order.insert(name, members.keys().map(yaml_key).collect());
            }
        }
    }
    Ok(ParsedBody { value: yaml_to_json(yaml), order })
}

/// Mapping keys become strings, as CloudFormation treats every key as a name.
fn yaml_key(key: &serde_yaml_ng::Value) -> String {
    match key {
        serde_yaml_ng::Value::String(text) => text.clone(),
        serde_yaml_ng::Value::Bool(flag) => flag.to_string(),
        serde_yaml_ng::Value::Number(number) => number.to_string(),
        serde_yaml_ng::Value::Null => "null".to_owned(),
        other => yaml_scalar_text(&yaml_to_json(other.clone())),
    }
}

fn yaml_scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Converts YAML to JSON, rewriting short-form tags to long-form intrinsics.
pub(crate) fn yaml_to_json(yaml: serde_yaml_ng::Value) -> Value {
    match yaml {
        serde_yaml_ng::Value::Null => Value::Null,
        serde_yaml_ng::Value::Bool(flag) => Value::Bool(flag),
        serde_yaml_ng::Value::Number(number) => yaml_number(&number),
        serde_yaml_ng::Value::String(text) => Value::String(text),
        serde_yaml_ng::Value::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        serde_yaml_ng::Value::Mapping(members) => {
            let mut object = Map::new();
            for (key, member) in members {
                object.insert(yaml_key(&key), yaml_to_json(member));
            }
            Value::Object(object)
        }
        serde_yaml_ng::Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(tagged.value);
            long_form(name, inner)
        }
    }
}

fn yaml_number(number: &serde_yaml_ng::Number) -> Value {
    if let Some(unsigned) = number.as_u64() {
        Value::Number(unsigned.into())
    } else if let Some(signed) = number.as_i64() {
        Value::Number(signed.into())
    } else {
        number
            .as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            // .inf and .nan have no JSON form; CloudFormation would see text.
            .unwrap_or_else(|| Value::String(number.to_string()))
    }
}

/// The long form of a short-form tag. `!GetAtt A.B.C` splits at the first dot
/// only, because attribute names may contain dots (`Endpoint.Address`).
fn long_form(name: &str, inner: Value) -> Value {
    let (key, value) = match name {
        "Ref" => ("Ref".to_owned(), inner),
        "Condition" => ("Condition".to_owned(), inner),
        "GetAtt" => {
            let value = match inner {
                Value::String(text) => match text.split_once('.') {
                    Some((resource, attribute)) => {
                        Value::Array(vec![Value::String(resource.to_owned()), Value::String(attribute.to_owned())])
                    }
                    None => Value::String(text),
                },
                other => other,
            };
            ("Fn::GetAtt".to_owned(), value)
        }
        other => (format!("Fn::{other}"), inner),
    };
    let mut object = Map::new();
    object.insert(key, value);
    Value::Object(object)
}

/// The member order of the ordered sections of a JSON body.
struct SectionOrder(BTreeMap<String, Vec<String>>);

impl<'de> Deserialize<'de> for SectionOrder {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = SectionOrder;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a template object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SectionOrder, A::Error> {
        let mut order = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let keys = map.next_value_seed(KeysSeed)?;
            if ORDERED_SECTIONS.contains(&key.as_str()) {
                order.insert(key, keys);
            }
        }
        Ok(SectionOrder(order))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SectionOrder, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(SectionOrder(BTreeMap::new()))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<SectionOrder, E> {
        Ok(SectionOrder(BTreeMap::new()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<SectionOrder, E> {
        Ok(SectionOrder(BTreeMap::new()))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<SectionOrder, E> {
        Ok(SectionOrder(BTreeMap::new()))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<SectionOrder, E> {
        Ok(SectionOrder(BTreeMap::new()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<SectionOrder, E> {
        Ok(SectionOrder(BTreeMap::new()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<SectionOrder, E> {
        Ok(SectionOrder(BTreeMap::new()))
    }
}

/// Collects the keys of an object value (in order); any other value gives none.
struct KeysSeed;

impl<'de> DeserializeSeed<'de> for KeysSeed {
    type Value = Vec<String>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Vec<String>, D::Error> {
        deserializer.deserialize_any(KeysVisitor)
    }
}

struct KeysVisitor;

impl<'de> Visitor<'de> for KeysVisitor {
    type Value = Vec<String>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Ok(keys)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Vec::new())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Short forms per
    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
    #[test]
    fn short_form_tags_become_long_form_intrinsics() {
        let cases: &[(&str, Value)] = &[
            ("v: !Ref VPC", json!({"v": {"Ref": "VPC"}})),
            ("v: !GetAtt DB.Endpoint.Address", json!({"v": {"Fn::GetAtt": ["DB", "Endpoint.Address"]}})),
            ("v: !GetAtt [DB, Arn]", json!({"v": {"Fn::GetAtt": ["DB", "Arn"]}})),
            ("v: !Sub '${AWS::StackName}-vpc'", json!({"v": {"Fn::Sub": "${AWS::StackName}-vpc"}})),
            ("v: !Sub ['${A}', {A: !Ref B}]", json!({"v": {"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]}})),
            ("v: !Select [0, !GetAZs '']", json!({"v": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}})),
            ("v: !Not [!Equals [!Ref E, '']]", json!({"v": {"Fn::Not": [{"Fn::Equals": [{"Ref": "E"}, ""]}]}})),
            ("v: !Condition HasEmail", json!({"v": {"Condition": "HasEmail"}})),
            ("v: !Join [',', [a, b]]", json!({"v": {"Fn::Join": [",", ["a", "b"]]}})),
            ("v: !FindInMap [M, K, V]", json!({"v": {"Fn::FindInMap": ["M", "K", "V"]}})),
            ("v: !Base64 text", json!({"v": {"Fn::Base64": "text"}})),
            ("v: !Cidr [10.0.0.0/16, 2, 8]", json!({"v": {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}})),
            ("v: !ImportValue name", json!({"v": {"Fn::ImportValue": "name"}})),
            ("v: !If [C, a, b]", json!({"v": {"Fn::If": ["C", "a", "b"]}})),
            (
                "v: !And [!Condition A, !Or [!Condition B]]",
                json!({"v": {"Fn::And": [{"Condition": "A"}, {"Fn::Or": [{"Condition": "B"}]}]}}),
            ),
            ("v: !Split [',', 'a,b']", json!({"v": {"Fn::Split": [",", "a,b"]}})),
            ("v: !Transform {Name: X}", json!({"v": {"Fn::Transform": {"Name": "X"}}})),
        ];
        for (yaml, expected) in cases {
            let parsed = parse_body(yaml).map(|parsed| parsed.value);
            assert_eq!(parsed.as_ref(), Ok(expected), "{yaml}");
        }
    }

    /// Numbers and booleans stay JSON numbers and booleans; keys are strings
    /// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-formats.html).
    #[test]
    fn scalars_keep_their_json_types_and_keys_are_strings() {
        let parsed = parse_body("a: 80\nb: true\nc: 1.5\n10: x\nd: '80'\ne: 2010-09-09").map(|parsed| parsed.value);
        assert_eq!(parsed, Ok(json!({"a": 80, "b": true, "c": 1.5, "10": "x", "d": "80", "e": "2010-09-09"})));
    }

    #[test]
    fn syntax_errors_use_cloudformations_words_and_positions() {
        let yaml = parse_body("a: [1, 2\nb: c").err().map(|error| error.message());
        assert!(
            yaml.as_deref().is_some_and(|text| text.starts_with("Template format error: YAML not well-formed. (line ")),
            "{yaml:?}"
        );
        let json = parse_body("{\n  \"a\": 1,\n  \"b\" 2\n}").err().map(|error| error.message());
        assert_eq!(json.as_deref(), Some("Template format error: JSON not well-formed. (line 3, column 7)"));
    }

    #[test]
    fn member_order_of_ordered_sections_is_kept_for_json_and_yaml() {
        let json = parse_body(r#"{"Resources": {"Zeta": {}, "Alpha": {}}, "Outputs": {"B": {}, "A": {}}}"#);
        let order = json.map(|parsed| parsed.order);
        assert_eq!(
            order.as_ref().ok().and_then(|order| order.get("Resources")).cloned(),
            Some(vec!["Zeta".to_owned(), "Alpha".to_owned()])
        );
        let yaml = parse_body("Resources:\n  Zeta: {}\n  Alpha: {}\n").map(|parsed| parsed.order);
        assert_eq!(
            yaml.ok().and_then(|order| order.get("Resources").cloned()),
            Some(vec!["Zeta".to_owned(), "Alpha".to_owned()])
        );
    }
}

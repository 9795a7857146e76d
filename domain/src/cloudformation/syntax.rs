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
    let yaml: Yaml = serde_yaml_ng::Deserializer::from_str(body)
        .next()
        .map(|document| YamlSeed { text: body, booleans: true }.deserialize(document))
        .unwrap_or(Ok(Yaml::Null))
        .map_err(|error| {
            let (line, column) = error.location().map(|at| (at.line(), at.column())).unwrap_or((1, 1));
            TemplateError::YamlSyntax { line, column }
        })?;
    let mut order = BTreeMap::new();
    if let Yaml::Mapping(top) = &yaml {
        for (key, section) in top {
            let name = yaml_key(key);
            if ORDERED_SECTIONS.contains(&name.as_str())
                && let Yaml::Mapping(members) = section
            {
                order.insert(name, members.iter().map(|(key, _)| yaml_key(key)).collect());
            }
        }
    }
    Ok(ParsedBody { value: yaml_to_json(yaml), order })
}

/// A YAML node as CloudFormation reads it (YAML 1.1 scalars, short-form tags kept).
#[derive(Debug, Clone, PartialEq)]
enum Yaml {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Sequence(Vec<Yaml>),
    Mapping(Vec<(Yaml, Yaml)>),
    Tagged(String, Box<Yaml>),
}

/// Builds [`Yaml`] nodes; `text` is the whole body, used to tell plain
/// scalars from quoted ones (only plain `yes`/`no`/`on`/`off` are booleans).
/// `booleans` is off for mapping keys (names stay names) and for the scalar
/// of an explicit tag (`!Ref no` names `no`: a tag overrides implicit types).
#[derive(Clone, Copy)]
struct YamlSeed<'t> {
    text: &'t str,
    booleans: bool,
}

impl<'t> YamlSeed<'t> {
    fn with_booleans(self, booleans: bool) -> Self {
        YamlSeed { booleans, ..self }
    }
}

impl<'de> DeserializeSeed<'de> for YamlSeed<'de> {
    type Value = Yaml;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Yaml, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for YamlSeed<'de> {
    type Value = Yaml;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Yaml, E> {
        Ok(Yaml::Number(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Yaml, E> {
        Ok(Yaml::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Yaml, E> {
        // .inf and .nan have no JSON form; CloudFormation would see text.
        Ok(Number::from_f64(value).map_or_else(|| Yaml::String(value.to_string()), Yaml::Number))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Yaml, E> {
        Ok(Yaml::String(value.to_owned()))
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Yaml, E> {
        if self.booleans
            && is_plain(self.text, value)
            && let Some(flag) = yaml_1_1_bool(value)
        {
            return Ok(Yaml::Bool(flag));
        }
        Ok(Yaml::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Yaml, E> {
        Ok(Yaml::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Yaml, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.with_booleans(true))? {
            items.push(item);
        }
        Ok(Yaml::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key_seed(self.with_booleans(false))? {
            let value = map.next_value_seed(self.with_booleans(true))?;
            members.push((key, value));
        }
        Ok(Yaml::Mapping(members))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Yaml, A::Error> {
        use serde::de::VariantAccess;
        let (tag, variant): (String, A::Variant) = data.variant()?;
        let value = variant.newtype_variant_seed(self.with_booleans(false))?;
        Ok(Yaml::Tagged(tag.trim_start_matches('!').to_owned(), Box::new(value)))
    }
}

/// Whether `value` (a slice of `text`) was written as a plain scalar: quoted
/// scalars are borrowed from inside their quotes.
fn is_plain(text: &str, value: &str) -> bool {
    let start = (value.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    if start > text.len() {
        return false;
    }
    !matches!(start.checked_sub(1).and_then(|before| text.as_bytes().get(before)), Some(b'\'' | b'"'))
}

/// YAML 1.1 booleans beyond the 1.2 `true`/`false` the parser already reads;
/// CloudFormation follows YAML 1.1
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-formats.html).
fn yaml_1_1_bool(value: &str) -> Option<bool> {
    match value {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// Mapping keys become strings, as CloudFormation treats every key as a name.
fn yaml_key(key: &Yaml) -> String {
    match key {
        Yaml::String(text) => text.clone(),
        Yaml::Bool(flag) => flag.to_string(),
        Yaml::Number(number) => number.to_string(),
        Yaml::Null => "null".to_owned(),
        other => yaml_to_json(other.clone()).to_string(),
    }
}

/// Converts YAML to JSON, rewriting short-form tags to long-form intrinsics.
fn yaml_to_json(yaml: Yaml) -> Value {
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => Value::Bool(flag),
        Yaml::Number(number) => Value::Number(number),
        Yaml::String(text) => Value::String(text),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Yaml::Mapping(members) => {
            let mut object = Map::new();
            for (key, member) in members {
                object.insert(yaml_key(&key), yaml_to_json(member));
            }
            Value::Object(object)
        }
        Yaml::Tagged(tag, inner) => long_form(&tag, yaml_to_json(*inner)),
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
        let parsed =
            parse_body("a: 80\nb: true\nc: 1.5\n10: x\nd: '80'\ne: 2010-09-09\nf: !Ref x").map(|parsed| parsed.value);
        assert_eq!(
            parsed,
            Ok(json!({"a": 80, "b": true, "c": 1.5, "10": "x", "d": "80", "e": "2010-09-09", "f": {"Ref": "x"}}))
        );
    }

    /// CloudFormation reads YAML 1.1, where plain yes/no/on/off are booleans
    /// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-formats.html);
    /// quoted ones stay strings, and keys stay names.
    #[test]
    fn yaml_1_1_booleans_only_when_plain() {
        let parsed = parse_body("a: yes\nb: 'yes'\nc: Off\nd: \"on\"\non: [no, 'no', yesterday]\ne: !Ref no")
            .map(|parsed| parsed.value);
        assert_eq!(
            parsed,
            Ok(
                json!({"a": true, "b": "yes", "c": false, "d": "on", "on": [false, "no", "yesterday"], "e": {"Ref": "no"}})
            )
        );
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

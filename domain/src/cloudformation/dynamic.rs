//! Dynamic references, `{{resolve:service:reference}}`: finding them in
//! property values and substituting what the service returns.
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html

use serde_json::{Map, Value};

const OPEN: &str = "{{resolve:";
const CLOSE: &str = "}}";

/// One `{{resolve:...}}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicReference {
    /// `secretsmanager`, `ssm` or `ssm-secure` (others are kept as written).
    pub service: String,
    /// Everything after `service:`.
    pub reference: String,
    /// Secrets Manager: the secret name or full ARN; SSM: the parameter name.
    pub secret_id: Option<String>,
    /// Secrets Manager: the key in a JSON `SecretString`.
    pub json_key: Option<String>,
    /// Secrets Manager: the version stage.
    pub version_stage: Option<String>,
    /// Secrets Manager: the version id; SSM: the parameter version.
    pub version_id: Option<String>,
}

impl DynamicReference {
    /// The text as written in the template, `{{resolve:...}}`.
    pub fn text(&self) -> String {
        format!("{OPEN}{}:{}{CLOSE}", self.service, self.reference)
    }

    fn parse(inner: &str) -> Option<DynamicReference> {
        let (service, reference) = inner.split_once(':')?;
        let mut parsed = DynamicReference {
            service: service.to_owned(),
            reference: reference.to_owned(),
            secret_id: None,
            json_key: None,
            version_stage: None,
            version_id: None,
        };
        let non_empty = |part: Option<&&str>| part.filter(|part| !part.is_empty()).map(|part| (*part).to_owned());
        match service {
            "secretsmanager" => {
                let segments: Vec<&str> = reference.split(':').collect();
                // A full ARN has seven colon-separated parts
                // (arn:aws:secretsmanager:region:account:secret:name-suffix).
                let id_parts = if reference.starts_with("arn:") { 7.min(segments.len()) } else { 1 };
                parsed.secret_id = Some(segments[..id_parts].join(":"));
                let rest = &segments[id_parts..];
                // rest[0] is the literal `SecretString`.
                parsed.json_key = non_empty(rest.get(1));
                parsed.version_stage = non_empty(rest.get(2));
                parsed.version_id = non_empty(rest.get(3));
            }
            "ssm" | "ssm-secure" => {
                // `name:version`, where the name may be an ARN with colons;
                // a trailing all-digit segment is the version.
                match reference.rsplit_once(':') {
                    Some((name, version)) if !version.is_empty() && version.chars().all(|c| c.is_ascii_digit()) => {
                        parsed.secret_id = Some(name.to_owned());
                        parsed.version_id = Some(version.to_owned());
                    }
                    _ => parsed.secret_id = Some(reference.to_owned()),
                }
            }
            _ => {}
        }
        Some(parsed)
    }
}

/// Every dynamic reference in `text`, in order.
pub fn dynamic_references(text: &str) -> Vec<DynamicReference> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find(CLOSE) else { break };
        if let Some(reference) = DynamicReference::parse(&after[..end]) {
            found.push(reference);
        }
        rest = &after[end + CLOSE.len()..];
    }
    found
}

/// Replaces every dynamic reference in the strings of `value` (keys are left
/// alone) with what `resolve` returns; its error text is passed through.
pub fn substitute_dynamic(
    value: &Value,
    resolve: &mut dyn FnMut(&DynamicReference) -> Result<String, String>,
) -> Result<Value, String> {
    match value {
        Value::String(text) => {
            let mut out = String::with_capacity(text.len());
            let mut rest = text.as_str();
            while let Some(start) = rest.find(OPEN) {
                let after = &rest[start + OPEN.len()..];
                let Some(end) = after.find(CLOSE) else { break };
                out.push_str(&rest[..start]);
                match DynamicReference::parse(&after[..end]) {
                    Some(reference) => out.push_str(&resolve(&reference)?),
                    None => out.push_str(&rest[start..start + OPEN.len() + end + CLOSE.len()]),
                }
                rest = &after[end + CLOSE.len()..];
            }
            out.push_str(rest);
            Ok(Value::String(out))
        }
        Value::Array(items) => {
            items.iter().map(|item| substitute_dynamic(item, resolve)).collect::<Result<Vec<_>, _>>().map(Value::Array)
        }
        Value::Object(members) => {
            let mut out = Map::new();
            for (key, member) in members {
                out.insert(key.clone(), substitute_dynamic(member, resolve)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Secrets Manager form, including a full ARN as the secret id, per
    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html
    #[test]
    fn secretsmanager_references_parse_as_aws_does() {
        let by_name = dynamic_references("{{resolve:secretsmanager:MySecret:SecretString:password}}");
        assert_eq!(by_name.first().and_then(|r| r.secret_id.clone()).as_deref(), Some("MySecret"));
        assert_eq!(by_name.first().and_then(|r| r.json_key.clone()).as_deref(), Some("password"));
        let arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:MySecret-a1b2c3";
        let full = dynamic_references(&format!("x{{{{resolve:secretsmanager:{arn}:SecretString:username::v1}}}}y"));
        assert_eq!(full.len(), 1);
        let reference = &full[0];
        assert_eq!(reference.secret_id.as_deref(), Some(arn));
        assert_eq!(reference.json_key.as_deref(), Some("username"));
        assert_eq!(reference.version_stage, None);
        assert_eq!(reference.version_id.as_deref(), Some("v1"));
        let staged = dynamic_references("{{resolve:secretsmanager:S:SecretString::AWSPREVIOUS}}");
        assert_eq!(staged[0].version_stage.as_deref(), Some("AWSPREVIOUS"));
        assert_eq!(staged[0].json_key, None);
        let whole = dynamic_references("{{resolve:secretsmanager:S}}");
        assert_eq!((whole[0].secret_id.as_deref(), whole[0].json_key.as_deref()), (Some("S"), None));
    }

    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-ssm.html
    #[test]
    fn ssm_references_take_an_optional_version() {
        let found = dynamic_references("{{resolve:ssm:/app/name:3}} {{resolve:ssm-secure:pw}}");
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].secret_id.as_deref(), found[0].version_id.as_deref()), (Some("/app/name"), Some("3")));
        assert_eq!((found[1].service.as_str(), found[1].secret_id.as_deref()), ("ssm-secure", Some("pw")));
    }

    #[test]
    fn substitution_replaces_every_reference_and_passes_errors() {
        let value = json!({"User": "{{resolve:secretsmanager:S:SecretString:username}}", "L": ["a{{resolve:ssm:p}}b"]});
        let mut resolve = |reference: &DynamicReference| -> Result<String, String> {
            Ok(reference.json_key.clone().unwrap_or_else(|| "P".to_owned()))
        };
        assert_eq!(substitute_dynamic(&value, &mut resolve), Ok(json!({"User": "username", "L": ["aPb"]})));
        let mut failing = |_: &DynamicReference| -> Result<String, String> { Err("no such secret".to_owned()) };
        assert_eq!(substitute_dynamic(&value, &mut failing), Err("no such secret".to_owned()));
    }
}

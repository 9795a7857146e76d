//! Subscription filter policies: which published messages a subscription
//! receives, matched on message attributes (the default scope) or on the
//! message body (`FilterPolicyScope` = `MessageBody`).
//!
//! Operators: exact strings and numbers, `prefix`, `anything-but`, `exists`
//! and `numeric` ranges, from
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html>.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// Whether a subscription with `attributes` receives `message` published
/// with `message_attributes` (name -> (data type, string value)).
pub fn matches(
    attributes: &BTreeMap<String, String>,
    message: &str,
    message_attributes: &BTreeMap<String, (String, String)>,
) -> bool {
    let Some(policy) = attributes.get("FilterPolicy").and_then(|text| serde_json::from_str::<Json>(text).ok()) else {
        return true;
    };
    if attributes.get("FilterPolicyScope").is_some_and(|scope| scope == "MessageBody") {
        // A body that is not JSON matches no body policy.
        serde_json::from_str::<Json>(message).is_ok_and(|body| matches_object(&policy, Some(&body)))
    } else {
        let Json::Object(keys) = &policy else { return false };
        keys.iter().all(|(name, conditions)| {
            let value = message_attributes.get(name).map(|(data_type, value)| {
                if data_type.starts_with("Number") {
                    value.parse::<f64>().map_or(Json::from(value.as_str()), Json::from)
                } else {
                    Json::from(value.as_str())
                }
            });
            matches_conditions(conditions, value.as_ref())
        })
    }
}

fn matches_object(policy: &Json, value: Option<&Json>) -> bool {
    match policy {
        Json::Object(keys) => keys.iter().all(|(name, nested)| {
            let member = value.and_then(|v| v.get(name));
            match nested {
                Json::Object(_) => matches_object(nested, member),
                conditions => matches_conditions(conditions, member),
            }
        }),
        conditions => matches_conditions(conditions, value),
    }
}

/// An array of conditions: any may match (OR); arrays in the value match
/// when any element does.
fn matches_conditions(conditions: &Json, value: Option<&Json>) -> bool {
    let Json::Array(conditions) = conditions else { return false };
    conditions.iter().any(|condition| match value {
        Some(Json::Array(items)) => items.iter().any(|item| matches_one(condition, Some(item))),
        other => matches_one(condition, other),
    })
}

fn matches_one(condition: &Json, value: Option<&Json>) -> bool {
    match condition {
        Json::String(_) | Json::Bool(_) | Json::Null => value == Some(condition),
        Json::Number(wanted) => value.and_then(Json::as_f64).is_some_and(|v| Some(v) == wanted.as_f64()),
        Json::Object(operator) => operator.iter().all(|(name, argument)| match name.as_str() {
            "exists" => argument.as_bool() == Some(value.is_some()),
            "prefix" => match (argument.as_str(), value.and_then(Json::as_str)) {
                (Some(prefix), Some(text)) => text.starts_with(prefix),
                _ => false,
            },
            "anything-but" => {
                value.is_some()
                    && match argument {
                        Json::Array(excluded) => !excluded.iter().any(|e| matches_one(e, value)),
                        Json::Object(_) => !matches_one(argument, value),
                        single => !matches_one(single, value),
                    }
            }
            "numeric" => value.and_then(Json::as_f64).is_some_and(|number| numeric(argument, number)),
            _ => false,
        }),
        Json::Array(_) => false,
    }
}

fn numeric(argument: &Json, number: f64) -> bool {
    let Json::Array(terms) = argument else { return false };
    terms.chunks(2).all(|pair| match (pair.first().and_then(Json::as_str), pair.get(1).and_then(Json::as_f64)) {
        (Some("="), Some(bound)) => number == bound,
        (Some("<"), Some(bound)) => number < bound,
        (Some("<="), Some(bound)) => number <= bound,
        (Some(">"), Some(bound)) => number > bound,
        (Some(">="), Some(bound)) => number >= bound,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(policy: &str, scope: Option<&str>) -> BTreeMap<String, String> {
        let mut attributes = BTreeMap::from([("FilterPolicy".to_owned(), policy.to_owned())]);
        if let Some(scope) = scope {
            attributes.insert("FilterPolicyScope".into(), scope.into());
        }
        attributes
    }

    #[test]
    fn body_policies_match_nested_members() {
        // Example shapes from https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html
        let attributes = policy(
            r#"{"NewStateValue": ["ALARM"], "Trigger": {"Period": [{"numeric": [">", 5]}]}}"#,
            Some("MessageBody"),
        );
        let none = BTreeMap::new();
        assert!(matches(&attributes, r#"{"NewStateValue":"ALARM","Trigger":{"Period":10}}"#, &none));
        assert!(!matches(&attributes, r#"{"NewStateValue":"OK","Trigger":{"Period":10}}"#, &none));
        assert!(!matches(&attributes, "plain text", &none));
    }

    #[test]
    fn attribute_policies_use_prefix_anything_but_and_exists() {
        let attributes = policy(r#"{"store": [{"prefix": "exa"}], "event": [{"anything-but": "test"}]}"#, None);
        let with = |store: &str, event: &str| {
            BTreeMap::from([
                ("store".to_owned(), ("String".to_owned(), store.to_owned())),
                ("event".to_owned(), ("String".to_owned(), event.to_owned())),
            ])
        };
        assert!(matches(&attributes, "m", &with("example", "order")));
        assert!(!matches(&attributes, "m", &with("example", "test")));
        assert!(!matches(&attributes, "m", &BTreeMap::new()));
        assert!(matches(&policy(r#"{"x": [{"exists": false}]}"#, None), "m", &BTreeMap::new()));
    }
}

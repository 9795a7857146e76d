//! IAM identity-based policies: parsing policy documents and deciding
//! whether they allow, explicitly deny or implicitly deny one request.
//!
//! This owns the policy language as far as the sandbox enforces it and
//! Keywatch writes it (containing a role with an explicit-deny inline
//! policy, revoking its older sessions): `Effect`, `Action`/`NotAction`,
//! `Resource`/`NotResource` with `*` and `?` wildcards, and `Condition`
//! with the string, date, numeric, boolean, ARN and `Null` operators and
//! the `...IfExists` suffix. An operator it does not know (including the
//! `ForAllValues:`/`ForAnyValue:` set qualifiers) makes its statement not
//! match, so an unknown condition never widens what a statement covers.
//! Policy variables (`${aws:username}`) are compared as written.
//!
//! Sources:
//! - IAM JSON policy elements reference:
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html>
//! - Condition operators:
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>
//! - Policy evaluation logic:
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>
//! - Revoking IAM role temporary security credentials:
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html>

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// Why a policy document is not a valid identity-based policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("Syntax errors in policy.")]
    Syntax,
    #[error("The policy failed legacy parsing")]
    Version,
    #[error("Policy statement must contain actions.")]
    NoActions,
    #[error("Policy statement must contain resources.")]
    NoResources,
    #[error("Invalid effect: {0}")]
    Effect(String),
    #[error("Policy document should not specify a principal.")]
    Principal,
}

/// A statement's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// The outcome of evaluating identity-based policies for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A statement allows the request and none denies it.
    Allow,
    /// A statement denies the request: nothing else can allow it.
    Deny,
    /// No statement applies; IAM principals are denied by default.
    ImplicitDeny,
}

/// Patterns that either list what a statement covers (`Action`,
/// `Resource`) or what it covers everything except (`NotAction`,
/// `NotResource`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Patterns {
    Only(Vec<String>),
    AllExcept(Vec<String>),
}

/// One condition: `"<operator>": {"<key>": [values]}`, one key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Condition {
    operator: String,
    /// Lower-cased: condition key names are case-insensitive.
    key: String,
    values: Vec<String>,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    actions: Patterns,
    resources: Patterns,
    conditions: Vec<Condition>,
}

/// A parsed identity-based policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

/// The values of a request's condition keys (`aws:CurrentTime`,
/// `aws:TokenIssueTime`, ...), looked up case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    values: BTreeMap<String, Vec<String>>,
}

impl RequestContext {
    /// The context with `key` set to `value` (added to its values if set).
    pub fn with(mut self, key: &str, value: impl Into<String>) -> RequestContext {
        self.values.entry(key.to_ascii_lowercase()).or_default().push(value.into());
        self
    }

    fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(key).map(Vec::as_slice)
    }
}

/// One request as IAM authorizes it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `service:Action`, e.g. `kms:Decrypt`.
    pub action: &'a str,
    /// The resource's ARN, or `*` for actions on no resource.
    pub resource: &'a str,
    pub context: &'a RequestContext,
}

impl Policy {
    /// Parses a policy document's JSON text.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let json: Json = serde_json::from_str(text).map_err(|_| PolicyError::Syntax)?;
        Policy::from_json(&json)
    }

    /// Parses a policy document already read as JSON.
    pub fn from_json(json: &Json) -> Result<Policy, PolicyError> {
        let Json::Object(members) = json else { return Err(PolicyError::Syntax) };
        match members.get("Version") {
            None => {}
            Some(Json::String(version)) if version == "2012-10-17" || version == "2008-10-17" => {}
            Some(_) => return Err(PolicyError::Version),
        }
        let statements = match members.get("Statement") {
            Some(Json::Array(items)) => items.iter().map(Statement::from_json).collect::<Result<Vec<_>, _>>()?,
            Some(item @ Json::Object(_)) => vec![Statement::from_json(item)?],
            _ => return Err(PolicyError::Syntax),
        };
        Ok(Policy { statements })
    }
}

impl Statement {
    fn from_json(json: &Json) -> Result<Statement, PolicyError> {
        let Json::Object(members) = json else { return Err(PolicyError::Syntax) };
        if members.contains_key("Principal") || members.contains_key("NotPrincipal") {
            return Err(PolicyError::Principal);
        }
        let effect = match members.get("Effect") {
            Some(Json::String(effect)) if effect == "Allow" => Effect::Allow,
            Some(Json::String(effect)) if effect == "Deny" => Effect::Deny,
            Some(Json::String(other)) => return Err(PolicyError::Effect(other.clone())),
            _ => return Err(PolicyError::Syntax),
        };
        let actions = patterns(members.get("Action"), members.get("NotAction"))?.ok_or(PolicyError::NoActions)?;
        let resources =
            patterns(members.get("Resource"), members.get("NotResource"))?.ok_or(PolicyError::NoResources)?;
        let conditions = match members.get("Condition") {
            None => Vec::new(),
            Some(Json::Object(operators)) => {
                let mut conditions = Vec::new();
                for (operator, keys) in operators {
                    let Json::Object(keys) = keys else { return Err(PolicyError::Syntax) };
                    for (key, values) in keys {
                        conditions.push(Condition {
                            operator: operator.clone(),
                            key: key.to_ascii_lowercase(),
                            values: condition_values(values)?,
                        });
                    }
                }
                conditions
            }
            Some(_) => return Err(PolicyError::Syntax),
        };
        let sid = match members.get("Sid") {
            None => None,
            Some(Json::String(sid)) => Some(sid.clone()),
            Some(_) => return Err(PolicyError::Syntax),
        };
        Ok(Statement { sid, effect, actions, resources, conditions })
    }

    /// Whether the statement applies to `request`: its action, resource
    /// and every condition match.
    pub fn applies_to(&self, request: &Request<'_>) -> bool {
        let action = request.action.to_ascii_lowercase();
        // Action names and service prefixes are case-insensitive
        // (reference_policies_elements_action.html); ARNs are not.
        self.actions.cover(|pattern| glob(&pattern.to_ascii_lowercase(), &action))
            && self.resources.cover(|pattern| resource_matches(pattern, request.resource))
            // Every condition must hold: operators and keys are ANDed.
            && self.conditions.iter().all(|condition| condition.holds(request.context))
    }
}

impl Patterns {
    fn cover(&self, matches: impl Fn(&str) -> bool) -> bool {
        match self {
            Patterns::Only(patterns) => patterns.iter().any(|pattern| matches(pattern)),
            Patterns::AllExcept(patterns) => !patterns.iter().any(|pattern| matches(pattern)),
        }
    }
}

/// `Action` or `NotAction` (likewise for resources), a string or an array
/// of strings; `None` when neither is present. Both at once is an error.
fn patterns(only: Option<&Json>, except: Option<&Json>) -> Result<Option<Patterns>, PolicyError> {
    match (only, except) {
        (Some(_), Some(_)) => Err(PolicyError::Syntax),
        (Some(value), None) => Ok(Some(Patterns::Only(strings(value)?))),
        (None, Some(value)) => Ok(Some(Patterns::AllExcept(strings(value)?))),
        (None, None) => Ok(None),
    }
}

fn strings(value: &Json) -> Result<Vec<String>, PolicyError> {
    match value {
        Json::String(text) => Ok(vec![text.clone()]),
        Json::Array(items) => {
            items.iter().map(|item| item.as_str().map(str::to_owned).ok_or(PolicyError::Syntax)).collect()
        }
        _ => Err(PolicyError::Syntax),
    }
}

/// A condition's values: a scalar or an array of scalars; booleans and
/// numbers may be written bare (`"aws:SecureTransport": false`).
fn condition_values(value: &Json) -> Result<Vec<String>, PolicyError> {
    let scalar = |item: &Json| match item {
        Json::String(text) => Ok(text.clone()),
        Json::Bool(flag) => Ok(flag.to_string()),
        Json::Number(number) => Ok(number.to_string()),
        _ => Err(PolicyError::Syntax),
    };
    match value {
        Json::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

/// How one operator compares a context value with a policy value.
#[derive(Debug, Clone, Copy)]
enum Comparison {
    String { ignore_case: bool, like: bool },
    Numeric(fn(f64, f64) -> bool),
    Date(fn(i64, i64) -> bool),
    Bool,
    Arn,
}

/// `(comparison, negated)` for an operator name without `IfExists`;
/// `None` for one this module does not know.
fn comparison(operator: &str) -> Option<(Comparison, bool)> {
    use Comparison::*;
    Some(match operator {
        "StringEquals" => (String { ignore_case: false, like: false }, false),
        "StringNotEquals" => (String { ignore_case: false, like: false }, true),
        "StringEqualsIgnoreCase" => (String { ignore_case: true, like: false }, false),
        "StringNotEqualsIgnoreCase" => (String { ignore_case: true, like: false }, true),
        "StringLike" => (String { ignore_case: false, like: true }, false),
        "StringNotLike" => (String { ignore_case: false, like: true }, true),
        "NumericEquals" => (Numeric(|a, b| a == b), false),
        "NumericNotEquals" => (Numeric(|a, b| a == b), true),
        "NumericLessThan" => (Numeric(|a, b| a < b), false),
        "NumericLessThanEquals" => (Numeric(|a, b| a <= b), false),
        "NumericGreaterThan" => (Numeric(|a, b| a > b), false),
        "NumericGreaterThanEquals" => (Numeric(|a, b| a >= b), false),
        "DateEquals" => (Date(|a, b| a == b), false),
        "DateNotEquals" => (Date(|a, b| a == b), true),
        "DateLessThan" => (Date(|a, b| a < b), false),
        "DateLessThanEquals" => (Date(|a, b| a <= b), false),
        "DateGreaterThan" => (Date(|a, b| a > b), false),
        "DateGreaterThanEquals" => (Date(|a, b| a >= b), false),
        "Bool" => (Bool, false),
        // ArnEquals and ArnLike behave alike: both match segment by
        // segment and both accept wildcards.
        "ArnEquals" | "ArnLike" => (Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Arn, true),
        _ => return None,
    })
}

impl Comparison {
    /// Whether the request's `actual` value matches the policy's `expected` one.
    fn matches(self, actual: &str, expected: &str) -> bool {
        match self {
            Comparison::String { ignore_case: true, .. } => actual.eq_ignore_ascii_case(expected),
            Comparison::String { like: true, .. } => glob(expected, actual),
            Comparison::String { .. } => actual == expected,
            Comparison::Numeric(compare) => match (actual.parse::<f64>(), expected.parse::<f64>()) {
                (Ok(a), Ok(b)) => compare(a, b),
                _ => false,
            },
            Comparison::Date(compare) => match (parse_date(actual), parse_date(expected)) {
                (Some(a), Some(b)) => compare(a, b),
                _ => false,
            },
            Comparison::Bool => actual.eq_ignore_ascii_case(expected),
            Comparison::Arn => arn_matches(expected, actual),
        }
    }
}

impl Condition {
    fn holds(&self, context: &RequestContext) -> bool {
        let actual = context.get(&self.key);
        if self.operator == "Null" {
            // "true": the key must be absent; "false": present.
            let absent = actual.is_none_or(<[String]>::is_empty);
            return self.values.iter().any(|value| value.eq_ignore_ascii_case("true") == absent);
        }
        let (name, if_exists) = match self.operator.strip_suffix("IfExists") {
            Some(name) => (name, true),
            None => (self.operator.as_str(), false),
        };
        let Some((comparison, negated)) = comparison(name) else {
            return false;
        };
        let Some(actual) = actual.filter(|values| !values.is_empty()) else {
            // A missing key fails a positive test and passes a negated
            // one; ...IfExists passes either way.
            return if_exists || negated;
        };
        // The values listed for one key are ORed.
        let any = actual.iter().any(|value| self.values.iter().any(|expected| comparison.matches(value, expected)));
        any != negated
    }
}

/// Evaluates identity-based `policies` for `request`: an explicit deny in
/// any statement wins, else any allow allows, else the request is denied
/// implicitly (reference_policies_evaluation-logic.html).
pub fn evaluate<'p>(policies: impl IntoIterator<Item = &'p Policy>, request: &Request<'_>) -> Decision {
    let mut decision = Decision::ImplicitDeny;
    for statement in policies.into_iter().flat_map(|policy| &policy.statements) {
        if statement.applies_to(request) {
            match statement.effect {
                Effect::Deny => return Decision::Deny,
                Effect::Allow => decision = Decision::Allow,
            }
        }
    }
    decision
}

/// `*` matches any run of characters (also none), `?` exactly one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // Where the last `*` was and how much text it has taken so far.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// A `Resource` pattern: `*` alone covers every resource; otherwise an
/// ARN matched segment by segment.
fn resource_matches(pattern: &str, resource: &str) -> bool {
    pattern == "*" || arn_matches(pattern, resource)
}

/// Matches an ARN against a pattern one colon-separated segment at a
/// time, each with wildcards, case-sensitively (ArnLike's rule); the
/// resource segment keeps its own colons.
fn arn_matches(pattern: &str, arn: &str) -> bool {
    let patterns: Vec<&str> = pattern.splitn(6, ':').collect();
    let segments: Vec<&str> = arn.splitn(6, ':').collect();
    if patterns.len() != 6 || segments.len() != 6 {
        // Not ARNs (`*` as a resource): compared whole.
        return glob(pattern, arn);
    }
    patterns.iter().zip(&segments).all(|(pattern, segment)| glob(pattern, segment))
}

/// A date as the date condition operators read it: ISO 8601
/// (`2024-05-01`, `2024-05-01T12:00:00Z`, with fractions of a second or
/// an offset) or epoch seconds; milliseconds since the epoch.
pub fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok()?.checked_mul(1000);
    }
    let number = |s: &str| -> Option<i64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (date, time) = match text.split_once(['T', 't']) {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let (year, month, day) = (number(parts.next()?)?, number(parts.next()?)?, number(parts.next()?)?);
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let Some(time) = time else { return Some(days * 86_400_000) };
    // The offset: `Z`, `+hh:mm`, `-hhmm`, or none (UTC).
    let (clock, offset_minutes) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else if let Some(at) = time.rfind(['+', '-']) {
        let (clock, offset) = time.split_at(at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 {
            return None;
        }
        (clock, sign * (number(&digits[..2])? * 60 + number(&digits[2..])?))
    } else {
        (time, 0)
    };
    let (clock, millis) = match clock.split_once('.') {
        Some((clock, fraction)) => {
            let digits: String = fraction.chars().chain("000".chars()).take(3).collect();
            (clock, number(&digits)?)
        }
        None => (clock, 0),
    };
    let mut fields = clock.split(':');
    let hour = number(fields.next()?)?;
    let minute = number(fields.next()?)?;
    let second = match fields.next() {
        Some(second) => number(second)?,
        None => 0,
    };
    if fields.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "arn:aws:kms:ap-southeast-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn decide(documents: &[&str], action: &str, resource: &str, context: &RequestContext) -> Decision {
        let policies: Vec<Policy> = documents.iter().map(|text| Policy::parse(text).expect("a policy")).collect();
        evaluate(&policies, &Request { action, resource, context })
    }

    fn kms(documents: &[&str], action: &str) -> Decision {
        decide(documents, action, KEY, &RequestContext::default())
    }

    // reference_policies_elements_statement.html: Statement is one object
    // or an array of them; reference_policies_elements_version.html: the
    // two versions that exist.
    #[test]
    fn statement_is_an_object_or_an_array() {
        let one = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}}"#;
        let many =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt"],"Resource":["*"]}]}"#;
        assert_eq!(Policy::parse(one), Policy::parse(many));
        assert_eq!(Policy::parse(one).expect("parses").statements.len(), 1);
        assert_eq!(Policy::parse(r#"{"Version":"2099-01-01","Statement":[]}"#), Err(PolicyError::Version));
        assert_eq!(Policy::parse(r#"{"Version":"2012-10-17"}"#), Err(PolicyError::Syntax));
        assert_eq!(Policy::parse("{"), Err(PolicyError::Syntax));
    }

    // reference_policies_elements_effect.html (Allow or Deny),
    // reference_policies_elements_action.html and _resource.html (each
    // statement names actions and, in an identity-based policy, resources),
    // reference_policies_elements_principal.html (identity-based policies
    // name no Principal).
    #[test]
    fn malformed_statements_are_refused() {
        let statement = |body: &str| Policy::parse(&format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#));
        assert_eq!(
            statement(r#"{"Effect":"Permit","Action":"*","Resource":"*"}"#),
            Err(PolicyError::Effect("Permit".into()))
        );
        assert_eq!(statement(r#"{"Effect":"Deny","Resource":"*"}"#), Err(PolicyError::NoActions));
        assert_eq!(statement(r#"{"Effect":"Deny","Action":"*"}"#), Err(PolicyError::NoResources));
        assert_eq!(
            statement(r#"{"Effect":"Deny","Action":"*","NotAction":"kms:*","Resource":"*"}"#),
            Err(PolicyError::Syntax)
        );
        assert_eq!(
            statement(r#"{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}"#),
            Err(PolicyError::Principal)
        );
    }

    // reference_policies_evaluation-logic.html: "an explicit deny in any of
    // these policies overrides the allow"; with no applicable statement the
    // request is implicitly denied.
    #[test]
    fn an_explicit_deny_overrides_any_allow() {
        let allow = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#;
        let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}}"#;
        assert_eq!(kms(&[allow], "kms:Decrypt"), Decision::Allow);
        assert_eq!(kms(&[allow, deny], "kms:Decrypt"), Decision::Deny);
        assert_eq!(kms(&[deny, allow], "kms:Decrypt"), Decision::Deny);
        assert_eq!(kms(&[allow, deny], "kms:Encrypt"), Decision::Allow);
        assert_eq!(kms(&[deny], "kms:Encrypt"), Decision::ImplicitDeny);
        assert_eq!(kms(&[], "kms:Encrypt"), Decision::ImplicitDeny);
    }

    // reference_policies_elements_action.html: "prefixes and action names
    // are case insensitive"; `*` and `?` wildcards.
    #[test]
    fn actions_match_case_insensitively_with_wildcards() {
        let deny = |action: &str| {
            format!(r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":"{action}","Resource":"*"}}}}"#)
        };
        assert_eq!(kms(&[&deny("KMS:decrypt")], "kms:Decrypt"), Decision::Deny);
        assert_eq!(kms(&[&deny("kms:Re*")], "kms:ReEncryptFrom"), Decision::Deny);
        assert_eq!(kms(&[&deny("kms:GenerateDataKey*")], "kms:GenerateDataKeyWithoutPlaintext"), Decision::Deny);
        assert_eq!(kms(&[&deny("kms:?ncrypt")], "kms:Encrypt"), Decision::Deny);
        assert_eq!(kms(&[&deny("kms:?ncrypt")], "kms:ReEncrypt"), Decision::ImplicitDeny);
        assert_eq!(kms(&[&deny("*")], "kms:ListKeys"), Decision::Deny);
        assert_eq!(kms(&[&deny("s3:*")], "kms:Decrypt"), Decision::ImplicitDeny);
    }

    // reference_policies_elements_notaction.html and _notresource.html:
    // the statement covers everything except what is listed.
    #[test]
    fn not_action_and_not_resource_cover_everything_else() {
        let not_action = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["kms:Encrypt","kms:Describe*"],"Resource":"*"}}"#;
        assert_eq!(kms(&[not_action], "kms:Decrypt"), Decision::Deny);
        assert_eq!(kms(&[not_action], "kms:Encrypt"), Decision::ImplicitDeny);
        assert_eq!(kms(&[not_action], "kms:DescribeKey"), Decision::ImplicitDeny);
        let not_resource = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":"kms:*","NotResource":"{KEY}"}}}}"#
        );
        assert_eq!(kms(&[&not_resource], "kms:Decrypt"), Decision::ImplicitDeny);
        let other = "arn:aws:kms:ap-southeast-2:111122223333:key/other";
        assert_eq!(decide(&[&not_resource], "kms:Decrypt", other, &RequestContext::default()), Decision::Deny);
    }

    // reference_policies_elements_resource.html: wildcards within ARN
    // segments; ARNs are case-sensitive.
    #[test]
    fn resources_match_arns_with_wildcards() {
        let deny = |resource: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":"kms:*","Resource":"{resource}"}}}}"#
            )
        };
        assert_eq!(kms(&[&deny(KEY)], "kms:Decrypt"), Decision::Deny);
        assert_eq!(kms(&[&deny("arn:aws:kms:*:111122223333:key/*")], "kms:Decrypt"), Decision::Deny);
        assert_eq!(kms(&[&deny("arn:aws:kms:*:444455556666:key/*")], "kms:Decrypt"), Decision::ImplicitDeny);
        assert_eq!(kms(&[&deny(&KEY.to_uppercase())], "kms:Decrypt"), Decision::ImplicitDeny);
        assert_eq!(
            kms(&[&deny("arn:aws:kms:ap-southeast-2:111122223333:alias/*")], "kms:Decrypt"),
            Decision::ImplicitDeny
        );
        assert_eq!(decide(&[&deny(KEY)], "kms:CreateKey", "*", &RequestContext::default()), Decision::ImplicitDeny);
        assert_eq!(decide(&[&deny("*")], "kms:CreateKey", "*", &RequestContext::default()), Decision::Deny);
    }

    // id_roles_use_revoke-sessions.html: the policy the console attaches
    // as AWSRevokeOlderSessions denies every action to sessions whose
    // credentials were issued before the revocation time.
    #[test]
    fn revoke_older_sessions_denies_only_sessions_issued_before() {
        let revoke = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],
            "Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-12-07T23:00:00Z"}}}]}"#;
        let issued = |time: &str| RequestContext::default().with("aws:TokenIssueTime", time);
        let older = issued("2026-12-07T22:59:59.999Z");
        let newer = issued("2026-12-07T23:00:00Z");
        assert_eq!(decide(&[revoke], "kms:Decrypt", KEY, &older), Decision::Deny);
        assert_eq!(decide(&[revoke], "kms:Decrypt", KEY, &newer), Decision::ImplicitDeny);
        // An IAM user's request has no aws:TokenIssueTime: the condition is false.
        assert_eq!(decide(&[revoke], "kms:Decrypt", KEY, &RequestContext::default()), Decision::ImplicitDeny);
    }

    // reference_policies_elements_condition_operators.html (Date condition
    // operators) and reference_policies_condition-keys.html (aws:CurrentTime).
    #[test]
    fn date_operators_compare_times() {
        let policy = |operator: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":"*","Resource":"*",
                "Condition":{{"{operator}":{{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}}}}}}}"#
            )
        };
        let at = |time: &str| RequestContext::default().with("aws:CurrentTime", time);
        let cases = [
            ("DateLessThan", "2025-12-31T23:59:59Z", Decision::Deny),
            ("DateLessThan", "2026-01-01T00:00:00Z", Decision::ImplicitDeny),
            ("DateLessThanEquals", "2026-01-01T00:00:00Z", Decision::Deny),
            ("DateGreaterThan", "2026-01-01T00:00:01Z", Decision::Deny),
            ("DateGreaterThan", "2026-01-01T00:00:00Z", Decision::ImplicitDeny),
            ("DateGreaterThanEquals", "2026-01-01T00:00:00Z", Decision::Deny),
            ("DateGreaterThanEquals", "2025-12-31T23:59:59Z", Decision::ImplicitDeny),
            // Another offset, the same instant.
            ("DateLessThanEquals", "2026-01-01T10:00:00+10:00", Decision::Deny),
        ];
        for (operator, time, expected) in cases {
            assert_eq!(decide(&[&policy(operator)], "kms:Decrypt", KEY, &at(time)), expected, "{operator} {time}");
        }
    }

    // reference_policies_elements_condition_operators.html#Conditions_Date:
    // dates in ISO 8601 forms or epoch (UNIX) time.
    #[test]
    fn dates_are_iso_8601_or_epoch_seconds() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("2026-12-07T23:00:00Z"), Some(1_796_684_400_000));
        assert_eq!(parse_date("2026-12-07T23:00:00.250Z"), Some(1_796_684_400_250));
        assert_eq!(parse_date("2026-12-08T09:00:00+10:00"), Some(1_796_684_400_000));
        assert_eq!(parse_date("2026-12-07"), Some(1_796_601_600_000));
        assert_eq!(parse_date("1796684400"), Some(1_796_684_400_000));
        assert_eq!(parse_date("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    // reference_policies_elements_condition_operators.html: string, ARN
    // and Bool operators; a missing key fails a positive test and passes a
    // negated one; ...IfExists passes when the key is missing.
    #[test]
    fn string_arn_and_bool_conditions() {
        let policy = |condition: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{condition}}}}}"#
            )
        };
        let role = "arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole";
        let context = RequestContext::default()
            .with("aws:PrincipalArn", role)
            .with("aws:RequestedRegion", "ap-southeast-2")
            .with("aws:SecureTransport", "true");
        let cases = [
            (r#"{"StringEquals":{"aws:RequestedRegion":["us-east-1","ap-southeast-2"]}}"#, Decision::Deny),
            (r#"{"StringEquals":{"aws:RequestedRegion":"AP-SOUTHEAST-2"}}"#, Decision::ImplicitDeny),
            (r#"{"StringEqualsIgnoreCase":{"aws:RequestedRegion":"AP-SOUTHEAST-2"}}"#, Decision::Deny),
            (r#"{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}"#, Decision::Deny),
            (r#"{"StringNotEquals":{"aws:RequestedRegion":"ap-southeast-2"}}"#, Decision::ImplicitDeny),
            (r#"{"StringLike":{"aws:RequestedRegion":"ap-*"}}"#, Decision::Deny),
            (r#"{"StringLike":{"aws:requestedregion":"ap-*"}}"#, Decision::Deny),
            (r#"{"StringNotLike":{"aws:RequestedRegion":"ap-*"}}"#, Decision::ImplicitDeny),
            (r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/pattern1-*"}}"#, Decision::Deny),
            (r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/other"}}"#, Decision::ImplicitDeny),
            (r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/other*"}}"#, Decision::Deny),
            (r#"{"Bool":{"aws:SecureTransport":false}}"#, Decision::ImplicitDeny),
            (r#"{"Bool":{"aws:SecureTransport":"true"}}"#, Decision::Deny),
            // Missing keys.
            (r#"{"StringEquals":{"aws:SourceVpc":"vpc-1"}}"#, Decision::ImplicitDeny),
            (r#"{"StringNotEquals":{"aws:SourceVpc":"vpc-1"}}"#, Decision::Deny),
            (r#"{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"}}"#, Decision::Deny),
            (r#"{"Null":{"aws:SourceVpc":"true"}}"#, Decision::Deny),
            (r#"{"Null":{"aws:RequestedRegion":"true"}}"#, Decision::ImplicitDeny),
            // Every condition must hold.
            (
                r#"{"StringEquals":{"aws:RequestedRegion":"ap-southeast-2"},"Bool":{"aws:SecureTransport":"false"}}"#,
                Decision::ImplicitDeny,
            ),
        ];
        for (condition, expected) in cases {
            assert_eq!(decide(&[&policy(condition)], "kms:Decrypt", KEY, &context), expected, "{condition}");
        }
    }

    // reference_policies_elements_condition_operators.html lists the
    // operators; one this evaluator does not know makes its statement not
    // match rather than guess (so it can never deny or allow more).
    #[test]
    fn an_unknown_operator_makes_its_statement_not_match() {
        let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
            "Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}"#;
        let context = RequestContext::default().with("aws:SourceIp", "203.0.113.7");
        assert_eq!(decide(&[policy], "kms:Decrypt", KEY, &context), Decision::ImplicitDeny);
        let qualified = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
            "Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"x"}}}}"#;
        assert_eq!(decide(&[qualified], "kms:Decrypt", KEY, &context), Decision::ImplicitDeny);
    }

    #[test]
    fn globs_match_runs_and_single_characters() {
        assert!(glob("*", ""));
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("key/*", "key/1234"));
    }
}

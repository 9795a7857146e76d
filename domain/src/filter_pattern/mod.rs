//! The Amazon CloudWatch Logs filter-pattern language: parsing a pattern
//! once, matching log event messages against it, and extracting the values
//! a metric filter publishes (`metricValue`, dimensions).
//!
//! One implementation serves the sandbox (PutMetricFilter, TestMetricFilter,
//! FilterLogEvents) and the console's pattern tester, so both agree with
//! each other and, as far as the documentation says, with AWS.
//!
//! Source: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html>
//! A pattern's first character picks its flavour:
//! - `{` — a JSON pattern (`json.rs`); it must end with `}`;
//! - `[` — a space-delimited pattern (`space_delimited.rs`); it must end with `]`;
//! - `%` — a standalone regex (`%AUTHORIZED%`, `regex.rs`);
//! - anything else — unstructured terms (`terms.rs`); the empty pattern
//!   matches every event.
//!
//! The flavour is chosen on the pattern as written, without trimming: a
//! recorded TestMetricFilter run shows AWS refusing `' {$.ThisFlag IS TRUE} '`
//! (it reads as an unquoted term holding `{`).
//!
//! Pure code: no I/O, clocks or threads (it runs in the browser too), and
//! no input — pattern or event — can make it panic.

mod condition;
mod error;
mod json;
mod json_event;
mod lexer;
mod metric;
mod regex;
mod space_delimited;
mod terms;
pub mod tester;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use error::{FilterPatternError, MAX_METRIC_VALUE_LENGTH, MAX_PATTERN_LENGTH, MetricValueError};
pub use json::JsonSelector;
pub use metric::{FieldRef, MetricValue};

use json::JsonPattern;
use json_event::Json;
use regex::PatternRegex;
use space_delimited::DelimitedPattern;
use terms::TermsPattern;

/// Which flavour of the language a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PatternKind {
    /// The empty pattern (or `" "`): every event matches.
    MatchAll,
    /// Unstructured terms and phrases.
    Terms,
    /// A standalone `%regex%`.
    Regex,
    /// A `{ ... }` pattern over JSON events.
    Json,
    /// A `[ ... ]` pattern over space-delimited events.
    SpaceDelimited,
}

#[derive(Debug, Clone)]
enum Compiled {
    MatchAll,
    Terms(TermsPattern),
    Regex(PatternRegex),
    Json(JsonPattern),
    Delimited(DelimitedPattern),
}

/// A parsed, validated filter pattern, ready to match events.
///
/// Serializes as the pattern text; deserializing parses (and validates) it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FilterPattern {
    source: String,
    compiled: Compiled,
}

impl PartialEq for FilterPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for FilterPattern {}

impl FilterPattern {
    /// Parses and validates `pattern`, refusing what AWS refuses with AWS's
    /// message.
    pub fn parse(pattern: &str) -> Result<Self, FilterPatternError> {
        if pattern.chars().count() > MAX_PATTERN_LENGTH {
            return Err(FilterPatternError::TooLong { value: pattern.to_owned() });
        }
        let compiled = if let Some(inner) = pattern.strip_prefix('{') {
            let inner = inner.strip_suffix('}').ok_or(FilterPatternError::UnterminatedJson)?;
            Compiled::Json(JsonPattern::parse(inner)?)
        } else if let Some(inner) = pattern.strip_prefix('[') {
            let inner = inner.strip_suffix(']').ok_or_else(|| {
                FilterPatternError::invalid("a pattern that starts with '[' is space-delimited and must end with ']'")
            })?;
            Compiled::Delimited(DelimitedPattern::parse(inner)?)
        } else if let Some(inner) = pattern.strip_prefix('%') {
            let body = inner.strip_suffix('%').ok_or_else(|| {
                FilterPatternError::invalid(
                    "a pattern that starts with '%' is a regular expression and must end with '%'",
                )
            })?;
            Compiled::Regex(PatternRegex::compile(body)?)
        } else {
            match TermsPattern::parse(pattern)? {
                Some(terms) => Compiled::Terms(terms),
                None => Compiled::MatchAll,
            }
        };
        Ok(FilterPattern { source: pattern.to_owned(), compiled })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The pattern's flavour.
    pub fn kind(&self) -> PatternKind {
        match self.compiled {
            Compiled::MatchAll => PatternKind::MatchAll,
            Compiled::Terms(_) => PatternKind::Terms,
            Compiled::Regex(_) => PatternKind::Regex,
            Compiled::Json(_) => PatternKind::Json,
            Compiled::Delimited(_) => PatternKind::SpaceDelimited,
        }
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        self.match_event(message).is_some()
    }

    /// Matches `message`; the [`Match`] resolves the values a metric filter
    /// publishes. A JSON pattern parses the event once, here.
    pub fn match_event<'m>(&self, message: &'m str) -> Option<Match<'m>> {
        let data = match &self.compiled {
            Compiled::MatchAll => MatchData::Plain,
            Compiled::Terms(terms) => terms.matches(message).then_some(MatchData::Plain)?,
            Compiled::Regex(regex) => regex.is_match(message).then_some(MatchData::Plain)?,
            Compiled::Json(pattern) => {
                // Cheap refusal of the common non-JSON line before parsing.
                if !message.trim_start().starts_with(['{', '[']) || pattern.cannot_match(message) {
                    return None;
                }
                let root = json_event::parse(message)?;
                pattern.eval(&root).then_some(MatchData::Json(root))?
            }
            Compiled::Delimited(pattern) => MatchData::Delimited(pattern.match_event(message)?),
        };
        Some(Match { data })
    }

    /// Whether metric transformations on this pattern may use dimensions
    /// (only JSON and space-delimited patterns extract fields).
    pub fn supports_dimensions(&self) -> bool {
        matches!(self.compiled, Compiled::Json(_) | Compiled::Delimited(_))
    }

    /// Checks that `field` can be read from events this pattern matches:
    /// `$.x` needs a JSON pattern, `$name` a space-delimited one naming it
    /// (or `$N`, a position).
    pub fn check_field(&self, field: &FieldRef) -> Result<(), MetricValueError> {
        match (&self.compiled, field) {
            (Compiled::Json(_), FieldRef::Json(_)) => Ok(()),
            (Compiled::Delimited(p), FieldRef::Delimited(name)) if p.knows_field(name) => Ok(()),
            (Compiled::Json(_) | Compiled::Delimited(_), other) => {
                Err(MetricValueError::UnknownField { value: other.to_string() })
            }
            _ => Err(MetricValueError::DimensionsNotSupported),
        }
    }

    /// Checks a metric value against the pattern (constants always fit).
    pub fn check_metric_value(&self, value: &MetricValue) -> Result<(), MetricValueError> {
        match value {
            MetricValue::Number(_) => Ok(()),
            MetricValue::Field(field) => self.check_field(field),
        }
    }
}

impl TryFrom<String> for FilterPattern {
    type Error = FilterPatternError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        FilterPattern::parse(&value)
    }
}

impl From<FilterPattern> for String {
    fn from(value: FilterPattern) -> Self {
        value.source
    }
}

impl std::fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

#[derive(Debug, Clone)]
enum MatchData<'m> {
    Plain,
    Json(Json<'m>),
    Delimited(space_delimited::Extracted<'m>),
}

/// An event that matched, holding what is needed to read its fields.
#[derive(Debug, Clone)]
pub struct Match<'m> {
    data: MatchData<'m>,
}

impl Match<'_> {
    /// The value `field` names in the event, as text: JSON strings as is,
    /// numbers as written, booleans as `true`/`false`. `None` when the field
    /// is missing, null, an object or an array, or the pattern extracts no
    /// fields.
    pub fn field_value(&self, field: &FieldRef) -> Option<String> {
        match (&self.data, field) {
            (MatchData::Json(root), FieldRef::Json(selector)) => match selector.first(root)? {
                Json::String(s) => Some(s.to_string()),
                Json::Number(n) => Some((*n).to_owned()),
                Json::Bool(b) => Some(b.to_string()),
                Json::Null | Json::Array(_) | Json::Object(_) => None,
            },
            (MatchData::Delimited(values), FieldRef::Delimited(name)) => values
                .iter()
                .find(|(key, _)| key.strip_prefix('$') == Some(name.as_str()))
                .map(|(_, v)| (*v).to_owned()),
            _ => None,
        }
    }

    /// The number this event publishes for `value`: the constant, or the
    /// field read as a number. `None` when the field is missing or not a
    /// number (the event then publishes nothing).
    pub fn metric_value(&self, value: &MetricValue) -> Option<f64> {
        match value {
            MetricValue::Number(n) => Some(*n),
            MetricValue::Field(field) => {
                let text = self.field_value(field)?;
                lexer::parse_number(&text).filter(|n| n.is_finite())
            }
        }
    }

    /// What TestMetricFilter reports as `extractedValues`: the `$name` and
    /// `$N` fields of a space-delimited match, empty for other patterns
    /// ("If you are not using a space-delimited filter, this will be empty").
    pub fn extracted_values(&self) -> Vec<(String, String)> {
        match &self.data {
            MatchData::Delimited(values) => values.iter().map(|(k, v)| (k.clone(), (*v).to_owned())).collect(),
            _ => Vec::new(),
        }
    }
}

//! Metric transformation values: what a metric filter publishes when its
//! pattern matches (`metricValue`: `1`, a number, `$.latency`, `$bytes`) and
//! the field references dimensions use.
//!
//! Sources:
//! - the older FilterAndPatternSyntax revision (awsdocs
//!   doc_source/FilterAndPatternSyntax.md, "Publishing Numerical Values
//!   Found in Log Entries": `{ $.latency = * }` with metric value
//!   `$.latency`; space-delimited fields extract as `$name`, `$N`);
//! - <https://docs.aws.amazon.com/cdk/api/latest/python/aws_cdk.aws_logs/MetricFilterProps.html>
//!   (metric value: "a literal number (typically 1), or ... '$.fieldName'
//!   ... '$fieldName'");
//! - API reference, MetricTransformation: `metricValue` is at most 100
//!   characters; up to three dimensions, each a field of the event.
//!
//! Keywatch's choices where the pages are silent: a metric value selector may
//! not use a wildcard (which element would it publish?); a number in a
//! string field (`"latency": "12"`) is published as that number; a field that
//! is missing or not numeric yields no value (the event publishes nothing).

use std::fmt;

use super::error::{MAX_METRIC_VALUE_LENGTH, MetricValueError};
use super::json::JsonSelector;
use super::lexer::parse_number;

/// A reference to a value in a matched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldRef {
    /// `$.selector`, for JSON patterns.
    Json(JsonSelector),
    /// `$name` (a named field) or `$N` (the N-th field, from 1), for
    /// space-delimited patterns.
    Delimited(String),
}

impl FieldRef {
    /// Parses `$.selector`, `$name` or `$N`.
    pub fn parse(text: &str) -> Result<Self, MetricValueError> {
        let invalid = |reason: &str| MetricValueError::Invalid { value: text.to_owned(), reason: reason.to_owned() };
        if text.starts_with("$.") || text.starts_with("$[") {
            let selector = JsonSelector::parse_str(text).map_err(|e| invalid(&e.reason()))?;
            if selector.wildcards() > 0 {
                return Err(invalid("a metric value or dimension cannot use a wildcard selector"));
            }
            return Ok(FieldRef::Json(selector));
        }
        match text.strip_prefix('$') {
            Some(name) if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {
                Ok(FieldRef::Delimited(name.to_owned()))
            }
            _ => Err(invalid("expected $.property for JSON patterns or $field for space-delimited patterns")),
        }
    }
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldRef::Json(selector) => selector.fmt(f),
            FieldRef::Delimited(name) => write!(f, "${name}"),
        }
    }
}

/// A metric transformation's `metricValue`.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// A constant, such as the lab's `1`.
    Number(f64),
    /// A value taken from the matched event.
    Field(FieldRef),
}

impl MetricValue {
    /// Parses a `metricValue` as PutMetricFilter receives it.
    pub fn parse(text: &str) -> Result<Self, MetricValueError> {
        if text.chars().count() > MAX_METRIC_VALUE_LENGTH {
            return Err(MetricValueError::Invalid {
                value: text.to_owned(),
                reason: format!("it is longer than {MAX_METRIC_VALUE_LENGTH} characters"),
            });
        }
        if text.starts_with('$') {
            return FieldRef::parse(text).map(MetricValue::Field);
        }
        match parse_number(text) {
            Some(n) if n.is_finite() => Ok(MetricValue::Number(n)),
            _ => Err(MetricValueError::Invalid {
                value: text.to_owned(),
                reason: "expected a number, $.property or $field".to_owned(),
            }),
        }
    }
}

impl fmt::Display for MetricValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricValue::Number(n) => write!(f, "{n}"),
            MetricValue::Field(field) => field.fmt(f),
        }
    }
}

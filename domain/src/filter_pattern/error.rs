//! Why a filter pattern or a metric transformation field is refused.
//!
//! `Display` gives the text AWS puts in its `InvalidParameterException` (so
//! the sandbox can answer with it verbatim); `reason()` gives Keywatch's own
//! explanation for the console, which AWS does not offer.
//!
//! Where the texts come from:
//! - "Invalid metric filter pattern": PutMetricFilter and TestMetricFilter
//!   (aws/aws-cdk#16278; recorded TestMetricFilter runs in public test suites).
//! - "Invalid character(s) in term '...'": PutSubscriptionFilter and
//!   FilterLogEvents (dougmoscrop/serverless-plugin-log-subscription#47,
//!   apex/up#724, ministryofjustice/modernisation-platform-environments#5137).
//! - "If a filter pattern starts with '{' it must end with '}'":
//!   FilterLogEvents (jorgebastida/awslogs#210).
//! - The length message is the standard AWS validation error for the
//!   documented `filterPattern` constraint (maximum length 1024).
//! - "The specified filter pattern does not support dimensions":
//!   PutMetricFilter (hashicorp/terraform-provider-aws#28881).
//!
//! FilterLogEvents says "Invalid filter pattern" where PutMetricFilter says
//! "Invalid metric filter pattern"; [`FilterPatternError::filter_log_events_message`]
//! gives that variant.

use thiserror::Error;

/// The longest `filterPattern` PutMetricFilter, PutSubscriptionFilter and
/// TestMetricFilter accept (API reference: "Maximum length of 1024").
pub const MAX_PATTERN_LENGTH: usize = 1024;

/// The longest `metricValue` a metric transformation accepts (API reference,
/// MetricTransformation: "Maximum length of 100").
pub const MAX_METRIC_VALUE_LENGTH: usize = 100;

/// A filter pattern AWS would refuse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterPatternError {
    /// Longer than [`MAX_PATTERN_LENGTH`] characters.
    #[error(
        "1 validation error detected: Value '{value}' at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024"
    )]
    TooLong {
        /// The refused pattern.
        value: String,
    },
    /// Starts with `{` (a JSON pattern) but does not end with `}`.
    #[error("If a filter pattern starts with '{{' it must end with '}}'")]
    UnterminatedJson,
    /// A term holds characters that must be quoted, or a comparison value
    /// of the wrong kind (AWS quotes the offending term).
    #[error("Invalid character(s) in term '{term}'")]
    InvalidCharacters {
        /// The offending term, as written in the pattern.
        term: String,
    },
    /// Any other syntax error; `reason` says which.
    #[error("Invalid metric filter pattern")]
    Invalid {
        /// Keywatch's explanation (AWS gives none).
        reason: String,
    },
}

impl FilterPatternError {
    /// An [`FilterPatternError::Invalid`] with the given explanation.
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        FilterPatternError::Invalid { reason: reason.into() }
    }

    /// A human explanation of what is wrong, for the console's tester.
    pub fn reason(&self) -> String {
        match self {
            FilterPatternError::TooLong { value } => format!(
                "the pattern has {} characters; AWS accepts at most {MAX_PATTERN_LENGTH}",
                value.chars().count()
            ),
            FilterPatternError::UnterminatedJson => {
                "a pattern that starts with '{' is a JSON pattern and must end with '}'".to_owned()
            }
            FilterPatternError::InvalidCharacters { term } => format!(
                "'{term}' contains characters that are only allowed inside double quotes, or a value of the wrong kind for its operator"
            ),
            FilterPatternError::Invalid { reason } => reason.clone(),
        }
    }

    /// The message FilterLogEvents returns for the same mistake (it says
    /// "Invalid filter pattern" where the metric-filter APIs say "Invalid
    /// metric filter pattern").
    pub fn filter_log_events_message(&self) -> String {
        match self {
            FilterPatternError::Invalid { .. } => "Invalid filter pattern".to_owned(),
            other => other.to_string(),
        }
    }
}

/// A metric transformation's `metricValue` or dimension value that cannot be
/// used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MetricValueError {
    /// Neither a number nor a `$.selector` / `$field` reference. AWS's exact
    /// wording for this case is not documented; this text is Keywatch's.
    #[error("Invalid metric value '{value}': {reason}")]
    Invalid {
        /// The refused value.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A field reference on a pattern that extracts no fields (unstructured
    /// terms or a standalone regex). Verbatim AWS text.
    #[error("The specified filter pattern does not support dimensions")]
    DimensionsNotSupported,
    /// A `$.selector` on a space-delimited pattern, a `$field` on a JSON
    /// pattern, or a `$field` the space-delimited pattern does not name.
    /// Keywatch's wording.
    #[error("Invalid metric value '{value}': the filter pattern has no such field")]
    UnknownField {
        /// The refused reference.
        value: String,
    },
}

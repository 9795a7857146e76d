//! The console's pattern tester: a filter pattern, a metric value and some
//! log events in; which events match, the value each would publish and the
//! fields a space-delimited pattern extracts, out — what TestMetricFilter
//! reports, computed by the same implementation the sandbox's metric filters
//! run. Invalid patterns and metric values come back with AWS's message.
//! <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TestMetricFilter.html>

use serde::{Deserialize, Serialize};

use super::{FilterPattern, MetricValue};

/// What one event did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventOutcome {
    pub event: String,
    pub matched: bool,
    /// The value the metric filter would publish; `None` when the event does
    /// not match or the field is missing or not a number.
    pub metric_value: Option<f64>,
    /// `$name`/`$N` → value, for space-delimited patterns.
    pub extracted_values: Vec<(String, String)>,
}

/// Why the test cannot run, with the field to show it beside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TesterError {
    /// `pattern` or `metricValue`.
    pub field: String,
    pub message: String,
}

/// Tests every non-empty line of `events` against `pattern`.
pub fn test_events(pattern: &str, metric_value: &str, events: &str) -> Result<Vec<EventOutcome>, TesterError> {
    let pattern = FilterPattern::parse(pattern)
        .map_err(|error| TesterError { field: "pattern".to_owned(), message: error.to_string() })?;
    let value_error = |message: String| TesterError { field: "metricValue".to_owned(), message };
    let value = MetricValue::parse(metric_value.trim()).map_err(|error| value_error(error.to_string()))?;
    pattern.check_metric_value(&value).map_err(|error| value_error(error.to_string()))?;
    Ok(events
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|event| match pattern.match_event(event) {
            Some(found) => EventOutcome {
                event: event.to_owned(),
                matched: true,
                metric_value: found.metric_value(&value),
                extracted_values: found.extracted_values(),
            },
            None => EventOutcome {
                event: event.to_owned(),
                matched: false,
                metric_value: None,
                extracted_values: Vec::new(),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The lab's pattern over a failed and a successful Decrypt by the task role (lab.md, section 3).
    #[test]
    fn the_labs_pattern_matches_failed_calls_only() {
        let role = "arn:aws:iam::111122223333:role/pattern1-app-ECSTaskRole";
        let pattern = format!(
            r#"{{ $.errorCode = "*" && $.eventSource= "kms.amazonaws.com" && $.userIdentity.sessionContext.sessionIssuer.arn = "{role}" }}"#
        );
        let event = |error: &str| {
            format!(
                r#"{{"eventSource":"kms.amazonaws.com","eventName":"Decrypt",{error}"userIdentity":{{"sessionContext":{{"sessionIssuer":{{"arn":"{role}"}}}}}}}}"#
            )
        };
        let events = format!("{}\n\n{}\n", event(r#""errorCode":"InvalidCiphertextException","#), event(""));
        let outcomes = test_events(&pattern, "1", &events).unwrap();
        assert_eq!(outcomes.len(), 2);
        assert!(outcomes[0].matched);
        assert_eq!(outcomes[0].metric_value, Some(1.0));
        assert!(!outcomes[1].matched);
        assert_eq!(outcomes[1].metric_value, None);
    }

    // TestMetricFilter: extractedValues holds the fields of a space-delimited match.
    // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_MetricFilterMatchRecord.html
    #[test]
    fn space_delimited_patterns_extract_values() {
        let outcomes =
            test_events("[ip, user, status=4*, bytes]", "$bytes", "10.0.0.1 bob 404 512\n10.0.0.2 ann 200 7").unwrap();
        assert!(outcomes[0].matched);
        assert_eq!(outcomes[0].metric_value, Some(512.0));
        assert!(outcomes[0].extracted_values.contains(&("$status".to_owned(), "404".to_owned())));
        assert!(!outcomes[1].matched);
    }

    #[test]
    fn invalid_input_is_refused_beside_its_field() {
        let error = test_events("{ $.eventName = ", "1", "x").unwrap_err();
        assert_eq!(error.field, "pattern");
        assert!(!error.message.is_empty());
        // "The specified filter pattern does not support dimensions": a field on an unstructured pattern.
        let error = test_events("ERROR", "$.bytes", "x").unwrap_err();
        assert_eq!(error.field, "metricValue");
        assert_eq!(error.message, "The specified filter pattern does not support dimensions");
    }
}

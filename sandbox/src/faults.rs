//! Fault injection: the sandbox can answer some calls to a service with the
//! throttling or server errors that service returns under load, and delay
//! its answers, so that clients' retries and degraded states can be tested.
//!
//! Faults are deterministic ("every Nth call") rather than random, so that
//! tests asserting on them never flake. The SDKs retry both kinds of error
//! (<https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html>),
//! so throttling every second call is absorbed by a client's retries while
//! throttling every call exhausts them.

use std::collections::HashMap;
use std::time::Duration;

use http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::error::{AwsError, Fault};

/// What to do to the calls of one service (its SigV4 signing name, e.g.
/// `cloudformation`, `monitoring`, `kms`; `*` for every service).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    pub service: String,
    /// Throttle every Nth call (1 = every call).
    #[serde(default)]
    pub throttle_every: Option<u32>,
    /// Fail every Nth call with a 5xx server error.
    #[serde(default)]
    pub error_every: Option<u32>,
    /// Delay every call by this much.
    #[serde(default)]
    pub latency_ms: u64,
}

/// Why a fault specification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault {spec:?}: {reason}")]
pub struct FaultSpecError {
    pub spec: String,
    pub reason: String,
}

impl FaultRule {
    /// Parses `service:key=value,key=value` with keys `throttle-every`,
    /// `error-every` and `latency-ms`, e.g. `cloudformation:throttle-every=2`.
    pub fn parse(spec: &str) -> Result<FaultRule, FaultSpecError> {
        let refuse = |reason: &str| FaultSpecError { spec: spec.to_owned(), reason: reason.to_owned() };
        let (service, settings) = spec.split_once(':').ok_or_else(|| refuse("expected service:setting=value,..."))?;
        let service = service.trim();
        if service.is_empty() || !service.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*') {
            return Err(refuse("the service must be a signing name such as kms or cloudformation, or *"));
        }
        let mut rule = FaultRule { service: service.to_owned(), ..FaultRule::default() };
        for setting in settings.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = setting.split_once('=').ok_or_else(|| refuse("settings are key=value"))?;
            let number: u64 = value.trim().parse().map_err(|_| refuse("values are whole numbers"))?;
            match key.trim() {
                "throttle-every" | "error-every" if number == 0 || number > u64::from(u32::MAX) => {
                    return Err(refuse("every must be at least 1"));
                }
                "throttle-every" => rule.throttle_every = u32::try_from(number).ok(),
                "error-every" => rule.error_every = u32::try_from(number).ok(),
                "latency-ms" if number > 60_000 => return Err(refuse("latency-ms is at most 60000")),
                "latency-ms" => rule.latency_ms = number,
                _ => return Err(refuse("keys are throttle-every, error-every and latency-ms")),
            }
        }
        Ok(rule)
    }
}

/// The fault rules in force and how many calls each service has had.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<FaultRule>,
    calls: HashMap<String, u64>,
}

/// What to do to one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub delay: Duration,
    pub error: Option<AwsError>,
}

impl Faults {
    /// Faults following `rules`.
    pub fn new(rules: Vec<FaultRule>) -> Faults {
        Faults { rules, calls: HashMap::new() }
    }

    /// The rules in force.
    pub fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    /// Replaces the rules and starts counting afresh.
    pub fn set_rules(&mut self, rules: Vec<FaultRule>) {
        self.rules = rules;
        self.calls.clear();
    }

    /// Counts a call to `service` and decides its fault, if any.
    pub fn decide(&mut self, service: &str) -> Decision {
        let Some(rule) =
            self.rules.iter().find(|r| r.service == service).or_else(|| self.rules.iter().find(|r| r.service == "*"))
        else {
            return Decision { delay: Duration::ZERO, error: None };
        };
        let count = self.calls.entry(service.to_owned()).or_insert(0);
        *count += 1;
        let hits = |every: Option<u32>| every.is_some_and(|n| (*count).is_multiple_of(u64::from(n)));
        let error = if hits(rule.throttle_every) {
            Some(throttling_error(service))
        } else if hits(rule.error_every) {
            Some(server_error(service))
        } else {
            None
        };
        Decision { delay: Duration::from_millis(rule.latency_ms), error }
    }
}

/// The throttling error each service answers with.
/// S3: `SlowDown` (503, <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>);
/// Query services and CloudWatch: `Throttling` ("Rate exceeded");
/// the JSON services: `ThrottlingException`.
pub fn throttling_error(service: &str) -> AwsError {
    match service {
        "s3" => AwsError::sender("SlowDown", "Please reduce your request rate.")
            .with_status(StatusCode::SERVICE_UNAVAILABLE),
        "sts" | "sns" | "cloudformation" | "iam" => AwsError::sender("Throttling", "Rate exceeded"),
        "monitoring" => AwsError::sender("Throttling", "Rate exceeded").with_query_code("Throttling"),
        "sqs" => AwsError::sender("ThrottlingException", "Rate exceeded").with_query_code("ThrottlingException"),
        _ => AwsError::sender("ThrottlingException", "Rate exceeded"),
    }
}

/// The server error each service answers with when it fails on its side.
pub fn server_error(service: &str) -> AwsError {
    let mut error = match service {
        "s3" => AwsError::internal("We encountered an internal error. Please try again."),
        _ => AwsError::internal("An internal error occurred. Please try again."),
    };
    if service == "s3" {
        error.code = "InternalError".to_owned();
    }
    error.status = StatusCode::INTERNAL_SERVER_ERROR;
    error.fault = Fault::Receiver;
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifications_parse_and_bad_ones_are_refused() {
        let rule = FaultRule::parse("cloudformation:throttle-every=2,latency-ms=50").expect("valid");
        assert_eq!(rule.service, "cloudformation");
        assert_eq!((rule.throttle_every, rule.error_every, rule.latency_ms), (Some(2), None, 50));
        assert!(FaultRule::parse("kms").is_err());
        assert!(FaultRule::parse("kms:throttle-every=0").is_err());
        assert!(FaultRule::parse("kms:throttle-every=x").is_err());
        assert!(FaultRule::parse("kms:surprise=1").is_err());
        assert!(FaultRule::parse("k m s:latency-ms=1").is_err());
        assert!(FaultRule::parse("kms:latency-ms=999999").is_err());
    }

    #[test]
    fn every_nth_call_is_faulted_per_service() {
        let mut faults = Faults::new(vec![
            FaultRule::parse("kms:throttle-every=2").expect("valid"),
            FaultRule::parse("*:error-every=3").expect("valid"),
        ]);
        let kms: Vec<bool> = (0..4).map(|_| faults.decide("kms").error.is_some()).collect();
        assert_eq!(kms, [false, true, false, true]);
        let logs: Vec<Option<String>> = (0..3).map(|_| faults.decide("logs").error.map(|e| e.code)).collect();
        assert_eq!(logs, [None, None, Some("InternalFailure".to_owned())]);
        faults.set_rules(Vec::new());
        assert_eq!(faults.decide("kms"), Decision { delay: Duration::ZERO, error: None });
    }

    #[test]
    fn each_service_throttles_in_its_own_words() {
        assert_eq!(throttling_error("s3").code, "SlowDown");
        assert_eq!(throttling_error("s3").status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(throttling_error("cloudformation").code, "Throttling");
        assert_eq!(throttling_error("monitoring").query_code.as_deref(), Some("Throttling"));
        assert_eq!(throttling_error("kms").code, "ThrottlingException");
        assert_eq!(server_error("s3").code, "InternalError");
        assert_eq!(server_error("kms").status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}

//! How the console's background work stands against AWS, for the panel
//! every page shows while AWS throttles or fails a poller: the pages keep
//! showing what SQLite holds, and this says why it may be behind.
//!
//! The server crate implements [`port::OperationsBackend`] from the
//! pollers' recorded state and provides it as context ([`port::Operations`]).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the pollers last met.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsStatus {
    /// Pollers whose last round failed; empty when all is well.
    pub degraded: Vec<DegradedPoller>,
}

/// A poller whose rounds are failing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DegradedPoller {
    /// `alarm-history`, `inbox`, `inbox-subscriptions` or `stack-watcher`.
    pub poller: String,
    /// The AWS service of the call that failed (`CloudWatch`, `SNS`...).
    pub service: Option<String>,
    /// AWS answered with its throttling error.
    pub throttled: bool,
    pub failed_rounds: u32,
    /// When the failures began, UTC.
    pub since: String,
    /// AWS's code and message for the last failure.
    pub message: String,
}

impl DegradedPoller {
    /// What the poller does, in words.
    pub fn description(&self) -> &'static str {
        match self.poller.as_str() {
            "alarm-history" => "alarm history",
            "inbox" => "notification inbox",
            "inbox-subscriptions" => "inbox's topic subscriptions",
            "stack-watcher" => "deployment progress",
            _ => "background work",
        }
    }

    /// One sentence for the panel.
    pub fn sentence(&self) -> String {
        let service = self.service.as_deref().unwrap_or("AWS");
        let rounds = if self.failed_rounds == 1 {
            "1 failed round".to_owned()
        } else {
            format!("{} failed rounds", self.failed_rounds)
        };
        if self.throttled {
            format!(
                "AWS is throttling {service}; retrying. Keywatch's {} is behind ({rounds} since {}); nothing is lost, it resumes from where it stopped.",
                self.description(),
                self.since
            )
        } else {
            format!(
                "{service} is failing for Keywatch's {} ({rounds} since {}: {}); retrying with back-off.",
                self.description(),
                self.since,
                self.message
            )
        }
    }
}

/// The pollers' state for the degraded-state panel.
#[server(endpoint = "operations/aws-status")]
pub async fn get_aws_status() -> Result<AwsStatus, AppError> {
    crate::api::port::<port::Operations>()?.0.aws_status().await
}

#[cfg(feature = "ssr")]
pub mod port {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;

    /// What the operations server functions ask of the server.
    #[async_trait]
    pub trait OperationsBackend: Send + Sync + 'static {
        /// The pollers whose last round failed.
        async fn aws_status(&self) -> Result<AwsStatus, AppError>;
    }

    /// The operations backend as Leptos context.
    #[derive(Clone)]
    pub struct Operations(pub Arc<dyn OperationsBackend>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_named_with_its_service_and_reassures() {
        let poller = DegradedPoller {
            poller: "alarm-history".into(),
            service: Some("CloudWatch".into()),
            throttled: true,
            failed_rounds: 3,
            since: "2026-11-27 07:40:12 UTC".into(),
            message: "DescribeAlarmHistory failed: Rate exceeded (Throttling)".into(),
        };
        let sentence = poller.sentence();
        assert!(sentence.starts_with("AWS is throttling CloudWatch; retrying."), "{sentence}");
        assert!(sentence.contains("alarm history is behind (3 failed rounds since 2026-11-27 07:40:12 UTC)"));
        let failing = DegradedPoller { throttled: false, failed_rounds: 1, ..poller };
        assert!(failing.sentence().contains("1 failed round since"), "{}", failing.sentence());
        assert!(failing.sentence().contains("Rate exceeded"));
    }
}

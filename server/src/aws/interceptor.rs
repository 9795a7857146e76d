//! The SDK interceptor every AWS wrapper's client carries: it counts each
//! call and attempt by service, operation and outcome into the console's
//! metrics, classifying failures with the SDK's own retry classifiers. It
//! lives beside the wrappers, so the metrics registry only ever sees plain
//! labels and knows nothing of the SDK.

use aws_smithy_runtime::client::retries::classifiers::run_classifiers_on_ctx;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::classifiers::{RetryAction, RetryReason};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::ErrorKind;

/// Counts every AWS SDK call and attempt. Registered on each wrapper's
/// client configuration, so no call site needs to know.
/// <https://docs.rs/aws-smithy-runtime-api/latest/aws_smithy_runtime_api/client/interceptors/trait.Intercept.html>
#[derive(Debug, Clone, Copy, Default)]
pub struct CallMetrics;

impl CallMetrics {
    fn record(
        execution: bool,
        context: &FinalizerInterceptorContextRef<'_>,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) {
        let Some(metadata) = cfg.load::<Metadata>() else { return };
        let outcome = match context.inner().output_or_error() {
            Some(Ok(_)) => "success",
            // Failed before anything was sent or received.
            None => "error",
            // The SDK's own retry classifiers for this operation say what kind
            // of failure it was, from AWS's error code and the HTTP status.
            Some(Err(_)) => match run_classifiers_on_ctx(components.retry_classifiers(), context.inner()) {
                RetryAction::RetryIndicated(RetryReason::RetryableError { kind, .. }) => match kind {
                    ErrorKind::ThrottlingError => "throttled",
                    ErrorKind::ServerError => "server_error",
                    ErrorKind::TransientError => "transient_error",
                    _ => "error",
                },
                _ => "error",
            },
        };
        crate::metrics::global().record_aws(execution, metadata.service(), metadata.name(), outcome);
    }
}

impl Intercept for CallMetrics {
    fn name(&self) -> &'static str {
        "KeywatchCallMetrics"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        CallMetrics::record(false, context, runtime_components, cfg);
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        CallMetrics::record(true, context, runtime_components, cfg);
        Ok(())
    }
}

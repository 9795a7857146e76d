//! The lab's alarms as stack resources: which stack parameter sets each
//! setting of an `AWS::CloudWatch::Alarm`, and the parameter values a
//! threshold change becomes.
//!
//! The threshold page changes an alarm of a Keywatch stack through the
//! stack's parameters (a change set), never behind CloudFormation's back, so
//! the stack and the alarm cannot drift. A setting the template fixes (no
//! `Ref` to a parameter) cannot change that way; the page says so.
//! Property names are `AWS::CloudWatch::Alarm`'s, which are PutMetricAlarm's:
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html>.

use serde::{Deserialize, Serialize};

use crate::alarm::MetricAlarm;
use crate::alarm::form::FIELDS;
use crate::cloudformation::Template;

/// A form field set by a stack parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmParameter {
    /// The alarm property (and form field), e.g. `Threshold`.
    pub field: String,
    /// The stack parameter it refers to, e.g. `AlarmThreshold`.
    pub parameter: String,
}

/// For the alarm resource `logical_id`, every form field whose property is a
/// plain `Ref` to one of the template's parameters.
pub fn alarm_parameters(template: &Template, logical_id: &str) -> Vec<AlarmParameter> {
    let Some((_, resource)) = template.resources.iter().find(|(id, _)| id == logical_id) else {
        return Vec::new();
    };
    if resource.resource_type != "AWS::CloudWatch::Alarm" {
        return Vec::new();
    }
    FIELDS
        .iter()
        .filter_map(|field| {
            let parameter = resource.properties.get(field)?.get("Ref")?.as_str()?;
            template.parameter(parameter)?;
            Some(AlarmParameter { field: (*field).to_owned(), parameter: parameter.to_owned() })
        })
        .collect()
}

/// A change the stack cannot make: the setting is fixed by the template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedByTemplate {
    pub field: String,
}

/// The value of `field` in `alarm`, as a stack parameter (or form) holds it.
pub fn field_value(alarm: &MetricAlarm, field: &str) -> String {
    match field {
        "Threshold" => alarm.threshold.to_string(),
        "ComparisonOperator" => alarm.comparison_operator.as_str().to_owned(),
        "Statistic" => alarm.statistic_name().to_owned(),
        "Period" => alarm.period.to_string(),
        "EvaluationPeriods" => alarm.evaluation_periods.to_string(),
        "DatapointsToAlarm" => alarm.effective_datapoints_to_alarm().to_string(),
        "TreatMissingData" => alarm.treat_missing_data.as_str().to_owned(),
        _ => String::new(),
    }
}

/// The fields whose values differ between `old` and `new`, with both values.
pub fn changed_fields(old: &MetricAlarm, new: &MetricAlarm) -> Vec<(String, String, String)> {
    FIELDS
        .iter()
        .filter_map(|field| {
            let (before, after) = (field_value(old, field), field_value(new, field));
            (before != after).then(|| ((*field).to_owned(), before, after))
        })
        .collect()
}

/// The stack parameter values that turn `old` into `new`, or the changed
/// fields no parameter sets.
pub fn parameter_values(
    bindings: &[AlarmParameter],
    old: &MetricAlarm,
    new: &MetricAlarm,
) -> Result<Vec<(String, String)>, Vec<FixedByTemplate>> {
    let mut values = Vec::new();
    let mut fixed = Vec::new();
    for (field, _, after) in changed_fields(old, new) {
        match bindings.iter().find(|b| b.field == field) {
            Some(binding) => values.push((binding.parameter.clone(), after)),
            None => fixed.push(FixedByTemplate { field }),
        }
    }
    if fixed.is_empty() { Ok(values) } else { Err(fixed) }
}

/// The lab alarm's settings (`KMSSecurityAlarm`) as the logging stack's
/// parameters: form field, parameter.
pub const LAB_ALARM_PARAMETERS: [(&str, &str); 7] = [
    ("Threshold", "AlarmThreshold"),
    ("ComparisonOperator", "AlarmComparisonOperator"),
    ("Statistic", "AlarmStatistic"),
    ("Period", "AlarmPeriod"),
    ("EvaluationPeriods", "AlarmEvaluationPeriods"),
    ("DatapointsToAlarm", "AlarmDatapointsToAlarm"),
    ("TreatMissingData", "AlarmTreatMissingData"),
];

/// PutMetricAlarm's rules for the lab alarm the logging stack's parameter
/// `values` (key → text) would create: the same checks as the Alarms page's
/// form, within fields and between them (DatapointsToAlarm at most
/// EvaluationPeriods, the Period's values, Period × EvaluationPeriods),
/// each error keyed by the parameter to fix. Empty unless all seven
/// parameters are given (a form with some of them is checked field by
/// field only). Without this CloudFormation creates the stack and rolls
/// it back when PutMetricAlarm refuses.
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>
pub fn lab_alarm_errors(values: &[(String, String)]) -> Vec<crate::alarm::FieldError> {
    let value = |parameter: &str| values.iter().find(|(key, _)| key == parameter).map(|(_, value)| value.clone());
    let mut settings = Vec::new();
    for (field, parameter) in LAB_ALARM_PARAMETERS {
        match value(parameter) {
            Some(text) => settings.push((field, text)),
            None => return Vec::new(),
        }
    }
    let setting = |name: &str| settings.iter().find(|(field, _)| *field == name).map(|(_, text)| text.clone());
    let form = crate::alarm::ThresholdForm {
        threshold: setting("Threshold").unwrap_or_default(),
        comparison_operator: setting("ComparisonOperator").unwrap_or_default(),
        statistic: setting("Statistic").unwrap_or_default(),
        period: setting("Period").unwrap_or_default(),
        evaluation_periods: setting("EvaluationPeriods").unwrap_or_default(),
        datapoints_to_alarm: setting("DatapointsToAlarm").unwrap_or_default(),
        treat_missing_data: setting("TreatMissingData").unwrap_or_default(),
    };
    let Err(errors) = form.apply(&MetricAlarm::lab()) else { return Vec::new() };
    errors
        .into_iter()
        .filter_map(|error| {
            let (_, parameter) = LAB_ALARM_PARAMETERS.iter().find(|(field, _)| *field == error.field)?;
            Some(crate::alarm::FieldError { field: (*parameter).to_owned(), message: error.message })
        })
        .collect()
}

/// The logging stack's optional detections, each switched on and tuned
/// through the stack's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Detection {
    /// A high volume of successful Encrypt/Decrypt calls by the task role:
    /// the exfiltration signal the lab's introduction describes.
    HighVolume,
    /// CIS AWS Foundations: a KMS key disabled or scheduled for deletion
    /// (Security Hub CloudWatch.7).
    KeyDisable,
    /// The AWS KMS Developer Guide's alarm: a key pending deletion used in
    /// a cryptographic operation.
    PendingDeletionUse,
    /// Sigma's rule: key material imported into a key or deleted from one.
    KeyMaterial,
    /// Sigma's rule: a custom key store (CloudHSM or external key manager)
    /// created, connected or updated.
    CustomKeyStore,
    /// PutKeyPolicy or CreateGrant by a principal outside the allowed ones.
    KeyPolicyChange,
    /// Failed KMS calls by any principal but the application's task role.
    OtherPrincipal,
}

impl Detection {
    /// Every detection, in the template's order.
    pub const ALL: [Detection; 7] = [
        Detection::HighVolume,
        Detection::KeyDisable,
        Detection::PendingDeletionUse,
        Detection::KeyMaterial,
        Detection::CustomKeyStore,
        Detection::KeyPolicyChange,
        Detection::OtherPrincipal,
    ];

    /// What it detects, in words.
    pub fn title(self) -> &'static str {
        match self {
            Detection::HighVolume => "High volume of successful Encrypt/Decrypt calls by the task role",
            Detection::KeyDisable => "KMS key disabled or scheduled for deletion (CIS, Security Hub CloudWatch.7)",
            Detection::PendingDeletionUse => "Use of a KMS key pending deletion (AWS KMS Developer Guide)",
            Detection::KeyMaterial => "Key material imported or deleted (Sigma aws_kms_import_key_material)",
            Detection::CustomKeyStore => {
                "Custom key store created, connected or updated (Sigma aws_kms_custom_key_store_connected_or_created)"
            }
            Detection::KeyPolicyChange => "Key policy or grant changed by a principal outside the allowed ones",
            Detection::OtherPrincipal => "Failed KMS calls by principals other than the task role",
        }
    }

    /// The `'true'`/`'false'` parameter that switches it on.
    pub fn switch_parameter(self) -> &'static str {
        match self {
            Detection::HighVolume => "EnableHighVolumeDetection",
            Detection::KeyDisable => "EnableKeyDisableDetection",
            Detection::PendingDeletionUse => "EnablePendingDeletionDetection",
            Detection::KeyMaterial => "EnableKeyMaterialDetection",
            Detection::CustomKeyStore => "EnableCustomKeyStoreDetection",
            Detection::KeyPolicyChange => "EnableKeyPolicyChangeDetection",
            Detection::OtherPrincipal => "EnableOtherPrincipalDetection",
        }
    }

    /// The parameters that tune its alarm.
    pub fn parameters(self) -> &'static [&'static str] {
        match self {
            Detection::HighVolume => &["HighVolumeThreshold", "HighVolumePeriod", "HighVolumeEvaluationPeriods"],
            Detection::KeyDisable => &["KeyDisableThreshold", "KeyDisablePeriod"],
            Detection::PendingDeletionUse => &["PendingDeletionThreshold", "PendingDeletionPeriod"],
            Detection::KeyMaterial => &["KeyMaterialThreshold", "KeyMaterialPeriod"],
            Detection::CustomKeyStore => &["CustomKeyStoreThreshold", "CustomKeyStorePeriod"],
            Detection::KeyPolicyChange => &["AllowedKeyAdminArn", "KeyPolicyChangeThreshold", "KeyPolicyChangePeriod"],
            Detection::OtherPrincipal => &["OtherPrincipalThreshold", "OtherPrincipalPeriod"],
        }
    }

    /// The alarm's logical id in the logging template.
    pub fn alarm_logical_id(self) -> &'static str {
        match self {
            Detection::HighVolume => "HighVolumeAlarm",
            Detection::KeyDisable => "KeyDisableAlarm",
            Detection::PendingDeletionUse => "PendingDeletionAlarm",
            Detection::KeyMaterial => "KeyMaterialAlarm",
            Detection::CustomKeyStore => "CustomKeyStoreAlarm",
            Detection::KeyPolicyChange => "KeyPolicyChangeAlarm",
            Detection::OtherPrincipal => "OtherPrincipalAlarm",
        }
    }

    /// The alarm's name in the stack `stack_name` (the template's `AlarmName`).
    pub fn alarm_name(self, stack_name: &str) -> String {
        match self {
            Detection::HighVolume => format!("{stack_name}-KMSHighVolumeAlarm"),
            Detection::KeyDisable => format!("{stack_name}-KMSKeyDisableOrDeletionAlarm"),
            Detection::PendingDeletionUse => format!("{stack_name}-KMSKeyPendingDeletionUseAlarm"),
            Detection::KeyMaterial => format!("{stack_name}-KMSKeyMaterialImportOrDeletionAlarm"),
            Detection::CustomKeyStore => format!("{stack_name}-KMSCustomKeyStoreChangeAlarm"),
            Detection::KeyPolicyChange => format!("{stack_name}-KMSKeyPolicyOrGrantChangeAlarm"),
            Detection::OtherPrincipal => format!("{stack_name}-KMSErrorsByOtherPrincipalsAlarm"),
        }
    }

    /// Every refused value among `values` (parameter key → text): the
    /// template's parameter rules (CloudFormation's), then PutMetricAlarm's
    /// period and window rules for the alarm the values would produce.
    pub fn errors(self, template: &Template, values: &[(String, String)]) -> Vec<crate::alarm::FieldError> {
        use crate::alarm::{FieldError, is_valid_period, max_window_seconds};

        let value = |key: &str| values.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_owned());
        let mut errors = Vec::new();
        for key in self.parameters() {
            let text = value(key).unwrap_or_default();
            if let Some(message) = crate::lab::parameter_error(template, key, &text) {
                errors.push(FieldError { field: (*key).to_owned(), message });
            }
        }
        let period_key = self.parameters().iter().find(|k| k.ends_with("Period")).copied().unwrap_or_default();
        let period = value(period_key).and_then(|p| p.parse::<u32>().ok());
        if let Some(period) = period.filter(|_| !errors.iter().any(|e| e.field == period_key)) {
            if !is_valid_period(period) {
                errors.push(FieldError {
                    field: period_key.to_owned(),
                    message: format!("Period must be 10, 20, 30 or a multiple of 60 seconds, not {period}"),
                });
            } else if let Some(n) = value("HighVolumeEvaluationPeriods").and_then(|n| n.parse::<u64>().ok())
                && self == Detection::HighVolume
            {
                let (window, limit) = (u64::from(period) * n, max_window_seconds(period));
                if window > limit {
                    errors.push(FieldError {
                        field: "HighVolumeEvaluationPeriods".to_owned(),
                        message: format!(
                            "Period multiplied by EvaluationPeriods is {window} seconds; it can't exceed {limit} seconds"
                        ),
                    });
                }
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {

    // The optional detections' tuning, checked with the template's parameter rules and
    // PutMetricAlarm's ("Valid values are 10, 20, 30, and any multiple of 60"; Period ×
    // EvaluationPeriods at most 86,400 s below one hour):
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    #[test]
    fn detection_values_are_checked_before_the_stack_is_asked() {
        let template = logging();
        let values = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        let fields = |errors: Vec<crate::alarm::FieldError>| errors.into_iter().map(|e| e.field).collect::<Vec<_>>();
        let ok = values(&[
            ("HighVolumeThreshold", "100"),
            ("HighVolumePeriod", "300"),
            ("HighVolumeEvaluationPeriods", "2"),
        ]);
        assert!(Detection::HighVolume.errors(&template, &ok).is_empty());
        let bad =
            values(&[("HighVolumeThreshold", "-1"), ("HighVolumePeriod", "90"), ("HighVolumeEvaluationPeriods", "1")]);
        assert_eq!(fields(Detection::HighVolume.errors(&template, &bad)), ["HighVolumeThreshold", "HighVolumePeriod"]);
        let long = values(&[
            ("HighVolumeThreshold", "1"),
            ("HighVolumePeriod", "600"),
            ("HighVolumeEvaluationPeriods", "145"),
        ]);
        assert_eq!(fields(Detection::HighVolume.errors(&template, &long)), ["HighVolumeEvaluationPeriods"]);
        let text = values(&[("KeyDisableThreshold", "one"), ("KeyDisablePeriod", "30")]);
        assert_eq!(fields(Detection::KeyDisable.errors(&template, &text)), ["KeyDisableThreshold", "KeyDisablePeriod"]);
        assert_eq!(Detection::KeyDisable.alarm_name("p-logging"), "p-logging-KMSKeyDisableOrDeletionAlarm");
        for detection in Detection::ALL {
            assert!(template.parameter(detection.switch_parameter()).is_some());
            assert!(!alarm_parameters(&template, detection.alarm_logical_id()).is_empty());
        }
    }

    use super::*;
    use crate::alarm::TreatMissingData;
    use crate::lab::LabSection;

    fn logging() -> Template {
        Template::parse(LabSection::LoggingAndAlarm.template().unwrap()).unwrap()
    }

    fn fields(bindings: &[AlarmParameter]) -> Vec<(&str, &str)> {
        bindings.iter().map(|b| (b.field.as_str(), b.parameter.as_str())).collect()
    }

    fn lab_alarm() -> MetricAlarm {
        MetricAlarm { alarm_name: "pattern1-logging-Pattern1ApplicationKMSSecurityAlarm".into(), ..MetricAlarm::lab() }
    }

    fn lab_values(overrides: &[(&str, &str)]) -> Vec<(String, String)> {
        let defaults = [
            ("AlarmThreshold", "1"),
            ("AlarmComparisonOperator", "GreaterThanThreshold"),
            ("AlarmStatistic", "Sum"),
            ("AlarmPeriod", "10"),
            ("AlarmEvaluationPeriods", "1"),
            ("AlarmDatapointsToAlarm", "1"),
            ("AlarmTreatMissingData", "ignore"),
        ];
        defaults
            .iter()
            .map(|(key, value)| {
                let value = overrides.iter().find(|(k, _)| k == key).map_or(*value, |(_, v)| *v);
                ((*key).to_owned(), value.to_owned())
            })
            .collect()
    }

    // PutMetricAlarm: "DatapointsToAlarm ... must be less than or equal to
    // EvaluationPeriods"; Period "10, 20, 30, and any multiple of 60";
    // EvaluationPeriods × Period at most one day for periods under an hour.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
    #[test]
    fn the_wizard_checks_the_lab_alarms_parameters_as_putmetricalarm_does() {
        assert!(lab_alarm_errors(&lab_values(&[])).is_empty(), "the lab's defaults are valid");
        let fields = |overrides: &[(&str, &str)]| -> Vec<String> {
            lab_alarm_errors(&lab_values(overrides)).into_iter().map(|error| error.field).collect()
        };
        assert_eq!(fields(&[("AlarmDatapointsToAlarm", "5")]), ["AlarmDatapointsToAlarm"]);
        assert_eq!(fields(&[("AlarmPeriod", "15")]), ["AlarmPeriod"]);
        assert_eq!(fields(&[("AlarmEvaluationPeriods", "100000")]), ["AlarmEvaluationPeriods"]);
        let message = &lab_alarm_errors(&lab_values(&[("AlarmDatapointsToAlarm", "5")]))[0].message;
        assert!(message.contains("EvaluationPeriods"), "{message}");
        // A form without the alarm's parameters is not checked here.
        assert!(lab_alarm_errors(&[("EmailAddress".to_owned(), "ops@example.com".to_owned())]).is_empty());
    }

    #[test]
    fn every_setting_of_the_lab_alarm_is_a_stack_parameter() {
        assert_eq!(
            fields(&alarm_parameters(&logging(), "KMSSecurityAlarm")),
            [
                ("Threshold", "AlarmThreshold"),
                ("ComparisonOperator", "AlarmComparisonOperator"),
                ("Statistic", "AlarmStatistic"),
                ("Period", "AlarmPeriod"),
                ("EvaluationPeriods", "AlarmEvaluationPeriods"),
                ("DatapointsToAlarm", "AlarmDatapointsToAlarm"),
                ("TreatMissingData", "AlarmTreatMissingData"),
            ]
        );
        // The wizard's cross-field checks use the same binding.
        let bound: Vec<(&str, &str)> = LAB_ALARM_PARAMETERS.to_vec();
        assert_eq!(fields(&alarm_parameters(&logging(), "KMSSecurityAlarm")), bound);
    }

    #[test]
    fn the_optional_detections_expose_their_tunable_settings() {
        assert_eq!(
            fields(&alarm_parameters(&logging(), "HighVolumeAlarm")),
            [
                ("Threshold", "HighVolumeThreshold"),
                ("Period", "HighVolumePeriod"),
                ("EvaluationPeriods", "HighVolumeEvaluationPeriods")
            ]
        );
        assert_eq!(
            fields(&alarm_parameters(&logging(), "KeyDisableAlarm")),
            [("Threshold", "KeyDisableThreshold"), ("Period", "KeyDisablePeriod")]
        );
        assert!(alarm_parameters(&logging(), "AlarmTopic").is_empty());
        assert!(alarm_parameters(&logging(), "Nope").is_empty());
    }

    #[test]
    fn a_threshold_change_becomes_the_parameter_value() {
        let bindings = alarm_parameters(&logging(), "KMSSecurityAlarm");
        let new = MetricAlarm { threshold: 5.0, evaluation_periods: 3, ..lab_alarm() };
        assert_eq!(
            parameter_values(&bindings, &lab_alarm(), &new),
            Ok(vec![
                ("AlarmThreshold".to_owned(), "5".to_owned()),
                ("AlarmEvaluationPeriods".to_owned(), "3".to_owned())
            ])
        );
        assert_eq!(
            changed_fields(&lab_alarm(), &new),
            [
                ("Threshold".to_owned(), "1".to_owned(), "5".to_owned()),
                ("EvaluationPeriods".to_owned(), "1".to_owned(), "3".to_owned())
            ]
        );
    }

    #[test]
    fn settings_the_template_fixes_are_refused() {
        let bindings = alarm_parameters(&logging(), "KeyDisableAlarm");
        let new = MetricAlarm { treat_missing_data: TreatMissingData::Breaching, threshold: 2.0, ..lab_alarm() };
        assert_eq!(
            parameter_values(&bindings, &lab_alarm(), &new),
            Err(vec![FixedByTemplate { field: "TreatMissingData".into() }])
        );
    }

    // Security Hub CloudWatch.7 (CIS AWS Foundations 3.7 / 4.7): AWS's filter pattern for
    // disabling or scheduling deletion of KMS keys, verbatim.
    // https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-7
    #[test]
    fn the_key_disable_detection_uses_aws_exact_pattern() {
        const CIS_PATTERN: &str = "{($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || \
                                   ($.eventName = ScheduleKeyDeletion))}";
        let template = logging();
        let (_, filter) = template.resources.iter().find(|(id, _)| id == "KeyDisableMetricFilter").expect("filter");
        assert_eq!(filter.properties["FilterPattern"].as_str(), Some(CIS_PATTERN));
        let pattern = crate::filter_pattern::FilterPattern::parse(CIS_PATTERN).expect("AWS's pattern parses");
        let record = |name: &str| format!(r#"{{"eventSource":"kms.amazonaws.com","eventName":"{name}"}}"#);
        assert!(pattern.matches(&record("DisableKey")));
        assert!(pattern.matches(&record("ScheduleKeyDeletion")));
        assert!(!pattern.matches(&record("Decrypt")));
    }

    /// The metric filter pattern of `logical_id` in the logging template, parsed.
    fn filter_of(logical_id: &str) -> crate::filter_pattern::FilterPattern {
        let template = logging();
        let (_, filter) = template.resources.iter().find(|(id, _)| id == logical_id).expect("filter");
        let text = filter.properties["FilterPattern"].as_str().expect("pattern");
        crate::filter_pattern::FilterPattern::parse(text).expect("the pattern parses")
    }

    // The AWS KMS Developer Guide's alarm for use of a key pending deletion, verbatim:
    // "{ $.eventSource = kms* && $.errorMessage = "* is pending deletion."}".
    // https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys-creating-cloudwatch-alarm.html
    // A refused Decrypt's record carries KMS's message "<key ARN> is pending deletion."
    // (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html); a
    // CancelKeyDeletion, permitted on such a key, and other failures are not counted.
    #[test]
    fn the_pending_deletion_detection_uses_the_guides_pattern() {
        let template = logging();
        let (_, filter) =
            template.resources.iter().find(|(id, _)| id == "PendingDeletionMetricFilter").expect("filter");
        assert_eq!(
            filter.properties["FilterPattern"].as_str(),
            Some(r#"{ $.eventSource = kms* && $.errorMessage = "* is pending deletion."}"#)
        );
        let pattern = filter_of("PendingDeletionMetricFilter");
        let key = "arn:aws:kms:ap-southeast-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let refused = format!(
            r#"{{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","errorCode":"KMSInvalidStateException","errorMessage":"{key} is pending deletion."}}"#
        );
        assert!(pattern.matches(&refused));
        let cancelled = r#"{"eventSource":"kms.amazonaws.com","eventName":"CancelKeyDeletion"}"#;
        assert!(!pattern.matches(cancelled));
        let disabled = format!(
            r#"{{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","errorCode":"DisabledException","errorMessage":"{key} is disabled."}}"#
        );
        assert!(!pattern.matches(&disabled));
        let not_pending = format!(
            r#"{{"eventSource":"kms.amazonaws.com","eventName":"CancelKeyDeletion","errorCode":"KMSInvalidStateException","errorMessage":"{key} is not pending deletion."}}"#
        );
        assert!(!pattern.matches(&not_pending));
    }

    // Sigma rule aws_kms_import_key_material (id 1279262f-1464-422f-ac0d-5b545320c526,
    // SigmaHQ rules/cloud/aws/cloudtrail/aws_kms_import_key_material.yml): selection
    // eventSource kms.amazonaws.com, eventName ImportKeyMaterial or DeleteImportedKeyMaterial.
    // Record shape: https://docs.aws.amazon.com/kms/latest/developerguide/ct-importkeymaterial.html
    #[test]
    fn the_key_material_detection_is_sigmas_selection() {
        let pattern = filter_of("KeyMaterialMetricFilter");
        let record = |source: &str, name: &str| format!(r#"{{"eventSource":"{source}","eventName":"{name}"}}"#);
        assert!(pattern.matches(&record("kms.amazonaws.com", "ImportKeyMaterial")));
        assert!(pattern.matches(&record("kms.amazonaws.com", "DeleteImportedKeyMaterial")));
        assert!(!pattern.matches(&record("kms.amazonaws.com", "GetParametersForImport")));
        assert!(!pattern.matches(&record("acm.amazonaws.com", "ImportCertificate")));
        assert!(!pattern.matches(&record("kms.amazonaws.com", "Decrypt")));
    }

    // Sigma rule aws_kms_custom_key_store_connected_or_created (id ea8e620a-c463-4fed-8cea-62dc427a8ecf,
    // SigmaHQ rules/cloud/aws/cloudtrail/aws_kms_custom_key_store_connected_or_created.yml):
    // selection eventSource kms.amazonaws.com, eventName ConnectCustomKeyStore,
    // CreateCustomKeyStore or UpdateCustomKeyStore (the rule cites
    // https://docs.aws.amazon.com/kms/latest/APIReference/API_ConnectCustomKeyStore.html).
    #[test]
    fn the_custom_key_store_detection_is_sigmas_selection() {
        let pattern = filter_of("CustomKeyStoreMetricFilter");
        let record = |source: &str, name: &str| format!(r#"{{"eventSource":"{source}","eventName":"{name}"}}"#);
        for name in ["ConnectCustomKeyStore", "CreateCustomKeyStore", "UpdateCustomKeyStore"] {
            assert!(pattern.matches(&record("kms.amazonaws.com", name)), "{name}");
        }
        // Neighbours: reading, disconnecting and deleting a store, and another service's store.
        for name in ["DescribeCustomKeyStores", "DisconnectCustomKeyStore", "DeleteCustomKeyStore"] {
            assert!(!pattern.matches(&record("kms.amazonaws.com", name)), "{name}");
        }
        assert!(!pattern.matches(&record("cloudhsm.amazonaws.com", "CreateCustomKeyStore")));
    }

    /// The metric filter pattern of `logical_id` as the stack resolves it with `parameters`.
    fn resolved_filter(logical_id: &str, parameters: &[(&str, &str)]) -> crate::filter_pattern::FilterPattern {
        let text = resolved_filter_text(logical_id, parameters);
        crate::filter_pattern::FilterPattern::parse(&text).expect("the pattern parses")
    }

    /// The text of that pattern.
    fn resolved_filter_text(logical_id: &str, parameters: &[(&str, &str)]) -> String {
        use crate::cloudformation::{Evaluator, SuppliedParameter, resolve_parameters};
        let template = logging();
        let supplied: Vec<SuppliedParameter> = parameters
            .iter()
            .map(|(key, value)| SuppliedParameter {
                key: (*key).to_owned(),
                value: Some((*value).to_owned()),
                use_previous_value: false,
            })
            .collect();
        let resolved = resolve_parameters(&template, &supplied, None).expect("parameters");
        let stack = crate::cloudformation::test_support::FakeStack::new();
        let evaluator = Evaluator::new(&template, &resolved, &stack).expect("evaluator");
        let properties = evaluator.resource_properties(logical_id).expect("resolved");
        properties["FilterPattern"].as_str().expect("text").to_owned()
    }

    // CloudTrail records of PutKeyPolicy and CreateGrant, shaped as the AWS KMS
    // Developer Guide's examples (ct-putkeypolicy.html, ct-creategrant.html): an
    // IAM user's userIdentity has an arn; a grant an AWS service makes for the
    // caller carries userIdentity.invokedBy.
    #[test]
    fn the_key_policy_detection_spares_the_allowed_principal_and_services() {
        let role = ("AppECSTaskRoleArn", "arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole");
        let admin = ("AllowedKeyAdminArn", "arn:aws:sts::111122223333:assumed-role/KeyAdmin/*");
        let pattern =
            resolved_filter("KeyPolicyChangeMetricFilter", &[role, admin, ("EnableKeyPolicyChangeDetection", "true")]);
        let record = |name: &str, identity: &str| {
            format!(r#"{{"eventSource":"kms.amazonaws.com","eventName":"{name}","userIdentity":{identity}}}"#)
        };
        let alice = r#"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/Alice"}"#;
        let key_admin = r#"{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/KeyAdmin/bob"}"#;
        let for_rds =
            r#"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/Alice","invokedBy":"rds.amazonaws.com"}"#;
        assert!(pattern.matches(&record("PutKeyPolicy", alice)));
        assert!(pattern.matches(&record("CreateGrant", alice)));
        assert!(!pattern.matches(&record("PutKeyPolicy", key_admin)));
        assert!(!pattern.matches(&record("CreateGrant", for_rds)));
        assert!(!pattern.matches(&record("ListGrants", alice)));
    }

    // Several allowed principals: each is spared, anyone else still counts.
    #[test]
    fn the_key_policy_detection_spares_every_allowed_principal() {
        let role = ("AppECSTaskRoleArn", "arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole");
        let admins = (
            "AllowedKeyAdminArn",
            "arn:aws:sts::111122223333:assumed-role/KeyAdmin/*, arn:aws:iam::111122223333:user/Alice",
        );
        let pattern =
            resolved_filter("KeyPolicyChangeMetricFilter", &[role, admins, ("EnableKeyPolicyChangeDetection", "true")]);
        let put_by = |arn: &str| {
            format!(
                r#"{{"eventSource":"kms.amazonaws.com","eventName":"PutKeyPolicy","userIdentity":{{"arn":"{arn}"}}}}"#
            )
        };
        assert!(!pattern.matches(&put_by("arn:aws:sts::111122223333:assumed-role/KeyAdmin/bob")));
        assert!(!pattern.matches(&put_by("arn:aws:iam::111122223333:user/Alice")));
        assert!(pattern.matches(&put_by("arn:aws:iam::111122223333:user/Mallory")));
        assert!(pattern.matches(&put_by("arn:aws:iam::111122223333:user/AliceToo")));
    }

    // The list's rules: each ARN is checked on its own, a quote (which would
    // end the filter pattern's string) is refused, and so is a list long
    // enough to take the pattern past CloudWatch Logs' 1,024 characters.
    #[test]
    fn the_allowed_principals_are_checked_one_by_one() {
        let template = logging();
        let ok = "arn:aws:sts::111122223333:assumed-role/KeyAdmin/*,arn:aws:iam::111122223333:user/Alice";
        assert_eq!(crate::lab::parameter_error(&template, "AllowedKeyAdminArn", ok), None);
        assert_eq!(crate::lab::parameter_error(&template, "AllowedKeyAdminArn", "none"), None);
        for refused in [
            "arn:aws:iam::111122223333:user/Alice,arn:aws:iam::111122223333:user/*Bob",
            r#"arn:aws:iam::111122223333:user/Alice") || ($.x = "y"#,
            "arn:aws:iam::111122223333:user/Alice,nobody",
        ] {
            assert!(crate::lab::parameter_error(&template, "AllowedKeyAdminArn", refused).is_some(), "{refused}");
        }
        let many = ["arn:aws:iam::111122223333:user/SomeoneWithALongName"; 8].join(",");
        assert!(crate::lab::parameter_error(&template, "AllowedKeyAdminArn", &many).is_some());
        // The longest pattern the limit lets through: as many of the
        // shortest ARNs as fit, each adding its own != term.
        let shortest = ["arn:aws:iam::111122223333:user/A"; 12].join(",");
        assert_eq!(crate::lab::parameter_error(&template, "AllowedKeyAdminArn", &shortest), None);
        // PutMetricFilter's limit on filterPattern: 1,024 characters
        // (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html).
        let text = resolved_filter_text(
            "KeyPolicyChangeMetricFilter",
            &[
                ("AppECSTaskRoleArn", "arn:aws:iam::111122223333:role/r"),
                ("AllowedKeyAdminArn", &shortest),
                ("EnableKeyPolicyChangeDetection", "true"),
            ],
        );
        assert!(text.chars().count() <= 1024, "{} characters", text.chars().count());
        assert!(crate::filter_pattern::FilterPattern::parse(&text).is_ok());
    }

    // The composite "KMS attack in progress": the lab's alarm AND any detection
    // switched on, as an AlarmRule PutCompositeAlarm takes
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html).
    #[test]
    fn the_attack_in_progress_rule_names_the_lab_alarm_and_the_detections_switched_on() {
        use crate::alarm::StateValue;
        use crate::alarm::composite::AlarmRule;
        use crate::cloudformation::{Evaluator, SuppliedParameter, resolve_parameters};
        let rule_with = |switched_on: &[&str]| {
            let template = logging();
            let mut supplied = vec![SuppliedParameter {
                key: "AppECSTaskRoleArn".into(),
                value: Some("arn:aws:iam::111122223333:role/r".into()),
                use_previous_value: false,
            }];
            for key in switched_on.iter().chain(&["EnableAttackInProgressAlarm"]) {
                supplied.push(SuppliedParameter {
                    key: (*key).into(),
                    value: Some("true".into()),
                    use_previous_value: false,
                });
            }
            let resolved = resolve_parameters(&template, &supplied, None).expect("parameters");
            let stack = crate::cloudformation::test_support::FakeStack::new();
            let evaluator = Evaluator::new(&template, &resolved, &stack).expect("evaluator");
            let properties = evaluator.resource_properties("AttackInProgressAlarm").expect("resolved");
            AlarmRule::parse(properties["AlarmRule"].as_str().expect("text")).expect("a valid AlarmRule")
        };
        let rule = rule_with(&["EnableKeyDisableDetection", "EnableOtherPrincipalDetection"]);
        let named = rule.alarms();
        assert_eq!(named.len(), 3, "{named:?}");
        let (lab, key_disable, other) = (named[0], named[1], named[2]);
        let states = |alarming: &[&str]| {
            let alarming: Vec<String> = alarming.iter().map(|s| (*s).to_owned()).collect();
            move |name: &str| Some(if alarming.iter().any(|a| a == name) { StateValue::Alarm } else { StateValue::Ok })
        };
        assert!(!rule.holds(&states(&[lab])), "the lab's alarm alone is not an attack in progress");
        assert!(!rule.holds(&states(&[key_disable, other])));
        assert!(rule.holds(&states(&[lab, key_disable])));
        assert!(rule.holds(&states(&[lab, other])));
        // No other detection: well formed, never in ALARM.
        let alone = rule_with(&[]);
        assert_eq!(alone.alarms().len(), 1);
        assert!(!alone.holds(&|_: &str| Some(StateValue::Alarm)));
    }

    // The lab's alarm counts the task role's failures only; this one counts everyone
    // else's: users and the root by userIdentity.type, other roles' sessions by their
    // sessionContext.sessionIssuer.arn
    // (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html).
    #[test]
    fn the_other_principals_detection_leaves_the_task_role_to_the_lab_alarm() {
        let role = ("AppECSTaskRoleArn", "arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole");
        let pattern = resolved_filter("OtherPrincipalMetricFilter", &[role, ("EnableOtherPrincipalDetection", "true")]);
        let failed = |identity: &str| {
            format!(
                r#"{{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","errorCode":"AccessDenied","userIdentity":{identity}}}"#
            )
        };
        let session = |role: &str| {
            format!(
                r#"{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/{role}/s","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::111122223333:role/{role}"}}}}}}"#
            )
        };
        assert!(pattern.matches(&failed(r#"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/Mallory"}"#)));
        assert!(pattern.matches(&failed(r#"{"type":"Root","arn":"arn:aws:iam::111122223333:root"}"#)));
        assert!(pattern.matches(&failed(&session("OtherRole"))));
        assert!(!pattern.matches(&failed(&session("pattern1-app-Pattern1ECSTaskRole"))));
        let succeeded = r#"{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","userIdentity":{"arn":"arn:aws:iam::111122223333:user/Mallory"}}"#;
        assert!(!pattern.matches(succeeded));
    }
}

//! Rule-by-rule tests of the filter-pattern language, each built from the
//! AWS documentation page cited above it (or, where the documentation is
//! silent, from recorded AWS answers, said so in the comment).
//!
//! "Older revision" is the archived source of the same page:
//! <https://github.com/awsdocs/amazon-cloudwatch-logs-user-guide/blob/master/doc_source/FilterAndPatternSyntax.md>

use super::*;

fn pattern(p: &str) -> FilterPattern {
    match FilterPattern::parse(p) {
        Ok(p) => p,
        Err(e) => panic!("{p:?} should parse, got {e} ({})", e.reason()),
    }
}

fn matches(p: &str, event: &str) -> bool {
    pattern(p).matches(event)
}

fn refused(p: &str) -> FilterPatternError {
    match FilterPattern::parse(p) {
        Ok(_) => panic!("{p:?} should be refused"),
        Err(e) => e,
    }
}

fn field(f: &str) -> FieldRef {
    match FieldRef::parse(f) {
        Ok(f) => f,
        Err(e) => panic!("{f}: {e}"),
    }
}

fn value(v: &str) -> MetricValue {
    match MetricValue::parse(v) {
        Ok(v) => v,
        Err(e) => panic!("{v}: {e}"),
    }
}

// ---------------------------------------------------------------------------
// The lab's own pattern and the CIS control, on CloudTrail records.

const TASK_ROLE_ARN: &str = "arn:aws:iam::111122223333:role/pattern1-app-Pattern1ECSTaskRole";

/// The lab's metric filter, verbatim (note `$.eventSource=` without a space).
fn lab_pattern() -> String {
    format!(
        r#"{{ $.errorCode = "*" && $.eventSource= "kms.amazonaws.com" && $.userIdentity.sessionContext.sessionIssuer.arn = "{TASK_ROLE_ARN}" }}"#
    )
}

fn cloudtrail_record(event_name: &str, error_code: Option<&str>, issuer_arn: &str) -> String {
    let error = error_code
        .map(|c| format!(r#""errorCode":"{c}","errorMessage":"The key ID in the request does not identify a CMK that can perform this operation.","#))
        .unwrap_or_default();
    format!(
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"AssumedRole","principalId":"AROAEXAMPLE:task","arn":"arn:aws:sts::111122223333:assumed-role/pattern1-app-Pattern1ECSTaskRole/task","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROAEXAMPLE","arn":"{issuer_arn}","accountId":"111122223333","userName":"pattern1-app-Pattern1ECSTaskRole"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"2026-11-26T10:00:00Z","mfaAuthenticated":"false"}}}}}},"eventTime":"2026-11-26T10:00:05Z","eventSource":"kms.amazonaws.com","eventName":"{event_name}","awsRegion":"ap-southeast-2","sourceIPAddress":"172.31.2.15","userAgent":"aws-sdk-nodejs/2.1 linux/v18",{error}"requestParameters":{{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}},"responseElements":null,"requestID":"a1b2c3","eventID":"d4e5f6","readOnly":true,"resources":[{{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:ap-southeast-2:111122223333:key/1234abcd"}}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}}"#
    )
}

#[test]
fn the_lab_pattern_counts_failed_kms_calls_of_the_task_role() {
    let p = pattern(&lab_pattern());
    assert_eq!(p.kind(), PatternKind::Json);
    let failed = cloudtrail_record("Decrypt", Some("IncorrectKeyException"), TASK_ROLE_ARN);
    let m = p.match_event(&failed);
    assert!(m.is_some());
    assert_eq!(m.and_then(|m| m.metric_value(&value("1"))), Some(1.0));
    assert!(p.matches(&cloudtrail_record("Decrypt", Some("NotFoundException"), TASK_ROLE_ARN)));
    // A successful call has no errorCode; another role is not the app.
    assert!(!p.matches(&cloudtrail_record("Decrypt", None, TASK_ROLE_ARN)));
    assert!(!p.matches(&cloudtrail_record(
        "Decrypt",
        Some("IncorrectKeyException"),
        "arn:aws:iam::111122223333:role/other"
    )));
    // Not JSON at all.
    assert!(!p.matches("ERROR IncorrectKeyException"));
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-json-log-events
// (unquoted dotted values: `{ $.sourceIPAddress != 123.123.* }`). The
// pattern is the CIS control CloudWatch.7's as quoted in the issue; its
// Security Hub page was not available to check it against.
#[test]
fn the_cis_pattern_takes_unquoted_dotted_values() {
    let p = pattern(
        "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion))}",
    );
    assert!(p.matches(&cloudtrail_record("ScheduleKeyDeletion", None, TASK_ROLE_ARN)));
    assert!(p.matches(&cloudtrail_record("DisableKey", None, TASK_ROLE_ARN)));
    assert!(!p.matches(&cloudtrail_record("Decrypt", None, TASK_ROLE_ARN)));
    assert!(!p.matches(
        &cloudtrail_record("DisableKey", None, TASK_ROLE_ARN).replace("kms.amazonaws.com", "s3.amazonaws.com")
    ));
}

// ---------------------------------------------------------------------------
// Unstructured terms.

const ERRORS: [&str; 4] = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
];

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-unstructured-log-events
#[test]
fn a_single_term_matches_events_containing_it() {
    for e in ERRORS {
        assert!(matches("ERROR", e));
    }
    // Case sensitive ("Filter patterns are case sensitive").
    assert!(!matches("ERROR", "[error 400] bad request"));
    // Older revision: a term matches inside a word ("Exiting with ERRORCODE: -1").
    assert!(matches("ERROR", "Exiting with ERRORCODE: -1"));
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-unstructured-log-events
#[test]
fn multiple_terms_must_all_appear() {
    let m: Vec<bool> = ERRORS.iter().map(|e| matches("ERROR ARGUMENTS", e)).collect();
    assert_eq!(m, [false, false, true, true]);
    // Older revision.
    assert!(matches("Failed to process the request", "[WARN] Failed to process the request"));
    assert!(matches("Failed to process the request", "[ERROR] Unable to continue: Failed to process the request"));
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-unstructured-log-events
#[test]
fn question_mark_terms_are_alternatives_unless_mixed_with_other_terms() {
    for e in ERRORS {
        assert!(matches("?ERROR ?ARGUMENTS", e));
    }
    assert!(!matches("?ERROR ?ARGUMENTS", "[INFO] all good"));
    // "If you combine ? with other filter patterns, all question mark terms
    // will be ignored."
    for e in ["[INFO] REQUEST FAILED", "[WARN] UNAUTHORIZED REQUEST", "[ERROR] 400 BAD REQUEST"] {
        assert!(matches("?ERROR ?ARGUMENTS REQUEST", e));
    }
    assert!(!matches("?ERROR ?ARGUMENTS REQUEST", "[ERROR 419] MISSING ARGUMENTS"));
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-unstructured-log-events
// and the older revision's "OR Pattern Matching".
#[test]
fn or_and_exclusion_over_the_three_sample_lines() {
    let lines = ["ERROR WARN message", "ERROR message", "WARN message"];
    let run = |p: &str| lines.iter().map(|l| matches(p, l)).collect::<Vec<_>>();
    assert_eq!(run("ERROR"), [true, true, false]);
    assert_eq!(run("?ERROR ?WARN"), [true, true, true]);
    assert_eq!(run("ERROR WARN"), [true, false, false]);
    assert_eq!(run("ERROR -WARN"), [false, true, false]);
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-unstructured-log-events
#[test]
fn quoted_phrases_match_exactly() {
    assert!(matches("\"INTERNAL SERVER ERROR\"", "[ERROR 500] INTERNAL SERVER ERROR"));
    assert!(!matches("\"INTERNAL SERVER ERROR\"", "[ERROR 500] INTERNAL ERROR SERVER"));
    // Non-alphanumeric terms must be quoted, and then they match.
    assert!(matches("\"ERROR:\"", "ERROR: disk full"));
    assert_eq!(refused("ERROR:"), FilterPatternError::InvalidCharacters { term: "ERROR:".into() });
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-unstructured-log-events
#[test]
fn minus_excludes_terms() {
    let m: Vec<bool> = ERRORS.iter().map(|e| matches("ERROR -ARGUMENTS", e)).collect();
    assert_eq!(m, [true, true, false, false]);
    // Older revision: `"ERROR" - "Exiting"` (a lone minus before a phrase).
    assert!(matches("\"ERROR\" - \"Exiting\"", "[ERROR] A fatal exception has occurred"));
    assert!(!matches("\"ERROR\" - \"Exiting\"", "Exiting with ERRORCODE: -1"));
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-unstructured-log-events
// (`" "`) and the older revision (`""` matches all log events).
#[test]
fn blank_patterns_match_everything() {
    for p in ["", "\" \"", "\"\"", "   "] {
        let p = pattern(p);
        assert_eq!(p.kind(), PatternKind::MatchAll);
        assert!(p.matches("anything"));
        assert!(p.matches(""));
    }
}

// Not documented: a recorded TestMetricFilter run shows AWS refusing a JSON
// pattern with a leading space (it is read as terms, `{` must be quoted).
#[test]
fn a_leading_space_makes_a_json_pattern_an_invalid_term() {
    assert_eq!(refused(" {$.ThisFlag IS TRUE} "), FilterPatternError::InvalidCharacters { term: "{$.ThisFlag".into() });
    assert!(matches!(refused("\"open"), FilterPatternError::Invalid { .. }));
    assert!(matches!(refused("ERROR -"), FilterPatternError::InvalidCharacters { .. }));
}

// ---------------------------------------------------------------------------
// Standalone regex.

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-regex
#[test]
fn a_standalone_regex_searches_the_whole_message() {
    let p = pattern("%AUTHORIZED%");
    assert_eq!(p.kind(), PatternKind::Regex);
    assert!(p.matches("[ERROR 401] UNAUTHORIZED REQUEST"));
    assert!(p.matches("[SUCCESS 200] AUTHORIZED REQUEST"));
    assert!(!p.matches("[SUCCESS 200] OK"));
    assert!(matches("%^shutting down%", "shutting down now"));
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#regex-expressions
#[test]
fn regexes_outside_the_subset_are_refused() {
    assert!(matches!(refused("%something!%"), FilterPatternError::Invalid { .. }));
    assert!(matches!(refused("%(a|b)%"), FilterPatternError::Invalid { .. }));
    assert!(matches!(refused("%abc"), FilterPatternError::Invalid { .. }));
    assert!(matches!(refused("%résumé%"), FilterPatternError::Invalid { .. }));
}

// ---------------------------------------------------------------------------
// JSON patterns.

/// The sample event of the JSON section (written on one line, as the page
/// asks), with the older revision's `ThisFlag` added.
const JSON_EVENT: &str = r#"{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"cluster.name":"c","ThisFlag":true}"#;

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-json-log-events
#[test]
fn documented_json_examples_match_the_sample_event() {
    for p in [
        r#"{ $.eventType = "UpdateTrail" }"#,
        "{ $.sourceIPAddress != 123.123.* }",
        r#"{ $.arrayKey[0] = "value" }"#,
        "{ $.eventType = %Trail% }",
        "{ $.arrayKey[*] = %val.{2}% }",
        r"{ $.* = %111\.111\.111\.1[0-9]{1,2}% }",
        r#"{ $.['cluster.name'] = "c" }"#,
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        // Older revision.
        "{ $.objectList[1].id = 2 }",
        "{ $.ThisFlag IS TRUE }",
    ] {
        assert!(matches(p, JSON_EVENT), "{p}");
    }
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-json-log-events
#[test]
fn json_conditions_that_do_not_hold_do_not_match() {
    for p in [
        "{ $.sourceIPAddress != 111.111.* }",
        r#"{ $.eventType = "Update" }"#,
        "{ $.eventType = %^Trail% }",
        "{ $.SomeObject NOT EXISTS }",
        "{ $.eventType IS NULL }",
        "{ $.ThisFlag IS FALSE }",
        r#"{ $.arrayKey[5] = "value" }"#,
        // "If arrayKey is not an array this will be false" (older revision).
        r#"{ $.eventType[0] = "value" }"#,
        // "If the items in objectList ... do not have an id property, this
        // will be false" (older revision).
        "{ $.objectList[1].number = 2 }",
        r#"{ $.* = "nothing" }"#,
    ] {
        assert!(!matches(p, JSON_EVENT), "{p}");
    }
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-json-log-events
// ("Property selectors point to value nodes ... If a property selector
// points to an array or object, the filter pattern won't match"; the older
// revision's `{$.users = 1}` / `{$.users != 1}` example).
#[test]
fn selectors_on_arrays_or_objects_never_match() {
    let event = r#"{"users": [1, 2, 3], "o": {"a": 1}}"#;
    for p in ["{$.users = 1}", "{$.users != 1}", "{$.o = *}", "{$.o != 1}"] {
        assert!(!matches(p, event), "{p}");
    }
    assert!(matches("{$.users[*] = 2}", event));
}

const COMPOUND_EVENT: &str = r#"{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}"#;

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-json-log-events
// ("the following standard order of operations: () > && > ||")
#[test]
fn compound_expressions_follow_aws_precedence() {
    assert!(matches(r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#, COMPOUND_EVENT));
    assert!(matches(
        r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
        COMPOUND_EVENT
    ));
    assert!(!matches(
        r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
        COMPOUND_EVENT
    ));
    assert!(!matches(
        r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
        COMPOUND_EVENT
    ));
    // Older revision, unquoted values.
    assert!(matches(
        "{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }",
        COMPOUND_EVENT
    ));
    assert!(matches("{ $.coordinates[1][2] = 6 }", COMPOUND_EVENT));
}

// Older revision, "OR Pattern Matching" in JSON filters.
#[test]
fn json_or_over_two_events() {
    let (bar, baz) = (r#"{"foo": "bar"}"#, r#"{"foo": "baz"}"#);
    assert!(matches("{$.foo = bar}", bar) && !matches("{$.foo = bar}", baz));
    assert!(matches("{$.foo = baz }", baz) && !matches("{$.foo = baz }", bar));
    assert!(matches("{$.foo = bar || $.foo = baz }", bar) && matches("{$.foo = bar || $.foo = baz }", baz));
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-json-log-events
// ("Writing filter patterns that match numeric values") and the older
// revision's numeric examples.
#[test]
fn numeric_comparisons() {
    let event = r#"{"bandwidth":76,"latency":1001,"refreshRate":60,"responseTime":5,"errorCode":400,"number":[1000],"numbers":[0.001],"processes":[0,0,0,0,{"averageRuntime":55.5}]}"#;
    for p in [
        "{ $.bandwidth > 75 }",
        "{ $.refreshRate >= 60 }",
        "{ $.responseTime <= 5 }",
        "{ $.errorCode = 400}",
        "{ $.errorCode != 500 }",
        "{ $.number[0] = 1e+3 }",
        "{ $.number[0] != 1e-3 }",
        "{ $.numbers[0] < 10e3 }",
        "{ $.numbers[0] < 10e-3 }",
        "{ $.processes[4].averageRuntime <= 55.5 }",
        "{ $.latency > +1000 }",
        "{ $.latency >= 500 }",
    ] {
        assert!(matches(p, event), "{p}");
    }
    for p in ["{ $.latency < 50 }", "{ $.errorCode = 500 }", "{ $.bandwidth > 76 }"] {
        assert!(!matches(p, event), "{p}");
    }
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-json-log-events
// ("Use the asterisk as a wild card"); the older revision: "*Event will
// match PutEvent and GetEvent. Event* will match EventId and EventName.
// Ev*ent will only match the actual string Ev*ent."
#[test]
fn string_wildcards_sit_at_either_end_only() {
    assert!(matches("{ $.e = *Event }", r#"{"e":"PutEvent"}"#));
    assert!(matches("{ $.e = Event* }", r#"{"e":"EventName"}"#));
    assert!(matches(r#"{ $.e = "Ev*ent" }"#, r#"{"e":"Ev*ent"}"#));
    assert!(!matches(r#"{ $.e = "Ev*ent" }"#, r#"{"e":"Event"}"#));
    // `= *` / `= "*"`: the field holds a value ("{ $.latency = * }").
    assert!(matches("{ $.latency = * }", r#"{"latency": 12}"#));
    assert!(!matches("{ $.latency = * }", r#"{"other": 12}"#));
}

// Not documented; recorded TestMetricFilter runs against AWS: quoted values
// compare with the number as written, unquoted numbers compare numerically,
// unquoted wildcards see the written number, a missing field matches
// neither `=` nor `!=`.
#[test]
fn numbers_against_quoted_and_unquoted_values() {
    let event = r#"{"someString":"111.111.111.111","someInt":123,"someFloat":12.34,"someFloat2":12.0}"#;
    for p in [
        r#"{ $.someInt = "123" }"#,
        r#"{ $.someInt != "123.0" }"#,
        "{ $.someInt = 123.0 }",
        r#"{ $.someFloat2 != "12" }"#,
        "{ $.someFloat2 = 12 }",
        "{ $.someInt = 1* }",
        "{ $.someInt = *23 }",
        "{ $.someFloat = 12.* }",
        "{ $.someString != 111*111 }",
        "{ $.someString = *.111.111.111 }",
    ] {
        assert!(matches(p, event), "{p}");
    }
    for p in [
        r#"{ $.notExisted != "UpdateTrail" }"#,
        r#"{ $.notExisted = "UpdateTrail" }"#,
        r#"{ $.someString = "11*1" }"#,
        "{ $.someString >= 123 }",
    ] {
        assert!(!matches(p, event), "{p}");
    }
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-json-log-events
// ("The variables IS NOT and EXISTS currently aren't supported"; quotas on
// wildcards and regexes) and recorded AWS answers for ordering operators.
#[test]
fn invalid_json_patterns_are_refused() {
    for p in [
        "{ $.a IS NOT NULL }",
        "{ $.a EXISTS }",
        "{ $.a IS MAYBE }",
        "{ $.eventType > UpdateTrail }",
        "{ $.eventType <= UpdateTrail }",
        "{ $.a = }",
        "{ $.a }",
        "{ }",
        "{ eventType = 1 }",
        "{ $ = 1 }",
        "{ $.a = 1 && }",
        "{ ($.a = 1 }",
        "{ $.a = 1 $.b = 2 }",
        "{ $.a[x] = 1 }",
        "{ $[0] = 1 }",
        "{ $.a[*].b[*] = 1 }",
        "{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 || $.d[*] = 1 }",
        "{ $.a = %a% || $.b = %b% || $.c = %c% }",
        "{ $.a > %1% }",
        "{ $.a = @home }",
    ] {
        assert!(FilterPattern::parse(p).is_err(), "{p}");
    }
    assert!(FilterPattern::parse("{ $.a[*] = 1 || $.b[*] = 1 || $.c[*] = 1 }").is_ok());
    assert!(FilterPattern::parse("{ $.a = %a% || $.b = %b% }").is_ok());
    assert_eq!(refused(r#"{ $.someInt >= "123" }"#), FilterPatternError::InvalidCharacters { term: "\"123\"".into() });
    assert_eq!(refused("{ $.a = 1"), FilterPatternError::UnterminatedJson);
}

#[test]
fn parenthesis_nesting_is_bounded() {
    let deep = format!("{{{}$.a = 1{}}}", "(".repeat(40), ")".repeat(40));
    assert!(FilterPattern::parse(&deep).is_err());
    let ok = format!("{{{}$.a = 1{}}}", "(".repeat(10), ")".repeat(10));
    assert!(matches(&ok, r#"{"a":1}"#));
}

// ---------------------------------------------------------------------------
// Space-delimited patterns.

const ACCESS_LOG: &str = r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-term-space-delimited-log-events
#[test]
fn documented_space_delimited_patterns_match_the_access_log() {
    for p in [
        r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
        "[..., request =*.html*, status_code = 4*, bytes]",
        "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
    ] {
        assert!(matches(p, ACCESS_LOG), "{p}");
    }
    let ok = ACCESS_LOG.replace(" 404 ", " 200 ");
    assert!(!matches("[..., request =*.html*, status_code = 4*, bytes]", &ok));
    assert!(!matches(
        "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
        &ok
    ));
    let other_ip = ACCESS_LOG.replace("127.0.0.1", "10.0.0.1");
    assert!(!matches(r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request, status_code, bytes]", &other_ip));
}

const SERVICE_LOG: [&str; 4] = [
    "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
    "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
    "WARNING 09/25/2014 12:00:02 Invalid user request",
    "ERROR 09/25/2014 12:00:02 Failed to process request",
];

fn over_service_log(p: &str) -> Vec<bool> {
    let p = pattern(p);
    SERVICE_LOG.iter().map(|l| p.matches(l)).collect()
}

// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-term-space-delimited-log-events
#[test]
fn terms_in_order_with_and_or_and_exclusion() {
    assert_eq!(over_service_log("[w1=ERROR, w2]"), [false, false, false, true]);
    assert_eq!(over_service_log("[w1=ERROR || w1=WARNING, w2]"), [false, false, true, true]);
    assert_eq!(over_service_log("[w1!=ERROR && w1!=WARNING, w2]"), [true, true, false, false]);
    assert_eq!(
        over_service_log("[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]"),
        [true, false, false, false]
    );
    assert_eq!(
        over_service_log("[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]"),
        [false, true, false, false]
    );
}

const APACHE: [&str; 3] = [
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#,
];

// Older revision, "Using Metric Filters to Extract Values from
// Space-Delimited Log Events".
#[test]
fn older_space_delimited_examples() {
    let run = |p: &str| {
        let p = pattern(p);
        APACHE.iter().map(|l| p.matches(l)).collect::<Vec<_>>()
    };
    assert_eq!(run("[ip, user, username, timestamp, request, status_code, bytes]"), [true; 3]);
    assert_eq!(run("[..., status_code, bytes]"), [true; 3]);
    assert_eq!(run("[ip, user, ..., status_code, bytes]"), [true; 3]);
    assert_eq!(run("[ip, user, ...]"), [true; 3]);
    assert_eq!(run("[ip, user, username, timestamp, request, status_code, bytes > 1000]"), [true; 3]);
    assert_eq!(run("[ip, user, username, timestamp, request, status_code, bytes > 5000]"), [false, true, false]);
    assert_eq!(run("[ip, user, username, timestamp, request, status_code = 200, bytes]"), [true, false, true]);
    assert_eq!(run("[ip, user, username, timestamp, request, status_code = 5*, bytes]"), [false, true, false]);
    assert_eq!(run("[ip, user, username, timestamp, request = *gif*, status_code = 5*, bytes]"), [false, true, false]);
    assert_eq!(
        run("[ip, user, username, timestamp, request, status_code = 403 || status_code = 500, bytes]"),
        [false, true, false]
    );
    // Fewer fields than the pattern names: no match.
    assert!(!matches("[a, b, c]", "one two"));
}

// Older revision: the extracted fields of `[..., request=*.html*, status_code=4*,]`.
#[test]
fn extracted_values_name_fields_and_number_the_rest() {
    let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
    let p = pattern("[..., request=*.html*, status_code=4*,]");
    let Some(m) = p.match_event(line) else {
        panic!("the documented example should match");
    };
    let got = m.extracted_values();
    let want: Vec<(String, String)> = [
        ("$1", "127.0.0.1"),
        ("$2", "-"),
        ("$3", "frank"),
        ("$4", "10/Oct/2000:13:25:15 -0700"),
        ("$request", "GET /index.html HTTP/1.0"),
        ("$status_code", "404"),
        ("$7", "1534"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(m.metric_value(&value("$7")), Some(1534.0));
    assert_eq!(m.field_value(&field("$request")).as_deref(), Some("GET /index.html HTTP/1.0"));
}

// The TestMetricFilter API reference's examples: each pattern over the
// documented events gives the documented matches (eventNumber, 0-based) and
// extractedValues.
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TestMetricFilter.html
fn test_metric_filter(p: &str, events: &[&str]) -> Vec<(usize, std::collections::BTreeMap<String, String>)> {
    let p = pattern(p);
    events
        .iter()
        .enumerate()
        .filter_map(|(n, e)| p.match_event(e).map(|m| (n, m.extracted_values().into_iter().collect())))
        .collect()
}

fn values(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// `$1`…`$4` of the API reference's access.log lines, shared by several
/// of its examples.
fn apache_leading(line: usize) -> Vec<(&'static str, &'static str)> {
    let times = ["10/Oct/2000:13:25:15 -0700", "10/Oct/2000:13:35:22 -0700", "10/Oct/2000:13:50:35 -0700"];
    vec![("$1", "127.0.0.1"), ("$2", "-"), ("$3", "frank"), ("$4", times[line])]
}

// API_TestMetricFilter.html, "To test a metric filter pattern on Apache
// access.log events": every field named. (The page prints `"$size": "1534,"`
// for the first two events, a typo: the events end in `1534` and `5324`, and
// the third shows `"4355"`.)
#[test]
fn test_metric_filter_example_all_fields_named() {
    let got = test_metric_filter("[ip, identity, user_id, timestamp, request, status_code, size]", &APACHE);
    let want: Vec<_> = [("200", "1534"), ("500", "5324"), ("200", "4355")]
        .iter()
        .enumerate()
        .map(|(n, (status, size))| {
            let timestamp = apache_leading(n)[3].1;
            let named = [
                ("$ip", "127.0.0.1"),
                ("$identity", "-"),
                ("$user_id", "frank"),
                ("$timestamp", timestamp),
                ("$request", "GET /apache_pb.gif HTTP/1.0"),
                ("$status_code", *status),
                ("$size", *size),
            ];
            (n, values(&named))
        })
        .collect();
    assert_eq!(got, want);
}

// API_TestMetricFilter.html, "... without specifying all the fields":
// `[..., size]` numbers the fields the ellipsis takes.
#[test]
fn test_metric_filter_example_ellipsis_then_size() {
    let got = test_metric_filter("[..., size]", &APACHE);
    let want: Vec<_> = [("200", "1534"), ("500", "5324"), ("200", "4355")]
        .iter()
        .enumerate()
        .map(|(n, (status, size))| {
            let mut pairs = apache_leading(n);
            pairs.extend([("$5", "GET /apache_pb.gif HTTP/1.0"), ("$6", *status), ("$size", *size)]);
            (n, values(&pairs))
        })
        .collect();
    assert_eq!(got, want);
}

// API_TestMetricFilter.html, "... without specifying any fields": `[]`
// extracts every field as `$1`…`$7`.
#[test]
fn test_metric_filter_example_empty_brackets_extract_every_field() {
    let got = test_metric_filter("[]", &APACHE);
    let want: Vec<_> = [("200", "1534"), ("500", "5324"), ("200", "4355")]
        .iter()
        .enumerate()
        .map(|(n, (status, size))| {
            let mut pairs = apache_leading(n);
            pairs.extend([("$5", "GET /apache_pb.gif HTTP/1.0"), ("$6", *status), ("$7", *size)]);
            (n, values(&pairs))
        })
        .collect();
    assert_eq!(got, want);
    // Blank brackets are the same pattern; the fields are positions a metric
    // value may name.
    assert_eq!(test_metric_filter("[ ]", &APACHE), got);
    assert_eq!(pattern("[]").kind(), PatternKind::SpaceDelimited);
    assert!(pattern("[]").check_metric_value(&value("$7")).is_ok());
    assert!(pattern("[]").check_metric_value(&value("$size")).is_err());
}

// API_TestMetricFilter.html, "... matches successful requests".
#[test]
fn test_metric_filter_example_successful_requests() {
    let got = test_metric_filter("[..., status_code=200, size]", &APACHE);
    let want: Vec<_> = [(0, "1534"), (2, "4355")]
        .iter()
        .map(|(n, size)| {
            let mut pairs = apache_leading(*n);
            pairs.extend([("$5", "GET /apache_pb.gif HTTP/1.0"), ("$status_code", "200"), ("$size", *size)]);
            (*n, values(&pairs))
        })
        .collect();
    assert_eq!(got, want);
}

// API_TestMetricFilter.html, "... matches 4XX response codes for HTML pages":
// the empty last field is unnamed and extracted as `$7`.
#[test]
fn test_metric_filter_example_4xx_html_pages() {
    let events = [
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /about-us/index.html HTTP/1.0" 200 5324"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 404 4355"#,
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /products/index.html HTTP/1.0" 400 1534"#,
    ];
    let got = test_metric_filter("[..., request=*.html*, status_code=4*,]", &events);
    let want: Vec<_> = [(0, "GET /index.html HTTP/1.0", "404"), (3, "GET /products/index.html HTTP/1.0", "400")]
        .iter()
        .map(|(n, request, status)| {
            let mut pairs = apache_leading(0);
            pairs.extend([("$request", *request), ("$status_code", *status), ("$7", "1534")]);
            (*n, values(&pairs))
        })
        .collect();
    assert_eq!(got, want);
}

// API_TestMetricFilter.html, the two `"[ERROR]"` examples: term patterns
// extract nothing (`"extractedValues": {}`).
#[test]
fn test_metric_filter_example_error_terms() {
    let events = [
        "02 May 2014 00:34:12,525 [INFO] Starting the application",
        "02 May 2014 00:35:14,245 [DEBUG] Database connection established",
        "02 May 2014 00:34:14,663 [INFO] Executing SQL Query",
        "02 May 2014 00:34:16,142 [ERROR] Unhanded exception: InvalidQueryException",
        "02 May 2014 00:34:16,224 [ERROR] Terminating the application",
    ];
    assert_eq!(test_metric_filter(r#""[ERROR]""#, &events), [(3, values(&[])), (4, values(&[]))]);
    assert_eq!(test_metric_filter(r#""[ERROR]" Exception"#, &events), [(3, values(&[]))]);
}

// awsdocs/amazon-cloudwatch-logs-user-guide#21: AWS refuses the older
// revision's `status_code = 4* && bytes > 1000` ("Invalid filter pattern").
#[test]
fn invalid_space_delimited_patterns_are_refused() {
    for p in [
        "[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]",
        "[a, b",
        "[a b, c]",
        "[a = ]",
        "[a IS NULL]",
        "[a NOT EXISTS]",
        "[a = 1 b]",
        "[a = %x% , b = %y%, c = %z%]",
        "[$a, b]",
    ] {
        assert!(FilterPattern::parse(p).is_err(), "{p}");
    }
}

// ---------------------------------------------------------------------------
// Metric values and dimensions.

// Older revision, "Publishing Numerical Values Found in Log Entries":
// `metricFilter: { $.latency = * } metricValue: $.latency`.
#[test]
fn metric_values_come_from_the_matched_event() {
    let p = pattern("{ $.latency = * }");
    let m = p.match_event(r#"{"latency": 42.5, "server": "web-1", "ok": true}"#);
    let Some(m) = m else { panic!("should match") };
    assert_eq!(m.metric_value(&value("$.latency")), Some(42.5));
    assert_eq!(m.metric_value(&value("1")), Some(1.0));
    assert_eq!(m.metric_value(&value("2.5")), Some(2.5));
    assert_eq!(m.field_value(&field("$.server")).as_deref(), Some("web-1"));
    assert_eq!(m.field_value(&field("$.ok")).as_deref(), Some("true"));
    assert_eq!(m.metric_value(&value("$.server")), None);
    assert_eq!(m.metric_value(&value("$.missing")), None);
    assert!(m.extracted_values().is_empty());
    assert!(p.check_metric_value(&value("$.latency")).is_ok());

    let d = pattern("[..., status_code, bytes]");
    let m = d.match_event(APACHE[1]);
    assert_eq!(m.and_then(|m| m.metric_value(&value("$bytes"))), Some(5324.0));
}

// API reference, MetricTransformation (metricValue at most 100 characters)
// and hashicorp/terraform-provider-aws#28881 ("The specified filter pattern
// does not support dimensions").
#[test]
fn metric_values_and_dimensions_are_validated_against_the_pattern() {
    for bad in ["", "abc", "$", "$.", "$.a[*]", "$.*", "$a-b", "1e", "NaN", "inf"] {
        assert!(MetricValue::parse(bad).is_err(), "{bad}");
    }
    assert!(MetricValue::parse(&"1".repeat(101)).is_err());
    assert_eq!(value("1"), MetricValue::Number(1.0));
    assert_eq!(value("$.latency").to_string(), "$.latency");
    assert_eq!(value("$bytes").to_string(), "$bytes");
    assert_eq!(field("$.['cluster.name']").to_string(), "$.['cluster.name']");

    let terms = pattern("ERROR");
    assert!(!terms.supports_dimensions());
    assert_eq!(terms.check_field(&field("$.x")), Err(MetricValueError::DimensionsNotSupported));
    assert_eq!(
        MetricValueError::DimensionsNotSupported.to_string(),
        "The specified filter pattern does not support dimensions"
    );
    assert!(terms.check_metric_value(&value("1")).is_ok());

    let json = pattern("{ $.a = 1 }");
    assert!(json.supports_dimensions());
    assert!(matches!(json.check_field(&field("$bytes")), Err(MetricValueError::UnknownField { .. })));

    let delimited = pattern("[ip, user, ..., status_code, bytes]");
    assert!(delimited.check_field(&field("$bytes")).is_ok());
    assert!(delimited.check_field(&field("$3")).is_ok());
    assert!(delimited.check_field(&field("$nope")).is_err());
    assert!(delimited.check_field(&field("$.bytes")).is_err());
}

// ---------------------------------------------------------------------------
// Errors, limits, robustness.

// API reference, PutMetricFilter: filterPattern "Maximum length of 1024";
// aws/aws-cdk#16278 for the message ("Invalid metric filter pattern").
#[test]
fn errors_carry_aws_messages() {
    let long = "a".repeat(1025);
    let e = refused(&long);
    assert!(e.to_string().starts_with("1 validation error detected: Value 'aaa"));
    assert!(e.to_string().ends_with("Member must have length less than or equal to 1024"));
    assert!(FilterPattern::parse(&"a".repeat(1024)).is_ok());

    let e = refused("{ $.a IS NOT NULL }");
    assert_eq!(e.to_string(), "Invalid metric filter pattern");
    assert_eq!(e.filter_log_events_message(), "Invalid filter pattern");
    assert!(e.reason().contains("IS NOT"));
    assert_eq!(refused("{ $.a = 1").to_string(), "If a filter pattern starts with '{' it must end with '}'");
    assert_eq!(refused("a.b").to_string(), "Invalid character(s) in term 'a.b'");
}

#[test]
fn patterns_round_trip_through_serde_as_text() {
    let p = pattern(&lab_pattern());
    let json = serde_json::to_string(&p).unwrap_or_default();
    assert_eq!(json, serde_json::to_string(&lab_pattern()).unwrap_or_default());
    let back: Result<FilterPattern, _> = serde_json::from_str(&json);
    assert_eq!(back.ok(), Some(p));
    assert!(serde_json::from_str::<FilterPattern>("\"{ $.a IS NOT NULL }\"").is_err());
}

/// Every prefix of every pattern above, and noise, parses or fails without
/// panicking, and matching never panics on odd events.
#[test]
fn no_input_panics() {
    let samples = [
        lab_pattern(),
        "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion))}"
            .to_owned(),
        r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]".to_owned(),
        "[..., request=*.html*, status_code=4*,]".to_owned(),
        r#"{ $.['cluster.name'] = "c" || $.* = %111\.111% && $.a[*] IS NULL }"#.to_owned(),
        "\"ERROR\" - \"Exiting\" ?WARN".to_owned(),
        r"%^a{3,5}[\d\W]\x3A|b$%".to_owned(),
        "[a, ..., b, ..., c]".to_owned(),
    ];
    let events = [JSON_EVENT, COMPOUND_EVENT, ACCESS_LOG, "", "[", "\"", "{\"a\":", "é [é] \"é", "a b c d e f g h"];
    for s in &samples {
        let chars: Vec<(usize, char)> = s.char_indices().collect();
        for (i, _) in &chars {
            for candidate in [&s[..*i], &s[*i..]] {
                if let Ok(p) = FilterPattern::parse(candidate) {
                    for e in events {
                        let _ = p.match_event(e).map(|m| m.extracted_values());
                    }
                }
            }
        }
    }
    // Deterministic noise over the pattern alphabet.
    let alphabet: Vec<char> = "{}[]()%$.*=!<>&|\"'?-, aZ09_éIS NULLNOT EXISTS\\".chars().collect();
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..3000 {
        let mut s = String::new();
        for _ in 0..(seed % 24) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        if let Ok(p) = FilterPattern::parse(&s) {
            for e in events {
                let _ = p.matches(e);
            }
        }
    }
}

#[test]
fn multiple_ellipses_find_an_alignment() {
    let p = pattern("[a, ..., b = x, ..., c]");
    assert!(p.matches("1 2 x 3 4"));
    assert!(p.matches("1 x 4"));
    assert!(!p.matches("1 2 3 4"));
    // Many tokens, many ellipses: memoised, so this stays fast.
    let line = vec!["t"; 2000].join(" ");
    let p = pattern("[..., a = y, ..., b = y, ..., c = y, ...]");
    assert!(!p.matches(&line));
}

// Not a documented rule: the pre-parse refusal must not change results when
// an event escapes characters (JSON allows `\u002e` for `.`, `\/` for `/`).
#[test]
fn escaped_events_still_match() {
    let escaped = cloudtrail_record("Decrypt", Some("IncorrectKeyException"), TASK_ROLE_ARN)
        .replace("kms.amazonaws.com", "kms\\u002eamazonaws.com")
        .replace(":role/", ":role\\/");
    assert!(pattern(&lab_pattern()).matches(&escaped));
    assert!(matches(r#"{ $.a = "x.y" }"#, r#"{"\u0061": "x\u002ey"}"#));
    assert!(!matches(r#"{ $.a = "x.y" }"#, r#"{"b": "x.y"}"#));
}

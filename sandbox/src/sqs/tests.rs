//! Unit tests of queue semantics with time passed in.

use super::*;
use serde_json::json;

fn ok(state: &mut SqsState, now: i64, operation: &str, input: serde_json::Value) -> Value {
    call(state, &CallContext::for_tests(now), "http://sandbox", operation, &input)
        .expect("known")
        .result
        .expect("succeeds")
}

fn handle_of(output: &Value) -> Option<String> {
    let json = crate::protocol::json::encode_output(output);
    json["Messages"][0]["ReceiptHandle"].as_str().map(str::to_owned)
}

#[test]
fn received_messages_return_after_the_visibility_timeout_until_deleted() {
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
    let mut state = SqsState::default();
    ok(&mut state, 0, "CreateQueue", json!({"QueueName": "q", "Attributes": {"VisibilityTimeout": "5"}}));
    let url = "http://sandbox/111122223333/q";
    let sent = ok(&mut state, 0, "SendMessage", json!({"QueueUrl": url, "MessageBody": "hello"}));
    let sent = crate::protocol::json::encode_output(&sent);
    assert_eq!(sent["MD5OfMessageBody"], "5d41402abc4b2a76b9719d911017c592");
    let first = ok(&mut state, 1_000, "ReceiveMessage", json!({"QueueUrl": url}));
    assert!(handle_of(&first).is_some());
    assert!(is_empty_receive(&ok(&mut state, 2_000, "ReceiveMessage", json!({"QueueUrl": url}))));
    let again = ok(&mut state, 6_500, "ReceiveMessage", json!({"QueueUrl": url}));
    let handle = handle_of(&again).expect("visible again");
    ok(&mut state, 6_600, "DeleteMessage", json!({"QueueUrl": url, "ReceiptHandle": handle}));
    assert!(state.messages("ap-southeast-2", "q").is_empty());
}

#[test]
fn messages_past_retention_are_dropped_and_unknown_queues_fail() {
    let mut state = SqsState::default();
    ok(&mut state, 0, "CreateQueue", json!({"QueueName": "q", "Attributes": {"MessageRetentionPeriod": "60"}}));
    state.deliver("arn:aws:sqs:ap-southeast-2:111122223333:q", "x".into(), "sns", 0).expect("delivered");
    ok(&mut state, 61_000, "ListQueues", json!({}));
    assert!(state.messages("ap-southeast-2", "q").is_empty());
    let error =
        call(&mut state, &CallContext::for_tests(0), "http://sandbox", "GetQueueUrl", &json!({"QueueName": "nope"}))
            .expect("known")
            .result
            .expect_err("missing");
    assert_eq!(error.code, "QueueDoesNotExist");
}

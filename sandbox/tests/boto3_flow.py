#!/usr/bin/env python3
"""The lab's loop against a running `keywatch sandbox`, through boto3.

Usage: python3 sandbox/tests/boto3_flow.py http://127.0.0.1:4599

Same loop as sandbox/tests/lab_flow.rs: a log group and a logging trail that
delivers to it, the lab's metric filter (lab.md, stack 3), an assumed task
role that encrypts, decrypts with the right key, then with wrong keys; the
failures must come back as CloudTrail records in the log group and as
datapoints in the sandbox's metric store. Then the second half
(sandbox/tests/alarm_loop.rs): the lab's alarm, put and read back in the
protocol botocore picks for CloudWatch (Smithy RPC v2 CBOR from botocore
1.43; AWS JSON 1.0 before), reaches ALARM and its
message arrives in an SQS queue subscribed to the alarm's SNS topic.
Exits non-zero on any mismatch.
Names carry a random suffix so the script can run again on the same state.
"""

import json
import sys
import time
import urllib.parse
import urllib.request
import uuid

import boto3
from botocore.exceptions import ClientError

REGION = "ap-southeast-2"
ACCOUNT = "111122223333"


def client(service, endpoint, **credentials):
    credentials = credentials or {
        "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **credentials)


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", file=sys.stderr)
        sys.exit(1)


def main(endpoint):
    suffix = uuid.uuid4().hex[:8]
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/pattern1-app-Pattern1ECSTaskRole-{suffix}"
    group = f"pattern1-logging-loggroup-{suffix}"
    trail = f"pattern1-logging-trail-{suffix}"
    namespace = f"Pattern1Application/KMSSecurity-{suffix}"
    logs, cloudtrail, sts, kms_admin = (client(s, endpoint) for s in ("logs", "cloudtrail", "sts", "kms"))
    bucket = f"pattern1-logging-bucket-{suffix}"
    s3 = client("s3", endpoint)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    # CreateTrail needs a bucket policy that lets CloudTrail write (lab.md, stack 3).
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:GetBucketAcl",
                        "Resource": f"arn:aws:s3:::{bucket}",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*",
                    },
                ],
            }
        ),
    )

    logs.create_log_group(logGroupName=group)
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    cloudtrail.create_trail(
        Name=trail,
        S3BucketName=bucket,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/pattern1-logging-CloudTrailToLogs",
    )
    cloudtrail.put_event_selectors(
        TrailName=trail, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    cloudtrail.start_logging(Name=trail)
    pattern = (
        '{ $.errorCode = "*" && $.eventSource= "kms.amazonaws.com" && '
        f'$.userIdentity.sessionContext.sessionIssuer.arn = "{role_arn}" }}'
    )
    logs.put_metric_filter(
        logGroupName=group,
        filterName="pattern1-logging-metricfilter",
        filterPattern=pattern,
        metricTransformations=[{"metricName": "KMSSecurityError", "metricNamespace": namespace, "metricValue": "1"}],
    )

    # The alarm and where it notifies, before the failures it counts.
    cloudwatch, sns, sqs = (client(s, endpoint) for s in ("cloudwatch", "sns", "sqs"))
    topic_arn = sns.create_topic(Name=f"pattern1-logging-topic-{suffix}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"alarm-inbox-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    alarm = f"pattern1-logging-alarm-{suffix}"
    cloudwatch.put_metric_alarm(
        AlarmName=alarm,
        Namespace=namespace,
        MetricName="KMSSecurityError",
        Statistic="Sum",
        Period=10,
        EvaluationPeriods=1,
        DatapointsToAlarm=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="ignore",
        AlarmActions=[topic_arn],
    )
    described = cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
    check(len(described) == 1 and described[0]["StateValue"] == "INSUFFICIENT_DATA", f"the alarm reads back ({described})")
    check(described[0]["Period"] == 10 and described[0]["TreatMissingData"] == "ignore", "its settings read back")

    key_id = kms_admin.create_key(Description="pattern1 app key")["KeyMetadata"]["KeyId"]
    credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="ecs-task")["Credentials"]
    check(credentials["AccessKeyId"].startswith("ASIA"), "AssumeRole returns ASIA keys")
    task = {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
    arn = client("sts", endpoint, **task).get_caller_identity()["Arn"]
    check(arn.endswith(f":assumed-role/pattern1-app-Pattern1ECSTaskRole-{suffix}/ecs-task"), f"caller is the role session ({arn})")
    kms = client("kms", endpoint, **task)

    blob = kms.encrypt(KeyId=key_id, Plaintext=b"my secret text")["CiphertextBlob"]
    check(kms.decrypt(KeyId=key_id, CiphertextBlob=blob)["Plaintext"] == b"my secret text", "decrypt with the right key")
    codes = []
    for _ in range(3):
        try:
            kms.decrypt(KeyId="some-random-false-key", CiphertextBlob=blob)
        except ClientError as error:
            codes.append(error.response["Error"]["Code"])
    check(codes == ["NotFoundException"] * 3, f"wrong keys fail with NotFoundException ({codes})")

    deadline = time.time() + 15
    while True:
        events = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
        if len(events) >= 3 or time.time() > deadline:
            break
        time.sleep(0.2)
    check(len(events) == 3, f"three failure records delivered ({len(events)})")
    for event in events:
        record = json.loads(event["message"])
        check(event["logStreamName"] == f"{ACCOUNT}_CloudTrail_{REGION}", "delivered to the CloudTrail stream")
        check(record["userIdentity"]["type"] == "AssumedRole", "recorded as AssumedRole")
        check(record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == role_arn, "session issuer is the role")
        check(record["errorCode"] == "NotFoundException", "errorCode recorded")

    query = urllib.parse.urlencode({"namespace": namespace, "metricName": "KMSSecurityError"})
    with urllib.request.urlopen(f"{endpoint}/_keywatch/metrics?{query}") as response:
        datapoints = json.load(response)["datapoints"]
    check([p["value"] for p in datapoints] == [1.0] * 3, f"three datapoints of 1 ({datapoints})")

    history = cloudtrail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Decrypt"}])
    check(len(history["Events"]) >= 4, "LookupEvents finds the Decrypt calls")

    deadline = time.time() + 35
    while cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"] != "ALARM":
        check(time.time() < deadline, "the alarm reaches ALARM")
        time.sleep(0.5)
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5).get("Messages", [])
    check(len(messages) == 1, f"the alarm message reaches the queue ({messages})")
    envelope = json.loads(messages[0]["Body"])
    check(envelope["Subject"] == f'ALARM: "{alarm}" in Asia Pacific (Sydney)', f"AWS's subject ({envelope['Subject']})")
    check(json.loads(envelope["Message"])["NewStateValue"] == "ALARM", "CloudWatch's alarm message")
    items = cloudwatch.describe_alarm_history(AlarmName=alarm)["AlarmHistoryItems"]
    check(any(i["HistoryItemType"] == "Action" for i in items), f"the action is in the history ({items})")
    print("boto3 flow: ok")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1].rstrip("/"))

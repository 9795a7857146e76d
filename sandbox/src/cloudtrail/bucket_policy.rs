//! Whether a bucket policy lets CloudTrail deliver a trail's log files:
//! CreateTrail and UpdateTrail refuse a bucket whose policy does not allow
//! `cloudtrail.amazonaws.com` both `s3:GetBucketAcl` on the bucket and
//! `s3:PutObject` under `[prefix/]AWSLogs/<account>/`
//! (`InsufficientS3BucketPolicyException`).
//!
//! <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html>
//!
//! Only `Allow` statements are read (CloudTrail's deliveries use TLS, so the
//! usual `aws:SecureTransport` deny never applies). Conditions on
//! `aws:SourceArn`, `aws:SourceAccount` and `s3:x-amz-acl` are evaluated
//! with `StringEquals`/`StringLike` (and `ArnEquals`/`ArnLike`); conditions on
//! other keys are taken as met.

use serde_json::Value;

/// What CloudTrail's delivery request looks like to the policy.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub bucket: &'a str,
    pub key_prefix: Option<&'a str>,
    pub account: &'a str,
    pub partition: &'a str,
    pub trail_arn: &'a str,
}

/// Whether `policy` (a JSON policy document) allows the delivery.
pub fn allows(policy: &str, delivery: &Delivery<'_>) -> bool {
    let Ok(document) = serde_json::from_str::<Value>(policy) else { return false };
    let statements: Vec<&Value> = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => return false,
    };
    let bucket_arn = format!("arn:{}:s3:::{}", delivery.partition, delivery.bucket);
    let prefix = delivery.key_prefix.filter(|p| !p.is_empty()).map(|p| format!("{p}/")).unwrap_or_default();
    // Any object CloudTrail writes lies under this path.
    let object_arn = format!("{bucket_arn}/{prefix}AWSLogs/{}/CloudTrail/x.json.gz", delivery.account);
    let acl = statements.iter().any(|s| statement_allows(s, "s3:GetBucketAcl", &bucket_arn, delivery));
    let write = statements.iter().any(|s| statement_allows(s, "s3:PutObject", &object_arn, delivery));
    acl && write
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(text)) => vec![text.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn statement_allows(statement: &Value, action: &str, resource: &str, delivery: &Delivery<'_>) -> bool {
    if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
        return false;
    }
    let principal_ok = match statement.get("Principal") {
        Some(Value::String(any)) => any == "*",
        Some(principal) => {
            strings(principal.get("Service")).contains(&"cloudtrail.amazonaws.com")
                || strings(principal.get("AWS")).contains(&"*")
        }
        None => false,
    };
    let action_ok = strings(statement.get("Action"))
        .iter()
        .any(|pattern| glob(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase()));
    let resource_ok = strings(statement.get("Resource")).iter().any(|pattern| glob(pattern, resource));
    principal_ok && action_ok && resource_ok && conditions_met(statement.get("Condition"), action, delivery)
}

fn conditions_met(conditions: Option<&Value>, action: &str, delivery: &Delivery<'_>) -> bool {
    let Some(Value::Object(operators)) = conditions else { return true };
    operators.iter().all(|(operator, tests)| {
        let Value::Object(tests) = tests else { return true };
        tests.iter().all(|(key, expected)| {
            let actual = match key.to_ascii_lowercase().as_str() {
                "aws:sourcearn" => delivery.trail_arn.to_owned(),
                "aws:sourceaccount" => delivery.account.to_owned(),
                // CloudTrail writes log files with this canned ACL.
                "s3:x-amz-acl" if action == "s3:PutObject" => "bucket-owner-full-control".to_owned(),
                _ => return true,
            };
            let patterns = strings(Some(expected));
            match operator.as_str() {
                "StringEquals" | "ArnEquals" => patterns.contains(&actual.as_str()),
                "StringLike" | "ArnLike" => patterns.iter().any(|p| glob(p, &actual)),
                "StringNotEquals" | "ArnNotEquals" => !patterns.contains(&actual.as_str()),
                "StringNotLike" | "ArnNotLike" => !patterns.iter().any(|p| glob(p, &actual)),
                _ => true,
            }
        })
    })
}

/// IAM's wildcard match: `*` any run of characters, `?` any one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(at) = star {
            pi = at + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAIL: &str = "arn:aws:cloudtrail:ap-southeast-2:111122223333:trail/pattern1-logging-trail";

    fn delivery(prefix: Option<&'static str>) -> Delivery<'static> {
        Delivery {
            bucket: "lab-trail",
            key_prefix: prefix,
            account: "111122223333",
            partition: "aws",
            trail_arn: TRAIL,
        }
    }

    /// The policy of the lab's logging.yaml (`TrailBucketPolicy`).
    fn lab_policy(source: &str) -> String {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::lab-trail",
                 "Condition": {"StringEquals": {"aws:SourceArn": source}}},
                {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": "arn:aws:s3:::lab-trail/AWSLogs/111122223333/*",
                 "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": source}}},
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": ["arn:aws:s3:::lab-trail", "arn:aws:s3:::lab-trail/*"],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
            ]
        })
        .to_string()
    }

    // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
    #[test]
    fn the_labs_policy_allows_its_trail_only() {
        assert!(allows(&lab_policy(TRAIL), &delivery(None)));
        assert!(!allows(&lab_policy("arn:aws:cloudtrail:ap-southeast-2:111122223333:trail/other"), &delivery(None)));
        // The write statement covers AWSLogs/ at the bucket's root only.
        assert!(!allows(&lab_policy(TRAIL), &delivery(Some("prefix"))));
    }

    #[test]
    fn both_statements_are_needed() {
        let write_only = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
            "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::lab-trail/*"}]});
        assert!(!allows(&write_only.to_string(), &delivery(None)));
        let both = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": ["s3:GetBucketAcl", "s3:Put*"], "Resource": ["arn:aws:s3:::lab-trail", "arn:aws:s3:::lab-trail/*"]}]});
        assert!(allows(&both.to_string(), &delivery(Some("p"))));
        assert!(!allows("not json", &delivery(None)));
    }

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/AWSLogs/1/x"));
        assert!(glob("s3:put?bject", "s3:putobject"));
        assert!(!glob("arn:aws:s3:::b/AWSLogs/2/*", "arn:aws:s3:::b/AWSLogs/1/x"));
    }
}

//! SNS subscriber rules, shared by the browser and the server: which
//! endpoints each protocol accepts (checked before anything is sent to AWS),
//! how endpoints are masked for display, and what a listed subscription's
//! ARN says about its status.
//!
//! Protocols and endpoint forms: <https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html>

use serde::{Deserialize, Serialize};

/// The protocols the Subscribers page can add.
pub const PROTOCOLS: &[&str] = &["email", "email-json", "https", "sqs", "sms", "lambda"];

/// Whether a subscription is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SubscriptionStatus {
    Confirmed,
    /// The endpoint's owner has not confirmed yet: no messages are delivered.
    PendingConfirmation,
    /// SNS shows `Deleted` for a pending subscription that was removed.
    Deleted,
}

impl SubscriptionStatus {
    /// Reads the `SubscriptionArn` SNS lists: an ARN once confirmed,
    /// `PendingConfirmation` before (`Subscribe` itself answers
    /// `pending confirmation`), `Deleted` after.
    /// <https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html>
    pub fn from_subscription_arn(arn: &str) -> SubscriptionStatus {
        if arn.starts_with("arn:") {
            SubscriptionStatus::Confirmed
        } else if arn.eq_ignore_ascii_case("deleted") {
            SubscriptionStatus::Deleted
        } else {
            SubscriptionStatus::PendingConfirmation
        }
    }

    /// The label the page shows.
    pub fn label(self) -> &'static str {
        match self {
            SubscriptionStatus::Confirmed => "Confirmed",
            SubscriptionStatus::PendingConfirmation => "Pending confirmation",
            SubscriptionStatus::Deleted => "Deleted",
        }
    }
}

/// The longest email address: RFC 5321 §4.5.3.1.3 allows a path of 256
/// octets including its angle brackets.
pub const MAX_EMAIL_CHARS: usize = 254;

/// Checks `endpoint` for `protocol` as SNS's Subscribe documents it; the
/// error says what is wrong in words for the form.
pub fn validate_endpoint(protocol: &str, endpoint: &str) -> Result<(), String> {
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Err("Enter an endpoint".into());
    }
    match protocol {
        "email" | "email-json" => {
            if endpoint.chars().count() > MAX_EMAIL_CHARS {
                Err(format!("An email address has at most {MAX_EMAIL_CHARS} characters"))
            } else if is_email(endpoint) {
                Ok(())
            } else {
                Err("Enter an email address such as ops@example.com".into())
            }
        }
        "https" => match endpoint.strip_prefix("https://") {
            Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace) => Ok(()),
            _ => Err("Enter a URL that begins with https://".into()),
        },
        "sms" => {
            // E.164: a plus sign and at most 15 digits.
            let digits = endpoint.strip_prefix('+').unwrap_or_default();
            if (8..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
            {
                Ok(())
            } else {
                Err("Enter a phone number in E.164 form, such as +61412345678".into())
            }
        }
        "sqs" => arn_of(endpoint, "sqs", 6).ok_or_else(|| {
            "Enter the ARN of an SQS queue, such as arn:aws:sqs:ap-southeast-2:111122223333:inbox".into()
        }),
        "lambda" => match endpoint.split(':').collect::<Vec<_>>().as_slice() {
            [_, _, "lambda", _, _, "function", name] | [_, _, "lambda", _, _, "function", name, _]
                if arn_of(endpoint, "lambda", 7).is_some() && !name.is_empty() =>
            {
                Ok(())
            }
            _ => Err("Enter the ARN of a Lambda function, such as \
                      arn:aws:lambda:ap-southeast-2:111122223333:function:notify"
                .into()),
        },
        // Echoed only when short and printable: the message goes back to the page.
        other if other.len() <= 20 && !other.chars().any(char::is_control) => {
            Err(format!("Keywatch does not add {other} subscriptions"))
        }
        _ => Err("Keywatch does not add subscriptions of that protocol".into()),
    }
}

/// `arn:<partition>:<service>:<region>:<12-digit account>:...` with at least
/// `parts` colon-separated parts.
fn arn_of(text: &str, service: &str, parts: usize) -> Option<()> {
    let fields: Vec<&str> = text.split(':').collect();
    let ok = fields.len() >= parts
        && fields[0] == "arn"
        && fields[1].starts_with("aws")
        && fields[2] == service
        && !fields[3].is_empty()
        && fields[4].len() == 12
        && fields[4].bytes().all(|b| b.is_ascii_digit())
        && fields[5..].iter().all(|f| !f.is_empty());
    ok.then_some(())
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else { return false };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// The endpoint as the page shows it: email local parts and phone digits
/// partly hidden, URL queries (which often carry tokens) and credentials
/// stripped; ARNs shown whole.
pub fn mask_endpoint(protocol: &str, endpoint: &str) -> String {
    match protocol {
        "email" | "email-json" => match endpoint.rsplit_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => "***".into(),
        },
        "sms" => {
            let digits: Vec<char> = endpoint.chars().filter(char::is_ascii_digit).collect();
            let shown: String = digits.iter().skip(digits.len().saturating_sub(2)).collect();
            format!("+{}{shown}", "*".repeat(digits.len().saturating_sub(2)))
        }
        "http" | "https" => {
            let without_query = endpoint.split(['?', '#']).next().unwrap_or_default();
            match without_query.split_once("://") {
                Some((scheme, rest)) => {
                    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
                    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
                    if path.is_empty() { format!("{scheme}://{host}") } else { format!("{scheme}://{host}/{path}") }
                }
                None => without_query.to_owned(),
            }
        }
        _ => endpoint.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Endpoint forms per protocol: https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html
    #[test]
    fn endpoints_are_checked_per_protocol_as_subscribe_documents() {
        assert!(validate_endpoint("email", "ops@example.com").is_ok());
        assert!(validate_endpoint("email-json", "ops@example.com").is_ok());
        assert!(validate_endpoint("email", "ops.example.com").is_err());
        assert!(validate_endpoint("https", "https://hooks.example.com/sns?token=1").is_ok());
        assert!(validate_endpoint("https", "http://hooks.example.com/sns").is_err());
        assert!(validate_endpoint("sms", "+61412345678").is_ok());
        assert!(validate_endpoint("sms", "0412345678").is_err());
        assert!(validate_endpoint("sqs", "arn:aws:sqs:ap-southeast-2:111122223333:inbox").is_ok());
        assert!(validate_endpoint("sqs", "https://sqs.ap-southeast-2.amazonaws.com/111122223333/inbox").is_err());
        assert!(validate_endpoint("lambda", "arn:aws:lambda:ap-southeast-2:111122223333:function:notify").is_ok());
        assert!(validate_endpoint("lambda", "arn:aws:lambda:ap-southeast-2:111122223333:function:notify:live").is_ok());
        assert!(validate_endpoint("lambda", "arn:aws:sqs:ap-southeast-2:111122223333:inbox").is_err());
        assert!(validate_endpoint("firehose", "x").is_err());
        assert!(validate_endpoint("email", " ").is_err());
        // RFC 5321 §4.5.3.1.3 (path at most 256 octets with "<" and ">").
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS));
        assert_eq!(validate_endpoint("email", &long), Err("An email address has at most 254 characters".to_owned()));
        let longest = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS - "@example.com".len()));
        assert!(validate_endpoint("email", &longest).is_ok());
    }

    #[test]
    fn sensitive_endpoints_are_masked() {
        assert_eq!(mask_endpoint("email", "ops@example.com"), "o***@example.com");
        assert_eq!(mask_endpoint("sms", "+61412345678"), "+*********78");
        assert_eq!(
            mask_endpoint("https", "https://user:pw@hooks.example.com/sns/in?token=secret#x"),
            "https://hooks.example.com/sns/in"
        );
        let queue = "arn:aws:sqs:ap-southeast-2:111122223333:inbox";
        assert_eq!(mask_endpoint("sqs", queue), queue);
    }

    // SubscriptionArn is "PendingConfirmation" until confirmed:
    // https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html
    #[test]
    fn the_listed_arn_gives_the_status() {
        use SubscriptionStatus::*;
        assert_eq!(SubscriptionStatus::from_subscription_arn("PendingConfirmation"), PendingConfirmation);
        assert_eq!(SubscriptionStatus::from_subscription_arn("pending confirmation"), PendingConfirmation);
        assert_eq!(SubscriptionStatus::from_subscription_arn("Deleted"), Deleted);
        assert_eq!(SubscriptionStatus::from_subscription_arn("arn:aws:sns:ap-southeast-2:111122223333:t:1"), Confirmed);
    }
}

//! The AWS Query protocol: form-encoded requests (`Action=...&Version=...`)
//! and XML responses, as STS, SNS and CloudFormation speak it.
//!
//! See <https://smithy.io/2.0/aws/protocols/aws-query-protocol.html>.

use std::fmt::Write as _;

use base64::Engine as _;

use super::value::Value;
use crate::error::{AwsError, Fault};

/// The XML namespace each Query service puts on its responses.
pub fn namespace(service: &str) -> &'static str {
    match service {
        "sts" => "https://sts.amazonaws.com/doc/2011-06-15/",
        "sns" => "http://sns.amazonaws.com/doc/2010-03-31/",
        "cloudformation" => "http://cloudformation.amazonaws.com/doc/2010-05-15/",
        "monitoring" => "http://monitoring.amazonaws.com/doc/2010-08-01/",
        "rds" => "http://rds.amazonaws.com/doc/2014-10-31/",
        "iam" => "https://iam.amazonaws.com/doc/2010-05-08/",
        _ => "https://sandbox.keywatch.invalid/doc/",
    }
}

/// Parses a form-encoded body or query string into its parameters, in order.
pub fn parse_params(form: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(form).into_owned().collect()
}

/// `<{Operation}Response><{Operation}Result>...</...><ResponseMetadata>...`.
pub fn encode_output(service: &str, operation: &str, output: &Value, request_id: &str) -> String {
    let mut xml = String::with_capacity(512);
    let _ = write!(xml, "<{operation}Response xmlns=\"{}\">", namespace(service));
    let _ = write!(xml, "<{operation}Result>");
    if let Value::Map(members) = output {
        write_members(&mut xml, members);
    }
    let _ = write!(xml, "</{operation}Result>");
    let _ = write!(xml, "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>");
    let _ = write!(xml, "</{operation}Response>");
    xml
}

/// The Query protocol's error document.
pub fn encode_error(service: &str, error: &AwsError, request_id: &str) -> String {
    let fault = match error.fault {
        Fault::Sender => "Sender",
        Fault::Receiver => "Receiver",
    };
    format!(
        "<ErrorResponse xmlns=\"{}\"><Error><Type>{fault}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        namespace(service),
        escape(&error.code),
        escape(&error.message),
    )
}

fn write_members(xml: &mut String, members: &[(String, Value)]) {
    for (name, value) in members {
        if matches!(value, Value::Null) {
            continue;
        }
        let _ = write!(xml, "<{name}>");
        write_value(xml, value);
        let _ = write!(xml, "</{name}>");
    }
}

fn write_value(xml: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::Bool(flag) => xml.push_str(if *flag { "true" } else { "false" }),
        Value::Integer(number) => {
            let _ = write!(xml, "{number}");
        }
        Value::Float(number) => {
            let _ = write!(xml, "{number}");
        }
        Value::String(text) => xml.push_str(&escape(text)),
        Value::Timestamp(millis) => xml.push_str(&super::iso8601(*millis)),
        Value::Blob(bytes) => xml.push_str(&base64::engine::general_purpose::STANDARD.encode(bytes)),
        // Query lists are wrapped in <member> elements.
        Value::List(items) => {
            for item in items {
                xml.push_str("<member>");
                write_value(xml, item);
                xml.push_str("</member>");
            }
        }
        Value::Map(members) => write_members(xml, members),
    }
}

/// Escapes text for XML element content.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_wrapped_in_response_and_result_elements() {
        // Shape of the GetCallerIdentity example in the STS API reference.
        let output = Value::structure()
            .with("Arn", "arn:aws:iam::123456789012:user/Alice")
            .with("UserId", "AKIAI44QH8DHBEXAMPLE")
            .with("Account", "123456789012");
        let xml = encode_output("sts", "GetCallerIdentity", &output, "req-1");
        assert_eq!(
            xml,
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/Alice</Arn>\
             <UserId>AKIAI44QH8DHBEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult>\
             <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
        );
    }

    #[test]
    fn lists_use_member_elements_and_text_is_escaped() {
        let output = Value::structure().with("Names", vec!["a<b", "c&d"]);
        let xml = encode_output("sns", "ListThings", &output, "r");
        assert!(xml.contains("<Names><member>a&lt;b</member><member>c&amp;d</member></Names>"), "{xml}");
    }

    #[test]
    fn errors_carry_type_code_and_message() {
        let error = AwsError::sender("InvalidAction", "Could not find operation <Nope>");
        let xml = encode_error("sts", &error, "r");
        assert!(xml.contains("<Type>Sender</Type><Code>InvalidAction</Code>"), "{xml}");
        assert!(xml.contains("<Message>Could not find operation &lt;Nope&gt;</Message>"), "{xml}");
    }
}

//! The REST-XML protocol as S3 speaks it: the request is handed to the
//! service's REST binding whole (method, path, query, headers, body), and the
//! binding answers with a [`RestOutput`] (status, headers, raw body), which
//! this module writes out. Errors are `<Error>` documents with S3's extra
//! members (`<BucketName>`, `<Key>`).
//!
//! See <https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html> and
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>.

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Response, StatusCode, header};

use super::query::escape;
use super::value::Value;
use crate::error::AwsError;

/// A REST request as the service's binding reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct RestInput {
    pub method: Method,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// Query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// Headers with lower-case names, in order.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl RestInput {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The first query parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether the query names `name` (`?policy`, `?delete`), with or without a value.
    pub fn has_param(&self, name: &str) -> bool {
        self.query.iter().any(|(n, _)| n == name)
    }
}

/// A REST response as the service's binding builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestOutput {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RestOutput {
    /// An empty response with `status`.
    pub fn empty(status: u16) -> RestOutput {
        RestOutput { status, headers: Vec::new(), body: Vec::new() }
    }

    /// A 200 response carrying an XML document.
    pub fn xml(document: String) -> RestOutput {
        RestOutput {
            status: 200,
            headers: vec![("content-type".into(), "application/xml".into())],
            body: format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{document}").into_bytes(),
        }
    }

    /// The same response with one more header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> RestOutput {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// As a [`Value`], the form every service hands the dispatcher.
    pub fn into_value(self) -> Value {
        let headers = self.headers.into_iter().map(|(name, value)| (name, Value::String(value))).collect();
        Value::structure()
            .with("Status", i64::from(self.status))
            .with("Headers", Value::Map(headers))
            .with("Body", Value::Blob(self.body))
    }

    /// Reads back a value made by [`RestOutput::into_value`].
    pub fn from_value(value: &Value) -> Option<RestOutput> {
        let Value::Map(members) = value else { return None };
        let member = |name: &str| members.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let status = match member("Status")? {
            Value::Integer(status) => u16::try_from(*status).ok()?,
            _ => return None,
        };
        let headers = match member("Headers")? {
            Value::Map(headers) => headers
                .iter()
                .filter_map(|(name, value)| match value {
                    Value::String(text) => Some((name.clone(), text.clone())),
                    _ => None,
                })
                .collect(),
            _ => return None,
        };
        let body = match member("Body")? {
            Value::Blob(body) => body.clone(),
            _ => return None,
        };
        Some(RestOutput { status, headers, body })
    }
}

/// Writes a service's [`RestOutput`] (carried as a [`Value`]) as HTTP.
pub fn encode_output(output: &Value, request_id: &str) -> Response<Body> {
    let Some(rest) = RestOutput::from_value(output) else {
        let error = AwsError::internal("the service returned no REST response");
        let mut response = Response::new(Body::from(encode_error(&error, request_id)));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        return response;
    };
    let content_length = rest.body.len();
    let mut response = Response::new(Body::from(rest.body));
    *response.status_mut() = StatusCode::from_u16(rest.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in rest.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            headers.append(name, value);
        }
    }
    if !headers.contains_key(header::CONTENT_LENGTH) && content_length > 0 {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(content_length));
    }
    if let Ok(request_id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amz-request-id", request_id);
    }
    response
}

/// S3's error document: `<Error><Code/><Message/>[details]<RequestId/></Error>`.
pub fn encode_error(error: &AwsError, request_id: &str) -> Vec<u8> {
    let details: String =
        error.details.iter().map(|(name, value)| format!("<{name}>{}</{name}>", escape(value))).collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>{details}<RequestId>{}</RequestId></Error>",
        escape(&error.code),
        escape(&error.message),
        escape(request_id)
    )
    .into_bytes()
}

/// Decodes `%XX` escapes in a URL path; `None` when they are not UTF-8.
/// A `%` not followed by two hex digits stays as it is.
pub fn percent_decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text).decode_utf8().ok().map(std::borrow::Cow::into_owned)
}

/// Everything but RFC 3986's unreserved characters and `/`.
const S3_KEY: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// Percent-encodes everything but unreserved characters and `/`, as S3's
/// `encoding-type=url` asks for keys and prefixes.
pub fn percent_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, S3_KEY).to_string()
}

/// The text of the first `<name>...</name>` element in `xml`, unescaped.
pub fn element_text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(unescape(&xml[start..end]))
}

/// The inner XML of every `<name>...</name>` element in `xml`, in order.
pub fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        found.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    found
}

/// Undoes XML's five entities and numeric character references.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let entity = &tail[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_coding_round_trips_keys() {
        assert_eq!(percent_decode("/b/a%20b/c%2Bd").as_deref(), Some("/b/a b/c+d"));
        assert_eq!(percent_encode("a b/c+d"), "a%20b/c%2Bd");
    }

    #[test]
    fn xml_helpers_read_elements() {
        let xml =
            "<Delete><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key></Object><Quiet>true</Quiet></Delete>";
        let keys: Vec<String> = elements(xml, "Object").iter().filter_map(|o| element_text(o, "Key")).collect();
        assert_eq!(keys, vec!["a&b".to_owned(), "c".to_owned()]);
        assert_eq!(element_text(xml, "Quiet").as_deref(), Some("true"));
    }

    // https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (REST error responses)
    #[test]
    fn errors_carry_s3_members() {
        let error =
            AwsError::sender("NoSuchBucket", "The specified bucket does not exist").with_detail("BucketName", "b");
        let xml = String::from_utf8(encode_error(&error, "r1")).expect("utf8");
        assert!(xml.contains("<Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b</BucketName><RequestId>r1</RequestId>"), "{xml}");
    }
}

//! Wire protocols: recognising which AWS service and operation a request is
//! for, decoding its input, and encoding outputs and errors the way that
//! service's protocol does.
//!
//! AWS routes by protocol-specific markers, and so does the sandbox:
//! `smithy-protocol: rpc-v2-cbor` with a `/service/S/operation/O` path (Smithy
//! RPC v2 CBOR), an `X-Amz-Target` header (AWS JSON 1.0 and 1.1), an `Action`
//! parameter (Query, whose service is named only by the SigV4 credential
//! scope), and otherwise REST. Service code never sees any of this.

pub mod cbor;
pub mod json;
pub mod query;
pub mod rest;
pub mod sigv4;
pub mod value;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Uri, header};

use crate::error::AwsError;
use sigv4::CredentialScope;
use value::Value;

/// The protocols AWS services speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Query,
    AwsJson1_0,
    AwsJson1_1,
    RpcV2Cbor,
    RestXml,
}

/// A decoded operation input.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Query protocol parameters, in order (`Action` and `Version` included).
    Params(Vec<(String, String)>),
    Json(serde_json::Value),
    Cbor(ciborium::value::Value),
    /// A REST request, left for the service's REST binding to read.
    Rest(rest::RestInput),
}

/// One AWS API call, decoded from HTTP.
#[derive(Debug, Clone)]
pub struct AwsRequest {
    /// The service's SigV4 signing name (`sts`, `kms`, `monitoring`, ...).
    pub service: String,
    pub operation: String,
    pub protocol: Protocol,
    pub region: String,
    pub scope: Option<CredentialScope>,
    pub user_agent: Option<String>,
    pub input: Input,
    pub request_id: String,
}

/// What a response is encoded with: enough of the request to answer it.
#[derive(Debug, Clone)]
pub struct ResponseContext {
    pub service: String,
    pub operation: String,
    pub protocol: Protocol,
    pub request_id: String,
}

impl AwsRequest {
    /// The context its response is encoded with.
    pub fn response_context(&self) -> ResponseContext {
        ResponseContext {
            service: self.service.clone(),
            operation: self.operation.clone(),
            protocol: self.protocol,
            request_id: self.request_id.clone(),
        }
    }
}

/// Maps an `X-Amz-Target` prefix (the Smithy service shape name) to the
/// service's signing name, for requests whose signature scope is missing.
fn service_for_target(prefix: &str) -> Option<&'static str> {
    Some(match prefix {
        "TrentService" => "kms",
        "Logs_20140328" => "logs",
        "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101" => "cloudtrail",
        "AmazonSQS" => "sqs",
        "GraniteServiceVersion20100801" => "monitoring",
        "AmazonEC2ContainerRegistry_V20150921" => "ecr",
        "AmazonEC2ContainerServiceV20141113" => "ecs",
        "secretsmanager" => "secretsmanager",
        "AWSSecurityTokenServiceV20110615" => "sts",
        _ => return None,
    })
}

/// Decodes an HTTP request into an [`AwsRequest`], or into the error its
/// protocol should answer with (boxed: it is much larger than the success).
pub fn decode(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
    default_region: &str,
    request_id: String,
) -> Result<AwsRequest, Box<(ResponseContext, AwsError)>> {
    let header_text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let scope = header_text("authorization").and_then(sigv4::credential_scope);
    let region = scope.as_ref().map_or(default_region.to_owned(), |s| s.region.clone());
    let scoped_service = scope.as_ref().map(|s| s.service.clone());
    let user_agent = header_text("user-agent").map(str::to_owned);
    let content_type = header_text("content-type").unwrap_or_default();

    let (protocol, service, operation, input) = if header_text("smithy-protocol") == Some("rpc-v2-cbor") {
        let (shape, operation) = cbor::parse_path(uri.path()).unwrap_or(("", ""));
        let service = scoped_service.unwrap_or_else(|| service_for_target(shape).unwrap_or(shape).to_owned());
        let input = if body.is_empty() {
            Ok(ciborium::value::Value::Map(Vec::new()))
        } else {
            ciborium::from_reader(body.as_ref()).map_err(|_| "the request body is not valid CBOR")
        };
        (Protocol::RpcV2Cbor, service, operation.to_owned(), input.map(Input::Cbor))
    } else if let Some(target) = header_text("x-amz-target") {
        let protocol = if content_type.contains("1.0") { Protocol::AwsJson1_0 } else { Protocol::AwsJson1_1 };
        let (prefix, operation) = target.rsplit_once('.').unwrap_or(("", target));
        let service = scoped_service.unwrap_or_else(|| service_for_target(prefix).unwrap_or(prefix).to_owned());
        let input = if body.is_empty() {
            Ok(serde_json::Value::Object(serde_json::Map::new()))
        } else {
            serde_json::from_slice(&body).map_err(|_| "the request body is not valid JSON")
        };
        (protocol, service, operation.to_owned(), input.map(Input::Json))
    } else if let Some(params) = query_params(method, uri, content_type, &body) {
        let operation = params.iter().find(|(name, _)| name == "Action").map(|(_, v)| v.clone()).unwrap_or_default();
        // The links in SNS messages (ConfirmSubscription, Unsubscribe) work
        // unsigned, as AWS's do; they name the service only by their ARNs.
        let sns_link = params.iter().any(|(name, value)| {
            (name == "TopicArn" || name == "SubscriptionArn") && value.split(':').nth(2) == Some("sns")
        }) && matches!(operation.as_str(), "ConfirmSubscription" | "Unsubscribe");
        let service = scoped_service.unwrap_or_else(|| if sns_link { "sns".to_owned() } else { String::new() });
        (Protocol::Query, service, operation, Ok(Input::Params(params)))
    } else {
        let query = uri.query().map(|q| query::parse_params(q.as_bytes())).unwrap_or_default();
        let headers = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        let input =
            Input::Rest(rest::RestInput { method: method.clone(), path: uri.path().to_owned(), query, headers, body });
        let operation = format!("{method} {}", uri.path());
        (Protocol::RestXml, scoped_service.unwrap_or_default(), operation, Ok(input))
    };

    let context = ResponseContext { service: service.clone(), operation: operation.clone(), protocol, request_id };
    match input {
        Ok(_) if service.is_empty() => Err(Box::new((
            context,
            AwsError::sender("MissingAuthenticationToken", "Request is missing Authentication Token"),
        ))),
        Ok(_) if operation.is_empty() => Err(Box::new((context, AwsError::sender("MissingAction", "Missing Action")))),
        Ok(input) => Ok(AwsRequest {
            service,
            operation,
            protocol,
            region,
            scope,
            user_agent,
            input,
            request_id: context.request_id,
        }),
        Err(message) => Err(Box::new((context, AwsError::sender("SerializationException", message)))),
    }
}

/// Query requests are form-encoded POSTs, or GETs with `Action` in the URL.
fn query_params(method: &Method, uri: &Uri, content_type: &str, body: &[u8]) -> Option<Vec<(String, String)>> {
    if *method == Method::POST && content_type.starts_with("application/x-www-form-urlencoded") {
        return Some(query::parse_params(body));
    }
    let params = query::parse_params(uri.query()?.as_bytes());
    params.iter().any(|(name, _)| name == "Action").then_some(params)
}

/// The error a protocol returns for an operation the service lacks: Query
/// services say `InvalidAction`, the others `UnknownOperationException`.
pub fn unknown_operation(context: &ResponseContext) -> AwsError {
    match context.protocol {
        Protocol::Query => AwsError::sender(
            "InvalidAction",
            format!("Could not find operation {} for the {} service", context.operation, context.service),
        ),
        _ => AwsError::unknown_operation(&context.service, &context.operation),
    }
}

/// Encodes a service's result as its protocol's HTTP response.
pub fn encode(context: &ResponseContext, result: Result<Value, AwsError>) -> Response<Body> {
    let (status, content_type, body): (StatusCode, &str, Vec<u8>) = match (&result, context.protocol) {
        (Ok(output), Protocol::Query) => (
            StatusCode::OK,
            "text/xml",
            query::encode_output(&context.service, &context.operation, output, &context.request_id).into_bytes(),
        ),
        (Err(error), Protocol::Query) => {
            (error.status, "text/xml", query::encode_error(&context.service, error, &context.request_id).into_bytes())
        }
        (Ok(output), Protocol::AwsJson1_0 | Protocol::AwsJson1_1) => {
            (StatusCode::OK, json_content_type(context.protocol), json::encode_output(output).to_string().into_bytes())
        }
        (Err(error), Protocol::AwsJson1_0 | Protocol::AwsJson1_1) => {
            (error.status, json_content_type(context.protocol), json::encode_error(error).to_string().into_bytes())
        }
        (Ok(output), Protocol::RpcV2Cbor) => (StatusCode::OK, "application/cbor", cbor::encode_output(output)),
        (Err(error), Protocol::RpcV2Cbor) => (error.status, "application/cbor", cbor::encode_error(error)),
        (Ok(output), Protocol::RestXml) => return rest::encode_output(output, &context.request_id),
        (Err(error), Protocol::RestXml) => {
            (error.status, "application/xml", rest::encode_error(error, &context.request_id))
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(request_id) = HeaderValue::from_str(&context.request_id) {
        headers.insert("x-amzn-requestid", request_id.clone());
        headers.insert("x-amz-request-id", request_id);
    }
    if context.protocol == Protocol::RpcV2Cbor {
        headers.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    }
    if let Err(error) = &result
        && let Ok(code) = HeaderValue::from_str(&error.code)
    {
        headers.insert("x-amzn-errortype", code);
    }
    // https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#aws-protocols-awsquerycompatible-trait
    if let Err(AwsError { query_code: Some(code), fault, .. }) = &result
        && context.protocol != Protocol::Query
    {
        let fault = if *fault == crate::error::Fault::Sender { "Sender" } else { "Receiver" };
        if let Ok(value) = HeaderValue::from_str(&format!("{code};{fault}")) {
            headers.insert("x-amzn-query-error", value);
        }
    }
    response
}

fn json_content_type(protocol: Protocol) -> &'static str {
    if protocol == Protocol::AwsJson1_0 { "application/x-amz-json-1.0" } else { "application/x-amz-json-1.1" }
}

/// Formats epoch milliseconds as ISO 8601 in UTC with milliseconds, the form
/// AWS's XML and CloudTrail records use.
pub fn iso8601(millis: i64) -> String {
    iso8601_utc(millis, true)
}

/// `millis` as `YYYY-MM-DDThh:mm:ss[.mmm]Z`, digits written directly: every
/// call's record and many responses carry a timestamp, and `format!`'s
/// padding machinery cost more than the rest of building the record.
pub(crate) fn iso8601_utc(millis: i64, with_millis: bool) -> String {
    let nanos = i128::from(millis) * 1_000_000;
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return String::new();
    };
    fn digits(out: &mut String, value: u32, width: u32) {
        for place in (0..width).rev() {
            let digit = (value / 10_u32.pow(place)) % 10;
            out.push(char::from(b'0' + digit as u8));
        }
    }
    let mut out = String::with_capacity(24);
    // Years outside 0..=9999 never reach here: AWS's timestamps are within.
    digits(&mut out, at.year().clamp(0, 9999) as u32, 4);
    out.push('-');
    digits(&mut out, u32::from(u8::from(at.month())), 2);
    out.push('-');
    digits(&mut out, u32::from(at.day()), 2);
    out.push('T');
    digits(&mut out, u32::from(at.hour()), 2);
    out.push(':');
    digits(&mut out, u32::from(at.minute()), 2);
    out.push(':');
    digits(&mut out, u32::from(at.second()), 2);
    if with_millis {
        out.push('.');
        digits(&mut out, u32::from(at.millisecond()), 3);
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("header"));
        }
        map
    }

    const STS_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261126/eu-west-1/sts/aws4_request, SignedHeaders=host, Signature=abc";

    #[test]
    fn query_requests_take_their_service_from_the_credential_scope() {
        let request = decode(
            &Method::POST,
            &Uri::from_static("/"),
            &headers(&[("authorization", STS_AUTH), ("content-type", "application/x-www-form-urlencoded")]),
            Bytes::from_static(b"Action=GetCallerIdentity&Version=2011-06-15"),
            "ap-southeast-2",
            "r".into(),
        )
        .expect("decoded");
        assert_eq!((request.service.as_str(), request.operation.as_str()), ("sts", "GetCallerIdentity"));
        assert_eq!(request.protocol, Protocol::Query);
        assert_eq!(request.region, "eu-west-1");
    }

    #[test]
    fn json_requests_are_routed_by_target() {
        let request = decode(
            &Method::POST,
            &Uri::from_static("/"),
            &headers(&[("x-amz-target", "TrentService.ListKeys"), ("content-type", "application/x-amz-json-1.1")]),
            Bytes::from_static(b"{}"),
            "ap-southeast-2",
            "r".into(),
        )
        .expect("decoded");
        assert_eq!((request.service.as_str(), request.operation.as_str()), ("kms", "ListKeys"));
        assert_eq!(request.protocol, Protocol::AwsJson1_1);
        assert_eq!(request.region, "ap-southeast-2");
    }

    #[test]
    fn cbor_requests_are_routed_by_path() {
        let request = decode(
            &Method::POST,
            &Uri::from_static("/service/GraniteServiceVersion20100801/operation/ListMetrics"),
            &headers(&[("smithy-protocol", "rpc-v2-cbor"), ("content-type", "application/cbor")]),
            Bytes::new(),
            "ap-southeast-2",
            "r".into(),
        )
        .expect("decoded");
        assert_eq!((request.service.as_str(), request.operation.as_str()), ("monitoring", "ListMetrics"));
        assert_eq!(request.protocol, Protocol::RpcV2Cbor);
    }

    #[test]
    fn malformed_bodies_are_rejected_in_their_protocol() {
        let (context, error) = *decode(
            &Method::POST,
            &Uri::from_static("/"),
            &headers(&[("x-amz-target", "TrentService.ListKeys"), ("content-type", "application/x-amz-json-1.1")]),
            Bytes::from_static(b"{not json"),
            "ap-southeast-2",
            "r".into(),
        )
        .expect_err("rejected");
        assert_eq!(context.protocol, Protocol::AwsJson1_1);
        assert_eq!(error.code, "SerializationException");
    }

    #[test]
    fn unsigned_query_requests_are_refused_like_aws_does() {
        let (_, error) = *decode(
            &Method::GET,
            &Uri::from_static("/?Action=GetCallerIdentity"),
            &HeaderMap::new(),
            Bytes::new(),
            "ap-southeast-2",
            "r".into(),
        )
        .expect_err("rejected");
        assert_eq!(error.code, "MissingAuthenticationToken");
    }

    #[test]
    fn iso8601_has_milliseconds_and_zulu() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_764_194_400_123), "2025-11-26T22:00:00.123Z");
    }
}

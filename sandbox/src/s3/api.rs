//! S3's REST-XML binding: which operation a request is (from its method,
//! path-style or virtual-hosted bucket, key and query), reading its input
//! (including `aws-chunked` bodies the SDKs send with flexible checksums),
//! and writing its output as S3's XML and headers.
//!
//! Shapes: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>.
//! Object operations are data events, which CloudTrail does not record as
//! management events; bucket operations are recorded:
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-s3-info.html>.

use base64::Engine as _;
use http::Method;

use super::{ObjectAttributes, S3State, checksum};
use crate::error::AwsError;
use crate::protocol::query::escape;
use crate::protocol::rest::{self, RestInput, RestOutput};
use crate::service::{Audit, AuditResource, CallContext, Handled};

/// Header or trailer fields, names lower case, in order.
type Fields = Vec<(String, String)>;

const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Where a request points: bucket and key, from the path or the Host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub bucket: Option<String>,
    pub key: Option<String>,
}

/// The bucket and key a request names: `/bucket/key` (path style), or a
/// Host `bucket.s3[.-]...` (virtual-hosted style) with `/key`.
pub fn target(input: &RestInput) -> Result<Target, AwsError> {
    let path = rest::percent_decode(&input.path)
        .ok_or_else(|| AwsError::sender("InvalidURI", "Couldn't parse the specified URI."))?;
    let path = path.strip_prefix('/').unwrap_or(&path);
    let host = input.header("host").unwrap_or_default();
    let hosted_bucket = host.find(".s3.").or_else(|| host.find(".s3-")).map(|at| host[..at].to_owned());
    let (bucket, key) = match hosted_bucket {
        Some(bucket) => (Some(bucket), Some(path.to_owned())),
        None => match path.split_once('/') {
            Some((bucket, key)) => (Some(bucket.to_owned()), Some(key.to_owned())),
            None => (Some(path.to_owned()), None),
        },
    };
    Ok(Target { bucket: bucket.filter(|b| !b.is_empty()), key: key.filter(|k| !k.is_empty()) })
}

/// The S3 operation a request is; empty when the sandbox lacks it.
pub fn operation(input: &RestInput) -> &'static str {
    let Ok(target) = target(input) else { return "" };
    let method = &input.method;
    match (target.bucket.is_some(), target.key.is_some()) {
        (false, _) if *method == Method::GET => "ListBuckets",
        (true, false) => {
            if input.has_param("policy") {
                match *method {
                    Method::PUT => "PutBucketPolicy",
                    Method::GET => "GetBucketPolicy",
                    Method::DELETE => "DeleteBucketPolicy",
                    _ => "",
                }
            } else if input.has_param("location") && *method == Method::GET {
                "GetBucketLocation"
            } else if input.has_param("delete") && *method == Method::POST {
                "DeleteObjects"
            } else if *method == Method::GET && input.param("list-type") == Some("2") {
                "ListObjectsV2"
            } else if input.query.is_empty() || input.query.iter().all(|(n, _)| n == "x-id") {
                match *method {
                    Method::PUT => "CreateBucket",
                    Method::HEAD => "HeadBucket",
                    Method::DELETE => "DeleteBucket",
                    // ListObjects (v1) is answered as v2 would be, without paging tokens.
                    Method::GET => "ListObjects",
                    _ => "",
                }
            } else if *method == Method::GET && !input.has_param("list-type") {
                "ListObjects"
            } else {
                ""
            }
        }
        (true, true) => match *method {
            Method::PUT
                if input.header("x-amz-copy-source").is_none() && input.query.iter().all(|(n, _)| n == "x-id") =>
            {
                "PutObject"
            }
            Method::GET if input.query.iter().all(|(n, _)| n == "x-id" || n.starts_with("response-")) => "GetObject",
            Method::HEAD => "HeadObject",
            Method::DELETE if input.query.iter().all(|(n, _)| n == "x-id") => "DeleteObject",
            _ => "",
        },
        _ => "",
    }
}

/// Runs an S3 call; `None` for an operation the sandbox lacks.
pub fn call(state: &mut S3State, ctx: &CallContext, operation: &str, input: &RestInput) -> Option<Handled> {
    let target = match target(input) {
        Ok(target) => target,
        Err(error) => return Some(Handled { result: Err(error), audit: None, mutated: false }),
    };
    let bucket = target.bucket.clone().unwrap_or_default();
    let key = target.key.clone().unwrap_or_default();
    let (result, mutates) = match operation {
        "ListBuckets" => (Ok(list_buckets(state, ctx)), false),
        "CreateBucket" => (create_bucket(state, ctx, &bucket, input), true),
        "HeadBucket" => (
            state.bucket(&bucket).map(|b| RestOutput::empty(200).with_header("x-amz-bucket-region", b.region.clone())),
            false,
        ),
        "DeleteBucket" => (state.delete_bucket(&bucket).map(|()| RestOutput::empty(204)), true),
        "GetBucketLocation" => (
            state.bucket(&bucket).map(|b| {
                // us-east-1 buckets report an empty constraint.
                let region = if b.region == "us-east-1" { String::new() } else { escape(&b.region) };
                RestOutput::xml(format!("<LocationConstraint xmlns=\"{XMLNS}\">{region}</LocationConstraint>"))
            }),
            false,
        ),
        "PutBucketPolicy" => (
            std::str::from_utf8(&input.body)
                .map_err(|_| {
                    AwsError::sender("MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
                })
                .and_then(|policy| state.put_bucket_policy(&bucket, policy))
                .map(|()| RestOutput::empty(204)),
            true,
        ),
        "GetBucketPolicy" => (
            state.bucket_policy(&bucket).map(|policy| RestOutput {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: policy.as_bytes().to_vec(),
            }),
            false,
        ),
        "DeleteBucketPolicy" => (state.delete_bucket_policy(&bucket).map(|()| RestOutput::empty(204)), true),
        "PutObject" => (put_object(state, ctx, &bucket, &key, input), true),
        "GetObject" => (
            state.object(&bucket, &key).and_then(|o| {
                let body = state.object_body(&bucket, &key)?;
                ranged(object_output(o, Some(body), checksum_mode(input)), input)
            }),
            false,
        ),
        "HeadObject" => (state.object(&bucket, &key).map(|o| object_output(o, None, checksum_mode(input))), false),
        "DeleteObject" => (state.delete_object(&bucket, &key).map(|_| RestOutput::empty(204)), true),
        "ListObjectsV2" | "ListObjects" => (list_objects(state, &bucket, input, operation == "ListObjectsV2"), false),
        "DeleteObjects" => (delete_objects(state, &bucket, input), true),
        _ => return None,
    };
    let read_only = !mutates;
    let audit = matches!(
        operation,
        "ListBuckets"
            | "CreateBucket"
            | "HeadBucket"
            | "DeleteBucket"
            | "GetBucketLocation"
            | "PutBucketPolicy"
            | "GetBucketPolicy"
            | "DeleteBucketPolicy"
    )
    .then(|| {
        let mut parameters = serde_json::Map::new();
        if !bucket.is_empty() {
            parameters.insert("bucketName".into(), bucket.clone().into());
        }
        if let Some(host) = input.header("host") {
            parameters.insert("Host".into(), host.into());
        }
        let resources = if bucket.is_empty() {
            Vec::new()
        } else {
            vec![AuditResource {
                resource_type: "AWS::S3::Bucket".into(),
                arn: format!("arn:{}:s3:::{bucket}", ctx.partition),
            }]
        };
        Audit {
            request_parameters: Some(serde_json::Value::Object(parameters)),
            response_elements: None,
            resources,
            read_only,
        }
    });
    Some(Handled { mutated: mutates && result.is_ok(), result: result.map(RestOutput::into_value), audit })
}

fn list_buckets(state: &S3State, ctx: &CallContext) -> RestOutput {
    let buckets: String = state
        .buckets
        .values()
        .filter(|b| b.owner_account == ctx.account())
        .map(|b| {
            format!(
                "<Bucket><Name>{}</Name><CreationDate>{}</CreationDate><BucketRegion>{}</BucketRegion></Bucket>",
                escape(&b.name),
                crate::protocol::iso8601(b.created_ms),
                escape(&b.region)
            )
        })
        .collect();
    RestOutput::xml(format!(
        "<ListAllMyBucketsResult xmlns=\"{XMLNS}\"><Owner><ID>{}</ID><DisplayName>sandbox</DisplayName></Owner><Buckets>{buckets}</Buckets></ListAllMyBucketsResult>",
        owner_id(ctx.account())
    ))
}

/// A stable canonical user id for the account (S3's owner ids are 64 hex).
fn owner_id(account: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, account.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// CreateBucket: the `LocationConstraint` must be the region the request
/// was sent to; outside us-east-1 it is required.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html>
fn create_bucket(
    state: &mut S3State,
    ctx: &CallContext,
    bucket: &str,
    input: &RestInput,
) -> Result<RestOutput, AwsError> {
    let body = String::from_utf8_lossy(&input.body);
    let constraint = rest::element_text(&body, "LocationConstraint").filter(|c| !c.is_empty());
    let region = constraint.clone().unwrap_or_else(|| "us-east-1".to_owned());
    if region != ctx.region {
        let message = match &constraint {
            Some(c) => format!("The {c} location constraint is incompatible for the region specific endpoint this request was sent to."),
            None => "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.".to_owned(),
        };
        return Err(AwsError::sender("IllegalLocationConstraintException", message));
    }
    state.create_bucket(bucket, &region, ctx.account(), ctx.now)?;
    Ok(RestOutput::empty(200).with_header("location", format!("/{bucket}")))
}

/// Decodes an `aws-chunked` body: `<hex size>[;chunk-signature=...]\r\n<data>\r\n`
/// chunks ending with a zero-size chunk and optional trailers (checksums);
/// returns the data and the trailers.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>
pub fn decode_aws_chunked(body: &[u8]) -> Result<(Vec<u8>, Fields), AwsError> {
    let malformed = || AwsError::sender("IncompleteBody", "The request body terminated unexpectedly");
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").ok_or_else(malformed)?;
        let line = std::str::from_utf8(&rest[..line_end]).map_err(|_| malformed())?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| malformed())?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            // What follows are trailers (`x-amz-checksum-crc32:...`, and
            // `x-amz-trailer-signature` when signed), then an empty line.
            let trailers = String::from_utf8_lossy(rest)
                .split("\r\n")
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
                .collect();
            return Ok((out, trailers));
        }
        if rest.len() < size {
            return Err(malformed());
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size..];
        rest = rest.strip_prefix(b"\r\n").ok_or_else(malformed)?;
    }
}

/// The request body with any `aws-chunked` framing removed, and the
/// flexible checksums (headers and trailers) it was verified against.
fn payload(input: &RestInput) -> Result<(Vec<u8>, Fields), AwsError> {
    let (body, trailers) = framed_payload(input)?;
    let fields: Vec<(String, String)> = input.headers.iter().cloned().chain(trailers).collect();
    let checksums = checksum::verify(&fields, &body)?;
    Ok((body, checksums))
}

fn framed_payload(input: &RestInput) -> Result<(Vec<u8>, Fields), AwsError> {
    let chunked = input.header("content-encoding").is_some_and(|e| e.split(',').any(|p| p.trim() == "aws-chunked"))
        || input.header("x-amz-content-sha256").is_some_and(|h| h.starts_with("STREAMING-"));
    if !chunked {
        return Ok((input.body.to_vec(), Vec::new()));
    }
    let (decoded, trailers) = decode_aws_chunked(&input.body)?;
    if let Some(expected) = input.header("x-amz-decoded-content-length").and_then(|l| l.parse::<usize>().ok())
        && expected != decoded.len()
    {
        return Err(AwsError::sender(
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
        ));
    }
    Ok((decoded, trailers))
}

/// Checks a `Content-MD5` header against the body (`BadDigest` when they differ).
fn check_content_md5(input: &RestInput, body: &[u8]) -> Result<(), AwsError> {
    let Some(given) = input.header("content-md5") else { return Ok(()) };
    let digest = {
        use md5::Digest as _;
        md5::Md5::digest(body)
    };
    if base64::engine::general_purpose::STANDARD.encode(digest) == given.trim() {
        Ok(())
    } else {
        Err(AwsError::sender("BadDigest", "The Content-MD5 you specified did not match what we received."))
    }
}

fn put_object(
    state: &mut S3State,
    ctx: &CallContext,
    bucket: &str,
    key: &str,
    input: &RestInput,
) -> Result<RestOutput, AwsError> {
    let (body, checksums) = payload(input)?;
    check_content_md5(input, &body)?;
    let content_encoding = input
        .header("content-encoding")
        .map(|e| e.split(',').map(str::trim).filter(|p| *p != "aws-chunked").collect::<Vec<_>>().join(","))
        .filter(|e| !e.is_empty());
    let metadata = input
        .headers
        .iter()
        .filter_map(|(name, value)| name.strip_prefix("x-amz-meta-").map(|n| (n.to_owned(), value.clone())))
        .collect();
    let attributes = ObjectAttributes {
        content_type: input.header("content-type").map(str::to_owned),
        content_encoding,
        metadata,
        checksums: checksums.iter().cloned().collect(),
    };
    let etag = state.put_object(bucket, key, body, attributes, ctx.now)?;
    let mut output = RestOutput::empty(200).with_header("etag", etag);
    // S3 answers with the checksums it verified.
    for (name, value) in checksums {
        output = output.with_header(&name, value);
    }
    Ok(output)
}

/// Whether the caller asked for the object's checksums (`x-amz-checksum-mode: ENABLED`).
fn checksum_mode(input: &RestInput) -> bool {
    input.header("x-amz-checksum-mode").is_some_and(|mode| mode.eq_ignore_ascii_case("ENABLED"))
}

/// GetObject's or HeadObject's response: the body (GET only) and its
/// headers, with the stored checksums when asked for (the SDKs then
/// validate the body against them).
fn object_output(object: &super::Object, body: Option<Vec<u8>>, with_checksums: bool) -> RestOutput {
    let with_body = body.is_some();
    let mut output = RestOutput {
        status: 200,
        headers: vec![
            ("content-type".into(), object.content_type.clone()),
            ("etag".into(), object.etag.clone()),
            ("last-modified".into(), http_date(object.last_modified_ms)),
            ("accept-ranges".into(), "bytes".into()),
        ],
        body: body.unwrap_or_default(),
    };
    if !with_body {
        // HEAD tells the size of the body it leaves out.
        output.headers.push(("content-length".into(), object.len().to_string()));
    }
    if let Some(encoding) = &object.content_encoding {
        output.headers.push(("content-encoding".into(), encoding.clone()));
    }
    for (name, value) in &object.metadata {
        output.headers.push((format!("x-amz-meta-{name}"), value.clone()));
    }
    if with_checksums && !object.checksums.is_empty() {
        output.headers.extend(object.checksums.iter().map(|(name, value)| (name.clone(), value.clone())));
        output.headers.push(("x-amz-checksum-type".into(), "FULL_OBJECT".into()));
    }
    output
}

/// Applies a `Range: bytes=...` header to a GetObject response: 206 with
/// `Content-Range`, or `InvalidRange` (416) when no byte of it exists. A
/// header S3 cannot parse is ignored, as S3 does.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html> (Range)
fn ranged(mut output: RestOutput, input: &RestInput) -> Result<RestOutput, AwsError> {
    let Some(spec) = input.header("range").and_then(|r| r.trim().strip_prefix("bytes=")) else { return Ok(output) };
    let Some((first, last)) = spec.split_once('-') else { return Ok(output) };
    let size = output.body.len();
    let (start, end) = match (first.trim().parse::<usize>().ok(), last.trim().parse::<usize>().ok()) {
        (Some(start), Some(end)) if start <= end => (start, end.min(size.saturating_sub(1))),
        (Some(start), None) if last.trim().is_empty() => (start, size.saturating_sub(1)),
        (None, Some(suffix)) if first.trim().is_empty() && suffix > 0 => {
            (size.saturating_sub(suffix), size.saturating_sub(1))
        }
        _ => return Ok(output),
    };
    if start >= size {
        return Err(AwsError::sender("InvalidRange", "The requested range is not satisfiable")
            .with_status(http::StatusCode::RANGE_NOT_SATISFIABLE)
            .with_detail("RangeRequested", format!("bytes={spec}"))
            .with_detail("ActualObjectSize", size.to_string()));
    }
    output.body = output.body[start..=end].to_vec();
    output.status = 206;
    output.headers.push(("content-range".into(), format!("bytes {start}-{end}/{size}")));
    // A part's checksum is not the object's: leave the object's out.
    output.headers.retain(|(name, _)| !name.starts_with("x-amz-checksum-"));
    Ok(output)
}

/// RFC 7231 dates (`Wed, 21 Oct 2015 07:28:00 GMT`), as `Last-Modified` uses.
fn http_date(millis: i64) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000)) else {
        return String::new();
    };
    let weekday = &at.weekday().to_string()[..3];
    let month = &at.month().to_string()[..3];
    format!(
        "{weekday}, {:02} {month} {} {:02}:{:02}:{:02} GMT",
        at.day(),
        at.year(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// ListObjectsV2 (and v1, without its paging): `prefix`, `delimiter`,
/// `max-keys` (default and most 1000), `continuation-token`, `start-after`,
/// `encoding-type=url`.
fn list_objects(state: &S3State, bucket: &str, input: &RestInput, v2: bool) -> Result<RestOutput, AwsError> {
    let prefix = input.param("prefix").unwrap_or_default();
    let delimiter = input.param("delimiter").filter(|d| !d.is_empty());
    let max_keys = match input.param("max-keys") {
        Some(text) => text.parse::<usize>().map_err(|_| {
            AwsError::sender("InvalidArgument", "Provided max-keys not an integer or within integer range")
        })?,
        None => 1000,
    }
    .min(1000);
    let token = input.param("continuation-token");
    let after_token = match token {
        Some(token) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| AwsError::sender("InvalidArgument", "The continuation token provided is incorrect"))?,
        ),
        None => None,
    };
    let start_after = input.param("start-after").filter(|s| !s.is_empty());
    let marker = if v2 { None } else { input.param("marker").filter(|s| !s.is_empty()) };
    let after = after_token.as_deref().or(start_after).or(marker);
    let page = state.list_objects(bucket, prefix, delimiter, after, max_keys)?;
    let url = input.param("encoding-type") == Some("url");
    let text = |value: &str| if url { rest::percent_encode(value) } else { escape(value) };
    let mut xml =
        format!("<ListBucketResult xmlns=\"{XMLNS}\"><Name>{}</Name><Prefix>{}</Prefix>", escape(bucket), text(prefix));
    if let Some(delimiter) = delimiter {
        xml.push_str(&format!("<Delimiter>{}</Delimiter>", text(delimiter)));
    }
    xml.push_str(&format!("<MaxKeys>{max_keys}</MaxKeys>"));
    if url {
        xml.push_str("<EncodingType>url</EncodingType>");
    }
    xml.push_str(&format!("<IsTruncated>{}</IsTruncated>", page.is_truncated));
    if v2 {
        xml.push_str(&format!("<KeyCount>{}</KeyCount>", page.contents.len() + page.common_prefixes.len()));
        if let Some(token) = token {
            xml.push_str(&format!("<ContinuationToken>{}</ContinuationToken>", escape(token)));
        }
        if let Some(next) = &page.next_after {
            let next = base64::engine::general_purpose::STANDARD.encode(next.as_bytes());
            xml.push_str(&format!("<NextContinuationToken>{next}</NextContinuationToken>"));
        }
        if let Some(start_after) = start_after {
            xml.push_str(&format!("<StartAfter>{}</StartAfter>", text(start_after)));
        }
    } else if let Some(next) = &page.next_after {
        xml.push_str(&format!("<NextMarker>{}</NextMarker>", text(next)));
    }
    for object in &page.contents {
        xml.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            text(&object.key),
            crate::protocol::iso8601(object.last_modified_ms),
            escape(&object.etag),
            object.len()
        ));
    }
    for common in &page.common_prefixes {
        xml.push_str(&format!("<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>", text(common)));
    }
    xml.push_str("</ListBucketResult>");
    Ok(RestOutput::xml(xml))
}

/// DeleteObjects (`POST /bucket?delete`): at most 1000 keys; it needs
/// `Content-MD5` or a flexible checksum header; `Quiet` reports errors only.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>
fn delete_objects(state: &mut S3State, bucket: &str, input: &RestInput) -> Result<RestOutput, AwsError> {
    state.bucket(bucket)?;
    let has_checksum = input.header("content-md5").is_some()
        || input
            .headers
            .iter()
            .any(|(name, _)| name.starts_with("x-amz-checksum-") || name == "x-amz-sdk-checksum-algorithm");
    if !has_checksum {
        return Err(AwsError::sender("InvalidRequest", "Missing required header for this request: Content-MD5"));
    }
    let (body, _) = payload(input)?;
    check_content_md5(input, &body)?;
    let xml = String::from_utf8_lossy(&body);
    let malformed = || {
        AwsError::sender(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
        )
    };
    if !xml.contains("<Delete") {
        return Err(malformed());
    }
    let keys: Vec<String> =
        rest::elements(&xml, "Object").iter().filter_map(|o| rest::element_text(o, "Key")).collect();
    if keys.is_empty() || keys.len() > 1000 {
        return Err(malformed());
    }
    let quiet = rest::element_text(&xml, "Quiet").is_some_and(|q| q.trim() == "true");
    let mut out = format!("<DeleteResult xmlns=\"{XMLNS}\">");
    for key in keys {
        state.delete_object(bucket, &key)?;
        if !quiet {
            out.push_str(&format!("<Deleted><Key>{}</Key></Deleted>", escape(&key)));
        }
    }
    out.push_str("</DeleteResult>");
    Ok(RestOutput::xml(out))
}

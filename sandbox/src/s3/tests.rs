//! S3 service logic and REST binding, on plain data.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::Method;

use super::api::{self, decode_aws_chunked};
use super::*;
use crate::protocol::rest::{RestInput, RestOutput};
use crate::service::CallContext;

fn request(method: Method, path: &str, query: &[(&str, &str)], body: &str) -> RestInput {
    RestInput {
        method,
        path: path.to_owned(),
        query: query.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
        headers: vec![("host".into(), "127.0.0.1:4566".into())],
        body: Bytes::from(body.to_owned()),
    }
}

fn run(state: &mut S3State, input: &RestInput) -> Result<RestOutput, crate::error::AwsError> {
    let ctx = CallContext::for_tests(1_000);
    let operation = api::operation(input);
    let handled = api::call(state, &ctx, operation, input).expect("known operation");
    handled.result.map(|value| RestOutput::from_value(&value).expect("rest output"))
}

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
#[test]
fn bucket_names_follow_the_general_purpose_rules() {
    for good in ["abc", "my-bucket.logs", "a1b2c3"] {
        assert!(check_bucket_name(good).is_ok(), "{good}");
    }
    for bad in ["ab", "My-Bucket", "-abc", "abc-", "a..b", "192.168.5.4", "xn--abc", "abc-s3alias", &"a".repeat(64)] {
        assert_eq!(check_bucket_name(bad).expect_err(bad).code, "InvalidBucketName", "{bad}");
    }
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html (errors)
#[test]
fn creating_an_owned_bucket_again_conflicts_except_in_us_east_1() {
    let mut state = S3State::default();
    state.create_bucket("lab", "ap-southeast-2", "111122223333", 0).expect("created");
    let again = state.create_bucket("lab", "ap-southeast-2", "111122223333", 0).expect_err("owned");
    assert_eq!((again.code.as_str(), again.status.as_u16()), ("BucketAlreadyOwnedByYou", 409));
    let other = state.create_bucket("lab", "ap-southeast-2", "444455556666", 0).expect_err("taken");
    assert_eq!((other.code.as_str(), other.status.as_u16()), ("BucketAlreadyExists", 409));
    state.create_bucket("east", "us-east-1", "111122223333", 0).expect("created");
    state.create_bucket("east", "us-east-1", "111122223333", 0).expect("legacy 200 in us-east-1");
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html (LocationConstraint)
#[test]
fn create_bucket_needs_the_location_constraint_of_its_region() {
    let mut state = S3State::default();
    let missing = run(&mut state, &request(Method::PUT, "/lab", &[], "")).expect_err("no constraint");
    assert_eq!(missing.code, "IllegalLocationConstraintException");
    let body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>ap-southeast-2</LocationConstraint></CreateBucketConfiguration>";
    let created = run(&mut state, &request(Method::PUT, "/lab", &[], body)).expect("created");
    assert_eq!(created.headers, vec![("location".to_owned(), "/lab".to_owned())]);
    let location = run(&mut state, &request(Method::GET, "/lab", &[("location", "")], "")).expect("location");
    assert!(String::from_utf8_lossy(&location.body).contains(">ap-southeast-2</LocationConstraint>"));
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html (BucketNotEmpty)
#[test]
fn buckets_with_objects_cannot_be_deleted() {
    let mut state = S3State::default();
    state.create_bucket("lab", "ap-southeast-2", "111122223333", 0).expect("created");
    state.put_object("lab", "a.txt", b"hi".to_vec(), ObjectAttributes::default(), 0).expect("put");
    let error = state.delete_bucket("lab").expect_err("not empty");
    assert_eq!((error.code.as_str(), error.status.as_u16()), ("BucketNotEmpty", 409));
    assert!(state.delete_object("lab", "a.txt").expect("deleted"));
    state.delete_bucket("lab").expect("deleted");
    let gone = state.delete_bucket("lab").expect_err("gone");
    assert_eq!((gone.code.as_str(), gone.status.as_u16()), ("NoSuchBucket", 404));
    assert_eq!(gone.details, vec![("BucketName".to_owned(), "lab".to_owned())]);
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html (ETag is the MD5 of the object data)
#[test]
fn etags_are_quoted_md5() {
    assert_eq!(etag(b""), "\"d41d8cd98f00b204e9800998ecf8427e\"");
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html (chunked upload body)
#[test]
fn aws_chunked_bodies_are_decoded_with_trailers() {
    let body = b"5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
    let (data, trailers) = decode_aws_chunked(body).expect("decoded");
    assert_eq!(data, b"hello world");
    assert_eq!(trailers, vec![("x-amz-checksum-crc32".to_owned(), "AAAAAA==".to_owned())]);
    assert_eq!(decode_aws_chunked(b"5\r\nhel").expect_err("short").code, "IncompleteBody");
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html (Delimiter, CommonPrefixes, MaxKeys)
#[test]
fn listing_rolls_up_common_prefixes_and_pages() {
    let mut state = S3State::default();
    state.create_bucket("lab", "ap-southeast-2", "111122223333", 0).expect("created");
    for key in ["a/1", "a/2", "b", "c/1", "d"] {
        state.put_object("lab", key, vec![1], ObjectAttributes::default(), 0).expect("put");
    }
    let page = state.list_objects("lab", "", Some("/"), None, 2).expect("page");
    assert_eq!(page.common_prefixes, vec!["a/".to_owned()]);
    assert_eq!(page.contents.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), vec!["b"]);
    assert!(page.is_truncated);
    let next = state.list_objects("lab", "", Some("/"), page.next_after.as_deref(), 2).expect("page");
    assert_eq!(next.common_prefixes, vec!["c/".to_owned()]);
    assert_eq!(next.contents.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), vec!["d"]);
    assert!(!next.is_truncated);
    let prefixed = state.list_objects("lab", "a/", None, Some("a/1"), 1000).expect("page");
    assert_eq!(prefixed.contents.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), vec!["a/2"]);
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html (Content-MD5 or x-amz-checksum required; Quiet)
#[test]
fn delete_objects_needs_a_checksum_and_honours_quiet() {
    let mut state = S3State::default();
    state.create_bucket("lab", "ap-southeast-2", "111122223333", 0).expect("created");
    state.put_object("lab", "a", vec![1], ObjectAttributes::default(), 0).expect("put");
    let body = "<Delete><Object><Key>a</Key></Object><Object><Key>missing</Key></Object></Delete>";
    let unsigned = run(&mut state, &request(Method::POST, "/lab", &[("delete", "")], body)).expect_err("no md5");
    assert_eq!(unsigned.code, "InvalidRequest");
    let mut with_md5 = request(Method::POST, "/lab", &[("delete", "")], body);
    let md5 = {
        use base64::Engine as _;
        use md5::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(body.as_bytes()))
    };
    with_md5.headers.push(("content-md5".into(), md5));
    let output = run(&mut state, &with_md5).expect("deleted");
    let xml = String::from_utf8_lossy(&output.body).to_string();
    assert!(xml.contains("<Deleted><Key>a</Key></Deleted><Deleted><Key>missing</Key></Deleted>"), "{xml}");
    let quiet = "<Delete><Quiet>true</Quiet><Object><Key>b</Key></Object></Delete>";
    let mut quiet_request = request(Method::POST, "/lab", &[("delete", "")], quiet);
    let crc = checksum::compute("crc32", quiet.as_bytes()).expect("crc32");
    quiet_request.headers.push(("x-amz-checksum-crc32".into(), crc));
    let output = run(&mut state, &quiet_request).expect("deleted");
    assert!(!String::from_utf8_lossy(&output.body).contains("<Deleted>"));
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html (NoSuchBucketPolicy)
#[test]
fn bucket_policies_must_be_json_objects() {
    let mut state = S3State::default();
    state.create_bucket("lab", "ap-southeast-2", "111122223333", 0).expect("created");
    assert_eq!(state.bucket_policy("lab").expect_err("none").code, "NoSuchBucketPolicy");
    assert_eq!(state.put_bucket_policy("lab", "[1]").expect_err("bad").code, "MalformedPolicy");
    state.put_bucket_policy("lab", r#"{"Version":"2012-10-17","Statement":[]}"#).expect("put");
    assert!(state.bucket_policy("lab").expect("policy").contains("2012-10-17"));
    state.delete_bucket_policy("lab").expect("deleted");
    assert!(state.bucket_policy("lab").is_err());
}

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html (path-style and virtual-hosted-style)
#[test]
fn requests_name_buckets_by_path_or_host() {
    let path = request(Method::GET, "/lab/dir/a%20b.txt", &[], "");
    assert_eq!(api::operation(&path), "GetObject");
    let target = api::target(&path).expect("target");
    assert_eq!((target.bucket.as_deref(), target.key.as_deref()), (Some("lab"), Some("dir/a b.txt")));
    let mut hosted = request(Method::GET, "/dir/x", &[], "");
    hosted.headers = vec![("host".into(), "lab.s3.ap-southeast-2.amazonaws.com".into())];
    let target = api::target(&hosted).expect("target");
    assert_eq!((target.bucket.as_deref(), target.key.as_deref()), (Some("lab"), Some("dir/x")));
    assert_eq!(api::operation(&request(Method::GET, "/", &[], "")), "ListBuckets");
    assert_eq!(api::operation(&request(Method::GET, "/lab", &[("list-type", "2")], "")), "ListObjectsV2");
    assert_eq!(api::operation(&request(Method::PUT, "/lab", &[("policy", "")], "")), "PutBucketPolicy");
}

#[test]
fn metadata_and_content_type_come_back() {
    let mut state = S3State::default();
    state.create_bucket("lab", "ap-southeast-2", "111122223333", 0).expect("created");
    let attributes = ObjectAttributes {
        content_type: Some("text/plain".into()),
        content_encoding: None,
        metadata: BTreeMap::from([("owner".to_owned(), "alice".to_owned())]),
        checksums: BTreeMap::new(),
    };
    state.put_object("lab", "k", b"x".to_vec(), attributes, 5).expect("put");
    let object = state.object("lab", "k").expect("object");
    assert_eq!(object.content_type, "text/plain");
    assert_eq!(object.metadata.get("owner").map(String::as_str), Some("alice"));
    assert_eq!(state.object("lab", "nope").expect_err("missing").code, "NoSuchKey");
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html (STREAMING-UNSIGNED-PAYLOAD-TRAILER, x-amz-decoded-content-length)
#[test]
fn put_object_reads_aws_chunked_bodies() {
    let mut state = S3State::default();
    state.create_bucket("lab", "ap-southeast-2", "111122223333", 0).expect("created");
    let mut put = request(
        Method::PUT,
        "/lab/k",
        &[("x-id", "PutObject")],
        "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n",
    );
    put.headers.extend([
        ("content-encoding".to_owned(), "aws-chunked".to_owned()),
        ("x-amz-content-sha256".to_owned(), "STREAMING-UNSIGNED-PAYLOAD-TRAILER".to_owned()),
        ("x-amz-decoded-content-length".to_owned(), "3".to_owned()),
        ("x-amz-trailer".to_owned(), "x-amz-checksum-crc32".to_owned()),
    ]);
    let output = run(&mut state, &put).expect("put");
    assert!(output.headers.contains(&("etag".to_owned(), etag(b"abc"))));
    assert!(output.headers.contains(&("x-amz-checksum-crc32".to_owned(), "NSRBwg==".to_owned())));
    let object = state.object("lab", "k").expect("object");
    assert_eq!((object.body.as_slice(), object.content_encoding.as_deref()), (&b"abc"[..], None));
    let mut corrupt = put.clone();
    corrupt.body = Bytes::from_static(b"3\r\nabd\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n");
    assert_eq!(run(&mut state, &corrupt).expect_err("corrupt").code, "BadDigest");
    put.headers.retain(|(name, _)| name != "x-amz-decoded-content-length");
    put.headers.push(("x-amz-decoded-content-length".to_owned(), "4".to_owned()));
    assert_eq!(run(&mut state, &put).expect_err("length").code, "IncompleteBody");
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (Range; InvalidRange is 416)
#[test]
fn ranges_return_partial_content() {
    let mut state = S3State::default();
    state.create_bucket("lab", "ap-southeast-2", "111122223333", 0).expect("created");
    state.put_object("lab", "k", b"0123456789".to_vec(), ObjectAttributes::default(), 0).expect("put");
    let get = |range: &str| {
        let mut input = request(Method::GET, "/lab/k", &[], "");
        input.headers.push(("range".into(), range.into()));
        input
    };
    for (range, body, content_range) in [
        ("bytes=2-4", "234", "bytes 2-4/10"),
        ("bytes=7-", "789", "bytes 7-9/10"),
        ("bytes=-2", "89", "bytes 8-9/10"),
        ("bytes=8-20", "89", "bytes 8-9/10"),
    ] {
        let output = run(&mut state, &get(range)).expect(range);
        assert_eq!((output.status, output.body.as_slice()), (206, body.as_bytes()), "{range}");
        assert!(output.headers.contains(&("content-range".to_owned(), content_range.to_owned())), "{range}");
    }
    let error = run(&mut state, &get("bytes=10-")).expect_err("past the end");
    assert_eq!((error.code.as_str(), error.status.as_u16()), ("InvalidRange", 416));
}

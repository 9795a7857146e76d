//! S3 through the official Rust SDK (path-style addressing): buckets,
//! objects with the SDK's flexible checksums and aws-chunked bodies,
//! listings and errors as the SDK's typed variants.

mod support;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier};

const REGION: &str = "ap-southeast-2";

async fn client() -> (keywatch_sandbox::RunningSandbox, aws_sdk_s3::Client) {
    let sandbox = support::start_sandbox().await;
    let sdk = support::sdk_config(&sandbox.endpoint_url, REGION);
    (sandbox, support::s3_client(&sdk))
}

fn in_region() -> CreateBucketConfiguration {
    CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(REGION)).build()
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html (BucketAlreadyOwnedByYou, LocationConstraint)
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html, API_GetBucketLocation.html, API_ListBuckets.html
#[tokio::test]
async fn buckets_are_created_listed_located_and_conflict() {
    let (_sandbox, s3) = client().await;
    s3.create_bucket()
        .bucket("lab-bucket")
        .create_bucket_configuration(in_region())
        .send()
        .await
        .expect("CreateBucket");
    let again = s3.create_bucket().bucket("lab-bucket").create_bucket_configuration(in_region()).send().await;
    assert!(again.expect_err("owned").into_service_error().is_bucket_already_owned_by_you());
    let unconstrained = s3.create_bucket().bucket("other-bucket").send().await.expect_err("no constraint");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&unconstrained.into_service_error()),
        Some("IllegalLocationConstraintException")
    );
    let invalid = s3.create_bucket().bucket("Bad_Name").create_bucket_configuration(in_region()).send().await;
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&invalid.expect_err("name").into_service_error()),
        Some("InvalidBucketName")
    );

    let buckets = s3.list_buckets().send().await.expect("ListBuckets");
    let names: Vec<&str> = buckets.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, vec!["lab-bucket"]);
    s3.head_bucket().bucket("lab-bucket").send().await.expect("HeadBucket");
    let missing = s3.head_bucket().bucket("no-such-bucket").send().await.expect_err("missing");
    assert!(missing.into_service_error().is_not_found());
    let location = s3.get_bucket_location().bucket("lab-bucket").send().await.expect("GetBucketLocation");
    assert_eq!(location.location_constraint().map(|c| c.as_str()), Some(REGION));
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, API_GetObject.html, API_HeadObject.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html (flexible checksums)
#[tokio::test]
async fn objects_round_trip_with_checksums_etags_and_metadata() {
    let (_sandbox, s3) = client().await;
    s3.create_bucket()
        .bucket("lab-bucket")
        .create_bucket_configuration(in_region())
        .send()
        .await
        .expect("CreateBucket");
    let body = "hello from the lab".repeat(1000);
    let put = s3
        .put_object()
        .bucket("lab-bucket")
        .key("dir/hello world.txt")
        .content_type("text/plain")
        .metadata("owner", "alice")
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Crc32)
        .body(ByteStream::from(body.clone().into_bytes()))
        .send()
        .await
        .expect("PutObject");
    let expected_etag = {
        use md5::Digest as _;
        format!("\"{}\"", md5::Md5::digest(body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>())
    };
    assert_eq!(put.e_tag(), Some(expected_etag.as_str()));

    assert!(put.checksum_crc32().is_some());
    // Checksum mode makes the SDK validate the body against the stored CRC32.
    let got = s3
        .get_object()
        .bucket("lab-bucket")
        .key("dir/hello world.txt")
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.checksum_crc32(), put.checksum_crc32());
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.e_tag(), Some(expected_etag.as_str()));
    assert_eq!(got.metadata().and_then(|m| m.get("owner")).map(String::as_str), Some("alice"));
    let bytes = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(bytes.as_ref(), body.as_bytes());

    let part = s3.get_object().bucket("lab-bucket").key("dir/hello world.txt").range("bytes=0-4").send().await;
    let part = part.expect("ranged GetObject");
    assert_eq!(part.content_range(), Some(format!("bytes 0-4/{}", body.len()).as_str()));
    assert_eq!(part.body.collect().await.expect("body").into_bytes().as_ref(), b"hello");

    let head = s3.head_object().bucket("lab-bucket").key("dir/hello world.txt").send().await.expect("HeadObject");
    assert_eq!(head.content_length(), Some(i64::try_from(body.len()).expect("len")));

    let missing = s3.get_object().bucket("lab-bucket").key("nope").send().await.expect_err("missing");
    assert!(missing.into_service_error().is_no_such_key());
    let no_bucket = s3.get_object().bucket("no-such-bucket").key("k").send().await.expect_err("no bucket");
    assert_eq!(aws_sdk_s3::error::ProvideErrorMetadata::code(&no_bucket.into_service_error()), Some("NoSuchBucket"));

    s3.delete_object().bucket("lab-bucket").key("dir/hello world.txt").send().await.expect("DeleteObject");
    let gone = s3.head_object().bucket("lab-bucket").key("dir/hello world.txt").send().await.expect_err("gone");
    assert!(gone.into_service_error().is_not_found());
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html (prefix, delimiter, max-keys, continuation-token, start-after)
#[tokio::test]
async fn listing_pages_with_prefixes_and_tokens() {
    let (_sandbox, s3) = client().await;
    s3.create_bucket()
        .bucket("lab-bucket")
        .create_bucket_configuration(in_region())
        .send()
        .await
        .expect("CreateBucket");
    for key in ["a/1", "a/2", "b", "c/1", "d", "e"] {
        s3.put_object()
            .bucket("lab-bucket")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("PutObject");
    }
    let first = s3.list_objects_v2().bucket("lab-bucket").delimiter("/").max_keys(3).send().await.expect("List");
    let keys: Vec<&str> = first.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<&str> = first.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!((keys, prefixes), (vec!["b"], vec!["a/", "c/"]));
    assert_eq!(first.is_truncated(), Some(true));
    assert_eq!(first.key_count(), Some(3));
    let token = first.next_continuation_token().expect("token").to_owned();
    let second = s3
        .list_objects_v2()
        .bucket("lab-bucket")
        .delimiter("/")
        .max_keys(3)
        .continuation_token(token)
        .send()
        .await
        .expect("List");
    let keys: Vec<&str> = second.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["d", "e"]);
    assert_eq!(second.is_truncated(), Some(false));
    let after = s3.list_objects_v2().bucket("lab-bucket").prefix("a/").start_after("a/1").send().await.expect("List");
    let keys: Vec<&str> = after.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["a/2"]);
    assert_eq!(after.contents()[0].size(), Some(1));
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html (Quiet)
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html (BucketNotEmpty)
#[tokio::test]
async fn buckets_empty_with_delete_objects_before_they_delete() {
    let (_sandbox, s3) = client().await;
    s3.create_bucket()
        .bucket("lab-bucket")
        .create_bucket_configuration(in_region())
        .send()
        .await
        .expect("CreateBucket");
    for key in ["one", "two"] {
        s3.put_object()
            .bucket("lab-bucket")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("PutObject");
    }
    let not_empty = s3.delete_bucket().bucket("lab-bucket").send().await.expect_err("not empty");
    assert_eq!(aws_sdk_s3::error::ProvideErrorMetadata::code(&not_empty.into_service_error()), Some("BucketNotEmpty"));
    let objects = ["one", "two", "never"]
        .iter()
        .map(|key| ObjectIdentifier::builder().key(*key).build().expect("id"))
        .collect::<Vec<_>>();
    let deleted = s3
        .delete_objects()
        .bucket("lab-bucket")
        .delete(Delete::builder().set_objects(Some(objects)).build().expect("delete"))
        .send()
        .await
        .expect("DeleteObjects");
    let keys: Vec<&str> = deleted.deleted().iter().filter_map(|d| d.key()).collect();
    assert_eq!(keys, vec!["one", "two", "never"]);
    assert!(deleted.errors().is_empty());
    s3.delete_bucket().bucket("lab-bucket").send().await.expect("DeleteBucket");
    let gone = s3.delete_bucket().bucket("lab-bucket").send().await.expect_err("gone");
    assert_eq!(aws_sdk_s3::error::ProvideErrorMetadata::code(&gone.into_service_error()), Some("NoSuchBucket"));
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html, API_GetBucketPolicy.html, API_DeleteBucketPolicy.html
#[tokio::test]
async fn bucket_policies_round_trip() {
    let (_sandbox, s3) = client().await;
    s3.create_bucket()
        .bucket("lab-bucket")
        .create_bucket_configuration(in_region())
        .send()
        .await
        .expect("CreateBucket");
    let none = s3.get_bucket_policy().bucket("lab-bucket").send().await.expect_err("none");
    assert_eq!(aws_sdk_s3::error::ProvideErrorMetadata::code(&none.into_service_error()), Some("NoSuchBucketPolicy"));
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::lab-bucket/AWSLogs/111122223333/*"}]}"#;
    s3.put_bucket_policy().bucket("lab-bucket").policy(policy).send().await.expect("PutBucketPolicy");
    let read = s3.get_bucket_policy().bucket("lab-bucket").send().await.expect("GetBucketPolicy");
    assert_eq!(read.policy(), Some(policy));
    s3.delete_bucket_policy().bucket("lab-bucket").send().await.expect("DeleteBucketPolicy");
    assert!(s3.get_bucket_policy().bucket("lab-bucket").send().await.is_err());
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html: the SDK streams a
// file body as `aws-chunked` with its checksum in a trailer.
#[tokio::test]
async fn streamed_bodies_arrive_whole() {
    let (_sandbox, s3) = client().await;
    s3.create_bucket()
        .bucket("lab-bucket")
        .create_bucket_configuration(in_region())
        .send()
        .await
        .expect("CreateBucket");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("body.bin");
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &body).expect("written");
    let stream = ByteStream::from_path(&path).await.expect("stream");
    let put = s3.put_object().bucket("lab-bucket").key("streamed").body(stream).send().await.expect("PutObject");
    assert!(put.checksum_crc32().is_some());
    let got = s3.get_object().bucket("lab-bucket").key("streamed").send().await.expect("GetObject");
    assert_eq!(got.body.collect().await.expect("body").into_bytes().as_ref(), body.as_slice());
}

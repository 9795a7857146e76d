//! Amazon S3: buckets (names, regions, policies) and their objects, on plain
//! data. [`api`] is the REST-XML binding that reads HTTP requests into calls
//! on [`S3State`]; CloudFormation and CloudTrail's log file delivery call the
//! same functions in process.
//!
//! Objects live in the state and, with a state directory, as bytes in the
//! store's database (see [`crate::store`]); one object is at most
//! [`MAX_OBJECT_BYTES`] and the whole store at most [`MAX_STORE_BYTES`], so
//! the state stays loadable.

pub mod api;
pub mod checksum;

use std::collections::BTreeMap;

use http::StatusCode;
use md5::Digest as _;
use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::store::journal::{Change, Journal};

/// The largest object the sandbox stores (the request body limit).
pub const MAX_OBJECT_BYTES: usize = 8 * 1024 * 1024;

/// The most object bytes the sandbox keeps in all buckets together.
pub const MAX_STORE_BYTES: usize = 256 * 1024 * 1024;

/// One object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    pub key: String,
    #[serde(with = "base64_bytes")]
    pub body: Vec<u8>,
    /// The quoted MD5 of the body, as S3 reports single-part ETags.
    pub etag: String,
    pub last_modified_ms: i64,
    pub content_type: String,
    #[serde(default)]
    pub content_encoding: Option<String>,
    /// User metadata (`x-amz-meta-*`), names lower case without the prefix.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Verified flexible checksums by header name (`x-amz-checksum-crc32`).
    #[serde(default)]
    pub checksums: BTreeMap<String, String>,
    /// The body's length when a state directory holds the body (and
    /// `body` is empty): objects are read from there on GET, never held in
    /// memory. `None` when `body` is the body.
    #[serde(skip)]
    pub stored_len: Option<usize>,
}

impl Object {
    /// The body's length, wherever the body is.
    pub fn len(&self) -> usize {
        self.stored_len.unwrap_or(self.body.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a state directory keeps object bodies.
pub trait BodyStore: Send + Sync {
    /// The body stored under `bucket` and `key`, if any.
    fn body(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, String>;
}

/// A handle on the stored bodies (none in memory-only sandboxes).
#[derive(Clone, Default)]
pub struct BodyArchive(Option<std::sync::Arc<dyn BodyStore>>);

impl BodyArchive {
    pub fn new(store: std::sync::Arc<dyn BodyStore>) -> BodyArchive {
        BodyArchive(Some(store))
    }
}

impl std::fmt::Debug for BodyArchive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "BodyArchive(stored)" } else { "BodyArchive(memory)" })
    }
}

impl PartialEq for BodyArchive {
    /// Always: where bodies are read from is not part of the state's value.
    fn eq(&self, _other: &BodyArchive) -> bool {
        true
    }
}

impl Eq for BodyArchive {}

/// One bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    pub region: String,
    pub owner_account: String,
    pub created_ms: i64,
    pub policy: Option<String>,
    /// Kept by the store's database, bodies as bytes, never in `s3.json`
    /// (a file written by an earlier release may still hold them, base64:
    /// they are imported).
    #[serde(default, skip_serializing)]
    pub objects: BTreeMap<String, Object>,
}

/// Every bucket, by name (bucket names are global).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3State {
    pub buckets: BTreeMap<String, Bucket>,
    /// The objects stored and deleted since the store last looked.
    #[serde(skip)]
    pub journal: Journal,
    /// The stored bodies, when a state directory keeps them.
    #[serde(skip)]
    pub archive: BodyArchive,
    /// Bodies put in the last seconds, kept in memory until their commit
    /// has surely landed: an object is readable as soon as it is listed.
    #[serde(skip)]
    recent: RecentBodies,
}

/// How long a stored body stays in memory after its put: far longer than
/// a commit takes.
const RECENT_BODY_MS: i64 = 10_000;

/// Recently put bodies by (bucket, key), with when they were put.
#[derive(Debug, Clone, Default)]
struct RecentBodies(BTreeMap<(String, String), (i64, Vec<u8>)>);

impl PartialEq for RecentBodies {
    /// Always: a cache of what the store holds, not part of the state's value.
    fn eq(&self, _other: &RecentBodies) -> bool {
        true
    }
}

impl Eq for RecentBodies {}

/// What PutObject stores besides the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectAttributes {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// Flexible checksums already verified against the body.
    pub checksums: BTreeMap<String, String>,
}

/// A page of ListObjectsV2.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage<'a> {
    pub contents: Vec<&'a Object>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    /// The key to continue after, when truncated.
    pub next_after: Option<String>,
}

/// `NoSuchBucket` (404). <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList>
pub fn no_such_bucket(name: &str) -> AwsError {
    AwsError::sender("NoSuchBucket", "The specified bucket does not exist")
        .with_status(StatusCode::NOT_FOUND)
        .with_detail("BucketName", name)
}

/// `NoSuchKey` (404).
pub fn no_such_key(key: &str) -> AwsError {
    AwsError::sender("NoSuchKey", "The specified key does not exist.")
        .with_status(StatusCode::NOT_FOUND)
        .with_detail("Key", key)
}

/// Bucket naming rules for general purpose buckets.
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>
pub fn check_bucket_name(name: &str) -> Result<(), AwsError> {
    let invalid =
        || AwsError::sender("InvalidBucketName", "The specified bucket is not valid.").with_detail("BucketName", name);
    let chars_ok = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    let edges_ok = name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
    let ip_like = name.split('.').count() == 4 && name.split('.').all(|part| part.parse::<u8>().is_ok());
    let reserved_prefix = ["xn--", "sthree-", "amzn-s3-demo-"].iter().any(|p| name.starts_with(p));
    let reserved_suffix = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].iter().any(|s| name.ends_with(s));
    if (3..=63).contains(&name.len())
        && chars_ok
        && edges_ok
        && !name.contains("..")
        && !ip_like
        && !reserved_prefix
        && !reserved_suffix
    {
        Ok(())
    } else {
        Err(invalid())
    }
}

/// The quoted hex MD5 of `body`: a single-part upload's ETag.
pub fn etag(body: &[u8]) -> String {
    let digest = md5::Md5::digest(body);
    format!("\"{}\"", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

impl S3State {
    /// Whether a bucket named `name` exists.
    pub fn bucket_exists(&self, name: &str) -> bool {
        self.buckets.contains_key(name)
    }

    /// The bucket named `name`.
    pub fn bucket(&self, name: &str) -> Result<&Bucket, AwsError> {
        self.buckets.get(name).ok_or_else(|| no_such_bucket(name))
    }

    fn bucket_mut(&mut self, name: &str) -> Result<&mut Bucket, AwsError> {
        self.buckets.get_mut(name).ok_or_else(|| no_such_bucket(name))
    }

    /// CreateBucket in `region` for `account`.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html>: a bucket the
    /// caller already owns is `BucketAlreadyOwnedByYou` (409) except in us-east-1, where S3
    /// answers 200 for compatibility; another account's is `BucketAlreadyExists` (409).
    pub fn create_bucket(&mut self, name: &str, region: &str, account: &str, now: i64) -> Result<(), AwsError> {
        check_bucket_name(name)?;
        if let Some(existing) = self.buckets.get(name) {
            if existing.owner_account != account {
                return Err(AwsError::sender(
                    "BucketAlreadyExists",
                    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
                )
                .with_status(StatusCode::CONFLICT)
                .with_detail("BucketName", name));
            }
            if existing.region == "us-east-1" && region == "us-east-1" {
                return Ok(());
            }
            return Err(AwsError::sender(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
            )
            .with_status(StatusCode::CONFLICT)
            .with_detail("BucketName", name));
        }
        self.buckets.insert(
            name.to_owned(),
            Bucket {
                name: name.to_owned(),
                region: region.to_owned(),
                owner_account: account.to_owned(),
                created_ms: now,
                policy: None,
                objects: BTreeMap::new(),
            },
        );
        Ok(())
    }

    /// DeleteBucket: only an empty bucket (`BucketNotEmpty`, 409, otherwise).
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html>
    pub fn delete_bucket(&mut self, name: &str) -> Result<(), AwsError> {
        if !self.bucket(name)?.objects.is_empty() {
            return Err(AwsError::sender("BucketNotEmpty", "The bucket you tried to delete is not empty")
                .with_status(StatusCode::CONFLICT)
                .with_detail("BucketName", name));
        }
        self.buckets.remove(name);
        Ok(())
    }

    /// PutBucketPolicy: the policy must be a JSON object (`MalformedPolicy` otherwise).
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html>
    pub fn put_bucket_policy(&mut self, name: &str, policy: &str) -> Result<(), AwsError> {
        let bucket = self.bucket_mut(name)?;
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(policy);
        if !matches!(parsed, Ok(serde_json::Value::Object(_))) {
            return Err(AwsError::sender(
                "MalformedPolicy",
                "Policies must be valid JSON and the first byte must be '{'",
            )
            .with_detail("BucketName", name));
        }
        bucket.policy = Some(policy.to_owned());
        Ok(())
    }

    /// GetBucketPolicy (`NoSuchBucketPolicy`, 404, when there is none).
    pub fn bucket_policy(&self, name: &str) -> Result<&str, AwsError> {
        self.bucket(name)?.policy.as_deref().ok_or_else(|| {
            AwsError::sender("NoSuchBucketPolicy", "The bucket policy does not exist")
                .with_status(StatusCode::NOT_FOUND)
                .with_detail("BucketName", name)
        })
    }

    /// DeleteBucketPolicy (succeeds when there is none, as S3 does).
    pub fn delete_bucket_policy(&mut self, name: &str) -> Result<(), AwsError> {
        self.bucket_mut(name)?.policy = None;
        Ok(())
    }

    fn stored_bytes(&self) -> usize {
        self.buckets.values().flat_map(|b| b.objects.values()).map(Object::len).sum()
    }

    /// PutObject: stores `body` under `key`, replacing any object there; its ETag.
    pub fn put_object(
        &mut self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        attributes: ObjectAttributes,
        now: i64,
    ) -> Result<String, AwsError> {
        self.bucket(bucket)?;
        // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html (Key: 1 to 1024 bytes)
        if key.is_empty() || key.len() > 1024 {
            return Err(AwsError::sender("KeyTooLongError", "Your key is too long").with_detail("Key", key));
        }
        let replaced = self.buckets.get(bucket).and_then(|b| b.objects.get(key)).map_or(0, Object::len);
        if body.len() > MAX_OBJECT_BYTES || self.stored_bytes() - replaced + body.len() > MAX_STORE_BYTES {
            // S3's own limit is 5 GB per PUT; the sandbox's is smaller.
            return Err(AwsError::sender(
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size (the Keywatch sandbox keeps objects in its state)",
            ));
        }
        let etag = etag(&body);
        let object = Object {
            key: key.to_owned(),
            body,
            etag: etag.clone(),
            last_modified_ms: now,
            content_type: attributes.content_type.unwrap_or_else(|| "binary/octet-stream".to_owned()),
            content_encoding: attributes.content_encoding,
            metadata: attributes.metadata,
            checksums: attributes.checksums,
            stored_len: None,
        };
        let kept = if self.archive.0.is_some() {
            // The store keeps the body; memory keeps what lists and HEADs
            // need, and the body itself until its commit has landed.
            self.recent.0.retain(|_, (put_at, _)| now - *put_at < RECENT_BODY_MS);
            self.recent.0.insert((bucket.to_owned(), key.to_owned()), (now, object.body.clone()));
            Object { body: Vec::new(), stored_len: Some(object.body.len()), ..object.clone() }
        } else {
            object.clone()
        };
        self.journal.push(Change::ObjectPut { bucket: bucket.to_owned(), object });
        self.bucket_mut(bucket)?.objects.insert(key.to_owned(), kept);
        Ok(etag)
    }

    /// GetObject / HeadObject.
    pub fn object(&self, bucket: &str, key: &str) -> Result<&Object, AwsError> {
        self.bucket(bucket)?.objects.get(key).ok_or_else(|| no_such_key(key))
    }

    /// DeleteObject: succeeds whether or not the key exists, as S3 does
    /// on an unversioned bucket; whether an object was removed.
    /// An object's body, from memory or the state directory.
    pub fn object_body(&self, bucket: &str, key: &str) -> Result<Vec<u8>, AwsError> {
        let object = self.object(bucket, key)?;
        let (Some(_), Some(store)) = (object.stored_len, &self.archive.0) else {
            return Ok(object.body.clone());
        };
        if let Some((_, body)) = self.recent.0.get(&(bucket.to_owned(), key.to_owned())) {
            return Ok(body.clone());
        }
        match store.body(bucket, key) {
            Ok(Some(body)) => Ok(body),
            Ok(None) => Err(no_such_key(key)),
            Err(error) => {
                tracing::error!(%error, "a stored S3 object could not be read");
                Err(AwsError::internal_as(
                    "InternalError",
                    "We encountered an internal error. Please try again.".to_owned(),
                ))
            }
        }
    }

    pub fn delete_object(&mut self, bucket: &str, key: &str) -> Result<bool, AwsError> {
        self.recent.0.remove(&(bucket.to_owned(), key.to_owned()));
        let removed = self.bucket_mut(bucket)?.objects.remove(key).is_some();
        if removed {
            self.journal.push(Change::ObjectDeleted { bucket: bucket.to_owned(), key: key.to_owned() });
        }
        Ok(removed)
    }

    /// ListObjectsV2's page: keys under `prefix` after `after`, rolled up
    /// at `delimiter` into common prefixes, at most `max_keys` entries
    /// (keys and prefixes together).
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>
    pub fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        after: Option<&str>,
        max_keys: usize,
    ) -> Result<ListPage<'_>, AwsError> {
        let bucket = self.bucket(bucket)?;
        let mut page = ListPage::default();
        let mut count = 0;
        for (key, object) in &bucket.objects {
            if !key.starts_with(prefix) || after.is_some_and(|after| key.as_str() <= after) {
                continue;
            }
            let rolled = delimiter
                .filter(|d| !d.is_empty())
                .and_then(|d| key[prefix.len()..].find(d).map(|at| key[..prefix.len() + at + d.len()].to_owned()));
            if let Some(common) = &rolled
                && page.common_prefixes.last() == Some(common)
            {
                // Later keys under the same prefix continue after it.
                page.next_after = Some(key.clone());
                continue;
            }
            if count == max_keys {
                page.is_truncated = true;
                break;
            }
            count += 1;
            match rolled {
                Some(common) => page.common_prefixes.push(common),
                None => page.contents.push(object),
            }
            page.next_after = Some(key.clone());
        }
        if !page.is_truncated {
            page.next_after = None;
        }
        Ok(page)
    }
}

/// Serde for byte bodies as base64 strings in the state file.
mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        base64::engine::general_purpose::STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;

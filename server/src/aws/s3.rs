//! Amazon S3: emptying and deleting the CloudTrail bucket the logging stack
//! retains (its `DeletionPolicy` is `Retain`, so deleting the stack keeps it).

use aws_config::SdkConfig;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::interceptor::CallMetrics;
use super::{AwsCallError, AwsErrorKind};

/// S3's error code for a bucket that does not exist.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>
const NO_SUCH_BUCKET: &str = "NoSuchBucket";

/// The S3 client, wrapped to take and return Keywatch's types.
#[derive(Debug, Clone)]
pub struct S3 {
    client: aws_sdk_s3::Client,
}

impl S3 {
    /// `path_style` addresses buckets as `endpoint/bucket`, which an
    /// endpoint on a loopback address (the sandbox) needs.
    pub fn new(config: &SdkConfig, path_style: bool) -> S3 {
        let config =
            aws_sdk_s3::config::Builder::from(config).force_path_style(path_style).interceptor(CallMetrics).build();
        S3 { client: aws_sdk_s3::Client::from_conf(config) }
    }

    /// Deletes every object of the bucket, then the bucket. Returns how many
    /// objects it deleted, or `None` when there was no such bucket.
    pub async fn empty_and_delete_bucket(&self, bucket: &str) -> Result<Option<usize>, AwsCallError> {
        let mut deleted = 0;
        loop {
            // ListObjectsV2 returns at most 1,000 keys, DeleteObjects takes at
            // most 1,000: one page per round until the bucket is empty.
            let listed = match self.client.list_objects_v2().bucket(bucket).send().await {
                Ok(listed) => listed,
                Err(error) => {
                    let error = AwsCallError::from_sdk("ListObjectsV2", error);
                    if error.code == NO_SUCH_BUCKET {
                        return Ok(None);
                    }
                    return Err(error);
                }
            };
            let objects: Vec<ObjectIdentifier> = listed
                .contents()
                .iter()
                .filter_map(|object| object.key())
                .filter_map(|key| ObjectIdentifier::builder().key(key).build().ok())
                .collect();
            if objects.is_empty() {
                break;
            }
            deleted += objects.len();
            let delete =
                Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(|error| AwsCallError {
                    operation: "DeleteObjects",
                    kind: AwsErrorKind::Internal,
                    code: "BuildError".to_owned(),
                    message: error.to_string(),
                })?;
            self.client
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|error| AwsCallError::from_sdk("DeleteObjects", error))?;
        }
        match self.client.delete_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(Some(deleted)),
            Err(error) => {
                let error = AwsCallError::from_sdk("DeleteBucket", error);
                if error.code == NO_SUCH_BUCKET { Ok(None) } else { Err(error) }
            }
        }
    }
}

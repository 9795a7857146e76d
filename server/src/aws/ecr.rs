//! Amazon ECR: whether the lab's repository holds an image, and emptying it
//! before teardown (CloudFormation cannot delete a repository that still
//! holds images unless told to).

use aws_config::SdkConfig;
use aws_sdk_ecr::types::ImageIdentifier;

use super::AwsCallError;
use super::interceptor::CallMetrics;

/// ECR's error code for a repository that does not exist.
/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html>
const REPOSITORY_NOT_FOUND: &str = "RepositoryNotFoundException";

/// BatchDeleteImage takes at most 100 image ids per call.
/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchDeleteImage.html>
const BATCH_DELETE_LIMIT: usize = 100;

/// The ECR client, wrapped to take and return Keywatch's types.
#[derive(Debug, Clone)]
pub struct Ecr {
    client: aws_sdk_ecr::Client,
}

impl Ecr {
    /// An ECR client for `config`.
    pub fn new(config: &SdkConfig) -> Ecr {
        Ecr {
            client: aws_sdk_ecr::Client::from_conf(
                aws_sdk_ecr::config::Builder::from(config).interceptor(CallMetrics).build(),
            ),
        }
    }

    /// How many images the repository holds (DescribeImages), or `None`
    /// when there is no such repository.
    pub async fn image_count(&self, repository: &str) -> Result<Option<usize>, AwsCallError> {
        let mut count = 0;
        let mut pages = self.client.describe_images().repository_name(repository).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page.map_err(|error| AwsCallError::from_sdk("DescribeImages", error)) {
                Ok(page) => count += page.image_details().len(),
                Err(error) if error.code == REPOSITORY_NOT_FOUND => return Ok(None),
                Err(error) => return Err(error),
            }
        }
        Ok(Some(count))
    }

    /// Deletes every image of the repository; returns how many it deleted
    /// (`None`: no such repository).
    pub async fn delete_all_images(&self, repository: &str) -> Result<Option<usize>, AwsCallError> {
        let mut ids: Vec<ImageIdentifier> = Vec::new();
        let mut pages = self.client.list_images().repository_name(repository).into_paginator().send();
        while let Some(page) = pages.next().await {
            match page.map_err(|error| AwsCallError::from_sdk("ListImages", error)) {
                Ok(page) => ids.extend(page.image_ids().iter().cloned()),
                Err(error) if error.code == REPOSITORY_NOT_FOUND => return Ok(None),
                Err(error) => return Err(error),
            }
        }
        for batch in ids.chunks(BATCH_DELETE_LIMIT) {
            self.client
                .batch_delete_image()
                .repository_name(repository)
                .set_image_ids(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|error| AwsCallError::from_sdk("BatchDeleteImage", error))?;
        }
        Ok(Some(ids.len()))
    }
}

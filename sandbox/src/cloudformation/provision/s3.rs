//! `AWS::S3::Bucket` and `AWS::S3::BucketPolicy`, made in the sandbox's S3.
//! A bucket that still holds objects cannot be deleted (CloudFormation
//! fails the deletion, as S3 answers BucketNotEmpty); the lab's trail bucket
//! is `DeletionPolicy: Retain` for that reason.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html>

use super::{Create, Delete, ProvisionError, Provisioned, ResourceType, Update, name_or_generated};
use crate::service::CallContext;

/// S3 bucket names: 3 to 63 characters, lower case.
const MAX_BUCKET_NAME: usize = 63;

fn failed(error: &crate::error::AwsError) -> ProvisionError {
    ProvisionError::service("S3", error)
}

/// Every attribute AWS documents for a bucket.
fn bucket_attributes(name: &str, ctx: &CallContext) -> Provisioned {
    let region = &ctx.region;
    Provisioned::new(name)
        .with("Arn", format!("arn:{}:s3:::{name}", ctx.partition))
        .with("DomainName", format!("{name}.s3.amazonaws.com"))
        .with("DualStackDomainName", format!("{name}.s3.dualstack.{region}.amazonaws.com"))
        .with("RegionalDomainName", format!("{name}.s3.{region}.amazonaws.com"))
        .with("WebsiteURL", format!("http://{name}.s3-website-{region}.amazonaws.com"))
}

pub(super) const RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType { name: "AWS::S3::Bucket", create: create_bucket, update: update_bucket, delete: delete_bucket },
    ResourceType { name: "AWS::S3::BucketPolicy", create: create_policy, update: update_policy, delete: delete_policy },
];

fn create_bucket(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let name = name_or_generated(props, request, "BucketName", MAX_BUCKET_NAME, true)?;
    state.s3.create_bucket(&name, &ctx.region, ctx.account(), ctx.now).map_err(|e| failed(&e))?;
    Ok(bucket_attributes(&name, ctx))
}

/// Bucket settings the sandbox does not model (encryption, ownership,
/// versioning) change nothing it serves.
fn update_bucket(Update { ctx, change, .. }: Update) -> Result<Provisioned, ProvisionError> {
    Ok(bucket_attributes(&change.current.physical_id, ctx))
}

fn delete_bucket(Delete { state, current, .. }: Delete) -> Result<(), ProvisionError> {
    state.s3.delete_bucket(&current.physical_id).map_err(|e| failed(&e))
}

fn create_policy(Create { state, props, .. }: Create) -> Result<Provisioned, ProvisionError> {
    let bucket = props.required_str("Bucket")?;
    let policy = props.required_document("PolicyDocument")?;
    state.s3.put_bucket_policy(&bucket, &policy).map_err(|e| failed(&e))?;
    Ok(Provisioned::new(bucket))
}

fn update_policy(Update { state, change, props, .. }: Update) -> Result<Provisioned, ProvisionError> {
    let policy = props.required_document("PolicyDocument")?;
    state.s3.put_bucket_policy(&change.current.physical_id, &policy).map_err(|e| failed(&e))?;
    Ok(change.current.clone())
}

fn delete_policy(Delete { state, current, .. }: Delete) -> Result<(), ProvisionError> {
    state.s3.delete_bucket_policy(&current.physical_id).map_err(|e| failed(&e))
}

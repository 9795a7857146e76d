//! `AWS::S3::Bucket` and `AWS::S3::BucketPolicy`, made in the sandbox's S3.
//! A bucket that still holds objects cannot be deleted (CloudFormation
//! fails the deletion, as S3 answers BucketNotEmpty); the lab's trail bucket
//! is `DeletionPolicy: Retain` for that reason.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html>

use serde_json::Value as Json;

use super::{Change, Props, ProvisionError, Provisioned, ResourceRequest, name_or_generated};
use crate::service::CallContext;
use crate::state::SandboxState;

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

pub(super) fn create(
    state: &mut SandboxState,
    ctx: &CallContext,
    request: &ResourceRequest,
) -> Result<Provisioned, ProvisionError> {
    let props = Props::of(request);
    match request.resource_type {
        "AWS::S3::Bucket" => {
            let name = name_or_generated(&props, request, "BucketName", MAX_BUCKET_NAME, true)?;
            state.s3.create_bucket(&name, &ctx.region, ctx.account(), ctx.now).map_err(|e| failed(&e))?;
            Ok(bucket_attributes(&name, ctx))
        }
        "AWS::S3::BucketPolicy" => {
            let bucket = props.required_str("Bucket")?;
            let policy = props.required_document("PolicyDocument")?;
            state.s3.put_bucket_policy(&bucket, &policy).map_err(|e| failed(&e))?;
            Ok(Provisioned::new(bucket))
        }
        other => Err(super::unsupported(other)),
    }
}

pub(super) fn update(
    state: &mut SandboxState,
    ctx: &CallContext,
    change: &Change,
) -> Result<Provisioned, ProvisionError> {
    let props = change.props();
    match change.request.resource_type {
        // Bucket settings the sandbox does not model (encryption, ownership,
        // versioning) change nothing it serves.
        "AWS::S3::Bucket" => Ok(bucket_attributes(&change.current.physical_id, ctx)),
        "AWS::S3::BucketPolicy" => {
            let policy = props.required_document("PolicyDocument")?;
            state.s3.put_bucket_policy(&change.current.physical_id, &policy).map_err(|e| failed(&e))?;
            Ok(change.current.clone())
        }
        other => Err(super::unsupported(other)),
    }
}

pub(super) fn delete(
    state: &mut SandboxState,
    resource_type: &str,
    current: &Provisioned,
    _properties: &Json,
) -> Result<(), ProvisionError> {
    match resource_type {
        "AWS::S3::Bucket" => state.s3.delete_bucket(&current.physical_id).map_err(|e| failed(&e)),
        "AWS::S3::BucketPolicy" => state.s3.delete_bucket_policy(&current.physical_id).map_err(|e| failed(&e)),
        other => Err(super::unsupported(other)),
    }
}

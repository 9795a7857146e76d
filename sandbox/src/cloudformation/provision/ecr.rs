//! `AWS::ECR::Repository`, made in the sandbox's ECR. Deleting a repository
//! that holds images fails, as on AWS, unless `EmptyOnDelete` is true.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecr-repository.html>

use super::{Create, Delete, Props, ProvisionError, Provisioned, ResourceType, Update, name_or_generated};
use crate::ecr::NewRepository;

/// Repository names: at most 256 characters, lower case.
const MAX_REPOSITORY_NAME: usize = 256;

fn failed(error: &crate::error::AwsError) -> ProvisionError {
    ProvisionError::service("Ecr", error)
}

/// `Ref` is the repository's name; `Arn` and `RepositoryUri` as documented.
fn repository_attributes(name: &str, arn: &str, uri: &str) -> Provisioned {
    Provisioned::new(name).with("Arn", arn).with("RepositoryUri", uri)
}

fn nested_str(props: &Props, object: &str, name: &str) -> Result<Option<String>, ProvisionError> {
    match props.object(object)? {
        Some(nested) => nested.str(name),
        None => Ok(None),
    }
}

pub(super) const RESOURCE_TYPES: &[ResourceType] =
    &[ResourceType { name: "AWS::ECR::Repository", create, update, delete }];

fn create(Create { state, ctx, request, props }: Create) -> Result<Provisioned, ProvisionError> {
    let name = name_or_generated(props, request, "RepositoryName", MAX_REPOSITORY_NAME, true)?;
    let scan_on_push = match props.object("ImageScanningConfiguration")? {
        Some(nested) => nested.bool("ScanOnPush")?.unwrap_or(false),
        None => false,
    };
    let new = NewRepository {
        name,
        image_tag_mutability: props.str("ImageTagMutability")?,
        scan_on_push,
        encryption_type: nested_str(props, "EncryptionConfiguration", "EncryptionType")?,
        kms_key: nested_str(props, "EncryptionConfiguration", "KmsKey")?,
    };
    let repository = state
        .ecr
        .create_repository(&ctx.region, &ctx.partition, ctx.account(), new, ctx.now)
        .map_err(|e| failed(&e))?;
    Ok(repository_attributes(&repository.name, &repository.arn, &repository.uri))
}

fn update(Update { change, .. }: Update) -> Result<Provisioned, ProvisionError> {
    // Scanning, mutability and lifecycle settings do not change what the
    // sandbox serves; the name (create-only) is handled by replacement.
    Ok(change.current.clone())
}

fn delete(Delete { state, ctx, current, props, .. }: Delete) -> Result<(), ProvisionError> {
    let empty_on_delete =
        props.get("EmptyOnDelete").is_some_and(|value| value.as_bool() == Some(true) || value.as_str() == Some("true"));
    state
        .ecr
        .delete_repository(&ctx.region, ctx.account(), &current.physical_id, empty_on_delete)
        .map(|_| ())
        .map_err(|e| failed(&e))
}

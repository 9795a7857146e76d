//! ECR over AWS JSON 1.1 (`X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>`):
//! typed inputs (camelCase members), outputs as [`Value`]s, and what
//! CloudTrail records.
//!
//! Shapes: <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_Operations.html>.

use base64::Engine as _;
use serde::Deserialize;

use super::{EcrState, Image, NewRepository, Repository};
use crate::error::AwsError;
use crate::protocol::value::Value;
use crate::service::{self, Audit, AuditResource, CallContext, Handled, decode_json};

/// How long an authorization token lasts: 12 hours.
/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html>
const TOKEN_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;

/// `imageScanningConfiguration`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanningConfiguration {
    #[serde(default)]
    pub scan_on_push: bool,
}

/// `encryptionConfiguration`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionConfiguration {
    pub encryption_type: String,
    pub kms_key: Option<String>,
}

/// CreateRepository's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRepositoryInput {
    pub repository_name: String,
    pub image_tag_mutability: Option<String>,
    pub image_scanning_configuration: Option<ScanningConfiguration>,
    pub encryption_configuration: Option<EncryptionConfiguration>,
}

/// DescribeRepositories' input.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeRepositoriesInput {
    pub repository_names: Option<Vec<String>>,
}

/// DeleteRepository's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteRepositoryInput {
    pub repository_name: String,
    #[serde(default)]
    pub force: bool,
}

/// PutImage's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutImageInput {
    pub repository_name: String,
    pub image_manifest: String,
    pub image_manifest_media_type: Option<String>,
    pub image_tag: Option<String>,
    pub image_digest: Option<String>,
}

/// An `ImageIdentifier`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageId {
    pub image_digest: Option<String>,
    pub image_tag: Option<String>,
}

/// DescribeImages', ListImages' and BatchDeleteImage's input.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImagesInput {
    pub repository_name: String,
    pub image_ids: Option<Vec<ImageId>>,
    pub filter: Option<ListFilter>,
}

/// ListImages' and DescribeImages' `filter`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListFilter {
    pub tag_status: Option<String>,
}

/// Runs an ECR call; `None` for an operation the sandbox lacks.
pub fn call(state: &mut EcrState, ctx: &CallContext, operation: &str, input: &serde_json::Value) -> Option<Handled> {
    let read_only = match operation {
        "DescribeRepositories" | "DescribeImages" | "ListImages" | "GetAuthorizationToken" => true,
        "CreateRepository" | "DeleteRepository" | "PutImage" | "BatchDeleteImage" => false,
        _ => return None,
    };
    let result = run(state, ctx, operation, input);
    let resources = input
        .get("repositoryName")
        .and_then(|n| n.as_str())
        .map(|name| {
            vec![AuditResource {
                resource_type: "AWS::ECR::Repository".into(),
                arn: format!("arn:{}:ecr:{}:{}:repository/{name}", ctx.partition, ctx.region, ctx.account()),
            }]
        })
        .unwrap_or_default();
    let response_elements = match &result {
        Ok(output) if !read_only => service::response_elements(output),
        _ => None,
    };
    Some(Handled {
        mutated: !read_only && result.is_ok(),
        result,
        audit: Some(Audit {
            request_parameters: service::request_parameters(input),
            response_elements,
            resources,
            read_only,
        }),
    })
}

fn run(state: &mut EcrState, ctx: &CallContext, operation: &str, input: &serde_json::Value) -> Result<Value, AwsError> {
    let (region, account) = (ctx.region.as_str(), ctx.account().to_owned());
    Ok(match operation {
        "CreateRepository" => {
            let input: CreateRepositoryInput = decode_json(input)?;
            let new = NewRepository {
                name: input.repository_name,
                image_tag_mutability: input.image_tag_mutability,
                scan_on_push: input.image_scanning_configuration.is_some_and(|c| c.scan_on_push),
                encryption_type: input.encryption_configuration.as_ref().map(|c| c.encryption_type.clone()),
                kms_key: input.encryption_configuration.and_then(|c| c.kms_key),
            };
            let repository = state.create_repository(region, &ctx.partition, &account, new, ctx.now)?;
            Value::structure().with("repository", repository_value(repository))
        }
        "DescribeRepositories" => {
            let input: DescribeRepositoriesInput = decode_json(input)?;
            let repositories: Vec<Value> = match input.repository_names.filter(|names| !names.is_empty()) {
                Some(names) => names
                    .iter()
                    .map(|name| state.repository(region, &account, name).map(repository_value))
                    .collect::<Result<_, _>>()?,
                None => state.repositories.values().filter(|r| r.region == region).map(repository_value).collect(),
            };
            Value::structure().with("repositories", repositories)
        }
        "DeleteRepository" => {
            let input: DeleteRepositoryInput = decode_json(input)?;
            let repository = state.delete_repository(region, &account, &input.repository_name, input.force)?;
            Value::structure().with("repository", repository_value(&repository))
        }
        "PutImage" => {
            let input: PutImageInput = decode_json(input)?;
            let digest = super::manifest_digest(&input.image_manifest);
            if input.image_digest.as_ref().is_some_and(|given| *given != digest) {
                // https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html (ImageDigestDoesNotMatchException)
                return Err(AwsError::sender(
                    "ImageDigestDoesNotMatchException",
                    "The specified image digest does not match the digest that Amazon ECR calculated for the image.",
                ));
            }
            let image = state.put_image(
                region,
                &account,
                &input.repository_name,
                super::NewImage {
                    manifest: &input.image_manifest,
                    media_type: input.image_manifest_media_type.as_deref(),
                    tag: input.image_tag.as_deref(),
                },
                ctx.now,
            )?;
            let image_id = Value::structure()
                .with("imageDigest", image.digest.clone())
                .with("imageTag", input.image_tag.map_or(Value::Null, Value::String));
            Value::structure().with(
                "image",
                Value::structure()
                    .with("registryId", account.clone())
                    .with("repositoryName", input.repository_name)
                    .with("imageId", image_id)
                    .with("imageManifest", image.manifest)
                    .with("imageManifestMediaType", image.manifest_media_type),
            )
        }
        "DescribeImages" => {
            let input: ImagesInput = decode_json(input)?;
            let repository = state.repository(region, &account, &input.repository_name)?;
            let images: Vec<&Image> = match input.image_ids.filter(|ids| !ids.is_empty()) {
                Some(ids) => ids
                    .iter()
                    .map(|id| {
                        find_image(repository, id).ok_or_else(|| image_not_found(id, &input.repository_name, &account))
                    })
                    .collect::<Result<_, _>>()?,
                None => repository.images.values().filter(|i| tag_status_ok(input.filter.as_ref(), i)).collect(),
            };
            let details: Vec<Value> = images
                .iter()
                .map(|image| {
                    Value::structure()
                        .with("registryId", account.clone())
                        .with("repositoryName", repository.name.clone())
                        .with("imageDigest", image.digest.clone())
                        .with("imageTags", if image.tags.is_empty() { Value::Null } else { image.tags.clone().into() })
                        .with("imageSizeInBytes", image.size_in_bytes())
                        .with("imagePushedAt", Value::Timestamp(image.pushed_ms))
                        .with("imageManifestMediaType", image.manifest_media_type.clone())
                })
                .collect();
            Value::structure().with("imageDetails", details)
        }
        "ListImages" => {
            let input: ImagesInput = decode_json(input)?;
            let repository = state.repository(region, &account, &input.repository_name)?;
            let mut ids = Vec::new();
            for image in repository.images.values().filter(|i| tag_status_ok(input.filter.as_ref(), i)) {
                if image.tags.is_empty() {
                    ids.push(Value::structure().with("imageDigest", image.digest.clone()));
                }
                for tag in &image.tags {
                    ids.push(
                        Value::structure().with("imageDigest", image.digest.clone()).with("imageTag", tag.clone()),
                    );
                }
            }
            Value::structure().with("imageIds", ids)
        }
        "BatchDeleteImage" => batch_delete(state, region, &account, &decode_json(input)?)?,
        "GetAuthorizationToken" => {
            let token = crate::random::text(crate::random::UPPER_BASE32, 64)?;
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{token}"));
            Value::structure().with(
                "authorizationData",
                vec![
                    Value::structure()
                        .with("authorizationToken", encoded)
                        .with("expiresAt", Value::Timestamp(ctx.now + TOKEN_LIFETIME_MS))
                        .with("proxyEndpoint", format!("https://{account}.dkr.ecr.{region}.amazonaws.com")),
                ],
            )
        }
        _ => return Err(AwsError::unknown_operation("ecr", operation)),
    })
}

fn tag_status_ok(filter: Option<&ListFilter>, image: &Image) -> bool {
    match filter.and_then(|f| f.tag_status.as_deref()) {
        Some("TAGGED") => !image.tags.is_empty(),
        Some("UNTAGGED") => image.tags.is_empty(),
        _ => true,
    }
}

fn find_image<'a>(repository: &'a Repository, id: &ImageId) -> Option<&'a Image> {
    repository.images.values().find(|image| {
        id.image_digest.as_ref().is_none_or(|d| *d == image.digest)
            && id.image_tag.as_ref().is_none_or(|t| image.tags.contains(t))
            && (id.image_digest.is_some() || id.image_tag.is_some())
    })
}

fn describe_id(id: &ImageId) -> String {
    match (&id.image_digest, &id.image_tag) {
        (Some(digest), Some(tag)) => format!("imageDigest={digest}, imageTag={tag}"),
        (Some(digest), None) => format!("imageDigest={digest}"),
        (None, Some(tag)) => format!("imageTag={tag}"),
        (None, None) => String::new(),
    }
}

/// `ImageNotFoundException` as DescribeImages reports it.
fn image_not_found(id: &ImageId, repository: &str, account: &str) -> AwsError {
    AwsError::sender(
        "ImageNotFoundException",
        format!(
            "The image with imageId {{{}}} does not exist within the repository with name '{repository}' in the registry with id '{account}'",
            describe_id(id)
        ),
    )
}

fn id_value(id: &ImageId) -> Value {
    Value::structure()
        .with("imageDigest", id.image_digest.clone().map_or(Value::Null, Value::String))
        .with("imageTag", id.image_tag.clone().map_or(Value::Null, Value::String))
}

/// BatchDeleteImage: a tag removes that tag (and the image with its last
/// tag); a digest removes the image and all its tags. Unknown ids are
/// reported in `failures` with `ImageNotFound`.
/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchDeleteImage.html>
fn batch_delete(state: &mut EcrState, region: &str, account: &str, input: &ImagesInput) -> Result<Value, AwsError> {
    let repository = state.repository_mut(region, account, &input.repository_name)?;
    let mut deleted = Vec::new();
    let mut failures = Vec::new();
    for id in input.image_ids.as_deref().unwrap_or_default() {
        let Some(digest) = find_image(repository, id).map(|image| image.digest.clone()) else {
            let reason = if id.image_digest.is_none() && id.image_tag.is_none() {
                ("MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null")
            } else {
                ("ImageNotFound", "Requested image not found")
            };
            failures.push(
                Value::structure()
                    .with("imageId", id_value(id))
                    .with("failureCode", reason.0)
                    .with("failureReason", reason.1),
            );
            continue;
        };
        let remove_image = match (&id.image_tag, repository.images.get_mut(&digest)) {
            (Some(tag), Some(image)) if id.image_digest.is_none() => {
                image.tags.retain(|t| t != tag);
                deleted.push(Value::structure().with("imageDigest", digest.clone()).with("imageTag", tag.clone()));
                image.tags.is_empty()
            }
            (_, Some(image)) => {
                if image.tags.is_empty() {
                    deleted.push(Value::structure().with("imageDigest", digest.clone()));
                }
                for tag in &image.tags {
                    deleted.push(Value::structure().with("imageDigest", digest.clone()).with("imageTag", tag.clone()));
                }
                true
            }
            (_, None) => false,
        };
        if remove_image {
            repository.images.remove(&digest);
        }
    }
    Ok(Value::structure().with("imageIds", deleted).with("failures", failures))
}

/// A `Repository` structure.
fn repository_value(repository: &Repository) -> Value {
    let mut encryption = Value::structure().with("encryptionType", repository.encryption_type.clone());
    if let Some(key) = &repository.kms_key {
        encryption = encryption.with("kmsKey", key.clone());
    }
    Value::structure()
        .with("repositoryArn", repository.arn.clone())
        .with("registryId", repository.registry_id.clone())
        .with("repositoryName", repository.name.clone())
        .with("repositoryUri", repository.uri.clone())
        .with("createdAt", Value::Timestamp(repository.created_ms))
        .with("imageTagMutability", repository.image_tag_mutability.clone())
        .with("imageScanningConfiguration", Value::structure().with("scanOnPush", repository.scan_on_push))
        .with("encryptionConfiguration", encryption)
}

//! Amazon ECR: repositories and the images pushed to them (manifests and
//! tags; layers are not stored), on plain data. [`api`] speaks AWS JSON 1.1
//! (`X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>`);
//! CloudFormation calls [`EcrState::create_repository`] and
//! [`EcrState::delete_repository`] in process.

pub mod api;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AwsError;

/// One image: a manifest and the tags pointing at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// `sha256:<hex>` of the manifest.
    pub digest: String,
    pub manifest: String,
    pub manifest_media_type: String,
    pub tags: Vec<String>,
    pub pushed_ms: i64,
}

impl Image {
    /// The image's size as ECR reports it: the sum of the layer (and
    /// config) sizes its manifest lists, else the manifest's own size.
    pub fn size_in_bytes(&self) -> i64 {
        let Ok(manifest) = serde_json::from_str::<serde_json::Value>(&self.manifest) else {
            return i64::try_from(self.manifest.len()).unwrap_or(i64::MAX);
        };
        let size = |value: &serde_json::Value| value.get("size").and_then(serde_json::Value::as_i64).unwrap_or(0);
        let layers: i64 = manifest.get("layers").and_then(|l| l.as_array()).map_or(0, |l| l.iter().map(size).sum());
        let config = manifest.get("config").map_or(0, size);
        if layers + config > 0 { layers + config } else { i64::try_from(self.manifest.len()).unwrap_or(i64::MAX) }
    }
}

/// One repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    pub name: String,
    pub arn: String,
    pub registry_id: String,
    pub region: String,
    pub uri: String,
    pub created_ms: i64,
    pub image_tag_mutability: String,
    pub scan_on_push: bool,
    pub encryption_type: String,
    pub kms_key: Option<String>,
    /// Images by digest.
    pub images: BTreeMap<String, Image>,
}

/// Every repository, by `<region>/<name>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcrState {
    pub repositories: BTreeMap<String, Repository>,
}

/// CreateRepository's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRepository {
    pub name: String,
    /// `MUTABLE` (default) or `IMMUTABLE`.
    pub image_tag_mutability: Option<String>,
    pub scan_on_push: bool,
    /// `AES256` (default) or `KMS`.
    pub encryption_type: Option<String>,
    pub kms_key: Option<String>,
}

/// What PutImage pushes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NewImage<'a> {
    pub manifest: &'a str,
    /// The manifest's media type; read from the manifest when absent.
    pub media_type: Option<&'a str>,
    pub tag: Option<&'a str>,
}

fn key(region: &str, name: &str) -> String {
    format!("{region}/{name}")
}

/// `RepositoryNotFoundException` as ECR words it.
pub fn repository_not_found(name: &str, account: &str) -> AwsError {
    AwsError::sender(
        "RepositoryNotFoundException",
        format!("The repository with name '{name}' does not exist in the registry with id '{account}'"),
    )
}

/// Repository names: 2 to 256 characters,
/// `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`.
/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html> (repositoryName)
pub fn check_repository_name(name: &str) -> Result<(), AwsError> {
    let component_ok = |component: &str| {
        !component.is_empty()
            && component
                .split(['.', '_', '-'])
                .all(|run| !run.is_empty() && run.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
    };
    if (2..=256).contains(&name.len()) && name.split('/').all(component_ok) {
        Ok(())
    } else {
        Err(AwsError::sender(
            "InvalidParameterException",
            "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''",
        ))
    }
}

/// `sha256:<hex>` of a manifest: the image digest.
pub fn manifest_digest(manifest: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, manifest.as_bytes());
    format!("sha256:{}", digest.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

impl EcrState {
    /// The repository `name` in `region`.
    pub fn repository(&self, region: &str, account: &str, name: &str) -> Result<&Repository, AwsError> {
        self.repositories.get(&key(region, name)).ok_or_else(|| repository_not_found(name, account))
    }

    fn repository_mut(&mut self, region: &str, account: &str, name: &str) -> Result<&mut Repository, AwsError> {
        self.repositories.get_mut(&key(region, name)).ok_or_else(|| repository_not_found(name, account))
    }

    /// CreateRepository; its URI is `<account>.dkr.ecr.<region>.amazonaws.com/<name>`.
    /// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html>
    pub fn create_repository(
        &mut self,
        region: &str,
        partition: &str,
        account: &str,
        new: NewRepository,
        now: i64,
    ) -> Result<&Repository, AwsError> {
        check_repository_name(&new.name)?;
        if self.repositories.contains_key(&key(region, &new.name)) {
            return Err(AwsError::sender(
                "RepositoryAlreadyExistsException",
                format!("The repository with name '{}' already exists in the registry with id '{account}'", new.name),
            ));
        }
        let mutability = new.image_tag_mutability.unwrap_or_else(|| "MUTABLE".to_owned());
        if !matches!(mutability.as_str(), "MUTABLE" | "IMMUTABLE") {
            return Err(AwsError::sender(
                "InvalidParameterException",
                "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE]'",
            ));
        }
        let repository = Repository {
            arn: format!("arn:{partition}:ecr:{region}:{account}:repository/{}", new.name),
            registry_id: account.to_owned(),
            region: region.to_owned(),
            uri: format!("{account}.dkr.ecr.{region}.amazonaws.com/{}", new.name),
            created_ms: now,
            image_tag_mutability: mutability,
            scan_on_push: new.scan_on_push,
            encryption_type: new.encryption_type.unwrap_or_else(|| "AES256".to_owned()),
            kms_key: new.kms_key,
            images: BTreeMap::new(),
            name: new.name,
        };
        Ok(self.repositories.entry(key(region, &repository.name)).or_insert(repository))
    }

    /// DeleteRepository: one holding images only with `force`.
    /// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteRepository.html>
    pub fn delete_repository(
        &mut self,
        region: &str,
        account: &str,
        name: &str,
        force: bool,
    ) -> Result<Repository, AwsError> {
        let repository = self.repository(region, account, name)?;
        if !force && !repository.images.is_empty() {
            return Err(AwsError::sender(
                "RepositoryNotEmptyException",
                format!(
                    "The repository with name '{name}' in registry with id '{account}' cannot be deleted because it still contains images"
                ),
            ));
        }
        self.repositories.remove(&key(region, name)).ok_or_else(|| repository_not_found(name, account))
    }

    /// PutImage: stores the manifest under its digest and points `tag` at
    /// it (moving it from another image unless tags are immutable).
    /// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html>
    pub fn put_image(
        &mut self,
        region: &str,
        account: &str,
        name: &str,
        pushed: NewImage<'_>,
        now: i64,
    ) -> Result<Image, AwsError> {
        let NewImage { manifest, media_type, tag } = pushed;
        let repository = self.repository_mut(region, account, name)?;
        let digest = manifest_digest(manifest);
        if let Some(tag) = tag {
            let holder = repository.images.values().find(|i| i.tags.iter().any(|t| t == tag)).map(|i| i.digest.clone());
            match holder {
                Some(holder) if holder == digest => {
                    return Err(AwsError::sender(
                        "ImageAlreadyExistsException",
                        format!(
                            "Image with digest '{digest}' and tag '{tag}' already exists in the repository with name '{name}' in registry with id '{account}'"
                        ),
                    ));
                }
                Some(_) if repository.image_tag_mutability == "IMMUTABLE" => {
                    return Err(AwsError::sender(
                        "ImageTagAlreadyExistsException",
                        format!(
                            "The image tag '{tag}' already exists in the '{name}' repository and cannot be overwritten because the repository is immutable."
                        ),
                    ));
                }
                Some(holder) => {
                    if let Some(image) = repository.images.get_mut(&holder) {
                        image.tags.retain(|t| t != tag);
                    }
                }
                None => {}
            }
        }
        let media_type = media_type
            .map(str::to_owned)
            .or_else(|| {
                serde_json::from_str::<serde_json::Value>(manifest)
                    .ok()
                    .and_then(|m| m.get("mediaType").and_then(|t| t.as_str()).map(str::to_owned))
            })
            .unwrap_or_else(|| "application/vnd.docker.distribution.manifest.v2+json".to_owned());
        let image = repository.images.entry(digest.clone()).or_insert_with(|| Image {
            digest: digest.clone(),
            manifest: manifest.to_owned(),
            manifest_media_type: media_type,
            tags: Vec::new(),
            pushed_ms: now,
        });
        if let Some(tag) = tag {
            image.tags.push(tag.to_owned());
        }
        Ok(image.clone())
    }
}

#[cfg(test)]
mod tests;

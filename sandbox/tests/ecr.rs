//! ECR through the official Rust SDK: repositories, images pushed by
//! manifest, their descriptions, deletion and authorization tokens.

mod support;

use aws_sdk_ecr::types::ImageIdentifier;

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1470,"digest":"sha256:aa"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3000000,"digest":"sha256:bb"}]}"#;

async fn client() -> (keywatch_sandbox::RunningSandbox, aws_sdk_ecr::Client) {
    let sandbox = support::start_sandbox().await;
    let client = aws_sdk_ecr::Client::new(&support::sdk_config(&sandbox.endpoint_url, "ap-southeast-2"));
    (sandbox, client)
}

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteRepository.html
#[tokio::test]
async fn images_are_pushed_described_and_block_deletion() {
    let (_sandbox, ecr) = client().await;
    let created = ecr.create_repository().repository_name("pattern1-app").send().await.expect("CreateRepository");
    let repository = created.repository().expect("repository");
    assert_eq!(repository.repository_uri(), Some("111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/pattern1-app"));
    let again = ecr.create_repository().repository_name("pattern1-app").send().await.expect_err("exists");
    assert!(again.into_service_error().is_repository_already_exists_exception());

    let pushed = ecr
        .put_image()
        .repository_name("pattern1-app")
        .image_manifest(MANIFEST)
        .image_tag("latest")
        .send()
        .await
        .expect("PutImage");
    let digest = pushed.image().and_then(|i| i.image_id()).and_then(|id| id.image_digest()).expect("digest").to_owned();
    assert!(digest.starts_with("sha256:") && digest.len() == 71, "{digest}");

    let described = ecr.describe_images().repository_name("pattern1-app").send().await.expect("DescribeImages");
    let detail = &described.image_details()[0];
    assert_eq!(detail.image_digest(), Some(digest.as_str()));
    assert_eq!(detail.image_tags(), ["latest"]);
    assert_eq!(detail.image_size_in_bytes(), Some(3_001_470));
    assert!(detail.image_pushed_at().is_some());
    let listed = ecr.list_images().repository_name("pattern1-app").send().await.expect("ListImages");
    assert_eq!(listed.image_ids().len(), 1);

    let not_empty = ecr.delete_repository().repository_name("pattern1-app").send().await.expect_err("not empty");
    assert!(not_empty.into_service_error().is_repository_not_empty_exception());

    let deleted = ecr
        .batch_delete_image()
        .repository_name("pattern1-app")
        .image_ids(ImageIdentifier::builder().image_tag("latest").build())
        .image_ids(ImageIdentifier::builder().image_tag("missing").build())
        .send()
        .await
        .expect("BatchDeleteImage");
    assert_eq!(deleted.image_ids().len(), 1);
    let failure = &deleted.failures()[0];
    assert_eq!(failure.failure_code().map(|c| c.as_str()), Some("ImageNotFound"));
    assert_eq!(failure.failure_reason(), Some("Requested image not found"));

    ecr.delete_repository().repository_name("pattern1-app").send().await.expect("DeleteRepository");
    let gone = ecr.describe_repositories().repository_names("pattern1-app").send().await.expect_err("gone");
    assert!(gone.into_service_error().is_repository_not_found_exception());
}

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html
#[tokio::test]
async fn authorization_tokens_name_the_registry() {
    use base64::Engine as _;
    let (_sandbox, ecr) = client().await;
    let token = ecr.get_authorization_token().send().await.expect("GetAuthorizationToken");
    let data = &token.authorization_data()[0];
    assert_eq!(data.proxy_endpoint(), Some("https://111122223333.dkr.ecr.ap-southeast-2.amazonaws.com"));
    let decoded =
        base64::engine::general_purpose::STANDARD.decode(data.authorization_token().expect("token")).expect("b64");
    assert!(decoded.starts_with(b"AWS:"));
    assert!(data.expires_at().is_some());
}

//! ECR service logic and JSON binding, on plain state.

use serde_json::json;

use super::*;
use crate::service::CallContext;

const REGION: &str = "ap-southeast-2";
const ACCOUNT: &str = "111122223333";
const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"size":100},"layers":[{"size":1000},{"size":23}]}"#;

fn with_repository() -> EcrState {
    let mut state = EcrState::default();
    let new = NewRepository { name: "lab/workload".into(), ..NewRepository::default() };
    state.create_repository(REGION, "aws", ACCOUNT, new, 0).expect("created");
    state
}

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_Repository.html (repositoryUri)
#[test]
fn repositories_have_registry_uris() {
    let state = with_repository();
    let repository = state.repository(REGION, ACCOUNT, "lab/workload").expect("repository");
    assert_eq!(repository.uri, "111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/lab/workload");
    assert_eq!(repository.arn, "arn:aws:ecr:ap-southeast-2:111122223333:repository/lab/workload");
    assert_eq!((repository.image_tag_mutability.as_str(), repository.encryption_type.as_str()), ("MUTABLE", "AES256"));
}

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html (repositoryName pattern, RepositoryAlreadyExistsException)
#[test]
fn repository_names_are_checked_and_unique() {
    let mut state = with_repository();
    for bad in ["a", "Upper", "a//b", "-a", "a-", "a..b"] {
        assert!(check_repository_name(bad).is_err(), "{bad}");
    }
    let again = NewRepository { name: "lab/workload".into(), ..NewRepository::default() };
    assert_eq!(
        state.create_repository(REGION, "aws", ACCOUNT, again, 1).expect_err("exists").code,
        "RepositoryAlreadyExistsException"
    );
}

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteRepository.html (RepositoryNotEmptyException unless force)
#[test]
fn repositories_with_images_need_force() {
    let mut state = with_repository();
    state
        .put_image(
            REGION,
            ACCOUNT,
            "lab/workload",
            NewImage { manifest: MANIFEST, media_type: None, tag: Some("v1") },
            1,
        )
        .expect("pushed");
    let error = state.delete_repository(REGION, ACCOUNT, "lab/workload", false).expect_err("not empty");
    assert_eq!(error.code, "RepositoryNotEmptyException");
    assert_eq!(
        error.message,
        "The repository with name 'lab/workload' in registry with id '111122223333' cannot be deleted because it still contains images"
    );
    state.delete_repository(REGION, ACCOUNT, "lab/workload", true).expect("forced");
    assert_eq!(
        state.repository(REGION, ACCOUNT, "lab/workload").expect_err("gone").code,
        "RepositoryNotFoundException"
    );
}

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html (digest, ImageAlreadyExistsException, tag moves)
#[test]
fn images_are_keyed_by_manifest_digest_and_tags_move() {
    let mut state = with_repository();
    let image = state
        .put_image(
            REGION,
            ACCOUNT,
            "lab/workload",
            NewImage { manifest: MANIFEST, media_type: None, tag: Some("latest") },
            1,
        )
        .expect("pushed");
    assert_eq!(image.digest, manifest_digest(MANIFEST));
    assert_eq!(image.digest.len(), "sha256:".len() + 64);
    assert_eq!(image.size_in_bytes(), 1123);
    let again = state
        .put_image(
            REGION,
            ACCOUNT,
            "lab/workload",
            NewImage { manifest: MANIFEST, media_type: None, tag: Some("latest") },
            2,
        )
        .expect_err("same");
    assert_eq!(again.code, "ImageAlreadyExistsException");
    let other = r#"{"schemaVersion":2,"layers":[]}"#;
    state
        .put_image(
            REGION,
            ACCOUNT,
            "lab/workload",
            NewImage { manifest: other, media_type: None, tag: Some("latest") },
            3,
        )
        .expect("moved");
    let repository = state.repository(REGION, ACCOUNT, "lab/workload").expect("repository");
    assert!(repository.images.get(&image.digest).is_some_and(|i| i.tags.is_empty()));
}

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchDeleteImage.html (failures: ImageNotFound)
#[test]
fn batch_delete_reports_unknown_ids_as_failures() {
    let mut state = with_repository();
    let ctx = CallContext::for_tests(0);
    state
        .put_image(
            REGION,
            ACCOUNT,
            "lab/workload",
            NewImage { manifest: MANIFEST, media_type: None, tag: Some("v1") },
            1,
        )
        .expect("pushed");
    let handled = api::call(
        &mut state,
        &ctx,
        "BatchDeleteImage",
        &json!({"repositoryName": "lab/workload", "imageIds": [{"imageTag": "v1"}, {"imageTag": "nope"}]}),
    )
    .expect("known");
    let output = crate::protocol::json::encode_output(&handled.result.expect("ok"));
    assert_eq!(output["imageIds"], json!([{"imageDigest": manifest_digest(MANIFEST), "imageTag": "v1"}]));
    assert_eq!(
        output["failures"],
        json!([{"imageId": {"imageTag": "nope"}, "failureCode": "ImageNotFound", "failureReason": "Requested image not found"}])
    );
    assert!(state.repository(REGION, ACCOUNT, "lab/workload").expect("repository").images.is_empty());
}

// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html (base64 user:password, proxyEndpoint)
#[test]
fn authorization_tokens_are_base64_aws_user_and_password() {
    use base64::Engine as _;
    let mut state = EcrState::default();
    let handled =
        api::call(&mut state, &CallContext::for_tests(0), "GetAuthorizationToken", &json!({})).expect("known");
    let output = crate::protocol::json::encode_output(&handled.result.expect("ok"));
    let data = &output["authorizationData"][0];
    let token = data["authorizationToken"].as_str().expect("token");
    let decoded =
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(token).expect("base64")).expect("utf8");
    assert!(decoded.starts_with("AWS:"), "{decoded}");
    assert_eq!(data["proxyEndpoint"], "https://111122223333.dkr.ecr.ap-southeast-2.amazonaws.com");
    assert_eq!(data["expiresAt"], json!(43200.0));
}

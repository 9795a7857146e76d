//! KMS through the official Rust SDK: each error arrives as the SDK's typed
//! variant, so callers can match on it as they would against AWS.

mod support;

use std::collections::HashMap;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, KeyState, Tag};

async fn client() -> (keywatch_sandbox::RunningSandbox, aws_sdk_kms::Client) {
    let sandbox = support::start_sandbox().await;
    let client = aws_sdk_kms::Client::new(&support::sdk_config(&sandbox.endpoint_url, "ap-southeast-2"));
    (sandbox, client)
}

async fn new_key(kms: &aws_sdk_kms::Client) -> String {
    let created = kms.create_key().send().await.expect("CreateKey");
    created.key_metadata().map(|m| m.key_id().to_owned()).expect("key id")
}

// https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html (errors)
#[tokio::test]
async fn decrypt_errors_are_typed() {
    let (_sandbox, kms) = client().await;
    let key = new_key(&kms).await;
    let other = new_key(&kms).await;
    let context = HashMap::from([("Name".to_owned(), "alice".to_owned())]);
    let encrypted = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new("text"))
        .set_encryption_context(Some(context.clone()))
        .send()
        .await
        .expect("Encrypt");
    let blob = encrypted.ciphertext_blob().expect("blob").clone();
    assert_eq!(encrypted.key_id(), Some(format!("arn:aws:kms:ap-southeast-2:111122223333:key/{key}").as_str()));

    // No KeyId: the ciphertext names its key.
    let plain = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .set_encryption_context(Some(context.clone()))
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(plain.plaintext().map(|p| p.as_ref()), Some(&b"text"[..]));

    let wrong = kms
        .decrypt()
        .key_id(&other)
        .ciphertext_blob(blob.clone())
        .set_encryption_context(Some(context.clone()))
        .send()
        .await;
    assert!(wrong.expect_err("wrong key").into_service_error().is_incorrect_key_exception());
    let unknown = kms.decrypt().key_id("some-random-false-key").ciphertext_blob(blob.clone()).send().await;
    assert!(unknown.expect_err("unknown").into_service_error().is_not_found_exception());
    let no_context = kms.decrypt().ciphertext_blob(blob.clone()).send().await;
    assert!(no_context.expect_err("context").into_service_error().is_invalid_ciphertext_exception());
    let mut tampered = blob.as_ref().to_vec();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    let altered =
        kms.decrypt().ciphertext_blob(Blob::new(tampered)).set_encryption_context(Some(context.clone())).send().await;
    assert!(altered.expect_err("tampered").into_service_error().is_invalid_ciphertext_exception());

    kms.disable_key().key_id(&key).send().await.expect("DisableKey");
    let disabled =
        kms.decrypt().ciphertext_blob(blob.clone()).set_encryption_context(Some(context.clone())).send().await;
    assert!(disabled.expect_err("disabled").into_service_error().is_disabled_exception());
    kms.enable_key().key_id(&key).send().await.expect("EnableKey");

    let scheduled =
        kms.schedule_key_deletion().key_id(&key).pending_window_in_days(7).send().await.expect("ScheduleKeyDeletion");
    assert_eq!(scheduled.key_state(), Some(&KeyState::PendingDeletion));
    let pending =
        kms.decrypt().ciphertext_blob(blob.clone()).set_encryption_context(Some(context.clone())).send().await;
    assert!(pending.expect_err("pending").into_service_error().is_kms_invalid_state_exception());
    kms.cancel_key_deletion().key_id(&key).send().await.expect("CancelKeyDeletion");
    let described = kms.describe_key().key_id(&key).send().await.expect("DescribeKey");
    assert_eq!(described.key_metadata().and_then(|m| m.key_state()), Some(&KeyState::Disabled));
}

#[tokio::test]
async fn aliases_data_keys_re_encrypt_policies_and_tags() {
    let (_sandbox, kms) = client().await;
    let key = new_key(&kms).await;
    let other = new_key(&kms).await;
    kms.create_alias().alias_name("alias/pattern1-app").target_key_id(&key).send().await.expect("CreateAlias");
    let duplicate = kms.create_alias().alias_name("alias/pattern1-app").target_key_id(&key).send().await;
    assert!(duplicate.expect_err("duplicate").into_service_error().is_already_exists_exception());
    let aliases = kms.list_aliases().send().await.expect("ListAliases");
    assert_eq!(aliases.aliases().len(), 1);
    assert_eq!(aliases.aliases()[0].target_key_id(), Some(key.as_str()));

    let data_key = kms
        .generate_data_key()
        .key_id("alias/pattern1-app")
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .expect("GenerateDataKey");
    assert_eq!(data_key.plaintext().map(|p| p.as_ref().len()), Some(32));
    let without = kms
        .generate_data_key_without_plaintext()
        .key_id(&key)
        .number_of_bytes(16)
        .send()
        .await
        .expect("GenerateDataKeyWithoutPlaintext");
    assert!(without.ciphertext_blob().is_some());

    let moved = kms
        .re_encrypt()
        .ciphertext_blob(data_key.ciphertext_blob().expect("blob").clone())
        .destination_key_id(&other)
        .send()
        .await
        .expect("ReEncrypt");
    let back = kms
        .decrypt()
        .key_id(&other)
        .ciphertext_blob(moved.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(back.plaintext().map(|p| p.as_ref().to_vec()), data_key.plaintext().map(|p| p.as_ref().to_vec()));

    let keys = kms.list_keys().limit(1).send().await.expect("ListKeys");
    assert_eq!((keys.keys().len(), keys.truncated()), (1, true));
    let rest = kms.list_keys().marker(keys.next_marker().expect("marker")).send().await.expect("ListKeys");
    assert_eq!(rest.keys().len(), 1);

    let policy = kms.get_key_policy().key_id(&key).policy_name("default").send().await.expect("GetKeyPolicy");
    assert!(policy.policy().is_some_and(|p| p.contains("kms:*")));
    kms.put_key_policy()
        .key_id(&key)
        .policy_name("default")
        .policy("{\"Version\":\"2012-10-17\",\"Statement\":[]}")
        .send()
        .await
        .expect("PutKeyPolicy");
    kms.tag_resource()
        .key_id(&key)
        .tags(Tag::builder().tag_key("lab").tag_value("pattern1").build().expect("tag"))
        .send()
        .await
        .expect("TagResource");
    let tags = kms.list_resource_tags().key_id(&key).send().await.expect("ListResourceTags");
    assert_eq!(tags.tags().len(), 1);

    kms.delete_alias().alias_name("alias/pattern1-app").send().await.expect("DeleteAlias");
    let gone = kms.describe_key().key_id("alias/pattern1-app").send().await;
    assert!(gone.expect_err("gone").into_service_error().is_not_found_exception());
}

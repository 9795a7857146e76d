//! KMS rules, case by case, on plain state (no HTTP).

use std::collections::BTreeMap;

use super::api::call;
use super::*;
use crate::protocol::value::Value;
use base64::Engine as _;
use serde_json::json;

fn no_context() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn new_key(state: &mut KmsState) -> String {
    state.create_key(&CallContext::for_tests(0), CreateKeyRequest::default()).expect("created").key_id.clone()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn encrypt_then_decrypt_without_key_id() {
    let mut state = KmsState::default();
    let key_id = new_key(&mut state);
    let sealed = state.encrypt(&CallContext::for_tests(1), &key_id, b"hello", &no_context(), None).expect("encrypted");
    let opened =
        state.decrypt(&CallContext::for_tests(2), &sealed.ciphertext, &no_context(), None, None).expect("decrypted");
    assert_eq!(opened.plaintext, b"hello");
    assert_eq!(opened.key_arn, format!("arn:aws:kms:ap-southeast-2:111122223333:key/{key_id}"));
}

// https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html:
// "If you identify a different KMS key, the Decrypt operation throws an IncorrectKeyException."
#[test]
fn decrypt_with_another_key_is_incorrect_key() {
    let mut state = KmsState::default();
    let key_a = new_key(&mut state);
    let key_b = new_key(&mut state);
    let sealed = state.encrypt(&CallContext::for_tests(1), &key_a, b"x", &no_context(), None).expect("encrypted");
    let error = state
        .decrypt(&CallContext::for_tests(2), &sealed.ciphertext, &no_context(), Some(&key_b), None)
        .expect_err("wrong key");
    assert_eq!(error.code, "IncorrectKeyException");
    // The right key by ARN and by alias works.
    state.create_alias(&CallContext::for_tests(3), "alias/app", &key_a).expect("alias");
    let arn = format!("arn:aws:kms:ap-southeast-2:111122223333:key/{key_a}");
    assert!(state.decrypt(&CallContext::for_tests(4), &sealed.ciphertext, &no_context(), Some(&arn), None).is_ok());
    assert!(
        state.decrypt(&CallContext::for_tests(4), &sealed.ciphertext, &no_context(), Some("alias/app"), None).is_ok()
    );
}

// https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html (NotFoundException)
#[test]
fn unknown_keys_are_not_found() {
    let mut state = KmsState::default();
    let key = new_key(&mut state);
    let sealed = state.encrypt(&CallContext::for_tests(1), &key, b"x", &no_context(), None).expect("encrypted");
    for key_ref in ["some-random-false-key", "alias/missing", "00000000-0000-0000-0000-000000000000"] {
        let error = state
            .decrypt(&CallContext::for_tests(2), &sealed.ciphertext, &no_context(), Some(key_ref), None)
            .expect_err(key_ref);
        assert_eq!(error.code, "NotFoundException", "{key_ref}");
    }
    let error = state
        .encrypt(&CallContext::for_tests(2), "some-random-false-key", b"x", &no_context(), None)
        .expect_err("unknown");
    assert_eq!(error.message, "Invalid keyId some-random-false-key");
    // A key in another region is not found either.
    let mut elsewhere = CallContext::for_tests(2);
    elsewhere.region = "us-east-1".into();
    assert_eq!(
        state.encrypt(&elsewhere, &key, b"x", &no_context(), None).expect_err("other region").code,
        "NotFoundException"
    );
}

// https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html:
// disabled keys raise DisabledException, keys pending deletion KMSInvalidStateException.
#[test]
fn key_states_gate_cryptography() {
    let mut state = KmsState::default();
    let key = new_key(&mut state);
    let sealed = state.encrypt(&CallContext::for_tests(1), &key, b"x", &no_context(), None).expect("encrypted");
    state.set_enabled(&CallContext::for_tests(2), &key, false).expect("disabled");
    assert_eq!(
        state.encrypt(&CallContext::for_tests(3), &key, b"x", &no_context(), None).expect_err("disabled").code,
        "DisabledException"
    );
    assert_eq!(
        state
            .decrypt(&CallContext::for_tests(3), &sealed.ciphertext, &no_context(), None, None)
            .expect_err("disabled")
            .code,
        "DisabledException"
    );
    state.set_enabled(&CallContext::for_tests(4), &key, true).expect("enabled");
    state.schedule_key_deletion(&CallContext::for_tests(5), &key, Some(7)).expect("scheduled");
    assert_eq!(
        state
            .decrypt(&CallContext::for_tests(6), &sealed.ciphertext, &no_context(), None, None)
            .expect_err("pending")
            .code,
        "KMSInvalidStateException"
    );
    assert_eq!(
        state.set_enabled(&CallContext::for_tests(6), &key, true).expect_err("pending").code,
        "KMSInvalidStateException"
    );
    // CancelKeyDeletion leaves the key disabled.
    state.cancel_key_deletion(&CallContext::for_tests(7), &key).expect("cancelled");
    assert_eq!(state.resolve(&CallContext::for_tests(7), &key).expect("key").state, KeyState::Disabled);
    // After the waiting period, the key is gone.
    state.schedule_key_deletion(&CallContext::for_tests(8), &key, Some(7)).expect("scheduled");
    assert!(state.purge(8 + 7 * crate::clock::DAY_MS));
    assert_eq!(state.resolve(&CallContext::for_tests(9), &key).expect_err("deleted").code, "NotFoundException");
}

// https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html (7 to 30 days)
#[test]
fn deletion_window_is_checked() {
    let mut state = KmsState::default();
    let key = new_key(&mut state);
    for days in [6, 31] {
        assert_eq!(
            state.schedule_key_deletion(&CallContext::for_tests(1), &key, Some(days)).expect_err("window").code,
            "ValidationException"
        );
    }
    assert_eq!(
        state.schedule_key_deletion(&CallContext::for_tests(1), &key, None).expect("default").pending_window_in_days,
        Some(30)
    );
}

// https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html (InvalidCiphertextException)
#[test]
fn tampered_blobs_and_wrong_context_are_invalid_ciphertext() {
    let mut state = KmsState::default();
    let key = new_key(&mut state);
    let context: BTreeMap<String, String> = [("purpose".to_owned(), "test".to_owned())].into();
    let sealed = state.encrypt(&CallContext::for_tests(1), &key, b"x", &context, None).expect("encrypted");
    let mut altered = sealed.ciphertext.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0x80;
    assert_eq!(
        state.decrypt(&CallContext::for_tests(2), &altered, &context, None, None).expect_err("tampered").code,
        "InvalidCiphertextException"
    );
    assert_eq!(
        state.decrypt(&CallContext::for_tests(2), b"garbage", &context, None, None).expect_err("garbage").code,
        "InvalidCiphertextException"
    );
    assert_eq!(
        state
            .decrypt(&CallContext::for_tests(2), &sealed.ciphertext, &no_context(), None, None)
            .expect_err("context")
            .code,
        "InvalidCiphertextException"
    );
}

#[test]
fn re_encrypt_moves_data_between_keys() {
    let mut state = KmsState::default();
    let key_a = new_key(&mut state);
    let key_b = new_key(&mut state);
    let sealed = state.encrypt(&CallContext::for_tests(1), &key_a, b"x", &no_context(), None).expect("encrypted");
    let (_, moved) = state
        .re_encrypt(&CallContext::for_tests(2), &sealed.ciphertext, &no_context(), Some(&key_a), &key_b, &no_context())
        .expect("moved");
    assert_eq!(
        state
            .decrypt(&CallContext::for_tests(3), &moved.ciphertext, &no_context(), Some(&key_b), None)
            .expect("decrypted")
            .plaintext,
        b"x"
    );
    assert_eq!(
        state
            .re_encrypt(
                &CallContext::for_tests(2),
                &sealed.ciphertext,
                &no_context(),
                Some(&key_b),
                &key_b,
                &no_context()
            )
            .expect_err("wrong source")
            .code,
        "IncorrectKeyException"
    );
}

// https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html
#[test]
fn data_keys_have_the_requested_length_and_decrypt() {
    let mut state = KmsState::default();
    let key = new_key(&mut state);
    let data_key = state
        .generate_data_key(&CallContext::for_tests(1), &key, None, Some("AES_256"), &no_context())
        .expect("data key");
    assert_eq!(data_key.plaintext.len(), 32);
    let opened = state
        .decrypt(&CallContext::for_tests(2), &data_key.sealed.ciphertext, &no_context(), None, None)
        .expect("decrypted");
    assert_eq!(opened.plaintext, data_key.plaintext);
    assert_eq!(
        state
            .generate_data_key(&CallContext::for_tests(1), &key, Some(16), None, &no_context())
            .expect("bytes")
            .plaintext
            .len(),
        16
    );
    assert_eq!(
        state.generate_data_key(&CallContext::for_tests(1), &key, None, None, &no_context()).expect_err("neither").code,
        "ValidationException"
    );
    assert_eq!(
        state
            .generate_data_key(&CallContext::for_tests(1), &key, Some(2000), None, &no_context())
            .expect_err("too many")
            .code,
        "ValidationException"
    );
}

// https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
#[test]
fn aliases_are_unique_and_reserved_names_refused() {
    let mut state = KmsState::default();
    let key = new_key(&mut state);
    state.create_alias(&CallContext::for_tests(1), "alias/app", &key).expect("alias");
    assert_eq!(
        state.create_alias(&CallContext::for_tests(1), "alias/app", &key).expect_err("duplicate").code,
        "AlreadyExistsException"
    );
    assert_eq!(
        state.create_alias(&CallContext::for_tests(1), "alias/aws/s3", &key).expect_err("reserved").code,
        "InvalidAliasNameException"
    );
    assert_eq!(
        state.create_alias(&CallContext::for_tests(1), "app", &key).expect_err("prefix").code,
        "ValidationException"
    );
    assert_eq!(state.list_aliases(&CallContext::for_tests(1), Some(&key), 50, None).expect("listed").0.len(), 1);
    state.delete_alias(&CallContext::for_tests(2), "alias/app").expect("deleted");
    assert_eq!(
        state.delete_alias(&CallContext::for_tests(2), "alias/app").expect_err("gone").code,
        "NotFoundException"
    );
}

#[test]
fn list_keys_pages_with_markers() {
    let mut state = KmsState::default();
    for _ in 0..3 {
        new_key(&mut state);
    }
    let (first, marker) = state.list_keys(&CallContext::for_tests(1), 2, None);
    assert_eq!(first.len(), 2);
    let marker = marker.expect("more");
    let (rest, none) = state.list_keys(&CallContext::for_tests(1), 2, Some(&marker));
    assert_eq!((rest.len(), none), (1, None));
}

#[test]
fn policies_and_tags() {
    let mut state = KmsState::default();
    let key = new_key(&mut state);
    assert!(state.get_key_policy(&CallContext::for_tests(1), &key, None).expect("policy").policy.contains("kms:*"));
    assert_eq!(
        state.put_key_policy(&CallContext::for_tests(1), &key, Some("default"), "nope".into()).expect_err("bad").code,
        "MalformedPolicyDocumentException"
    );
    state
        .put_key_policy(&CallContext::for_tests(1), &key, None, "{\"Version\":\"2012-10-17\",\"Statement\":[]}".into())
        .expect("put");
    state
        .tag_resource(&CallContext::for_tests(1), &key, vec![Tag { tag_key: "a".into(), tag_value: "1".into() }])
        .expect("tag");
    state
        .tag_resource(&CallContext::for_tests(1), &key, vec![Tag { tag_key: "a".into(), tag_value: "2".into() }])
        .expect("retag");
    assert_eq!(
        state.resolve(&CallContext::for_tests(1), &key).expect("key").tags,
        vec![Tag { tag_key: "a".into(), tag_value: "2".into() }]
    );
}

// https://docs.aws.amazon.com/kms/latest/developerguide/ct-decrypt.html: a Decrypt
// record carries encryptionAlgorithm and keyId, is read-only, and names the key.
#[test]
fn decrypt_calls_are_audited_without_payloads() {
    let mut state = KmsState::default();
    let created = call(&mut state, &CallContext::for_tests(0), "CreateKey", &json!({})).expect("known");
    assert!(created.mutated);
    let Ok(Value::Map(members)) = &created.result else { panic!("created") };
    let Some((_, metadata)) = members.first() else { panic!("metadata") };
    let Value::Map(fields) = metadata else { panic!("map") };
    let key_id = fields.iter().find(|(n, _)| n == "KeyId").map(|(_, v)| v.clone());
    let Some(Value::String(key_id)) = key_id else { panic!("key id") };
    // Key material never appears in a response.
    assert!(!format!("{:?}", created.result).contains("material"));

    let encrypted =
        call(&mut state, &CallContext::for_tests(1), "Encrypt", &json!({"KeyId": key_id, "Plaintext": b64(b"secret")}))
            .expect("known");
    let audit = encrypted.audit.expect("audited");
    assert_eq!(audit.request_parameters, Some(json!({"keyId": key_id, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"})));
    assert!(audit.read_only && audit.response_elements.is_none());
    let Ok(Value::Map(members)) = encrypted.result else { panic!("encrypted") };
    let Some((_, Value::Blob(blob))) = members.into_iter().find(|(n, _)| n == "CiphertextBlob") else { panic!("blob") };

    let failed = call(
        &mut state,
        &CallContext::for_tests(2),
        "Decrypt",
        &json!({"CiphertextBlob": b64(&blob), "KeyId": "some-random-false-key"}),
    )
    .expect("known");
    assert_eq!(failed.result.expect_err("fails").code, "NotFoundException");
    let audit = failed.audit.expect("audited");
    assert_eq!(
        audit.request_parameters,
        Some(json!({"keyId": "some-random-false-key", "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}))
    );
    assert_eq!(audit.resources.len(), 1, "the ciphertext's key is named");
    assert!(!failed.mutated);

    let plain =
        call(&mut state, &CallContext::for_tests(3), "Decrypt", &json!({"CiphertextBlob": b64(&blob)})).expect("known");
    assert!(plain.result.is_ok());
    assert_eq!(
        plain.audit.expect("audited").request_parameters,
        Some(json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}))
    );

    let missing =
        call(&mut state, &CallContext::for_tests(4), "Encrypt", &json!({"Plaintext": b64(b"x")})).expect("known");
    assert_eq!(missing.result.expect_err("invalid").code, "ValidationException");
    assert!(call(&mut state, &CallContext::for_tests(4), "Sign", &json!({})).is_none());
}

// https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html and
// API_GetKeyRotationStatus.html: rotation is off on a new key, on after
// EnableKeyRotation (yearly), and a disabled key cannot change it (DisabledException).
#[test]
fn key_rotation_and_description() {
    let mut state = KmsState::default();
    let key = new_key(&mut state);
    let ctx = CallContext::for_tests(1);
    let status = |state: &mut KmsState| {
        let handled = call(state, &ctx, "GetKeyRotationStatus", &json!({"KeyId": key})).expect("known");
        match handled.result.expect("status") {
            Value::Map(members) => {
                members.iter().find(|(name, _)| name == "KeyRotationEnabled").map(|(_, v)| v.clone())
            }
            _ => None,
        }
    };
    assert_eq!(status(&mut state), Some(Value::Bool(false)));
    call(&mut state, &ctx, "EnableKeyRotation", &json!({"KeyId": key})).expect("known").result.expect("enabled");
    assert_eq!(status(&mut state), Some(Value::Bool(true)));
    state.set_enabled(&ctx, &key, false).expect("disabled");
    let refused = call(&mut state, &ctx, "DisableKeyRotation", &json!({"KeyId": key})).expect("known");
    assert_eq!(refused.result.expect_err("disabled key").code, "DisabledException");
    // https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateKeyDescription.html
    call(&mut state, &ctx, "UpdateKeyDescription", &json!({"KeyId": key, "Description": "app"}))
        .expect("known")
        .result
        .expect("updated");
    assert_eq!(state.resolve(&ctx, &key).expect("key").description, "app");
}

/// A call by session `worker` of role `app`, issued at `issued`, made at `now`.
fn session_call(issued: i64, now: i64) -> CallContext {
    let role_arn = "arn:aws:iam::111122223333:role/app".to_owned();
    CallContext {
        caller: crate::identity::Principal {
            account_id: "111122223333".into(),
            arn: "arn:aws:sts::111122223333:assumed-role/app/worker".into(),
            user_id: "AROAEXAMPLE:worker".into(),
            access_key_id: Some("ASIAEXAMPLE".into()),
            kind: crate::identity::PrincipalKind::AssumedRole {
                role_arn,
                role_name: "app".into(),
                role_id: "AROAEXAMPLE".into(),
                session_created_ms: issued,
            },
        },
        ..CallContext::for_tests(now)
    }
}

fn policy(text: &str) -> keywatch_domain::iam_policy::Policy {
    keywatch_domain::iam_policy::Policy::parse(text).expect("a policy")
}

// https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html
// (ReEncrypt needs kms:ReEncryptFrom on the source key and kms:ReEncryptTo on
// the destination) and IAM's troubleshoot_access-denied.html (the message).
#[test]
fn a_role_sessions_calls_are_refused_by_an_explicit_deny() {
    let mut state = KmsState::default();
    let source = new_key(&mut state);
    let destination = new_key(&mut state);
    let destination_arn = format!("arn:aws:kms:ap-southeast-2:111122223333:key/{destination}");
    let sealed = state.encrypt(&CallContext::for_tests(1), &source, b"x", &no_context(), None).expect("encrypted");
    let deny_to = policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":"kms:ReEncryptTo","Resource":"{destination_arn}"}}}}"#
    ));
    let ctx = session_call(0, 10);
    let re_encrypt = json!({"CiphertextBlob": b64(&sealed.ciphertext), "DestinationKeyId": destination});
    let refused =
        super::api::call_authorized(&mut state, &ctx, "ReEncrypt", &re_encrypt, std::slice::from_ref(&deny_to))
            .expect("served");
    let error = refused.result.expect_err("denied");
    assert_eq!((error.code.as_str(), error.status.as_u16()), ("AccessDeniedException", 400));
    assert_eq!(error.trail_code, Some("AccessDenied"));
    assert_eq!(
        error.message,
        format!(
            "User: arn:aws:sts::111122223333:assumed-role/app/worker is not authorized to perform: kms:ReEncryptTo on resource: {destination_arn} with an explicit deny in an identity-based policy"
        )
    );
    // Nothing ran, and the record still names the key.
    assert!(!refused.mutated);
    assert_eq!(refused.audit.expect("audited").resources[0].arn, destination_arn);
    // Decrypting from the source key is not denied; nor is anything for the
    // default user, whose policies are never consulted.
    let decrypt = json!({"CiphertextBlob": b64(&sealed.ciphertext)});
    let allowed = super::api::call_authorized(&mut state, &ctx, "Decrypt", &decrypt, std::slice::from_ref(&deny_to));
    assert!(allowed.expect("served").result.is_ok());
    let deny_all = policy(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#);
    let admin =
        super::api::call_authorized(&mut state, &CallContext::for_tests(10), "ReEncrypt", &re_encrypt, &[deny_all]);
    assert!(admin.expect("served").result.is_ok());
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html:
// aws:TokenIssueTime is the session's; calls on no key are authorized on `*`.
#[test]
fn revoking_older_sessions_compares_the_sessions_issue_time() {
    let mut state = KmsState::default();
    let revoke = policy(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
            "Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-12-07T23:00:00Z"}}}}"#,
    );
    let revoked_at = 1_796_684_400_000;
    let older = super::api::call_authorized(
        &mut state,
        &session_call(revoked_at - 1, revoked_at + 5),
        "ListKeys",
        &json!({}),
        std::slice::from_ref(&revoke),
    );
    let error = older.expect("served").result.expect_err("revoked");
    assert!(error.message.contains("kms:ListKeys on resource: * with an explicit deny"), "{}", error.message);
    let newer = super::api::call_authorized(
        &mut state,
        &session_call(revoked_at, revoked_at + 5),
        "CreateKey",
        &json!({}),
        &[revoke],
    );
    assert!(newer.expect("served").result.is_ok());
}

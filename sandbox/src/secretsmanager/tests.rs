//! Secrets Manager service logic, on plain state.

use serde_json::json;

use super::*;
use crate::service::CallContext;

const REGION: &str = "ap-southeast-2";

fn new_secret(name: &str, value: &str) -> NewSecret {
    NewSecret { name: name.into(), value: Some(SecretValue::String(value.into())), ..NewSecret::default() }
}

fn with_secret() -> (SecretsManagerState, String) {
    let mut state = SecretsManagerState::default();
    let arn = state.create(REGION, "aws", "111122223333", new_secret("lab/db", "v1"), 0).expect("created").arn.clone();
    (state, arn)
}

// https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources (secret ARN with 6 random characters)
#[test]
fn arns_end_with_six_random_characters_and_lookups_take_name_or_arns() {
    let (mut state, arn) = with_secret();
    let prefix = "arn:aws:secretsmanager:ap-southeast-2:111122223333:secret:lab/db-";
    assert!(arn.starts_with(prefix) && arn.len() == prefix.len() + 6, "{arn}");
    for id in ["lab/db", arn.as_str(), "arn:aws:secretsmanager:ap-southeast-2:111122223333:secret:lab/db"] {
        let (secret, _) = state.get_value(REGION, id, None, None, 1).expect(id);
        assert_eq!(secret.name, "lab/db");
    }
    assert_eq!(state.find(REGION, "lab/other").expect_err("missing").code, "ResourceNotFoundException");
}

// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html (AWSCURRENT moves, AWSPREVIOUS follows)
#[test]
fn putting_a_value_moves_awscurrent_and_awsprevious() {
    let (mut state, _) = with_secret();
    let (_, _, v2, stages) =
        state.put_value(REGION, "lab/db", SecretValue::String("v2".into()), None, None, 5).expect("put");
    assert_eq!(stages, vec![AWSCURRENT.to_owned()]);
    assert_eq!(state.secret_string(REGION, "lab/db", None, None, None, 6).expect("current"), "v2");
    assert_eq!(state.secret_string(REGION, "lab/db", None, Some(AWSPREVIOUS), None, 6).expect("previous"), "v1");
    assert_eq!(state.secret_string(REGION, "lab/db", None, None, Some(&v2), 6).expect("by id"), "v2");
    let missing = state.get_value(REGION, "lab/db", None, Some("NOPE"), 6).expect_err("no stage");
    assert_eq!(missing.code, "ResourceNotFoundException");
}

// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html (RecoveryWindowInDays 7-30, ForceDeleteWithoutRecovery)
#[test]
fn deletion_is_scheduled_restorable_and_blocks_reads() {
    let (mut state, _) = with_secret();
    assert_eq!(state.delete(REGION, "lab/db", Some(6), false, 0).expect_err("short").code, "InvalidParameterException");
    assert_eq!(state.delete(REGION, "lab/db", Some(7), true, 0).expect_err("both").code, "InvalidParameterException");
    let (_, _, at) = state.delete(REGION, "lab/db", None, false, 0).expect("scheduled");
    assert_eq!(at, 30 * DAY_MS);
    let blocked = state.get_value(REGION, "lab/db", None, None, 1).expect_err("deleted");
    assert_eq!(blocked.code, "InvalidRequestException");
    assert_eq!(blocked.message, "You can't perform this operation on the secret because it was marked for deletion.");
    state.restore(REGION, "lab/db", 2).expect("restored");
    assert!(state.get_value(REGION, "lab/db", None, None, 3).is_ok());
    state.delete(REGION, "lab/db", Some(7), false, 0).expect("scheduled");
    let twice = state.delete(REGION, "lab/db", Some(7), false, 1).expect_err("already");
    assert_eq!(twice.message, "You tried to perform the operation on a secret that's currently marked deleted.");
    assert!(!state.purge(7 * DAY_MS - 1));
    assert!(state.purge(7 * DAY_MS));
    assert!(state.secrets.is_empty());
}

// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html (ResourceExistsException)
#[test]
fn names_are_unique_per_region() {
    let (mut state, _) = with_secret();
    let again = state.create(REGION, "aws", "111122223333", new_secret("lab/db", "x"), 1).expect_err("exists");
    assert_eq!(again.code, "ResourceExistsException");
    state.force_delete(REGION, "lab/db", 2).expect("deleted");
    assert!(state.create(REGION, "aws", "111122223333", new_secret("lab/db", "x"), 3).is_ok());
}

// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html
#[test]
fn random_passwords_honour_every_option() {
    let default = random_password(&PasswordOptions::default()).expect("password");
    assert_eq!(default.len(), 32);
    let options = PasswordOptions {
        password_length: Some(40),
        exclude_characters: Some("abc".into()),
        exclude_punctuation: Some(true),
        exclude_uppercase: Some(true),
        ..PasswordOptions::default()
    };
    for _ in 0..20 {
        let password = random_password(&options).expect("password");
        assert_eq!(password.len(), 40);
        assert!(password.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()), "{password}");
        assert!(!password.contains(['a', 'b', 'c']), "{password}");
        assert!(password.chars().any(|c| c.is_ascii_digit()) && password.chars().any(|c| c.is_ascii_lowercase()));
    }
    let spaced = PasswordOptions {
        password_length: Some(5),
        include_space: Some(true),
        exclude_numbers: Some(true),
        exclude_lowercase: Some(true),
        exclude_uppercase: Some(true),
        exclude_punctuation: Some(true),
        ..PasswordOptions::default()
    };
    assert_eq!(random_password(&spaced).expect("spaces"), "     ");
    let impossible = PasswordOptions { password_length: Some(2), ..PasswordOptions::default() };
    assert_eq!(random_password(&impossible).expect_err("4 types in 2").code, "InvalidParameterException");
    let zero = PasswordOptions { password_length: Some(0), ..PasswordOptions::default() };
    assert!(random_password(&zero).is_err());
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-secretsmanager-secret-generatesecretstring.html
#[test]
fn generate_secret_string_fills_the_template() {
    let properties: SecretProperties = serde_json::from_value(json!({
        "Name": "lab/mysql",
        "GenerateSecretString": {
            "SecretStringTemplate": "{\"username\": \"admin\"}",
            "GenerateStringKey": "password",
            "PasswordLength": "16",
            "ExcludePunctuation": "false",
            "ExcludeCharacters": "\"@/\\' "
        }
    }))
    .expect("properties");
    let mut state = SecretsManagerState::default();
    let arn = state.create_from_template(REGION, "aws", "111122223333", "DbSecret", &properties, 0).expect("created");
    assert!(arn.contains(":secret:lab/mysql-"));
    assert_eq!(state.secret_string(REGION, &arn, Some("username"), None, None, 1).expect("user"), "admin");
    let password = state.secret_string(REGION, "lab/mysql", Some("password"), Some(AWSCURRENT), None, 1).expect("pw");
    assert_eq!(password.len(), 16);
    assert!(!password.contains(['"', '@', '/', '\\', '\'', ' ']), "{password}");
    let half: GenerateSecretString = serde_json::from_value(json!({"SecretStringTemplate": "{}"})).expect("spec");
    assert_eq!(generate_secret_string(&half).expect_err("no key").code, "InvalidParameterException");
}

// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-secretsmanager-secrettargetattachment.html
#[test]
fn target_attachments_merge_connection_details() {
    let mut state = SecretsManagerState::default();
    state
        .create(REGION, "aws", "111122223333", new_secret("lab/db", r#"{"username":"admin","password":"p"}"#), 0)
        .expect("created");
    let connection = json!({"engine": "mysql", "host": "db.example", "port": 3306});
    let connection = connection.as_object().expect("object");
    state.attach_target(REGION, "lab/db", connection, 1).expect("attached");
    let merged: serde_json::Value =
        serde_json::from_str(&state.secret_string(REGION, "lab/db", None, None, None, 2).expect("value"))
            .expect("json");
    assert_eq!(
        merged,
        json!({"username": "admin", "password": "p", "engine": "mysql", "host": "db.example", "port": 3306})
    );
    assert_eq!(state.secret_string(REGION, "lab/db", Some("port"), None, None, 2).expect("port"), "3306");
}

// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html (SecretString and SecretBinary are exclusive)
#[test]
fn the_api_refuses_both_value_kinds_and_never_records_values() {
    let mut state = SecretsManagerState::default();
    let ctx = CallContext::for_tests(0);
    let both =
        api::call(&mut state, &ctx, "CreateSecret", &json!({"Name": "x", "SecretString": "s", "SecretBinary": "AA=="}))
            .expect("known");
    assert_eq!(both.result.expect_err("both").code, "InvalidParameterException");
    let created =
        api::call(&mut state, &ctx, "CreateSecret", &json!({"Name": "x", "SecretString": "hunter2"})).expect("known");
    let audit = created.audit.expect("audited");
    assert!(!audit.request_parameters.expect("params").to_string().contains("hunter2"));
    let read = api::call(&mut state, &ctx, "GetSecretValue", &json!({"SecretId": "x"})).expect("known");
    assert!(read.audit.expect("audited").response_elements.is_none());
}

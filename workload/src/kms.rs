//! The workload's use of KMS: encrypting a user's text with the app key and
//! decrypting it with whatever key the caller presents.

use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_kms::primitives::Blob;

/// The encryption-context key binding each ciphertext to its Name, so a
/// ciphertext copied to another row does not decrypt there.
const NAME_CONTEXT_KEY: &str = "Name";

/// Why KMS did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    /// KMS answered with an error: a wrong or unknown key, a disabled key,
    /// an altered ciphertext, missing permissions.
    #[error("KMS refused the call: {code}: {message}")]
    Refused { code: String, message: String },
    /// KMS could not be reached or its answer could not be read.
    #[error("KMS is unavailable: {0}")]
    Unavailable(String),
    /// Decrypt succeeded but the plaintext is not the UTF-8 text we stored.
    #[error("the decrypted data is not UTF-8 text")]
    NotText,
}

impl KmsError {
    fn from_sdk<E, R>(error: aws_sdk_kms::error::SdkError<E, R>) -> KmsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match error.code() {
            Some(code) => {
                KmsError::Refused { code: code.to_owned(), message: error.message().unwrap_or_default().to_owned() }
            }
            None => KmsError::Unavailable(DisplayErrorContext(&error).to_string()),
        }
    }
}

/// The workload's KMS client.
#[derive(Debug, Clone)]
pub struct Kms {
    client: aws_sdk_kms::Client,
}

impl Kms {
    /// Wraps an SDK client (configured for AWS or the sandbox).
    pub fn new(client: aws_sdk_kms::Client) -> Kms {
        Kms { client }
    }

    /// Encrypts `text` for `name` with `key_id`, returning the ciphertext blob.
    pub async fn encrypt(&self, key_id: &str, name: &str, text: &str) -> Result<Vec<u8>, KmsError> {
        let output = self
            .client
            .encrypt()
            .key_id(key_id)
            .plaintext(Blob::new(text.as_bytes()))
            .encryption_context(NAME_CONTEXT_KEY, name)
            .send()
            .await
            .map_err(KmsError::from_sdk)?;
        output
            .ciphertext_blob()
            .map(|blob| blob.as_ref().to_vec())
            .ok_or_else(|| KmsError::Unavailable("Encrypt returned no ciphertext".to_owned()))
    }

    /// Decrypts `name`'s ciphertext, insisting on `key_id`: KMS refuses (and
    /// CloudTrail records the refusal) when it is not the key that encrypted.
    pub async fn decrypt(&self, key_id: &str, name: &str, ciphertext: Vec<u8>) -> Result<String, KmsError> {
        let output = self
            .client
            .decrypt()
            .key_id(key_id)
            .ciphertext_blob(Blob::new(ciphertext))
            .encryption_context(NAME_CONTEXT_KEY, name)
            .send()
            .await
            .map_err(KmsError::from_sdk)?;
        let plaintext =
            output.plaintext().ok_or_else(|| KmsError::Unavailable("Decrypt returned no plaintext".to_owned()))?;
        String::from_utf8(plaintext.as_ref().to_vec()).map_err(|_| KmsError::NotText)
    }
}

//! KMS ciphertext blobs: AES-256-GCM under a key's material, with the
//! encryption context bound in as additional authenticated data.
//!
//! Blob layout: `KWK1` | key id (36 ASCII bytes, a UUID) | nonce (12) |
//! ciphertext | tag (16). The header names the key, so Decrypt needs no
//! KeyId (as with real KMS symmetric ciphertexts); it is authenticated too,
//! so a blob whose header is altered fails to decrypt.

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::AwsError;

const MAGIC: &[u8; 4] = b"KWK1";
const KEY_ID_LEN: usize = 36;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = MAGIC.len() + KEY_ID_LEN + NONCE_LEN;

/// 256 bits of key material. Never printed: `Debug` is redacted, and no
/// response or log carries it; it is serialized only into the state file.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial(Vec<u8>);

impl KeyMaterial {
    /// Fresh random material.
    pub fn generate() -> Result<KeyMaterial, AwsError> {
        crate::random::bytes(32).map(KeyMaterial)
    }

    fn aead(&self) -> Result<LessSafeKey, AwsError> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| AwsError::internal("stored key material is unusable"))
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyMaterial(<redacted>)")
    }
}

impl Serialize for KeyMaterial {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for KeyMaterial {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)?;
        if bytes.len() != 32 {
            return Err(serde::de::Error::custom("key material must be 32 bytes"));
        }
        Ok(KeyMaterial(bytes))
    }
}

/// The key id a blob claims to be encrypted under, if it is a sandbox blob.
pub fn blob_key_id(blob: &[u8]) -> Option<&str> {
    if blob.len() < HEADER_LEN + TAG_LEN || !blob.starts_with(MAGIC) {
        return None;
    }
    std::str::from_utf8(blob.get(MAGIC.len()..MAGIC.len() + KEY_ID_LEN)?).ok()
}

/// Encrypts `plaintext` under `material`, naming `key_id` in the header.
pub fn seal(
    material: &KeyMaterial,
    key_id: &str,
    plaintext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>, AwsError> {
    if key_id.len() != KEY_ID_LEN {
        return Err(AwsError::internal("key ids are UUIDs"));
    }
    let nonce_bytes = crate::random::bytes(NONCE_LEN)?;
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(key_id.as_bytes());
    header.extend_from_slice(&nonce_bytes);
    let nonce = Nonce::try_assume_unique_for_key(&nonce_bytes).map_err(|_| AwsError::internal("bad nonce length"))?;
    let mut sealed = plaintext.to_vec();
    material
        .aead()?
        .seal_in_place_append_tag(nonce, Aad::from(additional_data(&header, context)), &mut sealed)
        .map_err(|_| AwsError::internal("encryption failed"))?;
    header.extend_from_slice(&sealed);
    Ok(header)
}

/// Decrypts a blob `seal` made; `None` when it was altered, or the key or
/// the encryption context differ.
pub fn open(material: &KeyMaterial, blob: &[u8], context: &BTreeMap<String, String>) -> Option<Vec<u8>> {
    blob_key_id(blob)?;
    let (header, sealed) = blob.split_at(HEADER_LEN);
    let nonce = Nonce::try_assume_unique_for_key(&header[MAGIC.len() + KEY_ID_LEN..]).ok()?;
    let mut buffer = sealed.to_vec();
    let plaintext =
        material.aead().ok()?.open_in_place(nonce, Aad::from(additional_data(header, context)), &mut buffer).ok()?;
    Some(plaintext.to_vec())
}

/// The header, then each context pair (sorted by key, as KMS treats the
/// context as an unordered map) with length prefixes so pairs cannot run
/// into each other.
fn additional_data(header: &[u8], context: &BTreeMap<String, String>) -> Vec<u8> {
    let mut aad = header.to_vec();
    for (key, value) in context {
        for part in [key, value] {
            aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
            aad.extend_from_slice(part.as_bytes());
        }
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    fn context(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn round_trips_and_names_its_key() {
        let material = KeyMaterial::generate().expect("material");
        let blob = seal(&material, KEY_ID, b"secret", &context(&[("Dept", "IT")])).expect("sealed");
        assert_eq!(blob_key_id(&blob), Some(KEY_ID));
        assert!(!blob.windows(6).any(|w| w == b"secret"));
        assert_eq!(open(&material, &blob, &context(&[("Dept", "IT")])), Some(b"secret".to_vec()));
    }

    // https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html:
    // decryption needs the exact same encryption context.
    #[test]
    fn the_encryption_context_is_bound() {
        let material = KeyMaterial::generate().expect("material");
        let blob = seal(&material, KEY_ID, b"x", &context(&[("a", "1")])).expect("sealed");
        assert_eq!(open(&material, &blob, &context(&[])), None);
        assert_eq!(open(&material, &blob, &context(&[("a", "2")])), None);
        assert_eq!(open(&material, &blob, &context(&[("a", "1"), ("b", "2")])), None);
    }

    #[test]
    fn tampering_and_other_keys_are_detected() {
        let material = KeyMaterial::generate().expect("material");
        let blob = seal(&material, KEY_ID, b"payload", &BTreeMap::new()).expect("sealed");
        for index in [0, 5, HEADER_LEN - 1, HEADER_LEN, blob.len() - 1] {
            let mut altered = blob.clone();
            altered[index] ^= 1;
            assert_eq!(open(&material, &altered, &BTreeMap::new()), None, "byte {index}");
        }
        let other = KeyMaterial::generate().expect("material");
        assert_eq!(open(&other, &blob, &BTreeMap::new()), None);
        assert_eq!(open(&material, &blob[..blob.len() - 1], &BTreeMap::new()), None);
        assert_eq!(blob_key_id(b"short"), None);
    }

    #[test]
    fn material_is_never_printed() {
        let material = KeyMaterial::generate().expect("material");
        assert_eq!(format!("{material:?}"), "KeyMaterial(<redacted>)");
    }
}

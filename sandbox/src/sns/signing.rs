//! SNS message signatures: the sandbox's RSA key and self-signed
//! certificate (made at first start and kept in `sns.json`), the canonical
//! string AWS signs, and signing it with SHA1 (SignatureVersion 1) or
//! SHA256 (SignatureVersion 2).
//!
//! See "Verifying the signatures of Amazon SNS messages":
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>.

use base64::Engine as _;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use serde::{Deserialize, Serialize};

/// The key SNS signs with and the certificate subscribers verify with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningIdentity {
    /// The RSA private key, PKCS#8 DER in base64.
    pub private_key_pkcs8: String,
    /// The self-signed X.509 certificate, PEM.
    pub certificate_pem: String,
}

impl SigningIdentity {
    /// A new 2048-bit RSA key and a certificate for it naming the
    /// sandbox's SNS (`sns.amazonaws.com`, as AWS's certificates do).
    pub fn generate() -> Result<SigningIdentity, String> {
        use aws_lc_rs::encoding::AsDer as _;
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map_err(|_| "RSA key generation failed".to_owned())?;
        let der = key.as_der().map_err(|_| "the RSA key cannot be encoded".to_owned())?;
        let der = der.as_ref().to_vec();
        let key_pair = rcgen::KeyPair::try_from(der.as_slice()).map_err(|error| error.to_string())?;
        let params =
            rcgen::CertificateParams::new(vec!["sns.amazonaws.com".to_owned()]).map_err(|error| error.to_string())?;
        let certificate = params.self_signed(&key_pair).map_err(|error| error.to_string())?;
        Ok(SigningIdentity {
            private_key_pkcs8: base64::engine::general_purpose::STANDARD.encode(&der),
            certificate_pem: certificate.pem(),
        })
    }

    /// The base64 signature of `canonical`: RSA PKCS#1 v1.5 over SHA1 for
    /// `SignatureVersion` 1, SHA256 for 2; `None` if the key is unusable.
    pub fn sign(&self, canonical: &str, signature_version: &str) -> Option<String> {
        let der = base64::engine::general_purpose::STANDARD.decode(&self.private_key_pkcs8).ok()?;
        let key = rsa::PrivateKey::from_pkcs8_der(&der).ok()?;
        let signature = if signature_version == "2" {
            rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key).try_sign(canonical.as_bytes()).ok()?.to_vec()
        } else {
            rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(key).try_sign(canonical.as_bytes()).ok()?.to_vec()
        };
        Some(base64::engine::general_purpose::STANDARD.encode(signature))
    }
}

/// The string AWS signs: `Name\nValue\n` for each signed member present, in
/// the documented order (Notification: Message, MessageId, Subject,
/// Timestamp, TopicArn, Type; confirmations add SubscribeURL and Token).
pub fn canonical_string(members: &[(&str, &str)]) -> String {
    const NOTIFICATION: &[&str] = &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
    const CONFIRMATION: &[&str] = &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
    let is_notification = members.iter().any(|(name, value)| *name == "Type" && *value == "Notification");
    let order = if is_notification { NOTIFICATION } else { CONFIRMATION };
    let mut canonical = String::new();
    for wanted in order {
        if let Some((name, value)) = members.iter().find(|(name, _)| name == wanted) {
            canonical.push_str(name);
            canonical.push('\n');
            canonical.push_str(value);
            canonical.push('\n');
        }
    }
    canonical
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_strings_follow_the_documented_order() {
        // https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
        let members = [
            ("Type", "Notification"),
            ("MessageId", "m"),
            ("TopicArn", "t"),
            ("Message", "hello"),
            ("Timestamp", "2026-01-01T00:00:00.000Z"),
            ("UnsubscribeURL", "u"),
        ];
        assert_eq!(
            canonical_string(&members),
            "Message\nhello\nMessageId\nm\nTimestamp\n2026-01-01T00:00:00.000Z\nTopicArn\nt\nType\nNotification\n"
        );
    }

    #[test]
    fn signatures_verify_with_the_certificates_key() {
        let identity = SigningIdentity::generate().expect("identity");
        assert!(identity.certificate_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let der = base64::engine::general_purpose::STANDARD.decode(&identity.private_key_pkcs8).expect("der");
        let key = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).expect("key");
        let public = aws_lc_rs::signature::KeyPair::public_key(&key).as_ref().to_vec();
        for (version, algorithm) in [
            ("1", &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY),
            ("2", &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256),
        ] {
            let signature = identity.sign("Message\nhi\n", version).expect("signed");
            let signature = base64::engine::general_purpose::STANDARD.decode(signature).expect("base64");
            aws_lc_rs::signature::UnparsedPublicKey::new(algorithm, &public)
                .verify(b"Message\nhi\n", &signature)
                .expect("verifies");
        }
    }
}

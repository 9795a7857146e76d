//! Random identifiers and secrets, from the operating system's generator
//! (through aws-lc), so that key material and credentials are unpredictable.

use crate::error::AwsError;

/// `n` random bytes.
pub fn bytes(n: usize) -> Result<Vec<u8>, AwsError> {
    let mut buffer = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut buffer).map_err(|_| AwsError::internal("the random number generator failed"))?;
    Ok(buffer)
}

/// `n` random characters from `alphabet` (at most 256 symbols).
pub fn text(alphabet: &[u8], n: usize) -> Result<String, AwsError> {
    let len = alphabet.len().max(1);
    Ok(bytes(n)?.iter().map(|byte| char::from(alphabet[usize::from(*byte) % len])).collect())
}

/// `n` random lowercase hex digits (zeros, should the generator fail).
pub fn hex(n: usize) -> String {
    text(b"0123456789abcdef", n).unwrap_or_else(|_| "0".repeat(n))
}

/// `n` random lowercase letters and digits (`x`s, should the generator fail).
pub fn lower_alphanumeric(n: usize) -> String {
    text(b"abcdefghijklmnopqrstuvwxyz0123456789", n).unwrap_or_else(|_| "x".repeat(n))
}

/// The alphabet of IAM unique ids and access key ids (upper-case base32).
pub const UPPER_BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Upper-case base32 of the first bytes of SHA-256 of `input`: stable ids
/// derived from names (a role's `AROA...` id from its ARN).
pub fn stable_id(input: &str, n: usize) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input.as_bytes());
    digest
        .as_ref()
        .iter()
        .cycle()
        .take(n)
        .map(|byte| char::from(UPPER_BASE32[usize::from(*byte) % UPPER_BASE32.len()]))
        .collect()
}

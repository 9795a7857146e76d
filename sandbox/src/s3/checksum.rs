//! S3's flexible checksums: CRC32, CRC32C, CRC64NVME, SHA1 and SHA256 of a
//! body, base64 of the big-endian digest, as the `x-amz-checksum-*` headers
//! and trailers carry them.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>

use base64::Engine as _;
use sha1::Digest as _;

use crate::error::AwsError;

/// A reflected CRC table for `poly` (the CRCs S3 uses are all reflected).
const fn table64(poly: u64) -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ poly } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// The table of a 32-bit polynomial: a reflected CRC only shifts right, so
/// the 64-bit table of the same polynomial never leaves the low 32 bits.
const fn table32(poly: u32) -> [u32; 256] {
    let wide = table64(poly as u64);
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = wide[i] as u32;
        i += 1;
    }
    table
}

const CRC32: [u32; 256] = table32(0xEDB8_8320);
const CRC32C: [u32; 256] = table32(0x82F6_3B78);
const CRC64NVME: [u64; 256] = table64(0x9A6C_9329_AC4B_C9B5);

fn crc32_with(table: &[u32; 256], body: &[u8]) -> u32 {
    !body.iter().fold(u32::MAX, |crc, byte| table[usize::from((crc as u8) ^ byte)] ^ (crc >> 8))
}

fn crc64nvme(body: &[u8]) -> u64 {
    !body.iter().fold(u64::MAX, |crc, byte| CRC64NVME[usize::from((crc as u8) ^ byte)] ^ (crc >> 8))
}

/// The checksum `algorithm` (`crc32`, `crc32c`, `crc64nvme`, `sha1`,
/// `sha256`) of `body`, as S3 writes it; `None` for an unknown algorithm.
pub fn compute(algorithm: &str, body: &[u8]) -> Option<String> {
    let digest: Vec<u8> = match algorithm {
        "crc32" => crc32_with(&CRC32, body).to_be_bytes().to_vec(),
        "crc32c" => crc32_with(&CRC32C, body).to_be_bytes().to_vec(),
        "crc64nvme" => crc64nvme(body).to_be_bytes().to_vec(),
        "sha1" => sha1::Sha1::digest(body).to_vec(),
        "sha256" => sha2::Sha256::digest(body).to_vec(),
        _ => return None,
    };
    Some(base64::engine::general_purpose::STANDARD.encode(digest))
}

/// Checks every `x-amz-checksum-<algorithm>` among `fields` (headers and
/// trailers) against `body` and returns them, names lower case; a mismatch
/// is `BadDigest`, as S3 reports it.
pub fn verify(fields: &[(String, String)], body: &[u8]) -> Result<Vec<(String, String)>, AwsError> {
    let mut checked = Vec::new();
    for (name, value) in fields {
        let name = name.to_ascii_lowercase();
        let Some(algorithm) = name.strip_prefix("x-amz-checksum-") else { continue };
        let Some(expected) = compute(algorithm, body) else { continue };
        if expected != value.trim() {
            return Err(AwsError::sender(
                "BadDigest",
                format!("The {} you specified did not match the calculated checksum.", algorithm.to_ascii_uppercase()),
            ));
        }
        checked.push((name, value.trim().to_owned()));
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The check values of the CRC catalogue ("123456789"), which S3's algorithms are:
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
    #[test]
    fn crcs_match_their_check_values() {
        assert_eq!(crc32_with(&CRC32, b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32_with(&CRC32C, b"123456789"), 0xE306_9283);
        assert_eq!(crc64nvme(b"123456789"), 0xAE8B_1486_0A79_9888);
        assert_eq!(compute("crc32", b"abc").as_deref(), Some("NSRBwg=="));
        assert_eq!(compute("sha256", b"").as_deref(), Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
    }

    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html (BadDigest on a checksum mismatch)
    #[test]
    fn mismatches_are_bad_digest() {
        let fields = vec![("x-amz-checksum-crc32".to_owned(), "AAAAAA==".to_owned())];
        let error = verify(&fields, b"abc").expect_err("mismatch");
        assert_eq!(error.code, "BadDigest");
        assert_eq!(error.message, "The CRC32 you specified did not match the calculated checksum.");
        let good = vec![("x-amz-checksum-crc32".to_owned(), "NSRBwg==".to_owned())];
        assert_eq!(verify(&good, b"abc").expect("verified"), good);
    }
}

//! The parts of a Signature Version 4 `Authorization` header the sandbox
//! reads: the credential scope, which names the access key, region and
//! service a request is for.
//!
//! Signatures are not verified: the sandbox accepts any credentials by design.
//! See <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html>.

/// `Credential=AKID/20261126/ap-southeast-2/sts/aws4_request`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
}

/// Reads the credential scope from an `Authorization` header value, if it is
/// a well-formed `AWS4-HMAC-SHA256` one.
pub fn credential_scope(authorization: &str) -> Option<CredentialScope> {
    let rest = authorization.strip_prefix("AWS4-HMAC-SHA256")?;
    let credential = rest.split(',').map(str::trim).find_map(|part| part.strip_prefix("Credential="))?;
    let mut fields = credential.split('/');
    let scope = CredentialScope {
        access_key_id: fields.next()?.to_owned(),
        date: fields.next()?.to_owned(),
        region: fields.next()?.to_owned(),
        service: fields.next()?.to_owned(),
    };
    (fields.next() == Some("aws4_request") && !scope.access_key_id.is_empty()).then_some(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_scope_of_a_signed_request() {
        // Example from the IAM user guide's "Elements of an AWS API request signature".
        let header = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
                      SignedHeaders=host;range;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";
        let scope = credential_scope(header).expect("scope");
        assert_eq!(scope.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(scope.date, "20130524");
        assert_eq!(scope.region, "us-east-1");
        assert_eq!(scope.service, "s3");
    }

    #[test]
    fn rejects_malformed_headers() {
        assert_eq!(credential_scope("Basic dXNlcjpwYXNz"), None);
        assert_eq!(credential_scope("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1"), None);
        assert_eq!(credential_scope("AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request"), None);
        assert_eq!(credential_scope("AWS4-HMAC-SHA256 Credential=AKID/d/r/s/other"), None);
    }
}

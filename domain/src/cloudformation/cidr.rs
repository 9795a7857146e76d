//! `Fn::Cidr`: the first `count` subnets of `cidrBits` host bits carved in
//! order from the start of an IPv4 or IPv6 block, as
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-cidr.html
//! describes.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::error::TemplateError;

/// CloudFormation allows 1 to 256 subnets per call.
const MAX_COUNT: u64 = 256;

/// Splits `block` into `count` consecutive subnets with `cidr_bits` host bits each.
pub(crate) fn cidr(block: &str, count: u64, cidr_bits: u64) -> Result<Vec<String>, TemplateError> {
    let invalid = || TemplateError::intrinsic(format!("Fn::Cidr could not create subnets from {block}"));
    if count == 0 || count > MAX_COUNT {
        return Err(TemplateError::intrinsic("Fn::Cidr count must be between 1 and 256"));
    }
    let (address, prefix) = block.split_once('/').ok_or_else(invalid)?;
    let prefix: u32 = prefix.parse().map_err(|_| invalid())?;
    let (bits_total, base): (u32, u128) = if let Ok(v4) = address.parse::<Ipv4Addr>() {
        (32, u128::from(u32::from(v4)))
    } else if let Ok(v6) = address.parse::<Ipv6Addr>() {
        (128, u128::from(v6))
    } else {
        return Err(invalid());
    };
    let cidr_bits = u32::try_from(cidr_bits).map_err(|_| invalid())?;
    if prefix > bits_total || cidr_bits == 0 || cidr_bits > bits_total - prefix {
        return Err(invalid());
    }
    let subnet_prefix = bits_total - cidr_bits;
    // Subnets start at the block's network address, whatever host bits the
    // given address had.
    let host_mask: u128 = 1u128.checked_shl(bits_total - prefix).map_or(u128::MAX, |size| size - 1);
    let network = base & !host_mask;
    let available_bits = subnet_prefix - prefix;
    if available_bits < 64 && count > (1u64 << available_bits) {
        return Err(invalid());
    }
    // cidr_bits may be 128 (a single /0 IPv6 subnet): checked, not shifted blindly.
    let step: u128 = 1u128.checked_shl(cidr_bits).unwrap_or(0);
    (0..u128::from(count))
        .map(|index| {
            let start = network.checked_add(index.checked_mul(step).ok_or_else(invalid)?).ok_or_else(invalid)?;
            Ok(if bits_total == 32 {
                let v4 = Ipv4Addr::from(u32::try_from(start).map_err(|_| invalid())?);
                format!("{v4}/{subnet_prefix}")
            } else {
                format!("{}/{subnet_prefix}", Ipv6Addr::from(start))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of
    /// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-cidr.html
    #[test]
    fn doc_examples() {
        assert_eq!(
            cidr("192.168.0.0/24", 6, 5),
            Ok(vec![
                "192.168.0.0/27".to_owned(),
                "192.168.0.32/27".to_owned(),
                "192.168.0.64/27".to_owned(),
                "192.168.0.96/27".to_owned(),
                "192.168.0.128/27".to_owned(),
                "192.168.0.160/27".to_owned(),
            ])
        );
        // The IPv6 example: a VPC's /56 split into /64 subnets.
        assert_eq!(
            cidr("2001:db8:1234:1a00::/56", 2, 64),
            Ok(vec!["2001:db8:1234:1a00::/64".to_owned(), "2001:db8:1234:1a01::/64".to_owned()])
        );
        assert_eq!(cidr("10.0.0.0/16", 2, 8), Ok(vec!["10.0.0.0/24".to_owned(), "10.0.1.0/24".to_owned()]));
    }

    #[test]
    fn impossible_requests_fail() {
        assert!(cidr("10.0.0.0/24", 3, 7).is_err());
        assert!(cidr("10.0.0.0/24", 0, 4).is_err());
        assert!(cidr("10.0.0.0/24", 1, 9).is_err());
        assert!(cidr("nonsense", 1, 4).is_err());
        assert_eq!(cidr("::/0", 1, 128), Ok(vec!["::/0".to_owned()]));
    }
}

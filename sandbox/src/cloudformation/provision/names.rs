//! Generated physical names: CloudFormation's `<stack>-<logical>-<RANDOM>`
//! names for resources whose name property is absent.

use crate::random;

/// Uppercase letters and digits, the alphabet of CloudFormation's suffixes.
const UPPER_ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Length of the random suffix (AWS uses 12 or 13 characters).
const SUFFIX_LEN: usize = 12;

/// A physical name for a resource whose name property is absent:
/// `<stack>-<logical>-<RANDOM>`, the stack and logical parts truncated so the
/// whole fits `max_len`, all lowercase where the type requires it.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html>
pub fn generated_name(stack_name: &str, logical_id: &str, max_len: usize, lowercase: bool) -> String {
    let suffix = random::text(UPPER_ALPHANUMERIC, SUFFIX_LEN).unwrap_or_else(|_| fallback_suffix());
    // Two hyphens and the suffix are always kept; what is left is shared
    // between the stack name and the logical id, the stack name first.
    let budget = max_len.saturating_sub(SUFFIX_LEN + 2);
    let logical_share = logical_id.len().min(budget / 2);
    let stack_share = stack_name.len().min(budget - logical_share);
    let logical_share = logical_id.len().min(budget - stack_share);
    let name = format!("{}-{}-{suffix}", prefix(stack_name, stack_share), prefix(logical_id, logical_share));
    let name: String = name.chars().take(max_len).collect();
    if lowercase { name.to_lowercase() } else { name }
}

fn prefix(text: &str, len: usize) -> &str {
    let mut end = len.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A suffix from the clock, only if the system's generator failed.
fn fallback_suffix() -> String {
    let now = crate::clock::now_ms().unsigned_abs();
    (0..SUFFIX_LEN).map(|i| char::from(UPPER_ALPHANUMERIC[((now >> (i * 3)) % 36) as usize])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html:
    // "stack name + logical ID + a unique ID", e.g. MyStack-MyQueue-A1B2C3D4E5F6.
    #[test]
    fn generated_names_are_stack_logical_random() {
        let name = generated_name("pattern1-logging", "AlarmTopic", 256, false);
        let (head, suffix) = name.rsplit_once('-').expect("suffix");
        assert_eq!(head, "pattern1-logging-AlarmTopic");
        assert_eq!(suffix.len(), 12);
        assert!(suffix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()), "{suffix}");
    }

    // Same page: names are truncated to the type's limit (ELB names: 32) and
    // lowercased where the type allows only lowercase (RDS identifiers).
    #[test]
    fn generated_names_fit_the_limit_and_case() {
        let name = generated_name("a-very-long-stack-name-for-the-lab", "Pattern1ApplicationLoadBalancer", 32, false);
        assert_eq!(name.len(), 32, "{name}");
        // Both parts are cut, sharing what the suffix leaves.
        assert!(name.starts_with("a-very-lo-Pattern1A-"), "{name}");
        let lower = generated_name("Stack", "DB", 63, true);
        assert_eq!(lower, lower.to_lowercase());
        assert!(lower.starts_with("stack-db-"));
    }
}

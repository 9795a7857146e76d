//! AWS Regions: which codes exist, their partitions and display names.
//!
//! The display names are the ones AWS prints in CloudWatch alarm notifications
//! (the `Region` field, e.g. "Asia Pacific (Sydney)") and in the console, so
//! the sandbox's messages and the console's forms use one list.

use serde::{Deserialize, Serialize};

/// The region the lab is written for, and Keywatch's default.
pub const DEFAULT_REGION: &str = "ap-southeast-2";

/// An AWS partition: the first field of every ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Partition {
    Aws,
    AwsCn,
    AwsUsGov,
}

impl Partition {
    /// The partition as it appears in ARNs (`arn:<partition>:...`).
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
        }
    }
}

/// One AWS Region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Region {
    pub code: &'static str,
    pub display_name: &'static str,
    pub partition: Partition,
}

macro_rules! regions {
    ($($code:literal => $name:literal, $partition:ident;)*) => {
        /// Every Region Keywatch accepts, in the order AWS's console lists them.
        pub const REGIONS: &[Region] = &[
            $(Region { code: $code, display_name: $name, partition: Partition::$partition },)*
        ];
    };
}

regions! {
    "us-east-1" => "US East (N. Virginia)", Aws;
    "us-east-2" => "US East (Ohio)", Aws;
    "us-west-1" => "US West (N. California)", Aws;
    "us-west-2" => "US West (Oregon)", Aws;
    "af-south-1" => "Africa (Cape Town)", Aws;
    "ap-east-1" => "Asia Pacific (Hong Kong)", Aws;
    "ap-east-2" => "Asia Pacific (Taipei)", Aws;
    "ap-south-1" => "Asia Pacific (Mumbai)", Aws;
    "ap-south-2" => "Asia Pacific (Hyderabad)", Aws;
    "ap-southeast-1" => "Asia Pacific (Singapore)", Aws;
    "ap-southeast-2" => "Asia Pacific (Sydney)", Aws;
    "ap-southeast-3" => "Asia Pacific (Jakarta)", Aws;
    "ap-southeast-4" => "Asia Pacific (Melbourne)", Aws;
    "ap-southeast-5" => "Asia Pacific (Malaysia)", Aws;
    "ap-southeast-7" => "Asia Pacific (Thailand)", Aws;
    "ap-northeast-1" => "Asia Pacific (Tokyo)", Aws;
    "ap-northeast-2" => "Asia Pacific (Seoul)", Aws;
    "ap-northeast-3" => "Asia Pacific (Osaka)", Aws;
    "ca-central-1" => "Canada (Central)", Aws;
    "ca-west-1" => "Canada West (Calgary)", Aws;
    "eu-central-1" => "Europe (Frankfurt)", Aws;
    "eu-central-2" => "Europe (Zurich)", Aws;
    "eu-west-1" => "Europe (Ireland)", Aws;
    "eu-west-2" => "Europe (London)", Aws;
    "eu-west-3" => "Europe (Paris)", Aws;
    "eu-south-1" => "Europe (Milan)", Aws;
    "eu-south-2" => "Europe (Spain)", Aws;
    "eu-north-1" => "Europe (Stockholm)", Aws;
    "il-central-1" => "Israel (Tel Aviv)", Aws;
    "me-south-1" => "Middle East (Bahrain)", Aws;
    "me-central-1" => "Middle East (UAE)", Aws;
    "mx-central-1" => "Mexico (Central)", Aws;
    "sa-east-1" => "South America (Sao Paulo)", Aws;
    "cn-north-1" => "China (Beijing)", AwsCn;
    "cn-northwest-1" => "China (Ningxia)", AwsCn;
    "us-gov-east-1" => "AWS GovCloud (US-East)", AwsUsGov;
    "us-gov-west-1" => "AWS GovCloud (US-West)", AwsUsGov;
}

/// Why a region code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionError {
    #[error("a region is required")]
    Empty,
    #[error("\"{0}\" is not an AWS Region (expected a code such as ap-southeast-2)")]
    Unknown(String),
}

/// Looks a region code up, exactly (AWS region codes are lower case).
pub fn find(code: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|region| region.code == code)
}

/// Validates user input naming a region, trimming surrounding white space.
pub fn parse(input: &str) -> Result<&'static Region, RegionError> {
    let code = input.trim();
    if code.is_empty() {
        return Err(RegionError::Empty);
    }
    find(code).ok_or_else(|| RegionError::Unknown(truncate_for_message(code)))
}

/// Echoing user input back is useful, echoing a megabyte of it is not.
fn truncate_for_message(input: &str) -> String {
    const LIMIT: usize = 40;
    if input.chars().count() <= LIMIT { input.to_owned() } else { input.chars().take(LIMIT).chain(['…']).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_region_is_sydney() {
        // lab.md: "Default region: ap-southeast-2 (Sydney)".
        let region = find(DEFAULT_REGION).expect("default region listed");
        assert_eq!(region.display_name, "Asia Pacific (Sydney)");
        assert_eq!(region.partition, Partition::Aws);
    }

    #[test]
    fn codes_are_unique() {
        let mut codes: Vec<_> = REGIONS.iter().map(|r| r.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), REGIONS.len());
    }

    #[test]
    fn parse_trims_and_rejects_unknown_or_empty() {
        assert_eq!(parse("  eu-west-1 ").map(|r| r.code), Ok("eu-west-1"));
        assert_eq!(parse(""), Err(RegionError::Empty));
        assert_eq!(parse("   "), Err(RegionError::Empty));
        assert!(matches!(parse("mars-north-1"), Err(RegionError::Unknown(_))));
        // Region codes are case-sensitive in every AWS API.
        assert!(matches!(parse("AP-SOUTHEAST-2"), Err(RegionError::Unknown(_))));
    }

    #[test]
    fn unknown_region_message_is_bounded() {
        let huge = "x".repeat(10_000);
        let message = parse(&huge).unwrap_err().to_string();
        assert!(message.len() < 120, "{message}");
    }

    #[test]
    fn partitions_follow_region_prefixes() {
        for region in REGIONS {
            let expected = if region.code.starts_with("cn-") {
                Partition::AwsCn
            } else if region.code.starts_with("us-gov-") {
                Partition::AwsUsGov
            } else {
                Partition::Aws
            };
            assert_eq!(region.partition, expected, "{}", region.code);
        }
    }
}

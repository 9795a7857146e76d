//! The lab's plan: its sections, in order, and how a user-chosen prefix names
//! the stacks each section deploys.
//!
//! The lab calls its stacks `pattern1-base`, `pattern1-app` and
//! `pattern1-logging`; Keywatch keeps that scheme but lets the prefix change so
//! that several copies of the lab can live in one account.

use serde::{Deserialize, Serialize};

/// The prefix the lab itself uses.
pub const DEFAULT_PREFIX: &str = "pattern1";

/// Longest prefix accepted. The longest name derived from it is the task role
/// `<prefix>-app-Pattern1ECSTaskRole`, and IAM role names stop at 64
/// characters; 20 leaves room for every other derived name too.
pub const MAX_PREFIX_LEN: usize = 20;

/// The lab's sections, in the order they must be completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LabSection {
    BaseNetwork,
    Application,
    LoggingAndAlarm,
    Testing,
}

impl LabSection {
    /// All sections, in lab order.
    pub const ALL: [LabSection; 4] =
        [LabSection::BaseNetwork, LabSection::Application, LabSection::LoggingAndAlarm, LabSection::Testing];

    /// The section's number in the lab (1-based).
    pub fn number(self) -> u8 {
        match self {
            LabSection::BaseNetwork => 1,
            LabSection::Application => 2,
            LabSection::LoggingAndAlarm => 3,
            LabSection::Testing => 4,
        }
    }

    /// Title as the console shows it.
    pub fn title(self) -> &'static str {
        match self {
            LabSection::BaseNetwork => "Base network",
            LabSection::Application => "Application",
            LabSection::LoggingAndAlarm => "Logging and alarm",
            LabSection::Testing => "Testing",
        }
    }

    /// The URL path segment of the section's page.
    pub fn slug(self) -> &'static str {
        match self {
            LabSection::BaseNetwork => "base-network",
            LabSection::Application => "application",
            LabSection::LoggingAndAlarm => "logging",
            LabSection::Testing => "testing",
        }
    }

    /// The suffix of the CloudFormation stack the section deploys, if any
    /// (testing deploys nothing).
    pub fn stack_suffix(self) -> Option<&'static str> {
        match self {
            LabSection::BaseNetwork => Some("base"),
            LabSection::Application => Some("app"),
            LabSection::LoggingAndAlarm => Some("logging"),
            LabSection::Testing => None,
        }
    }

    /// Sections that must be complete before this one can start.
    pub fn prerequisites(self) -> &'static [LabSection] {
        match self {
            LabSection::BaseNetwork => &[],
            LabSection::Application => &[LabSection::BaseNetwork],
            LabSection::LoggingAndAlarm => &[LabSection::Application],
            LabSection::Testing => &[LabSection::LoggingAndAlarm],
        }
    }
}

/// A validated stack-name prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Prefix(String);

/// Why a prefix was refused; each message is fit to show beside the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    #[error("a prefix is required")]
    Empty,
    #[error("use at most {MAX_PREFIX_LEN} characters")]
    TooLong,
    #[error("start with a lower-case letter")]
    BadStart,
    #[error("use only lower-case letters, digits and single hyphens")]
    BadCharacter,
    #[error("do not end with a hyphen")]
    TrailingHyphen,
}

impl Prefix {
    /// Validates a prefix. Lower case only because the prefix also names the
    /// CloudTrail S3 bucket, and bucket names must be lower case; a letter
    /// first because CloudFormation stack names must start with one.
    pub fn parse(input: &str) -> Result<Prefix, PrefixError> {
        let prefix = input.trim();
        if prefix.is_empty() {
            return Err(PrefixError::Empty);
        }
        if prefix.chars().count() > MAX_PREFIX_LEN {
            return Err(PrefixError::TooLong);
        }
        if !prefix.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(PrefixError::BadStart);
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !prefix.chars().all(allowed) || prefix.contains("--") {
            return Err(PrefixError::BadCharacter);
        }
        if prefix.ends_with('-') {
            return Err(PrefixError::TrailingHyphen);
        }
        Ok(Prefix(prefix.to_owned()))
    }

    /// The prefix as typed (after validation).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of the stack a section deploys under this prefix.
    pub fn stack_name(&self, section: LabSection) -> Option<String> {
        section.stack_suffix().map(|suffix| format!("{}-{suffix}", self.0))
    }
}

impl Default for Prefix {
    fn default() -> Self {
        Prefix(DEFAULT_PREFIX.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_prefix_gives_the_labs_stack_names() {
        // lab.md: stacks `pattern1-base`, `pattern1-app`, `pattern1-logging`.
        let prefix = Prefix::default();
        let names: Vec<_> = LabSection::ALL.iter().filter_map(|s| prefix.stack_name(*s)).collect();
        assert_eq!(names, ["pattern1-base", "pattern1-app", "pattern1-logging"]);
    }

    #[test]
    fn sections_are_numbered_in_order_and_depend_on_the_previous_one() {
        for (index, section) in LabSection::ALL.iter().enumerate() {
            assert_eq!(usize::from(section.number()), index + 1);
            let expected: Vec<_> = LabSection::ALL[..index].iter().rev().take(1).copied().collect();
            assert_eq!(section.prerequisites(), expected.as_slice());
        }
    }

    #[test]
    fn prefix_validation() {
        assert_eq!(Prefix::parse(" team-a1 ").map(|p| p.0), Ok("team-a1".to_owned()));
        assert_eq!(Prefix::parse(""), Err(PrefixError::Empty));
        assert_eq!(Prefix::parse("1abc"), Err(PrefixError::BadStart));
        assert_eq!(Prefix::parse("Pattern1"), Err(PrefixError::BadStart));
        assert_eq!(Prefix::parse("pat_tern"), Err(PrefixError::BadCharacter));
        assert_eq!(Prefix::parse("pat--tern"), Err(PrefixError::BadCharacter));
        assert_eq!(Prefix::parse("pattern<script>"), Err(PrefixError::BadCharacter));
        assert_eq!(Prefix::parse("pattern-"), Err(PrefixError::TrailingHyphen));
        assert_eq!(Prefix::parse(&"a".repeat(21)), Err(PrefixError::TooLong));
        assert!(Prefix::parse(&"a".repeat(20)).is_ok());
    }

    #[test]
    fn longest_prefix_keeps_the_task_role_name_within_iam_limits() {
        // IAM quotas: role names are at most 64 characters.
        let prefix = Prefix::parse(&"a".repeat(MAX_PREFIX_LEN)).expect("valid");
        let stack = prefix.stack_name(LabSection::Application).expect("app stack");
        assert!(format!("{stack}-Pattern1ECSTaskRole").len() <= 64);
    }
}

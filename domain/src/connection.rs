//! Where the console connects: an AWS Region and, on live AWS, a named
//! profile of the AWS shared config and credentials files.
//!
//! The Connection page checks a choice with these rules in the browser, and
//! the server checks it again before anything changes.

use crate::region::{self, Region};

/// A checked choice of Region and profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionChoice {
    pub region: &'static Region,
    /// `None` means the default credential chain.
    pub profile: Option<String>,
}

/// Which field of the choice was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    #[error("{0}")]
    Region(#[from] region::RegionError),
    #[error("{0}")]
    Profile(String),
}

impl ConnectionError {
    /// The form field the message belongs beside.
    pub fn field(&self) -> &'static str {
        match self {
            ConnectionError::Region(_) => "region",
            ConnectionError::Profile(_) => "profile",
        }
    }
}

/// Longest profile name accepted. The AWS CLI sets no limit; this one only
/// keeps hostile input out of logs and the database.
pub const MAX_PROFILE_LEN: usize = 128;

/// Checks a profile name; empty (after trimming) means the default chain.
///
/// The shared config file names a profile in a section header,
/// `[profile NAME]` (and `[NAME]` in the credentials file), so a name cannot
/// contain brackets, line breaks or other control characters, and surrounding
/// white space is not part of it ("Configuration and credential file
/// settings in the AWS CLI", AWS CLI User Guide). Inner spaces are refused
/// too: the AWS CLI's `--profile` and `AWS_PROFILE` cannot carry them reliably.
pub fn parse_profile(input: &str) -> Result<Option<String>, ConnectionError> {
    let name = input.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > MAX_PROFILE_LEN {
        return Err(ConnectionError::Profile(format!("a profile name has at most {MAX_PROFILE_LEN} characters")));
    }
    if let Some(bad) = name.chars().find(|c| c.is_control() || c.is_whitespace() || matches!(c, '[' | ']')) {
        let shown = if bad.is_control() || bad.is_whitespace() {
            "white space or control characters".to_owned()
        } else {
            format!("'{bad}'")
        };
        return Err(ConnectionError::Profile(format!(
            "a profile name cannot contain {shown} (it is a section name in ~/.aws/config)"
        )));
    }
    Ok(Some(name.to_owned()))
}

/// Checks a Region and a profile name together.
pub fn parse_choice(region: &str, profile: &str) -> Result<ConnectionChoice, ConnectionError> {
    Ok(ConnectionChoice { region: region::parse(region)?, profile: parse_profile(profile)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_that_does_not_exist_is_refused_beside_the_region_field() {
        // Region codes: "Regions, Availability Zones, and Local Zones", AWS General Reference.
        let error = parse_choice("mars-north-1", "").unwrap_err();
        assert_eq!(error.field(), "region");
        assert!(error.to_string().contains("is not an AWS Region"), "{error}");
        assert_eq!(parse_choice("", "").unwrap_err().field(), "region");
    }

    #[test]
    fn an_empty_profile_means_the_default_credential_chain() {
        let choice = parse_choice(" eu-west-1 ", "  ").expect("valid");
        assert_eq!(choice.region.code, "eu-west-1");
        assert_eq!(choice.profile, None);
        assert_eq!(parse_profile(" lab-admin ").expect("valid"), Some("lab-admin".to_owned()));
    }

    #[test]
    fn profile_names_that_cannot_be_config_sections_are_refused() {
        for bad in ["[admin]", "a]b", "two words", "tab\tname", "line\nbreak", "nul\0"] {
            let error = parse_profile(bad).unwrap_err();
            assert_eq!(error.field(), "profile", "{bad:?}");
        }
        let huge = "p".repeat(MAX_PROFILE_LEN + 1);
        assert!(parse_profile(&huge).unwrap_err().to_string().contains("at most"));
        assert!(parse_profile(&"p".repeat(MAX_PROFILE_LEN)).is_ok());
        // Names the CLI accepts that look odd are still accepted.
        for good in ["dev.us", "team_a", "sso-admin@example", "123"] {
            assert!(parse_profile(good).is_ok(), "{good}");
        }
    }
}

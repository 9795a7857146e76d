//! Unstructured patterns: terms that must appear (`ERROR ARGUMENTS`), terms
//! that must not (`-ARGUMENTS`), optional terms (`?ERROR ?WARN`) and quoted
//! phrases (`"INTERNAL SERVER ERROR"`).
//!
//! Source: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-unstructured-log-events>
//! - matching is case sensitive and finds a term anywhere in the message
//!   (`ERROR` matches "Exiting with ERRORCODE: -1", older revision);
//! - terms with characters other than letters, digits and `_` must be quoted;
//! - when `?` terms are mixed with other terms, "all question mark terms will
//!   be ignored";
//! - `" "` (and the empty pattern) matches everything.
//!
//! The older revision writes `"ERROR" - "Exiting"`: a lone `-` applies to
//! the term after it, and so does a lone `?` (Keywatch's extension of it).

use super::error::FilterPatternError;
use super::lexer::Cursor;

/// A parsed unstructured pattern.
#[derive(Debug, Clone, Default)]
pub(crate) struct TermsPattern {
    required: Vec<String>,
    excluded: Vec<String>,
    optional: Vec<String>,
}

#[derive(Clone, Copy)]
enum Role {
    Required,
    Excluded,
    Optional,
}

impl TermsPattern {
    /// Parses the pattern; `Ok(None)` means "matches everything".
    pub(crate) fn parse(pattern: &str) -> Result<Option<Self>, FilterPatternError> {
        let mut cur = Cursor::new(pattern);
        let mut out = TermsPattern::default();
        let mut any_term = false;
        loop {
            cur.skip_ws();
            if cur.is_eof() {
                break;
            }
            let role = if cur.eat("-") {
                Role::Excluded
            } else if cur.eat("?") {
                Role::Optional
            } else {
                Role::Required
            };
            if !matches!(role, Role::Required) {
                cur.skip_ws();
                if cur.is_eof() {
                    let sign = if matches!(role, Role::Excluded) { "-" } else { "?" };
                    return Err(FilterPatternError::InvalidCharacters { term: sign.to_owned() });
                }
            }
            let term = if cur.peek() == Some('"') {
                let phrase = cur.quoted()?;
                if cur.peek().is_some_and(|c| !c.is_whitespace()) {
                    return Err(FilterPatternError::invalid(
                        "a closing '\"' must be followed by a space or the end of the pattern",
                    ));
                }
                phrase
            } else {
                let start = cur.pos();
                while cur.peek().is_some_and(|c| !c.is_whitespace()) {
                    cur.bump();
                }
                let raw = &pattern[start..cur.pos()];
                if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(FilterPatternError::InvalidCharacters { term: raw.to_owned() });
                }
                raw.to_owned()
            };
            any_term = true;
            match role {
                Role::Required => out.required.push(term),
                Role::Excluded => out.excluded.push(term),
                Role::Optional => out.optional.push(term),
            }
        }
        // `" "` and `""` alone are the documented "match everything".
        let only_blank_phrase = out.excluded.is_empty()
            && out.optional.is_empty()
            && out.required.len() == 1
            && out.required.iter().all(|t| t.trim().is_empty());
        if !any_term || only_blank_phrase {
            return Ok(None);
        }
        Ok(Some(out))
    }

    pub(crate) fn matches(&self, message: &str) -> bool {
        if !self.required.is_empty() || !self.excluded.is_empty() {
            self.required.iter().all(|t| message.contains(t.as_str()))
                && !self.excluded.iter().any(|t| message.contains(t.as_str()))
        } else {
            self.optional.iter().any(|t| message.contains(t.as_str()))
        }
    }
}

//! The `%regex%` subset AWS allows in filter patterns: validation against the
//! documented character set and translation to the `regex-lite` crate's syntax.
//!
//! Source: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#regex-expressions>
//! - allowed: ASCII letters and digits; the symbols `: _ # = @ / ; , -`; the
//!   operators `^ $ ? [ ] { } | \ * + .`; the escapes `\d \D \s \S \w \W \xhh`;
//! - refused: `(` and `)`, any other symbol (`%something!%` is the
//!   documented example), multi-byte characters.
//!
//! Where the documentation is silent, Keywatch chooses:
//! - the space character is allowed: the documented examples use it
//!   (`%^shutting down%`, `%.at%` matching " at");
//! - `\` may escape any allowed symbol or operator (the documented examples
//!   escape `.`, `[` and `]`); other escapes such as `\b` or `\n` are refused;
//! - `\xhh` must name an ASCII character (00-7F: "the ASCII table");
//! - `.` matches any character including a newline ("any single character");
//! - spaces inside a repetition are ignored (the documentation writes
//!   `{m, n}`), and an omitted minimum means 0.

use regex_lite::{Regex, RegexBuilder};

use super::error::FilterPatternError;

/// Compiled-program limit: patterns are untrusted, so a pathological
/// repetition is refused instead of using unbounded memory.
const SIZE_LIMIT: usize = 1 << 20;

/// A validated, compiled filter-pattern regex.
#[derive(Debug, Clone)]
pub(crate) struct PatternRegex {
    compiled: Regex,
}

impl PatternRegex {
    /// Validates the body of a `%...%` against AWS's subset and compiles it.
    pub(crate) fn compile(body: &str) -> Result<Self, FilterPatternError> {
        let translated = translate(body)?;
        let compiled = RegexBuilder::new(&translated)
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| FilterPatternError::invalid(format!("invalid regular expression %{body}%: {e}")))?;
        Ok(PatternRegex { compiled })
    }

    /// Whether the regex matches anywhere in `text` (AWS searches: `%AUTHORIZED%`
    /// matches "UNAUTHORIZED").
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.compiled.is_match(text)
    }
}

fn refuse(body: &str, why: &str) -> FilterPatternError {
    FilterPatternError::invalid(format!("regular expression %{body}%: {why}"))
}

fn is_allowed_symbol(c: char) -> bool {
    matches!(c, ':' | '_' | '#' | '=' | '@' | '/' | ';' | ',' | '-' | ' ')
}

fn is_operator(c: char) -> bool {
    matches!(c, '^' | '$' | '?' | '[' | ']' | '{' | '}' | '|' | '\\' | '*' | '+' | '.')
}

/// The ASCII class an escape such as `\d` stands for, as the body of a
/// bracket class (without the brackets) and whether it is negated.
fn class_escape(c: char) -> Option<(&'static str, bool)> {
    match c {
        'd' => Some(("0-9", false)),
        'D' => Some(("0-9", true)),
        // "Whitespace characters include the tab, space and newline"; CR,
        // VT and FF are added as every regex engine counts them.
        's' => Some((r"\t\n\x0B\x0C\r ", false)),
        'S' => Some((r"\t\n\x0B\x0C\r ", true)),
        'w' => Some(("a-zA-Z_0-9", false)),
        'W' => Some(("a-zA-Z_0-9", true)),
        _ => None,
    }
}

fn translate(body: &str) -> Result<String, FilterPatternError> {
    if body.is_empty() {
        return Err(refuse(body, "it is empty"));
    }
    // `(?s)`: "." is "any single character", newlines included.
    let mut out = String::with_capacity(body.len() + 8);
    out.push_str("(?s)");
    let mut in_class = false;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_ascii() {
            return Err(refuse(body, "multi-byte characters are not supported"));
        }
        match c {
            '(' | ')' => {
                return Err(refuse(body, "'(' and ')' are not supported; use \\x28 and \\x29 to match them"));
            }
            '\\' => {
                let Some(e) = chars.next() else {
                    return Err(refuse(body, "it ends with a lone '\\'"));
                };
                if let Some((class, negated)) = class_escape(e) {
                    match (in_class, negated) {
                        (true, false) => out.push_str(class),
                        // A negated class inside a class: regex-lite has no
                        // nested classes, but its Perl classes are the same
                        // ASCII sets and may stand inside one (the union).
                        (true, true) => {
                            out.push('\\');
                            out.push(e);
                        }
                        (false, negated) => {
                            out.push_str(if negated { "[^" } else { "[" });
                            out.push_str(class);
                            out.push(']');
                        }
                    }
                } else if e == 'x' {
                    let hi = chars.next().and_then(|h| h.to_digit(16));
                    let lo = chars.next().and_then(|l| l.to_digit(16));
                    match (hi, lo) {
                        (Some(hi), Some(lo)) if hi * 16 + lo <= 0x7F => {
                            out.push_str(&format!("\\x{:02X}", hi * 16 + lo));
                        }
                        _ => {
                            return Err(refuse(
                                body,
                                "\\x must be followed by two hexadecimal digits naming an ASCII character",
                            ));
                        }
                    }
                } else if is_operator(e) || is_allowed_symbol(e) {
                    out.push_str(&regex_lite::escape(&e.to_string()));
                } else {
                    return Err(refuse(body, &format!("the escape \\{e} is not supported")));
                }
            }
            '[' => {
                if in_class {
                    // Literal '[' inside a class; escaped so that regex does
                    // not read it as a nested class.
                    out.push_str("\\[");
                } else {
                    in_class = true;
                    out.push('[');
                    // A leading ']' (after an optional '^') is a literal, as
                    // in POSIX; regex agrees, so copy it through.
                    if chars.peek() == Some(&'^') {
                        chars.next();
                        out.push('^');
                    }
                    if chars.peek() == Some(&']') {
                        chars.next();
                        out.push_str("\\]");
                    }
                }
            }
            ']' => {
                if in_class {
                    in_class = false;
                    out.push(']');
                } else {
                    out.push_str("\\]");
                }
            }
            '{' if !in_class => {
                let mut spec = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(' ') => {}
                        Some(d) if d.is_ascii_digit() || d == ',' => spec.push(d),
                        _ => return Err(refuse(body, "a '{' must start a repetition {m,n}")),
                    }
                }
                let valid = match spec.split_once(',') {
                    None => !spec.is_empty(),
                    Some((min, max)) => (!min.is_empty() || !max.is_empty()) && !max.contains(','),
                };
                if !valid {
                    return Err(refuse(body, "a repetition must be {m}, {m,}, {,n} or {m,n}"));
                }
                out.push('{');
                if spec.starts_with(',') {
                    out.push('0');
                }
                out.push_str(&spec);
                out.push('}');
            }
            '{' | '}' if in_class => {
                out.push('\\');
                out.push(c);
            }
            '}' => return Err(refuse(body, "a '}' without its '{'")),
            c if c.is_ascii_alphanumeric() => out.push(c),
            c if is_operator(c) => out.push(c),
            '-' if in_class => out.push('-'),
            c if is_allowed_symbol(c) => {
                // '#' and ' ' are literal outside verbose mode; escaping
                // keeps every symbol literal whatever regex's flags.
                out.push_str(&regex_lite::escape(&c.to_string()));
            }
            other => {
                return Err(refuse(body, &format!("'{other}' is not a supported character")));
            }
        }
    }
    if in_class {
        return Err(refuse(body, "a '[' is missing its ']'"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_match(body: &str, text: &str) -> bool {
        match PatternRegex::compile(body) {
            Ok(r) => r.is_match(text),
            Err(e) => panic!("{body}: {}", e.reason()),
        }
    }

    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#regex-expressions
    #[test]
    fn documented_operators_behave_as_documented() {
        assert!(is_match("^[hc]at", "hat trick"));
        assert!(is_match("^[hc]at", "cat"));
        assert!(!is_match("^[hc]at", "a hat"));
        assert!(is_match("[hc]at$", "the cat"));
        assert!(!is_match("[hc]at$", "cats"));
        assert!(is_match("colou?r", "color"));
        assert!(is_match("colou?r", "colour"));
        assert!(is_match("[abcx-z]", "y"));
        assert!(!is_match("[abcx-z]", "d"));
        assert!(is_match("^a{3,5}$", "aaaa"));
        assert!(!is_match("^a{3,5}$", "aa"));
        assert!(!is_match("^a{3,5}$", "aaaaaa"));
        // "Either m or n can be omitted"; the heading writes "{m, n}".
        assert!(is_match("^a{3,}$", "aaaaaaa"));
        assert!(is_match("^a{,2}$", "aa"));
        assert!(is_match("^a{2, 3}$", "aaa"));
        assert!(is_match("gra|ey", "grey"));
        assert!(is_match("^starting|^initializing|^shutting down", "shutting down now"));
        assert!(!is_match("^starting|^initializing|^shutting down", "skipping initializing ..."));
        assert!(is_match(r"abcc|ab[^c]$", "aba"));
        assert!(!is_match(r"abcc|ab[^c]$", "aac"));
        for s in ["[a]", "[b]", "[7]", "[@]", "[]]", "[ ]"] {
            assert!(is_match(r"\[.\]", s), "{s}");
        }
        assert!(is_match(r"10\.10\.0\.1", "from 10.10.0.1"));
        assert!(!is_match(r"10\.10\.0\.1", "10010,051"));
        assert!(is_match("10.10.0.1", "10010,051"));
        for s in ["ac", "abc", "abbbc"] {
            assert!(is_match("ab*c", s));
        }
        for s in ["ab", "ab0", "ab129"] {
            assert!(is_match("ab[0-9]*", s));
        }
        assert!(is_match("ab+c", "abbc"));
        assert!(!is_match("ab+c", "ac"));
        for s in ["hat", "cat", "bat", "4at", "#at", " at"] {
            assert!(is_match(".at", s), "{s}");
        }
        assert!(is_match(r"\d", "port 80"));
        assert!(!is_match(r"\d", "port"));
        assert!(is_match(r"^\D+$", "port"));
        assert!(is_match(r"\s", "a\tb"));
        assert!(!is_match(r"\S", " \t\n"));
        assert!(is_match(r"^\w+$", "a_Z9"));
        assert!(!is_match(r"\w", "é-"));
        assert!(is_match(r"\W", "-"));
        assert!(is_match(r"\x3A", "key:value"));
        assert!(is_match(r"\x28", "f(x)"));
        assert!(is_match(r"[\d\W]", "-"));
    }

    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#regex-expressions
    #[test]
    fn characters_outside_the_subset_are_refused() {
        for body in [
            "something!",
            "(a)",
            "a)",
            "é",
            "",
            "a%b",
            r"\b",
            r"\n",
            r"\x4",
            r"\xFF",
            "[abc",
            "a{x}",
            "a}",
            "\"q\"",
            "a&b",
        ] {
            assert!(PatternRegex::compile(body).is_err(), "{body}");
        }
    }

    // "\D: Matches any non-digit character" (and its siblings) inside a
    // bracket class keeps the union meaning: [a\D] is "a" or a non-digit.
    #[test]
    fn negated_class_escapes_inside_a_class_are_unions() {
        assert!(is_match(r"^[5\D]$", "x"));
        assert!(is_match(r"^[5\D]$", "5"));
        assert!(!is_match(r"^[5\D]$", "7"));
        assert!(is_match(r"^[\S ]+$", "a b"));
        assert!(!is_match(r"^[\W]$", "_"));
        // Characters, not bytes: "é" is one non-digit, as AWS (Java) reads it.
        assert!(is_match(r"^\D$", "é"));
    }

    #[test]
    fn huge_repetitions_are_refused_not_allocated() {
        assert!(PatternRegex::compile("a{1000}{1000}{1000}").is_err());
    }
}

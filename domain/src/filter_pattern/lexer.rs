//! A cursor over pattern text and the small lexical pieces every pattern
//! flavour shares: quoted strings, bare values, numbers and `%regex%`.

use super::error::FilterPatternError;

/// Characters that end a bare (unquoted) value in JSON and space-delimited
/// conditions: grouping, the logical operators and the field separator.
const BARE_VALUE_STOPS: &[char] = &['(', ')', '&', '|', ',', ']', '"', '%'];

/// A read position in a pattern. Positions are byte offsets that always sit
/// on a `char` boundary because the cursor only ever advances by whole chars.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Cursor { src, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn reset(&mut self, pos: usize) {
        self.pos = pos;
    }

    pub(crate) fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    pub(crate) fn is_eof(&self) -> bool {
        self.pos >= self.src.len()
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(crate) fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }

    /// Consumes `s` if the input continues with it.
    pub(crate) fn eat(&mut self, s: &str) -> bool {
        if self.starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Consumes a keyword written in capitals (`IS`, `NULL`, `NOT` ...) when
    /// it stands alone, i.e. is not the prefix of a longer word.
    pub(crate) fn eat_keyword(&mut self, keyword: &str) -> bool {
        let rest = self.rest();
        if !rest.starts_with(keyword) {
            return false;
        }
        let after = rest[keyword.len()..].chars().next();
        if after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            return false;
        }
        self.pos += keyword.len();
        true
    }

    /// Reads a double-quoted string starting at the opening quote. `\"` and
    /// `\\` are the only escapes; any other backslash is kept literally
    /// (the documentation is silent on escapes, this keeps `\d` etc. intact).
    pub(crate) fn quoted(&mut self) -> Result<String, FilterPatternError> {
        if !self.eat("\"") {
            return Err(FilterPatternError::invalid("expected '\"'"));
        }
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(FilterPatternError::invalid("a quoted term is missing its closing '\"'"));
                }
                Some('"') => return Ok(out),
                Some('\\') => match self.peek() {
                    Some(c @ ('"' | '\\')) => {
                        self.bump();
                        out.push(c);
                    }
                    _ => out.push('\\'),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// Reads a `%regex%` body starting at the opening `%`; the body cannot
    /// contain `%` (it is not in AWS's allowed character set).
    pub(crate) fn regex_body(&mut self) -> Result<&'a str, FilterPatternError> {
        if !self.eat("%") {
            return Err(FilterPatternError::invalid("expected '%'"));
        }
        let rest = self.rest();
        match rest.find('%') {
            Some(end) => {
                self.pos += end + 1;
                Ok(&rest[..end])
            }
            None => Err(FilterPatternError::invalid("a regular expression is missing its closing '%'")),
        }
    }

    /// Reads an unquoted value: everything up to whitespace or a character
    /// that ends a value (`)`, `&&`, `||`, `,`, `]` ...).
    pub(crate) fn bare_value(&mut self) -> &'a str {
        let rest = self.rest();
        let end = rest.find(|c: char| c.is_whitespace() || BARE_VALUE_STOPS.contains(&c)).unwrap_or(rest.len());
        self.pos += end;
        &rest[..end]
    }

    /// Reads an identifier: ASCII letters, digits, `_` and, when `hyphen`,
    /// `-` (JSON property names allow it; space-delimited field names don't).
    pub(crate) fn identifier(&mut self, hyphen: bool) -> &'a str {
        let rest = self.rest();
        let end =
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || (hyphen && c == '-'))).unwrap_or(rest.len());
        self.pos += end;
        &rest[..end]
    }
}

/// Whether `s` is a number as the documentation defines it: "an integer with
/// an optional + or - sign, a decimal with an optional + or - sign, or a
/// number in scientific notation". Rust's `f64::from_str` alone would also
/// accept `inf` and `NaN`, which AWS does not.
pub(crate) fn is_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// Parses `s` as a number if [`is_number`] accepts it.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    if is_number(s) { s.parse::<f64>().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_documented_forms() {
        for ok in ["1", "+1000", "-5", "55.5", "10e3", "10e-3", "1e+3", ".5", "5."] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in ["", "+", "e3", "1e", "inf", "NaN", "1.2.3", "12a", "1*"] {
            assert!(!is_number(bad), "{bad}");
        }
    }

    #[test]
    fn quoted_strings_unescape_quotes_and_backslashes() {
        let mut c = Cursor::new(r#""a \"b\" \\ \d" rest"#);
        assert_eq!(c.quoted().ok().as_deref(), Some(r#"a "b" \ \d"#));
        assert_eq!(c.rest(), " rest");
        assert!(Cursor::new("\"open").quoted().is_err());
    }
}

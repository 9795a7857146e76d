//! A strict JSON reader for log event messages that borrows from the
//! message: strings without escapes and all numbers are slices of it.
//!
//! Why not `serde_json::Value`: a metric filter runs on every ingested event
//! (the bench: one million CloudTrail records), and `Value` allocates every
//! key and string; here only containers allocate. Numbers also keep their
//! source text, which quoted comparisons need (`{ $.n = "12.0" }` is a text
//! comparison with what the event wrote).
//!
//! Events are untrusted: nesting deeper than [`MAX_DEPTH`] or anything that
//! is not RFC 8259 JSON makes the event "not JSON", which a JSON pattern
//! never matches. Nothing here panics on any input.

use std::borrow::Cow;

/// Deepest nesting read; serde_json's default recursion limit is the same.
pub(crate) const MAX_DEPTH: usize = 128;

/// A JSON value borrowing from the event message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    /// The number as written in the event.
    Number(&'a str),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// Members in order; duplicates are kept and lookups take the last one,
    /// as serde_json does.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// The member `key` of an object (the last one if repeated).
    pub(crate) fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Parses `src` as one JSON value surrounded by optional whitespace.
pub(crate) fn parse(src: &str) -> Option<Json<'_>> {
    let mut p = Parser { src, bytes: src.as_bytes(), pos: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    (p.pos == p.bytes.len()).then_some(v)
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat_literal(&mut self, lit: &[u8]) -> bool {
        if self.bytes.get(self.pos..self.pos + lit.len()) == Some(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Json<'a>> {
        match self.peek()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(Json::String),
            b't' => self.eat_literal(b"true").then_some(Json::Bool(true)),
            b'f' => self.eat_literal(b"false").then_some(Json::Bool(false)),
            b'n' => self.eat_literal(b"null").then_some(Json::Null),
            b'-' | b'0'..=b'9' => self.number().map(Json::Number),
            _ => None,
        }
    }

    fn object(&mut self, depth: usize) -> Option<Json<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1; // '{'
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Some(Json::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return None;
            }
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return None;
            }
            self.pos += 1;
            self.ws();
            let value = self.value(depth)?;
            members.push((key, value));
            self.ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(Json::Object(members));
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<Json<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Some(Json::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth)?);
            self.ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(Json::Array(items));
                }
                _ => return None,
            }
        }
    }

    fn number(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        // Every byte consumed is ASCII, so both ends are char boundaries.
        self.src.get(start..self.pos)
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// Reads a string at its opening quote; borrows when it has no escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.pos += 1; // '"'
        let start = self.pos;
        loop {
            match self.peek()? {
                b'"' => {
                    let s = self.src.get(start..self.pos)?;
                    self.pos += 1;
                    return Some(Cow::Borrowed(s));
                }
                b'\\' => break,
                b if b < 0x20 => return None,
                _ => self.pos += 1,
            }
        }
        let mut out = String::from(self.src.get(start..self.pos)?);
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    self.pos += 1;
                    let esc = self.peek()?;
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => return None,
                    }
                }
                b if b < 0x20 => return None,
                _ => {
                    // Copy the run up to the next quote or escape in one go;
                    // both delimiters are ASCII so the slice is valid UTF-8.
                    let run_start = self.pos;
                    while self.peek().is_some_and(|b| b != b'"' && b != b'\\' && b >= 0x20) {
                        self.pos += 1;
                    }
                    out.push_str(self.src.get(run_start..self.pos)?);
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let s = self.src.get(self.pos..self.pos + 4)?;
        let v = u32::from_str_radix(s, 16).ok()?;
        if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += 4;
        Some(v)
    }

    /// Reads the `XXXX` of `\uXXXX` (and the low half of a surrogate pair).
    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
            if !self.eat_literal(b"\\u") {
                return None;
            }
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return None;
            }
            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
        } else {
            char::from_u32(hi)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_serde_json_reads() {
        let samples = [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e\"f\u00e9\ud83d\ude00"},"n":-1.5e+3}"#,
            r#"  [ 1 , "x" ]  "#,
            r#""just a string""#,
            "0",
            r#"{"k":"tab\there","s":"\/"}"#,
        ];
        for s in samples {
            let ours = parse(s);
            let theirs: Result<serde_json::Value, _> = serde_json::from_str(s);
            assert!(ours.is_some() && theirs.is_ok(), "{s}");
        }
        let v = parse(r#"{"c":{"d":"e\"f\u00e9\ud83d\ude00"}}"#);
        let d = v.as_ref().and_then(|v| v.get("c")).and_then(|c| c.get("d"));
        assert_eq!(d, Some(&Json::String(Cow::Owned("e\"fé😀".to_owned()))));
    }

    #[test]
    fn refuses_what_is_not_json() {
        for s in [
            "",
            "{",
            "{\"a\":}",
            "[1,]",
            "01",
            "1.",
            "-",
            "{\"a\" 1}",
            "tru",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"a\nb\"",
            "{} {}",
            "ERROR something",
            "{a:1}",
            "\"\\u12\"",
        ] {
            assert!(parse(s).is_none(), "{s:?}");
        }
    }

    #[test]
    fn deep_nesting_is_not_json_rather_than_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep).is_none());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_some());
    }

    #[test]
    fn duplicate_keys_resolve_to_the_last() {
        let v = parse(r#"{"a":1,"a":2}"#);
        assert_eq!(v.as_ref().and_then(|v| v.get("a")), Some(&Json::Number("2")));
    }
}

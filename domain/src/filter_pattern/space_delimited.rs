//! Space-delimited patterns (`[ip, user, ..., status_code = 4*, bytes]`):
//! how an event splits into fields, how fields line up with the pattern
//! (ellipsis included) and which values a match extracts.
//!
//! Source: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-term-space-delimited-log-events>
//! - fields are named and comma-separated inside `[ ]`; `...` stands for any
//!   number of fields; conditions use `= != < <= > >=`, `*` wildcards,
//!   `%regex%`, `&&` and `||`;
//! - characters between `[ ]` or between double quotes form one field;
//! - `[w1=ERROR, w2]` matches "ERROR 09/25/2014 12:00:02 Failed to process
//!   request": with no `...`, the last field takes the rest of the line.
//!
//! Source: <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TestMetricFilter.html>
//! (its examples over Apache access.log events):
//! - `[]` names no field: every event matches and every field is extracted
//!   as `$1…$n`;
//! - positions count every field of the event, named or not, from 1
//!   (`[..., size]` extracts `$1…$6` and `$size`).
//!
//! From the older revision (doc_source/FilterAndPatternSyntax.md, "Using
//! Metric Filters to Extract Values from Space-Delimited Log Events"):
//! - extracted values are `$name` for named fields and `$N` (1-based
//!   position) for the others, brackets and quotes removed;
//! - an empty field (`[..., status_code=4*,]`) is an unnamed field;
//! - awsdocs/amazon-cloudwatch-logs-user-guide#21: AWS refuses
//!   `status_code = 4* && bytes > 1000`, so a field's conditions may only
//!   test that field.
//!
//! Where the pages are silent, Keywatch chooses: fields split on ASCII
//! whitespace; an unclosed `[` or `"` runs to the end of the line; a closing
//! `]` or `"` ends its field; several `...` are allowed, each taking as many
//! fields as possible.

use std::collections::HashSet;

use super::condition::{self, Expr, Scalar, SubjectSyntax, Test};
use super::error::FilterPatternError;
use super::lexer::Cursor;

/// One element of a space-delimited pattern.
#[derive(Debug, Clone)]
enum Element {
    /// `...`: any number of fields.
    Ellipsis,
    /// One field, with its name (if any) and condition (if any).
    Field { name: Option<String>, condition: Option<Expr<String>> },
}

/// A parsed space-delimited pattern.
#[derive(Debug, Clone)]
pub(crate) struct DelimitedPattern {
    elements: Vec<Element>,
    ellipses: usize,
}

struct FieldSyntax;

impl SubjectSyntax for FieldSyntax {
    type Subject = String;

    fn subject(&mut self, cur: &mut Cursor<'_>) -> Result<String, FilterPatternError> {
        let name = cur.identifier(false);
        if name.is_empty() {
            return Err(FilterPatternError::invalid(format!(
                "expected a field name (letters, digits, _) at '{}'",
                condition::preview(cur.rest())
            )));
        }
        Ok(name.to_owned())
    }

    fn allows_is(&self) -> bool {
        false
    }

    fn at_end(&self, cur: &Cursor<'_>) -> bool {
        cur.starts_with(",")
    }
}

/// One field of an event: its value and where it sits in the message
/// (delimiters included).
#[derive(Debug, Clone, Copy)]
struct Token<'m> {
    value: &'m str,
    start: usize,
    end: usize,
}

/// What a match extracted: `$name` / `$N` keys with their values.
pub(crate) type Extracted<'m> = Vec<(String, &'m str)>;

impl DelimitedPattern {
    /// Parses the text between the outer `[` and `]`.
    pub(crate) fn parse(inner: &str) -> Result<Self, FilterPatternError> {
        if inner.trim().is_empty() {
            // API_TestMetricFilter.html, "without specifying any fields": `[]`
            // matches every event and extracts each of its fields as `$1…$n`,
            // which is what a lone `...` does.
            return Ok(DelimitedPattern { elements: vec![Element::Ellipsis], ellipses: 1 });
        }
        let mut cur = Cursor::new(inner);
        let mut regexes = 0;
        let mut elements = Vec::new();
        loop {
            cur.skip_ws();
            let element = if cur.eat("...") {
                Element::Ellipsis
            } else if cur.is_eof() || cur.starts_with(",") {
                Element::Field { name: None, condition: None }
            } else {
                let start = cur.pos();
                let name = cur.identifier(false);
                cur.skip_ws();
                if !name.is_empty() && (cur.is_eof() || cur.starts_with(",")) {
                    Element::Field { name: Some(name.to_owned()), condition: None }
                } else {
                    if name.is_empty() && !cur.starts_with("(") {
                        let bad: String = cur.rest().chars().take_while(|c| *c != ',').collect();
                        return Err(FilterPatternError::InvalidCharacters { term: bad.trim().to_owned() });
                    }
                    cur.reset(start);
                    let expr = condition::parse_expr(&mut cur, &mut FieldSyntax, &mut regexes)?;
                    Element::Field { name: Some(single_subject(&expr)?), condition: Some(expr) }
                }
            };
            elements.push(element);
            cur.skip_ws();
            if cur.is_eof() {
                break;
            }
            if !cur.eat(",") {
                return Err(FilterPatternError::invalid(format!(
                    "expected ',' between fields, found '{}'",
                    condition::preview(cur.rest())
                )));
            }
        }
        let ellipses = elements.iter().filter(|e| matches!(e, Element::Ellipsis)).count();
        Ok(DelimitedPattern { elements, ellipses })
    }

    /// Whether the pattern names `field`, or `field` is a position `N`
    /// (1-based) that a match can extract.
    pub(crate) fn knows_field(&self, field: &str) -> bool {
        let named = self.elements.iter().any(|e| matches!(e, Element::Field { name: Some(n), .. } if n == field));
        named
            || (!field.is_empty()
                && field.bytes().all(|b| b.is_ascii_digit())
                && field != "0"
                && !field.starts_with('0'))
    }

    /// Matches `message`; on success returns the extracted `$name`/`$N`
    /// values in field order.
    pub(crate) fn match_event<'m>(&self, message: &'m str) -> Option<Extracted<'m>> {
        let tokens = tokenize(message);
        let mut assign = vec![(0usize, 0usize); self.elements.len()];
        let mut failed = HashSet::new();
        let mut search = Search { pattern: self, message, tokens: &tokens, assign: &mut assign, failed: &mut failed };
        if !search.run(0, 0) {
            return None;
        }
        let mut out = Vec::new();
        for (element, &(from, to)) in self.elements.iter().zip(assign.iter()) {
            match element {
                Element::Ellipsis => {
                    for (i, t) in tokens.iter().enumerate().take(to).skip(from) {
                        out.push((format!("${}", i + 1), t.value));
                    }
                }
                Element::Field { name, .. } => {
                    let value = field_text(message, &tokens, from, to);
                    let key = match name {
                        Some(n) => format!("${n}"),
                        None => format!("${}", from + 1),
                    };
                    out.push((key, value));
                }
            }
        }
        Some(out)
    }
}

/// The one field a compound condition tests.
fn single_subject(expr: &Expr<String>) -> Result<String, FilterPatternError> {
    let mut first: Option<String> = None;
    let mut mixed = false;
    expr.for_each_subject(&mut |s: &String| match &first {
        None => first = Some(s.clone()),
        Some(f) if f != s => mixed = true,
        Some(_) => {}
    });
    if mixed {
        return Err(FilterPatternError::invalid(
            "a field's conditions can only test that field (separate fields with ',')",
        ));
    }
    first.ok_or_else(|| FilterPatternError::invalid("a field condition is missing its field name"))
}

/// The value of fields `from..to`: one field's value, or for the last field
/// taking the rest of the line, the raw text from its first field on.
fn field_text<'m>(message: &'m str, tokens: &[Token<'m>], from: usize, to: usize) -> &'m str {
    if to == from + 1 {
        return tokens.get(from).map_or("", |t| t.value);
    }
    match (tokens.get(from), to.checked_sub(1).and_then(|last| tokens.get(last))) {
        (Some(first), Some(last)) => message.get(first.start..last.end).unwrap_or(""),
        _ => "",
    }
}

struct Search<'s, 'm> {
    pattern: &'s DelimitedPattern,
    message: &'m str,
    tokens: &'s [Token<'m>],
    assign: &'s mut Vec<(usize, usize)>,
    failed: &'s mut HashSet<(usize, usize)>,
}

impl Search<'_, '_> {
    /// Whether elements `i..` match tokens `j..`; fills `assign`.
    fn run(&mut self, i: usize, j: usize) -> bool {
        // Memoising failures keeps several `...` polynomial; with fewer than
        // two nothing is ever retried.
        let memo = self.pattern.ellipses >= 2;
        if memo && self.failed.contains(&(i, j)) {
            return false;
        }
        let n = self.tokens.len();
        let ok = match self.pattern.elements.get(i) {
            None => j == n,
            Some(Element::Ellipsis) => {
                let mut found = false;
                for k in (j..=n).rev() {
                    if let Some(slot) = self.assign.get_mut(i) {
                        *slot = (j, k);
                    }
                    if self.run(i + 1, k) {
                        found = true;
                        break;
                    }
                }
                found
            }
            Some(Element::Field { condition, .. }) => {
                let last = i + 1 == self.pattern.elements.len();
                let to = if last && self.pattern.ellipses == 0 && n > j + 1 { n } else { j + 1 };
                if j >= n {
                    false
                } else {
                    let text = field_text(self.message, self.tokens, j, to);
                    let holds = condition.as_ref().is_none_or(|c| {
                        c.eval(&mut |_, test: &Test| match test {
                            Test::Compare(op, literal) => condition::compare(*op, literal, Scalar::Text(text)),
                            _ => false,
                        })
                    });
                    if let Some(slot) = self.assign.get_mut(i) {
                        *slot = (j, to);
                    }
                    holds && self.run(i + 1, to)
                }
            }
        };
        if memo && !ok {
            self.failed.insert((i, j));
        }
        ok
    }
}

/// Splits an event into fields: whitespace separates them, `[...]` and
/// `"..."` are single fields whose delimiters are removed.
fn tokenize(message: &str) -> Vec<Token<'_>> {
    let bytes = message.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    // Only ASCII bytes are compared, so every index used to slice is a char
    // boundary of `message`.
    while i < bytes.len() {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let Some(&b) = bytes.get(i) else { break };
        let start = i;
        let (value_start, value_end, end) = match b {
            b'[' | b'"' => {
                let close = if b == b'[' { b']' } else { b'"' };
                match bytes.get(i + 1..).unwrap_or(&[]).iter().position(|&c| c == close) {
                    Some(p) => (i + 1, i + 1 + p, i + 2 + p),
                    None => (i + 1, bytes.len(), bytes.len()),
                }
            }
            _ => {
                let mut e = i;
                while bytes.get(e).is_some_and(|c| !c.is_ascii_whitespace()) {
                    e += 1;
                }
                (i, e, e)
            }
        };
        tokens.push(Token { value: message.get(value_start..value_end).unwrap_or(""), start, end });
        i = end;
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_and_quotes_make_single_fields() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
        let values: Vec<&str> = tokenize(line).iter().map(|t| t.value).collect();
        assert_eq!(
            values,
            ["127.0.0.1", "-", "frank", "10/Oct/2000:13:25:15 -0700", "GET /apache_pb.gif HTTP/1.0", "200", "1534"]
        );
        let unclosed: Vec<&str> = tokenize("a [b c").iter().map(|t| t.value).collect();
        assert_eq!(unclosed, ["a", "b c"]);
        assert!(tokenize("  ").is_empty());
    }
}

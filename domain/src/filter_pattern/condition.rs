//! Conditions shared by JSON and space-delimited patterns: comparison
//! operators, literal values (numbers, `*` wildcards, `%regex%`), the
//! `&&`/`||`/`()` expression grammar with AWS precedence, and how a
//! condition judges one value.
//!
//! Source: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-json-log-events>
//! ("the following standard order of operations: () > && > ||").

use super::error::FilterPatternError;
use super::lexer::{Cursor, parse_number};
use super::regex::PatternRegex;

/// Deepest parenthesis nesting accepted. AWS publishes no limit; patterns are
/// at most 1024 characters anyway, this only keeps recursion shallow on
/// small (wasm) stacks.
pub(crate) const MAX_NESTING: usize = 32;

/// The most regexes a JSON or space-delimited pattern may hold ("There is a
/// limit of 2 regex for each filter pattern when creating a delimited or
/// JSON filter pattern").
pub(crate) const MAX_REGEXES: usize = 2;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A text match with `*` wildcards. Only a leading and a trailing `*` are
/// wildcards: "`Ev*ent` will only match the actual string `Ev*ent`" (older
/// revision of FilterAndPatternSyntax, doc_source/FilterAndPatternSyntax.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    any_prefix: bool,
    any_suffix: bool,
    body: String,
}

impl Glob {
    pub(crate) fn parse(text: &str) -> Glob {
        let (any_prefix, rest) = match text.strip_prefix('*') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (any_suffix, body) = match rest.strip_suffix('*') {
            Some(body) => (true, body),
            None => (false, rest),
        };
        Glob { any_prefix, any_suffix, body: body.to_owned() }
    }

    /// The text between the wildcards, which every match contains.
    pub(crate) fn fixed_part(&self) -> &str {
        &self.body
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        match (self.any_prefix, self.any_suffix) {
            (true, true) => text.contains(self.body.as_str()),
            (true, false) => text.ends_with(self.body.as_str()),
            (false, true) => text.starts_with(self.body.as_str()),
            (false, false) => text == self.body,
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone)]
pub(crate) enum Literal {
    /// An unquoted number; `text` is kept for values that are not numbers.
    Number { value: f64, text: String },
    /// A quoted or unquoted string, possibly with `*` wildcards.
    Text(Glob),
    /// A `%regex%`.
    Regex(PatternRegex),
}

/// What a condition checks.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    Compare(CompareOp, Literal),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// A boolean expression over conditions on subjects `S` (JSON selectors or
/// space-delimited field names).
#[derive(Debug, Clone)]
pub(crate) enum Expr<S> {
    Cond(S, Test),
    And(Vec<Expr<S>>),
    Or(Vec<Expr<S>>),
}

impl<S> Expr<S> {
    /// Calls `f` on every subject, in order.
    pub(crate) fn for_each_subject(&self, f: &mut impl FnMut(&S)) {
        match self {
            Expr::Cond(s, _) => f(s),
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.for_each_subject(f)),
        }
    }

    /// Evaluates with `cond` judging each condition; `&&` and `||`
    /// short-circuit.
    pub(crate) fn eval(&self, cond: &mut impl FnMut(&S, &Test) -> bool) -> bool {
        match self {
            Expr::Cond(s, t) => cond(s, t),
            Expr::And(v) => v.iter().all(|e| e.eval(cond)),
            Expr::Or(v) => v.iter().any(|e| e.eval(cond)),
        }
    }
}

/// A value a condition is compared with: JSON strings and space-delimited
/// fields are text; JSON numbers keep their source text, which is what a
/// quoted comparison sees (`{ $.someInt = "123" }` matches 123 while
/// `{ $.someFloat2 != "12" }` matches 12.0: recorded TestMetricFilter runs).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    Text(&'a str),
    Number(&'a str),
}

impl<'a> Scalar<'a> {
    pub(crate) fn text(self) -> &'a str {
        match self {
            Scalar::Text(t) | Scalar::Number(t) => t,
        }
    }

    /// The value as a number: JSON numbers always, text when it is written as
    /// a number (space-delimited fields are all text, and the documentation
    /// compares them numerically: `bytes > 1000`).
    pub(crate) fn number(self) -> Option<f64> {
        parse_number(self.text())
    }
}

/// Judges `scalar` against `op literal`.
pub(crate) fn compare(op: CompareOp, literal: &Literal, scalar: Scalar<'_>) -> bool {
    match op {
        CompareOp::Eq => equals(literal, scalar),
        CompareOp::Ne => !equals(literal, scalar),
        ordering => {
            let Literal::Number { value, .. } = literal else {
                return false;
            };
            let Some(x) = scalar.number() else {
                return false;
            };
            match ordering {
                CompareOp::Lt => x < *value,
                CompareOp::Le => x <= *value,
                CompareOp::Gt => x > *value,
                _ => x >= *value,
            }
        }
    }
}

fn equals(literal: &Literal, scalar: Scalar<'_>) -> bool {
    match literal {
        // `{ $.someInt = 123.0 }` matches 123: numeric when both are numbers,
        // otherwise the literal's text must be equal.
        Literal::Number { value, text } => match scalar.number() {
            Some(x) => x == *value,
            None => scalar.text() == text,
        },
        Literal::Text(glob) => glob.matches(scalar.text()),
        Literal::Regex(regex) => regex.is_match(scalar.text()),
    }
}

/// How one flavour of pattern reads its subjects, and what it allows.
pub(crate) trait SubjectSyntax {
    type Subject;
    /// Reads a subject at the cursor (after whitespace was skipped).
    fn subject(&mut self, cur: &mut Cursor<'_>) -> Result<Self::Subject, FilterPatternError>;
    /// Whether `IS NULL/TRUE/FALSE` and `NOT EXISTS` are allowed (JSON only).
    fn allows_is(&self) -> bool;
    /// Whether the expression ends here (before `,` in space-delimited).
    fn at_end(&self, cur: &Cursor<'_>) -> bool;
}

/// Parses an expression with `||` binding looser than `&&`, and counts the
/// regexes it uses in `regexes`.
pub(crate) fn parse_expr<X: SubjectSyntax>(
    cur: &mut Cursor<'_>,
    syntax: &mut X,
    regexes: &mut usize,
) -> Result<Expr<X::Subject>, FilterPatternError> {
    parse_or(cur, syntax, regexes, 0)
}

fn parse_or<X: SubjectSyntax>(
    cur: &mut Cursor<'_>,
    syntax: &mut X,
    regexes: &mut usize,
    depth: usize,
) -> Result<Expr<X::Subject>, FilterPatternError> {
    let mut terms = vec![parse_and(cur, syntax, regexes, depth)?];
    loop {
        cur.skip_ws();
        if cur.eat("||") {
            terms.push(parse_and(cur, syntax, regexes, depth)?);
        } else {
            break;
        }
    }
    Ok(if terms.len() == 1 { terms.remove(0) } else { Expr::Or(terms) })
}

fn parse_and<X: SubjectSyntax>(
    cur: &mut Cursor<'_>,
    syntax: &mut X,
    regexes: &mut usize,
    depth: usize,
) -> Result<Expr<X::Subject>, FilterPatternError> {
    let mut factors = vec![parse_unary(cur, syntax, regexes, depth)?];
    loop {
        cur.skip_ws();
        if cur.eat("&&") {
            factors.push(parse_unary(cur, syntax, regexes, depth)?);
        } else {
            break;
        }
    }
    Ok(if factors.len() == 1 { factors.remove(0) } else { Expr::And(factors) })
}

fn parse_unary<X: SubjectSyntax>(
    cur: &mut Cursor<'_>,
    syntax: &mut X,
    regexes: &mut usize,
    depth: usize,
) -> Result<Expr<X::Subject>, FilterPatternError> {
    cur.skip_ws();
    if cur.eat("(") {
        if depth >= MAX_NESTING {
            return Err(FilterPatternError::invalid(format!("parentheses are nested more than {MAX_NESTING} deep")));
        }
        let inner = parse_or(cur, syntax, regexes, depth + 1)?;
        cur.skip_ws();
        if !cur.eat(")") {
            return Err(FilterPatternError::invalid("a '(' is missing its ')'"));
        }
        return Ok(inner);
    }
    if cur.is_eof() || syntax.at_end(cur) {
        return Err(FilterPatternError::invalid("a condition is missing"));
    }
    let subject = syntax.subject(cur)?;
    let test = parse_test(cur, syntax.allows_is(), regexes)?;
    Ok(Expr::Cond(subject, test))
}

fn parse_test(cur: &mut Cursor<'_>, allows_is: bool, regexes: &mut usize) -> Result<Test, FilterPatternError> {
    cur.skip_ws();
    let start = cur.pos();
    if cur.eat_keyword("IS") {
        cur.skip_ws();
        if allows_is {
            if cur.eat_keyword("NULL") {
                return Ok(Test::IsNull);
            }
            if cur.eat_keyword("TRUE") {
                return Ok(Test::IsTrue);
            }
            if cur.eat_keyword("FALSE") {
                return Ok(Test::IsFalse);
            }
            if cur.eat_keyword("NOT") {
                // Documented: "The variables IS NOT and EXISTS currently
                // aren't supported."
                return Err(FilterPatternError::invalid("IS NOT is not supported"));
            }
        }
        cur.reset(start);
        return Err(FilterPatternError::invalid(if allows_is {
            "IS must be followed by NULL, TRUE or FALSE"
        } else {
            "IS is only allowed in JSON patterns"
        }));
    }
    if cur.eat_keyword("NOT") {
        cur.skip_ws();
        if allows_is && cur.eat_keyword("EXISTS") {
            return Ok(Test::NotExists);
        }
        return Err(FilterPatternError::invalid(if allows_is {
            "NOT must be followed by EXISTS"
        } else {
            "NOT EXISTS is only allowed in JSON patterns"
        }));
    }
    if cur.eat_keyword("EXISTS") {
        return Err(FilterPatternError::invalid("EXISTS is not supported; only NOT EXISTS is"));
    }
    let op = if cur.eat("!=") {
        CompareOp::Ne
    } else if cur.eat("<=") {
        CompareOp::Le
    } else if cur.eat(">=") {
        CompareOp::Ge
    } else if cur.eat("=") {
        CompareOp::Eq
    } else if cur.eat("<") {
        CompareOp::Lt
    } else if cur.eat(">") {
        CompareOp::Gt
    } else {
        return Err(FilterPatternError::invalid(format!(
            "expected a comparison operator (=, !=, <, <=, >, >=) before '{}'",
            preview(cur.rest())
        )));
    };
    let literal = parse_literal(cur, op, regexes)?;
    Ok(Test::Compare(op, literal))
}

fn parse_literal(cur: &mut Cursor<'_>, op: CompareOp, regexes: &mut usize) -> Result<Literal, FilterPatternError> {
    cur.skip_ws();
    let ordering = !matches!(op, CompareOp::Eq | CompareOp::Ne);
    match cur.peek() {
        Some('"') => {
            let text = cur.quoted()?;
            if ordering {
                // Recorded AWS answer to `{ $.someInt >= "123" }`.
                return Err(FilterPatternError::InvalidCharacters { term: format!("\"{text}\"") });
            }
            Ok(Literal::Text(Glob::parse(&text)))
        }
        Some('%') => {
            let body = cur.regex_body()?;
            if ordering {
                return Err(FilterPatternError::invalid("a regular expression can only be compared with = or !="));
            }
            *regexes += 1;
            if *regexes > MAX_REGEXES {
                return Err(FilterPatternError::invalid(format!(
                    "a JSON or space-delimited pattern can hold at most {MAX_REGEXES} regular expressions"
                )));
            }
            Ok(Literal::Regex(PatternRegex::compile(body)?))
        }
        _ => {
            let text = cur.bare_value();
            if text.is_empty() {
                return Err(FilterPatternError::invalid(format!(
                    "a value is missing after the operator, before '{}'",
                    preview(cur.rest())
                )));
            }
            if let Some(value) = parse_number(text) {
                return Ok(Literal::Number { value, text: text.to_owned() });
            }
            if ordering {
                // `{ $.eventType > UpdateTrail }` is refused by AWS.
                return Err(FilterPatternError::invalid(format!("'{text}' is not a number; <, <=, > and >= need one")));
            }
            if !text.chars().all(is_bare_value_char) {
                return Err(FilterPatternError::InvalidCharacters { term: text.to_owned() });
            }
            Ok(Literal::Text(Glob::parse(text)))
        }
    }
}

/// Characters an unquoted comparison value may hold. The documentation says
/// values other than letters, digits and `_` must be quoted, yet its own
/// examples leave `.` and `*` unquoted (`123.123.*`, `*.html*`); `-` and `+`
/// appear in unquoted numbers. Keywatch allows exactly these.
fn is_bare_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '*' | '-' | '+')
}

/// The first few characters of `s`, for error messages.
pub(crate) fn preview(s: &str) -> String {
    let p: String = s.chars().take(20).collect();
    if p.is_empty() { "end of pattern".to_owned() } else { p }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_leading_and_trailing_stars_are_wildcards() {
        assert!(Glob::parse("*Event").matches("PutEvent"));
        assert!(Glob::parse("Event*").matches("EventName"));
        assert!(Glob::parse("Ev*ent").matches("Ev*ent"));
        assert!(!Glob::parse("Ev*ent").matches("Event"));
        assert!(Glob::parse("*").matches(""));
        assert!(Glob::parse("*html*").matches("GET /index.html HTTP/1.0"));
    }

    #[test]
    fn numbers_compare_numerically_and_quoted_text_textually() {
        let n = Literal::Number { value: 123.0, text: "123.0".into() };
        assert!(compare(CompareOp::Eq, &n, Scalar::Number("123")));
        let q = Literal::Text(Glob::parse("123.0"));
        assert!(compare(CompareOp::Ne, &q, Scalar::Number("123")));
        assert!(!compare(CompareOp::Gt, &Literal::Text(Glob::parse("1")), Scalar::Number("5")));
    }
}

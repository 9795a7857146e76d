//! JSON filter patterns (`{ $.eventSource = "kms.amazonaws.com" && ... }`):
//! property selectors, their parsing and their evaluation on an event.
//!
//! Source: <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html#matching-terms-json-log-events>
//!
//! Rules taken from that page:
//! - selectors start with `$.`, hold letters, digits, `-` and `_`, index
//!   arrays with `[n]`, select any element or field with `*` (`[*]`, `.*`),
//!   and reach keys holding a period with `['cluster.name']`;
//! - at most one wildcard per selector and three per pattern;
//! - a selector pointing at an array or object never matches, with `=` or
//!   `!=` alike; a missing property does not match either (`!=` included:
//!   recorded TestMetricFilter runs);
//! - `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`; `IS NOT` and `EXISTS`
//!   are refused.
//!
//! Where the page is silent, Keywatch chooses:
//! - a wildcard selector matches when any selected value satisfies the
//!   condition (for `!=` too) and `NOT EXISTS` when none is selected;
//! - `.*` and `[*]` both select the children of an object or an array;
//! - booleans and null are not "value nodes", so `=`/`!=` never match them;
//! - keywords are accepted in capitals only, as documented.

use std::fmt;

use super::condition::{self, Expr, Scalar, SubjectSyntax, Test};
use super::error::FilterPatternError;
use super::json_event::Json;
use super::lexer::Cursor;

/// Wildcards allowed in one selector ("You can only use up to one wildcard
/// selector in a property selector").
const MAX_WILDCARDS_PER_SELECTOR: usize = 1;
/// Wildcards allowed in a whole pattern ("up to three wildcard selectors in a
/// filter pattern with compound expressions").
const MAX_WILDCARDS_PER_PATTERN: usize = 3;

/// One step of a property selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
    Wildcard,
}

/// A property selector such as `$.users[0].email`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonSelector {
    steps: Vec<Step>,
}

impl JsonSelector {
    /// Parses a selector at the cursor (which must be at `$`).
    pub(crate) fn parse_at(cur: &mut Cursor<'_>) -> Result<Self, FilterPatternError> {
        let start = cur.pos();
        if !cur.eat("$") {
            return Err(FilterPatternError::invalid(format!(
                "expected a property selector starting with '$.' at '{}'",
                condition::preview(cur.rest())
            )));
        }
        let mut steps = Vec::new();
        loop {
            if cur.eat(".") {
                if cur.eat("*") {
                    steps.push(Step::Wildcard);
                } else if cur.starts_with("[") {
                    // `$.['cluster.name']`: the bracket follows the period.
                    steps.push(bracket_step(cur)?);
                } else {
                    let key = cur.identifier(true);
                    if key.is_empty() {
                        return Err(FilterPatternError::invalid(format!(
                            "a property name is missing after '.' in '{}'",
                            &cur_text(cur, start)
                        )));
                    }
                    steps.push(Step::Key(key.to_owned()));
                }
            } else if cur.starts_with("[") {
                if steps.is_empty() {
                    return Err(FilterPatternError::invalid("array elements must follow a property: write $.name[0]"));
                }
                steps.push(bracket_step(cur)?);
            } else {
                break;
            }
        }
        if steps.is_empty() {
            return Err(FilterPatternError::invalid("a property selector must name a property: write $.name"));
        }
        let selector = JsonSelector { steps };
        if selector.wildcards() > MAX_WILDCARDS_PER_SELECTOR {
            return Err(FilterPatternError::invalid("a property selector can hold at most one wildcard"));
        }
        Ok(selector)
    }

    /// Parses a whole string as a selector (`$.latency` in a metric value).
    pub(crate) fn parse_str(text: &str) -> Result<Self, FilterPatternError> {
        let mut cur = Cursor::new(text);
        let selector = Self::parse_at(&mut cur)?;
        if !cur.is_eof() {
            return Err(FilterPatternError::invalid(format!(
                "unexpected '{}' after the property selector",
                condition::preview(cur.rest())
            )));
        }
        Ok(selector)
    }

    pub(crate) fn wildcards(&self) -> usize {
        self.steps.iter().filter(|s| **s == Step::Wildcard).count()
    }

    /// Calls `f` on each value the selector reaches until `f` says `true`;
    /// returns whether it did.
    pub(crate) fn any<'j, 'a>(&self, root: &'j Json<'a>, f: &mut impl FnMut(&'j Json<'a>) -> bool) -> bool {
        walk(root, &self.steps, f)
    }

    /// The first value the selector reaches.
    pub(crate) fn first<'j, 'a>(&self, root: &'j Json<'a>) -> Option<&'j Json<'a>> {
        let mut found = None;
        self.any(root, &mut |v| {
            found = Some(v);
            true
        });
        found
    }
}

fn cur_text<'a>(cur: &Cursor<'a>, start: usize) -> String {
    let mut c = cur.clone();
    c.reset(start);
    condition::preview(c.rest())
}

/// Reads `[n]`, `[*]` or `['key']` / `["key"]`.
fn bracket_step(cur: &mut Cursor<'_>) -> Result<Step, FilterPatternError> {
    cur.eat("[");
    let step = if cur.eat("*") {
        Step::Wildcard
    } else if let Some(q @ ('\'' | '"')) = cur.peek() {
        cur.bump();
        let rest = cur.rest();
        let Some(end) = rest.find(q) else {
            return Err(FilterPatternError::invalid("a quoted property name is missing its closing quote"));
        };
        let key = rest[..end].to_owned();
        for _ in rest[..=end].chars() {
            cur.bump();
        }
        Step::Key(key)
    } else {
        let digits = cur.identifier(false);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FilterPatternError::invalid(format!(
                "array elements are selected with [NUMBER], not [{digits}]"
            )));
        }
        let index = digits
            .parse::<usize>()
            .map_err(|_| FilterPatternError::invalid(format!("array index {digits} is too large")))?;
        Step::Index(index)
    };
    if !cur.eat("]") {
        return Err(FilterPatternError::invalid("a '[' in a property selector is missing its ']'"));
    }
    Ok(step)
}

fn walk<'j, 'a>(node: &'j Json<'a>, steps: &[Step], f: &mut impl FnMut(&'j Json<'a>) -> bool) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        return f(node);
    };
    match step {
        Step::Key(key) => node.get(key).is_some_and(|child| walk(child, rest, f)),
        Step::Index(i) => match node {
            Json::Array(items) => items.get(*i).is_some_and(|child| walk(child, rest, f)),
            _ => false,
        },
        Step::Wildcard => match node {
            Json::Array(items) => items.iter().any(|child| walk(child, rest, f)),
            Json::Object(members) => members.iter().any(|(_, child)| walk(child, rest, f)),
            _ => false,
        },
    }
}

impl fmt::Display for JsonSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in &self.steps {
            match step {
                Step::Key(k)
                    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
                {
                    write!(f, ".{k}")?
                }
                Step::Key(k) => write!(f, ".['{k}']")?,
                Step::Index(i) => write!(f, "[{i}]")?,
                Step::Wildcard => f.write_str(".*")?,
            }
        }
        Ok(())
    }
}

/// The part of a JSON value a comparison can see: strings and numbers.
pub(crate) fn scalar<'j>(value: &'j Json<'_>) -> Option<Scalar<'j>> {
    match value {
        Json::String(s) => Some(Scalar::Text(s)),
        Json::Number(n) => Some(Scalar::Number(n)),
        _ => None,
    }
}

/// A parsed JSON pattern.
#[derive(Debug, Clone)]
pub(crate) struct JsonPattern {
    expr: Expr<JsonSelector>,
    /// Texts every matching event contains verbatim when it has no `\`
    /// escape: see [`JsonPattern::cannot_match`].
    required: Vec<String>,
}

struct JsonSyntax;

impl SubjectSyntax for JsonSyntax {
    type Subject = JsonSelector;

    fn subject(&mut self, cur: &mut Cursor<'_>) -> Result<JsonSelector, FilterPatternError> {
        JsonSelector::parse_at(cur)
    }

    fn allows_is(&self) -> bool {
        true
    }

    fn at_end(&self, _cur: &Cursor<'_>) -> bool {
        false
    }
}

impl JsonPattern {
    /// Parses the text between the outer `{` and `}`.
    pub(crate) fn parse(inner: &str) -> Result<Self, FilterPatternError> {
        let mut cur = Cursor::new(inner);
        cur.skip_ws();
        if cur.is_eof() {
            return Err(FilterPatternError::invalid("the JSON pattern {} is empty"));
        }
        let mut regexes = 0;
        let expr = condition::parse_expr(&mut cur, &mut JsonSyntax, &mut regexes)?;
        cur.skip_ws();
        if !cur.is_eof() {
            return Err(FilterPatternError::invalid(format!(
                "unexpected '{}'; conditions are joined with && or ||",
                condition::preview(cur.rest())
            )));
        }
        let mut wildcards = 0;
        expr.for_each_subject(&mut |s: &JsonSelector| wildcards += s.wildcards());
        if wildcards > MAX_WILDCARDS_PER_PATTERN {
            return Err(FilterPatternError::invalid(format!(
                "a filter pattern can hold at most {MAX_WILDCARDS_PER_PATTERN} wildcard selectors"
            )));
        }
        let required = required_texts(&expr);
        Ok(JsonPattern { expr, required })
    }

    /// A fast refusal before parsing the event. In JSON text without any
    /// backslash every key and string is written verbatim, so a condition
    /// that must hold (a conjunct of the whole pattern) and that needs a
    /// property, or a string equal to a literal, needs that text in the
    /// message. Metric filters see mostly non-matching events (most KMS
    /// calls succeed and carry no `errorCode`), so this skips most parses.
    pub(crate) fn cannot_match(&self, message: &str) -> bool {
        !self.required.is_empty()
            && !message.contains('\\')
            && self.required.iter().any(|text| !message.contains(text.as_str()))
    }

    /// Whether the parsed event satisfies the pattern.
    pub(crate) fn eval(&self, root: &Json<'_>) -> bool {
        self.expr.eval(&mut |selector: &JsonSelector, test: &Test| match test {
            Test::NotExists => !selector.any(root, &mut |_| true),
            Test::IsNull => selector.any(root, &mut |v| matches!(v, Json::Null)),
            Test::IsTrue => selector.any(root, &mut |v| matches!(v, Json::Bool(true))),
            Test::IsFalse => selector.any(root, &mut |v| matches!(v, Json::Bool(false))),
            Test::Compare(op, literal) => {
                selector.any(root, &mut |v| scalar(v).is_some_and(|s| condition::compare(*op, literal, s)))
            }
        })
    }
}

/// The texts a backslash-free event must contain for `expr` to hold: for
/// each condition every matching event satisfies, its property names as
/// `"name"`, and for `= "text"` the text itself (a wildcard's fixed part).
fn required_texts(expr: &Expr<JsonSelector>) -> Vec<String> {
    let conjuncts: &[Expr<JsonSelector>] = match expr {
        Expr::And(all) => all,
        single => std::slice::from_ref(single),
    };
    let mut out = Vec::new();
    for conjunct in conjuncts {
        let Expr::Cond(selector, test) = conjunct else {
            continue;
        };
        if matches!(test, Test::NotExists) {
            continue;
        }
        for step in &selector.steps {
            if let Step::Key(key) = step {
                out.push(format!("\"{key}\""));
            }
        }
        if let Test::Compare(condition::CompareOp::Eq, condition::Literal::Text(glob)) = test
            && !glob.fixed_part().is_empty()
        {
            out.push(glob.fixed_part().to_owned());
        }
    }
    out
}

//! Composite alarms' rule language: the `AlarmRule` of PutCompositeAlarm,
//! parsed once and evaluated against the states of the alarms it names.
//!
//! What AWS documents
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html>):
//! the functions `ALARM("name or ARN")`, `OK(…)` and `INSUFFICIENT_DATA(…)`,
//! each TRUE when the named alarm is in that state; the constants `TRUE` and
//! `FALSE`; the operators `AND`, `OR` and `NOT`; parentheses to group; names
//! "can be surrounded with double-quotes, but do not have to be"; a rule of
//! at most 10,240 characters. AWS does not write down how the operators
//! bind without parentheses; this follows the usual order (`NOT` before
//! `AND` before `OR`), which is how the documentation's examples read.

use super::StateValue;

/// PutCompositeAlarm's limit on `AlarmRule`.
pub const MAX_RULE_CHARS: usize = 10_240;

/// A parsed `AlarmRule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlarmRule {
    /// `TRUE` or `FALSE`.
    Constant(bool),
    /// `ALARM(x)`, `OK(x)` or `INSUFFICIENT_DATA(x)`: the alarm named (or
    /// whose ARN is) `x` is in that state.
    InState(StateValue, String),
    Not(Box<AlarmRule>),
    And(Vec<AlarmRule>),
    Or(Vec<AlarmRule>),
}

/// Why a rule is refused; the message says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("AlarmRule is empty")]
    Empty,
    #[error("AlarmRule is longer than {MAX_RULE_CHARS} characters")]
    TooLong,
    #[error("AlarmRule has {found} where {expected} was expected, at character {at}")]
    Unexpected { at: usize, found: String, expected: &'static str },
    #[error("AlarmRule has an unclosed quote at character {at}")]
    UnclosedQuote { at: usize },
    #[error("AlarmRule has a function with no alarm name at character {at}")]
    NoAlarmName { at: usize },
}

impl AlarmRule {
    /// Parses `text`, refusing what PutCompositeAlarm refuses as a rule.
    pub fn parse(text: &str) -> Result<AlarmRule, RuleError> {
        if text.chars().count() > MAX_RULE_CHARS {
            return Err(RuleError::TooLong);
        }
        let chars: Vec<char> = text.chars().collect();
        let mut parser = Parser { chars: &chars, at: 0 };
        parser.skip_space();
        if parser.at == chars.len() {
            return Err(RuleError::Empty);
        }
        let rule = parser.or()?;
        parser.skip_space();
        match parser.peek_word() {
            None if parser.at == chars.len() => Ok(rule),
            _ => Err(parser.unexpected("AND, OR or the end")),
        }
    }

    /// The names or ARNs the rule reads, in order, each once.
    pub fn alarms(&self) -> Vec<&str> {
        let mut names = Vec::new();
        self.collect(&mut names);
        names
    }

    fn collect<'a>(&'a self, names: &mut Vec<&'a str>) {
        match self {
            AlarmRule::Constant(_) => {}
            AlarmRule::InState(_, name) => {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
            AlarmRule::Not(inner) => inner.collect(names),
            AlarmRule::And(parts) | AlarmRule::Or(parts) => parts.iter().for_each(|part| part.collect(names)),
        }
    }

    /// Whether the rule holds, given each named alarm's state (`state_of`
    /// answers for a name or an ARN). An alarm it cannot find is in no
    /// state, so none of its functions is TRUE.
    pub fn holds(&self, state_of: &impl Fn(&str) -> Option<StateValue>) -> bool {
        match self {
            AlarmRule::Constant(value) => *value,
            AlarmRule::InState(state, name) => state_of(name) == Some(*state),
            AlarmRule::Not(inner) => !inner.holds(state_of),
            AlarmRule::And(parts) => parts.iter().all(|part| part.holds(state_of)),
            AlarmRule::Or(parts) => parts.iter().any(|part| part.holds(state_of)),
        }
    }

    /// The composite alarm's state: ALARM when the rule holds, OK otherwise.
    pub fn state(&self, state_of: &impl Fn(&str) -> Option<StateValue>) -> StateValue {
        if self.holds(state_of) { StateValue::Alarm } else { StateValue::Ok }
    }
}

struct Parser<'a> {
    chars: &'a [char],
    at: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    /// The upper-case word at the cursor (a keyword or function name).
    fn peek_word(&self) -> Option<String> {
        let word: String = self.chars[self.at..].iter().take_while(|c| c.is_ascii_uppercase() || **c == '_').collect();
        (!word.is_empty()).then_some(word)
    }

    fn unexpected(&self, expected: &'static str) -> RuleError {
        let found = match self.chars.get(self.at) {
            None => "the end".to_owned(),
            Some(_) => {
                let word: String = self.chars[self.at..].iter().take_while(|c| !c.is_whitespace()).take(20).collect();
                format!("'{word}'")
            }
        };
        RuleError::Unexpected { at: self.at + 1, found, expected }
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        self.skip_space();
        if self.peek_word().as_deref() == Some(keyword) {
            self.at += keyword.len();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<AlarmRule, RuleError> {
        let mut parts = vec![self.and()?];
        while self.eat_keyword("OR") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { AlarmRule::Or(parts) })
    }

    fn and(&mut self) -> Result<AlarmRule, RuleError> {
        let mut parts = vec![self.unary()?];
        while self.eat_keyword("AND") {
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { AlarmRule::And(parts) })
    }

    fn unary(&mut self) -> Result<AlarmRule, RuleError> {
        if self.eat_keyword("NOT") {
            return Ok(AlarmRule::Not(Box::new(self.unary()?)));
        }
        self.skip_space();
        if self.chars.get(self.at) == Some(&'(') {
            self.at += 1;
            let inner = self.or()?;
            self.skip_space();
            if self.chars.get(self.at) != Some(&')') {
                return Err(self.unexpected("')'"));
            }
            self.at += 1;
            return Ok(inner);
        }
        let expected = "ALARM(…), OK(…), INSUFFICIENT_DATA(…), TRUE, FALSE, NOT or '('";
        let Some(word) = self.peek_word() else { return Err(self.unexpected(expected)) };
        let state = match word.as_str() {
            "TRUE" | "FALSE" => {
                self.at += word.len();
                return Ok(AlarmRule::Constant(word == "TRUE"));
            }
            "ALARM" => StateValue::Alarm,
            "OK" => StateValue::Ok,
            "INSUFFICIENT_DATA" => StateValue::InsufficientData,
            _ => return Err(self.unexpected(expected)),
        };
        self.at += word.len();
        self.skip_space();
        if self.chars.get(self.at) != Some(&'(') {
            return Err(self.unexpected("'('"));
        }
        self.at += 1;
        let name = self.alarm_name()?;
        Ok(AlarmRule::InState(state, name))
    }

    /// The function's argument up to its `)`: quoted, or bare and trimmed.
    fn alarm_name(&mut self) -> Result<String, RuleError> {
        let start = self.at;
        self.skip_space();
        let name = if self.chars.get(self.at) == Some(&'"') {
            let close = self.chars[self.at + 1..].iter().position(|c| *c == '"');
            let Some(close) = close else { return Err(RuleError::UnclosedQuote { at: self.at + 1 }) };
            let name: String = self.chars[self.at + 1..self.at + 1 + close].iter().collect();
            self.at += close + 2;
            self.skip_space();
            name
        } else {
            let end = self.chars[self.at..].iter().position(|c| *c == ')').map_or(self.chars.len(), |p| self.at + p);
            let name: String = self.chars[self.at..end].iter().collect::<String>().trim().to_owned();
            self.at = end;
            name
        };
        if self.chars.get(self.at) != Some(&')') {
            return Err(self.unexpected("')'"));
        }
        self.at += 1;
        if name.is_empty() {
            return Err(RuleError::NoAlarmName { at: start + 1 });
        }
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states<'a>(pairs: &'a [(&'a str, StateValue)]) -> impl Fn(&str) -> Option<StateValue> + 'a {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }

    // The API reference's examples of AlarmRule, verbatim, and what each means.
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
    #[test]
    fn the_documented_examples_mean_what_the_documentation_says() {
        use StateValue::{Alarm, Ok};
        let both = AlarmRule::parse("ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)").expect("parses");
        assert!(both.holds(&states(&[("CPUUtilizationTooHigh", Alarm), ("DiskReadOpsTooHigh", Alarm)])));
        assert!(!both.holds(&states(&[("CPUUtilizationTooHigh", Alarm), ("DiskReadOpsTooHigh", Ok)])));

        let unless =
            AlarmRule::parse("ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)").expect("parses");
        assert!(unless.holds(&states(&[("CPUUtilizationTooHigh", Alarm), ("DeploymentInProgress", Ok)])));
        assert!(!unless.holds(&states(&[("CPUUtilizationTooHigh", Alarm), ("DeploymentInProgress", Alarm)])));

        let grouped =
            AlarmRule::parse("(ALARM(CPUUtilizationTooHigh) OR ALARM(DiskReadOpsTooHigh)) AND OK(NetworkOutTooHigh)")
                .expect("parses");
        assert!(grouped.holds(&states(&[("DiskReadOpsTooHigh", Alarm), ("NetworkOutTooHigh", Ok)])));
        assert!(!grouped.holds(&states(&[("DiskReadOpsTooHigh", Alarm), ("NetworkOutTooHigh", Alarm)])));
        assert_eq!(grouped.alarms(), ["CPUUtilizationTooHigh", "DiskReadOpsTooHigh", "NetworkOutTooHigh"]);
    }

    // "Alarm names specified in AlarmRule can be surrounded with double-quotes
    // ("), but do not have to be"; names or ARNs; TRUE and FALSE.
    #[test]
    fn names_may_be_quoted_or_arns_and_constants_stand_alone() {
        let arn = "arn:aws:cloudwatch:ap-southeast-2:111122223333:alarm:pattern1 logging (KMS)";
        let quoted = AlarmRule::parse(&format!("ALARM(\"{arn}\")")).expect("parses");
        assert_eq!(quoted, AlarmRule::InState(StateValue::Alarm, arn.to_owned()));
        let bare = AlarmRule::parse("INSUFFICIENT_DATA( Quiet Alarm )").expect("parses");
        assert_eq!(bare, AlarmRule::InState(StateValue::InsufficientData, "Quiet Alarm".to_owned()));
        assert!(AlarmRule::parse("TRUE").expect("parses").holds(&states(&[])));
        assert!(!AlarmRule::parse("FALSE").expect("parses").holds(&states(&[])));
        assert_eq!(AlarmRule::parse("TRUE").expect("parses").state(&states(&[])), StateValue::Alarm);
    }

    #[test]
    fn not_binds_before_and_before_or() {
        use StateValue::{Alarm, Ok};
        // A OR B AND C is A OR (B AND C).
        let rule = AlarmRule::parse("ALARM(A) OR ALARM(B) AND ALARM(C)").expect("parses");
        assert!(rule.holds(&states(&[("A", Alarm), ("B", Ok), ("C", Ok)])));
        assert!(!rule.holds(&states(&[("A", Ok), ("B", Alarm), ("C", Ok)])));
        // NOT A AND B is (NOT A) AND B.
        let rule = AlarmRule::parse("NOT ALARM(A) AND ALARM(B)").expect("parses");
        assert!(!rule.holds(&states(&[("A", Ok), ("B", Ok)])));
    }

    #[test]
    fn an_alarm_that_cannot_be_found_is_in_no_state() {
        let rule = AlarmRule::parse("OK(Missing) OR NOT ALARM(Missing)").expect("parses");
        assert!(rule.holds(&states(&[])));
        assert!(!AlarmRule::parse("OK(Missing)").expect("parses").holds(&states(&[])));
    }

    #[test]
    fn malformed_rules_are_refused_saying_where() {
        assert_eq!(AlarmRule::parse("  "), Err(RuleError::Empty));
        assert_eq!(AlarmRule::parse(&"T".repeat(MAX_RULE_CHARS + 1)), Err(RuleError::TooLong));
        assert!(matches!(AlarmRule::parse("ALARM(A) AND"), Err(RuleError::Unexpected { at: 13, .. })));
        assert!(matches!(AlarmRule::parse("ALARM(A) ALARM(B)"), Err(RuleError::Unexpected { at: 10, .. })));
        assert!(matches!(AlarmRule::parse("(ALARM(A)"), Err(RuleError::Unexpected { .. })));
        assert!(matches!(AlarmRule::parse("alarm(A)"), Err(RuleError::Unexpected { at: 1, .. })));
        assert!(matches!(AlarmRule::parse("ALARM A"), Err(RuleError::Unexpected { .. })));
        assert_eq!(AlarmRule::parse("ALARM(\"A)"), Err(RuleError::UnclosedQuote { at: 7 }));
        assert_eq!(AlarmRule::parse("ALARM( )"), Err(RuleError::NoAlarmName { at: 7 }));
        let message = AlarmRule::parse("ALARM(A) XOR ALARM(B)").expect_err("refused").to_string();
        assert_eq!(message, "AlarmRule has 'XOR' where AND, OR or the end was expected, at character 10");
    }
}

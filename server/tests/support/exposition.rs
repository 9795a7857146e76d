//! A checker for the Prometheus text exposition format 0.0.4, which
//! `/metrics` serves: the operations tests read samples back through it, and
//! `metrics.rs`'s unit tests include this file (`#[path]`) for theirs, so the
//! console's library carries no parser that only tests use.
//! <https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format>

/// One parsed sample: metric name, labels in order, value.
pub type Sample = (String, Vec<(String, String)>, f64);

/// Checks `text` as a scraper would: every sample belongs to a family
/// announced by `# HELP` and `# TYPE` before it, names and label names are
/// valid, counters end in `_total`, label values are correctly escaped, and
/// values parse. Returns the samples as (name, labels, value).
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut helped = std::collections::BTreeSet::new();
    let mut typed = std::collections::BTreeMap::new();
    let mut samples = Vec::new();
    let valid_name = |name: &str| {
        let mut chars = name.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    for (number, line) in text.lines().enumerate() {
        let at = |reason: &str| format!("line {}: {reason}: {line}", number + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest.split_once(' ').ok_or_else(|| at("HELP without text"))?;
            if !valid_name(name) || !helped.insert(name.to_owned()) {
                return Err(at("bad or repeated HELP"));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or_else(|| at("TYPE without a type"))?;
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                return Err(at("unknown type"));
            }
            if typed.insert(name.to_owned(), kind.to_owned()).is_some() {
                return Err(at("repeated TYPE"));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name, rest) = match line.find(['{', ' ']) {
            Some(index) => line.split_at(index),
            None => return Err(at("sample without a value")),
        };
        if !valid_name(name) {
            return Err(at("bad metric name"));
        }
        let kind = typed.get(name).ok_or_else(|| at("sample before its TYPE"))?;
        if kind == "counter" && !name.ends_with("_total") {
            return Err(at("counter not named *_total"));
        }
        let mut labels = Vec::new();
        let mut rest = rest;
        if let Some(after) = rest.strip_prefix('{') {
            let mut chars = after.char_indices().peekable();
            let end = loop {
                let Some(&(start, c)) = chars.peek() else { return Err(at("unterminated labels")) };
                if c == '}' {
                    break start + 1;
                }
                if c == ',' {
                    chars.next();
                    continue;
                }
                let mut key = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c == '=' {
                        break;
                    }
                    key.push(c);
                    chars.next();
                }
                if !valid_name(&key)
                    || chars.next().map(|(_, c)| c) != Some('=')
                    || chars.next().map(|(_, c)| c) != Some('"')
                {
                    return Err(at("bad label"));
                }
                let mut value = String::new();
                loop {
                    match chars.next().map(|(_, c)| c) {
                        Some('"') => break,
                        Some('\\') => match chars.next().map(|(_, c)| c) {
                            Some('\\') => value.push('\\'),
                            Some('"') => value.push('"'),
                            Some('n') => value.push('\n'),
                            _ => return Err(at("bad escape in a label value")),
                        },
                        Some('\n') | None => return Err(at("unterminated label value")),
                        Some(c) => value.push(c),
                    }
                }
                labels.push((key, value));
            };
            rest = &after[end..];
        }
        let value_text = rest.strip_prefix(' ').ok_or_else(|| at("no space before the value"))?;
        let value_text = value_text.split(' ').next().unwrap_or_default();
        let value = match value_text {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other.parse().map_err(|_| at("value is not a number"))?,
        };
        samples.push((name.to_owned(), labels, value));
    }
    for name in typed.keys() {
        if !helped.contains(name) {
            return Err(format!("{name} has TYPE but no HELP"));
        }
    }
    Ok(samples)
}

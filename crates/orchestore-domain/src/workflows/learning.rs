//! Learning records: what agents learned from running work — a pattern, the context it was seen
//! in, how it turned out and how well — written by agents and read back by pattern and context.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{DomainError, LearningRecordId, Metadata, OrganizationId};

/// What a record is about, e.g. `deploy.rollback` or `review/rust/unsafe`: 1 to 200
/// characters, no control characters, kept exactly as written (it is matched exactly and by
/// prefix, comparing characters, case included).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Pattern(String);

/// The checks a pattern and a pattern prefix share, naming `field`.
fn pattern_text(field: &'static str, raw: &str) -> Result<String, DomainError> {
    if raw.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    let chars = raw.chars().count();
    if chars > Pattern::MAX_CHARS {
        return Err(DomainError::invalid(
            field,
            format!(
                "must be at most {} characters, got {chars}",
                Pattern::MAX_CHARS
            ),
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(raw.to_owned())
}

deserialize_by_parse!(Pattern, String, |raw| Pattern::parse(&raw));

impl Pattern {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        pattern_text("pattern", raw).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Which patterns a query matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternQuery {
    /// This pattern exactly.
    Exact(Pattern),
    /// Every pattern that starts with this text (the text itself included).
    Prefix(PatternPrefix),
}

/// The start of patterns: checked as a pattern is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternPrefix(String);

impl PatternPrefix {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        pattern_text("pattern_prefix", raw).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The least text greater than every text starting with the prefix, in code point order
    /// (which is UTF-8 byte order): the prefix with its last character raised by one, carrying
    /// past `U+10FFFF`. `None` when no such text exists (a prefix of only `U+10FFFF`). So the
    /// patterns with the prefix are exactly those `>= prefix` and `<` this, a range an index
    /// in byte order answers.
    pub fn upper_bound(&self) -> Option<String> {
        let mut chars: Vec<char> = self.0.chars().collect();
        while let Some(last) = chars.pop() {
            let next = (u32::from(last) + 1..=0x10FFFF).find_map(char::from_u32);
            if let Some(next) = next {
                chars.push(next);
                return Some(chars.into_iter().collect());
            }
        }
        None
    }
}

/// How what a record describes turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LearningOutcome {
    Success,
    Partial,
    Failure,
}

impl LearningOutcome {
    pub const ALL: [LearningOutcome; 3] = [Self::Success, Self::Partial, Self::Failure];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Partial => "partial",
            Self::Failure => "failure",
        }
    }
}

impl fmt::Display for LearningOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LearningOutcome {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "outcome",
                    format!("{s:?} is not one of success, partial, failure"),
                )
            })
    }
}

/// How well it worked, from 0 (not at all) to 1 (perfectly), kept to six decimal places: a
/// score is stored as whole millionths, so that it orders and compares exactly alike on both
/// backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(i64);

deserialize_by_parse!(Score, f64, Score::parse);

impl Score {
    pub const SCALE: i64 = 1_000_000;

    /// A finite number from 0 to 1, rounded to the nearest millionth.
    pub fn parse(raw: f64) -> Result<Self, DomainError> {
        if !raw.is_finite() || !(0.0..=1.0).contains(&raw) {
            return Err(DomainError::invalid(
                "score",
                "must be a number from 0 to 1",
            ));
        }
        // In range, so the product is at most `SCALE` and the cast exact.
        Ok(Self((raw * Self::SCALE as f64).round() as i64))
    }

    /// A score stored as millionths; `None` outside 0 to [`Score::SCALE`].
    pub fn from_millionths(millionths: i64) -> Option<Self> {
        (0..=Self::SCALE)
            .contains(&millionths)
            .then_some(Self(millionths))
    }

    pub fn millionths(self) -> i64 {
        self.0
    }

    pub fn get(self) -> f64 {
        self.0 as f64 / Self::SCALE as f64
    }
}

impl Serialize for Score {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.get())
    }
}

/// A record as stored; records are not changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LearningRecord {
    pub id: LearningRecordId,
    pub organization_id: OrganizationId,
    pub pattern: Pattern,
    /// Where it was seen: any JSON object (the task kind, the model, the repository, …).
    pub context: Metadata,
    pub outcome: LearningOutcome,
    pub score: Score,
    /// Who wrote it: `agent:<id>`, `user:<id>` or `system`.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewLearningRecord {
    pub pattern: Pattern,
    pub context: Metadata,
    pub outcome: LearningOutcome,
    pub score: Score,
}

/// A value a context filter looks for under a top-level key.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    Text(String),
    /// Compared as a number: `1`, `1.0` and `1.00` are equal.
    Number(f64),
    Bool(bool),
}

/// Records whose context holds each of these top-level keys with an equal value: a string
/// equal to a string, a number numerically equal to a number, `true` or `false` the same
/// boolean. 1 to 20 keys; the values are strings, numbers and booleans (containment of nested
/// objects, arrays or `null` is not offered, so that both backends answer the same).
#[derive(Debug, Clone, PartialEq)]
pub struct ContextFilter {
    entries: Vec<(String, ContextValue)>,
    /// The filter as a JSON object, as given.
    object: Map<String, Value>,
}

impl ContextFilter {
    pub const MAX_KEYS: usize = 20;

    pub fn parse(raw: Value) -> Result<Self, DomainError> {
        const FIELD: &str = "context";
        let Value::Object(object) = raw else {
            return Err(DomainError::invalid(FIELD, "must be a JSON object"));
        };
        if object.is_empty() || object.len() > Self::MAX_KEYS {
            return Err(DomainError::invalid(
                FIELD,
                format!("must have 1 to {} keys", Self::MAX_KEYS),
            ));
        }
        let mut entries = Vec::with_capacity(object.len());
        for (key, value) in &object {
            if key.contains('\0') {
                return Err(DomainError::invalid(
                    FIELD,
                    "keys must not contain the NUL character (U+0000)",
                ));
            }
            let value = match value {
                Value::String(text) if !text.contains('\0') => ContextValue::Text(text.clone()),
                Value::Bool(flag) => ContextValue::Bool(*flag),
                Value::Number(number) => match number.as_f64().filter(|n| n.is_finite()) {
                    Some(number) => ContextValue::Number(number),
                    None => {
                        return Err(DomainError::invalid(
                            FIELD,
                            format!("{key:?}: the number is out of range"),
                        ));
                    }
                },
                _ => {
                    return Err(DomainError::invalid(
                        FIELD,
                        format!("{key:?}: values must be strings, numbers or booleans"),
                    ));
                }
            };
            entries.push((key.clone(), value));
        }
        Ok(Self { entries, object })
    }

    pub fn entries(&self) -> &[(String, ContextValue)] {
        &self.entries
    }

    /// The filter as a JSON object (for PostgreSQL's `@>`).
    pub fn to_value(&self) -> Value {
        Value::Object(self.object.clone())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn patterns_are_kept_exactly() {
        assert_eq!(
            Pattern::parse(" Deploy/Rollback")
                .map(|p| p.to_string())
                .ok(),
            Some(" Deploy/Rollback".to_owned())
        );
        for bad in ["", "a\nb", &"x".repeat(201)] {
            assert_eq!(Pattern::parse(bad).unwrap_err().field(), Some("pattern"));
        }
        assert_eq!(
            PatternPrefix::parse("").unwrap_err().field(),
            Some("pattern_prefix")
        );
    }

    #[test]
    fn a_prefix_bounds_the_patterns_that_start_with_it() {
        let bound = |raw: &str| {
            PatternPrefix::parse(raw)
                .unwrap_or_else(|e| panic!("{e}"))
                .upper_bound()
        };
        assert_eq!(bound("deploy."), Some("deploy/".to_owned()));
        assert_eq!(bound("az"), Some("a{".to_owned()));
        // Past the surrogates, which are no characters.
        assert_eq!(bound("a\u{D7FF}"), Some("a\u{E000}".to_owned()));
        assert_eq!(bound("a\u{10FFFF}"), Some("b".to_owned()));
        assert_eq!(bound("\u{10FFFF}"), None);
        let upper = bound("deploy.").unwrap_or_default();
        for pattern in ["deploy.", "deploy.rollback", "deploy.\u{10FFFF}x"] {
            assert!(
                pattern >= "deploy." && pattern < upper.as_str(),
                "{pattern}"
            );
        }
        assert!("deploy/" >= upper.as_str() && "deplox" < "deploy.");
    }

    #[test]
    fn scores_are_millionths_from_zero_to_one() {
        let score = Score::parse(0.8765432).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(score.millionths(), 876_543);
        assert_eq!(score.get(), 0.876543);
        assert_eq!(serde_json::to_value(score).ok(), Some(json!(0.876543)));
        for bad in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            assert_eq!(Score::parse(bad).unwrap_err().field(), Some("score"));
        }
        assert_eq!(Score::from_millionths(1_000_001), None);
        assert_eq!(Score::from_millionths(0), Score::parse(0.0).ok());
    }

    #[test]
    fn context_filters_take_scalars_under_top_level_keys() {
        let filter = ContextFilter::parse(json!({"model": "m1", "tries": 2, "ok": true}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(filter.entries().len(), 3);
        assert!(
            filter
                .entries()
                .contains(&("tries".to_owned(), ContextValue::Number(2.0)))
        );
        assert_eq!(filter.to_value()["model"], "m1");
        for bad in [
            json!([]),
            json!({}),
            json!({"nested": {"a": 1}}),
            json!({"list": [1]}),
            json!({"none": null}),
        ] {
            assert_eq!(
                ContextFilter::parse(bad.clone()).unwrap_err().field(),
                Some("context"),
                "{bad}"
            );
        }
    }

    #[test]
    fn outcomes_round_trip() {
        for outcome in LearningOutcome::ALL {
            assert_eq!(outcome.as_str().parse().ok(), Some(outcome));
        }
        assert!("win".parse::<LearningOutcome>().is_err());
    }
}

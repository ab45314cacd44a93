//! `{{name}}` placeholders in the strings of a JSON document.
//!
//! A placeholder is `{{`, a parameter name (1 to 64 of `a-z`, `0-9`, `_`) and `}}`, with no
//! spaces. Anything else that looks similar (`{{ name }}`, `{{Name}}`) is plain text, so
//! bodies may carry other template languages for the agents. Only string values are looked
//! at, never object keys, and filling is a single pass: an argument's own text is not scanned.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::DomainError;

pub(super) const NAME_MAX: usize = 64;

pub(super) fn is_name_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
}

#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let length = after.bytes().take_while(|&b| is_name_byte(b)).count();
        if (1..=NAME_MAX).contains(&length) && after[length..].starts_with("}}") {
            if open > 0 {
                pieces.push(Piece::Text(&rest[..open]));
            }
            pieces.push(Piece::Placeholder(&after[..length]));
            rest = &after[length + 2..];
        } else {
            // Not a placeholder: keep the first brace as text and look again after it.
            pieces.push(Piece::Text(&rest[..=open]));
            rest = &rest[open + 1..];
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    pieces
}

/// Adds the name of every placeholder in `value` to `names`.
pub(super) fn collect(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::String(text) => {
            for piece in pieces(text) {
                if let Piece::Placeholder(name) = piece {
                    names.insert(name.to_owned());
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect(item, names)),
        Value::Object(map) => map.values().for_each(|item| collect(item, names)),
        _ => {}
    }
}

pub(super) fn any_in(value: &Value) -> bool {
    let mut names = BTreeSet::new();
    collect(value, &mut names);
    !names.is_empty()
}

/// What a placeholder is replaced by.
pub(super) struct Fill {
    /// Put in place of a string that is exactly the placeholder.
    value: Value,
    /// Put in place of a placeholder within longer text: a string as it is, `null` as nothing,
    /// anything else as compact JSON.
    text: String,
}

impl Fill {
    pub(super) fn new(value: Value) -> Self {
        let text = match &value {
            Value::String(text) => text.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        Self { value, text }
    }
}

/// Replaces the placeholders in `value`. `budget` is how many more bytes the arguments may add
/// in all, so that a body repeating a placeholder cannot be blown up without bound.
pub(super) fn fill(
    value: &Value,
    fills: &HashMap<&str, Fill>,
    budget: &mut usize,
) -> Result<Value, DomainError> {
    let mut spend = |fill: &Fill| {
        *budget = budget.checked_sub(fill.text.len().max(1)).ok_or_else(|| {
            DomainError::invalid(
                "arguments",
                "the arguments make the instantiated body too large",
            )
        })?;
        Ok::<(), DomainError>(())
    };
    let lookup = |name: &str| {
        fills.get(name).ok_or_else(|| {
            DomainError::invalid(
                "body",
                format!("placeholder {{{{{name}}}}} is not a declared parameter"),
            )
        })
    };
    Ok(match value {
        Value::String(text) => {
            let pieces = pieces(text);
            match pieces.as_slice() {
                [] => Value::String(String::new()),
                [Piece::Placeholder(name)] => {
                    let fill = lookup(name)?;
                    spend(fill)?;
                    fill.value.clone()
                }
                _ => {
                    let mut out = String::with_capacity(text.len());
                    for piece in pieces {
                        match piece {
                            Piece::Text(text) => out.push_str(text),
                            Piece::Placeholder(name) => {
                                let fill = lookup(name)?;
                                spend(fill)?;
                                out.push_str(&fill.text);
                            }
                        }
                    }
                    Value::String(out)
                }
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| fill(item, fills, budget))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| Ok((key.clone(), fill(item, fills, budget)?)))
                .collect::<Result<_, DomainError>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn finds_only_well_formed_placeholders() {
        use Piece::*;
        assert_eq!(
            pieces("Review {{repo}} at {{ref_1}}"),
            [
                Text("Review "),
                Placeholder("repo"),
                Text(" at "),
                Placeholder("ref_1")
            ]
        );
        assert_eq!(pieces("{{repo}}"), [Placeholder("repo")]);
        assert_eq!(pieces("{{{a}}}"), [Text("{"), Placeholder("a"), Text("}")]);
        for text in ["{{ repo }}", "{{Repo}}", "{{}}", "{{a", "é{{a-b}}"] {
            assert!(
                pieces(text).iter().all(|piece| matches!(piece, Text(_))),
                "{text}"
            );
        }
        let long = format!("{{{{{}}}}}", "a".repeat(NAME_MAX + 1));
        assert!(!any_in(&json!(long)));
        let mut names = BTreeSet::new();
        collect(
            &json!({"{{key}}": ["{{a}}", {"x": "é{{b}}é"}], "n": 1}),
            &mut names,
        );
        assert_eq!(names, BTreeSet::from(["a".to_owned(), "b".to_owned()]));
    }

    #[test]
    fn fills_whole_strings_with_values_and_text_with_text() {
        let fills = HashMap::from([
            ("n", Fill::new(json!(3))),
            ("s", Fill::new(json!("x"))),
            ("o", Fill::new(json!({"k": [1]}))),
            ("none", Fill::new(Value::Null)),
        ]);
        let mut budget = 1000;
        let filled = fill(
            &json!({"a": "{{n}}", "b": "n={{n}} s={{s}} o={{o}} none={{none}}.", "c": ["{{o}}"],
                    "d": "{{s}}", "e": "{{none}}", "{{s}}": true}),
            &fills,
            &mut budget,
        );
        assert_eq!(
            filled.ok(),
            Some(
                json!({"a": 3, "b": "n=3 s=x o={\"k\":[1]} none=.", "c": [{"k": [1]}],
                        "d": "x", "e": null, "{{s}}": true})
            )
        );
        let undeclared = fill(&json!("{{zzz}}"), &fills, &mut budget).unwrap_err();
        assert_eq!(undeclared.field(), Some("body"));
    }

    #[test]
    fn the_budget_bounds_the_growth() {
        let fills = HashMap::from([("big", Fill::new(json!("x".repeat(100))))]);
        let body = json!(vec!["{{big}}"; 10]);
        let mut enough = 1000;
        assert!(fill(&body, &fills, &mut enough).is_ok());
        let mut too_little = 999;
        assert_eq!(
            fill(&body, &fills, &mut too_little).unwrap_err().field(),
            Some("arguments")
        );
    }
}

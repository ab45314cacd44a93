//! Free-form JSON, made to read back exactly and alike from both backends.
//!
//! PostgreSQL keeps JSON as `jsonb`, whose numbers are `numeric`: it drops the exponent, keeps
//! the scale and the sign of zero goes. SQLite keeps the text as given. So that both return
//! what the other would, every number is rewritten before it is stored into the text
//! PostgreSQL's `numeric` prints. With serde_json's `arbitrary_precision` feature (enabled for
//! the workspace) a number keeps its digits, so `123456789012345678901234567890` is not
//! rounded through an `f64`.

use serde_json::{Map, Number, Value};

use crate::DomainError;

/// PostgreSQL cannot store U+0000 in text or JSON, so no backend accepts it.
pub(crate) const NUL_REFUSED: &str = "must not contain the NUL character (U+0000)";

/// The largest exponent accepted, as PostgreSQL's `numeric` input (its `NUMERIC_MAX_PRECISION`).
const MAX_EXPONENT: i64 = 1000;

/// The most significant digits a number may be written with.
const MAX_DIGITS: usize = 1000;

/// `value` with every number, however deep, rewritten as PostgreSQL's `numeric` prints it:
/// no exponent (`1e2` → `100`, `1E-3` → `0.001`), the scale kept (`1.50` stays `1.50`,
/// `1.50e1` → `15.0`), no sign on zero (`-0` → `0`, `-0.0` → `0.0`), no leading zeros.
///
/// Refused, with a [`DomainError`] on `field`: a string or object key holding U+0000, and a
/// number with an exponent beyond ±1000 or more than 1000 digits.
pub fn canonical_json(field: &'static str, value: Value) -> Result<Value, DomainError> {
    Ok(match value {
        Value::Number(number) => Value::Number(canonical_number(field, &number)?),
        Value::String(text) => {
            if text.contains('\0') {
                return Err(DomainError::invalid(field, NUL_REFUSED));
            }
            Value::String(text)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| canonical_json(field, item))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut canonical = Map::new();
            for (key, item) in map {
                if key.contains('\0') {
                    return Err(DomainError::invalid(field, NUL_REFUSED));
                }
                canonical.insert(key, canonical_json(field, item)?);
            }
            Value::Object(canonical)
        }
        other @ (Value::Null | Value::Bool(_)) => other,
    })
}

fn canonical_number(field: &'static str, number: &Number) -> Result<Number, DomainError> {
    let text = canonical_number_text(number.as_str()).map_err(|why| {
        let shown: String = number.as_str().chars().take(40).collect();
        let ellipsis = if shown.len() < number.as_str().len() {
            "…"
        } else {
            ""
        };
        DomainError::invalid(field, format!("the number {shown}{ellipsis} {why}"))
    })?;
    // With `arbitrary_precision`, parsing a number keeps its text as written.
    serde_json::from_str(&text)
        .map_err(|e| DomainError::invalid(field, format!("the number {text} is invalid: {e}")))
}

/// The text of a JSON number (`-?digits[.digits][(e|E)[+-]digits]`) as PostgreSQL's `numeric`
/// prints it. The result has `max(0, fraction digits - exponent)` decimals, as `numeric` keeps.
fn canonical_number_text(raw: &str) -> Result<String, &'static str> {
    const NOT_A_NUMBER: &str = "is not a JSON number";
    const TOO_LARGE: &str = "is out of range: at most 1000 digits and an exponent within ±1000";

    let (negative, unsigned) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, parse_exponent(exponent)?),
        None => (unsigned, 0),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if integer.is_empty() || !all_digits(integer) || !all_digits(fraction) {
        return Err(NOT_A_NUMBER);
    }
    if mantissa.split_once('.').is_some() && fraction.is_empty() {
        return Err(NOT_A_NUMBER);
    }
    let digits = [integer, fraction].concat();
    if digits.len() > MAX_DIGITS || exponent.abs() > MAX_EXPONENT {
        return Err(TOO_LARGE);
    }

    // Both bounded by the checks above, so these conversions and sums cannot overflow.
    let len = i64::try_from(digits.len()).map_err(|_| TOO_LARGE)?;
    let integer_len = i64::try_from(integer.len()).map_err(|_| TOO_LARGE)?;
    // Where the decimal point falls in `digits` once the exponent is applied.
    let point = integer_len + exponent;
    let (whole, decimals) = if point <= 0 {
        let zeros = usize::try_from(-point).map_err(|_| TOO_LARGE)?;
        (String::new(), "0".repeat(zeros) + &digits)
    } else if point >= len {
        let zeros = usize::try_from(point - len).map_err(|_| TOO_LARGE)?;
        (digits.clone() + &"0".repeat(zeros), String::new())
    } else {
        let at = usize::try_from(point).map_err(|_| TOO_LARGE)?;
        (digits[..at].to_owned(), digits[at..].to_owned())
    };
    let whole = match whole.trim_start_matches('0') {
        "" => "0",
        significant => significant,
    };
    let is_zero = digits.bytes().all(|b| b == b'0');

    let mut text = String::with_capacity(whole.len() + decimals.len() + 2);
    if negative && !is_zero {
        text.push('-');
    }
    text.push_str(whole);
    if !decimals.is_empty() {
        text.push('.');
        text.push_str(&decimals);
    }
    Ok(text)
}

/// An exponent's `[+-]digits`, refused when beyond ±1000 (without overflowing on a long one).
fn parse_exponent(raw: &str) -> Result<i64, &'static str> {
    let (sign, digits) = match raw.as_bytes().first() {
        Some(b'-') => (-1, &raw[1..]),
        Some(b'+') => (1, &raw[1..]),
        _ => (1, raw),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not a JSON number");
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 4 {
        return Err("is out of range: at most 1000 digits and an exponent within ±1000");
    }
    let magnitude: i64 = significant.parse().unwrap_or(0);
    Ok(sign * magnitude)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn canonical_text(json_text: &str) -> String {
        let value: Value = serde_json::from_str(json_text).expect("valid JSON");
        let canonical = canonical_json("payload", value).expect("canonical");
        serde_json::to_string(&canonical).expect("serialize")
    }

    #[test]
    fn numbers_read_as_postgresql_prints_them() {
        assert_eq!(
            canonical_text(
                "[1e2, 1.50, -0, -0.0, 1E-3, 123456789012345678901234567890, 1.5e1, 0.000]"
            ),
            "[100,1.50,0,0.0,0.001,123456789012345678901234567890,15,0.000]"
        );
    }

    #[test]
    fn each_rule() {
        for (raw, expected) in [
            ("0", "0"),
            ("7", "7"),
            ("-7", "-7"),
            ("1.50e1", "15.0"),
            ("1.5e+1", "15"),
            ("1.5e-3", "0.0015"),
            ("-1.5E-3", "-0.0015"),
            ("12.345e1", "123.45"),
            ("0.01e2", "1"),
            ("0.010e2", "1.0"),
            ("-0e5", "0"),
            ("-0.00e1", "0.0"),
            ("0.0e-2", "0.000"),
            ("1e0", "1"),
            ("1e-0", "1"),
            ("1e007", "10000000"),
            (
                "-123456789012345678901234567890.000",
                "-123456789012345678901234567890.000",
            ),
            ("18446744073709551616", "18446744073709551616"),
        ] {
            assert_eq!(canonical_text(raw), expected, "{raw}");
        }
        assert_eq!(canonical_text("1e1000").len(), 1001);
        assert_eq!(canonical_text("1e-1000").len(), 1002);
    }

    #[test]
    fn nested_documents_are_rewritten_throughout() {
        assert_eq!(
            canonical_text(r#"{"a": {"b": [1e1, {"c": -0.0}]}, "d": [[2.50E0]], "e": "1e2"}"#),
            r#"{"a":{"b":[10,{"c":0.0}]},"d":[[2.50]],"e":"1e2"}"#
        );
    }

    #[test]
    fn absurd_numbers_are_refused_with_the_field() {
        for raw in ["1e1001", "1e-1001", "1e99999999999999999999", "-5E+100000"] {
            let value: Value = serde_json::from_str(raw).expect("valid JSON");
            let err = canonical_json("metadata", json!({ "deep": [value] })).unwrap_err();
            assert_eq!(err.field(), Some("metadata"), "{raw}");
            assert!(err.to_string().contains("out of range"), "{err}");
        }
        let long = format!("1{}", "0".repeat(1000));
        let value: Value = serde_json::from_str(&long).expect("valid JSON");
        assert!(canonical_json("payload", value).is_err());
        let longest = format!("1{}", "0".repeat(999));
        let value: Value = serde_json::from_str(&longest).expect("valid JSON");
        assert!(canonical_json("payload", value).is_ok());
    }

    #[test]
    fn numbers_built_in_code_are_rewritten_too() {
        let value = json!([1e20, -0.0, 0.1, 1e-7, u64::MAX, i64::MIN, 2.5]);
        let canonical = canonical_json("payload", value).expect("canonical");
        assert_eq!(
            serde_json::to_string(&canonical).expect("serialize"),
            "[100000000000000000000,0.0,0.1,0.0000001,18446744073709551615,-9223372036854775808,2.5]"
        );
    }

    #[test]
    fn nul_is_refused_in_strings_and_keys() {
        for value in [
            json!("a\u{0}b"),
            json!({"k": ["a\u{0}"]}),
            json!({"a\u{0}": 1}),
        ] {
            let err = canonical_json("payload", value).unwrap_err();
            assert_eq!(err, DomainError::invalid("payload", NUL_REFUSED));
        }
    }

    #[test]
    fn canonical_text_is_a_fixed_point() {
        let once = canonical_text("[1.50e1, -0.0, 1E-3, 1e2]");
        assert_eq!(canonical_text(&once), once);
    }
}

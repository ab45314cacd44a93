//! Durations in configuration: `"500ms"`, `"30s"`, `"15m"`, `"12h"`, `"30d"`, or a number of
//! seconds. Use with `#[serde(with = "orchestore_sea::serde_duration")]`.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

const UNITS: [(&str, u64); 4] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];

pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*value))
}

/// The largest unit that states the duration exactly.
pub fn format(value: Duration) -> String {
    if value.subsec_nanos() != 0 || value.is_zero() {
        return format!("{}ms", value.as_millis());
    }
    let seconds = value.as_secs();
    UNITS
        .iter()
        .find(|(_, size)| seconds.is_multiple_of(*size))
        .map_or_else(
            || format!("{seconds}s"),
            |(unit, size)| format!("{}{unit}", seconds / size),
        )
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Seconds(u64),
    Text(String),
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    match Raw::deserialize(deserializer)? {
        Raw::Seconds(seconds) => Ok(Duration::from_secs(seconds)),
        Raw::Text(text) => parse(&text).map_err(serde::de::Error::custom),
    }
}

pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let invalid = || format!("{text:?} is not a duration such as 500ms, 30s, 15m, 12h or 30d");
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let unit = unit.trim();
    if unit == "ms" {
        return Ok(Duration::from_millis(number));
    }
    let size = match unit {
        "" => 1,
        _ => UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, size)| *size)
            .ok_or_else(invalid)?,
    };
    number
        .checked_mul(size)
        .map(Duration::from_secs)
        .ok_or_else(invalid)
}

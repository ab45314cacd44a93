//! The constrained values of the telemetry records: labels (kinds, names, sources), measured
//! numbers, tags and resource figures, and the text enums.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::DomainError;

/// Declares a label: 1 to `$max` ASCII letters, digits and `_ . - : /`, trimmed, for names
/// that dashboards group and filter by (`http.latency_ms`, `task.completed`, `scheduler`).
macro_rules! label {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                label_text($field, raw, Self::MAX_CHARS).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        deserialize_by_parse!($name, String, |raw| $name::parse(&raw));

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
    };
}

fn label_text(field: &'static str, raw: &str, max: usize) -> Result<String, DomainError> {
    let value = raw.trim();
    let valid = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':' | b'/'));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(DomainError::invalid(
            field,
            format!("must be 1 to {max} of A-Z, a-z, 0-9, '_', '.', '-', ':', '/'"),
        ))
    }
}

/// Trimmed text of 1 to `max` characters without control characters.
pub(crate) fn plain_text(
    field: &'static str,
    raw: &str,
    max: usize,
) -> Result<String, DomainError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters, got {chars}"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

label!(
    /// What happened, e.g. `task.completed` or `deploy.started`.
    EventKind, "kind", 100
);
label!(
    /// Who reported an event or raised an alert: a component's name by convention
    /// (`scheduler`, `agent:planner`), not required to be registered.
    SourceName, "source", 100
);
label!(
    /// Ties together the events of one request or run.
    CorrelationId, "correlation_id", 200
);
label!(
    /// A metric's name, e.g. `http.latency_ms`.
    MetricName, "name", 100
);
label!(
    /// A metric's unit, e.g. `ms`, `bytes`, `percent`.
    MetricUnit, "unit", 32
);
label!(
    /// What a component is, e.g. `api`, `worker`, `database`.
    ComponentKind, "kind", 64
);
label!(
    /// A component's version, e.g. `1.4.2` or `2026-11-27.3`.
    ComponentVersion, "version", 64
);
label!(
    /// What one component asked of another, e.g. `http.post` or `task.claim`.
    CommunicationKind, "kind", 100
);

/// Where a component is reached: a URL or `host:port`, 1 to 2,000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Endpoint(String);

deserialize_by_parse!(Endpoint, String, |raw| Endpoint::parse(&raw));

impl Endpoint {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = plain_text("endpoint", raw, Self::MAX_CHARS)?;
        if value.chars().any(char::is_whitespace) {
            return Err(DomainError::invalid(
                "endpoint",
                "must not contain whitespace",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A measured number: finite (no NaN or infinity, which neither backend orders alike).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Measure(f64);

deserialize_by_parse!(Measure, f64, |raw| Measure::parse("value", raw));

impl Measure {
    pub fn parse(field: &'static str, raw: f64) -> Result<Self, DomainError> {
        if raw.is_finite() {
            // -0.0 and 0.0 are one value; PostgreSQL prints the sign, SQLite may not.
            Ok(Self(if raw == 0.0 { 0.0 } else { raw }))
        } else {
            Err(DomainError::invalid(field, "must be a finite number"))
        }
    }

    /// A measure that cannot be negative (a latency, a size, a resource figure).
    pub fn parse_non_negative(field: &'static str, raw: f64) -> Result<Self, DomainError> {
        let value = Self::parse(field, raw)?;
        if value.0 < 0.0 {
            return Err(DomainError::invalid(field, "must not be negative"));
        }
        Ok(value)
    }

    pub const fn get(self) -> f64 {
        self.0
    }
}

/// Labels of a metric sample: at most 16 pairs, each key a label of up to 64 characters, each
/// value 1 to 200 characters of text. Kept sorted by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct MetricTags(BTreeMap<String, String>);

deserialize_by_parse!(MetricTags, BTreeMap<String, String>, MetricTags::parse);

impl MetricTags {
    pub const MAX: usize = 16;

    pub fn parse(raw: BTreeMap<String, String>) -> Result<Self, DomainError> {
        if raw.len() > Self::MAX {
            return Err(DomainError::invalid(
                "tags",
                format!("at most {} tags", Self::MAX),
            ));
        }
        let mut tags = BTreeMap::new();
        for (key, value) in raw {
            let key = label_text("tags", &key, 64)?;
            let value = plain_text("tags", &value, 200)?;
            tags.insert(key, value);
        }
        Ok(Self(tags))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }
}

/// What a component uses of its resources at a health check, e.g. `{"cpu_percent": 12.5,
/// "memory_bytes": 104857600}`: at most 32 figures, each named by a label of up to 64
/// characters and not negative.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ResourceUse(BTreeMap<String, f64>);

deserialize_by_parse!(ResourceUse, BTreeMap<String, f64>, ResourceUse::parse);

impl ResourceUse {
    pub const MAX: usize = 32;

    pub fn parse(raw: BTreeMap<String, f64>) -> Result<Self, DomainError> {
        if raw.len() > Self::MAX {
            return Err(DomainError::invalid(
                "resources",
                format!("at most {} figures", Self::MAX),
            ));
        }
        let mut figures = BTreeMap::new();
        for (name, value) in raw {
            let name = label_text("resources", &name, 64)?;
            let value = Measure::parse_non_negative("resources", value)?;
            figures.insert(name, value.get());
        }
        Ok(Self(figures))
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }
}

/// Declares a closed set of codes: the enum, `ALL`, `as_str`, `Display`, `FromStr` (an unknown
/// code is a [`DomainError`] on `$field`) and serialization as the code.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident = $code:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant,)+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::DomainError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let codes: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    $crate::DomainError::invalid(
                        $field,
                        format!("{s:?} is not one of {}", codes.join(", ")),
                    )
                })
            }
        }
    };
}
pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_and_bounded() {
        assert_eq!(
            MetricName::parse(" http.latency_ms ").map(|n| n.as_str().to_owned()),
            Ok("http.latency_ms".to_owned())
        );
        assert_eq!(MetricName::parse("").unwrap_err().field(), Some("name"));
        assert_eq!(MetricName::parse("a b").unwrap_err().field(), Some("name"));
        assert!(MetricUnit::parse(&"x".repeat(32)).is_ok());
        assert!(MetricUnit::parse(&"x".repeat(33)).is_err());
        assert_eq!(
            SourceName::parse("agent:planner/1").map(|s| s.to_string()),
            Ok("agent:planner/1".to_owned())
        );
    }

    #[test]
    fn measures_are_finite() {
        assert!(Measure::parse("value", f64::NAN).is_err());
        assert!(Measure::parse("value", f64::INFINITY).is_err());
        assert_eq!(Measure::parse("value", -0.0).map(Measure::get), Ok(0.0));
        assert_eq!(
            Measure::parse_non_negative("latency_ms", -1.0)
                .unwrap_err()
                .field(),
            Some("latency_ms")
        );
    }

    #[test]
    fn tags_and_resources_are_bounded() {
        let tags =
            MetricTags::parse(BTreeMap::from([("region".into(), " eu-1 ".into())])).expect("tags");
        assert_eq!(tags.iter().collect::<Vec<_>>(), vec![("region", "eu-1")]);
        let many: BTreeMap<String, String> =
            (0..17).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert!(MetricTags::parse(many).is_err());
        assert!(MetricTags::parse(BTreeMap::from([("bad key".into(), "v".into())])).is_err());
        let use_ =
            ResourceUse::parse(BTreeMap::from([("cpu_percent".into(), 12.5)])).expect("resources");
        assert_eq!(use_.get("cpu_percent"), Some(12.5));
        assert!(ResourceUse::parse(BTreeMap::from([("cpu".into(), -1.0)])).is_err());
    }

    #[test]
    fn endpoints_have_no_whitespace() {
        assert!(Endpoint::parse("http://10.0.0.1:8080/health").is_ok());
        assert!(Endpoint::parse("http://a b").is_err());
        assert!(Endpoint::parse("  ").is_err());
    }
}

//! A field of a PATCH body: left out, set to `null`, or given a value.

use orchestore_domain::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A field of a PATCH body: left out, set to `null`, or given a value. Plain `Option` would
/// not tell "leave it" from "clear it". A body's field carries
/// `#[serde(default, skip_serializing_if = "PatchField::is_absent")]`, so that an absent field
/// is neither required when read nor written when sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PatchField<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> PatchField<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    /// For a field that cannot be cleared: `null` is refused, a value goes through `parse`.
    pub fn parse_required<U>(
        self,
        field: &'static str,
        parse: impl FnOnce(T) -> Result<U, DomainError>,
    ) -> Result<Option<U>, DomainError> {
        match self {
            Self::Absent => Ok(None),
            Self::Null => Err(DomainError::invalid(field, "must not be null")),
            Self::Value(value) => parse(value).map(Some),
        }
    }

    /// For a nullable field: `Some(None)` clears it, a value goes through `parse`.
    pub fn parse_nullable<U>(
        self,
        parse: impl FnOnce(T) -> Result<U, DomainError>,
    ) -> Result<Option<Option<U>>, DomainError> {
        match self {
            Self::Absent => Ok(None),
            Self::Null => Ok(Some(None)),
            Self::Value(value) => parse(value).map(|value| Some(Some(value))),
        }
    }
}

impl<T> From<T> for PatchField<T> {
    fn from(value: T) -> Self {
        Self::Value(value)
    }
}

// Only called when the key is present (the field carries `#[serde(default)]`).
impl<'de, T: Deserialize<'de>> Deserialize<'de> for PatchField<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|value| value.map_or(Self::Null, Self::Value))
    }
}

// An absent field is skipped by `skip_serializing_if`; were it written, it would be `null`.
impl<T: Serialize> Serialize for PatchField<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Absent | Self::Null => serializer.serialize_none(),
            Self::Value(value) => serializer.serialize_some(value),
        }
    }
}

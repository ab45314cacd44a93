//! Reading constrained values from JSON: through their parsers, never around them.

/// Implements `Deserialize` for the constrained value `$ty` through its parser: its wire form
/// `$raw` is read, then `$parse` checks it, so that a value read from JSON (a client reading
/// the server's answer, an embedder reading its own files) holds the same invariants as one
/// built in code. A value the parser refuses is a deserialization error naming the reason.
macro_rules! deserialize_by_parse {
    ($ty:ty, $raw:ty, $parse:expr) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let parse: fn($raw) -> Result<$ty, crate::DomainError> = $parse;
                let raw = <$raw as serde::Deserialize>::deserialize(deserializer)?;
                parse(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

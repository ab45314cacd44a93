use std::fmt;

use serde::Serialize;

use crate::DomainError;

/// Declares a short trimmed text newtype: 1 to 200 characters, no control characters (so no
/// U+0000, which PostgreSQL cannot store).
macro_rules! short_text {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = 200;

            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                let value = raw.trim();
                if value.is_empty() {
                    return Err(DomainError::invalid($field, "must not be empty"));
                }
                let chars = value.chars().count();
                if chars > Self::MAX_CHARS {
                    return Err(DomainError::invalid(
                        $field,
                        format!("must be at most {} characters, got {chars}", Self::MAX_CHARS),
                    ));
                }
                if value.chars().any(char::is_control) {
                    return Err(DomainError::invalid(
                        $field,
                        "must not contain control characters",
                    ));
                }
                Ok(Self(value.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

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

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        deserialize_by_parse!($name, String, |raw| $name::parse(&raw));
    };
}

short_text!(
    /// The model an AI agent runs, e.g. `claude-sonnet-4`: trimmed, 1 to 200 characters.
    ModelName,
    "model"
);

short_text!(
    /// Who serves the model, e.g. `anthropic`: trimmed, 1 to 200 characters.
    ProviderName,
    "provider"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            ModelName::parse("  claude-sonnet-4 ").map(ModelName::into_string),
            Ok("claude-sonnet-4".into())
        );
        assert!(ModelName::parse(&"é".repeat(200)).is_ok());
        let too_long = ModelName::parse(&"é".repeat(201)).unwrap_err();
        assert_eq!(too_long.field(), Some("model"));
        assert_eq!(
            ProviderName::parse("  ").unwrap_err().field(),
            Some("provider")
        );
        assert!(ProviderName::parse("a\0b").is_err());
        assert!(serde_json::from_str::<ProviderName>("\" openai \"").is_ok());
        assert!(serde_json::from_str::<ProviderName>("\"\"").is_err());
    }
}

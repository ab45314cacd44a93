use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::DomainError;
use crate::json::{NUL_REFUSED, canonical_json};

/// Declares a string newtype whose only constructor is `parse`.
macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
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
    };
}

/// `raw` made canonical (see [`canonical_json`]) and checked against a size limit.
fn checked_json(
    field: &'static str,
    raw: serde_json::Value,
    max_bytes: usize,
) -> Result<serde_json::Value, DomainError> {
    let value = canonical_json(field, raw)?;
    let size = serde_json::to_vec(&value).map_or(usize::MAX, |bytes| bytes.len());
    if size > max_bytes {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max_bytes} bytes of JSON"),
        ));
    }
    Ok(value)
}

fn trimmed_within(field: &'static str, raw: &str, max_chars: usize) -> Result<String, DomainError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max_chars} characters, got {chars}"),
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

string_value!(
    /// A task title: trimmed, 1 to 500 characters, no control characters.
    Title
);

deserialize_by_parse!(Title, String, |raw| Title::parse(&raw));

impl Title {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        trimmed_within("title", raw, Self::MAX_CHARS).map(Self)
    }
}

string_value!(
    /// A display name (organization, project, user): trimmed, 1 to 200 characters, kept in
    /// Unicode NFC so that two spellings of the same text (`café` typed precomposed or as `e`
    /// and a combining accent) are stored and displayed alike. Names compare by [`Name::key`].
    Name
);

deserialize_by_parse!(Name, String, |raw| Name::parse("name", &raw));

impl Name {
    pub const MAX_CHARS: usize = 200;

    /// Normalises `raw` to NFC, then trims it and checks its length (counted in NFC
    /// characters) and that it holds no control characters.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        let nfc: String = raw.nfc().collect();
        trimmed_within(field, &nfc, Self::MAX_CHARS).map(Self)
    }

    /// The form in which names are compared for uniqueness: NFKC, then lower-cased, so that
    /// `DUP` and `dup`, or `café` in either spelling, are the same name.
    ///
    /// This exact definition, `self.as_str().nfkc().collect::<String>().to_lowercase()`, is also
    /// written into the migration that fills the `name_key` column (unique per organization):
    /// the two must never differ, so do not change one without a new migration for the other.
    pub fn key(&self) -> String {
        self.as_str().nfkc().collect::<String>().to_lowercase()
    }
}

string_value!(
    /// Free text (task or project description), at most 20,000 characters; may be empty.
    Description
);

deserialize_by_parse!(Description, String, |raw| {
    Description::parse("description", &raw)
});

impl Description {
    pub const MAX_CHARS: usize = 20_000;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        if raw.contains('\0') {
            return Err(DomainError::invalid(field, NUL_REFUSED));
        }
        let chars = raw.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                field,
                format!(
                    "must be at most {} characters, got {chars}",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn empty() -> Self {
        Self(String::new())
    }
}

string_value!(
    /// A URL-safe identifier: 1 to 63 of `a-z`, `0-9` and `-`, not starting or ending with `-`.
    Slug
);

deserialize_by_parse!(Slug, String, |raw| Slug::parse("slug", &raw));

impl Slug {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim();
        let valid_chars = value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if value.is_empty()
            || value.len() > 63
            || !valid_chars
            || value.starts_with('-')
            || value.ends_with('-')
        {
            return Err(DomainError::invalid(
                field,
                "must be 1 to 63 of a-z, 0-9 and '-', not starting or ending with '-'",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

string_value!(
    /// An email address, trimmed and lower-cased so that uniqueness ignores case.
    Email
);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim().to_lowercase();
        let well_formed = value.len() <= 254
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            });
        if !well_formed {
            return Err(DomainError::invalid(
                "email",
                "must be an address of the form name@domain",
            ));
        }
        Ok(Self(value))
    }
}

string_value!(
    /// A capability an agent offers and a task requires: 1 to 64 of `a-z`, `0-9`, `_`, `-`,
    /// `.`, `:`.
    Capability
);

deserialize_by_parse!(Capability, String, |raw| Capability::parse(&raw));

impl Capability {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim();
        let valid = !value.is_empty()
            && value.len() <= 64
            && value.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'_' | b'-' | b'.' | b':')
            });
        if !valid {
            return Err(DomainError::invalid(
                "required_capabilities",
                format!("{raw:?} is not a capability (1 to 64 of a-z, 0-9, '_', '-', '.', ':')"),
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

/// A set of capabilities, sorted and without duplicates, at most 64 of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Capabilities(BTreeSet<Capability>);

deserialize_by_parse!(Capabilities, Vec<String>, |raw| {
    Capabilities::parse(&raw)
});

impl Capabilities {
    pub const MAX: usize = 64;

    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, DomainError> {
        let set = raw
            .iter()
            .map(|c| Capability::parse(c.as_ref()))
            .collect::<Result<BTreeSet<_>, _>>()?;
        if set.len() > Self::MAX {
            return Err(DomainError::invalid(
                "required_capabilities",
                format!("at most {} capabilities", Self::MAX),
            ));
        }
        Ok(Self(set))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Capability> {
        self.0.iter()
    }

    pub fn is_subset_of(&self, other: &Capabilities) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|c| c.as_str().to_owned()).collect()
    }
}

/// Free-form tags on a project or a task: each 1 to 64 characters, trimmed, at most 64 of them,
/// deduplicated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Tags(BTreeSet<String>);

deserialize_by_parse!(Tags, Vec<String>, |raw| Tags::parse(&raw));

impl Tags {
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, DomainError> {
        let set = raw
            .iter()
            .map(|t| trimmed_within("tags", t.as_ref(), 64))
            .collect::<Result<BTreeSet<_>, _>>()?;
        if set.len() > 64 {
            return Err(DomainError::invalid("tags", "at most 64 tags"));
        }
        Ok(Self(set))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }
}

/// Scheduling priority: higher runs first. Bounded so that clients cannot starve each other
/// with extreme values.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct Priority(i32);

deserialize_by_parse!(Priority, i64, Priority::parse);

impl Priority {
    pub const MIN: i32 = -1_000_000;
    pub const MAX: i32 = 1_000_000;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        match i32::try_from(raw) {
            Ok(value) if (Self::MIN..=Self::MAX).contains(&value) => Ok(Self(value)),
            _ => Err(DomainError::invalid(
                "priority",
                format!("must be between {} and {}", Self::MIN, Self::MAX),
            )),
        }
    }

    pub const fn get(self) -> i32 {
        self.0
    }
}

/// A JSON object of caller-defined keys, at most 64 KiB serialized, its numbers made canonical
/// by [`canonical_json`] so that it reads back the same from either backend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Metadata(serde_json::Map<String, serde_json::Value>);

deserialize_by_parse!(Metadata, serde_json::Value, |raw| {
    Metadata::parse("metadata", raw)
});

impl Metadata {
    pub const MAX_BYTES: usize = 64 * 1024;

    pub fn parse(field: &'static str, raw: serde_json::Value) -> Result<Self, DomainError> {
        let serde_json::Value::Object(map) = checked_json(field, raw, Self::MAX_BYTES)? else {
            return Err(DomainError::invalid(field, "must be a JSON object"));
        };
        Ok(Self(map))
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::Value::Object(self.0.clone())
    }
}

/// A task's input or output: any JSON document (`null` included), at most 4 MiB serialized (the
/// hard maximum; stores keep a large one out of the task's row), its numbers made canonical by
/// [`canonical_json`] so that it reads back the same from either backend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Payload(serde_json::Value);

deserialize_by_parse!(Payload, serde_json::Value, Payload::parse);

impl Payload {
    pub const MAX_BYTES: usize = 4 * 1024 * 1024;

    pub fn parse(raw: serde_json::Value) -> Result<Self, DomainError> {
        checked_json("payload", raw, Self::MAX_BYTES).map(Self)
    }

    pub fn as_value(&self) -> &serde_json::Value {
        &self.0
    }

    pub fn into_value(self) -> serde_json::Value {
        self.0
    }
}

deserialize_by_parse!(Email, String, |raw| Email::parse(&raw));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_and_bounded() {
        assert_eq!(
            Title::parse("  fix it ").map(Title::into_string),
            Ok("fix it".into())
        );
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"x".repeat(500)).is_ok());
        let too_long = Title::parse(&"é".repeat(501)).unwrap_err();
        assert_eq!(too_long.field(), Some("title"));
    }

    #[test]
    fn names_are_nfc_and_compare_by_key() {
        let precomposed = Name::parse("name", "café").expect("name");
        let combining = Name::parse("name", "cafe\u{301}").expect("name");
        assert_eq!(precomposed.key(), combining.key());
        assert_eq!(precomposed, combining);
        assert_eq!(combining.as_str(), "caf\u{e9}");
        let upper = Name::parse("name", "DUP").expect("name");
        let lower = Name::parse("name", "dup").expect("name");
        assert_ne!(upper, lower);
        assert_eq!(upper.key(), lower.key());
        assert_eq!(upper.key(), "dup");
        // NFKC folds compatibility forms: the ligature and full-width letters.
        let ligature = Name::parse("name", "\u{fb01}le").expect("name");
        assert_eq!(ligature.as_str(), "\u{fb01}le");
        assert_eq!(ligature.key(), "file");
        assert_eq!(
            Name::parse("name", "\u{ff21}cme").expect("name").key(),
            "acme"
        );
        assert_eq!(Name::parse("name", "Straße").expect("name").key(), "straße");
    }

    #[test]
    fn email_is_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Ada@Example.ORG ").map(Email::into_string),
            Ok("ada@example.org".into())
        );
        for bad in ["", "ada", "@x", "a@", "a b@x", "a@b@c"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn capabilities_are_sorted_sets() {
        let caps = Capabilities::parse(&["rust", "code.review", "rust"]).unwrap_or_default();
        assert_eq!(
            caps.to_strings(),
            vec!["code.review".to_owned(), "rust".to_owned()]
        );
        assert!(Capabilities::parse(&["Has Space"]).is_err());
        let needed = Capabilities::parse(&["rust"]).unwrap_or_default();
        assert!(needed.is_subset_of(&caps));
    }

    #[test]
    fn priority_is_bounded() {
        assert_eq!(Priority::parse(5).map(Priority::get), Ok(5));
        assert!(Priority::parse(i64::from(Priority::MAX) + 1).is_err());
        assert!(Priority::parse(i64::MIN).is_err());
    }

    #[test]
    fn slug_and_metadata() {
        assert!(Slug::parse("slug", "acme-2").is_ok());
        assert!(Slug::parse("slug", "-acme").is_err());
        assert!(Slug::parse("slug", "Acme").is_err());
        assert!(Metadata::parse("metadata", serde_json::json!({"a": 1})).is_ok());
        assert!(Metadata::parse("metadata", serde_json::json!([1])).is_err());
    }

    #[test]
    fn free_json_is_canonical() {
        let payload = Payload::parse(serde_json::json!({
            "n": [1e2, -0.0, 1.5, 1e-3, 42],
            "deep": {"x": [{"y": 1e21}]},
        }))
        .expect("payload");
        assert_eq!(
            serde_json::to_string(&payload.into_value()).expect("serialize"),
            r#"{"deep":{"x":[{"y":1000000000000000000000}]},"n":[100.0,0.0,1.5,0.001,42]}"#
        );
        let raw: serde_json::Value =
            serde_json::from_str(r#"{"big": 123456789012345678901234567890, "s": 1.50e1}"#)
                .expect("json");
        let metadata = Metadata::parse("metadata", raw).expect("metadata");
        assert_eq!(
            serde_json::to_string(&metadata).expect("serialize"),
            r#"{"big":123456789012345678901234567890,"s":15.0}"#
        );
        let huge: serde_json::Value = serde_json::from_str("[1e5000]").expect("json");
        assert_eq!(Payload::parse(huge).unwrap_err().field(), Some("payload"));
        let huge: serde_json::Value = serde_json::from_str(r#"{"a": -1e-5000}"#).expect("json");
        assert_eq!(
            Metadata::parse("settings", huge).unwrap_err().field(),
            Some("settings")
        );
    }

    #[test]
    fn nul_is_refused_everywhere() {
        let nul = serde_json::json!({"k": ["a\u{0}b"]});
        assert_eq!(
            Payload::parse(nul.clone()).unwrap_err().field(),
            Some("payload")
        );
        assert!(Metadata::parse("metadata", nul).is_err());
        assert!(Metadata::parse("metadata", serde_json::json!({"a\u{0}": 1})).is_err());
        assert!(Description::parse("description", "a\0b").is_err());
        assert!(Title::parse("a\0b").is_err());
        assert!(Payload::parse(serde_json::json!(null)).is_ok());
    }
}

/// How many times a row has been written: 1 when it is created, one more with every write of
/// it. Clients send it back (HTTP `If-Match`) to change the row only if nobody else has since.
/// (Named so because components and workflow executions have a `version` of another meaning.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Revision(i64);

deserialize_by_parse!(Revision, i64, Revision::parse);

impl Revision {
    /// The revision of a row just created.
    pub const FIRST: Self = Self(1);

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        if raw >= 1 {
            Ok(Self(raw))
        } else {
            Err(DomainError::invalid("revision", "must be 1 or more"))
        }
    }

    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An organization's settings of one kind (its ranks, its leaderboard weights) with the
/// revision they are at. Settings never written are the defaults at [`Revision::FIRST`]; the
/// first write makes them revision 2, so that a client holding the defaults' revision cannot
/// overwrite another's first write unknowingly.
#[derive(Debug, Clone, PartialEq)]
pub struct Revised<T> {
    pub value: T,
    pub revision: Revision,
}

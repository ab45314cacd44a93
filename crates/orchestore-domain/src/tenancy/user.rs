use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DomainError, Email, Name, OrganizationId, PasswordHash, Revision, RoleCode, UserId};

/// A person who logs in. The password hash is not part of it: it never leaves the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub organization_id: OrganizationId,
    pub email: Email,
    /// An optional handle, unique in the organization.
    pub username: Option<Username>,
    pub display_name: Name,
    /// A deactivated user cannot log in or refresh a session.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub username: Option<Username>,
    pub display_name: Name,
    pub password_hash: PasswordHash,
    /// The codes of the roles to grant: system roles, or custom roles of the organization.
    pub roles: Vec<RoleCode>,
}

/// The fields of a user a PATCH may change; `None` leaves a field as it is. Whether the user is
/// active changes through its own call, which guards the organization's last owner.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<Name>,
    /// `Some(None)` clears the username.
    pub username: Option<Option<Username>>,
}

impl UserPatch {
    pub fn is_empty(&self) -> bool {
        self.display_name.is_none() && self.username.is_none()
    }
}

/// A user's handle: 1 to 64 of `a-z`, `0-9`, `.`, `_` and `-`, trimmed and lower-cased, so
/// that uniqueness ignores case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        // ASCII lower-casing only: a non-ASCII letter that lower-cases to ASCII (the Kelvin
        // sign to `k`) stays non-ASCII and is refused rather than silently turned into another.
        let value = raw.trim().to_ascii_lowercase();
        let valid = !value.is_empty()
            && value.len() <= Self::MAX_CHARS
            && value.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if !valid {
            return Err(DomainError::invalid(
                "username",
                format!(
                    "must be 1 to {} of a-z, 0-9, '.', '_' and '-'",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

deserialize_by_parse!(Username, String, |raw| Username::parse(&raw));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_cased_and_bounded() {
        assert_eq!(
            Username::parse("  Ada.Lovelace_1-x ").map(Username::into_string),
            Ok("ada.lovelace_1-x".into())
        );
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        for bad in [
            "",
            "   ",
            "ada lovelace",
            "ada@home",
            "\u{212A}ate",
            &"a".repeat(65),
        ] {
            let err = Username::parse(bad).expect_err(bad);
            assert_eq!(err.field(), Some("username"), "{bad:?}");
        }
        assert_eq!(
            serde_json::from_str::<Username>("\"ADA\"")
                .ok()
                .map(Username::into_string),
            Some("ada".into())
        );
    }

    #[test]
    fn patches_know_when_they_are_empty() {
        assert!(UserPatch::default().is_empty());
        let clear = UserPatch {
            username: Some(None),
            ..UserPatch::default()
        };
        assert!(!clear.is_empty());
    }
}

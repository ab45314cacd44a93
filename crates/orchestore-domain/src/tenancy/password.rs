use std::fmt;

use crate::DomainError;

/// A plain-text password on its way to being hashed or checked. Its `Debug` is redacted and it
/// is never serialized.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    /// bcrypt reads at most 72 bytes; a longer password would be silently truncated.
    pub const MAX_BYTES: usize = 72;

    /// A password for a new account: 8 characters to 72 bytes.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(DomainError::invalid(
                "password",
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(DomainError::invalid(
                "password",
                format!("must be at most {} bytes", Self::MAX_BYTES),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A password offered at login: not checked against the rules for new ones, so that a
    /// wrong password and an unknown account look alike.
    pub fn offered(raw: &str) -> Self {
        Self(raw.to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A bcrypt hash. Hashing and verifying are CPU-bound: call them from a blocking thread.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// The production cost. Tests pass a lower one (`bcrypt::MIN_COST` is 4).
    pub const DEFAULT_COST: u32 = 12;

    pub fn hash(password: &Password, cost: u32) -> Result<Self, DomainError> {
        bcrypt::hash(password.expose(), cost)
            .map(Self)
            .map_err(|e| DomainError::invalid("password", e.to_string()))
    }

    /// Wraps a stored hash, checking that it is a bcrypt hash.
    pub fn from_stored(stored: String) -> Result<Self, DomainError> {
        if stored.starts_with("$2") && stored.len() == 60 {
            Ok(Self(stored))
        } else {
            Err(DomainError::invalid("password_hash", "not a bcrypt hash"))
        }
    }

    /// A hash at `cost` that stands in for an unknown account, so that checking a password
    /// against it takes as long as against a real one. No account has it.
    pub fn decoy(cost: u32) -> Result<Self, DomainError> {
        Self::hash(&Password::offered("orchestore decoy password"), cost)
    }

    pub fn verify(&self, password: &Password) -> bool {
        bcrypt::verify(password.expose(), &self.0).unwrap_or(false)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_and_redacts() {
        let password = Password::parse("correct horse").expect("password");
        let hash = PasswordHash::hash(&password, 4).expect("hash");
        assert!(hash.verify(&password));
        assert!(!hash.verify(&Password::offered("wrong horse")));
        assert!(!PasswordHash::decoy(4).expect("decoy").verify(&password));
        assert_eq!(
            format!("{password:?} {hash:?}"),
            "Password(<redacted>) PasswordHash(<redacted>)"
        );
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(73)).is_err());
    }
}

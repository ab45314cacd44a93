use std::fmt;

use crate::DomainError;

/// Passwords too common to accept, whatever their length: one per line, lower-cased.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// A plain-text password on its way to being hashed or checked. Its `Debug` is redacted and it
/// is never serialized.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    /// bcrypt reads at most 72 bytes; a longer password would be silently truncated, so it is
    /// refused when set and never matches when offered.
    pub const MAX_BYTES: usize = 72;

    /// A new password that meets the policy: 8 characters to 72 bytes, and not one of the
    /// common passwords shipped with the binary (compared ignoring case).
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
        if is_common(raw) {
            return Err(DomainError::invalid(
                "password",
                "is one of the most common passwords: choose another",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A new password for the account with this e-mail address: the policy of
    /// [`Password::parse`], and neither the address nor its local part.
    pub fn for_account(raw: &str, email: &crate::Email) -> Result<Self, DomainError> {
        let password = Self::parse(raw)?;
        let lowered = raw.trim().to_lowercase();
        let address = email.as_str().to_lowercase();
        let local_part = address.split('@').next().unwrap_or_default();
        if lowered == address || lowered == local_part {
            return Err(DomainError::invalid(
                "password",
                "must not be the e-mail address",
            ));
        }
        Ok(password)
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

fn is_common(raw: &str) -> bool {
    let lowered = raw.to_lowercase();
    COMMON_PASSWORDS
        .lines()
        .filter(|line| !line.starts_with('#'))
        .any(|common| common == lowered)
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

    /// Whether `password` is the one hashed. A password longer than bcrypt reads never matches
    /// (otherwise any suffix after the 72nd byte of the right one would log in); it still costs
    /// the same work, so its length tells nothing either.
    pub fn verify(&self, password: &Password) -> bool {
        let matches = bcrypt::verify(password.expose(), &self.0).unwrap_or(false);
        matches && password.expose().len() <= Password::MAX_BYTES
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

    #[test]
    fn bytes_past_the_72nd_do_not_log_in() {
        let exact = "a".repeat(Password::MAX_BYTES);
        let password = Password::parse(&exact).expect("72 bytes");
        let hash = PasswordHash::hash(&password, 4).expect("hash");
        assert!(hash.verify(&Password::offered(&exact)));
        assert!(!hash.verify(&Password::offered(&format!("{exact}anything"))));
        assert!(!hash.verify(&Password::offered(&format!("{exact}a"))));
    }

    #[test]
    fn the_policy_refuses_common_passwords_and_the_email() {
        let email = crate::Email::parse("Ada.Lovelace@example.org").expect("email");
        for common in ["password123", "QWERTYUIOP", "Summer2026", "iloveyou1"] {
            let err = Password::parse(common).expect_err(common);
            assert!(err.to_string().contains("common"), "{common}: {err}");
        }
        for own in ["ada.lovelace@example.org", "ADA.LOVELACE", " ada.lovelace "] {
            assert!(Password::for_account(own, &email).is_err(), "{own}");
        }
        assert!(Password::for_account("lovelace analytical engine", &email).is_ok());
        // The list holds nothing shorter than the minimum, which length refuses anyway.
        assert!(
            COMMON_PASSWORDS
                .lines()
                .filter(|line| !line.starts_with('#'))
                .all(|line| line.chars().count() >= Password::MIN_CHARS
                    && line == line.to_lowercase())
        );
    }
}

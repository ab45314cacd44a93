//! Invitations: a one-time link by which one person joins an organization with the roles the
//! inviter chose.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{DomainError, Email, InvitationId, OrganizationId, RoleCode, UserId};

/// An invitation as stored: never its token, only the token's hash, which stays in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: InvitationId,
    pub organization_id: OrganizationId,
    /// The address the new user gets: the person accepting cannot choose another.
    pub email: Email,
    /// The codes of the roles the new user gets, sorted. A custom role deleted since the
    /// invitation was issued is no longer among them.
    pub roles: Vec<RoleCode>,
    /// Who issued it (`user:<id>`).
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// The user the acceptance created.
    pub accepted_user_id: Option<UserId>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Invitation {
    /// Whether it can still be accepted at `now`: neither accepted, nor revoked, nor expired.
    pub fn is_pending(&self, now: DateTime<Utc>) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }
}

/// An invitation just issued, with the token that is shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuedInvitation {
    #[serde(flatten)]
    pub invitation: Invitation,
    /// `osi_…`: what the link carries; it cannot be read again.
    pub token: InvitationToken,
}

/// The token of an invitation: `osi_` and the URL-safe base64 of 32 random bytes. It names no
/// organization; the store finds the invitation by its SHA-256. `Debug` shows no part of it;
/// [`InvitationToken::expose`] gives it.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken(String);

impl InvitationToken {
    const PREFIX: &'static str = "osi_";
    const RANDOM_BYTES: usize = 32;

    /// The token made of 32 random bytes the caller draws.
    pub fn new(random: [u8; 32]) -> Self {
        Self(format!(
            "{}{}",
            Self::PREFIX,
            URL_SAFE_NO_PAD.encode(random)
        ))
    }

    /// Reads a presented token; `None` when it is not one (no detail: the caller answers as
    /// for an unknown token).
    pub fn parse(raw: &str) -> Option<Self> {
        let encoded = raw.strip_prefix(Self::PREFIX)?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        (bytes.len() == Self::RANDOM_BYTES).then(|| Self(raw.to_owned()))
    }

    /// The SHA-256 of the whole token, in hex: what is stored and compared. The token is 256
    /// random bits, so a fast hash is safe.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvitationToken(<redacted>)")
    }
}

/// Shown once, in the response that issues it.
impl Serialize for InvitationToken {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

deserialize_by_parse!(InvitationToken, String, |raw| {
    InvitationToken::parse(&raw)
        .ok_or_else(|| DomainError::invalid("token", "is not an invitation token (osi_…)"))
});

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_token_parses_back_hashes_and_hides_in_debug() {
        let token = InvitationToken::new([7; 32]);
        assert!(token.expose().starts_with("osi_"));
        let parsed = InvitationToken::parse(token.expose()).expect("a token");
        assert_eq!(parsed.hash(), token.hash());
        assert_eq!(token.hash().len(), 64);
        assert_ne!(InvitationToken::new([8; 32]).hash(), token.hash());
        assert!(!format!("{token:?}").contains(&token.expose()[4..]));
        for bad in ["", "osi_", "osi_!!", "osk_abc", &token.expose()[..40]] {
            assert!(InvitationToken::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn pending_means_neither_accepted_revoked_nor_expired() {
        let now = Utc::now();
        let invitation = Invitation {
            id: InvitationId::new(),
            organization_id: OrganizationId::new(),
            email: Email::parse("ada@example.org").expect("email"),
            roles: Vec::new(),
            invited_by: "system".to_owned(),
            created_at: now,
            expires_at: now + Duration::days(7),
            accepted_at: None,
            accepted_user_id: None,
            revoked_at: None,
        };
        assert!(invitation.is_pending(now));
        assert!(!invitation.is_pending(now + Duration::days(7)));
        let revoked = Invitation {
            revoked_at: Some(now),
            ..invitation.clone()
        };
        assert!(!revoked.is_pending(now));
        let accepted = Invitation {
            accepted_at: Some(now),
            accepted_user_id: Some(UserId::new()),
            ..invitation
        };
        assert!(!accepted.is_pending(now));
    }
}

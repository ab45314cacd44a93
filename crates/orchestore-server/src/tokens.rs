//! Access tokens (short-lived HS256 JWTs carrying the user, the organization, the session, the
//! user's access version and the permission codes, so that a request is authorized without a
//! database read beyond the cached standing of its session) and refresh tokens (32 random
//! bytes; the database keeps only their SHA-256).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use orchestore_domain::{OrganizationId, Permission, SessionId, UserId};
use orchestore_repo::SessionGrant;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::config::Secret;
use crate::error::{ApiError, AuthFailure};

/// Clock skew tolerated between the replica that signed a token and the one checking it.
const LEEWAY_SECONDS: u64 = 5;

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub(crate) sub: UserId,
    pub(crate) org: OrganizationId,
    /// The session the token was issued to: revoking it stops the token.
    pub(crate) sid: SessionId,
    /// The user's access version at issue: raising it stops the token.
    pub(crate) ver: i64,
    pub(crate) perms: Vec<String>,
    iat: u64,
    exp: u64,
    jti: uuid::Uuid,
}

/// An access token that verified: whom it names and what it grants, parsed once.
#[derive(Debug)]
pub(crate) struct VerifiedToken {
    pub(crate) sub: UserId,
    pub(crate) org: OrganizationId,
    pub(crate) sid: SessionId,
    pub(crate) ver: i64,
    /// What it grants; a code this build does not know grants nothing.
    pub(crate) permissions: Vec<Permission>,
    exp: u64,
}

impl VerifiedToken {
    fn live_at(&self, now: u64) -> bool {
        now <= self.exp.saturating_add(LEEWAY_SECONDS)
    }
}

/// Tokens verified already, kept by their exact text so that a client sending the same token
/// again is not checked and parsed again (its signature, its JSON, its permission codes: a
/// tenth of a read's time). At most this many; past it the map is emptied.
const VERIFIED_TOKENS: usize = 4096;

/// Verified tokens by their text.
type Remembered = HashMap<Box<str>, Arc<VerifiedToken>, foldhash::fast::RandomState>;

/// Signs and checks access tokens, and dates refresh tokens.
pub(crate) struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
    refresh_ttl: Duration,
    verified: Mutex<Remembered>,
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("key", &"<redacted>")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish()
    }
}

impl TokenIssuer {
    pub(crate) fn new(secret: &Secret, access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            access_ttl,
            refresh_ttl,
            verified: Mutex::default(),
        }
    }

    /// Signs an access token for the session `grant` opened or renewed, with `permissions`,
    /// and gives its lifetime in seconds: the configured one, cut short at `until` when the
    /// permissions change by themselves before then (a grant or a suspension ends), so that a
    /// token never carries permissions its user no longer has, or lacks ones they have again.
    pub(crate) fn access_token(
        &self,
        grant: &SessionGrant,
        permissions: &[Permission],
        until: Option<DateTime<Utc>>,
    ) -> Result<(String, u64), ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        let mut exp = now.saturating_add(self.access_ttl.as_secs());
        if let Some(until) = until {
            exp = exp.min(u64::try_from(until.timestamp()).unwrap_or(0).max(now));
        }
        let claims = Claims {
            sub: grant.user.id,
            org: grant.user.organization_id,
            sid: grant.session_id,
            ver: grant.access_version,
            perms: permissions.iter().map(|p| p.code().to_owned()).collect(),
            iat: now,
            exp,
            jti: uuid::Uuid::now_v7(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map(|token| (token, exp - now))
            .map_err(|err| ApiError::internal(format!("signing an access token: {err}")))
    }

    /// When a refresh token issued now expires.
    pub(crate) fn refresh_expires_at(&self) -> Result<DateTime<Utc>, ApiError> {
        chrono::Duration::from_std(self.refresh_ttl)
            .ok()
            .and_then(|ttl| Utc::now().checked_add_signed(ttl))
            .ok_or_else(|| ApiError::internal("auth.refresh_token_ttl is out of range"))
    }

    /// The token's claims when its signature holds and it has not expired; the same text seen
    /// before is answered from memory until its expiry.
    pub(crate) fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(known) = self.remembered().get(token)
            && known.live_at(now)
        {
            return Ok(Arc::clone(known));
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| ApiError::Unauthenticated(AuthFailure::InvalidToken))?
            .claims;
        let verified = Arc::new(VerifiedToken {
            sub: claims.sub,
            org: claims.org,
            sid: claims.sid,
            ver: claims.ver,
            permissions: claims
                .perms
                .iter()
                .filter_map(|code| Permission::from_code(code))
                .collect(),
            exp: claims.exp,
        });
        let mut remembered = self.remembered();
        if remembered.len() >= VERIFIED_TOKENS {
            remembered.retain(|_, known| known.live_at(now));
            if remembered.len() >= VERIFIED_TOKENS {
                remembered.clear();
            }
        }
        remembered.insert(token.into(), Arc::clone(&verified));
        Ok(verified)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, Remembered> {
        // A poisoned lock only means a panic elsewhere: the map holds only verified tokens.
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A new refresh token: 32 random bytes, base64url. `ThreadRng` is a CSPRNG seeded from the OS.
pub(crate) fn new_refresh_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a refresh token: its SHA-256, in hex.
pub(crate) fn refresh_token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> SessionGrant {
        let now = Utc::now();
        let user = orchestore_domain::User {
            id: UserId::new(),
            organization_id: OrganizationId::new(),
            email: orchestore_domain::Email::parse("ada@example.org").expect("email"),
            username: None,
            display_name: orchestore_domain::Name::parse("display_name", "Ada").expect("name"),
            active: true,
            created_at: now,
            updated_at: now,
            revision: orchestore_domain::Revision::FIRST,
        };
        SessionGrant {
            user,
            session_id: SessionId::new(),
            access_version: 3,
        }
    }

    fn issuer(secret: &str, access_ttl: Duration) -> TokenIssuer {
        TokenIssuer::new(&Secret::new(secret), access_ttl, Duration::from_secs(60))
    }

    #[test]
    fn tokens_round_trip_with_their_claims() {
        let issuer = issuer(&"k".repeat(64), Duration::from_secs(900));
        let grant = grant();
        let (token, lifetime) = issuer
            .access_token(
                &grant,
                &[Permission::TasksRead, Permission::TasksWrite],
                None,
            )
            .expect("sign");
        assert_eq!(lifetime, 900);
        let now = jsonwebtoken::get_current_timestamp();
        let claims = issuer.verify(&token).expect("verify");
        assert_eq!(claims.sub, grant.user.id);
        assert_eq!(claims.org, grant.user.organization_id);
        assert_eq!(claims.sid, grant.session_id);
        assert_eq!(claims.ver, 3);
        assert_eq!(
            claims.permissions,
            vec![Permission::TasksRead, Permission::TasksWrite]
        );
        assert!(
            (now + 899..=now + 900).contains(&claims.exp),
            "{}",
            claims.exp
        );
    }

    #[test]
    fn a_token_seen_before_is_answered_from_memory_until_it_expires() {
        let issuer = issuer(&"k".repeat(64), Duration::from_secs(900));
        let (token, _) = issuer
            .access_token(&grant(), &[Permission::TasksRead], None)
            .expect("sign");
        let first = issuer.verify(&token).expect("verify");
        let again = issuer.verify(&token).expect("verify");
        assert!(Arc::ptr_eq(&first, &again), "remembered");
        // Another text is checked on its own: one byte of the signature changed.
        let mut forged = token.clone();
        let last = forged.pop().expect("a character");
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(issuer.verify(&forged).is_err());

        // A token past its expiry (and the leeway) is refused although it was remembered.
        let now = jsonwebtoken::get_current_timestamp();
        let grant = grant();
        let ending = Claims {
            sub: grant.user.id,
            org: grant.user.organization_id,
            sid: grant.session_id,
            ver: grant.access_version,
            perms: Vec::new(),
            iat: now - 60,
            exp: now + 1 - LEEWAY_SECONDS,
            jti: uuid::Uuid::now_v7(),
        };
        let ending =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &ending, &issuer.encoding)
                .expect("sign");
        assert!(issuer.verify(&ending).is_ok(), "within the leeway");
        std::thread::sleep(Duration::from_millis(2100));
        assert!(issuer.verify(&ending).is_err(), "expired while remembered");
    }

    #[test]
    fn a_token_ends_when_its_permissions_change() {
        let issuer = issuer(&"k".repeat(64), Duration::from_secs(900));
        let until = Utc::now() + chrono::Duration::seconds(120);
        let (token, lifetime) = issuer
            .access_token(&grant(), &[Permission::TasksRead], Some(until))
            .expect("sign");
        assert!((119..=120).contains(&lifetime), "{lifetime}");
        let claims = issuer.verify(&token).expect("verify");
        assert_eq!(claims.exp, u64::try_from(until.timestamp()).unwrap_or(0));
        let later = Utc::now() + chrono::Duration::hours(1);
        let (_, lifetime) = issuer
            .access_token(&grant(), &[], Some(later))
            .expect("sign");
        assert_eq!(
            lifetime, 900,
            "a later change leaves the configured lifetime"
        );
    }

    #[test]
    fn foreign_and_expired_tokens_are_refused() {
        let grant = grant();
        let ours = issuer(&"a".repeat(64), Duration::from_secs(900));
        let theirs = issuer(&"b".repeat(64), Duration::from_secs(900));
        let (token, _) = theirs.access_token(&grant, &[], None).expect("sign");
        assert!(ours.verify(&token).is_err());
        let now = jsonwebtoken::get_current_timestamp();
        let expired = Claims {
            sub: grant.user.id,
            org: grant.user.organization_id,
            sid: grant.session_id,
            ver: grant.access_version,
            perms: Vec::new(),
            iat: now - 3600,
            exp: now - 60,
            jti: uuid::Uuid::now_v7(),
        };
        let expired =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &expired, &ours.encoding)
                .expect("sign");
        assert!(ours.verify(&expired).is_err());
        assert!(ours.verify("not.a.jwt").is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let first = new_refresh_token();
        let second = new_refresh_token();
        assert_ne!(first, second);
        assert_eq!(URL_SAFE_NO_PAD.decode(&first).map(|b| b.len()), Ok(32));
        let hash = refresh_token_hash(&first);
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, refresh_token_hash(&first));
        assert!(!hash.contains(&first));
    }
}

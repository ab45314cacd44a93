//! API keys: how an agent, or a service acting as a user, authenticates without a login.
//!
//! A key belongs to one owner: an agent, or a user (a service account made for the purpose, or
//! a person's personal access token). It grants at most its owner's permissions, limited to its
//! scopes when it has them, and may expire. The key itself is shown once; the store keeps its
//! SHA-256.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{AgentId, ApiKeyId, DomainError, Name, OrganizationId, Permission, UserId};

/// Whose key it is: the key acts as this agent or this user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOwner {
    Agent(AgentId),
    User(UserId),
}

impl KeyOwner {
    pub fn agent(self) -> Option<AgentId> {
        match self {
            Self::Agent(id) => Some(id),
            Self::User(_) => None,
        }
    }

    pub fn user(self) -> Option<UserId> {
        match self {
            Self::User(id) => Some(id),
            Self::Agent(_) => None,
        }
    }
}

impl fmt::Display for KeyOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Agent(id) => write!(f, "agent:{id}"),
            Self::User(id) => write!(f, "user:{id}"),
        }
    }
}

/// Serialized as two fields, `agent_id` and `user_id`, one of them `null`.
impl Serialize for KeyOwner {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("agent_id", &self.agent())?;
        map.serialize_entry("user_id", &self.user())?;
        map.end()
    }
}

/// The wire form of a [`KeyOwner`]: the two fields it serializes as.
#[derive(Deserialize)]
struct RawKeyOwner {
    agent_id: Option<AgentId>,
    user_id: Option<UserId>,
}

deserialize_by_parse!(
    KeyOwner,
    RawKeyOwner,
    |raw| match (raw.agent_id, raw.user_id) {
        (Some(agent), None) => Ok(KeyOwner::Agent(agent)),
        (None, Some(user)) => Ok(KeyOwner::User(user)),
        _ => Err(DomainError::invalid(
            "agent_id",
            "exactly one of agent_id and user_id must be set",
        )),
    }
);

/// The permissions a key is limited to. Without scopes a key grants whatever its owner holds
/// at each request; with them, those of its scopes its owner still holds. Either way a
/// permission the owner loses, the key loses at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyScopes(Option<Vec<Permission>>);

impl KeyScopes {
    /// No scopes: everything the owner holds.
    pub fn owners() -> Self {
        Self(None)
    }

    /// Scopes given as permission codes: at least one, each a known code (field `scopes`).
    pub fn parse(codes: &[impl AsRef<str>]) -> Result<Self, DomainError> {
        if codes.is_empty() {
            return Err(DomainError::invalid(
                "scopes",
                "name at least one permission, or leave scopes out for all of the owner's",
            ));
        }
        let mut permissions = Vec::with_capacity(codes.len());
        for code in codes {
            let code = code.as_ref();
            let permission = Permission::from_code(code).ok_or_else(|| {
                DomainError::invalid("scopes", format!("{code:?} is not a permission"))
            })?;
            permissions.push(permission);
        }
        Ok(Self(Some(Permission::sorted_set(permissions))))
    }

    /// Scopes as stored. A code this build does not know grants nothing, so it is left out.
    pub fn stored(codes: Option<Vec<String>>) -> Self {
        Self(codes.map(|codes| {
            Permission::sorted_set(codes.iter().filter_map(|code| Permission::from_code(code)))
        }))
    }

    /// The listed permissions; `None` for all of the owner's.
    pub fn listed(&self) -> Option<&[Permission]> {
        self.0.as_deref()
    }

    /// What the key grants when its owner holds `held`.
    pub fn effective(&self, held: &[Permission]) -> Vec<Permission> {
        match &self.0 {
            None => Permission::sorted_set(held.iter().copied()),
            Some(scopes) => {
                Permission::sorted_set(scopes.iter().copied().filter(|scope| held.contains(scope)))
            }
        }
    }

    /// Refuses (on `scopes`) a scope `holder` does not hold, naming each missing one.
    pub fn within(&self, held: &[Permission], holder: &str) -> Result<(), DomainError> {
        let missing: Vec<&str> = self
            .listed()
            .unwrap_or_default()
            .iter()
            .filter(|scope| !held.contains(scope))
            .map(|scope| scope.code())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(DomainError::invalid(
                "scopes",
                format!("{holder} does not hold {}", missing.join(", ")),
            ))
        }
    }
}

/// `null` for all of the owner's permissions, else the list of codes.
impl Serialize for KeyScopes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

deserialize_by_parse!(KeyScopes, Option<Vec<String>>, |raw| match raw {
    None => Ok(KeyScopes::owners()),
    Some(codes) => KeyScopes::parse(&codes),
});

/// When a new key stops working: in the future, at most [`KeyExpiry::LONGEST`] ahead. A key
/// meant to live longer is made without an expiry and revoked when it is done with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyExpiry(DateTime<Utc>);

impl KeyExpiry {
    /// How far ahead an expiry may be: a year, leap day included.
    pub const LONGEST: Duration = Duration::days(366);

    /// `at`, when it is after `now` and no more than [`KeyExpiry::LONGEST`] after it (field
    /// `expires_at`).
    pub fn parse(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Self, DomainError> {
        if at <= now {
            Err(DomainError::invalid("expires_at", "must be in the future"))
        } else if at - now > Self::LONGEST {
            Err(DomainError::invalid(
                "expires_at",
                "must be at most 366 days ahead; leave it out for a key that does not expire",
            ))
        } else {
            Ok(Self(at))
        }
    }

    pub fn at(self) -> DateTime<Utc> {
        self.0
    }
}

/// A key to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApiKey {
    pub owner: KeyOwner,
    /// What the key is for, e.g. the host its worker runs on or the service that uses it.
    pub name: Name,
    pub scopes: KeyScopes,
    pub expires_at: Option<KeyExpiry>,
}

/// An API key as stored: never the key itself, only its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub organization_id: OrganizationId,
    #[serde(flatten)]
    pub owner: KeyOwner,
    pub name: Name,
    pub scopes: KeyScopes,
    /// Who created it (`user:<id>`, or `agent:<id>`).
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// When it stops working, if it does.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just created, with the secret that is shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// `osk_…`: give it to the worker or service; it cannot be read again.
    pub secret: ApiKeySecret,
}

/// The key a client presents: `osk_` and the URL-safe base64 of its organization, its id and 32
/// random bytes. `Debug` shows no part of it; [`ApiKeySecret::expose`] gives it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    const PREFIX: &'static str = "osk_";
    const RANDOM_BYTES: usize = 32;

    /// The key of `id` in `org`, made from 32 random bytes the caller draws.
    pub fn new(org: OrganizationId, id: ApiKeyId, random: [u8; 32]) -> Self {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend_from_slice(org.as_uuid().as_bytes());
        bytes.extend_from_slice(id.as_uuid().as_bytes());
        bytes.extend_from_slice(&random);
        Self(format!("{}{}", Self::PREFIX, URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Reads a presented key; `None` when it is not one (no detail: the caller answers 401).
    pub fn parse(raw: &str) -> Option<Self> {
        let encoded = raw.strip_prefix(Self::PREFIX)?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        (bytes.len() == 32 + Self::RANDOM_BYTES).then(|| Self(raw.to_owned()))
    }

    /// Whether `raw` looks like a key rather than an access token.
    pub fn is_key(raw: &str) -> bool {
        raw.starts_with(Self::PREFIX)
    }

    fn bytes(&self) -> Vec<u8> {
        self.0
            .strip_prefix(Self::PREFIX)
            .and_then(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .unwrap_or_default()
    }

    /// The organization the key belongs to.
    pub fn organization(&self) -> OrganizationId {
        OrganizationId::from_uuid(uuid_at(&self.bytes(), 0))
    }

    /// The key's id.
    pub fn id(&self) -> ApiKeyId {
        ApiKeyId::from_uuid(uuid_at(&self.bytes(), 16))
    }

    /// The SHA-256 of the whole key, in hex: what is stored and compared.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn uuid_at(bytes: &[u8], at: usize) -> Uuid {
    bytes
        .get(at..at + 16)
        .and_then(|slice| Uuid::from_slice(slice).ok())
        .unwrap_or_default()
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret(<redacted>)")
    }
}

/// Shown once, in the response that creates it.
impl Serialize for ApiKeySecret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

deserialize_by_parse!(ApiKeySecret, String, |raw| {
    ApiKeySecret::parse(&raw)
        .ok_or_else(|| DomainError::invalid("secret", "is not an API key (osk_…)"))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_names_its_organization_and_id_and_hides_in_debug() {
        let (org, id) = (OrganizationId::new(), ApiKeyId::new());
        let key = ApiKeySecret::new(org, id, [7; 32]);
        assert!(key.expose().starts_with("osk_"));
        let parsed = ApiKeySecret::parse(key.expose()).expect("a key");
        assert_eq!((parsed.organization(), parsed.id()), (org, id));
        assert_eq!(parsed.hash(), key.hash());
        assert_eq!(key.hash().len(), 64);
        assert_ne!(ApiKeySecret::new(org, id, [8; 32]).hash(), key.hash());
        assert!(!format!("{key:?}").contains(&key.expose()[4..]));
        for bad in ["", "osk_", "osk_!!", "bearer", &key.expose()[..40]] {
            assert!(ApiKeySecret::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn scopes_are_known_codes_and_grant_what_the_owner_still_holds() {
        let scopes =
            KeyScopes::parse(&["tasks:write", "tasks:read", "tasks:read"]).expect("scopes");
        assert_eq!(
            scopes.listed(),
            Some(&[Permission::TasksRead, Permission::TasksWrite][..])
        );
        assert_eq!(
            scopes.effective(&[Permission::TasksRead, Permission::UsersRead]),
            [Permission::TasksRead]
        );
        assert_eq!(
            KeyScopes::owners().effective(&[Permission::UsersRead, Permission::AgentsRead]),
            [Permission::AgentsRead, Permission::UsersRead]
        );
        let missing = scopes
            .within(&[Permission::TasksRead], "the owner")
            .expect_err("tasks:write is missing");
        assert_eq!(missing.field(), Some("scopes"));
        assert!(missing.to_string().contains("tasks:write"), "{missing}");
        assert!(KeyScopes::owners().within(&[], "the owner").is_ok());
        for bad in [&["tasks:delete"][..], &[]] {
            let refused = KeyScopes::parse(bad).expect_err("refused");
            assert_eq!(refused.field(), Some("scopes"));
        }
        let stored = KeyScopes::stored(Some(vec!["tasks:read".to_owned(), "gone:read".to_owned()]));
        assert_eq!(stored.listed(), Some(&[Permission::TasksRead][..]));
        assert_eq!(
            serde_json::to_value(&stored).expect("json"),
            serde_json::json!(["tasks:read"])
        );
        assert_eq!(
            serde_json::to_value(KeyScopes::owners()).expect("json"),
            serde_json::Value::Null
        );
    }

    #[test]
    fn an_expiry_is_in_the_future_and_within_a_year() {
        let now = Utc::now();
        assert!(KeyExpiry::parse(now + Duration::hours(1), now).is_ok());
        assert!(KeyExpiry::parse(now + KeyExpiry::LONGEST, now).is_ok());
        for refused in [
            now,
            now - Duration::seconds(1),
            now + KeyExpiry::LONGEST + Duration::seconds(1),
        ] {
            let error = KeyExpiry::parse(refused, now).expect_err("refused");
            assert_eq!(error.field(), Some("expires_at"));
        }
    }

    #[test]
    fn an_owner_serializes_as_two_ids() {
        let agent = AgentId::new();
        assert_eq!(
            serde_json::to_value(KeyOwner::Agent(agent)).expect("json"),
            serde_json::json!({"agent_id": agent, "user_id": null})
        );
    }
}

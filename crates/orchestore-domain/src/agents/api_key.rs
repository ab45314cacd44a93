//! API keys: how a worker authenticates as its agent.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{AgentId, ApiKeyId, Name, OrganizationId};

/// An agent's API key as stored: never the key itself, only its hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentApiKey {
    pub id: ApiKeyId,
    pub organization_id: OrganizationId,
    pub agent_id: AgentId,
    /// What the key is for, e.g. the host the worker runs on.
    pub name: Name,
    /// Who created it (`user:<id>`).
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stopped working, if it did.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just created, with the secret that is shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedApiKey {
    #[serde(flatten)]
    pub key: AgentApiKey,
    /// `osk_…`: give it to the worker; it cannot be read again.
    pub secret: ApiKeySecret,
}

/// The key a worker presents: `osk_` and the URL-safe base64 of its organization, its id and 32
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
}

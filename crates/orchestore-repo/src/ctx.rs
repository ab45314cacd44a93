use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use orchestore_domain::{AgentId, ApiKeyId, DomainError, OrganizationId, SessionId, UserId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Who performs an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A logged-in user.
    User(UserId),
    /// An agent, authenticated by one of its API keys.
    Agent(AgentId),
    /// The system itself: bootstrap, migrations, maintenance jobs.
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::Agent(id) => write!(f, "agent:{id}"),
            Self::System => f.write_str("system"),
        }
    }
}

/// The spelling [`Actor`]'s `Display` writes: `user:<id>`, `agent:<id>` or `system`.
impl FromStr for Actor {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || DomainError::invalid("actor", "must be user:<id>, agent:<id> or system");
        if s == "system" {
            return Ok(Self::System);
        }
        let (kind, id) = s.split_once(':').ok_or_else(invalid)?;
        match kind {
            "user" => id.parse().map(Self::User).map_err(|_| invalid()),
            "agent" => id.parse().map(Self::Agent).map_err(|_| invalid()),
            _ => Err(invalid()),
        }
    }
}

/// What the caller proved who they are with: a user's session (the access token names it) or
/// an API key (an agent's or a user's). Recorded in the audit log by id, never the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Session(SessionId),
    ApiKey(ApiKeyId),
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Session(id) => write!(f, "session:{id}"),
            Self::ApiKey(id) => write!(f, "api_key:{id}"),
        }
    }
}

/// The spelling `Display` writes: `session:<id>` or `api_key:<id>`.
impl FromStr for Credential {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || DomainError::invalid("credential", "must be session:<id> or api_key:<id>");
        let (kind, id) = s.split_once(':').ok_or_else(invalid)?;
        match kind {
            "session" => id.parse().map(Self::Session).map_err(|_| invalid()),
            "api_key" => id.parse().map(Self::ApiKey).map_err(|_| invalid()),
            _ => Err(invalid()),
        }
    }
}

impl Serialize for Credential {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

// Read back (an audit entry a client reads) through the same parser as `FromStr`.
impl<'de> Deserialize<'de> for Credential {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// The context every repository call runs in: the tenant it is scoped to, who acts, and the
/// request it serves — its id, the address it came from and the credential it presented, all
/// three recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctx {
    org: OrganizationId,
    actor: Actor,
    request_id: Option<String>,
    client_addr: Option<IpAddr>,
    credential: Option<Credential>,
}

impl Ctx {
    pub fn new(org: OrganizationId, actor: Actor) -> Self {
        Self {
            org,
            actor,
            request_id: None,
            client_addr: None,
            credential: None,
        }
    }

    /// The system acting inside one organization.
    pub fn system(org: OrganizationId) -> Self {
        Self::new(org, Actor::System)
    }

    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// The address the request came from. An IPv4 address mapped into IPv6
    /// (`::ffff:192.0.2.1`) is kept as the IPv4 address it is.
    pub fn with_client_addr(mut self, addr: IpAddr) -> Self {
        self.client_addr = Some(addr.to_canonical());
        self
    }

    pub fn with_credential(mut self, credential: Credential) -> Self {
        self.credential = Some(credential);
        self
    }

    pub fn org(&self) -> OrganizationId {
        self.org
    }

    pub fn actor(&self) -> Actor {
        self.actor
    }

    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    pub fn client_addr(&self) -> Option<IpAddr> {
        self.client_addr
    }

    pub fn credential(&self) -> Option<Credential> {
        self.credential
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_and_credentials_read_back_what_they_write() {
        for actor in [
            Actor::User(UserId::new()),
            Actor::Agent(AgentId::new()),
            Actor::System,
        ] {
            assert_eq!(actor.to_string().parse::<Actor>(), Ok(actor));
        }
        for credential in [
            Credential::Session(SessionId::new()),
            Credential::ApiKey(ApiKeyId::new()),
        ] {
            assert_eq!(credential.to_string().parse::<Credential>(), Ok(credential));
        }
        assert!("user:nope".parse::<Actor>().is_err());
        assert!("robot:x".parse::<Actor>().is_err());
        assert!("api_key".parse::<Credential>().is_err());
        let id = ApiKeyId::new();
        assert_eq!(
            serde_json::to_value(Credential::ApiKey(id)).expect("json"),
            serde_json::json!(format!("api_key:{id}"))
        );
    }

    #[test]
    fn a_mapped_ipv4_address_is_kept_as_ipv4() {
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("address");
        let ctx = Ctx::system(OrganizationId::new()).with_client_addr(mapped);
        assert_eq!(ctx.client_addr(), "192.0.2.1".parse().ok());
    }
}

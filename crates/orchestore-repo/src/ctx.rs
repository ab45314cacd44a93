use std::fmt;

use orchestore_domain::{AgentId, OrganizationId, UserId};

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

/// The context every repository call runs in: the tenant it is scoped to, who acts, and the
/// request it serves (recorded in the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctx {
    org: OrganizationId,
    actor: Actor,
    request_id: Option<String>,
}

impl Ctx {
    pub fn new(org: OrganizationId, actor: Actor) -> Self {
        Self {
            org,
            actor,
            request_id: None,
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

    pub fn org(&self) -> OrganizationId {
        self.org
    }

    pub fn actor(&self) -> Actor {
        self.actor
    }

    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

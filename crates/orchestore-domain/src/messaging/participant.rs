use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AgentId, DomainError, UserId};

/// Which sort of participant sends or receives a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantKind {
    Agent,
    User,
}

impl ParticipantKind {
    pub const ALL: [ParticipantKind; 2] = [Self::Agent, Self::User];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::User => "user",
        }
    }
}

impl fmt::Display for ParticipantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ParticipantKind {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| DomainError::invalid("kind", format!("{s:?} is not one of agent, user")))
    }
}

/// One end of a message. Serialised as `{"kind": "agent", "id": "…"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Participant {
    Agent(AgentId),
    User(UserId),
}

impl Participant {
    /// Rebuilds a participant from its stored kind and id.
    pub fn from_parts(kind: ParticipantKind, id: Uuid) -> Self {
        match kind {
            ParticipantKind::Agent => Self::Agent(AgentId::from_uuid(id)),
            ParticipantKind::User => Self::User(UserId::from_uuid(id)),
        }
    }

    pub const fn kind(self) -> ParticipantKind {
        match self {
            Self::Agent(_) => ParticipantKind::Agent,
            Self::User(_) => ParticipantKind::User,
        }
    }

    pub const fn id(self) -> Uuid {
        match self {
            Self::Agent(id) => id.as_uuid(),
            Self::User(id) => id.as_uuid(),
        }
    }
}

impl From<AgentId> for Participant {
    fn from(id: AgentId) -> Self {
        Self::Agent(id)
    }
}

impl From<UserId> for Participant {
    fn from(id: UserId) -> Self {
        Self::User(id)
    }
}

impl fmt::Display for Participant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_kind_and_id() {
        let id = AgentId::new();
        let agent = Participant::Agent(id);
        let value = serde_json::to_value(agent).unwrap_or_default();
        assert_eq!(
            value,
            serde_json::json!({"kind": "agent", "id": id.to_string()})
        );
        assert_eq!(
            serde_json::from_value::<Participant>(value).ok(),
            Some(agent)
        );
        let unknown = serde_json::json!({"kind": "robot", "id": id.to_string()});
        assert!(serde_json::from_value::<Participant>(unknown).is_err());
    }

    #[test]
    fn parts_round_trip() {
        let user = Participant::from(UserId::new());
        assert_eq!(Participant::from_parts(user.kind(), user.id()), user);
        assert_eq!(
            user.kind().as_str().parse::<ParticipantKind>(),
            Ok(ParticipantKind::User)
        );
        assert_eq!(
            "bot".parse::<ParticipantKind>().unwrap_err().field(),
            Some("kind")
        );
        // Same uuid, different kinds: different participants.
        let uuid = Uuid::now_v7();
        assert_ne!(
            Participant::from_parts(ParticipantKind::Agent, uuid),
            Participant::from_parts(ParticipantKind::User, uuid)
        );
    }
}

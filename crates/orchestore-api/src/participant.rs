//! A participant (an agent or a user) as a request names it: in a body, or in a query string.

use orchestore_domain::{DomainError, Participant, ParticipantKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

// The doc comment is the schema's description in the OpenAPI document, where the bodies of
// `/messages` name this type: it stays as it was there.
/// One end of a message: `{"kind": "agent" | "user", "id": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantBody {
    #[schema(value_type = ParticipantKind)]
    pub kind: String,
    pub id: Uuid,
}

impl ParticipantBody {
    /// The participant; a bad kind is named `kind_field`.
    pub fn parse(self, kind_field: &'static str) -> Result<Participant, DomainError> {
        let kind = self.kind.parse::<ParticipantKind>().map_err(|_| {
            DomainError::invalid(
                kind_field,
                format!("{:?} is not one of agent, user", self.kind),
            )
        })?;
        Ok(Participant::from_parts(kind, self.id))
    }
}

impl From<Participant> for ParticipantBody {
    fn from(participant: Participant) -> Self {
        Self {
            kind: participant.kind().as_str().to_owned(),
            id: participant.id(),
        }
    }
}

/// A participant given in a query string as `<prefix>_kind` and `<prefix>_id`, both or
/// neither.
pub fn participant_param(
    kind_field: &'static str,
    id_field: &'static str,
    kind: Option<String>,
    id: Option<Uuid>,
) -> Result<Option<Participant>, DomainError> {
    match (kind, id) {
        (None, None) => Ok(None),
        (Some(kind), Some(id)) => ParticipantBody { kind, id }.parse(kind_field).map(Some),
        (Some(_), None) => Err(DomainError::invalid(
            id_field,
            format!("must be given with {kind_field}"),
        )),
        (None, Some(_)) => Err(DomainError::invalid(
            kind_field,
            format!("must be given with {id_field}"),
        )),
    }
}

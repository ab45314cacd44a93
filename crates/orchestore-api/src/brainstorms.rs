//! `/api/v1/brainstorms`.

use orchestore_domain::{
    BrainstormIdea, BrainstormStatus, BrainstormTopic, Description, IdeaText, NewBrainstorm,
    Participant, ParticipantKind, ProjectId,
};
use orchestore_repo::{BrainstormFilter, BrainstormSort, Limit, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{FieldErrors, Invalid, ParticipantBody, page_request, participant_param};

// `POST /api/v1/brainstorms`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBrainstormBody {
    /// 1 to 200 characters, trimmed.
    #[schema(min_length = 1, max_length = 200)]
    pub topic: String,
    /// Up to 20,000 characters.
    #[schema(max_length = 20_000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who leads it: the caller when left out.
    #[schema(value_type = Option<Participant>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facilitator: Option<ParticipantBody>,
    /// The project it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
}

impl CreateBrainstormBody {
    /// The brainstorm to open; `caller` leads it when the body names no facilitator.
    pub fn into_new_brainstorm(self, caller: Participant) -> Result<NewBrainstorm, Invalid> {
        let mut errors = FieldErrors::default();
        let topic = errors.check(BrainstormTopic::parse(&self.topic));
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let facilitator = errors.check(
            self.facilitator
                .map_or(Ok(caller), |f| f.parse("facilitator.kind")),
        );
        let (Some(topic), Some(description), Some(facilitator)) = (topic, description, facilitator)
        else {
            return Err(errors.into_error());
        };
        Ok(NewBrainstorm {
            topic,
            description,
            facilitator,
            project_id: self.project_id,
        })
    }
}

/// `GET /api/v1/brainstorms`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListBrainstormsQuery {
    /// Only brainstorms in this status.
    #[param(value_type = Option<BrainstormStatus>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Only the brainstorms of this project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<BrainstormSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListBrainstormsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(BrainstormFilter, PageRequest<BrainstormSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let status = errors.check(
            self.status
                .map(|s| s.parse::<BrainstormStatus>())
                .transpose(),
        );
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(status), Some(page)) = (status, page) else {
            return Err(errors.into_error());
        };
        let filter = BrainstormFilter {
            status,
            project_id: self.project_id,
        };
        Ok((filter, page))
    }
}

// `POST /api/v1/brainstorms/{id}/ideas`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrainstormIdeaBody {
    /// 1 to 2,000 characters, trimmed.
    #[schema(min_length = 1, max_length = 2000)]
    pub text: String,
    /// The caller when left out. A user's token acts as its user or as an agent of its
    /// organization; an agent's key as its agent only.
    #[schema(value_type = Option<Participant>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<ParticipantBody>,
}

impl BrainstormIdeaBody {
    /// The idea's text, and its author when the body names one (the server checks whom the
    /// caller may act as).
    pub fn into_text_and_author(self) -> Result<(IdeaText, Option<Participant>), Invalid> {
        let mut errors = FieldErrors::default();
        let text = errors.check(IdeaText::parse(&self.text));
        let author = errors.check(self.author.map(|a| a.parse("author.kind")).transpose());
        let (Some(text), Some(author)) = (text, author) else {
            return Err(errors.into_error());
        };
        Ok((text, author))
    }
}

/// `{voter?}`: the caller when left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdeaVoteBody {
    /// The caller when left out. A user's token acts as its user or as an agent of its
    /// organization; an agent's key as its agent only.
    #[schema(value_type = Option<Participant>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voter: Option<ParticipantBody>,
}

impl IdeaVoteBody {
    /// The voter the body names, if any.
    pub fn into_voter(self) -> Result<Option<Participant>, Invalid> {
        self.voter
            .map(|v| v.parse("voter.kind"))
            .transpose()
            .map_err(Invalid::from)
    }
}

/// The voter whose vote goes: `voter_kind` and `voter_id`, or the caller.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WithdrawQuery {
    /// The voter whose vote goes, given with `voter_id`; the caller when both are left out.
    #[param(value_type = Option<ParticipantKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voter_kind: Option<String>,
    /// Given with `voter_kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voter_id: Option<Uuid>,
}

impl WithdrawQuery {
    /// The voter the query names, if any.
    pub fn into_voter(self) -> Result<Option<Participant>, Invalid> {
        participant_param("voter_kind", "voter_id", self.voter_kind, self.voter_id)
            .map_err(Invalid::from)
    }
}

/// `GET /api/v1/brainstorms/{id}/top-ideas`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TopQuery {
    /// How many ideas.
    #[param(minimum = 1, maximum = 200, default = 10)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl TopQuery {
    pub fn into_limit(self) -> Result<Limit, Invalid> {
        Limit::parse(self.limit.unwrap_or(10)).map_err(Invalid::from)
    }
}

/// A brainstorm's top ideas: most votes first, ties oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TopIdeas {
    pub items: Vec<BrainstormIdea>,
}

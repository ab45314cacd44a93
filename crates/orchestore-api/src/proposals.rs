//! `/api/v1/proposals`.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentKind, DomainError, Eligibility, NewProposal, OptionLabel, Participant, ProposalBody,
    ProposalChoices, ProposalKind, ProposalSchedule, ProposalStatus, ProposalTitle, Quorum,
    RoleCode, Threshold,
};
use orchestore_repo::{PageRequest, ProposalFilter, ProposalSort, VoteSort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PageQuery, ParticipantBody, page_request};

// `POST /api/v1/proposals`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProposalBody {
    /// 1 to 200 characters, trimmed.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// What the proposal is about: up to 20,000 characters.
    #[schema(max_length = 20_000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// `yes_no` when left out.
    #[schema(value_type = Option<ProposalKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A choice's options: 2 to 20 labels of 1 to 100 characters. Left out for a yes/no
    /// proposal, which has `yes` and `no`.
    #[schema(min_items = 2, max_items = 20)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    /// Now when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<DateTime<Utc>>,
    /// In the future, after `opens_at`.
    pub closes_at: DateTime<Utc>,
    /// How many votes must be cast for a result; 1 when left out.
    #[schema(minimum = 1, maximum = 1_000_000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<i64>,
    /// The share of the votes cast the deciding option needs: above 0, at most 1.
    #[schema(exclusive_minimum = 0.0, maximum = 1.0)]
    pub threshold: f64,
    /// The roles whose users may vote (up to 20). With both lists empty every user and agent
    /// may vote; with only one given, only that sort of voter.
    #[serde(default)]
    pub eligible_roles: Vec<String>,
    /// The kinds of agents that may vote.
    #[serde(default)]
    #[schema(value_type = Vec<AgentKind>)]
    pub eligible_agent_kinds: Vec<String>,
    /// `true` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_vote_change: Option<bool>,
}

impl CreateProposalBody {
    pub fn into_new_proposal(self) -> Result<NewProposal, Invalid> {
        let mut errors = FieldErrors::default();
        let title = errors.check(ProposalTitle::parse(&self.title));
        let body = errors.check(
            self.body
                .as_deref()
                .map_or(Ok(ProposalBody::empty()), ProposalBody::parse),
        );
        let kind = errors.check(
            self.kind
                .as_deref()
                .map_or(Ok(ProposalKind::YesNo), str::parse::<ProposalKind>),
        );
        let choices = match (kind, self.options) {
            (None, _) => None,
            (Some(ProposalKind::YesNo), None) => Some(ProposalChoices::yes_no()),
            (Some(ProposalKind::YesNo), Some(_)) => errors.check(Err(DomainError::invalid(
                "options",
                "a yes_no proposal has the options yes and no: leave options out",
            ))),
            (Some(ProposalKind::Choice), options) => {
                let labels: Result<Vec<OptionLabel>, DomainError> = options
                    .unwrap_or_default()
                    .iter()
                    .map(|raw| {
                        OptionLabel::parse(raw)
                            .map_err(|e| DomainError::invalid("options", e.to_string()))
                    })
                    .collect();
                errors.check(labels.and_then(ProposalChoices::choice))
            }
        };
        let schedule = errors.check(ProposalSchedule::parse(self.opens_at, self.closes_at));
        let quorum = errors.check(Quorum::parse(self.quorum.unwrap_or(1)));
        let threshold = errors.check(Threshold::parse(self.threshold));
        let roles: Result<Vec<RoleCode>, DomainError> = self
            .eligible_roles
            .iter()
            .map(|code| RoleCode::parse("eligible_roles", code))
            .collect();
        let kinds: Result<Vec<AgentKind>, DomainError> = self
            .eligible_agent_kinds
            .iter()
            .map(|kind| {
                kind.parse::<AgentKind>().map_err(|_| {
                    DomainError::invalid(
                        "eligible_agent_kinds",
                        format!("{kind:?} is not one of ai, human, bot"),
                    )
                })
            })
            .collect();
        let eligibility = match (errors.check(roles), errors.check(kinds)) {
            (Some(roles), Some(kinds)) => errors.check(Eligibility::parse(roles, kinds)),
            _ => None,
        };
        let (
            Some(title),
            Some(body),
            Some(choices),
            Some(schedule),
            Some(quorum),
            Some(threshold),
            Some(eligibility),
        ) = (
            title,
            body,
            choices,
            schedule,
            quorum,
            threshold,
            eligibility,
        )
        else {
            return Err(errors.into_error());
        };
        Ok(NewProposal {
            title,
            body,
            choices,
            schedule,
            quorum,
            threshold,
            eligibility,
            allow_vote_change: self.allow_vote_change.unwrap_or(true),
        })
    }
}

/// `GET /api/v1/proposals`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListProposalsQuery {
    /// Only proposals in this status.
    #[param(value_type = Option<ProposalStatus>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<ProposalSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListProposalsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(ProposalFilter, PageRequest<ProposalSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let status = errors.check(
            self.status
                .as_deref()
                .map(str::parse::<ProposalStatus>)
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
        Ok((ProposalFilter { status }, page))
    }
}

/// `GET /api/v1/proposals/{id}/votes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VotesQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<VoteSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl VotesQuery {
    pub fn into_page_request(self) -> Result<PageRequest<VoteSort>, Invalid> {
        PageQuery {
            limit: self.limit,
            cursor: self.cursor,
            sort: self.sort,
        }
        .into_page_request()
    }
}

// `POST /api/v1/proposals/{id}/votes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalVoteBody {
    /// The caller when left out. A user's token votes as its user or as an agent of its
    /// organization; an agent's key as its agent only.
    #[schema(value_type = Option<Participant>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voter: Option<ParticipantBody>,
    /// One of the proposal's options.
    #[schema(min_length = 1, max_length = 100)]
    pub option: String,
}

impl ProposalVoteBody {
    /// The voter (`own`, the caller, when the body names none) and the option; the server
    /// checks whom the caller may vote as.
    pub fn into_vote(self, own: Participant) -> Result<(Participant, OptionLabel), Invalid> {
        let mut errors = FieldErrors::default();
        let voter = errors.check(self.voter.map_or(Ok(own), |v| v.parse("voter.kind")));
        let option = errors.check(OptionLabel::parse(&self.option));
        let (Some(voter), Some(option)) = (voter, option) else {
            return Err(errors.into_error());
        };
        Ok((voter, option))
    }
}

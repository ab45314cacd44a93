//! `/api/v1/proposals`: proposals put to a vote, their votes, closing and cancelling.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentKind, DomainError, Eligibility, NewProposal, OptionLabel, Participant, Permission,
    Proposal, ProposalBody, ProposalChoices, ProposalId, ProposalKind, ProposalSchedule,
    ProposalStatus, ProposalTitle, Quorum, RoleCode, Threshold, Vote,
};
use orchestore_repo::{Page, PageRequest, ProposalFilter, ProposalSort, VoteSort};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::messages::ParticipantBody;
use crate::auth::{Authenticated, Principal};
use crate::error::{ApiError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(create, list, get, vote, votes, close, cancel))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/proposals", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(super::resource("/proposals/{id}", "GET").route(web::get().to(get)))
    .service(
        super::resource("/proposals/{id}/votes", "GET, POST")
            .route(web::get().to(votes))
            .route(web::post().to(vote)),
    )
    .service(super::resource("/proposals/{id}/close", "POST").route(web::post().to(close)))
    .service(super::resource("/proposals/{id}/cancel", "POST").route(web::post().to(cancel)));
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateProposalBody {
    /// 1 to 200 characters, trimmed.
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    /// What the proposal is about: up to 20,000 characters.
    #[schema(max_length = 20_000)]
    body: Option<String>,
    /// `yes_no` when left out.
    #[schema(value_type = Option<ProposalKind>)]
    kind: Option<String>,
    /// A choice's options: 2 to 20 labels of 1 to 100 characters. Left out for a yes/no
    /// proposal, which has `yes` and `no`.
    #[schema(min_items = 2, max_items = 20)]
    options: Option<Vec<String>>,
    /// Now when left out.
    opens_at: Option<DateTime<Utc>>,
    /// In the future, after `opens_at`.
    closes_at: DateTime<Utc>,
    /// How many votes must be cast for a result; 1 when left out.
    #[schema(minimum = 1, maximum = 1_000_000)]
    quorum: Option<i64>,
    /// The share of the votes cast the deciding option needs: above 0, at most 1.
    #[schema(exclusive_minimum = 0.0, maximum = 1.0)]
    threshold: f64,
    /// The roles whose users may vote (up to 20). With both lists empty every user and agent
    /// may vote; with only one given, only that sort of voter.
    #[serde(default)]
    eligible_roles: Vec<String>,
    /// The kinds of agents that may vote.
    #[serde(default)]
    #[schema(value_type = Vec<AgentKind>)]
    eligible_agent_kinds: Vec<String>,
    /// `true` when left out.
    allow_vote_change: Option<bool>,
}

impl CreateProposalBody {
    fn into_new_proposal(self) -> Result<NewProposal, ApiError> {
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
            return Err(errors.into_error().into());
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListProposalsQuery {
    /// Only proposals in this status.
    #[param(value_type = Option<ProposalStatus>)]
    status: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<ProposalSort>)]
    sort: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct VotesQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<VoteSort>)]
    sort: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProposalVoteBody {
    /// The caller when left out. A user's token votes as its user or as an agent of its
    /// organization; an agent's key as its agent only.
    #[schema(value_type = Option<Participant>)]
    voter: Option<ParticipantBody>,
    /// One of the proposal's options.
    #[schema(min_length = 1, max_length = 100)]
    option: String,
}

impl ProposalVoteBody {
    /// The voter and the option. A user's token votes as its user or as an agent of its
    /// organization (an orchestrator voting for its agents), never as another user; an agent's
    /// key votes as its agent only.
    fn into_vote(self, caller: Principal) -> Result<(Participant, OptionLabel), ApiError> {
        let mut errors = FieldErrors::default();
        let own = match caller {
            Principal::User(user) => Participant::User(user),
            Principal::Agent(agent) => Participant::Agent(agent),
        };
        let voter = errors.check(self.voter.map_or(Ok(own), |v| v.parse("voter.kind")));
        let option = errors.check(OptionLabel::parse(&self.option));
        let (Some(voter), Some(option)) = (voter, option) else {
            return Err(errors.into_error().into());
        };
        match (caller, voter) {
            (Principal::User(user), Participant::User(as_user)) if as_user != user => {
                Err(ApiError::NotAllowed(
                    "a user votes only as itself or as an agent of its organization".to_owned(),
                ))
            }
            (Principal::Agent(agent), voter) if voter != Participant::Agent(agent) => Err(
                ApiError::NotAllowed("an agent's API key votes as its agent only".to_owned()),
            ),
            _ => Ok((voter, option)),
        }
    }
}

/// `POST /api/v1/proposals` with `{title, body?, kind?, options?, opens_at?, closes_at, quorum?,
/// threshold, eligible_roles?, eligible_agent_kinds?, allow_vote_change?}` → 201, the open
/// proposal.
#[utoipa::path(
    post,
    path = "/api/v1/proposals",
    summary = "Put a proposal to a vote",
    tag = "proposals",
    request_body = CreateProposalBody,
    responses(
        (status = 201, description = "The proposal, open", body = Proposal,
            headers(("Location" = String, description = "The proposal's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateProposalBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let proposal = state
        .store
        .create_proposal(ctx, body.into_new_proposal()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/proposals/{}", proposal.id)))
        .json(proposal))
}

/// `GET /api/v1/proposals?status=&limit=&cursor=&sort=` (`-created_at` or `created_at`).
#[utoipa::path(
    get,
    path = "/api/v1/proposals",
    summary = "List proposals",
    tag = "proposals",
    params(ListProposalsQuery),
    responses((status = 200, description = "A page of proposals",
        body = Page<Proposal, ProposalSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListProposalsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let mut errors = FieldErrors::default();
    let status = errors.check(
        query
            .status
            .as_deref()
            .map(str::parse::<ProposalStatus>)
            .transpose(),
    );
    let page: Option<PageRequest<ProposalSort>> = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let (Some(status), Some(page)) = (status, page) else {
        return Err(errors.into_error().into());
    };
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_proposals(ctx, ProposalFilter { status }, page)
            .await?,
    ))
}

/// `GET /api/v1/proposals/{id}` → the proposal with its tallies (current while it is open).
#[utoipa::path(
    get,
    path = "/api/v1/proposals/{id}",
    summary = "Get a proposal",
    tag = "proposals",
    params(("id" = ProposalId, Path, description = "The proposal's id")),
    responses((status = 200, description = "The proposal with its tallies", body = Proposal))
)]
#[tracing::instrument(skip_all, fields(proposal_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ProposalId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_proposal(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/proposals/{id}/votes` with `{option, voter?: {kind, id}}` → 200, the vote as
/// it stands.
#[utoipa::path(
    post,
    path = "/api/v1/proposals/{id}/votes",
    summary = "Vote on a proposal",
    tag = "proposals",
    params(("id" = ProposalId, Path, description = "The proposal's id")),
    request_body = ProposalVoteBody,
    responses(
        (status = 200, description = "The vote as it stands", body = Vote),
        (status = 409, description = "The proposal does not take votes (not open yet, past \
            its closing time, closed or cancelled), or the voter has voted and the proposal \
            does not allow changing a vote", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(proposal_id = %id))]
pub(crate) async fn vote(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ProposalId>,
    ApiJson(body): ApiJson<ProposalVoteBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let (voter, option) = body.into_vote(auth.principal())?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .cast_vote(ctx, id.into_inner(), voter, option)
            .await?,
    ))
}

/// `GET /api/v1/proposals/{id}/votes?limit=&cursor=&sort=` → each voter's vote, by voter id.
#[utoipa::path(
    get,
    path = "/api/v1/proposals/{id}/votes",
    summary = "List a proposal's votes",
    tag = "proposals",
    params(("id" = ProposalId, Path, description = "The proposal's id"), VotesQuery),
    responses((status = 200, description = "A page of the proposal's votes",
        body = Page<Vote, VoteSort>))
)]
#[tracing::instrument(skip_all, fields(proposal_id = %id))]
pub(crate) async fn votes(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ProposalId>,
    ApiQuery(query): ApiQuery<VotesQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let mut errors = FieldErrors::default();
    let page: Option<PageRequest<VoteSort>> = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let page = page.ok_or_else(|| errors.into_error())?;
    Ok(HttpResponse::Ok().json(state.store.list_votes(ctx, id.into_inner(), page).await?))
}

/// `POST /api/v1/proposals/{id}/close` → the proposal with its result.
#[utoipa::path(
    post,
    path = "/api/v1/proposals/{id}/close",
    summary = "Close a proposal",
    tag = "proposals",
    params(("id" = ProposalId, Path, description = "The proposal's id")),
    responses(
        (status = 200, description = "The proposal, closed, with its result", body = Proposal),
        (status = 409, description = "The proposal is closed or cancelled already",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(proposal_id = %id))]
pub(crate) async fn close(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ProposalId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    Ok(HttpResponse::Ok().json(state.store.close_proposal(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/proposals/{id}/cancel` → the cancelled proposal.
#[utoipa::path(
    post,
    path = "/api/v1/proposals/{id}/cancel",
    summary = "Cancel a proposal",
    tag = "proposals",
    params(("id" = ProposalId, Path, description = "The proposal's id")),
    responses(
        (status = 200, description = "The proposal, cancelled", body = Proposal),
        (status = 409, description = "The proposal is closed or cancelled already",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(proposal_id = %id))]
pub(crate) async fn cancel(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ProposalId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    Ok(HttpResponse::Ok().json(state.store.cancel_proposal(ctx, id.into_inner()).await?))
}

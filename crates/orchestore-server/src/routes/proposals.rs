//! `/api/v1/proposals`: proposals put to a vote, their votes, closing and cancelling.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::proposals::{
    CreateProposalBody, ListProposalsQuery, ProposalVoteBody, VotesQuery,
};
use orchestore_domain::{Participant, Permission, Proposal, ProposalId, Vote};
use orchestore_repo::{Page, ProposalSort, VoteSort};
use utoipa::OpenApi;

use super::brainstorms::caller;
use crate::auth::{Authenticated, Principal};
use crate::error::{ApiError, Problem};
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

/// The voter a caller may vote as: a user's token votes as its user or as an agent of its
/// organization (an orchestrator voting for its agents), never as another user; an agent's key
/// votes as its agent only.
fn may_vote_as(caller: Principal, voter: Participant) -> Result<Participant, ApiError> {
    match (caller, voter) {
        (Principal::User(user), Participant::User(as_user)) if as_user != user => {
            Err(ApiError::NotAllowed(
                "a user votes only as itself or as an agent of its organization".to_owned(),
            ))
        }
        (Principal::Agent(agent), voter) if voter != Participant::Agent(agent) => Err(
            ApiError::NotAllowed("an agent's API key votes as its agent only".to_owned()),
        ),
        _ => Ok(voter),
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
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_proposals(ctx, filter, page).await?))
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
    let (voter, option) = body.into_vote(caller(auth.principal()))?;
    let voter = may_vote_as(auth.principal(), voter)?;
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
    let page = query.into_page_request()?;
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

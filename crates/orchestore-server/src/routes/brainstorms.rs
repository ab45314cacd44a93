//! `/api/v1/brainstorms`: sessions, their ideas, votes, top ideas and statistics.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::PageQuery;
use orchestore_api::brainstorms::{
    BrainstormIdeaBody, CreateBrainstormBody, IdeaVoteBody, ListBrainstormsQuery, TopIdeas,
    TopQuery, WithdrawQuery,
};
use orchestore_domain::{
    Brainstorm, BrainstormId, BrainstormIdea, BrainstormIdeaId, BrainstormStats, NewIdea,
    Participant, ParticipantKind, Permission,
};
use orchestore_repo::{BrainstormIdeaSort, BrainstormSort, Page, PageRequest};
use utoipa::OpenApi;

use crate::auth::{Authenticated, Principal};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(create, list, get, close, add_idea, list_ideas, vote, withdraw_vote, top_ideas, stats),
    // A filter's kind of participant, which no answer names.
    components(schemas(ParticipantKind))
)]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/brainstorms", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(super::resource("/brainstorms/{id}", "GET").route(web::get().to(get)))
    .service(super::resource("/brainstorms/{id}/close", "POST").route(web::post().to(close)))
    .service(
        super::resource("/brainstorms/{id}/ideas", "GET, POST")
            .route(web::get().to(list_ideas))
            .route(web::post().to(add_idea)),
    )
    .service(
        super::resource("/brainstorms/{id}/ideas/{idea_id}/votes", "POST, DELETE")
            .route(web::post().to(vote))
            .route(web::delete().to(withdraw_vote)),
    )
    .service(super::resource("/brainstorms/{id}/top-ideas", "GET").route(web::get().to(top_ideas)))
    .service(super::resource("/brainstorms/{id}/stats", "GET").route(web::get().to(stats)));
}

/// The caller as a participant.
pub(crate) fn caller(principal: Principal) -> Participant {
    match principal {
        Principal::User(user) => Participant::User(user),
        Principal::Agent(agent) => Participant::Agent(agent),
    }
}

/// Whom the caller acts as: itself when `named` is left out. A user token speaks for its user
/// and for the organization's agents, never for another user; an agent's key speaks for its
/// agent only (403 otherwise), as a message's sender does.
fn acting_as(
    principal: Principal,
    named: Option<Participant>,
    field: &str,
) -> Result<Participant, ApiError> {
    let named = named.unwrap_or(caller(principal));
    match (principal, named) {
        (Principal::User(user), Participant::User(as_user)) if as_user != user => {
            Err(ApiError::NotAllowed(format!(
                "{field}: a user acts only as itself or as an agent of its organization"
            )))
        }
        (Principal::Agent(agent), named) if named != Participant::Agent(agent) => {
            Err(ApiError::NotAllowed(format!(
                "{field}: an agent's API key acts as its agent only"
            )))
        }
        _ => Ok(named),
    }
}

/// `POST /api/v1/brainstorms` with `{topic, description?, facilitator?, project_id?}` → 201.
#[utoipa::path(
    post,
    path = "/api/v1/brainstorms",
    summary = "Open a brainstorm",
    tag = "brainstorms",
    request_body = CreateBrainstormBody,
    responses(
        (status = 201, description = "The brainstorm, open", body = Brainstorm,
            headers(("Location" = String, description = "The brainstorm's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateBrainstormBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let created = state
        .store
        .create_brainstorm(ctx, body.into_new_brainstorm(caller(auth.principal()))?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/brainstorms/{}", created.id)))
        .json(created))
}

/// `GET /api/v1/brainstorms?status=&project_id=&limit=&cursor=&sort=` (`-created_at` or
/// `created_at`).
#[utoipa::path(
    get,
    path = "/api/v1/brainstorms",
    summary = "List brainstorms",
    tag = "brainstorms",
    params(ListBrainstormsQuery),
    responses((status = 200, description = "A page of brainstorms",
        body = Page<Brainstorm, BrainstormSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListBrainstormsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_brainstorms(ctx, filter, page).await?))
}

/// `GET /api/v1/brainstorms/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/brainstorms/{id}",
    summary = "Get a brainstorm",
    tag = "brainstorms",
    params(("id" = BrainstormId, Path, description = "The brainstorm's id")),
    responses((status = 200, description = "The brainstorm", body = Brainstorm))
)]
#[tracing::instrument(skip_all, fields(brainstorm_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<BrainstormId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_brainstorm(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/brainstorms/{id}/close` → the closed brainstorm; 409 when it is closed
/// already. Its facilitator closes it with `collaboration:write`; anyone else needs
/// `collaboration:admin` too.
#[utoipa::path(
    post,
    path = "/api/v1/brainstorms/{id}/close",
    summary = "Close a brainstorm",
    tag = "brainstorms",
    params(("id" = BrainstormId, Path, description = "The brainstorm's id")),
    responses(
        (status = 200, description = "The brainstorm, closed", body = Brainstorm),
        (status = 409, description = "The brainstorm is closed already", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(brainstorm_id = %id))]
pub(crate) async fn close(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<BrainstormId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let id = id.into_inner();
    let brainstorm = state.store.get_brainstorm(ctx, id).await?;
    if brainstorm.facilitator != caller(auth.principal()) {
        auth.require(Permission::CollaborationAdmin)?;
    }
    Ok(HttpResponse::Ok().json(state.store.close_brainstorm(ctx, id).await?))
}

/// `POST /api/v1/brainstorms/{id}/ideas` with `{text, author?}` → 201; 409 when the
/// brainstorm is closed.
#[utoipa::path(
    post,
    path = "/api/v1/brainstorms/{id}/ideas",
    summary = "Put an idea to a brainstorm",
    tag = "brainstorms",
    params(("id" = BrainstormId, Path, description = "The brainstorm's id")),
    request_body = BrainstormIdeaBody,
    responses(
        (status = 201, description = "The idea, with no votes yet", body = BrainstormIdea),
        (status = 409, description = "The brainstorm is closed", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(brainstorm_id = %id))]
pub(crate) async fn add_idea(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<BrainstormId>,
    ApiJson(body): ApiJson<BrainstormIdeaBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let (text, author) = body.into_text_and_author()?;
    let author = acting_as(auth.principal(), author, "author")?;
    let idea = state
        .store
        .add_brainstorm_idea(ctx, id.into_inner(), NewIdea { author, text })
        .await?;
    Ok(HttpResponse::Created().json(idea))
}

/// `GET /api/v1/brainstorms/{id}/ideas?limit=&cursor=&sort=` (`created_at` or `-created_at`).
#[utoipa::path(
    get,
    path = "/api/v1/brainstorms/{id}/ideas",
    summary = "List a brainstorm's ideas",
    tag = "brainstorms",
    params(
        ("id" = BrainstormId, Path, description = "The brainstorm's id"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page, 50 by default"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<BrainstormIdeaSort>, Query),
    ),
    responses((status = 200, description = "A page of the brainstorm's ideas, with their votes",
        body = Page<BrainstormIdea, BrainstormIdeaSort>))
)]
#[tracing::instrument(skip_all, fields(brainstorm_id = %id))]
pub(crate) async fn list_ideas(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<BrainstormId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let page: PageRequest<BrainstormIdeaSort> = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_brainstorm_ideas(ctx, id.into_inner(), page)
            .await?,
    ))
}

/// `POST /api/v1/brainstorms/{id}/ideas/{idea_id}/votes` with `{voter?}` → 201, the idea with
/// its count; 409 for a second vote of the voter or a closed brainstorm.
#[utoipa::path(
    post,
    path = "/api/v1/brainstorms/{id}/ideas/{idea_id}/votes",
    summary = "Vote for an idea",
    tag = "brainstorms",
    params(
        ("id" = BrainstormId, Path, description = "The brainstorm's id"),
        ("idea_id" = BrainstormIdeaId, Path, description = "The idea's id"),
    ),
    request_body = IdeaVoteBody,
    responses(
        (status = 201, description = "The idea, with its votes counted", body = BrainstormIdea),
        (status = 409, description = "The voter has voted for the idea already, or the \
            brainstorm is closed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(brainstorm_id = %path.0, idea_id = %path.1))]
pub(crate) async fn vote(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(BrainstormId, BrainstormIdeaId)>,
    ApiJson(body): ApiJson<IdeaVoteBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let (brainstorm, idea) = path.into_inner();
    let voter = body.into_voter()?;
    let voter = acting_as(auth.principal(), voter, "voter")?;
    let counted = state
        .store
        .vote_for_idea(ctx, brainstorm, idea, voter)
        .await?;
    Ok(HttpResponse::Created().json(counted))
}

/// `DELETE /api/v1/brainstorms/{id}/ideas/{idea_id}/votes?voter_kind=&voter_id=` → the idea
/// with its count; 404 when the voter has no vote for it, 409 when the brainstorm is closed.
#[utoipa::path(
    delete,
    path = "/api/v1/brainstorms/{id}/ideas/{idea_id}/votes",
    summary = "Withdraw a vote for an idea",
    tag = "brainstorms",
    params(
        ("id" = BrainstormId, Path, description = "The brainstorm's id"),
        ("idea_id" = BrainstormIdeaId, Path, description = "The idea's id"),
        WithdrawQuery,
    ),
    responses(
        (status = 200, description = "The idea, with its votes counted", body = BrainstormIdea),
        (status = 409, description = "The brainstorm is closed", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(brainstorm_id = %path.0, idea_id = %path.1))]
pub(crate) async fn withdraw_vote(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<(BrainstormId, BrainstormIdeaId)>,
    ApiQuery(query): ApiQuery<WithdrawQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let (brainstorm, idea) = path.into_inner();
    let voter = query.into_voter()?;
    let voter = acting_as(auth.principal(), voter, "voter")?;
    let counted = state
        .store
        .withdraw_idea_vote(ctx, brainstorm, idea, voter)
        .await?;
    Ok(HttpResponse::Ok().json(counted))
}

/// `GET /api/v1/brainstorms/{id}/top-ideas?limit=` → `{items}`: most votes first, ties oldest
/// first.
#[utoipa::path(
    get,
    path = "/api/v1/brainstorms/{id}/top-ideas",
    summary = "Read a brainstorm's top ideas",
    tag = "brainstorms",
    params(("id" = BrainstormId, Path, description = "The brainstorm's id"), TopQuery),
    responses((status = 200, description = "The ideas with the most votes, ties oldest first",
        body = TopIdeas))
)]
#[tracing::instrument(skip_all, fields(brainstorm_id = %id))]
pub(crate) async fn top_ideas(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<BrainstormId>,
    ApiQuery(query): ApiQuery<TopQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let limit = query.into_limit()?;
    let items = state
        .store
        .top_brainstorm_ideas(ctx, id.into_inner(), limit)
        .await?;
    Ok(HttpResponse::Ok().json(TopIdeas { items }))
}

/// `GET /api/v1/brainstorms/{id}/stats` → `{brainstorm_id, ideas, participants, votes}`.
#[utoipa::path(
    get,
    path = "/api/v1/brainstorms/{id}/stats",
    summary = "Read a brainstorm's statistics",
    tag = "brainstorms",
    params(("id" = BrainstormId, Path, description = "The brainstorm's id")),
    responses((status = 200, description = "What the brainstorm gathered: its ideas, \
        participants and votes, counted", body = BrainstormStats))
)]
#[tracing::instrument(skip_all, fields(brainstorm_id = %id))]
pub(crate) async fn stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<BrainstormId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.brainstorm_stats(ctx, id.into_inner()).await?))
}

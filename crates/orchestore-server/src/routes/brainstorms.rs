//! `/api/v1/brainstorms`: sessions, their ideas, votes, top ideas and statistics.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    Brainstorm, BrainstormId, BrainstormIdea, BrainstormIdeaId, BrainstormStats, BrainstormStatus,
    BrainstormTopic, Description, IdeaText, NewBrainstorm, NewIdea, Participant, ParticipantKind,
    Permission, ProjectId,
};
use orchestore_repo::{
    BrainstormFilter, BrainstormIdeaSort, BrainstormSort, Limit, Page, PageRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use super::messages::{ParticipantBody, participant_param};
use crate::auth::{Authenticated, Principal};
use crate::error::{ApiError, FieldErrors, Problem};
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBrainstormBody {
    /// 1 to 200 characters, trimmed.
    #[schema(min_length = 1, max_length = 200)]
    topic: String,
    /// Up to 20,000 characters.
    #[schema(max_length = 20_000)]
    description: Option<String>,
    /// Who leads it: the caller when left out.
    #[schema(value_type = Option<Participant>)]
    facilitator: Option<ParticipantBody>,
    /// The project it is about, if any.
    project_id: Option<ProjectId>,
}

impl CreateBrainstormBody {
    fn into_new(self, principal: Principal) -> Result<NewBrainstorm, ApiError> {
        let mut errors = FieldErrors::default();
        let topic = errors.check(BrainstormTopic::parse(&self.topic));
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let facilitator = errors.check(
            self.facilitator
                .map_or(Ok(caller(principal)), |f| f.parse("facilitator.kind")),
        );
        let (Some(topic), Some(description), Some(facilitator)) = (topic, description, facilitator)
        else {
            return Err(errors.into_error().into());
        };
        Ok(NewBrainstorm {
            topic,
            description,
            facilitator,
            project_id: self.project_id,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only brainstorms in this status.
    #[param(value_type = Option<BrainstormStatus>)]
    status: Option<String>,
    /// Only the brainstorms of this project.
    project_id: Option<ProjectId>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<BrainstormSort>)]
    sort: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BrainstormIdeaBody {
    /// 1 to 2,000 characters, trimmed.
    #[schema(min_length = 1, max_length = 2000)]
    text: String,
    /// The caller when left out. A user's token acts as its user or as an agent of its
    /// organization; an agent's key as its agent only.
    #[schema(value_type = Option<Participant>)]
    author: Option<ParticipantBody>,
}

/// `{voter?}`: the caller when left out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdeaVoteBody {
    /// The caller when left out. A user's token acts as its user or as an agent of its
    /// organization; an agent's key as its agent only.
    #[schema(value_type = Option<Participant>)]
    voter: Option<ParticipantBody>,
}

/// The voter whose vote goes: `voter_kind` and `voter_id`, or the caller.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct WithdrawQuery {
    /// The voter whose vote goes, given with `voter_id`; the caller when both are left out.
    #[param(value_type = Option<ParticipantKind>)]
    voter_kind: Option<String>,
    /// Given with `voter_kind`.
    voter_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TopQuery {
    /// How many ideas.
    #[param(minimum = 1, maximum = 200, default = 10)]
    limit: Option<u64>,
}

/// A brainstorm's top ideas: most votes first, ties oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TopIdeas {
    items: Vec<BrainstormIdea>,
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
        .create_brainstorm(ctx, body.into_new(auth.principal())?)
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
    params(ListQuery),
    responses((status = 200, description = "A page of brainstorms",
        body = Page<Brainstorm, BrainstormSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let mut errors = FieldErrors::default();
    let status = errors.check(
        query
            .status
            .map(|s| s.parse::<BrainstormStatus>())
            .transpose(),
    );
    let page: Option<PageRequest<BrainstormSort>> = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let (Some(status), Some(page)) = (status, page) else {
        return Err(errors.into_error().into());
    };
    let filter = BrainstormFilter {
        status,
        project_id: query.project_id,
    };
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
    let mut errors = FieldErrors::default();
    let text = errors.check(IdeaText::parse(&body.text));
    let author = errors.check(body.author.map(|a| a.parse("author.kind")).transpose());
    let (Some(text), Some(author)) = (text, author) else {
        return Err(errors.into_error().into());
    };
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
    ApiQuery(query): ApiQuery<super::PageQuery>,
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
    let voter = body.voter.map(|v| v.parse("voter.kind")).transpose()?;
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
    let voter = participant_param("voter_kind", "voter_id", query.voter_kind, query.voter_id)?;
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
    let limit = Limit::parse(query.limit.unwrap_or(10))?;
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

//! `/api/v1/achievement-definitions`, `/api/v1/achievements` and the summaries of agents and
//! users.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::achievements::{
    AchievementDefinitionBody, AwardAchievementBody, ListDefinitionsQuery,
};
use orchestore_domain::{
    Achievement, AchievementDefinition, AchievementDefinitionId, AgentId, HolderSummary,
    Participant, Permission, UserId,
};
use orchestore_repo::{AchievementDefinitionSort, Page};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    define,
    list_definitions,
    get_definition,
    award,
    agent_summary,
    user_summary
))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/achievement-definitions", "GET, POST")
            .route(web::get().to(list_definitions))
            .route(web::post().to(define)),
    )
    .service(
        super::resource("/achievement-definitions/{id}", "GET")
            .route(web::get().to(get_definition)),
    )
    .service(super::resource("/achievements", "POST").route(web::post().to(award)))
    .service(super::resource("/agents/{id}/summary", "GET").route(web::get().to(agent_summary)))
    .service(super::resource("/users/{id}/summary", "GET").route(web::get().to(user_summary)));
}

/// `POST /api/v1/achievement-definitions` with `{code, name, description, points?,
/// criteria?}` → 201; a code the organization has is a 409 on `code`.
#[utoipa::path(
    post,
    path = "/api/v1/achievement-definitions",
    summary = "Define an achievement",
    tag = "achievements",
    request_body = AchievementDefinitionBody,
    responses(
        (status = 201, description = "The achievement, defined", body = AchievementDefinition,
            headers(("Location" = String, description = "The definition's URL"))),
        (status = 409, description = "The organization has an achievement of this code",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn define(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<AchievementDefinitionBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let definition = state
        .store
        .create_achievement_definition(ctx, body.into_new_definition()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("/api/v1/achievement-definitions/{}", definition.id),
        ))
        .json(definition))
}

/// `GET /api/v1/achievement-definitions?limit=&cursor=&sort=` (`created_at` or
/// `-created_at`).
#[utoipa::path(
    get,
    path = "/api/v1/achievement-definitions",
    summary = "List achievement definitions",
    tag = "achievements",
    params(ListDefinitionsQuery),
    responses((status = 200, description = "A page of achievement definitions",
        body = Page<AchievementDefinition, AchievementDefinitionSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_definitions(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListDefinitionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let page = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(state.store.list_achievement_definitions(ctx, page).await?))
}

/// `GET /api/v1/achievement-definitions/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/achievement-definitions/{id}",
    summary = "Get an achievement definition",
    tag = "achievements",
    params(("id" = AchievementDefinitionId, Path, description = "The definition's id")),
    responses((status = 200, description = "The achievement definition",
        body = AchievementDefinition))
)]
#[tracing::instrument(skip_all, fields(definition_id = %id))]
pub(crate) async fn get_definition(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AchievementDefinitionId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .get_achievement_definition(ctx, id.into_inner())
            .await?,
    ))
}

/// `POST /api/v1/achievements` with `{definition_id, holder: {kind, id}}` → 201, with its
/// points in the ledger; 409 when the holder has it already.
#[utoipa::path(
    post,
    path = "/api/v1/achievements",
    summary = "Award an achievement",
    tag = "achievements",
    request_body = AwardAchievementBody,
    responses(
        (status = 201, description = "The achievement, awarded", body = Achievement),
        (status = 409, description = "The holder has the achievement already", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn award(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<AwardAchievementBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let achievement = state
        .store
        .award_achievement(ctx, body.into_new_achievement()?)
        .await?;
    Ok(HttpResponse::Created().json(achievement))
}

/// `GET /api/v1/agents/{id}/summary` → standing, achievements and reputation.
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}/summary",
    summary = "Summarize an agent",
    tag = "achievements",
    params(("id" = AgentId, Path, description = "The agent's id")),
    responses((status = 200, description = "The agent's standing, achievements and reputation",
        body = HolderSummary))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn agent_summary(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let holder = Participant::Agent(id.into_inner());
    Ok(HttpResponse::Ok().json(state.store.holder_summary(ctx, holder).await?))
}

/// `GET /api/v1/users/{id}/summary` → standing and achievements (`reputation` is `null`).
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/summary",
    summary = "Summarize a user",
    tag = "achievements",
    params(("id" = UserId, Path, description = "The user's id")),
    responses((status = 200, description = "The user's standing and achievements \
        (`reputation` is `null`)", body = HolderSummary))
)]
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn user_summary(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let holder = Participant::User(id.into_inner());
    Ok(HttpResponse::Ok().json(state.store.holder_summary(ctx, holder).await?))
}

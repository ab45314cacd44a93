//! `/api/v1/achievement-definitions`, `/api/v1/achievements` and the summaries of agents and
//! users.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    AchievementCode, AchievementDefinitionId, AchievementDescription, AchievementName,
    AchievementPoints, AgentId, Metadata, NewAchievement, NewAchievementDefinition, Participant,
    Permission, UserId,
};
use serde::Deserialize;

use super::messages::ParticipantBody;
use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DefinitionBody {
    code: String,
    name: String,
    description: String,
    #[serde(default)]
    points: i64,
    criteria: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AwardBody {
    definition_id: AchievementDefinitionId,
    holder: ParticipantBody,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    limit: Option<u64>,
    cursor: Option<String>,
    sort: Option<String>,
}

/// `POST /api/v1/achievement-definitions` with `{code, name, description, points?,
/// criteria?}` → 201; a code the organization has is a 409 on `code`.
#[tracing::instrument(skip_all)]
pub(crate) async fn define(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<DefinitionBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let mut errors = FieldErrors::default();
    let code = errors.check(AchievementCode::parse(&body.code));
    let name = errors.check(AchievementName::parse(&body.name));
    let description = errors.check(AchievementDescription::parse(&body.description));
    let points = errors.check(AchievementPoints::parse(body.points));
    let criteria = errors.check(
        body.criteria
            .map(|json| Metadata::parse("criteria", json))
            .transpose(),
    );
    let (Some(code), Some(name), Some(description), Some(points), Some(criteria)) =
        (code, name, description, points, criteria)
    else {
        return Err(errors.into_error());
    };
    let definition = state
        .store
        .create_achievement_definition(
            ctx,
            NewAchievementDefinition {
                code,
                name,
                description,
                points,
                criteria,
            },
        )
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
#[tracing::instrument(skip_all)]
pub(crate) async fn list_definitions(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let mut errors = FieldErrors::default();
    let Some(page) = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    ) else {
        return Err(errors.into_error());
    };
    Ok(HttpResponse::Ok().json(state.store.list_achievement_definitions(ctx, page).await?))
}

/// `GET /api/v1/achievement-definitions/{id}`.
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
#[tracing::instrument(skip_all)]
pub(crate) async fn award(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<AwardBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let mut errors = FieldErrors::default();
    let Some(holder) = errors.check(body.holder.parse("holder.kind")) else {
        return Err(errors.into_error());
    };
    let achievement = state
        .store
        .award_achievement(
            ctx,
            NewAchievement {
                definition_id: body.definition_id,
                holder,
            },
        )
        .await?;
    Ok(HttpResponse::Created().json(achievement))
}

/// `GET /api/v1/agents/{id}/summary` → standing, achievements and reputation.
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

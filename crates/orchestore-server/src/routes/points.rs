//! `/api/v1/points` (the ledger) and the standings of agents and users.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    AgentId, NewPointAward, Participant, Permission, PointAmount, PointAwardId, PointReason,
    PointSource, UserId,
};
use orchestore_repo::{PageRequest, PointAwardFilter, PointAwardSort};
use serde::Deserialize;
use uuid::Uuid;

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
        super::resource("/points", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(award)),
    )
    .service(super::resource("/points/{id}", "GET").route(web::get().to(get)))
    .service(super::resource("/agents/{id}/standing", "GET").route(web::get().to(agent_standing)))
    .service(super::resource("/users/{id}/standing", "GET").route(web::get().to(user_standing)));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AwardBody {
    holder: ParticipantBody,
    points: i64,
    reason: String,
    source: String,
}

impl AwardBody {
    fn into_new_award(self) -> Result<NewPointAward, ApiError> {
        let mut errors = FieldErrors::default();
        let holder = errors.check(self.holder.parse("holder.kind"));
        let points = errors.check(PointAmount::parse(self.points));
        let reason = errors.check(PointReason::parse(&self.reason));
        let source = errors.check(PointSource::parse(&self.source));
        let (Some(holder), Some(points), Some(reason), Some(source)) =
            (holder, points, reason, source)
        else {
            return Err(errors.into_error());
        };
        Ok(NewPointAward {
            holder,
            points,
            reason,
            source,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListPointsQuery {
    holder_kind: Option<String>,
    holder_id: Option<Uuid>,
    limit: Option<u64>,
    cursor: Option<String>,
    sort: Option<String>,
}

impl ListPointsQuery {
    fn into_filter_and_page(
        self,
    ) -> Result<(PointAwardFilter, PageRequest<PointAwardSort>), ApiError> {
        let mut errors = FieldErrors::default();
        let holder = errors.check(super::messages::participant_param(
            "holder_kind",
            "holder_id",
            self.holder_kind,
            self.holder_id,
        ));
        let page = super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(holder), Some(page)) = (holder, page) else {
            return Err(errors.into_error());
        };
        Ok((PointAwardFilter { holder }, page))
    }
}

/// `POST /api/v1/points` with `{holder: {kind, id}, points, reason, source}` → 201.
#[tracing::instrument(skip_all)]
pub(crate) async fn award(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<AwardBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let award = state
        .store
        .award_points(ctx, body.into_new_award()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/points/{}", award.id)))
        .json(award))
}

/// `GET /api/v1/points?holder_kind=&holder_id=&limit=&cursor=&sort=` (`-awarded_at` or
/// `awarded_at`).
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListPointsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_point_awards(ctx, filter, page).await?))
}

/// `GET /api/v1/points/{id}`.
#[tracing::instrument(skip_all, fields(award_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<PointAwardId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_point_award(ctx, id.into_inner()).await?))
}

/// `GET /api/v1/agents/{id}/standing` → points, experience, level, rating.
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn agent_standing(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let holder = Participant::Agent(id.into_inner());
    Ok(HttpResponse::Ok().json(state.store.get_standing(ctx, holder).await?))
}

/// `GET /api/v1/users/{id}/standing` → points, experience and level.
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn user_standing(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let holder = Participant::User(id.into_inner());
    Ok(HttpResponse::Ok().json(state.store.get_standing(ctx, holder).await?))
}

//! `/api/v1/mentorships`: pairings, their status, their sessions, and each mentor's record.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use orchestore_api::PageQuery;
use orchestore_api::mentorships::{
    CreateMentorshipBody, ListMentorshipsQuery, MentorshipSessionBody, MentorshipStatusBody,
};
use orchestore_domain::{
    AgentId, MentorStats, Mentorship, MentorshipId, MentorshipSession, Participant,
    ParticipantKind, Permission, UserId,
};
use orchestore_repo::{MentorshipSessionSort, MentorshipSort, Page, PageRequest};
use utoipa::OpenApi;

use super::brainstorms::caller;
use crate::auth::Authenticated;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(create, list, get, set_status, record_session, list_sessions, agent_stats, user_stats),
    // A filter's kind of participant, which no answer names.
    components(schemas(ParticipantKind))
)]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/mentorships", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(super::resource("/mentorships/{id}", "GET").route(web::get().to(get)))
    .service(super::resource("/mentorships/{id}/status", "POST").route(web::post().to(set_status)))
    .service(
        super::resource("/mentorships/{id}/sessions", "GET, POST")
            .route(web::get().to(list_sessions))
            .route(web::post().to(record_session)),
    )
    .service(super::resource("/agents/{id}/mentor-stats", "GET").route(web::get().to(agent_stats)))
    .service(super::resource("/users/{id}/mentor-stats", "GET").route(web::get().to(user_stats)));
}

/// `POST /api/v1/mentorships` with `{mentor: {kind, id}, mentee: {kind, id}, goals: [...]}` →
/// 201, proposed.
#[utoipa::path(
    post,
    path = "/api/v1/mentorships",
    summary = "Propose a mentorship",
    tag = "mentorships",
    request_body = CreateMentorshipBody,
    responses(
        (status = 201, description = "The mentorship, proposed", body = Mentorship,
            headers(("Location" = String, description = "The mentorship's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateMentorshipBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let created = state
        .store
        .create_mentorship(ctx, body.into_new_mentorship()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/mentorships/{}", created.id)))
        .json(created))
}

/// `GET /api/v1/mentorships?mentor_kind=&mentor_id=&mentee_kind=&mentee_id=&status=&limit=
/// &cursor=&sort=` (`-created_at` or `created_at`).
#[utoipa::path(
    get,
    path = "/api/v1/mentorships",
    summary = "List mentorships",
    tag = "mentorships",
    params(ListMentorshipsQuery),
    responses((status = 200, description = "A page of mentorships",
        body = Page<Mentorship, MentorshipSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListMentorshipsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_mentorships(ctx, filter, page).await?))
}

/// `GET /api/v1/mentorships/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/mentorships/{id}",
    summary = "Get a mentorship",
    tag = "mentorships",
    params(("id" = MentorshipId, Path, description = "The mentorship's id")),
    responses((status = 200, description = "The mentorship", body = Mentorship))
)]
#[tracing::instrument(skip_all, fields(mentorship_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MentorshipId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_mentorship(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/mentorships/{id}/status` with `{status}` → the mentorship; 409 for a move
/// its status does not allow, or a second active mentorship of the pair. Its mentor or mentee
/// moves it with `collaboration:write`; anyone else needs `collaboration:admin` too.
#[utoipa::path(
    post,
    path = "/api/v1/mentorships/{id}/status",
    summary = "Move a mentorship to a status",
    tag = "mentorships",
    params(("id" = MentorshipId, Path, description = "The mentorship's id")),
    request_body = MentorshipStatusBody,
    responses(
        (status = 200, description = "The mentorship, moved", body = Mentorship),
        (status = 409, description = "Its status does not allow the move, or the mentor and \
            the mentee have an active mentorship already", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(mentorship_id = %id))]
pub(crate) async fn set_status(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MentorshipId>,
    ApiJson(body): ApiJson<MentorshipStatusBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let status = body.into_status()?;
    let id = id.into_inner();
    let mentorship = state.store.get_mentorship(ctx, id).await?;
    let me = caller(auth.principal());
    if mentorship.mentor != me && mentorship.mentee != me {
        auth.require(Permission::CollaborationAdmin)?;
    }
    Ok(HttpResponse::Ok().json(state.store.set_mentorship_status(ctx, id, status).await?))
}

/// `POST /api/v1/mentorships/{id}/sessions` with `{held_at?, duration_minutes, notes?,
/// progress}` → 201; 409 unless the mentorship is active.
#[utoipa::path(
    post,
    path = "/api/v1/mentorships/{id}/sessions",
    summary = "Record a mentorship session",
    tag = "mentorships",
    params(("id" = MentorshipId, Path, description = "The mentorship's id")),
    request_body = MentorshipSessionBody,
    responses(
        (status = 201, description = "The session, recorded", body = MentorshipSession),
        (status = 409, description = "The mentorship is not active", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(mentorship_id = %id))]
pub(crate) async fn record_session(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MentorshipId>,
    ApiJson(body): ApiJson<MentorshipSessionBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let session = state
        .store
        .record_mentorship_session(ctx, id.into_inner(), body.into_new_session(Utc::now())?)
        .await?;
    Ok(HttpResponse::Created().json(session))
}

/// `GET /api/v1/mentorships/{id}/sessions?limit=&cursor=&sort=` (`recorded_at` or
/// `-recorded_at`).
#[utoipa::path(
    get,
    path = "/api/v1/mentorships/{id}/sessions",
    summary = "List a mentorship's sessions",
    tag = "mentorships",
    params(
        ("id" = MentorshipId, Path, description = "The mentorship's id"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page, 50 by default"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<MentorshipSessionSort>, Query),
    ),
    responses((status = 200, description = "A page of the mentorship's sessions",
        body = Page<MentorshipSession, MentorshipSessionSort>))
)]
#[tracing::instrument(skip_all, fields(mentorship_id = %id))]
pub(crate) async fn list_sessions(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MentorshipId>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let page: PageRequest<MentorshipSessionSort> = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_mentorship_sessions(ctx, id.into_inner(), page)
            .await?,
    ))
}

/// `GET /api/v1/agents/{id}/mentor-stats`.
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}/mentor-stats",
    summary = "Read an agent's record as a mentor",
    tag = "mentorships",
    params(("id" = AgentId, Path, description = "The agent's id")),
    responses((status = 200, description = "The agent's mentorships as a mentor, counted",
        body = MentorStats))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn agent_stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let mentor = Participant::Agent(id.into_inner());
    Ok(HttpResponse::Ok().json(state.store.mentor_stats(ctx, mentor).await?))
}

/// `GET /api/v1/users/{id}/mentor-stats`.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/mentor-stats",
    summary = "Read a user's record as a mentor",
    tag = "mentorships",
    params(("id" = UserId, Path, description = "The user's id")),
    responses((status = 200, description = "The user's mentorships as a mentor, counted",
        body = MentorStats))
)]
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn user_stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let mentor = Participant::User(id.into_inner());
    Ok(HttpResponse::Ok().json(state.store.mentor_stats(ctx, mentor).await?))
}

//! `/api/v1/mentorships`: pairings, their status, their sessions, and each mentor's record.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, Description, MentorshipGoals, MentorshipId, MentorshipProgress, MentorshipStatus,
    NewMentorship, NewMentorshipSession, Participant, Permission, SessionMinutes, UserId,
};
use orchestore_repo::{MentorshipFilter, MentorshipSessionSort, MentorshipSort, PageRequest};
use serde::Deserialize;
use uuid::Uuid;

use super::brainstorms::caller;
use super::messages::{ParticipantBody, participant_param};
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    mentor: ParticipantBody,
    mentee: ParticipantBody,
    goals: Vec<String>,
}

impl CreateBody {
    fn into_new(self) -> Result<NewMentorship, ApiError> {
        let mut errors = FieldErrors::default();
        let mentor = errors.check(self.mentor.parse("mentor.kind"));
        let mentee = errors.check(self.mentee.parse("mentee.kind"));
        let goals = errors.check(MentorshipGoals::parse(&self.goals));
        let (Some(mentor), Some(mentee), Some(goals)) = (mentor, mentee, goals) else {
            return Err(errors.into_error());
        };
        Ok(NewMentorship::new(mentor, mentee, goals)?)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    mentor_kind: Option<String>,
    mentor_id: Option<Uuid>,
    mentee_kind: Option<String>,
    mentee_id: Option<Uuid>,
    status: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
    sort: Option<String>,
}

impl ListQuery {
    fn into_filter_and_page(
        self,
    ) -> Result<(MentorshipFilter, PageRequest<MentorshipSort>), ApiError> {
        let mut errors = FieldErrors::default();
        let mentor = errors.check(participant_param(
            "mentor_kind",
            "mentor_id",
            self.mentor_kind,
            self.mentor_id,
        ));
        let mentee = errors.check(participant_param(
            "mentee_kind",
            "mentee_id",
            self.mentee_kind,
            self.mentee_id,
        ));
        let status = errors.check(
            self.status
                .map(|s| s.parse::<MentorshipStatus>())
                .transpose(),
        );
        let page = super::page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(mentor), Some(mentee), Some(status), Some(page)) = (mentor, mentee, status, page)
        else {
            return Err(errors.into_error());
        };
        Ok((
            MentorshipFilter {
                mentor,
                mentee,
                status,
            },
            page,
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    status: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SessionBody {
    /// Now when left out.
    held_at: Option<DateTime<Utc>>,
    duration_minutes: i64,
    notes: Option<String>,
    progress: i64,
}

impl SessionBody {
    fn into_new(self) -> Result<NewMentorshipSession, ApiError> {
        let mut errors = FieldErrors::default();
        let duration = errors.check(SessionMinutes::parse(self.duration_minutes));
        let notes = errors.check(self.notes.map_or(Ok(Description::empty()), |n| {
            Description::parse("notes", &n)
        }));
        let progress = errors.check(MentorshipProgress::parse(self.progress));
        let (Some(duration), Some(notes), Some(progress)) = (duration, notes, progress) else {
            return Err(errors.into_error());
        };
        Ok(NewMentorshipSession {
            held_at: self.held_at.unwrap_or_else(Utc::now),
            duration,
            notes,
            progress,
        })
    }
}

/// `POST /api/v1/mentorships` with `{mentor: {kind, id}, mentee: {kind, id}, goals: [...]}` →
/// 201, proposed.
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let created = state.store.create_mentorship(ctx, body.into_new()?).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/mentorships/{}", created.id)))
        .json(created))
}

/// `GET /api/v1/mentorships?mentor_kind=&mentor_id=&mentee_kind=&mentee_id=&status=&limit=
/// &cursor=&sort=` (`-created_at` or `created_at`).
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_mentorships(ctx, filter, page).await?))
}

/// `GET /api/v1/mentorships/{id}`.
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
#[tracing::instrument(skip_all, fields(mentorship_id = %id))]
pub(crate) async fn set_status(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MentorshipId>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let status: MentorshipStatus = body.status.parse()?;
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
#[tracing::instrument(skip_all, fields(mentorship_id = %id))]
pub(crate) async fn record_session(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MentorshipId>,
    ApiJson(body): ApiJson<SessionBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let session = state
        .store
        .record_mentorship_session(ctx, id.into_inner(), body.into_new()?)
        .await?;
    Ok(HttpResponse::Created().json(session))
}

/// `GET /api/v1/mentorships/{id}/sessions?limit=&cursor=&sort=` (`recorded_at` or
/// `-recorded_at`).
#[tracing::instrument(skip_all, fields(mentorship_id = %id))]
pub(crate) async fn list_sessions(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MentorshipId>,
    ApiQuery(query): ApiQuery<super::PageQuery>,
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

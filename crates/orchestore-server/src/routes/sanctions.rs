//! Rewards and penalties: `/api/v1/rewards`, `/api/v1/violations`, `/api/v1/penalties`,
//! `/api/v1/appeals`, `/api/v1/sanctions/…` and each holder's `/sanctions`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::sanctions::{
    AppealBody, DecisionBody, ListAppealsQuery, ListPenaltiesQuery, ListRewardsQuery,
    ListViolationsQuery, PenaltyBody, RewardBody, ViolationBody,
};
use orchestore_domain::{
    AgentId, Appeal, AppealId, AppealStatus, HolderSanctions, Participant, ParticipantKind,
    Penalty, PenaltyId, Permission, Redemption, Reward, RewardId, RewardStatus, SanctionsSummary,
    Severity, UserId, Violation, ViolationId,
};
use orchestore_repo::{Page, Redeemer, RewardSort, SanctionSort, SweptSanctions};
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        allocate,
        list_rewards,
        get_reward,
        redeem,
        record_violation,
        list_violations,
        get_violation,
        apply_penalty,
        list_penalties,
        get_penalty,
        file_appeal,
        list_appeals,
        get_appeal,
        decide,
        summary,
        sweep,
        of_agent,
        of_user,
    ),
    // A filter's kind of participant, which no answer names.
    components(schemas(ParticipantKind))
)]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/rewards", "GET, POST")
            .route(web::get().to(list_rewards))
            .route(web::post().to(allocate)),
    )
    .service(super::resource("/rewards/{id}", "GET").route(web::get().to(get_reward)))
    .service(super::resource("/rewards/{id}/redeem", "POST").route(web::post().to(redeem)))
    .service(
        super::resource("/violations", "GET, POST")
            .route(web::get().to(list_violations))
            .route(web::post().to(record_violation)),
    )
    .service(super::resource("/violations/{id}", "GET").route(web::get().to(get_violation)))
    .service(
        super::resource("/penalties", "GET, POST")
            .route(web::get().to(list_penalties))
            .route(web::post().to(apply_penalty)),
    )
    .service(super::resource("/penalties/{id}", "GET").route(web::get().to(get_penalty)))
    .service(
        super::resource("/appeals", "GET, POST")
            .route(web::get().to(list_appeals))
            .route(web::post().to(file_appeal)),
    )
    .service(super::resource("/appeals/{id}", "GET").route(web::get().to(get_appeal)))
    .service(super::resource("/appeals/{id}/decision", "POST").route(web::post().to(decide)))
    .service(super::resource("/sanctions/summary", "GET").route(web::get().to(summary)))
    .service(super::resource("/sanctions/sweep", "POST").route(web::post().to(sweep)))
    .service(super::resource("/agents/{id}/sanctions", "GET").route(web::get().to(of_agent)))
    .service(super::resource("/users/{id}/sanctions", "GET").route(web::get().to(of_user)));
}

/// `POST /api/v1/rewards` with `{recipient: {kind, id}, kind, points | badge | permission +
/// duration_seconds, reason, expires_at?}` → 201.
#[utoipa::path(
    post,
    path = "/api/v1/rewards",
    summary = "Allocate a reward",
    tag = "sanctions",
    request_body = RewardBody,
    responses(
        (status = 201, description = "The reward, allocated", body = Reward,
            headers(("Location" = String, description = "The reward's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn allocate(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<RewardBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let new = body.into_new_reward(auth.permissions())?;
    let reward = state.store.allocate_reward(ctx, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/rewards/{}", reward.id)))
        .json(reward))
}

/// `GET /api/v1/rewards?recipient_kind=&recipient_id=&status=&limit=&cursor=&sort=`
/// (`-allocated_at` or `allocated_at`).
#[utoipa::path(
    get,
    path = "/api/v1/rewards",
    summary = "List rewards",
    tag = "sanctions",
    params(
        ("recipient_kind" = Option<ParticipantKind>, Query,
            description = "Only this recipient's rewards: given with `recipient_id`"),
        ("recipient_id" = Option<Uuid>, Query, description = "Given with `recipient_kind`"),
        ("status" = Option<RewardStatus>, Query, description = "Only rewards in this status"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page, 50 by default"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<RewardSort>, Query),
    ),
    responses((status = 200, description = "A page of rewards", body = Page<Reward, RewardSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_rewards(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListRewardsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_rewards(ctx, filter, page).await?))
}

/// `GET /api/v1/rewards/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/rewards/{id}",
    summary = "Get a reward",
    tag = "sanctions",
    params(("id" = RewardId, Path, description = "The reward's id")),
    responses((status = 200, description = "The reward", body = Reward))
)]
#[tracing::instrument(skip_all, fields(reward_id = %id))]
pub(crate) async fn get_reward(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<RewardId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_reward(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/rewards/{id}/redeem` → `{reward, point_award, grant}`: by its recipient, or
/// by a holder of `collaboration:admin` for it; once (409 the second time).
#[utoipa::path(
    post,
    path = "/api/v1/rewards/{id}/redeem",
    summary = "Redeem a reward",
    tag = "sanctions",
    params(("id" = RewardId, Path, description = "The reward's id")),
    responses(
        (status = 200, description = "The reward, redeemed, with the ledger entry or the \
            permission grant it gave", body = Redemption),
        (status = 409, description = "The reward is redeemed already, or it expired",
            body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(reward_id = %id))]
pub(crate) async fn redeem(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<RewardId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let by = if auth.permissions().contains(&Permission::CollaborationAdmin) {
        Redeemer::Administrator
    } else {
        Redeemer::Recipient
    };
    Ok(HttpResponse::Ok().json(state.store.redeem_reward(ctx, id.into_inner(), by).await?))
}

/// `POST /api/v1/violations` with `{offender: {kind, id}, rule, severity, evidence}` → 201.
#[utoipa::path(
    post,
    path = "/api/v1/violations",
    summary = "Record a violation",
    tag = "sanctions",
    request_body = ViolationBody,
    responses(
        (status = 201, description = "The violation, recorded", body = Violation,
            headers(("Location" = String, description = "The violation's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn record_violation(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<ViolationBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let new = body.into_new_violation()?;
    let violation = state.store.record_violation(ctx, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/violations/{}", violation.id)))
        .json(violation))
}

/// `GET /api/v1/violations?offender_kind=&offender_id=&severity=&limit=&cursor=&sort=`
/// (`-created_at` or `created_at`).
#[utoipa::path(
    get,
    path = "/api/v1/violations",
    summary = "List violations",
    tag = "sanctions",
    params(
        ("offender_kind" = Option<ParticipantKind>, Query,
            description = "Only this offender's violations: given with `offender_id`"),
        ("offender_id" = Option<Uuid>, Query, description = "Given with `offender_kind`"),
        ("severity" = Option<Severity>, Query, description = "Only violations this grave"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page, 50 by default"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<SanctionSort>, Query),
    ),
    responses((status = 200, description = "A page of violations",
        body = Page<Violation, SanctionSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_violations(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListViolationsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_violations(ctx, filter, page).await?))
}

/// `GET /api/v1/violations/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/violations/{id}",
    summary = "Get a violation",
    tag = "sanctions",
    params(("id" = ViolationId, Path, description = "The violation's id")),
    responses((status = 200, description = "The violation", body = Violation))
)]
#[tracing::instrument(skip_all, fields(violation_id = %id))]
pub(crate) async fn get_violation(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<ViolationId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_violation(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/penalties` with `{violation_id, kind, points | permission +
/// duration_seconds, reason}` → 201.
#[utoipa::path(
    post,
    path = "/api/v1/penalties",
    summary = "Apply a penalty",
    tag = "sanctions",
    request_body = PenaltyBody,
    responses(
        (status = 201, description = "The penalty, applied", body = Penalty,
            headers(("Location" = String, description = "The penalty's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn apply_penalty(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<PenaltyBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let new = body.into_new_penalty()?;
    let penalty = state.store.apply_penalty(ctx, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/penalties/{}", penalty.id)))
        .json(penalty))
}

/// `GET /api/v1/penalties?holder_kind=&holder_id=&violation_id=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/penalties",
    summary = "List penalties",
    tag = "sanctions",
    params(
        ("holder_kind" = Option<ParticipantKind>, Query,
            description = "Only this holder's penalties: given with `holder_id`"),
        ("holder_id" = Option<Uuid>, Query, description = "Given with `holder_kind`"),
        ("violation_id" = Option<ViolationId>, Query,
            description = "Only the penalties of this violation"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page, 50 by default"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<SanctionSort>, Query),
    ),
    responses((status = 200, description = "A page of penalties",
        body = Page<Penalty, SanctionSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_penalties(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListPenaltiesQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_penalties(ctx, filter, page).await?))
}

/// `GET /api/v1/penalties/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/penalties/{id}",
    summary = "Get a penalty",
    tag = "sanctions",
    params(("id" = PenaltyId, Path, description = "The penalty's id")),
    responses((status = 200, description = "The penalty", body = Penalty))
)]
#[tracing::instrument(skip_all, fields(penalty_id = %id))]
pub(crate) async fn get_penalty(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<PenaltyId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_penalty(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/appeals` with `{penalty_id, reason}` → 201: by the penalty's holder.
#[utoipa::path(
    post,
    path = "/api/v1/appeals",
    summary = "Appeal a penalty",
    tag = "sanctions",
    request_body = AppealBody,
    responses(
        (status = 201, description = "The appeal, open", body = Appeal,
            headers(("Location" = String, description = "The appeal's URL"))),
        (status = 409, description = "The penalty is overturned already, or has an open \
            appeal", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn file_appeal(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<AppealBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationWrite)?;
    let new = body.into_new_appeal()?;
    let appeal = state.store.file_appeal(ctx, new).await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/appeals/{}", appeal.id)))
        .json(appeal))
}

/// `GET /api/v1/appeals?penalty_id=&status=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/appeals",
    summary = "List appeals",
    tag = "sanctions",
    params(
        ("penalty_id" = Option<PenaltyId>, Query, description = "Only this penalty's appeals"),
        ("status" = Option<AppealStatus>, Query, description = "Only appeals in this status"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page, 50 by default"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<SanctionSort>, Query),
    ),
    responses((status = 200, description = "A page of appeals",
        body = Page<Appeal, SanctionSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_appeals(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListAppealsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_appeals(ctx, filter, page).await?))
}

/// `GET /api/v1/appeals/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/appeals/{id}",
    summary = "Get an appeal",
    tag = "sanctions",
    params(("id" = AppealId, Path, description = "The appeal's id")),
    responses((status = 200, description = "The appeal", body = Appeal))
)]
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub(crate) async fn get_appeal(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AppealId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.get_appeal(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/appeals/{id}/decision` with `{outcome: upheld | overturned, reason}` → the
/// decided appeal; 409 when it is decided already.
#[utoipa::path(
    post,
    path = "/api/v1/appeals/{id}/decision",
    summary = "Decide an appeal",
    tag = "sanctions",
    params(("id" = AppealId, Path, description = "The appeal's id")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "The appeal, decided", body = Appeal),
        (status = 409, description = "The appeal is decided already, or its penalty is \
            overturned already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(appeal_id = %id))]
pub(crate) async fn decide(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AppealId>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    let decision = body.into_decision()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .decide_appeal(ctx, id.into_inner(), decision)
            .await?,
    ))
}

/// `GET /api/v1/sanctions/summary` → the organization's rewards, violations, penalties and
/// appeals, counted.
#[utoipa::path(
    get,
    path = "/api/v1/sanctions/summary",
    summary = "Count the organization's sanctions",
    tag = "sanctions",
    responses((status = 200, description = "The rewards, violations, penalties and appeals, \
        counted", body = SanctionsSummary))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn summary(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    Ok(HttpResponse::Ok().json(state.store.sanctions_summary(ctx).await?))
}

/// `POST /api/v1/sanctions/sweep` → what it ended now (the server also sweeps every
/// `collaboration.sanction_sweep_interval`).
#[utoipa::path(
    post,
    path = "/api/v1/sanctions/sweep",
    summary = "End the expired sanctions now",
    tag = "sanctions",
    responses((status = 200, description = "What the sweep ended", body = SweptSanctions))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn sweep(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationAdmin)?;
    Ok(HttpResponse::Ok().json(state.store.expire_sanctions(ctx).await?))
}

/// `GET /api/v1/agents/{id}/sanctions`.
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}/sanctions",
    summary = "Read an agent's sanctions",
    tag = "sanctions",
    params(("id" = AgentId, Path, description = "The agent's id")),
    responses((status = 200, description = "The agent's rewards and penalties, counted, and \
        the grants and suspensions in force", body = HolderSanctions))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn of_agent(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let holder = Participant::Agent(id.into_inner());
    Ok(HttpResponse::Ok().json(state.store.holder_sanctions(ctx, holder).await?))
}

/// `GET /api/v1/users/{id}/sanctions`.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/sanctions",
    summary = "Read a user's sanctions",
    tag = "sanctions",
    params(("id" = UserId, Path, description = "The user's id")),
    responses((status = 200, description = "The user's rewards and penalties, counted, and \
        the grants and suspensions in force", body = HolderSanctions))
)]
#[tracing::instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn of_user(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::CollaborationRead)?;
    let holder = Participant::User(id.into_inner());
    Ok(HttpResponse::Ok().json(state.store.holder_sanctions(ctx, holder).await?))
}

//! `/api/v1/learning-records`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::learning::{CreateRecordBody, ListRecordsQuery};
use orchestore_domain::{LearningRecord, LearningRecordId, Permission};
use orchestore_repo::{LearningSort, Page};

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, list, get))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/learning-records", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(super::resource("/learning-records/{id}", "GET").route(web::get().to(get)));
}

/// `POST /api/v1/learning-records` → 201 with `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/learning-records",
    summary = "Record a learning",
    tag = "learning",
    request_body = CreateRecordBody,
    responses(
        (status = 201, description = "The record, created", body = LearningRecord,
            headers(("Location" = String, description = "The record's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateRecordBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::LearningWrite)?;
    let record = state
        .store
        .create_learning_record(ctx, body.into_new_record()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/learning-records/{}", record.id)))
        .json(record))
}

/// `GET /api/v1/learning-records?pattern=&pattern_prefix=&context=&outcome=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/learning-records",
    summary = "List learning records",
    tag = "learning",
    params(ListRecordsQuery),
    responses((status = 200, description = "A page of learning records",
        body = Page<LearningRecord, LearningSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListRecordsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::LearningRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_learning_records(ctx, filter, page).await?))
}

/// `GET /api/v1/learning-records/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/learning-records/{id}",
    summary = "Get a learning record",
    tag = "learning",
    params(("id" = LearningRecordId, Path, description = "The record's id")),
    responses((status = 200, description = "The learning record", body = LearningRecord))
)]
#[tracing::instrument(skip_all, fields(record_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<LearningRecordId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::LearningRead)?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .get_learning_record(ctx, id.into_inner())
            .await?,
    ))
}

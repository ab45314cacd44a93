//! `/api/v1/knowledge`: entries, collections of vectors, and search.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::knowledge::{
    CreateCollectionBody, CreateEntryBody, ListEntriesQuery, PatchEntryBody, SearchBody, SearchHits,
};
use orchestore_domain::{
    KnowledgeCollection, KnowledgeCollectionId, KnowledgeEntry, KnowledgeEntryId, Permission,
};
use orchestore_repo::{KnowledgeCollectionSort, KnowledgeEntrySort, Page, PageRequest};

use super::PageQuery;
use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create,
    list,
    get,
    update,
    delete,
    search,
    create_collection,
    list_collections,
    get_collection,
    delete_collection
))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    // The fixed paths first: `/knowledge/{id}` would otherwise take them.
    cfg.service(super::resource("/knowledge/search", "POST").route(web::post().to(search)))
        .service(
            super::resource("/knowledge/collections", "GET, POST")
                .route(web::get().to(list_collections))
                .route(web::post().to(create_collection)),
        )
        .service(
            super::resource("/knowledge/collections/{id}", "GET, DELETE")
                .route(web::get().to(get_collection))
                .route(web::delete().to(delete_collection)),
        )
        .service(
            super::resource("/knowledge", "GET, POST")
                .route(web::get().to(list))
                .route(web::post().to(create)),
        )
        .service(
            super::resource("/knowledge/{id}", "GET, PATCH, DELETE")
                .route(web::get().to(get))
                .route(web::patch().to(update))
                .route(web::delete().to(delete)),
        );
}

/// `POST /api/v1/knowledge` → 201 with `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/knowledge",
    summary = "Create a knowledge entry",
    tag = "knowledge",
    request_body = CreateEntryBody,
    responses(
        (status = 201, description = "The entry, created", body = KnowledgeEntry,
            headers(("Location" = String, description = "The entry's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateEntryBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::KnowledgeWrite)?;
    let entry = state
        .store
        .create_knowledge_entry(ctx, body.into_new_entry()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/knowledge/{}", entry.id)))
        .json(entry))
}

/// `GET /api/v1/knowledge?tags=&project_id=&source=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/knowledge",
    summary = "List knowledge entries",
    tag = "knowledge",
    params(ListEntriesQuery),
    responses((status = 200, description = "A page of entries",
        body = Page<KnowledgeEntry, KnowledgeEntrySort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListEntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::KnowledgeRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_knowledge_entries(ctx, filter, page)
            .await?,
    ))
}

/// `GET /api/v1/knowledge/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/knowledge/{id}",
    summary = "Get a knowledge entry",
    tag = "knowledge",
    params(("id" = KnowledgeEntryId, Path, description = "The entry's id")),
    responses((status = 200, description = "The entry", body = KnowledgeEntry))
)]
#[tracing::instrument(skip_all, fields(entry_id = %id))]
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<KnowledgeEntryId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::KnowledgeRead)?;
    let entry = state
        .store
        .get_knowledge_entry(ctx, id.into_inner())
        .await?;
    Ok(conditional::read(&req, entry.revision, &entry))
}

/// `PATCH /api/v1/knowledge/{id}`.
#[utoipa::path(
    patch,
    path = "/api/v1/knowledge/{id}",
    summary = "Change a knowledge entry",
    tag = "knowledge",
    params(("id" = KnowledgeEntryId, Path, description = "The entry's id")),
    request_body = PatchEntryBody,
    responses((status = 200, description = "The entry, changed", body = KnowledgeEntry))
)]
#[tracing::instrument(skip_all, fields(entry_id = %id))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<KnowledgeEntryId>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchEntryBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::KnowledgeWrite)?;
    let patch = body.into_patch()?;
    let written = state
        .store
        .update_knowledge_entry(ctx, id.into_inner(), patch, if_match.expected())
        .await?;
    Ok(conditional::tagged(written.revision, &written))
}

/// `DELETE /api/v1/knowledge/{id}` → 204, with its vectors.
#[utoipa::path(
    delete,
    path = "/api/v1/knowledge/{id}",
    summary = "Delete a knowledge entry",
    tag = "knowledge",
    params(("id" = KnowledgeEntryId, Path, description = "The entry's id")),
    responses((status = 204, description = "The entry and its vectors are deleted"))
)]
#[tracing::instrument(skip_all, fields(entry_id = %id))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<KnowledgeEntryId>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::KnowledgeWrite)?;
    state
        .store
        .delete_knowledge_entry(ctx, id.into_inner(), if_match.expected())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/knowledge/search` → `{"items": [hit, …]}`, best first.
#[utoipa::path(
    post,
    path = "/api/v1/knowledge/search",
    summary = "Search knowledge by text, by vector or both",
    tag = "knowledge",
    request_body = SearchBody,
    responses((status = 200, description = "The hits, best first", body = SearchHits))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn search(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::KnowledgeRead)?;
    let hits = state
        .store
        .search_knowledge(ctx, body.into_search()?)
        .await?;
    Ok(HttpResponse::Ok().json(SearchHits { items: hits }))
}

/// `POST /api/v1/knowledge/collections` → 201 with `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/knowledge/collections",
    summary = "Create a vector collection",
    tag = "knowledge",
    request_body = CreateCollectionBody,
    responses(
        (status = 201, description = "The collection, created", body = KnowledgeCollection,
            headers(("Location" = String, description = "The collection's URL"))),
        (status = 409, description = "A collection has this name", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create_collection(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateCollectionBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::KnowledgeWrite)?;
    let collection = state
        .store
        .create_knowledge_collection(ctx, body.into_new_collection()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("/api/v1/knowledge/collections/{}", collection.id),
        ))
        .json(collection))
}

/// `GET /api/v1/knowledge/collections?limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/knowledge/collections",
    summary = "List vector collections",
    tag = "knowledge",
    params(
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page (50 when absent)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<KnowledgeCollectionSort>, Query),
    ),
    responses((status = 200, description = "A page of collections",
        body = Page<KnowledgeCollection, KnowledgeCollectionSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list_collections(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::KnowledgeRead)?;
    let page: PageRequest<KnowledgeCollectionSort> = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(state.store.list_knowledge_collections(ctx, page).await?))
}

/// `GET /api/v1/knowledge/collections/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/knowledge/collections/{id}",
    summary = "Get a vector collection",
    tag = "knowledge",
    params(("id" = KnowledgeCollectionId, Path, description = "The collection's id")),
    responses((status = 200, description = "The collection", body = KnowledgeCollection))
)]
#[tracing::instrument(skip_all, fields(collection_id = %id))]
pub(crate) async fn get_collection(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<KnowledgeCollectionId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::KnowledgeRead)?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .get_knowledge_collection(ctx, id.into_inner())
            .await?,
    ))
}

/// `DELETE /api/v1/knowledge/collections/{id}` → 204, with every vector in it.
#[utoipa::path(
    delete,
    path = "/api/v1/knowledge/collections/{id}",
    summary = "Delete a vector collection",
    tag = "knowledge",
    params(("id" = KnowledgeCollectionId, Path, description = "The collection's id")),
    responses((status = 204, description = "The collection and its vectors are deleted"))
)]
#[tracing::instrument(skip_all, fields(collection_id = %id))]
pub(crate) async fn delete_collection(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<KnowledgeCollectionId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::KnowledgeWrite)?;
    state
        .store
        .delete_knowledge_collection(ctx, id.into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

//! `/api/v1/marketplace`: publishing, browsing, searching and installing items.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_api::marketplace::{
    InstallBody, ListItemsQuery, MarketplaceHits, PublishBody, SearchBody,
};
use orchestore_domain::{
    InstalledCopy, MarketplaceInstall, MarketplaceItem, MarketplaceItemId, MarketplaceKind,
    Permission,
};
use orchestore_repo::{
    Installation, MarketplaceInstallSort, MarketplaceItemSort, Page, PageRequest,
};

use super::PageQuery;
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(publish, list, search, get, unpublish, install, installs))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    // The fixed paths first: `/marketplace/{id}` would otherwise take them.
    cfg.service(super::resource("/marketplace/search", "POST").route(web::post().to(search)))
        .service(super::resource("/marketplace/installs", "GET").route(web::get().to(installs)))
        .service(
            super::resource("/marketplace", "GET, POST")
                .route(web::get().to(list))
                .route(web::post().to(publish)),
        )
        .service(
            super::resource("/marketplace/{id}", "GET, DELETE")
                .route(web::get().to(get))
                .route(web::delete().to(unpublish)),
        )
        .service(
            super::resource("/marketplace/{id}/install", "POST").route(web::post().to(install)),
        );
}

/// `POST /api/v1/marketplace` → 201 with `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/marketplace",
    summary = "Publish a workflow version or a template",
    tag = "marketplace",
    request_body = PublishBody,
    responses(
        (status = 201, description = "The item, published", body = MarketplaceItem,
            headers(("Location" = String, description = "The item's URL"))),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn publish(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<PublishBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MarketplacePublish)?;
    let item = state
        .store
        .publish_marketplace_item(ctx, body.into_new_item()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/marketplace/{}", item.id)))
        .json(item))
}

/// `GET /api/v1/marketplace?kind=&tag=&mine=&limit=&cursor=&sort=`: the published items of
/// every organization, or with `mine=true` the caller's own.
#[utoipa::path(
    get,
    path = "/api/v1/marketplace",
    summary = "List marketplace items",
    tag = "marketplace",
    params(ListItemsQuery),
    responses((status = 200, description = "A page of items",
        body = Page<MarketplaceItem, MarketplaceItemSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListItemsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MarketplaceRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_marketplace_items(ctx, filter, page)
            .await?,
    ))
}

/// `POST /api/v1/marketplace/search` `{query, kind?, tag?, mine?, limit?}` →
/// `{"items": [{item, score}]}`, most relevant first.
#[utoipa::path(
    post,
    path = "/api/v1/marketplace/search",
    summary = "Search marketplace items",
    tag = "marketplace",
    request_body = SearchBody,
    responses((status = 200, description = "The hits, most relevant first",
        body = MarketplaceHits))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn search(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(query): ApiJson<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MarketplaceRead)?;
    let (words, filter, limit) = query.into_search()?;
    let hits = state
        .store
        .search_marketplace_items(ctx, words, filter, limit)
        .await?;
    Ok(HttpResponse::Ok().json(MarketplaceHits { items: hits }))
}

/// `GET /api/v1/marketplace/{id}`: a published item, or one of the caller's own.
#[utoipa::path(
    get,
    path = "/api/v1/marketplace/{id}",
    summary = "Get a marketplace item",
    tag = "marketplace",
    params(("id" = MarketplaceItemId, Path, description = "The item's id")),
    responses((status = 200, description = "The item", body = MarketplaceItem))
)]
#[tracing::instrument(skip_all, fields(item_id = %id))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MarketplaceItemId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MarketplaceRead)?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .get_marketplace_item(ctx, id.into_inner())
            .await?,
    ))
}

/// `DELETE /api/v1/marketplace/{id}`: unpublishes the caller's item → 200 with it.
#[utoipa::path(
    delete,
    path = "/api/v1/marketplace/{id}",
    summary = "Unpublish a marketplace item",
    tag = "marketplace",
    params(("id" = MarketplaceItemId, Path, description = "The item's id")),
    responses((status = 200, description = "The item, unpublished", body = MarketplaceItem))
)]
#[tracing::instrument(skip_all, fields(item_id = %id))]
pub(crate) async fn unpublish(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MarketplaceItemId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MarketplacePublish)?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .unpublish_marketplace_item(ctx, id.into_inner())
            .await?,
    ))
}

/// `POST /api/v1/marketplace/{id}/install` `{name?}` → 201 `{install, copy}` with `Location` at
/// the copy. Needs `workflows:write` for a workflow item, `templates:write` for a template.
#[utoipa::path(
    post,
    path = "/api/v1/marketplace/{id}/install",
    summary = "Install a marketplace item",
    tag = "marketplace",
    params(("id" = MarketplaceItemId, Path, description = "The item's id")),
    request_body = InstallBody,
    responses(
        (status = 201, description = "The installation and the copy it made",
            body = Installation,
            headers(("Location" = String, description = "The copy's URL: a workflow or a template"))),
    )
)]
#[tracing::instrument(skip_all, fields(item_id = %id))]
pub(crate) async fn install(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<MarketplaceItemId>,
    ApiJson(body): ApiJson<InstallBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MarketplaceRead)?;
    // Refused before the item is read when the caller may create neither kind of copy.
    if auth.require(Permission::WorkflowsWrite).is_err() {
        auth.require(Permission::TemplatesWrite)?;
    }
    let id = id.into_inner();
    let name = body.into_name()?;
    let item = state.store.get_marketplace_item(ctx, id).await?;
    auth.require(match item.kind {
        MarketplaceKind::Workflow => Permission::WorkflowsWrite,
        MarketplaceKind::Template => Permission::TemplatesWrite,
    })?;
    let installation = state.store.install_marketplace_item(ctx, id, name).await?;
    let location = match &installation.copy {
        InstalledCopy::Workflow { workflow, .. } => format!("/api/v1/workflows/{}", workflow.id),
        InstalledCopy::Template(template) => format!("/api/v1/templates/{}", template.id),
    };
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, location))
        .json(installation))
}

/// `GET /api/v1/marketplace/installs?limit=&cursor=&sort=`: the caller's organization's
/// installations, each naming the item and version it copied and the copy.
#[utoipa::path(
    get,
    path = "/api/v1/marketplace/installs",
    summary = "List the organization's installations",
    tag = "marketplace",
    params(
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 200,
            description = "Rows per page (50 when absent)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<MarketplaceInstallSort>, Query),
    ),
    responses((status = 200, description = "A page of installations",
        body = Page<MarketplaceInstall, MarketplaceInstallSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn installs(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::MarketplaceRead)?;
    let page: PageRequest<MarketplaceInstallSort> = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(state.store.list_marketplace_installs(ctx, page).await?))
}

//! `/api/v1/marketplace`: publishing, browsing, searching and installing items.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use orchestore_domain::{
    Description, DomainError, InstalledCopy, MarketplaceInstall, MarketplaceItem,
    MarketplaceItemId, MarketplaceKind, MarketplaceSource, Name, NewMarketplaceItem, Permission,
    SearchLimit, Tags, TemplateId, TextQuery, WorkflowId,
};
use orchestore_repo::{
    Installation, MarketplaceFilter, MarketplaceHit, MarketplaceInstallSort, MarketplaceItemSort,
    Page, PageRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::PageQuery;
use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
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

/// Exactly one source: `workflow_id` (with `version`, or its latest) or `template_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PublishBody {
    /// The workflow to publish a version of.
    workflow_id: Option<WorkflowId>,
    /// With `workflow_id`: the version to publish; its latest when left out.
    version: Option<u32>,
    /// The template to publish.
    template_id: Option<TemplateId>,
    /// The item's name; the source's when left out.
    name: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
    /// A longer text for people browsing the marketplace.
    readme: Option<String>,
}

impl PublishBody {
    fn into_new_item(self) -> Result<NewMarketplaceItem, ApiError> {
        let mut errors = FieldErrors::default();
        let source = errors.check(match (self.workflow_id, self.template_id, self.version) {
            (Some(id), None, version) => Ok(MarketplaceSource::Workflow { id, version }),
            (None, Some(id), None) => Ok(MarketplaceSource::Template(id)),
            (None, Some(_), Some(_)) => Err(DomainError::invalid(
                "version",
                "goes with workflow_id: a template has no versions",
            )),
            (Some(_), Some(_), _) => Err(DomainError::invalid(
                "template_id",
                "give workflow_id or template_id, not both",
            )),
            (None, None, _) => Err(DomainError::invalid(
                "workflow_id",
                "give workflow_id (a workflow version) or template_id (a template)",
            )),
        });
        let name = errors.check(
            self.name
                .as_deref()
                .map(|n| Name::parse("name", n))
                .transpose(),
        );
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let tags = errors.check(self.tags.map_or(Ok(Tags::default()), |t| Tags::parse(&t)));
        let readme = errors.check(self.readme.map_or(Ok(Description::empty()), |r| {
            Description::parse("readme", &r)
        }));
        let (Some(source), Some(name), Some(description), Some(tags), Some(readme)) =
            (source, name, description, tags, readme)
        else {
            return Err(errors.into_error().into());
        };
        Ok(NewMarketplaceItem {
            source,
            name,
            description,
            tags,
            readme,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListItemsQuery {
    #[param(value_type = Option<MarketplaceKind>)]
    kind: Option<String>,
    /// Only items with this tag.
    tag: Option<String>,
    /// `true`: only the caller's organization's items, unpublished ones included.
    mine: Option<bool>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<MarketplaceItemSort>)]
    sort: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchBody {
    /// Words to find in the items' names, descriptions, tags or readmes.
    query: String,
    #[schema(value_type = Option<MarketplaceKind>)]
    kind: Option<String>,
    /// Only items with this tag.
    tag: Option<String>,
    /// `true`: only the caller's organization's items, unpublished ones included.
    mine: Option<bool>,
    /// How many hits to return.
    #[schema(minimum = 1, maximum = 100, default = 10)]
    limit: Option<u64>,
}

/// The hits of a search, most relevant first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MarketplaceHits {
    items: Vec<MarketplaceHit>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstallBody {
    /// The copy's name; the item's when left out.
    name: Option<String>,
}

fn filter(
    errors: &mut FieldErrors,
    kind: Option<&str>,
    tag: Option<String>,
    mine: Option<bool>,
) -> Option<MarketplaceFilter> {
    let kind = errors.check(kind.map(str::parse::<MarketplaceKind>).transpose())?;
    Some(MarketplaceFilter {
        kind,
        tag,
        mine: mine.unwrap_or(false),
    })
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
    let mut errors = FieldErrors::default();
    let filter = filter(&mut errors, query.kind.as_deref(), query.tag, query.mine);
    let page: Option<PageRequest<MarketplaceItemSort>> = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let (Some(filter), Some(page)) = (filter, page) else {
        return Err(errors.into_error().into());
    };
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
    let mut errors = FieldErrors::default();
    let words = errors.check(TextQuery::parse(&query.query));
    let filter = filter(&mut errors, query.kind.as_deref(), query.tag, query.mine);
    let limit = errors.check(
        query
            .limit
            .map_or(Ok(SearchLimit::default()), SearchLimit::parse),
    );
    let (Some(words), Some(filter), Some(limit)) = (words, filter, limit) else {
        return Err(errors.into_error().into());
    };
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
    let name = body
        .name
        .as_deref()
        .map(|n| Name::parse("name", n))
        .transpose()?;
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

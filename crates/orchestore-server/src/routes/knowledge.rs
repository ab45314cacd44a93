//! `/api/v1/knowledge`: entries, collections of vectors, and search.

use std::collections::BTreeMap;

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_domain::{
    CollectionName, Dimension, DomainError, Embedding, EntryContent, EntrySource, EntryTitle,
    KnowledgeCollection, KnowledgeCollectionId, KnowledgeEntry, KnowledgeEntryId,
    KnowledgeEntryPatch, Metadata, NewKnowledgeCollection, NewKnowledgeEntry, Permission,
    ProjectId, SearchLimit, Tags, TextQuery,
};
use orchestore_repo::{
    KnowledgeCollectionSort, KnowledgeEntrySort, KnowledgeFilter, KnowledgeHit, KnowledgeSearch,
    Page, PageRequest, SearchMode,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::PageQuery;
use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, FieldErrors, Problem};
use crate::extract::{ApiJson, ApiQuery, PatchField};
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

/// `{"<collection>": [numbers], …}` (a `null` vector removes one, in a PATCH).
type EmbeddingsBody = BTreeMap<String, Option<Vec<f64>>>;

/// The vectors of a body, each under its collection's name; every bad one is recorded on
/// `embeddings`.
fn parse_embeddings(
    errors: &mut FieldErrors,
    raw: EmbeddingsBody,
    removable: bool,
) -> Option<BTreeMap<CollectionName, Option<Embedding>>> {
    let mut parsed = BTreeMap::new();
    let mut ok = true;
    for (name, vector) in raw {
        let name =
            errors.check(CollectionName::parse(&name).map_err(|e| e.for_field("embeddings")));
        let vector = match vector {
            Some(values) => errors.check(Embedding::parse("embeddings", &values).map(Some)),
            None if removable => Some(None),
            None => errors.check(Err(DomainError::invalid(
                "embeddings",
                "a vector must be a list of numbers",
            ))),
        };
        match (name, vector) {
            (Some(name), Some(vector)) => {
                parsed.insert(name, vector);
            }
            _ => ok = false,
        }
    }
    ok.then_some(parsed)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateEntryBody {
    title: String,
    content: String,
    tags: Option<Vec<String>>,
    /// Where the entry comes from, e.g. a URL or a file name.
    source: Option<String>,
    project_id: Option<ProjectId>,
    /// A JSON object.
    #[schema(value_type = Option<Object>)]
    metadata: Option<Value>,
    /// The entry's vectors, each under its collection's name and of its dimension.
    #[schema(value_type = Option<BTreeMap<String, Vec<f64>>>)]
    embeddings: Option<EmbeddingsBody>,
}

impl CreateEntryBody {
    fn into_new_entry(self) -> Result<NewKnowledgeEntry, ApiError> {
        let mut errors = FieldErrors::default();
        let title = errors.check(EntryTitle::parse(&self.title));
        let content = errors.check(EntryContent::parse(&self.content));
        let tags = errors.check(self.tags.map_or(Ok(Tags::default()), |t| Tags::parse(&t)));
        let source = errors.check(self.source.as_deref().map(EntrySource::parse).transpose());
        let metadata = errors.check(
            self.metadata
                .map_or(Ok(Metadata::default()), |m| Metadata::parse("metadata", m)),
        );
        let embeddings = parse_embeddings(&mut errors, self.embeddings.unwrap_or_default(), false);
        let (
            Some(title),
            Some(content),
            Some(tags),
            Some(source),
            Some(metadata),
            Some(embeddings),
        ) = (title, content, tags, source, metadata, embeddings)
        else {
            return Err(errors.into_error().into());
        };
        Ok(NewKnowledgeEntry {
            title,
            content,
            tags,
            source,
            project_id: self.project_id,
            metadata,
            embeddings: embeddings
                .into_iter()
                .filter_map(|(name, vector)| vector.map(|vector| (name, vector)))
                .collect(),
        })
    }
}

/// Absent fields stay as they are; `null` clears `source` and `project_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchEntryBody {
    #[serde(default)]
    #[schema(value_type = String)]
    title: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    content: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    tags: PatchField<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    source: PatchField<String>,
    #[serde(default)]
    #[schema(value_type = Option<ProjectId>)]
    project_id: PatchField<ProjectId>,
    /// A JSON object.
    #[serde(default)]
    #[schema(value_type = Object)]
    metadata: PatchField<Value>,
    /// Vectors to set, each under its collection's name; `null` removes the entry's vector of
    /// that collection. Collections left out keep their vectors.
    embeddings: Option<EmbeddingsBody>,
}

impl PatchEntryBody {
    fn into_patch(self) -> Result<KnowledgeEntryPatch, ApiError> {
        let mut errors = FieldErrors::default();
        let title = errors.check(
            self.title
                .parse_required("title", |t| EntryTitle::parse(&t)),
        );
        let content = errors.check(
            self.content
                .parse_required("content", |c| EntryContent::parse(&c)),
        );
        let tags = errors.check(self.tags.parse_required("tags", |t| Tags::parse(&t)));
        let source = errors.check(self.source.parse_nullable(|s| EntrySource::parse(&s)));
        let project_id = errors.check(self.project_id.parse_nullable(Ok));
        let metadata = errors.check(
            self.metadata
                .parse_required("metadata", |m| Metadata::parse("metadata", m)),
        );
        let embeddings = parse_embeddings(&mut errors, self.embeddings.unwrap_or_default(), true);
        let (
            Some(title),
            Some(content),
            Some(tags),
            Some(source),
            Some(project_id),
            Some(metadata),
            Some(embeddings),
        ) = (
            title, content, tags, source, project_id, metadata, embeddings,
        )
        else {
            return Err(errors.into_error().into());
        };
        Ok(KnowledgeEntryPatch {
            title,
            content,
            tags,
            source,
            project_id,
            metadata,
            embeddings,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListEntriesQuery {
    /// Comma-separated: entries having all of them.
    tags: Option<String>,
    /// Only the entries of this project.
    project_id: Option<ProjectId>,
    /// Only the entries of this source.
    source: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u64>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
    #[param(value_type = Option<KnowledgeEntrySort>)]
    sort: Option<String>,
}

fn tag_list(raw: Option<&str>) -> Result<Tags, DomainError> {
    match raw {
        None => Ok(Tags::default()),
        Some(list) => Tags::parse(&list.split(',').map(str::trim).collect::<Vec<_>>()),
    }
}

/// `query` for text, `collection` and `vector` for the nearest vectors, all three for both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchBody {
    /// Text to search the entries' titles and content for.
    query: Option<String>,
    /// The collection whose vectors `vector` is compared with.
    collection: Option<String>,
    /// A vector of the collection's dimension: the nearest entries first.
    vector: Option<Vec<f64>>,
    /// Only entries having all of these tags.
    tags: Option<Vec<String>>,
    /// Only the entries of this project.
    project_id: Option<ProjectId>,
    /// Only the entries of this source.
    source: Option<String>,
    /// How many hits to return.
    #[schema(minimum = 1, maximum = 100, default = 10)]
    limit: Option<u64>,
}

/// The hits of a search, best first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SearchHits {
    items: Vec<KnowledgeHit>,
}

impl SearchBody {
    fn into_search(self) -> Result<KnowledgeSearch, ApiError> {
        let mut errors = FieldErrors::default();
        let query = errors.check(self.query.as_deref().map(TextQuery::parse).transpose());
        let collection = errors.check(
            self.collection
                .as_deref()
                .map(CollectionName::parse)
                .transpose(),
        );
        let vector = errors.check(
            self.vector
                .as_deref()
                .map(|v| Embedding::parse("vector", v))
                .transpose(),
        );
        let tags = errors.check(self.tags.map_or(Ok(Tags::default()), |t| Tags::parse(&t)));
        let source = errors.check(self.source.as_deref().map(EntrySource::parse).transpose());
        let limit = errors.check(
            self.limit
                .map_or(Ok(SearchLimit::default()), SearchLimit::parse),
        );
        let (Some(query), Some(collection), Some(vector), Some(tags), Some(source), Some(limit)) =
            (query, collection, vector, tags, source, limit)
        else {
            return Err(errors.into_error().into());
        };
        let mode = match (query, collection, vector) {
            (Some(query), None, None) => SearchMode::Text(query),
            (None, Some(collection), Some(vector)) => SearchMode::Vector { collection, vector },
            (Some(query), Some(collection), Some(vector)) => SearchMode::Hybrid {
                query,
                collection,
                vector,
            },
            (_, None, Some(_)) => {
                return Err(DomainError::invalid("collection", "must be given with vector").into());
            }
            (_, Some(_), None) => {
                return Err(DomainError::invalid("vector", "must be given with collection").into());
            }
            (None, None, None) => {
                return Err(DomainError::invalid(
                    "query",
                    "give query (text), collection and vector (nearest vectors), or all three",
                )
                .into());
            }
        };
        Ok(KnowledgeSearch {
            mode,
            filter: KnowledgeFilter {
                tags,
                project_id: self.project_id,
                source,
            },
            limit,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCollectionBody {
    /// Unique in the organization; vectors are given under it.
    name: String,
    /// How many numbers each vector of the collection has.
    #[schema(minimum = 1, maximum = 4096)]
    dimension: i64,
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
    let mut errors = FieldErrors::default();
    let tags = errors.check(tag_list(query.tags.as_deref()));
    let source = errors.check(query.source.as_deref().map(EntrySource::parse).transpose());
    let page: Option<PageRequest<KnowledgeEntrySort>> = super::page_request(
        &mut errors,
        query.limit,
        query.cursor.as_deref(),
        query.sort.as_deref(),
    );
    let (Some(tags), Some(source), Some(page)) = (tags, source, page) else {
        return Err(errors.into_error().into());
    };
    let filter = KnowledgeFilter {
        tags,
        project_id: query.project_id,
        source,
    };
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
    let mut errors = FieldErrors::default();
    let name = errors.check(CollectionName::parse(&body.name).map_err(|e| e.for_field("name")));
    let dimension = errors.check(Dimension::parse(body.dimension));
    let (Some(name), Some(dimension)) = (name, dimension) else {
        return Err(errors.into_error().into());
    };
    let collection = state
        .store
        .create_knowledge_collection(ctx, NewKnowledgeCollection { name, dimension })
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

//! `/api/v1/agents`.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use orchestore_api::agents::{CreateAgentBody, ListAgentsQuery, PatchAgentBody};
use orchestore_api::api_keys::CreateApiKeyBody;
use orchestore_domain::{
    Agent, AgentId, AgentStats, ApiKey, ApiKeyId, IssuedApiKey, KeyOwner, Permission,
};
use orchestore_repo::{AgentSort, ApiKeySort, Page, PageRequest, RepoError};
use serde::Deserialize;
use utoipa::OpenApi;

use crate::auth::Authenticated;
use crate::conditional::{self, IfMatch};
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    create,
    list,
    get,
    update,
    delete,
    heartbeat,
    stats,
    create_api_key,
    list_api_keys,
    revoke_api_key
))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/agents", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        super::resource("/agents/{id}", "GET, PATCH, DELETE")
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    )
    .service(super::resource("/agents/{id}/heartbeat", "POST").route(web::post().to(heartbeat)))
    .service(super::resource("/agents/{id}/stats", "GET").route(web::get().to(stats)))
    .service(
        super::resource("/agents/{id}/api-keys", "GET, POST")
            .route(web::get().to(list_api_keys))
            .route(web::post().to(create_api_key)),
    )
    .service(
        super::resource("/agents/{id}/api-keys/{key_id}", "DELETE")
            .route(web::delete().to(revoke_api_key)),
    );
}

/// `POST /api/v1/agents` → 201 with `Location`.
#[utoipa::path(
    post,
    path = "/api/v1/agents",
    summary = "Register an agent",
    tag = "agents",
    request_body = CreateAgentBody,
    responses(
        (status = 201, description = "The agent, registered", body = Agent,
            headers(("Location" = String, description = "The agent's URL"))),
        (status = 409, description = "An agent of this name exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn create(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CreateAgentBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AgentsWrite)?;
    let agent = state
        .store
        .create_agent(ctx, body.into_new_agent()?)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, format!("/api/v1/agents/{}", agent.id)))
        .json(agent))
}

/// `GET /api/v1/agents?status=&kind=&capabilities=&limit=&cursor=&sort=`.
#[utoipa::path(
    get,
    path = "/api/v1/agents",
    summary = "List agents",
    tag = "agents",
    params(ListAgentsQuery),
    responses((status = 200, description = "A page of agents", body = Page<Agent, AgentSort>))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn list(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiQuery(query): ApiQuery<ListAgentsQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AgentsRead)?;
    let (filter, page) = query.into_filter_and_page()?;
    Ok(HttpResponse::Ok().json(state.store.list_agents(ctx, filter, page).await?))
}

/// `GET /api/v1/agents/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}",
    summary = "Get an agent",
    tag = "agents",
    params(("id" = AgentId, Path, description = "The agent's id")),
    responses((status = 200, description = "The agent", body = Agent))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AgentsRead)?;
    let agent = state.store.get_agent(ctx, id.into_inner()).await?;
    Ok(conditional::read(&req, agent.revision, &agent))
}

/// `PATCH /api/v1/agents/{id}`. An empty patch returns the agent unchanged.
#[utoipa::path(
    patch,
    path = "/api/v1/agents/{id}",
    summary = "Change an agent",
    tag = "agents",
    params(("id" = AgentId, Path, description = "The agent's id")),
    request_body = PatchAgentBody,
    responses(
        (status = 200, description = "The agent, changed", body = Agent),
        (status = 409, description = "An agent of the new name exists", body = Problem,
            content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<PatchAgentBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AgentsWrite)?;
    let id = id.into_inner();
    let patch = body.into_patch()?;
    let agent = if patch.is_empty() {
        let agent = state.store.get_agent(ctx, id).await?;
        if_match.check("agent", id, agent.revision)?;
        agent
    } else {
        state
            .store
            .update_agent(ctx, id, patch, if_match.expected())
            .await?
    };
    Ok(conditional::tagged(agent.revision, &agent))
}

/// `DELETE /api/v1/agents/{id}` → 204, with its counters, heartbeats and messages; the tasks
/// assigned to it are unassigned.
#[utoipa::path(
    delete,
    path = "/api/v1/agents/{id}",
    summary = "Delete an agent",
    tag = "agents",
    params(("id" = AgentId, Path, description = "The agent's id")),
    responses((status = 204, description = "The agent is deleted"))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AgentsWrite)?;
    state
        .store
        .delete_agent(ctx, id.into_inner(), if_match.expected())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/agents/{id}/heartbeat` → the agent, with `last_heartbeat_at` now; an `offline`
/// agent becomes `active` again.
#[utoipa::path(
    post,
    path = "/api/v1/agents/{id}/heartbeat",
    summary = "Record that an agent is alive",
    tag = "agents",
    params(("id" = AgentId, Path, description = "The agent's id")),
    responses((status = 200, description = "The agent, with `last_heartbeat_at` now",
        body = Agent))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn heartbeat(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AgentsHeartbeat)?;
    Ok(HttpResponse::Ok().json(state.store.record_heartbeat(ctx, id.into_inner()).await?))
}

/// `GET /api/v1/agents/{id}/stats`: counters, mean task time and success rate.
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}/stats",
    summary = "Read an agent's statistics",
    tag = "agents",
    params(("id" = AgentId, Path, description = "The agent's id")),
    responses((status = 200, description = "The agent's counters, mean task time and success \
        rate", body = AgentStats))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn stats(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AgentsRead)?;
    Ok(HttpResponse::Ok().json(state.store.agent_stats(ctx, id.into_inner()).await?))
}

/// `POST /api/v1/agents/{id}/api-keys` `{name, scopes?, expires_at?}` → 201 with the key and
/// its `secret` (`osk_…`), shown this once; a worker sends it as `Authorization: Bearer osk_…`
/// and acts as the agent, with its scopes that the `agent` system role grants (all of them
/// without scopes).
#[utoipa::path(
    post,
    path = "/api/v1/agents/{id}/api-keys",
    summary = "Issue an API key for an agent",
    tag = "agents",
    params(("id" = AgentId, Path, description = "The agent's id")),
    request_body = ref("#/components/schemas/CreateApiKeyBody"),
    responses((status = 201, description = "The key, with its secret shown this once",
        body = IssuedApiKey,
        headers(("Location" = String, description = "The key's URL"))))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn create_api_key(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
    ApiJson(body): ApiJson<CreateApiKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AgentsWrite)?;
    let agent = id.into_inner();
    let new = super::api_keys::new_key(body, KeyOwner::Agent(agent), &auth)?;
    let issued = state
        .store
        .create_api_key(ctx, new)
        .await
        .map_err(|error| match error {
            // The agent is the path's, not a field of the body: a missing one is a 404, as on
            // every other route under `/agents/{id}`.
            RepoError::Reference { entity, id, .. } => RepoError::NotFound { entity, id },
            other => other,
        })?;
    Ok(HttpResponse::Created()
        .insert_header((
            LOCATION,
            format!("/api/v1/agents/{agent}/api-keys/{}", issued.key.id),
        ))
        .json(issued))
}

/// `GET /api/v1/agents/{id}/api-keys?limit=&cursor=&sort=`: the agent's keys, without secrets.
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}/api-keys",
    summary = "List an agent's API keys",
    tag = "agents",
    params(
        ("id" = AgentId, Path, description = "The agent's id"),
        ("limit" = Option<u64>, Query, description = "Rows per page", minimum = 1,
            maximum = 200),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("sort" = Option<ApiKeySort>, Query),
    ),
    responses((status = 200, description = "A page of the agent's keys, without secrets",
        body = Page<ApiKey, ApiKeySort>))
)]
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub(crate) async fn list_api_keys(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<AgentId>,
    ApiQuery(query): ApiQuery<super::PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AgentsRead)?;
    let page: PageRequest<ApiKeySort> = query.into_page_request()?;
    Ok(HttpResponse::Ok().json(
        state
            .store
            .list_api_keys(ctx, KeyOwner::Agent(id.into_inner()), page)
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApiKeyPath {
    id: AgentId,
    key_id: ApiKeyId,
}

/// `DELETE /api/v1/agents/{id}/api-keys/{key_id}` → 204: the key stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/agents/{id}/api-keys/{key_id}",
    summary = "Revoke an agent's API key",
    tag = "agents",
    params(
        ("id" = AgentId, Path, description = "The agent's id"),
        ("key_id" = ApiKeyId, Path, description = "The key's id"),
    ),
    responses((status = 204, description = "The key is revoked"))
)]
#[tracing::instrument(skip_all, fields(agent_id = %path.id, key_id = %path.key_id))]
pub(crate) async fn revoke_api_key(
    state: web::Data<AppState>,
    auth: Authenticated,
    path: web::Path<ApiKeyPath>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::AgentsWrite)?;
    state
        .store
        .revoke_api_key(ctx, KeyOwner::Agent(path.id), path.key_id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

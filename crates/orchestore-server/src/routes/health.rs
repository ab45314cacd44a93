//! Liveness and readiness. Readiness asks the database every time, so it recovers by itself
//! when the database comes back.

use std::time::Duration;

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, HttpResponseBuilder, web};
use orchestore_repo::RepoError;
use serde_json::json;

use crate::state::AppState;

const READY_TIMEOUT: Duration = Duration::from_secs(2);

fn uncached(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder.insert_header((CACHE_CONTROL, "no-store"));
    builder
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/live", "GET").route(web::get().to(live)))
        .service(super::resource("/ready", "GET").route(web::get().to(ready)));
}

pub(crate) async fn live() -> HttpResponse {
    uncached(HttpResponse::Ok()).json(json!({ "status": "ok" }))
}

#[tracing::instrument(skip_all)]
pub(crate) async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let unavailable = || uncached(HttpResponse::ServiceUnavailable());
    match tokio::time::timeout(READY_TIMEOUT, state.store.health()).await {
        Ok(Ok(health)) if health.pending_migrations.is_empty() => uncached(HttpResponse::Ok())
            .json(json!({
                "status": "ready",
                "backend": health.backend,
                "pool": {
                    "connections": health.pool_connections,
                    "idle": health.pool_idle,
                },
            })),
        Ok(Ok(health)) => unavailable().json(json!({
            "status": "migrations_pending",
            "reason": "the database lacks migrations this build needs: run `orchestore migrate up`",
            "pending": health.pending_migrations,
        })),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            let reason = match err {
                RepoError::Unavailable(_) => "the database cannot be reached",
                // E.g. the database has a migration this build does not know (a newer version
                // migrated it).
                _ => "the database's migration state cannot be read by this build",
            };
            unavailable().json(json!({ "status": "unavailable", "reason": reason }))
        }
        Err(_) => {
            tracing::warn!(timeout = ?READY_TIMEOUT, "readiness check timed out");
            unavailable().json(json!({
                "status": "unavailable",
                "reason": format!("the database did not answer within {}s", READY_TIMEOUT.as_secs()),
            }))
        }
    }
}

//! Liveness and readiness. Readiness asks the database every time, so it recovers by itself
//! when the database comes back.

use std::time::Duration;

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, HttpResponseBuilder, web};
use orchestore_api::health::{Live, NotReady, PoolState, Ready};
use orchestore_repo::RepoError;

use crate::state::AppState;

const READY_TIMEOUT: Duration = Duration::from_secs(2);

fn uncached(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder.insert_header((CACHE_CONTROL, "no-store"));
    builder
}

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(live, ready))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(super::resource("/live", "GET").route(web::get().to(live)))
        .service(super::resource("/ready", "GET").route(web::get().to(ready)));
}

/// `GET /health/live`: the process answers.
#[utoipa::path(
    get,
    path = "/health/live",
    summary = "Check that the server is alive",
    tag = "health",
    security(()),
    responses((status = 200, description = "The server answers", body = Live))
)]
pub(crate) async fn live() -> HttpResponse {
    uncached(HttpResponse::Ok()).json(Live {
        status: "ok".to_owned(),
    })
}

/// `GET /health/ready`: the database answers and has every migration this build needs.
#[utoipa::path(
    get,
    path = "/health/ready",
    summary = "Check that the server can serve requests",
    tag = "health",
    security(()),
    responses(
        (status = 200, description = "The database answers and is migrated", body = Ready),
        (status = 503, description = "The database cannot be reached or lacks migrations",
            body = NotReady),
    )
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let unavailable = || uncached(HttpResponse::ServiceUnavailable());
    match tokio::time::timeout(READY_TIMEOUT, state.store.health()).await {
        Ok(Ok(health)) if health.pending_migrations.is_empty() => uncached(HttpResponse::Ok())
            .json(Ready {
                status: "ready".to_owned(),
                backend: health.backend,
                pool: PoolState {
                    connections: health.pool_connections,
                    idle: health.pool_idle,
                },
            }),
        Ok(Ok(health)) => unavailable().json(NotReady {
            status: "migrations_pending".to_owned(),
            reason: "the database lacks migrations this build needs: run `orchestore migrate up`"
                .to_owned(),
            pending: Some(health.pending_migrations),
        }),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            let reason = match err {
                RepoError::Unavailable(_) => "the database cannot be reached",
                // E.g. the database has a migration this build does not know (a newer version
                // migrated it).
                _ => "the database's migration state cannot be read by this build",
            };
            unavailable().json(NotReady {
                status: "unavailable".to_owned(),
                reason: reason.to_owned(),
                pending: None,
            })
        }
        Err(_) => {
            tracing::warn!(timeout = ?READY_TIMEOUT, "readiness check timed out");
            unavailable().json(NotReady {
                status: "unavailable".to_owned(),
                reason: format!(
                    "the database did not answer within {}s",
                    READY_TIMEOUT.as_secs()
                ),
                pending: None,
            })
        }
    }
}

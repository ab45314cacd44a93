//! The route table. Handlers are thin: parse the request into domain values, call the store,
//! map the result.

mod auth;
mod health;
mod me;
mod projects;
mod tasks;

use actix_web::{HttpResponse, Resource, web};
use orchestore_repo::{Cursor, Limit, PageRequest, SortOrder};

use crate::error::{ApiError, FieldErrors};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/health")
            .service(resource("/live", "GET").route(web::get().to(health::live)))
            .service(resource("/ready", "GET").route(web::get().to(health::ready))),
    )
    .service(
        web::scope("/api/v1")
            .service(resource("/auth/login", "POST").route(web::post().to(auth::login)))
            .service(resource("/auth/refresh", "POST").route(web::post().to(auth::refresh)))
            .service(resource("/auth/logout", "POST").route(web::post().to(auth::logout)))
            .service(resource("/me", "GET").route(web::get().to(me::me)))
            .service(resource("/organization", "GET").route(web::get().to(me::organization)))
            .service(
                resource("/projects", "GET, POST")
                    .route(web::get().to(projects::list))
                    .route(web::post().to(projects::create)),
            )
            .service(
                resource("/projects/{id}", "GET, PATCH, DELETE")
                    .route(web::get().to(projects::get))
                    .route(web::patch().to(projects::update))
                    .route(web::delete().to(projects::delete)),
            )
            .service(
                resource("/tasks", "GET, POST")
                    .route(web::get().to(tasks::list))
                    .route(web::post().to(tasks::create)),
            )
            .service(
                resource("/tasks/{id}", "GET, PATCH, DELETE")
                    .route(web::get().to(tasks::get))
                    .route(web::patch().to(tasks::update))
                    .route(web::delete().to(tasks::delete)),
            ),
    );
}

/// A resource that answers other methods with a 405 problem naming the allowed ones.
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow })
    }))
}

/// The answer to a path no route matches.
pub(crate) async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route matches {}",
        req.path()
    )))
}

/// The pagination parameters every list takes, checked into a [`PageRequest`]; each bad one is
/// recorded in `errors`.
fn page_request(
    errors: &mut FieldErrors,
    limit: Option<u64>,
    cursor: Option<&str>,
    sort: Option<&str>,
) -> Option<PageRequest> {
    let limit = errors.check(limit.map_or(Ok(Limit::default()), Limit::parse));
    let after = errors.check(cursor.map(str::parse::<Cursor>).transpose());
    let order = errors.check(
        sort.map(str::parse::<SortOrder>)
            .transpose()
            .map(Option::unwrap_or_default),
    );
    Some(PageRequest {
        limit: limit?,
        after: after?,
        order: order?,
    })
}

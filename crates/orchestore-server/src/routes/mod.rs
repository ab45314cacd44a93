//! The route table: one module per resource, each registering its own routes in
//! `configure`. Handlers are thin: parse the request into domain values, call the store, map
//! the result.

mod agents;
mod api_keys;
mod audit_logs;
mod auth;
mod health;
mod invitations;
mod me;
mod messages;
mod organizations;
mod projects;
mod queue;
mod roles;
mod sessions;
mod signup;
mod tasks;
mod templates;
mod users;
mod workflows;

use actix_web::{HttpResponse, Resource, web};
use orchestore_repo::{Cursor, Limit, ListSort, PageRequest};

use crate::error::{ApiError, FieldErrors};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/health").configure(health::configure))
        .service(
            web::scope("/api/v1")
                .configure(auth::configure)
                .configure(me::configure)
                .configure(api_keys::configure)
                .configure(sessions::configure)
                .configure(organizations::configure)
                .configure(signup::configure)
                .configure(users::configure)
                .configure(invitations::configure)
                .configure(roles::configure)
                .configure(projects::configure)
                .configure(tasks::configure)
                .configure(queue::configure)
                .configure(agents::configure)
                .configure(messages::configure)
                .configure(workflows::configure)
                .configure(templates::configure)
                .configure(audit_logs::configure),
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

/// `limit`, `cursor` and `sort` of a list that has no filter.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    limit: Option<u64>,
    cursor: Option<String>,
    sort: Option<String>,
}

impl PageQuery {
    pub(crate) fn into_page_request<S: ListSort>(self) -> Result<PageRequest<S>, ApiError> {
        let mut errors = FieldErrors::default();
        page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        )
        .ok_or_else(|| errors.into_error())
    }
}

/// The pagination parameters every list takes, checked into a [`PageRequest`] of the list's
/// own sort; each bad one is recorded in `errors`.
fn page_request<S: ListSort>(
    errors: &mut FieldErrors,
    limit: Option<u64>,
    cursor: Option<&str>,
    sort: Option<&str>,
) -> Option<PageRequest<S>> {
    let limit = errors.check(limit.map_or(Ok(Limit::default()), Limit::parse));
    let after = errors.check(cursor.map(str::parse::<Cursor<S>>).transpose());
    let sort = errors.check(sort.map(S::parse).transpose());
    let (limit, sort, after) = (limit?, sort?, after?);
    // A cursor knows its sort: `sort` may be left out on the next pages.
    let sort = sort
        .or_else(|| after.as_ref().map(Cursor::sort))
        .unwrap_or_default();
    errors.check(PageRequest::new(limit, sort, after))
}

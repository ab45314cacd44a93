//! The route table: one module per resource, each registering its own routes in
//! `configure`. Handlers are thin: parse the request into domain values, call the store, map
//! the result.

mod achievements;
mod admin;
mod agents;
mod alerts;
mod analytics;
mod api_keys;
mod audit_logs;
mod auth;
mod boards;
mod brainstorms;
mod components;
mod events;
mod execution_steps;
mod health;
mod invitations;
mod knowledge;
mod leaderboards;
mod learning;
mod marketplace;
mod matches;
mod me;
mod mentorships;
mod messages;
mod metrics;
mod organizations;
mod points;
mod projects;
mod proposals;
mod queue;
mod rate_limits;
mod reputation;
mod retention;
mod roles;
mod sanctions;
mod schedules;
mod sessions;
mod signup;
mod tasks;
mod telemetry;
mod templates;
mod users;
mod waits;
mod workflows;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, Resource, web};

use crate::deadline::enforce_deadlines;
use crate::error::ApiError;

/// The route table, in the order routes are matched: each scope and the resources each
/// module registers in it. [`configure`] serves it and [`route_table`] lists it, so the two
/// cannot differ.
fn scopes() -> [Routes; 3] {
    [
        Routes::new("/health").configure(health::configure),
        Routes::new("/api/v1")
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
            .configure(waits::configure)
            .configure(templates::configure)
            .configure(knowledge::configure)
            .configure(marketplace::configure)
            .configure(learning::configure)
            .configure(analytics::configure)
            .configure(audit_logs::configure)
            .configure(admin::configure)
            .configure(events::configure)
            .configure(components::configure)
            .configure(metrics::configure)
            .configure(alerts::configure)
            .configure(points::configure)
            .configure(matches::configure)
            .configure(reputation::configure)
            .configure(leaderboards::configure)
            .configure(retention::configure)
            .configure(sanctions::configure)
            .configure(brainstorms::configure)
            .configure(mentorships::configure)
            .configure(proposals::configure)
            .configure(achievements::configure)
            .configure(boards::configure)
            .configure(schedules::configure)
            .configure(rate_limits::configure),
        // After `/api/v1`: a scope that matches a path's prefix answers it, or 404s.
        Routes::new("/api").configure(crate::openapi::configure),
    ]
}

/// Serves the route table, each resource within the request's deadlines (wrapped around the
/// resource, once it is matched: the deadline keeps a handle on the request to answer with, and
/// actix routes only a request nobody else holds).
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    for routes in scopes() {
        let scope = routes
            .resources
            .into_iter()
            .fold(web::scope(routes.prefix), |scope, api| {
                scope.service(api.resource.wrap(from_fn(enforce_deadlines)))
            });
        cfg.service(scope);
    }
}

/// Every route the server answers: `(method, path)` pairs as registered, such as
/// `("GET", "/api/v1/tasks/{id}")`, in the order they are matched. The tests check that each
/// has its rows in the tenancy and permission matrices.
pub fn route_table() -> Vec<(&'static str, String)> {
    scopes()
        .into_iter()
        .flat_map(|routes| {
            routes.resources.into_iter().flat_map(move |api| {
                api.allow
                    .split(", ")
                    .map(move |method| (method, format!("{}{}", routes.prefix, api.path)))
            })
        })
        .collect()
}

/// The OpenAPI description of each module's operations (its `Api`), which
/// [`crate::openapi::document`] joins. A module's routes and its `Api` are listed together.
pub(crate) fn openapi_parts() -> Vec<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi as _;
    vec![
        crate::openapi::Api::openapi(),
        achievements::Api::openapi(),
        admin::Api::openapi(),
        agents::Api::openapi(),
        alerts::Api::openapi(),
        analytics::Api::openapi(),
        api_keys::Api::openapi(),
        audit_logs::Api::openapi(),
        auth::Api::openapi(),
        boards::Api::openapi(),
        brainstorms::Api::openapi(),
        components::Api::openapi(),
        events::Api::openapi(),
        execution_steps::Api::openapi(),
        health::Api::openapi(),
        invitations::Api::openapi(),
        knowledge::Api::openapi(),
        leaderboards::Api::openapi(),
        learning::Api::openapi(),
        marketplace::Api::openapi(),
        matches::Api::openapi(),
        me::Api::openapi(),
        mentorships::Api::openapi(),
        messages::Api::openapi(),
        metrics::Api::openapi(),
        organizations::Api::openapi(),
        points::Api::openapi(),
        projects::Api::openapi(),
        proposals::Api::openapi(),
        queue::Api::openapi(),
        rate_limits::Api::openapi(),
        reputation::Api::openapi(),
        retention::Api::openapi(),
        roles::Api::openapi(),
        sanctions::Api::openapi(),
        schedules::Api::openapi(),
        sessions::Api::openapi(),
        signup::Api::openapi(),
        tasks::Api::openapi(),
        templates::Api::openapi(),
        users::Api::openapi(),
        waits::Api::openapi(),
        workflows::Api::openapi(),
    ]
}

/// The resources of one scope, each module adding its own in its `configure`.
pub(crate) struct Routes {
    prefix: &'static str,
    resources: Vec<ApiResource>,
}

impl Routes {
    fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            resources: Vec::new(),
        }
    }

    fn configure(mut self, module: fn(&mut Routes)) -> Self {
        module(&mut self);
        self
    }

    pub(crate) fn service(&mut self, api: ApiResource) -> &mut Self {
        self.resources.push(api);
        self
    }
}

/// A resource with its path and the methods it answers, which the route table lists.
pub(crate) struct ApiResource {
    path: &'static str,
    allow: &'static str,
    resource: Resource,
}

impl ApiResource {
    pub(crate) fn route(mut self, route: actix_web::Route) -> Self {
        self.resource = self.resource.route(route);
        self
    }

    fn app_data<U: 'static>(mut self, data: U) -> Self {
        self.resource = self.resource.app_data(data);
        self
    }
}

/// A resource answering `allow` (its methods, as the `Allow` header lists them: `"GET, POST"`)
/// and other methods with a 405 problem naming them.
pub(crate) fn resource(path: &'static str, allow: &'static str) -> ApiResource {
    ApiResource {
        path,
        allow,
        resource: web::resource(path).default_service(web::to(move || async move {
            Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow })
        })),
    }
}

/// The answer to a path no route matches.
pub(crate) async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route matches {}",
        req.path()
    )))
}

pub(crate) use orchestore_api::{PageQuery, page_request};

//! The OpenAPI 3.1 document, served at `GET /api/openapi.json`.
//!
//! Each route module describes its operations beside its handlers (`#[utoipa::path]`) and
//! lists them in its `Api`; [`document`] joins those and then writes in what every operation
//! shares by the API's conventions, from what the operation declares: who may call it (the two
//! security schemes unless it says `security(())`), the problem answers its parameters and body
//! can earn, and the `Idempotency-Key` header of a POST. A test compares the document with
//! the route table both ways.

use std::sync::LazyLock;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use serde_json::Value;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, OpenApi as Document, Ref, RefOr, Required, ResponseBuilder,
};

use crate::error::{FieldError, Problem};

/// The security scheme of a user's access token.
pub(crate) const BEARER_JWT: &str = "bearer_jwt";
/// The security scheme of an API key (`osk_…`), sent as a bearer token too.
pub(crate) const API_KEY: &str = "api_key";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Orchestore",
        description = "The persistence layer of multi-agent orchestrators: organizations, users \
                       and API keys; projects and tasks with dependencies and a lease-based \
                       queue; agents, messages, workflows, templates, knowledge, observability \
                       and collaboration records. Every error is `application/problem+json` \
                       (RFC 9457).",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(Problem, FieldError))
)]
struct Conventions;

/// The whole document, built once, as JSON.
pub fn document() -> &'static Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
        let mut document = Conventions::openapi();
        for part in crate::routes::openapi_parts() {
            document.merge(part);
        }
        apply_conventions(&mut document);
        // The document's maps are keyed by strings: it always serializes.
        let mut json = serde_json::to_value(&document).expect("the OpenAPI document is JSON");
        unlink_rustdoc(&mut json);
        nullable_as_any_of(&mut json);
        json
    });
    &DOCUMENT
}

/// The descriptions come from doc comments, whose links point into the Rust code
/// (`` [`Name::key`] ``) or the repository (`[docs/waits.md](docs/waits.md)`): a reader of the
/// document gets their text.
fn unlink_rustdoc(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(text) if key == "description" || key == "summary" => {
                        *text = link_texts(text);
                    }
                    _ => unlink_rustdoc(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unlink_rustdoc),
        _ => {}
    }
}

/// utoipa writes an `Option<T>` as `oneOf: [T, {type: null}]`, which is wrong where `T` admits
/// `null` itself (a task's `result` is any JSON value): `null` then matches two branches, which
/// `oneOf` forbids. `anyOf` says what is meant.
fn nullable_as_any_of(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let nullable = map
                .get("oneOf")
                .and_then(Value::as_array)
                .is_some_and(|branches| {
                    branches
                        .iter()
                        .any(|branch| branch.get("type").and_then(Value::as_str) == Some("null"))
                });
            if nullable && let Some(branches) = map.remove("oneOf") {
                map.insert("anyOf".to_owned(), branches);
            }
            map.values_mut().for_each(nullable_as_any_of);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_as_any_of),
        _ => {}
    }
}

/// `text` with each Markdown link `[label](target)`, and each rustdoc link `` [`item`] ``,
/// replaced by its label, but links to web pages (`https://…`).
fn link_texts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let label = &after[..close];
        let tail = &after[close + 1..];
        match tail
            .strip_prefix('(')
            .and_then(|t| t.find(')').map(|end| (t, end)))
        {
            Some((target, end)) if target[..end].contains("://") => {
                out.push_str(&rest[open..open + 1 + close + 2 + end + 1]);
                rest = &target[end + 1..];
            }
            Some((target, end)) => {
                out.push_str(label);
                rest = &target[end + 1..];
            }
            None if label.len() > 1 && label.starts_with('`') && label.ends_with('`') => {
                out.push_str(label);
                rest = tail;
            }
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The problem answers, each a reusable response of the document.
const PROBLEMS: [(&str, &str); 12] = [
    (
        "400",
        "The request is malformed: its JSON, a path or query parameter, or a header",
    ),
    ("401", "No credentials, or credentials that are not valid"),
    (
        "403",
        "The credentials do not grant the permission this operation needs",
    ),
    ("404", "No such resource in the caller's organization"),
    (
        "408",
        "The request body did not arrive within `server.body_read_timeout`",
    ),
    (
        "409",
        "The resource's state does not allow the operation, or a request with the same \
         `Idempotency-Key` is still running",
    ),
    (
        "412",
        "The resource has moved on from the revision `If-Match` named; nothing was changed \
         (the `detail` names the current revision)",
    ),
    ("413", "The request body is larger than the route accepts"),
    ("415", "The request body is not `application/json`"),
    (
        "422",
        "Fields are invalid (`errors` names each), or the `Idempotency-Key` was used for \
         another request",
    ),
    ("500", "The server failed; the body says nothing internal"),
    (
        "503",
        "The database is unavailable, or the request ran past `server.request_timeout` \
         (with `Retry-After`)",
    ),
];

fn problem_response_name(status: &str) -> String {
    format!("Problem{status}")
}

fn apply_conventions(document: &mut Document) {
    let mut components = document.components.take().unwrap_or_default();
    components.add_security_scheme(
        BEARER_JWT,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A user's access token from `POST /api/v1/auth/login` or \
                     `POST /api/v1/auth/refresh`",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        API_KEY,
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("osk_…")
                .description(Some(
                    "An API key of an agent or a user (`osk_…`), sent as a bearer token",
                ))
                .build(),
        ),
    );
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    let components = PROBLEMS
        .iter()
        .fold(
            ComponentsBuilder::from(components),
            |built, (status, why)| {
                built.response(
                    problem_response_name(status),
                    ResponseBuilder::new()
                        .description(*why)
                        .content("application/problem+json", content.clone())
                        .build(),
                )
            },
        )
        .build();
    document.components = Some(components);

    for (path, item) in document.paths.paths.iter_mut() {
        // A resource that takes a PATCH, or a PUT (an organization's settings), carries a
        // revision (`crate::conditional`): its GET sends it as the `ETag`, its changes honour
        // `If-Match`.
        if item.patch.is_some() || item.put.is_some() {
            if let Some(get) = item.get.as_mut() {
                describe_if_none_match(get, path != RATE_LIMIT);
            }
            for change in [item.patch.as_mut(), item.put.as_mut(), item.delete.as_mut()]
                .into_iter()
                .flatten()
            {
                describe_if_match(change);
            }
        }
        if let (true, Some(post)) = (CONDITIONAL_ACTIONS.contains(&path.as_str()), &mut item.post) {
            describe_if_match(post);
        }
        for (method, operation) in [
            ("GET", item.get.as_mut()),
            ("POST", item.post.as_mut()),
            ("PUT", item.put.as_mut()),
            ("PATCH", item.patch.as_mut()),
            ("DELETE", item.delete.as_mut()),
        ] {
            if let Some(operation) = operation {
                apply_to_operation(path, method, operation);
            }
        }
    }
}

/// The actions (POSTs) that honour `If-Match` besides the PATCH and DELETE of a revised
/// resource: the cancellations.
const CONDITIONAL_ACTIONS: [&str; 2] = [
    "/api/v1/tasks/{id}/cancel",
    "/api/v1/workflows/{id}/executions/{execution_id}/cancel",
];

/// A rate limit's balance refills with time, which no revision counts: its GET never answers
/// 304.
const RATE_LIMIT: &str = "/api/v1/rate-limits/{name}";

fn header_parameter(name: &str, description: &str) -> RefOr<Parameter> {
    RefOr::T(
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(description))
            .schema(Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String),
            ))
            .build(),
    )
}

fn etag_header() -> utoipa::openapi::header::Header {
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String),
        ))
        .description(Some("The resource's revision in quotes, e.g. `\"7\"`"))
        .build()
}

/// The `ETag` on the success answers of `operation`.
fn describe_etag(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
            response
                .headers
                .insert("ETag".to_owned(), RefOr::T(etag_header()));
        }
    }
}

fn describe_if_none_match(get: &mut Operation, answers_not_modified: bool) {
    describe_etag(get);
    if !answers_not_modified {
        return;
    }
    get.parameters
        .get_or_insert_with(Vec::new)
        .push(header_parameter(
            "If-None-Match",
            "An `ETag` of the resource: when it is still current, the answer is 304 without a body",
        ));
    get.responses.responses.insert(
        "304".to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description("The resource is still at the revision the `If-None-Match` named")
                .header("ETag", etag_header())
                .build(),
        ),
    );
}

fn describe_if_match(change: &mut Operation) {
    describe_etag(change);
    change
        .parameters
        .get_or_insert_with(Vec::new)
        .push(header_parameter(
            "If-Match",
            "The `ETag` the change expects (or `*`): when the resource has moved on, nothing is \
         changed and the answer is 412",
        ));
    change
        .responses
        .responses
        .entry("412".to_owned())
        .or_insert_with(|| {
            RefOr::Ref(Ref::new(format!(
                "#/components/responses/{}",
                problem_response_name("412")
            )))
        });
}

fn apply_to_operation(path: &str, method: &str, operation: &mut Operation) {
    // utoipa names an operation after its handler (`create`); the module's tag makes the name
    // unique in the document (`projects_create`).
    if let (Some(tag), Some(id)) = (
        operation.tags.as_ref().and_then(|tags| tags.first()),
        operation.operation_id.as_mut(),
    ) {
        *id = format!("{tag}_{id}");
    }
    let public = operation
        .security
        .as_ref()
        .is_some_and(|requirements| requirements.iter().all(is_anonymous));
    let mut statuses: Vec<&str> = vec!["500", "503"];
    if !public {
        operation.security = Some(vec![
            SecurityRequirement::new(BEARER_JWT, Vec::<String>::new()),
            SecurityRequirement::new(API_KEY, Vec::<String>::new()),
        ]);
        statuses.extend(["401", "403"]);
    }
    if path.contains('{') {
        statuses.extend(["400", "404"]);
    }
    let has_query = operation.parameters.as_ref().is_some_and(|parameters| {
        parameters
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query))
    });
    if has_query {
        statuses.extend(["400", "422"]);
    }
    if operation.request_body.as_ref().is_some_and(has_content) {
        statuses.extend(["400", "408", "413", "415", "422"]);
    }
    if method == "POST" {
        // A malformed `Idempotency-Key` is a 400, a reused one 422, one still running 409.
        statuses.extend(["400", "409", "422"]);
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::T(idempotency_key()));
    }
    for status in statuses {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                RefOr::Ref(Ref::new(format!(
                    "#/components/responses/{}",
                    problem_response_name(status)
                )))
            });
    }
}

fn is_anonymous(requirement: &SecurityRequirement) -> bool {
    *requirement == SecurityRequirement::default()
}

fn has_content(body: &RefOr<RequestBody>) -> bool {
    matches!(body, RefOr::T(body) if !body.content.is_empty())
}

fn idempotency_key() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the same key and request within 24 hours get the first \
             answer again, with `Idempotent-Replayed: true` (1 to 255 characters)",
        ))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .min_length(Some(1))
                .max_length(Some(255)),
        ))
        .build()
}

/// The route of the document itself.
pub(crate) fn configure(cfg: &mut crate::routes::Routes) {
    cfg.service(crate::routes::resource("/openapi.json", "GET").route(web::get().to(serve)));
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    summary = "Read the OpenAPI document of this API",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object))
)]
pub(crate) async fn serve() -> HttpResponse {
    static JSON: LazyLock<String> = LazyLock::new(|| document().to_string());
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(JSON.as_str())
}

/// The operations of this module.
#[derive(OpenApi)]
#[openapi(paths(serve))]
pub(crate) struct Api;

#[cfg(test)]
mod tests {
    use super::link_texts;

    #[test]
    fn links_into_the_code_or_the_repository_become_their_text() {
        assert_eq!(link_texts("by [`Name::key`]."), "by `Name::key`.");
        assert_eq!(
            link_texts("see [docs/waits.md](docs/waits.md)"),
            "see docs/waits.md"
        );
        assert_eq!(
            link_texts("[RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) and [`x`](crate::x)"),
            "[RFC 9457](https://www.rfc-editor.org/rfc/rfc9457) and `x`"
        );
        assert_eq!(link_texts("a [b"), "a [b");
        assert_eq!(link_texts("tags[3] and [x]"), "tags[3] and [x]");
    }
}

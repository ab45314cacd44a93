//! [`ApiError`]: every way a request can fail, turned into an `application/problem+json`
//! response in one place ([`ResponseError::error_response`]).

use actix_web::error::{JsonPayloadError, PayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use orchestore_domain::{DomainError, Permission, Revision};
use orchestore_repo::RepoError;

use crate::conditional::etag;

/// The largest request body accepted.
pub(crate) const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// The largest body of a route that takes one task's payload or result: the hard maximum of
/// one ([`orchestore_domain::Payload::MAX_BYTES`]) and room for the other fields.
pub(crate) const PAYLOAD_BODY_LIMIT_BYTES: usize =
    orchestore_domain::Payload::MAX_BYTES + 64 * 1024;

/// The largest body of a route that takes a batch (`POST /api/v1/tasks/batch`).
pub(crate) const BATCH_BODY_LIMIT_BYTES: usize = 16 * 1024 * 1024;

pub use orchestore_api::{FieldError, FieldErrors, Invalid, Problem};

/// Why a request was not authenticated. Each variant tells the client what to do next, and
/// nothing more: a wrong password and an unknown email are the same `BadCredentials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    MissingToken,
    InvalidToken,
    BadCredentials,
    InvalidRefreshToken,
    /// A well-signed access token whose session was revoked, whose user was deactivated, or
    /// whose permissions were cut since it was issued.
    RevokedToken,
}

impl AuthFailure {
    fn detail(self) -> &'static str {
        match self {
            Self::MissingToken => "this request needs an `Authorization: Bearer <token>` header",
            Self::InvalidToken => "the access token is invalid or has expired",
            Self::BadCredentials => "the organization, email or password is wrong",
            Self::InvalidRefreshToken => "the refresh token is invalid, revoked or expired",
            Self::RevokedToken => {
                "the access token no longer stands: its session was revoked or what it grants \
                 has changed; refresh it or log in again"
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request is not shaped like the API expects: malformed JSON, a wrong type, an
    /// unknown or missing field, a path id that is not a UUID.
    #[error("bad request: {detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("unauthenticated: {0:?}")]
    Unauthenticated(AuthFailure),
    #[error("missing permission {}", .0.code())]
    Forbidden(Permission),
    /// The caller holds the permission but may not act this way (`detail` says why), e.g.
    /// send a message as another user.
    #[error("not allowed: {0}")]
    NotAllowed(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    /// A unique value is taken, the row is referred to by others, or a lease token is stale.
    #[error("conflict: {detail}")]
    Conflict {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    /// The body did not arrive within `limit` (`server.body_read_timeout`).
    #[error("request body timed out")]
    BodyTimeout { limit: std::time::Duration },
    /// A conditional request (`If-Match`) named a revision the resource is no longer at:
    /// nothing was changed. `current` is the revision it is at, sent back as its `ETag`.
    #[error("precondition failed: {detail}")]
    PreconditionFailed { detail: String, current: Revision },
    /// Well-formed, but a value breaks a rule: one entry per field at fault.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// Too many attempts (failed logins, sign-ups): try again after `retry_after_seconds`.
    #[error("too many requests: retry after {retry_after_seconds} s")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The request did not finish within `limit` (`server.request_timeout`); its work was
    /// dropped, and a transaction it had open rolled back.
    #[error("request deadline of {limit:?} exceeded")]
    DeadlineExceeded { limit: std::time::Duration },
    /// A bug or a corrupt row. The message goes to the log, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// A 429 whose `Retry-After` covers `wait`, rounded up to the second.
    pub(crate) fn retry_after(wait: std::time::Duration) -> Self {
        Self::TooManyRequests {
            retry_after_seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    }

    /// `(type suffix, title)` of the problem document.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest { .. } => ("bad-request", "Malformed request"),
            Self::Unauthenticated(_) => ("unauthenticated", "Authentication required"),
            Self::Forbidden(_) | Self::NotAllowed(_) => ("forbidden", "Permission denied"),
            Self::NotFound(_) => ("not-found", "Not found"),
            Self::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            Self::Conflict { .. } => ("conflict", "Conflict"),
            Self::PreconditionFailed { .. } => ("precondition-failed", "Precondition failed"),
            Self::UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type"),
            Self::PayloadTooLarge { .. } => ("payload-too-large", "Payload too large"),
            Self::BodyTimeout { .. } => ("request-timeout", "Request timeout"),
            Self::Invalid(_) => ("validation", "Invalid input"),
            Self::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::DeadlineExceeded { .. } => ("deadline-exceeded", "Request took too long"),
            Self::Internal(_) => ("internal", "Internal server error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest { detail, .. } => detail.clone(),
            Self::Unauthenticated(failure) => failure.detail().to_owned(),
            Self::Forbidden(permission) => {
                format!("this action needs the {} permission", permission.code())
            }
            Self::NotFound(detail)
            | Self::NotAllowed(detail)
            | Self::Conflict { detail, .. }
            | Self::PreconditionFailed { detail, .. } => detail.clone(),
            Self::MethodNotAllowed { allow } => format!("this resource allows {allow}"),
            Self::UnsupportedMediaType => {
                "the body must be JSON (Content-Type: application/json)".to_owned()
            }
            Self::PayloadTooLarge { limit } => format!("the body must be at most {limit} bytes"),
            Self::BodyTimeout { limit } => {
                format!("the body was not received within {}", seconds(*limit))
            }
            Self::Invalid(errors) => match errors.as_slice() {
                [one] => format!("{}: {}", one.field, one.message),
                _ => format!("{} fields are invalid", errors.len()),
            },
            Self::TooManyRequests {
                retry_after_seconds,
            } => format!("too many attempts: try again in {retry_after_seconds} s"),
            Self::Unavailable(_) => "the database is unavailable; retry later".to_owned(),
            Self::DeadlineExceeded { limit } => format!(
                "the request did not finish within {}; nothing of it was kept, retry later",
                seconds(*limit)
            ),
            Self::Internal(_) => "an internal error occurred; it has been logged".to_owned(),
        }
    }

    /// The same error about element `prefix` of a list in the request (`tasks[3]`): each field
    /// it names becomes `prefix.field`, a conflict that names none is on `prefix`, and the
    /// detail says which element.
    pub(crate) fn within(self, prefix: &str) -> Self {
        let inside = |error: FieldError| {
            let field = if error.field.is_empty() {
                prefix.to_owned()
            } else {
                format!("{prefix}.{}", error.field)
            };
            FieldError::new(field, error.message)
        };
        match self {
            Self::Invalid(errors) => Self::Invalid(errors.into_iter().map(inside).collect()),
            Self::Conflict { detail, errors } => Self::Conflict {
                errors: if errors.is_empty() {
                    vec![FieldError::new(prefix, detail.clone())]
                } else {
                    errors.into_iter().map(inside).collect()
                },
                detail: format!("{prefix}: {detail}"),
            },
            Self::BadRequest { detail, errors } => Self::BadRequest {
                detail: format!("{prefix}: {detail}"),
                errors: errors.into_iter().map(inside).collect(),
            },
            other => other,
        }
    }

    /// The problem document of this error: the body of its response, or the answer for one
    /// item of a call that answers each item (`POST /api/v1/queue/complete`).
    pub(crate) fn problem(&self) -> Problem {
        let (kind, title) = self.kind();
        Problem {
            kind: format!("urn:orchestore:problem:{kind}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            errors: self.field_errors().to_vec(),
        }
    }

    fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::BadRequest { errors, .. }
            | Self::Invalid(errors)
            | Self::Conflict { errors, .. } => errors,
            _ => &[],
        }
    }
}

impl From<RepoError> for ApiError {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::NotFound { entity, id } => {
                Self::NotFound(format!("{entity} {id} not found"))
            }
            RepoError::Conflict { field, reason, .. } => Self::Conflict {
                errors: field
                    .map(|field| vec![FieldError::new(field, reason.clone())])
                    .unwrap_or_default(),
                detail: reason,
            },
            RepoError::Reference { field, entity, id } => Self::Invalid(vec![FieldError::new(
                field,
                format!("{entity} {id} does not exist"),
            )]),
            RepoError::Stale { entity, id, reason } => Self::Conflict {
                detail: format!("{entity} {id}: {reason}"),
                errors: Vec::new(),
            },
            RepoError::RevisionMismatch {
                entity,
                id,
                expected,
                current,
            } => Self::PreconditionFailed {
                detail: format!(
                    "{entity} {id} is at revision {current} (ETag {}), not {expected}: it changed \
                     since it was read; read it again and retry",
                    etag(current)
                ),
                current,
            },
            RepoError::Invalid(domain) => Self::Invalid(vec![domain.into()]),
            // The one batch is of tasks, under `tasks` in its body.
            RepoError::InBatch { index, error } => {
                Self::from(*error).within(&format!("tasks[{index}]"))
            }
            RepoError::Unavailable(cause) => Self::Unavailable(error_chain(cause.as_ref())),
            // A variant added later is a server fault until it is mapped here.
            other => Self::Internal(error_chain(&other)),
        }
    }
}

/// An error and its sources, for the log.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

impl From<Invalid> for ApiError {
    fn from(Invalid(errors): Invalid) -> Self {
        Self::Invalid(errors)
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        Self::Invalid(vec![err.into()])
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::NotAllowed(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::DeadlineExceeded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // The cause of a 5xx is logged here and nowhere else; the body stays generic.
        match self {
            Self::Internal(cause) => tracing::error!(error = %cause, "request failed"),
            Self::Unavailable(cause) => tracing::warn!(error = %cause, "database unavailable"),
            Self::DeadlineExceeded { limit } => {
                tracing::warn!(?limit, "request deadline exceeded");
            }
            _ => {}
        }
        let status = self.status_code();
        let problem = self.problem();
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        match self {
            Self::Unauthenticated(failure) => {
                let challenge = match failure {
                    AuthFailure::InvalidToken | AuthFailure::RevokedToken => {
                        r#"Bearer realm="orchestore", error="invalid_token""#
                    }
                    _ => r#"Bearer realm="orchestore""#,
                };
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, with_head(allow)));
            }
            Self::TooManyRequests {
                retry_after_seconds,
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            Self::DeadlineExceeded { .. } => {
                response.insert_header((
                    header::RETRY_AFTER,
                    RETRY_AFTER_DEADLINE_SECONDS.to_string(),
                ));
            }
            Self::PreconditionFailed { current, .. } => {
                response.insert_header((header::ETAG, etag(*current)));
            }
            _ => {}
        }
        response.json(problem)
    }
}

/// When to retry a request that ran out of time: a database that stalled for the whole deadline
/// is seldom back within the second.
const RETRY_AFTER_DEADLINE_SECONDS: u64 = 5;

/// `limit` as a client reads it: `10 s`, `1.5 s`.
fn seconds(limit: std::time::Duration) -> String {
    format!("{} s", limit.as_secs_f64())
}

/// The `Allow` header of a resource that answers `allow`: HEAD is answered wherever GET is
/// (see [`crate::head`]), so it is listed after it.
fn with_head(allow: &str) -> String {
    allow
        .split(", ")
        .flat_map(|method| match method {
            "GET" => vec!["GET", "HEAD"],
            other => vec![other],
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The transport-level failures of a JSON body: content type, size, syntax.
pub(crate) fn json_config() -> web::JsonConfig {
    json_config_up_to(BODY_LIMIT_BYTES)
}

/// [`json_config`] with another size limit, for a route that takes a larger body.
pub(crate) fn json_config_up_to(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_payload_error(err).into())
}

/// The 408 of a body read that [`crate::deadline`] cut: its error carries the limit.
fn body_timeout(err: &std::io::Error) -> ApiError {
    let limit = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<crate::deadline::BodyReadTimedOut>())
        .map(|timed_out| timed_out.limit)
        .unwrap_or_default();
    ApiError::BodyTimeout { limit }
}

fn json_payload_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::PayloadTooLarge { limit }
        }
        JsonPayloadError::Payload(PayloadError::Io(err))
            if err.kind() == std::io::ErrorKind::TimedOut =>
        {
            body_timeout(&err)
        }
        JsonPayloadError::Deserialize(err) => ApiError::BadRequest {
            detail: format!("the body is not valid JSON: {err}"),
            errors: Vec::new(),
        },
        other => ApiError::BadRequest {
            detail: format!("the body could not be read: {other}"),
            errors: Vec::new(),
        },
    }
}

/// Path parameters named `id` or `…_id` are UUIDs: name each one that is not. (Other
/// parameters, such as a version number, are parsed by their handler.)
pub(crate) fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err, req: &HttpRequest| {
        let errors: Vec<FieldError> = req
            .match_info()
            .iter()
            .filter(|(name, _)| *name == "id" || name.ends_with("_id"))
            .filter(|(_, value)| uuid::Uuid::parse_str(value).is_err())
            .map(|(name, _)| FieldError::new(name, "must be a UUID"))
            .collect();
        ApiError::BadRequest {
            detail: "a path parameter is not a valid id".to_owned(),
            errors,
        }
        .into()
    })
}

/// Turns a failed typed deserialization (of a body or a query string) into a 400 that names
/// the field, when serde tells which one.
pub(crate) fn deserialize_error<E: std::fmt::Display>(
    what: &str,
    err: serde_path_to_error::Error<E>,
) -> ApiError {
    let message = without_value(&err.inner().to_string());
    let path = err.path().to_string();
    // serde_path_to_error's path ends at an unknown field; a missing one is named only in
    // the message.
    let field = if path == "." {
        field_in_message(&message).map(str::to_owned)
    } else {
        Some(path)
    };
    ApiError::BadRequest {
        detail: format!("the {what} does not match the expected shape: {message}"),
        errors: field
            .map(|field| vec![FieldError::new(field, message)])
            .unwrap_or_default(),
    }
}

/// serde's message without the value it quotes ("invalid type: integer `12345678`, expected a
/// string" → "invalid type: integer, expected a string"): the value may be a secret sent in
/// the wrong shape, such as a password as a number.
fn without_value(message: &str) -> String {
    let quotes_a_value =
        message.starts_with("invalid type: ") || message.starts_with("invalid value: ");
    match message.split_once(", expected") {
        Some((found, expected)) if quotes_a_value => {
            let kind = found
                .find(['`', '"'])
                .map_or(found, |quote| found[..quote].trim_end());
            format!("{kind}, expected{expected}")
        }
        _ => message.to_owned(),
    }
}

/// serde names a missing or unknown field only inside its message: "unknown field `x`, …".
fn field_in_message(message: &str) -> Option<&str> {
    ["unknown field `", "missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(
            field_in_message("unknown field `colour`, expected one of `name`"),
            Some("colour")
        );
        assert_eq!(field_in_message("missing field `title`"), Some("title"));
        assert_eq!(field_in_message("invalid type: string"), None);
    }

    #[test]
    fn serde_messages_lose_the_values_they_quote() {
        assert_eq!(
            without_value("invalid type: integer `12345678`, expected a string"),
            "invalid type: integer, expected a string"
        );
        assert_eq!(
            without_value("invalid type: string \"hunter2, really\", expected u32"),
            "invalid type: string, expected u32"
        );
        assert_eq!(
            without_value("invalid value: integer `-1`, expected u64"),
            "invalid value: integer, expected u64"
        );
        assert_eq!(
            without_value("unknown field `colour`, expected one of `name`"),
            "unknown field `colour`, expected one of `name`"
        );
    }

    #[test]
    fn internal_errors_say_nothing_internal() {
        let err = ApiError::from(RepoError::internal("relation tasks has no column x"));
        let response = err.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!err.detail().contains("column"));
    }

    #[test]
    fn transitions_point_at_status() {
        let err = ApiError::from(DomainError::InvalidTransition {
            from: "cancelled",
            to: "queued",
        });
        assert_eq!(err.field_errors()[0].field, "status");
        assert_eq!(err.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}

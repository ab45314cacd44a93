//! `Idempotency-Key` on POST: a client that sends the key and retries (a timeout, a dropped
//! connection) gets the first request's answer — status, `Location` and body — instead of a
//! second creation, for [`KEEP_FOR`]. The same key with another request (method, path, query
//! or body) is 422; a second request while the first still runs is 409, so that two requests
//! with one key at once make one creation.
//!
//! Keys belong to the caller (a user or an agent) within its organization. A request that does
//! not authenticate is answered by its route, key or not. Answers that a retry may change are
//! not kept: a conflict (409), a rate limit (429) and server errors free the key instead.
//!
//! The key is taken before the route runs and its answer kept after, outside the route's
//! transaction: if the server stops in between, the key stays taken, without an answer, for
//! [`PENDING_FOR`]; a retry after that runs the request again.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use chrono::Duration;
use futures_util::StreamExt as _;
use orchestore_domain::IdempotencyKey;
use orchestore_repo::{IdempotencyWindow, IdempotentStart, RequestFingerprint, StoredResponse};
use sha2::{Digest, Sha256};

use crate::auth::authenticate;
use crate::deadline::Deadlines;
use crate::error::{ApiError, BATCH_BODY_LIMIT_BYTES, FieldError};
use crate::state::AppState;

pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer that is a replay of the first request's.
pub(crate) const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long an answer is replayed.
pub(crate) const KEEP_FOR: Duration = Duration::hours(24);
/// How long a key may stay taken without an answer: far longer than a request may run (see
/// `server.request_timeout`), so only a request whose server stopped is run again.
pub(crate) const PENDING_FOR: Duration = Duration::minutes(5);

const WINDOW: IdempotencyWindow = IdempotencyWindow {
    keep_for: KEEP_FOR,
    pending_for: PENDING_FOR,
};

/// Middleware: replays or records the answer of a POST that carries `Idempotency-Key`.
pub(crate) async fn replay_or_record(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(raw_key) = req
        .headers()
        .get(IDEMPOTENCY_KEY)
        .filter(|_| req.method() == Method::POST)
        .cloned()
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let key = match raw_key
        .to_str()
        .ok()
        .map(IdempotencyKey::parse)
        .and_then(Result::ok)
    {
        Some(key) => key,
        None => {
            let invalid = ApiError::BadRequest {
                detail: format!(
                    "the Idempotency-Key header must be 1 to {} visible characters",
                    IdempotencyKey::MAX_CHARS
                ),
                errors: vec![FieldError::new(
                    "Idempotency-Key",
                    "not a valid idempotency key",
                )],
            };
            return Ok(req.error_response(invalid));
        }
    };
    // The route answers a caller that does not authenticate (401), as without the key.
    let Ok(caller) = authenticate(req.request()).await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(ApiError::internal(
            "the application state is not registered",
        )));
    };
    // The route's body deadline (`server.body_read_timeout`) holds here too: the body is read
    // before the route's own bound starts.
    let Some(body_read) = req
        .app_data::<web::Data<Deadlines>>()
        .map(|deadlines| deadlines.body_read)
    else {
        return Ok(req.error_response(ApiError::internal("the deadlines are not registered")));
    };
    let body = match tokio::time::timeout(body_read, read_body(&mut req)).await {
        Ok(Ok(body)) => body,
        Ok(Err(error)) => return Ok(req.error_response(error)),
        Err(_) => {
            return Ok(req.error_response(ApiError::BodyTimeout { limit: body_read }));
        }
    };
    let fingerprint = fingerprint(&req, &body);
    let ctx = caller.ctx().clone();
    let start = state
        .store
        .begin_idempotent_request(&ctx, &key, &fingerprint, chrono::Utc::now(), WINDOW)
        .await;
    match start {
        Err(error) => return Ok(req.error_response(ApiError::from(error))),
        Ok(IdempotentStart::Mismatch) => {
            return Ok(req.error_response(ApiError::Invalid(vec![FieldError::new(
                "Idempotency-Key",
                "this key was used for another request (method, path or body): use a new key",
            )])));
        }
        Ok(IdempotentStart::InProgress) => {
            return Ok(req.error_response(ApiError::Conflict {
                detail: "a request with this Idempotency-Key is still running: retry later"
                    .to_owned(),
                errors: vec![FieldError::new(
                    "Idempotency-Key",
                    "in use by a running request",
                )],
            }));
        }
        Ok(IdempotentStart::Replay(stored)) => {
            return Ok(req.into_response(replay(&stored)));
        }
        Ok(IdempotentStart::Started) => {}
    }
    req.set_payload(payload_of(body));
    // The route authenticates from what was checked here.
    req.extensions_mut().insert(caller);
    let response = match next.call(req).await {
        Ok(response) => response,
        Err(error) => {
            abandon(&state, &ctx, &key, &fingerprint).await;
            return Err(error);
        }
    };
    let (req, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let body = match actix_web::body::to_bytes(body).await {
        Ok(body) => body,
        Err(error) => {
            abandon(&state, &ctx, &key, &fingerprint).await;
            return Err(ApiError::internal(format!("reading the answer: {}", error.into())).into());
        }
    };
    let status = head.status();
    if kept(status) {
        let stored = StoredResponse {
            status: status.as_u16(),
            content_type: header_text(&head, header::CONTENT_TYPE),
            location: header_text(&head, header::LOCATION),
            body: body.to_vec(),
        };
        if let Err(error) = state
            .store
            .finish_idempotent_request(&ctx, &key, &fingerprint, &stored)
            .await
        {
            // The request is done and answered; only a retry's replay is lost: it waits for
            // the key to be taken over.
            tracing::warn!(%error, "keeping the answer of an idempotent request");
        }
    } else {
        abandon(&state, &ctx, &key, &fingerprint).await;
    }
    Ok(ServiceResponse::new(
        req,
        head.set_body(body).map_into_boxed_body(),
    ))
}

/// Whether a retry must get this answer again: successes and the refusals a retry would get
/// anyway; not a conflict, a rate limit or a server error, which a retry may not meet.
fn kept(status: StatusCode) -> bool {
    !(status.is_server_error()
        || status == StatusCode::CONFLICT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT)
}

async fn abandon(
    state: &AppState,
    ctx: &orchestore_repo::Ctx,
    key: &IdempotencyKey,
    fingerprint: &RequestFingerprint,
) {
    if let Err(error) = state
        .store
        .abandon_idempotent_request(ctx, key, fingerprint)
        .await
    {
        tracing::warn!(%error, "freeing the Idempotency-Key of a failed request");
    }
}

fn header_text(response: &HttpResponse<()>, name: HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn replay(stored: &StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    response.insert_header((IDEMPOTENT_REPLAYED, HeaderValue::from_static("true")));
    for (name, value) in [
        (header::CONTENT_TYPE, &stored.content_type),
        (header::LOCATION, &stored.location),
    ] {
        if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            response.insert_header((name, value));
        }
    }
    response.body(stored.body.clone())
}

/// The body, up to the largest any route takes (the route's own limit still applies).
async fn read_body(req: &mut ServiceRequest) -> Result<web::Bytes, ApiError> {
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest {
            detail: format!("the body could not be read: {e}"),
            errors: Vec::new(),
        })?;
        if body.len() + chunk.len() > BATCH_BODY_LIMIT_BYTES {
            return Err(ApiError::PayloadTooLarge {
                limit: BATCH_BODY_LIMIT_BYTES,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn payload_of(body: web::Bytes) -> actix_web::dev::Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    payload.into()
}

/// The digest of what makes a request the same: method, path and query, content type, body.
fn fingerprint(req: &ServiceRequest, body: &[u8]) -> RequestFingerprint {
    let mut digest = Sha256::new();
    for part in [
        req.method().as_str().as_bytes(),
        req.uri()
            .path_and_query()
            .map_or("", |p| p.as_str())
            .as_bytes(),
        req.headers()
            .get(header::CONTENT_TYPE)
            .map_or(&b""[..], HeaderValue::as_bytes),
        body,
    ] {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    digest.finalize().into()
}

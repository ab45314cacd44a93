//! The request id: taken from `X-Request-Id` or generated, echoed in the response, recorded
//! in the audit log (through `Ctx`) and on every log line of the request.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use tracing::Instrument as _;

pub(crate) const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
const MAX_LEN: usize = 128;

/// The id of the request being served.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(String);

impl RequestId {
    /// The client's id when it is a short printable token, a new UUID otherwise.
    fn from_header(value: Option<&HeaderValue>) -> Self {
        value
            .and_then(|value| value.to_str().ok())
            .filter(|id| {
                !id.is_empty() && id.len() <= MAX_LEN && id.bytes().all(|b| b.is_ascii_graphic())
            })
            .map_or_else(
                || Self(uuid::Uuid::now_v7().to_string()),
                |id| Self(id.to_owned()),
            )
    }

    /// The id the middleware stored for `req`.
    pub(crate) fn of(req: &HttpRequest) -> Option<Self> {
        req.extensions().get::<Self>().cloned()
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromRequest for RequestId {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Self::of(req).unwrap_or_else(|| Self::from_header(None))))
    }
}

/// Middleware: assigns the id, runs the request inside a span that carries it, echoes it and
/// logs the outcome.
pub(crate) async fn assign_request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = RequestId::from_header(req.headers().get(REQUEST_ID_HEADER));
    let span = tracing::info_span!(
        "request",
        request_id = %id.as_str(),
        method = %req.method(),
        path = %req.path(),
    );
    let header = HeaderValue::from_str(id.as_str()).ok();
    req.extensions_mut().insert(id);
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    if let Some(header) = header {
        response.headers_mut().insert(REQUEST_ID_HEADER, header);
    }
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis(),
            "request served"
        );
    });
    Ok(response)
}

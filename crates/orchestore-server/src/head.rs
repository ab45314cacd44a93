//! `HEAD`: answered wherever `GET` is, as `GET` without the body.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

/// Middleware: routes a `HEAD` request as the `GET` of its path. actix's HTTP/1 encoder
/// remembers that the request was a `HEAD` and leaves the body out (its `Content-Length`
/// stays), so no route needs one of its own.
pub(crate) async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

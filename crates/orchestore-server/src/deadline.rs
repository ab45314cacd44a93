//! Bounds on how long a request may hold its connection and its worker: the body must arrive
//! within `server.body_read_timeout` (else 408) and the answer must be ready within
//! `server.request_timeout` (else 503). actix bounds only the head of a request
//! (`client_request_timeout`) and the closing of a connection (`client_disconnect_timeout`).

use std::fmt;
use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpMessage as _, ResponseError as _};
use futures_core::Stream;

use crate::error::ApiError;

/// The two bounds, from `server.body_read_timeout` and `server.request_timeout`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    pub(crate) body_read: Duration,
    pub(crate) request: Duration,
}

/// Middleware: cuts the body's read at its deadline and answers 503 when the request is not
/// done by its own. Dropping the handler's future drops what it was doing: a transaction it
/// had open rolls back, so a request cut short writes nothing.
pub(crate) async fn enforce_deadlines(
    deadlines: Data<Deadlines>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let body: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(BodyDeadline {
        body: req.take_payload(),
        timer: Box::pin(tokio::time::sleep(deadlines.body_read)),
        limit: deadlines.body_read,
    });
    req.set_payload(Payload::from(body));
    let request = req.request().clone();
    match tokio::time::timeout(deadlines.request, next.call(req)).await {
        Ok(response) => response.map(ServiceResponse::map_into_left_body),
        Err(_) => {
            let problem = ApiError::DeadlineExceeded {
                limit: deadlines.request,
            };
            Ok(ServiceResponse::new(request, problem.error_response()).map_into_right_body())
        }
    }
}

/// The error a body read ends with at its deadline; [`crate::error`] turns it into a 408.
#[derive(Debug)]
pub(crate) struct BodyReadTimedOut {
    pub(crate) limit: Duration,
}

impl fmt::Display for BodyReadTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the body was not received within {:?}", self.limit)
    }
}

impl std::error::Error for BodyReadTimedOut {}

/// A request body that fails once `timer` fires, however slowly its bytes still trickle in.
struct BodyDeadline {
    body: Payload,
    timer: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
}

impl Stream for BodyDeadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(chunk) = Pin::new(&mut self.body).poll_next(cx) {
            return Poll::Ready(chunk);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                BodyReadTimedOut { limit: self.limit },
            ))))),
            Poll::Pending => Poll::Pending,
        }
    }
}

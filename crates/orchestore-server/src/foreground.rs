//! The requests in flight, counted so that deferrable background work (the audit sealer)
//! can yield to them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

/// How many requests the server is handling now.
#[derive(Clone, Debug, Default)]
pub(crate) struct Foreground(Arc<AtomicUsize>);

impl Foreground {
    /// Whether a request is being handled.
    pub(crate) fn busy(&self) -> bool {
        self.0.load(Ordering::Relaxed) > 0
    }

    /// Counts one request until the returned guard drops (also when its future is dropped
    /// unfinished: a client that went away, a deadline).
    fn enter(&self) -> InFlight {
        self.0.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(&self.0))
    }
}

struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Middleware: counts the request in the app's [`Foreground`] while its handler runs.
pub(crate) async fn count_in_flight(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let _in_flight = req
        .app_data::<web::Data<Foreground>>()
        .map(|foreground| foreground.enter());
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_while_a_request_is_counted() {
        let foreground = Foreground::default();
        assert!(!foreground.busy());
        let first = foreground.enter();
        let second = foreground.enter();
        assert!(foreground.busy());
        drop(first);
        assert!(foreground.busy(), "one is still in flight");
        drop(second);
        assert!(!foreground.busy());
    }
}

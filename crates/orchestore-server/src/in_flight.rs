//! The requests being handled, counted so that deferrable background work (the audit sealer)
//! can yield to them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

/// How many requests the server is handling now, and how many of them are long polls waiting
/// for work (a claim with `wait_seconds`), which ask nothing of the database while they wait.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestsInFlight {
    handled: Arc<AtomicUsize>,
    waiting: Arc<AtomicUsize>,
}

impl RequestsInFlight {
    /// Whether a request is being handled other than by waiting.
    pub(crate) fn busy(&self) -> bool {
        self.handled.load(Ordering::Relaxed) > self.waiting.load(Ordering::Relaxed)
    }

    /// Counts one request until the returned guard drops (also when its future is dropped
    /// unfinished: a client that went away, a deadline).
    fn enter(&self) -> Counted {
        Counted::on(&self.handled)
    }

    /// Counts a request as waiting until the returned guard drops.
    pub(crate) fn wait(&self) -> Counted {
        Counted::on(&self.waiting)
    }
}

/// One count, taken back when dropped.
pub(crate) struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn on(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(Arc::clone(counter))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Middleware: counts the request in the app's [`RequestsInFlight`] while its handler runs.
pub(crate) async fn count_in_flight(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let _counted = req
        .app_data::<web::Data<RequestsInFlight>>()
        .map(|requests| requests.enter());
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_while_a_request_is_handled_other_than_by_waiting() {
        let requests = RequestsInFlight::default();
        assert!(!requests.busy());
        let first = requests.enter();
        let second = requests.enter();
        assert!(requests.busy());
        drop(first);
        assert!(requests.busy(), "one is still in flight");
        let waiting = requests.wait();
        assert!(!requests.busy(), "the one left is a long poll, waiting");
        drop(waiting);
        assert!(requests.busy(), "it works again once it has waited");
        drop(second);
        assert!(!requests.busy());
    }
}

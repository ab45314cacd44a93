//! Wake-ups for claims that wait for work: a commit that queues tasks wakes the claims of its
//! organization waiting in this process at once, and, on PostgreSQL, those of every other
//! process through `NOTIFY` (sent at commit, so never before the tasks are visible).
//!
//! `NOTIFY` serializes the commits that send it (PostgreSQL takes one lock for the queue of
//! notifications), so a process sends at most one per organization every
//! [`Wakeups::NOTIFY_GAP`]: a burst of enqueues costs one notification, and the claims it wakes
//! take the whole burst.
//!
//! A waiting claim also looks again at a short interval ([`Wakeups::RECHECK`]): for tasks whose
//! `run_after` comes due, for a wake-up missed while the listener reconnects, and for writers
//! that do not notify (another process on the same SQLite file, raw SQL).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::PgListener;
use tokio::sync::{Notify, OnceCell};
use uuid::Uuid;

/// The PostgreSQL channel; the payload is the organization id.
pub(crate) const CHANNEL: &str = "orchestore_queue";

#[derive(Debug, Default)]
pub(crate) struct Wakeups {
    /// One `Notify` per organization with waiting claims; entries whose waiters are gone are
    /// dropped at the next wake-up of that organization.
    waiting: Mutex<HashMap<Uuid, Weak<Notify>>>,
    /// When this process last sent `NOTIFY` for each organization.
    notified: Mutex<HashMap<Uuid, Instant>>,
    listener: OnceCell<()>,
    /// Told when the store closes or is dropped, so that the listener gives its pooled
    /// connection back (a pool closes only once every connection it lent is back).
    stop_listening: Arc<Notify>,
}

impl Drop for Wakeups {
    fn drop(&mut self) {
        self.stop_listening();
    }
}

impl Wakeups {
    /// How often a waiting claim looks again without a wake-up.
    pub(crate) const RECHECK: Duration = Duration::from_secs(1);

    /// The least time between two `NOTIFY` of one organization from this process.
    pub(crate) const NOTIFY_GAP: Duration = Duration::from_millis(50);

    /// Whether a commit that queued work of `org` should send `NOTIFY`: not when this process
    /// sent one less than [`Wakeups::NOTIFY_GAP`] ago.
    pub(crate) fn should_notify(&self, org: Uuid) -> bool {
        let mut notified = self.notified.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if notified
            .get(&org)
            .is_some_and(|last| now.duration_since(*last) < Self::NOTIFY_GAP)
        {
            return false;
        }
        if notified.len() > 10_000 {
            notified.retain(|_, last| now.duration_since(*last) < Self::NOTIFY_GAP);
        }
        notified.insert(org, now);
        true
    }

    /// The `Notify` the claims of `org` wait on; hold it while waiting.
    pub(crate) fn subscribe(&self, org: Uuid) -> Arc<Notify> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(notify) = waiting.get(&org).and_then(Weak::upgrade) {
            return notify;
        }
        let notify = Arc::new(Notify::new());
        waiting.insert(org, Arc::downgrade(&notify));
        notify
    }

    /// Wakes the claims of `org` waiting in this process.
    pub(crate) fn wake(&self, org: Uuid) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        match waiting.get(&org).and_then(Weak::upgrade) {
            Some(notify) => notify.notify_waiters(),
            None => {
                waiting.remove(&org);
            }
        }
    }

    /// Ends the listener's task, if it runs (or when it starts), giving its connection back.
    pub(crate) fn stop_listening(&self) {
        // A permit kept for a listener not waiting yet: it stops at its next wait.
        self.stop_listening.notify_one();
    }

    /// Starts, once per store, the task that turns PostgreSQL notifications into wake-ups. It
    /// holds one pooled connection while it runs and reconnects after an outage; if it cannot
    /// start, waiting claims still look again every [`Wakeups::RECHECK`].
    pub(crate) async fn listen(self: &Arc<Self>, pool: &DatabaseConnection) {
        let wakeups = Arc::downgrade(self);
        let pool = pool.get_postgres_connection_pool().clone();
        self.listener
            .get_or_init(|| async move {
                let mut listener = match PgListener::connect_with(&pool).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::warn!(%error, "queue wake-ups: cannot listen; claims poll");
                        return;
                    }
                };
                if let Err(error) = listener.listen(CHANNEL).await {
                    tracing::warn!(%error, "queue wake-ups: cannot listen; claims poll");
                    return;
                }
                let stop = Arc::clone(&self.stop_listening);
                tokio::spawn(async move {
                    loop {
                        let received = tokio::select! {
                            received = listener.recv() => received,
                            () = stop.notified() => return,
                        };
                        match received {
                            Ok(notification) => {
                                let Some(wakeups) = wakeups.upgrade() else {
                                    return;
                                };
                                if let Ok(org) = Uuid::parse_str(notification.payload()) {
                                    wakeups.wake(org);
                                }
                            }
                            Err(error) => {
                                // `recv` reconnects by itself on the next call.
                                tracing::warn!(%error, "queue wake-ups: listener lost");
                                tokio::time::sleep(Wakeups::RECHECK).await;
                            }
                        }
                    }
                });
            })
            .await;
    }
}

//! Whether an access token still stands, without a database read on every request.
//!
//! A token names its session and carries its user's access version. The standing of a session
//! (live or not, and the user's version now) is read from the store once and trusted for at
//! most `auth.session_check_interval`. A change made through this server (a logout, a
//! deactivation, a role taken away) raises the store's standing epoch, which drops every
//! cached standing at once; a change made through another replica reaches this one within the
//! interval.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use orchestore_domain::SessionId;
use orchestore_repo::{Ctx, RepoResult, SessionStanding, Store};

/// More cached sessions than this, and the stale ones are dropped (all of them, if none is).
const MAX_ENTRIES: usize = 100_000;

#[derive(Clone, Copy)]
struct Cached {
    standing: SessionStanding,
    read_at: Instant,
    epoch: u64,
}

/// The cached standings of the sessions this server has seen lately.
pub(crate) struct Standings {
    interval: Duration,
    cached: Mutex<HashMap<SessionId, Cached>>,
}

impl Standings {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            cached: Mutex::new(HashMap::new()),
        }
    }

    /// The cached standing of `session`, when it was read less than the interval ago and no
    /// revocation has gone through the store since.
    pub(crate) fn cached(&self, store: &dyn Store, session: SessionId) -> Option<SessionStanding> {
        self.fresh(session, store.standing_epoch())
    }

    /// The standing of `session` in the context's organization: cached when read less than the
    /// interval ago and no revocation has gone through the store since, read otherwise.
    pub(crate) async fn of(
        &self,
        store: &dyn Store,
        ctx: &Ctx,
        session: SessionId,
    ) -> RepoResult<SessionStanding> {
        // Read the epoch before the standing: a change committed in between raises it, so the
        // entry stored below is already stale rather than wrongly fresh.
        let epoch = store.standing_epoch();
        if let Some(hit) = self.fresh(session, epoch) {
            return Ok(hit);
        }
        let standing = store.session_standing(ctx, session).await?;
        let mut cached = self.lock();
        if cached.len() >= MAX_ENTRIES {
            let interval = self.interval;
            cached.retain(|_, entry| entry.epoch == epoch && entry.read_at.elapsed() < interval);
            if cached.len() >= MAX_ENTRIES {
                cached.clear();
            }
        }
        cached.insert(
            session,
            Cached {
                standing,
                read_at: Instant::now(),
                epoch,
            },
        );
        Ok(standing)
    }

    fn fresh(&self, session: SessionId, epoch: u64) -> Option<SessionStanding> {
        self.lock()
            .get(&session)
            .filter(|entry| entry.epoch == epoch && entry.read_at.elapsed() < self.interval)
            .map(|entry| entry.standing)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Cached>> {
        // A panic while holding the lock leaves a map that is still a valid cache.
        self.cached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

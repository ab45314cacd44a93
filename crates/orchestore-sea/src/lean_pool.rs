//! PostgreSQL connections the store pools itself, for the statements it runs past SeaORM's
//! transactions: single reads, and the statements that serve calls together.
//!
//! sqlx's pool pings every connection it takes back (`return_to_pool`): a round trip after every
//! statement, 12% of the server's CPU on a read by id (BENCHMARKS.md, the HTTP section). pgx's
//! pool and deadpool's fast recycling do not, and neither does this one: a connection goes
//! back to its pool only when its last statement ran to the end (its rows read, or an error
//! from the server, after which sqlx waits for the server to be ready on the next use); one
//! whose statement was cut short (its caller went away) or whose socket failed is closed
//! instead. A connection idle for [`PING_AFTER_IDLE`] or more is pinged before its next
//! use, as the main pool's are; one that died within that time fails its statement, which the
//! caller runs again on another when it could not have taken effect (a read: see `conn.rs`).

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgRow};
use sea_orm::sqlx::{self, Connection as _, Postgres};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::statements::StatementLog;

/// A statement with its arguments bound.
pub(crate) type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// How long a pooled connection may sit idle before it is pinged on its next use.
pub(crate) const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The limits of a [`LeanPool`], taken from the main pool's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_lifetime: Option<Duration>,
}

/// A pool of PostgreSQL connections, opened when first needed. Cheap to clone.
#[derive(Clone)]
pub(crate) struct LeanPool {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for LeanPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeanPool")
            .field("connections", &self.shared.limits.connections)
            .field("idle", &self.shared.idle().len())
            .finish()
    }
}

struct Shared {
    options: PgConnectOptions,
    limits: Limits,
    /// One permit per connection the pool may have open and lent at once.
    room: Arc<Semaphore>,
    /// Connections not lent, the most recently used last: taking the last keeps the busy few
    /// warm and lets the others reach their idle timeout.
    idle: Mutex<Vec<Idle>>,
    statements: Arc<StatementLog>,
}

struct Idle {
    conn: PgConnection,
    opened: Instant,
    since: Instant,
}

impl Shared {
    fn idle(&self) -> MutexGuard<'_, Vec<Idle>> {
        // A poisoned lock only means a panic elsewhere: the list holds whole connections.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn expired(&self, opened: Instant, since: Instant) -> bool {
        self.limits
            .max_lifetime
            .is_some_and(|most| opened.elapsed() >= most)
            || self
                .limits
                .idle_timeout
                .is_some_and(|most| since.elapsed() >= most)
    }

    /// Takes the idle connections past their idle timeout or lifetime out of the list.
    fn take_expired(&self) -> Vec<PgConnection> {
        let mut idle = self.idle();
        let (expired, kept): (Vec<Idle>, Vec<Idle>) = std::mem::take(&mut *idle)
            .into_iter()
            .partition(|conn| self.expired(conn.opened, conn.since));
        *idle = kept;
        expired.into_iter().map(|idle| idle.conn).collect()
    }
}

impl LeanPool {
    /// A pool of connections opened with `options`, within `limits`, its statements counted in
    /// `statements`. Inside a Tokio runtime, a task closes the connections that stay idle past
    /// the idle timeout; it ends with the pool.
    pub(crate) fn new(
        options: PgConnectOptions,
        limits: Limits,
        statements: Arc<StatementLog>,
    ) -> Self {
        let shared = Arc::new(Shared {
            options,
            limits,
            room: Arc::new(Semaphore::new(limits.connections.max(1) as usize)),
            idle: Mutex::new(Vec::new()),
            statements,
        });
        if let (Ok(runtime), Some(idle_timeout)) =
            (tokio::runtime::Handle::try_current(), limits.idle_timeout)
        {
            runtime.spawn(close_idle(Arc::downgrade(&shared), idle_timeout));
        }
        Self { shared }
    }

    /// How many connections the pool may have open.
    pub(crate) fn connections(&self) -> u32 {
        self.shared.limits.connections
    }

    /// A connection, lent until the value is dropped: an idle one (pinged if idle a while),
    /// or a new one. `PoolTimedOut` after the acquire timeout.
    pub(crate) async fn acquire(&self) -> Result<Lent, sqlx::Error> {
        tokio::time::timeout(self.shared.limits.acquire_timeout, self.acquire_now())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
    }

    async fn acquire_now(&self) -> Result<Lent, sqlx::Error> {
        let permit = Arc::clone(&self.shared.room)
            .acquire_owned()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        loop {
            let Some(Idle {
                mut conn,
                opened,
                since,
            }) = self.shared.idle().pop()
            else {
                break;
            };
            if self.shared.expired(opened, since) {
                continue;
            }
            if since.elapsed() >= PING_AFTER_IDLE && conn.ping().await.is_err() {
                continue;
            }
            return Ok(self.lend(conn, opened, permit));
        }
        let conn = PgConnection::connect_with(&self.shared.options).await?;
        Ok(self.lend(conn, Instant::now(), permit))
    }

    fn lend(&self, conn: PgConnection, opened: Instant, permit: OwnedSemaphorePermit) -> Lent {
        Lent {
            conn: Some(conn),
            opened,
            whole: true,
            pool: Arc::clone(&self.shared),
            _permit: permit,
        }
    }
}

/// Closes, every half idle timeout, the idle connections past it, until the pool is dropped.
async fn close_idle(pool: Weak<Shared>, idle_timeout: Duration) {
    let mut every = tokio::time::interval((idle_timeout / 2).max(Duration::from_secs(1)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        let expired = pool.take_expired();
        drop(pool);
        for conn in expired {
            // Closing says goodbye to the server; a failure leaves nothing to do.
            let _ = conn.close().await;
        }
    }
}

/// A connection lent by a [`LeanPool`]; it goes back when dropped if its last statement ran to
/// the end, and is closed otherwise.
pub(crate) struct Lent {
    conn: Option<PgConnection>,
    opened: Instant,
    /// False from a statement's start until it has ended on the server.
    whole: bool,
    pool: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
}

impl Lent {
    /// Runs `query` (its text `sql`, for the statement log) and reads all its rows.
    pub(crate) async fn fetch_all(
        &mut self,
        sql: &str,
        query: PgQuery<'_>,
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(sqlx::Error::PoolClosed);
        };
        self.whole = false;
        let started = Instant::now();
        let fetched = query.fetch_all(&mut *conn).await;
        self.pool
            .statements
            .record(sql, started.elapsed(), fetched.is_err());
        // An error the server sent leaves the connection ready for the next statement; one of
        // the socket or the protocol does not.
        self.whole = match &fetched {
            Ok(_) | Err(sqlx::Error::Database(_)) => true,
            Err(_) => false,
        };
        fetched
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.whole && !self.pool.expired(self.opened, Instant::now()) {
            self.pool.idle().push(Idle {
                conn,
                opened: self.opened,
                since: Instant::now(),
            });
        }
    }
}

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

/// The options a new connection opens with: read at each connect, so that options the
/// embedding program sets on its pool later (a rotated password) reach these pools too.
pub(crate) type Options = Box<dyn Fn() -> PgConnectOptions + Send + Sync>;

struct Shared {
    options: Options,
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
    /// the idle timeout or their lifetime; it ends with the pool.
    pub(crate) fn new(options: Options, limits: Limits, statements: Arc<StatementLog>) -> Self {
        let shared = Arc::new(Shared {
            options,
            limits,
            room: Arc::new(Semaphore::new(limits.connections.max(1) as usize)),
            idle: Mutex::new(Vec::new()),
            statements,
        });
        let soonest = match (limits.idle_timeout, limits.max_lifetime) {
            (Some(idle), Some(life)) => Some(idle.min(life)),
            (idle, life) => idle.or(life),
        };
        if let (Ok(runtime), Some(soonest)) = (tokio::runtime::Handle::try_current(), soonest) {
            runtime.spawn(close_expired(Arc::downgrade(&shared), soonest));
        }
        Self { shared }
    }

    /// Closes the pool: the idle connections now, each lent one when it comes back; what
    /// waits for a connection, or asks for one later, gets `PoolClosed`.
    pub(crate) async fn close(&self) {
        self.shared.room.close();
        let idle = std::mem::take(&mut *self.shared.idle());
        close_each(idle.into_iter().map(|idle| idle.conn)).await;
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
        let conn = PgConnection::connect_with(&(self.shared.options)()).await?;
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

/// Closes, every half of `soonest` (the idle timeout or the lifetime, whichever is shorter),
/// the idle connections past either, until the pool is dropped.
async fn close_expired(pool: Weak<Shared>, soonest: Duration) {
    let mut every = tokio::time::interval((soonest / 2).max(Duration::from_secs(1)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        let expired = pool.take_expired();
        drop(pool);
        close_each(expired).await;
    }
}

/// Closes `conns`, saying goodbye to the server; a failure leaves nothing to do.
async fn close_each(conns: impl IntoIterator<Item = PgConnection>) {
    for conn in conns {
        let _ = conn.close().await;
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
        if !self.whole {
            // Sent on a connection whose last statement broke it, it would fail or, after a
            // protocol error, read another statement's answer.
            return Err(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "the connection broke during an earlier statement",
            )));
        }
        self.whole = false;
        let started = Instant::now();
        let fetched = query.fetch_all(&mut *conn).await;
        self.pool
            .statements
            .record(sql, started.elapsed(), fetched.is_err());
        self.whole = match &fetched {
            Ok(_) => true,
            Err(err) => leaves_connection_whole(err),
        };
        fetched
    }
}

/// Whether the connection that returned `err` is ready for the next statement: after an error
/// the server sent for the statement (sqlx then waits for the server to be ready), or one
/// raised before anything was sent; not after an error of the socket or the protocol, nor
/// after the server ended the session (`FATAL`: class 08, or 57P — an administrator's
/// termination, a shutdown, the idle-session timeout).
fn leaves_connection_whole(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => !db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        sqlx::Error::Encode(_) => true,
        _ => false,
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if !self.whole || self.pool.expired(self.opened, Instant::now()) {
            return;
        }
        let mut idle = self.pool.idle();
        // Under the lock `close` empties the list with, so that none comes back after it.
        if !self.pool.room.is_closed() {
            idle.push(Idle {
                conn,
                opened: self.opened,
                since: Instant::now(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use sea_orm::sqlx::Row as _;

    use super::*;

    /// The server of `ORCHESTORE_TEST_PG_URL`; `None` (the test skipped) without it, unless
    /// under CI, which must run every PostgreSQL test.
    fn server() -> Option<PgConnectOptions> {
        let Ok(url) = std::env::var("ORCHESTORE_TEST_PG_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "ORCHESTORE_TEST_PG_URL is not set, and under CI the PostgreSQL tests must run"
            );
            return None;
        };
        Some(PgConnectOptions::from_str(&url).expect("ORCHESTORE_TEST_PG_URL"))
    }

    /// A pool of `connections` whose callers wait up to `acquire_timeout` (a connect to a busy
    /// server included).
    fn pool(options: PgConnectOptions, connections: u32, acquire_timeout: Duration) -> LeanPool {
        LeanPool::new(
            Box::new(move || options.clone()),
            Limits {
                connections,
                acquire_timeout,
                idle_timeout: Some(Duration::from_secs(60)),
                max_lifetime: None,
            },
            Arc::new(StatementLog::new()),
        )
    }

    /// The server process behind the connection `conn`.
    async fn backend(conn: &mut Lent) -> Result<i32, sqlx::Error> {
        const SQL: &str = "SELECT pg_backend_pid()";
        let rows = conn.fetch_all(SQL, sqlx::query(SQL)).await?;
        rows[0].try_get(0)
    }

    #[tokio::test]
    async fn a_statement_cut_short_closes_its_connection_and_the_next_is_new() {
        let Some(options) = server() else { return };
        let pool = pool(options, 1, Duration::from_secs(30));
        let mut conn = pool.acquire().await.expect("a connection");
        let first = backend(&mut conn).await.expect("its backend");
        drop(conn);
        let mut conn = pool.acquire().await.expect("the same connection");
        assert_eq!(backend(&mut conn).await.expect("its backend"), first);

        const SLEEP: &str = "SELECT pg_sleep(2)";
        let cut = tokio::time::timeout(
            Duration::from_millis(100),
            conn.fetch_all(SLEEP, sqlx::query(SLEEP)),
        )
        .await;
        assert!(cut.is_err(), "the sleep was cut short");
        drop(conn);
        assert!(
            pool.shared.idle().is_empty(),
            "the connection was not given back"
        );

        let mut conn = pool.acquire().await.expect("a new connection");
        assert_ne!(backend(&mut conn).await.expect("its backend"), first);
    }

    #[tokio::test]
    async fn an_error_the_server_sends_keeps_the_connection() {
        let Some(options) = server() else { return };
        let pool = pool(options, 1, Duration::from_secs(30));
        let mut conn = pool.acquire().await.expect("a connection");
        let first = backend(&mut conn).await.expect("its backend");
        const FAILS: &str = "SELECT 1 / 0";
        let failed = conn.fetch_all(FAILS, sqlx::query(FAILS)).await;
        assert!(
            matches!(failed, Err(sqlx::Error::Database(_))),
            "{failed:?}"
        );
        drop(conn);
        let mut conn = pool.acquire().await.expect("the same connection");
        assert_eq!(backend(&mut conn).await.expect("its backend"), first);
    }

    #[tokio::test]
    async fn a_session_the_server_ended_is_not_used_again_nor_kept() {
        let Some(options) = server() else { return };
        let pool = pool(options, 2, Duration::from_secs(30));
        let mut doomed = pool.acquire().await.expect("a connection");
        let pid = backend(&mut doomed).await.expect("its backend");
        let mut other = pool.acquire().await.expect("another");
        const TERMINATE: &str = "SELECT pg_terminate_backend($1)";
        other
            .fetch_all(TERMINATE, sqlx::query(TERMINATE).bind(pid))
            .await
            .expect("terminate the first");
        assert!(backend(&mut doomed).await.is_err(), "the session ended");
        let again = backend(&mut doomed).await;
        assert!(
            matches!(&again, Err(sqlx::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotConnected),
            "{again:?}"
        );
        drop(doomed);
        drop(other);
        assert_eq!(pool.shared.idle().len(), 1, "only the other was kept");
    }

    #[tokio::test]
    async fn a_pool_whose_connections_are_all_lent_times_out() {
        let Some(options) = server() else { return };
        let pool = pool(options, 1, Duration::from_secs(2));
        let held = pool.acquire().await.expect("the one connection");
        let waited = pool.acquire().await;
        assert!(
            matches!(waited, Err(sqlx::Error::PoolTimedOut)),
            "{:?}",
            waited.map(|_| ())
        );
        drop(held);
        pool.acquire().await.expect("the connection given back");
    }

    #[tokio::test]
    async fn a_closed_pool_lends_nothing_and_keeps_nothing() {
        let Some(options) = server() else { return };
        let pool = pool(options, 2, Duration::from_secs(30));
        let idle = pool.acquire().await.expect("a connection");
        let lent = pool.acquire().await.expect("another");
        drop(idle);
        pool.close().await;
        assert!(
            pool.shared.idle().is_empty(),
            "the idle connection was closed"
        );
        drop(lent);
        assert!(pool.shared.idle().is_empty(), "the lent one was not kept");
        let refused = pool.acquire().await;
        assert!(
            matches!(refused, Err(sqlx::Error::PoolClosed)),
            "{:?}",
            refused.map(|_| ())
        );
    }
}

//! What a store's calls run on: the pool, or one open transaction that its calls take in
//! turn.
//!
//! The calls of one transaction share one database connection, and their savepoints are
//! numbered by depth on it: two calls interleaving would release or roll back each other's
//! savepoint. So a transaction is behind a mutex that every call holds while it runs, and a
//! transaction begun inside another holds its parent's for as long as it is open.

use std::sync::{Arc, Mutex as StdMutex, PoisonError};

use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseExecutor, DatabaseTransaction,
    DbBackend, DbErr, ExecResult, IsolationLevel, QueryResult, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};
use sea_orm::{RuntimeErr, Values};
use sea_query_sqlx::SqlxValues;
use tokio::sync::{Mutex, MutexGuard, OwnedMutexGuard};

use crate::error::{sqlx_acquire_err, sqlx_query_err};
use crate::lean_pool::LeanPool;
use crate::mutation::{AfterCommit, Aftermath};

/// The pool, or a transaction.
#[derive(Clone, Debug)]
pub(crate) enum Conn {
    Pool(DatabaseConnection),
    /// Shared only between the store value and the calls borrowing it; the one
    /// `Box<dyn StoreTransaction>` that owns the store commits or rolls back.
    Transaction(Arc<OpenTransaction>),
}

/// A transaction of a store, and the parent's turn it holds when begun inside another.
#[derive(Debug)]
pub(crate) struct OpenTransaction {
    // Declared first so that it ends (rolls back on drop) before the parent's turn is given
    // back.
    txn: Arc<Mutex<DatabaseTransaction>>,
    parent: Option<OwnedMutexGuard<DatabaseTransaction>>,
    /// What its writes set off once it commits, kept until then.
    aftermath: Arc<StdMutex<Aftermath>>,
    /// The parent's, which this one's joins when it commits (a savepoint released).
    parent_aftermath: Option<Arc<StdMutex<Aftermath>>>,
}

impl OpenTransaction {
    /// Keeps what a write of this transaction sets off for its commit.
    pub(crate) fn defer(&self, aftermath: Aftermath) {
        locked(&self.aftermath).absorb(aftermath);
    }
}

fn locked(aftermath: &StdMutex<Aftermath>) -> std::sync::MutexGuard<'_, Aftermath> {
    aftermath.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A connection held for one call: the pool (and on PostgreSQL the store's own connections
/// for single reads, see `lean_pool`), or the transaction's turn.
pub(crate) enum Held<'a> {
    Pool(&'a DatabaseConnection, Option<&'a LeanPool>),
    Transaction(MutexGuard<'a, DatabaseTransaction>),
}

/// Begin options for every write: on SQLite, take the write lock at once (`BEGIN IMMEDIATE`),
/// so that a read-then-write transaction cannot deadlock on the lock upgrade. Inside a
/// transaction they begin a savepoint.
fn write_options() -> TransactionOptions {
    TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    }
}

/// Begin options for a read that must see one moment of the database across its statements:
/// on PostgreSQL a read-only repeatable-read transaction; on SQLite a deferred one, whose first
/// read fixes its snapshot.
pub(crate) fn snapshot_options(backend: DbBackend) -> TransactionOptions {
    match backend {
        DbBackend::Postgres => TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..TransactionOptions::default()
        },
        _ => TransactionOptions::default(),
    }
}

impl Conn {
    /// Holds the connection for one call; on the pool, its single reads go to `single`.
    pub(crate) async fn hold<'a>(&'a self, single: Option<&'a LeanPool>) -> Held<'a> {
        match self {
            Self::Pool(pool) => Held::Pool(pool, single),
            Self::Transaction(open) => Held::Transaction(open.txn.lock().await),
        }
    }

    /// A new transaction: on the pool, or a savepoint of this transaction that keeps its turn
    /// until it ends.
    pub(crate) async fn begin(&self) -> Result<Conn, DbErr> {
        let (txn, parent, parent_aftermath) = match self {
            Self::Pool(pool) => (Held::Pool(pool, None).begin_write().await?, None, None),
            Self::Transaction(open) => {
                let parent = Arc::clone(&open.txn).lock_owned().await;
                (
                    parent.begin_with_options(write_options()).await?,
                    Some(parent),
                    Some(Arc::clone(&open.aftermath)),
                )
            }
        };
        Ok(Self::Transaction(Arc::new(OpenTransaction {
            txn: Arc::new(Mutex::new(txn)),
            parent,
            aftermath: Arc::default(),
            parent_aftermath,
        })))
    }

    /// This transaction, with what its writes set off, ready to end; `None` when this is the
    /// pool or a call still borrows the transaction.
    pub(crate) fn into_transaction(self) -> Option<Ending> {
        let Self::Transaction(open) = self else {
            return None;
        };
        let OpenTransaction {
            txn,
            parent,
            aftermath,
            parent_aftermath,
        } = Arc::try_unwrap(open).ok()?;
        let txn = Arc::try_unwrap(txn).ok()?.into_inner();
        let aftermath = std::mem::take(&mut *locked(&aftermath));
        Some(Ending {
            txn,
            parent,
            aftermath,
            parent_aftermath,
        })
    }
}

/// A transaction about to end, and its parent's turn, given back once it has; what its writes
/// set off, and the parent's, which that joins when this one is a savepoint.
pub(crate) struct Ending {
    txn: DatabaseTransaction,
    parent: Option<OwnedMutexGuard<DatabaseTransaction>>,
    aftermath: Aftermath,
    parent_aftermath: Option<Arc<StdMutex<Aftermath>>>,
}

impl Ending {
    /// Commits. A savepoint's aftermath joins its parent's as it is released; the outermost
    /// transaction's is announced in it and set off by `after` once the commit has ended.
    pub(crate) async fn commit(self, after: AfterCommit) -> Result<(), DbErr> {
        let Self {
            txn,
            parent,
            aftermath,
            parent_aftermath,
        } = self;
        let committed = match parent_aftermath {
            // Handed on before the release, whose failure leaves the outcome to the parent.
            Some(parent_aftermath) => {
                locked(&parent_aftermath).absorb(aftermath);
                txn.commit().await
            }
            None => {
                let mut after = after.guarding(aftermath);
                match after.notify_in(&txn).await {
                    Ok(()) => txn.commit().await,
                    Err(err) => {
                        // Rolled back now rather than on drop, which only queues the rollback.
                        if let Err(rollback) = txn.rollback().await {
                            tracing::warn!(error = %rollback, "rolling back a transaction whose NOTIFY failed");
                        }
                        Err(err)
                    }
                }
            }
        };
        drop(parent);
        committed
    }

    /// Rolls back; what its writes would have set off goes with them.
    pub(crate) async fn rollback(self) -> Result<(), DbErr> {
        let rolled_back = self.txn.rollback().await;
        drop(self.parent);
        rolled_back
    }
}

/// `$attempt` (an expression yielding a `Result<_, DbErr>`), made again while it fails for a
/// lost connection, `$tries` times at most (see [`tries_on`]).
macro_rules! retried {
    ($tries:expr, $attempt:expr) => {{
        let mut tries: u32 = $tries;
        loop {
            match $attempt {
                Err(err) if tries > 1 && connection_lost(&err) => tries -= 1,
                outcome => break outcome,
            }
        }
    }};
}

impl Held<'_> {
    fn executor(&self) -> DatabaseExecutor<'_> {
        match self {
            Self::Pool(pool, _) => DatabaseExecutor::Connection(pool),
            Self::Transaction(txn) => DatabaseExecutor::Transaction(txn),
        }
    }

    /// A write transaction (or savepoint) for one mutation, while this call holds the turn.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        let tries = match self {
            Self::Pool(pool, _) => tries_on(pool),
            Self::Transaction(_) => 1,
        };
        retried!(
            tries,
            self.executor().begin_with_options(write_options()).await
        )
    }

    /// A transaction whose statements all read one snapshot (see [`snapshot_options`]); inside
    /// a store transaction, a savepoint of it, which reads what the transaction reads.
    pub(crate) async fn begin_snapshot(&self) -> Result<DatabaseTransaction, DbErr> {
        match self {
            Self::Pool(pool, _) => {
                let options = snapshot_options(pool.get_database_backend());
                retried!(tries_on(pool), pool.begin_with_options(options).await)
            }
            Self::Transaction(txn) => txn.begin().await,
        }
    }

    /// How many connections `stmt` may be tried on: see [`tries_on`].
    fn tries_for(&self, stmt: &Statement) -> u32 {
        match self {
            Self::Pool(pool, _) if only_reads(stmt) => tries_on(pool),
            _ => 1,
        }
    }

    /// Where `stmt` runs past SeaORM: a read on the pool, on PostgreSQL.
    fn single_read(&self, stmt: &Statement) -> Option<&LeanPool> {
        match self {
            Self::Pool(_, Some(single)) if only_reads(stmt) => Some(single),
            _ => None,
        }
    }
}

/// Runs the read `stmt` on a connection of `pool`, at most once per connection the pool may
/// hold and one more while it fails for a lost connection (see [`tries_on`]).
async fn read_single(pool: &LeanPool, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
    retried!(pool.connections() + 1, read_once(pool, stmt).await)
}

async fn read_once(pool: &LeanPool, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
    use sea_orm::sqlx::{IntoArguments, Postgres};
    let mut conn = pool.acquire().await.map_err(sqlx_acquire_err)?;
    let values = stmt.values.clone().unwrap_or(Values(Vec::new()));
    let query = sea_orm::sqlx::query_with(
        sea_orm::sqlx::AssertSqlSafe(stmt.sql.as_str()),
        <SqlxValues as IntoArguments<Postgres>>::into_arguments(SqlxValues(values)),
    );
    let rows = conn
        .fetch_all(&stmt.sql, query)
        .await
        .map_err(sqlx_query_err)?;
    Ok(rows.into_iter().map(QueryResult::from).collect())
}

/// Pooled connections are pinged before use only after a second idle (see `pool.rs`), so one
/// that died in the last second (a restart, a failover) may be handed out. What cannot have
/// taken effect on the server — beginning a transaction, a statement that only reads — is then
/// run again on the next connection, at most once per connection the pool holds (each dead one
/// is closed by its failure); a statement that writes is not, as it may have committed before
/// the connection broke. SQLite's connections do not die that way: one try.
fn tries_on(pool: &DatabaseConnection) -> u32 {
    match pool.get_database_backend() {
        DbBackend::Postgres => pool.get_postgres_connection_pool().size() + 1,
        _ => 1,
    }
}

/// Whether `stmt` only reads (a plain `SELECT`).
fn only_reads(stmt: &Statement) -> bool {
    stmt.sql
        .trim_start()
        .get(..6)
        .is_some_and(|head| head.eq_ignore_ascii_case("select"))
}

/// Whether `err` says the connection itself was gone: the socket closed, or the server ended
/// the session (`admin_shutdown`, `crash_shutdown`, `cannot_connect_now`).
fn connection_lost(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error;
    let (DbErr::Conn(RuntimeErr::SqlxError(sqlx))
    | DbErr::Exec(RuntimeErr::SqlxError(sqlx))
    | DbErr::Query(RuntimeErr::SqlxError(sqlx))) = err
    else {
        return false;
    };
    match sqlx.as_ref() {
        Error::Io(_) | Error::Protocol(_) | Error::WorkerCrashed => true,
        Error::Database(db) => matches!(db.code().as_deref(), Some("57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Held<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.executor().get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        retried!(
            self.tries_for(&stmt),
            self.executor().execute_raw(stmt.clone()).await
        )
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.executor().execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        if let Some(single) = self.single_read(&stmt) {
            return Ok(read_single(single, &stmt).await?.into_iter().next());
        }
        retried!(
            self.tries_for(&stmt),
            self.executor().query_one_raw(stmt.clone()).await
        )
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        if let Some(single) = self.single_read(&stmt) {
            return read_single(single, &stmt).await;
        }
        retried!(
            self.tries_for(&stmt),
            self.executor().query_all_raw(stmt.clone()).await
        )
    }

    fn support_returning(&self) -> bool {
        self.executor().support_returning()
    }
}

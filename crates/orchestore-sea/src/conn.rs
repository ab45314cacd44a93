//! What a store's calls run on: the pool, or one open transaction that its calls take in
//! turn.
//!
//! The calls of one transaction share one database connection, and their savepoints are
//! numbered by depth on it: two calls interleaving would release or roll back each other's
//! savepoint. So a transaction is behind a mutex that every call holds while it runs, and a
//! transaction begun inside another holds its parent's for as long as it is open.

use std::sync::Arc;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseExecutor, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, QueryResult, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{Mutex, MutexGuard, OwnedMutexGuard};

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
}

/// A connection held for one call: the pool, or the transaction's turn.
pub(crate) enum Held<'a> {
    Pool(&'a DatabaseConnection),
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

impl Conn {
    /// Holds the connection for one call.
    pub(crate) async fn hold(&self) -> Held<'_> {
        match self {
            Self::Pool(pool) => Held::Pool(pool),
            Self::Transaction(open) => Held::Transaction(open.txn.lock().await),
        }
    }

    /// A new transaction: on the pool, or a savepoint of this transaction that keeps its turn
    /// until it ends.
    pub(crate) async fn begin(&self) -> Result<Conn, DbErr> {
        let (txn, parent) = match self {
            Self::Pool(pool) => (pool.begin_with_options(write_options()).await?, None),
            Self::Transaction(open) => {
                let parent = Arc::clone(&open.txn).lock_owned().await;
                (
                    parent.begin_with_options(write_options()).await?,
                    Some(parent),
                )
            }
        };
        Ok(Self::Transaction(Arc::new(OpenTransaction {
            txn: Arc::new(Mutex::new(txn)),
            parent,
        })))
    }

    /// Ends this transaction with `end` (commit or rollback); `None` when this is the pool or
    /// a call still borrows the transaction.
    pub(crate) fn into_transaction(self) -> Option<Ending> {
        let Self::Transaction(open) = self else {
            return None;
        };
        let OpenTransaction { txn, parent } = Arc::try_unwrap(open).ok()?;
        let txn = Arc::try_unwrap(txn).ok()?.into_inner();
        Some(Ending { txn, parent })
    }
}

/// A transaction about to end, and its parent's turn, given back once it has.
pub(crate) struct Ending {
    pub(crate) txn: DatabaseTransaction,
    pub(crate) parent: Option<OwnedMutexGuard<DatabaseTransaction>>,
}

impl Held<'_> {
    fn executor(&self) -> DatabaseExecutor<'_> {
        match self {
            Self::Pool(pool) => DatabaseExecutor::Connection(pool),
            Self::Transaction(txn) => DatabaseExecutor::Transaction(txn),
        }
    }

    /// A write transaction (or savepoint) for one mutation, while this call holds the turn.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        self.executor().begin_with_options(write_options()).await
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Held<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.executor().get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.executor().execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.executor().execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.executor().query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.executor().query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.executor().support_returning()
    }
}

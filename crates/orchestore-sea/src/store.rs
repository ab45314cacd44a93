use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use chrono::{DateTime, SubsecRound, Utc};
use orchestore_domain::PasswordHash;
use orchestore_repo::{
    Backend, DatabaseStatus, PoolStatus, RepoError, RepoResult, Store, StoreHealth,
    StoreTransaction,
};
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::OnceCell;

use crate::DbConfig;
use crate::conn::{Conn, Ending, Held};
use crate::error::db_err;
use crate::mutation::AfterCommit;
use crate::pool::OwnConnections;
use crate::statements::StatementLog;
use crate::work::together::Joins;
use crate::work::wakeups::Wakeups;

/// The SeaORM store: every repository trait over one connection pool, or inside one
/// transaction (see [`Store::begin`]). Cheap to clone.
#[derive(Clone, Debug)]
pub struct SeaStore {
    pub(crate) conn: Conn,
    /// The pool, also inside a transaction: health reads it.
    pub(crate) pool: DatabaseConnection,
    backend: Backend,
    /// The bcrypt cost of the decoy hash that unknown emails are checked against at login.
    password_cost: u32,
    decoy: Arc<OnceCell<PasswordHash>>,
    /// Wakes claims waiting for work; shared by the store and its transactions.
    pub(crate) wakeups: Arc<Wakeups>,
    /// The calls waiting to be served together: plain creates, claims, completions (see
    /// `work::together`).
    pub(crate) joins: Arc<Joins>,
    /// Raised after each change that can make a session's standing fall
    /// ([`orchestore_repo::AuthRepo::standing_epoch`]); shared by the store and its
    /// transactions.
    pub(crate) standing_epoch: Arc<AtomicU64>,
    /// The statements run through the pool and how long they took (see `statements.rs`).
    pub(crate) statements: Arc<StatementLog>,
    /// The largest payload or result, in bytes of JSON, kept in its task's row; a larger one
    /// is stored apart (see `work::bodies`).
    pub(crate) inline_payload_limit: usize,
    /// Where writes and claims read the time (see [`SeaStore::with_clock`]).
    clock: Clock,
}

/// The time source of a store: the system clock unless the embedding program gives another.
#[derive(Clone)]
struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

impl SeaStore {
    /// Opens a pool for `config.url` (`sqlite:…`, `postgres://…` or a PostgreSQL key=value
    /// string; see [`open_pool`](crate::open_pool)). It does not migrate: call
    /// [`SeaStore::migrate`].
    pub async fn connect(config: &DbConfig) -> RepoResult<Self> {
        Self::from_connection(crate::open_pool(config).await?)
    }

    /// Wraps a connection the caller opened and configured: its pool settings are the
    /// caller's. On PostgreSQL the store also opens, when first needed, connections of its own
    /// with the same options and limits: up to 8 for the statements that serve many calls at
    /// once (see `work::together`), and up to the pool's maximum for reads and statements run
    /// alone outside a transaction, which sqlx's pool would ping after each use. Those open
    /// with the pool's connect options, not with `after_connect` hooks (sqlx keeps them
    /// private): put the session settings they need in the options (`options`). It does not
    /// migrate: call [`SeaStore::migrate`]. SQLite connections should enable foreign keys
    /// (`PRAGMA foreign_keys = ON`, sqlx's default). The connection's metric callback is set to
    /// record statement timings for [`Store::database_status`] (replacing one the caller set).
    pub fn from_connection(mut db: DatabaseConnection) -> RepoResult<Self> {
        let backend = match db.get_database_backend() {
            DbBackend::Sqlite => Backend::Sqlite,
            DbBackend::Postgres => Backend::Postgres,
            other => {
                return Err(RepoError::Invalid(orchestore_domain::DomainError::invalid(
                    "database.url",
                    format!("{other:?} is not supported: use sqlite:// or postgres://"),
                )));
            }
        };
        let statements = Arc::new(StatementLog::new());
        let log = Arc::clone(&statements);
        db.set_metric_callback(move |info| {
            log.record(&info.statement.sql, info.elapsed, info.failed);
        });
        let joins = Joins::new(
            (backend == Backend::Postgres)
                .then(|| OwnConnections::beside(db.get_postgres_connection_pool(), &statements)),
        );
        Ok(Self {
            conn: Conn::Pool(db.clone()),
            pool: db,
            backend,
            password_cost: PasswordHash::DEFAULT_COST,
            decoy: Arc::new(OnceCell::new()),
            wakeups: Arc::new(Wakeups::default()),
            joins: Arc::new(joins),
            standing_epoch: Arc::new(AtomicU64::new(0)),
            statements,
            inline_payload_limit: crate::work::DEFAULT_INLINE_PAYLOAD_LIMIT,
            clock: Clock(Arc::new(Utc::now)),
        })
    }

    /// Reads the time from `clock` instead of the system clock: the time every write records
    /// (`created_at`, the audit rows), a claim's start and lease, and the refill of rate limits.
    /// For tests that move time by hand (a rate limit's refill, say); the database's own clock
    /// (a column default) is not affected.
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Clock(Arc::new(clock));
        // Work done together reads the clock of the store whose writer runs it.
        self.joins = Arc::new(self.joins.apart());
        self
    }

    /// The store's clock now, at the precision both backends store (see [`now`]).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.clock.0)().trunc_subsecs(6)
    }

    /// Sets the largest payload or result, in bytes of JSON, kept in its task's row (the
    /// default is [`DEFAULT_INLINE_PAYLOAD_LIMIT`](crate::DEFAULT_INLINE_PAYLOAD_LIMIT)). A
    /// larger one is stored in its own table and read only when the task is: claims and lists
    /// then read narrow rows whatever the payloads weigh. Changing it moves no stored body.
    pub fn with_inline_payload_limit(mut self, bytes: usize) -> Self {
        self.inline_payload_limit = bytes;
        self
    }

    /// Sets the bcrypt cost the passwords of this store are hashed with (the default is
    /// [`PasswordHash::DEFAULT_COST`]), so that a login with an unknown email costs as much as
    /// one with a known email.
    pub fn with_password_cost(mut self, cost: u32) -> Self {
        self.password_cost = cost;
        self.decoy = Arc::new(OnceCell::new());
        self
    }

    /// The decoy hash, computed once on a blocking thread.
    pub(crate) async fn decoy(&self) -> RepoResult<PasswordHash> {
        let cost = self.password_cost;
        self.decoy
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || PasswordHash::decoy(cost))
                    .await
                    .map_err(|e| RepoError::internal(format!("hashing the decoy: {e}")))?
                    .map_err(RepoError::Invalid)
            })
            .await
            .cloned()
    }

    /// Closes the store's connections: its pool and, on PostgreSQL, those it pools itself.
    /// Calls made afterwards, by this store or its clones, fail as
    /// [`RepoError::Unavailable`]. For a program that drops a store before it exits (a test, a
    /// tenant moved to another database); the process's exit closes them too.
    pub async fn close(&self) -> RepoResult<()> {
        self.wakeups.stop_listening();
        if let Some(own) = &self.joins.own {
            own.together.close().await;
            own.single.close().await;
        }
        self.pool.close_by_ref().await.map_err(db_err)
    }

    /// The connection pool, for statements of the embedding program's own (diagnostics,
    /// tests). What is written through it bypasses the repositories: no check, no audit row.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// Whether the database has a table of this name (for migration tests and diagnostics).
    pub async fn has_table(&self, name: &str) -> RepoResult<bool> {
        sea_orm_migration::SchemaManager::new(&self.pool)
            .has_table(name)
            .await
            .map_err(db_err)
    }

    /// What a call runs on, held for it: the pool, or the open transaction's turn. Inside
    /// [`SeaStore::mutate`], use the mutation's transaction instead: the turn is taken.
    pub(crate) async fn db(&self) -> Held<'_> {
        let single = self.joins.own.as_ref().map(|own| &own.single);
        self.conn.hold(single).await
    }

    pub(crate) fn is_postgres(&self) -> bool {
        self.backend == Backend::Postgres
    }

    fn pool_state(&self) -> (u32, u32) {
        match self.backend {
            Backend::Sqlite => {
                let pool = self.pool.get_sqlite_connection_pool();
                (
                    pool.size(),
                    u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                )
            }
            Backend::Postgres => {
                let pool = self.pool.get_postgres_connection_pool();
                (
                    pool.size(),
                    u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
                )
            }
        }
    }
}

/// The current time at the precision both backends store (microseconds), so that a value
/// written and read back compares equal.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

#[async_trait::async_trait]
impl Store for SeaStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn health(&self) -> RepoResult<StoreHealth> {
        self.pool.ping().await.map_err(db_err)?;
        let pending_migrations = self
            .migration_status()
            .await?
            .into_iter()
            .filter(|m| !m.applied)
            .map(|m| m.name)
            .collect();
        let (pool_connections, pool_idle) = self.pool_state();
        Ok(StoreHealth {
            backend: self.backend,
            pending_migrations,
            pool_connections,
            pool_idle,
        })
    }

    async fn database_status(&self) -> RepoResult<DatabaseStatus> {
        self.read_database_status().await
    }

    fn pool_status(&self) -> PoolStatus {
        self.read_pool_status()
    }

    async fn begin(&self) -> RepoResult<Box<dyn StoreTransaction>> {
        Ok(Box::new(self.begin_store().await?))
    }
}

#[async_trait::async_trait]
impl StoreTransaction for SeaStore {
    async fn commit(self: Box<Self>) -> RepoResult<()> {
        // The tasks queued by the transaction's writes are announced by its commit, one
        // `NOTIFY` per organization: PostgreSQL delivers identical payloads of one transaction
        // once, so a `NOTIFY` per write announced one task for many.
        let after = AfterCommit::new(&self);
        self.ending()?.commit(after).await.map_err(db_err)
    }

    async fn rollback(self: Box<Self>) -> RepoResult<()> {
        self.ending()?.rollback().await.map_err(db_err)
    }
}

impl SeaStore {
    /// This store inside a new transaction (a savepoint when it already is in one): what
    /// [`Store::begin`] boxes, for the calls of this crate that span several repositories.
    pub(crate) async fn begin_store(&self) -> RepoResult<Self> {
        let conn = self.conn.begin().await.map_err(db_err)?;
        Ok(Self {
            conn,
            ..self.clone()
        })
    }

    /// Runs `work` on this store inside a new transaction ([`SeaStore::begin_store`]):
    /// committed when it returns `Ok`, rolled back when it returns `Err`. For the calls of this
    /// crate that span several repositories and also use this crate's own helpers, which
    /// [`orchestore_repo::transaction`]'s `dyn StoreTransaction` does not reach.
    pub(crate) async fn in_transaction<T>(
        &self,
        work: impl for<'t> AsyncFnOnce(&'t SeaStore) -> RepoResult<T>,
    ) -> RepoResult<T> {
        let tx = self.begin_store().await?;
        let outcome = work(&tx).await;
        let tx: Box<dyn StoreTransaction> = Box::new(tx);
        match outcome {
            Ok(value) => {
                tx.commit().await?;
                Ok(value)
            }
            Err(err) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "rolling back a refused transaction");
                }
                Err(err)
            }
        }
    }

    /// The transaction this store runs in; only [`Store::begin`] makes such a store, and the
    /// box that owns it is its only holder once its calls have returned.
    fn ending(self) -> RepoResult<Ending> {
        self.conn.into_transaction().ok_or_else(|| {
            RepoError::internal("commit or rollback on a store that is not an open transaction")
        })
    }
}

//! The lock that lets one process at a time change the schema of a database.
//!
//! PostgreSQL: a session advisory lock, held by the one connection that then runs the
//! migrations (a pool of one, opened for the purpose: a pooled connection could be handed
//! back between statements and the lock held by a connection that runs nothing). A process
//! that dies releases it with its session.
//!
//! SQLite: an exclusive `flock` on the file `<database>-migrate-lock` beside the database
//! file, which the operating system releases when the process ends. An in-memory database
//! belongs to one process and needs none.

use std::fs::{File, OpenOptions, TryLockError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use orchestore_repo::{RepoError, RepoResult};
use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::error::db_err;

/// The key of the advisory lock: "orchmigr" in ASCII, so that it is recognisable in
/// `pg_locks` and unlikely to collide with another program's key.
pub const MIGRATION_LOCK_KEY: i64 = 0x6f72_6368_6d69_6772;

/// How often a waiting PostgreSQL process asks for the lock again. Polling with
/// `pg_try_advisory_lock` rather than blocking in `pg_advisory_lock` keeps the wait clear of
/// `statement_timeout`, however long the other process's migrations take.
const RETRY_EVERY: Duration = Duration::from_millis(200);

/// A held migration lock and the connection the migrations are to run on.
pub(super) enum MigrationLock {
    Postgres {
        conn: DatabaseConnection,
    },
    SqliteFile {
        conn: DatabaseConnection,
        _file: File,
    },
    SqliteMemory {
        conn: DatabaseConnection,
    },
}

impl MigrationLock {
    /// Waits for the lock of `pool`'s database.
    pub(super) async fn acquire(pool: &DatabaseConnection) -> RepoResult<Self> {
        match pool.get_database_backend() {
            DbBackend::Postgres => Self::postgres(pool).await,
            _ => Self::sqlite(pool).await,
        }
    }

    /// What the migrations run on while the lock is held.
    pub(super) fn conn(&self) -> &DatabaseConnection {
        match self {
            Self::Postgres { conn }
            | Self::SqliteFile { conn, .. }
            | Self::SqliteMemory { conn } => conn,
        }
    }

    /// Gives the lock back. Dropping it does too (the session or the file closes); this
    /// also waits for that and reports a failure.
    pub(super) async fn release(self) {
        if let Self::Postgres { conn } = self {
            let unlock = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_unlock($1)",
                [MIGRATION_LOCK_KEY.into()],
            );
            if let Err(error) = conn.query_one_raw(unlock).await {
                tracing::warn!(%error, "releasing the migration lock (closing its session)");
            }
            if let Err(error) = conn.close().await {
                tracing::warn!(%error, "closing the migration lock's connection");
            }
        }
    }

    async fn postgres(pool: &DatabaseConnection) -> RepoResult<Self> {
        let options = pool.get_postgres_connection_pool().connect_options();
        // The lock belongs to this one session: should it drop, the pool must not quietly open
        // another (which would run the remaining migrations without the lock), so every
        // connection after the first is refused and the migration fails instead.
        let opened = Arc::new(AtomicBool::new(false));
        let single = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .after_connect(move |_, _| {
                let reopened = opened.swap(true, Ordering::SeqCst);
                Box::pin(async move {
                    if reopened {
                        Err(sea_orm::sqlx::Error::Protocol(
                            "the migration lock's session was lost".to_owned(),
                        ))
                    } else {
                        Ok(())
                    }
                })
            })
            // The session holds the lock: it must outlive any migration.
            .idle_timeout(None::<Duration>)
            .max_lifetime(None::<Duration>)
            .connect_with((*options).clone())
            .await
            .map_err(|e| {
                RepoError::unavailable(format!("opening the migration connection: {e}"))
            })?;
        let conn = DatabaseConnection::from(single);
        let try_lock = || {
            Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_try_advisory_lock($1)",
                [MIGRATION_LOCK_KEY.into()],
            )
        };
        let mut announced = false;
        loop {
            let row = conn
                .query_one_raw(try_lock())
                .await
                .map_err(db_err)?
                .ok_or_else(|| RepoError::internal("pg_try_advisory_lock returned no row"))?;
            if row.try_get_by_index::<bool>(0).map_err(db_err)? {
                // A migration may rewrite a large table or wait for serving replicas' locks:
                // the pool's `statement_timeout` would cut it short and stop the start-up.
                let untimed =
                    Statement::from_string(DbBackend::Postgres, "SET statement_timeout = 0");
                conn.execute_raw(untimed).await.map_err(db_err)?;
                return Ok(Self::Postgres { conn });
            }
            if !announced {
                tracing::info!("another process is migrating this database; waiting for it");
                announced = true;
            }
            tokio::time::sleep(RETRY_EVERY).await;
        }
    }

    async fn sqlite(pool: &DatabaseConnection) -> RepoResult<Self> {
        let main = Statement::from_string(
            DbBackend::Sqlite,
            "SELECT file FROM pragma_database_list WHERE name = 'main'",
        );
        let file: String = pool
            .query_one_raw(main)
            .await
            .map_err(db_err)?
            .map(|row| row.try_get_by_index(0))
            .transpose()
            .map_err(db_err)?
            .unwrap_or_default();
        // SQLite names no file for an in-memory (or temporary) database.
        if file.is_empty() {
            return Ok(Self::SqliteMemory { conn: pool.clone() });
        }
        let path = format!("{file}-migrate-lock");
        let locked = tokio::task::spawn_blocking(move || lock_file(&path))
            .await
            .map_err(|e| RepoError::internal(format!("waiting for the migration lock: {e}")))??;
        Ok(Self::SqliteFile {
            conn: pool.clone(),
            _file: locked,
        })
    }
}

/// Opens (creating it if need be) and exclusively locks `path`, waiting for another holder.
fn lock_file(path: &str) -> RepoResult<File> {
    let failed = |e: std::io::Error| {
        RepoError::unavailable(format!("locking the migration lock file {path}: {e}"))
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(failed)?;
    match file.try_lock() {
        Ok(()) => return Ok(file),
        Err(TryLockError::WouldBlock) => {
            tracing::info!("another process is migrating this database; waiting for it");
        }
        Err(TryLockError::Error(e)) => return Err(failed(e)),
    }
    file.lock().map_err(failed)?;
    Ok(file)
}

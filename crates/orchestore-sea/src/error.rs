//! The one place where database errors become [`RepoError`]s.

use orchestore_repo::RepoError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Classifies a database error portably (`sql_err()`, never the message text).
pub(crate) fn db_err(err: DbErr) -> RepoError {
    if let Some(sql) = err.sql_err() {
        return match sql {
            // The callers that can name the value or the row map these themselves; these
            // are the fallbacks.
            SqlErr::UniqueConstraintViolation(_) => RepoError::conflict(
                "record",
                "a record with the same unique value already exists",
            ),
            SqlErr::ForeignKeyConstraintViolation(_) => RepoError::conflict(
                "record",
                "the record refers to, or is referred to by, another",
            ),
            _ => RepoError::internal(err),
        };
    }
    match &err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => RepoError::unavailable(err),
        DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx))
            if is_unavailable(sqlx) =>
        {
            RepoError::unavailable(err)
        }
        _ => RepoError::internal(err),
    }
}

fn is_unavailable(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match err {
        Error::Io(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed => true,
        // PostgreSQL: query_canceled (statement timeout), admin_shutdown, cannot_connect_now;
        // SQLite: SQLITE_BUSY after the busy timeout.
        Error::Database(db) => matches!(
            db.code().as_deref(),
            Some("57014" | "57P01" | "57P03" | "5" | "517")
        ),
        _ => false,
    }
}

/// A statement's failure, as SeaORM reports it.
pub(crate) fn sqlx_query_err(err: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(err)))
}

/// A failure to take a connection from the pool, as SeaORM reports it.
pub(crate) fn sqlx_acquire_err(err: sea_orm::sqlx::Error) -> DbErr {
    use sea_orm::ConnAcquireErr;
    match err {
        sea_orm::sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        sea_orm::sqlx::Error::PoolClosed => {
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)
        }
        other => DbErr::Conn(RuntimeErr::SqlxError(std::sync::Arc::new(other))),
    }
}

/// A stored row that does not decode into its domain type: a bug or a corrupted database.
pub(crate) fn corrupt(entity: &'static str, err: impl std::fmt::Display) -> RepoError {
    RepoError::internal(format!("stored {entity} does not decode: {err}"))
}

/// Whether the statement broke a unique constraint, so the caller can say which value is taken.
pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether the statement broke a foreign key: a row it refers to does not exist.
pub(crate) fn is_foreign_key_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    )
}

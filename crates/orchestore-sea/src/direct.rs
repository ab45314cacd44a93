//! Statements run by sqlx on a pooled PostgreSQL connection, past SeaORM.
//!
//! SeaORM prepares every statement under a name its connection caches. PostgreSQL plans a
//! cached statement once for all values (a generic plan) after five runs whenever that plan
//! looks no dearer than the ones made for each run's values, and a generic plan cannot see the
//! values: for a full-text query it guesses that 500 of 100,000 entries match a word that is in
//! all of them, and reads every match through the index one heap page at a time (469 ms where
//! the plan made for the word takes 155 ms, BENCHMARKS.md). A statement run [`Planned::EachRun`]
//! is sent unnamed, so it is planned with its values every time.

use orchestore_repo::{RepoError, RepoResult};
use sea_orm::sqlx;
use sea_orm::{DbErr, QueryResult, Value};

use crate::SeaStore;
use crate::error::{db_err, sqlx_acquire_err, sqlx_query_err};
use crate::lean_pool::{Lent, PgQuery};

/// How PostgreSQL plans a statement run directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Planned {
    /// Prepared once per connection and cached, as SeaORM runs statements: for statements
    /// whose best plan does not depend on their values.
    Cached,
    /// Sent unnamed and planned with its values on every run.
    EachRun,
}

/// Binds `value` to `query`: the kinds of value the store's direct statements use.
fn bind(query: PgQuery<'_>, value: Value) -> RepoResult<PgQuery<'_>> {
    Ok(match value {
        Value::Uuid(v) => query.bind(v),
        Value::ChronoDateTimeUtc(v) => query.bind(v),
        Value::BigInt(v) => query.bind(v),
        Value::Double(v) => query.bind(v),
        Value::String(v) => query.bind(v),
        Value::Json(v) => query.bind(v.map(|json| *json)),
        other => {
            return Err(RepoError::internal(format!(
                "a direct statement binds no value of this kind: {other:?}"
            )));
        }
    })
}

impl SeaStore {
    /// A connection for statements run alone (see `lean_pool`), held until it is dropped.
    pub(crate) async fn postgres_connection(&self) -> RepoResult<Lent> {
        let own = self
            .joins
            .own
            .as_ref()
            .ok_or_else(|| RepoError::internal("a direct statement runs on PostgreSQL only"))?;
        own.single
            .acquire()
            .await
            .map_err(|e| db_err(sqlx_acquire_err(e)))
    }

    /// Runs `sql` with `values` on `conn`, counted in the statement log as SeaORM counts the
    /// statements it runs (see [`Lent::fetch_all`]).
    pub(crate) async fn fetch_all_direct(
        &self,
        conn: &mut Lent,
        sql: &str,
        values: Vec<Value>,
        planned: Planned,
    ) -> RepoResult<Vec<QueryResult>> {
        self.fetch_all_direct_or(conn, sql, values, planned, db_err)
            .await
    }

    /// [`fetch_all_direct`](Self::fetch_all_direct), with the statement's failure mapped by
    /// `refused`: for a caller that can name the row a constraint refused.
    pub(crate) async fn fetch_all_direct_or(
        &self,
        conn: &mut Lent,
        sql: &str,
        values: Vec<Value>,
        planned: Planned,
        refused: impl FnOnce(DbErr) -> RepoError,
    ) -> RepoResult<Vec<QueryResult>> {
        let mut query =
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).persistent(planned == Planned::Cached);
        for value in values {
            query = bind(query, value)?;
        }
        Ok(conn
            .fetch_all(sql, query)
            .await
            .map_err(|e| refused(sqlx_query_err(e)))?
            .into_iter()
            .map(QueryResult::from)
            .collect())
    }
}

//! Observability: the audit log (its rows, the secrets kept out of them, and the hash chain
//! that seals them) and the system's telemetry — events, components with their traffic and
//! health, metric samples, alerts.
//!
//! The telemetry records (events, communications, health checks, samples) are appended in a
//! mutation's transaction but write no audit row: see `docs/observability.md`.

mod alerts;
mod audit_logs;
mod chain;
mod component_communications;
mod component_health;
mod components;
pub(crate) mod entity;
mod events;
mod metrics;
pub(crate) mod redact;

pub use audit_logs::describe_metrics as describe_audit_metrics;

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use orchestore_repo::{Ctx, Cursor, ListSort, PageRequest, RepoError, RepoResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Iterable, QueryFilter,
    QueryOrder, QuerySelect, Select, Statement,
};
use uuid::Uuid;

use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::scoped::{Keyed, Tenanted, scoped};

crate::scoped::entities! {
    tenanted:
        entity::components::Entity => "component",
        entity::events::Entity => "event",
        entity::component_communications::Entity => "component_communication",
        entity::component_health::Entity => "component_health",
        entity::metrics::Entity => "metric",
        entity::alerts::Entity => "alert";
    audited:
}

crate::revision::revised! {
    entity::components::Entity
}

/// The most ids in the `IN` list of one lookup, under both backends' limits on bound values.
const LOOKUP: usize = 5_000;

/// A time a caller gave, at the precision both backends store (microseconds), so that it
/// reads back equal; `now` when none was given.
pub(crate) fn stored_time(given: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    given.map_or(now, |at| at.trunc_subsecs(6))
}

/// Which of `ids` are rows of `E` in the context's organization: one query per few thousand.
pub(crate) async fn present<E: Tenanted>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    ids: &BTreeSet<Uuid>,
) -> RepoResult<HashSet<Uuid>> {
    let ids: Vec<Uuid> = ids.iter().copied().collect();
    let mut found = HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(LOOKUP) {
        let rows: Vec<Uuid> = scoped::<E>(ctx)
            .filter(E::id_column().is_in(chunk.iter().copied()))
            .select_only()
            .column(E::id_column())
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        found.extend(rows);
    }
    Ok(found)
}

/// The first record of a batch whose reference (`field`, to an `entity`) is not among
/// `found`: `InBatch { index, Reference }`.
pub(crate) fn first_missing<T>(
    records: &[T],
    found: &HashSet<Uuid>,
    field: &'static str,
    entity: &'static str,
    reference: impl Fn(&T) -> Option<Uuid>,
) -> RepoResult<()> {
    match records.iter().enumerate().find_map(|(index, record)| {
        reference(record)
            .filter(|id| !found.contains(id))
            .map(|id| (index, id))
    }) {
        Some((index, id)) => Err(RepoError::in_batch(
            index,
            RepoError::reference(field, entity, id),
        )),
        None => Ok(()),
    }
}

/// Inserts `rows` of `E` in multi-row statements, as many rows each as the backend takes
/// bound values for, without reading them back.
pub(crate) async fn insert_rows<E: EntityTrait>(
    db: &impl ConnectionTrait,
    postgres: bool,
    rows: Vec<E::ActiveModel>,
) -> RepoResult<()>
where
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let per_statement = crate::work::rows_per_statement(postgres, E::Column::iter().count());
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<E::ActiveModel> = rows.by_ref().take(per_statement).collect();
        E::insert_many(chunk)
            .exec_without_returning(db)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

/// Rows of `query` at or after `since` and before `until` on column `time`.
pub(crate) fn within<E: EntityTrait>(
    query: Select<E>,
    time: E::Column,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Select<E> {
    let query = match since {
        Some(since) => query.filter(time.gte(since)),
        None => query,
    };
    match until {
        Some(until) => query.filter(time.lt(until)),
        None => query,
    }
}

/// One page of `query` ordered by the time column `time`, then the id, newest first or
/// oldest first: rows after the request's cursor (which carries the last row's time, in
/// microseconds, and id), one more than the limit.
pub(crate) fn time_page<E: Keyed, S: ListSort>(
    query: Select<E>,
    page: &PageRequest<S>,
    time: E::Column,
    newest_first: bool,
) -> RepoResult<Select<E>> {
    let id = E::id_column();
    let query = match page.after() {
        Some(cursor) => {
            let at = cursor_time(cursor)?;
            let after = if newest_first {
                // `time <= at` lets an index on (…, time, id) start at the cursor.
                Condition::all().add(time.lte(at)).add(
                    Condition::any()
                        .add(time.lt(at))
                        .add(Condition::all().add(time.eq(at)).add(id.lt(cursor.id()))),
                )
            } else {
                Condition::all().add(time.gte(at)).add(
                    Condition::any()
                        .add(time.gt(at))
                        .add(Condition::all().add(time.eq(at)).add(id.gt(cursor.id()))),
                )
            };
            query.filter(after)
        }
        None => query,
    };
    let query = if newest_first {
        query.order_by_desc(time).order_by_desc(id)
    } else {
        query.order_by_asc(time).order_by_asc(id)
    };
    Ok(query.limit(u64::from(page.limit().get()) + 1))
}

/// The cursor after a row at `at` with id `id`, for [`time_page`].
pub(crate) fn time_cursor<S: ListSort>(
    sort: S,
    at: DateTime<Utc>,
    id: impl Into<Uuid>,
) -> Cursor<S> {
    Cursor::after_key(sort, at.timestamp_micros(), id)
}

fn cursor_time<S: ListSort>(cursor: &Cursor<S>) -> RepoResult<DateTime<Utc>> {
    let micros = cursor.int_key()?;
    DateTime::from_timestamp_micros(micros).ok_or_else(|| {
        RepoError::Invalid(orchestore_domain::DomainError::invalid(
            "cursor",
            "is not a cursor this list returned",
        ))
    })
}

/// Decodes a stored code (`status`, `kind`, …) of `entity` into its enum.
pub(crate) fn code<T: std::str::FromStr<Err = orchestore_domain::DomainError>>(
    entity: &'static str,
    raw: &str,
) -> RepoResult<T> {
    raw.parse()
        .map_err(|e: orchestore_domain::DomainError| corrupt(entity, e))
}

impl SeaStore {
    /// The plan of `statement` as one text (PostgreSQL `EXPLAIN`, SQLite `EXPLAIN QUERY PLAN`).
    pub(crate) async fn explain_raw(&self, statement: Statement) -> RepoResult<String> {
        let (prefix, column) = if self.is_postgres() {
            ("EXPLAIN ", "QUERY PLAN")
        } else {
            ("EXPLAIN QUERY PLAN ", "detail")
        };
        let explain = Statement {
            sql: format!("{prefix}{}", statement.sql),
            ..statement
        };
        let mut lines = Vec::new();
        for row in self
            .db()
            .await
            .query_all_raw(explain)
            .await
            .map_err(db_err)?
        {
            lines.push(row.try_get::<String>("", column).map_err(db_err)?);
        }
        Ok(lines.join("\n"))
    }
}

//! Tenant-scoped reads and deletes, and keyset pages: written once for every entity.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use orchestore_repo::{Ctx, ListSort, PageRequest, RepoError, RepoResult};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Statement, Value, Values,
};
use uuid::Uuid;

use crate::SeaStore;
use crate::error::db_err;
use crate::mutation::Audited;

/// An entity whose rows have a UUIDv7 id, so that id order is creation order.
pub(crate) trait Keyed: EntityTrait {
    fn id_column() -> Self::Column;
}

/// An entity whose rows belong to one organization, found by a UUID id.
pub(crate) trait Tenanted: Audited + Keyed {
    fn organization_column() -> Self::Column;
}

/// Declares entities as audited under a name and, when they have `organization_id` and `id`
/// columns, as tenanted.
macro_rules! entities {
    (tenanted: $($tenanted:path => $tname:literal),* $(,)?; audited: $($audited:path => $aname:literal),* $(,)?) => {
        $(
            impl $crate::mutation::Audited for $tenanted {
                const NAME: &'static str = $tname;
            }
            impl $crate::scoped::Keyed for $tenanted {
                fn id_column() -> <Self as ::sea_orm::EntityTrait>::Column {
                    <Self as ::sea_orm::EntityTrait>::Column::Id
                }
            }
            impl $crate::scoped::Tenanted for $tenanted {
                fn organization_column() -> <Self as ::sea_orm::EntityTrait>::Column {
                    <Self as ::sea_orm::EntityTrait>::Column::OrganizationId
                }
            }
        )*
        $(
            impl $crate::mutation::Audited for $audited {
                const NAME: &'static str = $aname;
            }
        )*
    };
}
pub(crate) use entities;

/// The rows of the context's organization: the start of every tenant query.
pub(crate) fn scoped<E: Tenanted>(ctx: &Ctx) -> Select<E> {
    E::find().filter(E::organization_column().eq(ctx.org().as_uuid()))
}

/// Whether a read inside a write transaction locks the row (PostgreSQL `FOR UPDATE`; SQLite's
/// immediate transaction already holds the write lock).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Lock {
    None,
    ForUpdate,
}

/// The SQL of [`SeaStore::find_scoped`] by entity, backend and lock, built once: building it
/// (every column named and quoted) cost more than decoding the row it reads.
type FindSql = HashMap<(TypeId, bool, Lock), Arc<str>, foldhash::fast::RandomState>;
static FIND_SQL: LazyLock<Mutex<FindSql>> = LazyLock::new(Mutex::default);

impl SeaStore {
    /// Row `id` of the context's organization; another tenant's row is `NotFound` too.
    pub(crate) async fn find_scoped<E: Tenanted>(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        id: impl Into<Uuid> + std::fmt::Display + Copy,
        lock: Lock,
    ) -> RepoResult<E::Model> {
        let postgres = self.is_postgres();
        let lock = if postgres { lock } else { Lock::None };
        let backend = if postgres {
            DbBackend::Postgres
        } else {
            DbBackend::Sqlite
        };
        E::find()
            .from_raw_sql(find_statement::<E>(backend, lock, ctx, id.into()))
            .one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::not_found(E::NAME, id))
    }
}

/// The statement reading row `id` of `E` in the context's organization: its SQL from
/// [`FIND_SQL`], or built and kept there.
fn find_statement<E: Tenanted>(backend: DbBackend, lock: Lock, ctx: &Ctx, id: Uuid) -> Statement {
    let values: Vec<Value> = vec![ctx.org().as_uuid().into(), id.into()];
    let key = (TypeId::of::<E>(), backend == DbBackend::Postgres, lock);
    // A poisoned lock only means a panic elsewhere: the map holds only finished strings.
    let known = || FIND_SQL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(sql) = known().get(&key).cloned() {
        return Statement::from_sql_and_values(backend, &*sql, values);
    }
    let mut query = scoped::<E>(ctx).filter(E::id_column().eq(id));
    if lock == Lock::ForUpdate {
        query = query.lock_exclusive();
    }
    let built = query.build(backend);
    // Kept only when its parameters are the ones every later call binds, in that order.
    if built.values == Some(Values(values)) {
        known().insert(key, built.sql.as_str().into());
    }
    built
}

/// Deletes row `id` of the context's organization; `NotFound` when there is none.
pub(crate) async fn delete_scoped<E: Tenanted>(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    id: impl Into<Uuid> + std::fmt::Display + Copy,
) -> RepoResult<()> {
    let result = E::delete_many()
        .filter(E::organization_column().eq(ctx.org().as_uuid()))
        .filter(E::id_column().eq(id.into()))
        .exec(db)
        .await
        .map_err(db_err)?;
    if result.rows_affected == 0 {
        return Err(RepoError::not_found(E::NAME, id));
    }
    Ok(())
}

/// How a list's sort maps onto columns: creation order is id order (UUIDv7), or an integer or
/// text column, ranked, with the id breaking ties, oldest first.
pub(crate) enum Keyset<C> {
    OldestFirst,
    NewestFirst,
    /// The integer column, lowest first.
    IntAsc(C),
    /// The integer column, highest first.
    IntDesc(C),
    /// The text column, A to Z in byte order on both backends: SQLite compares bytes, and on
    /// PostgreSQL (`postgres`) the comparisons name the `C` collation, since the database's
    /// own depends on its locale (`en_US` ignores `.` and `-`, say).
    TextAsc {
        column: C,
        postgres: bool,
    },
}

/// Reads one page of `query` (already scoped and filtered) in `keyset` order: rows after
/// the request's cursor, one more than the limit so that the page knows whether another
/// follows.
pub(crate) fn keyset_page<E: Keyed, S: ListSort>(
    query: Select<E>,
    page: &PageRequest<S>,
    keyset: Keyset<E::Column>,
) -> RepoResult<Select<E>> {
    let id = E::id_column();
    let query = match (keyset, page.after()) {
        (Keyset::OldestFirst, after) => {
            let query = match after {
                Some(cursor) => query.filter(id.gt(cursor.id())),
                None => query,
            };
            query.order_by_asc(id)
        }
        (Keyset::NewestFirst, after) => {
            let query = match after {
                Some(cursor) => query.filter(id.lt(cursor.id())),
                None => query,
            };
            query.order_by_desc(id)
        }
        (Keyset::IntAsc(column), after) => {
            let query = match after {
                Some(cursor) => {
                    let rank = cursor.int_key()?;
                    // `column >= rank`: as for `IntDesc`, lets the index start at the cursor.
                    query.filter(column.gte(rank)).filter(
                        Condition::any().add(column.gt(rank)).add(
                            Condition::all()
                                .add(column.eq(rank))
                                .add(id.gt(cursor.id())),
                        ),
                    )
                }
                None => query,
            };
            query.order_by_asc(column).order_by_asc(id)
        }
        (Keyset::IntDesc(column), after) => {
            let query = match after {
                Some(cursor) => {
                    let rank = cursor.int_key()?;
                    // `column <= rank` lets an (organization, column desc, id) index start at
                    // the cursor instead of at the top.
                    query.filter(column.lte(rank)).filter(
                        Condition::any().add(column.lt(rank)).add(
                            Condition::all()
                                .add(column.eq(rank))
                                .add(id.gt(cursor.id())),
                        ),
                    )
                }
                None => query,
            };
            query.order_by_desc(column).order_by_asc(id)
        }
        (Keyset::TextAsc { column, postgres }, after) => {
            let text = if postgres {
                Expr::cust_with_expr(r#"$1 COLLATE "C""#, column.into_expr())
            } else {
                column.into_expr()
            };
            let query = match after {
                Some(cursor) => {
                    let key = cursor.text_key()?.to_owned();
                    // `text >= key` lets an (organization, column) index start at the cursor.
                    query.filter(text.clone().gte(key.clone())).filter(
                        Condition::any().add(text.clone().gt(key.clone())).add(
                            Condition::all()
                                .add(text.clone().eq(key))
                                .add(id.gt(cursor.id())),
                        ),
                    )
                }
                None => query,
            };
            query.order_by_asc(text).order_by_asc(id)
        }
    };
    Ok(query.limit(u64::from(page.limit().get()) + 1))
}

/// Decodes a JSON array of strings stored by this crate.
pub(crate) fn string_array(value: &serde_json::Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use orchestore_domain::OrganizationId;
    use orchestore_repo::Actor;

    use super::*;
    use crate::work::entity::tasks;

    #[test]
    fn a_kept_find_is_the_statement_built_for_the_call() {
        for (backend, lock) in [
            (DbBackend::Postgres, Lock::None),
            (DbBackend::Postgres, Lock::ForUpdate),
            (DbBackend::Sqlite, Lock::None),
        ] {
            // The first call builds and keeps the SQL; the second takes it, with its own values.
            let _ = find_statement::<tasks::Entity>(
                backend,
                lock,
                &Ctx::new(OrganizationId::new(), Actor::System),
                Uuid::now_v7(),
            );
            let ctx = Ctx::new(OrganizationId::new(), Actor::System);
            let id = Uuid::now_v7();
            let mut query = scoped::<tasks::Entity>(&ctx).filter(tasks::Column::Id.eq(id));
            if lock == Lock::ForUpdate {
                query = query.lock_exclusive();
            }
            assert_eq!(
                find_statement::<tasks::Entity>(backend, lock, &ctx, id),
                query.build(backend)
            );
        }
    }
}

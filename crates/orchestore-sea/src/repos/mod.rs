//! The repository trait implementations for [`SeaStore`](crate::SeaStore), one module per
//! trait, each with the fallible row → domain conversion for its rows.

mod audit_logs;
mod auth;
mod organizations;
mod projects;
mod tasks;
mod users;

use orchestore_domain::DomainError;
use orchestore_repo::{Ctx, PageRequest, RepoError, RepoResult, SortOrder};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::SeaStore;
use crate::entities;
use crate::error::db_err;

/// An entity whose rows belong to one organization, found by a UUID id.
pub(crate) trait Tenanted: EntityTrait {
    /// The name a `NotFound` error gives.
    const NAME: &'static str;
    fn id_column() -> Self::Column;
    fn organization_column() -> Self::Column;
}

macro_rules! tenanted {
    ($($module:ident => $name:literal),* $(,)?) => {$(
        impl Tenanted for entities::$module::Entity {
            const NAME: &'static str = $name;
            fn id_column() -> Self::Column {
                entities::$module::Column::Id
            }
            fn organization_column() -> Self::Column {
                entities::$module::Column::OrganizationId
            }
        }
    )*};
}

tenanted!(projects => "project", tasks => "task", users => "user");

/// The rows of the context's organization: the start of every tenant query.
pub(crate) fn scoped<E: Tenanted>(ctx: &Ctx) -> Select<E> {
    E::find().filter(E::organization_column().eq(ctx.org().as_uuid()))
}

/// Whether a read inside a write transaction locks the row (PostgreSQL `FOR UPDATE`; SQLite's
/// immediate transaction already holds the write lock).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    None,
    ForUpdate,
}

impl SeaStore {
    /// Row `id` of the context's organization; another tenant's row is `NotFound` too.
    pub(crate) async fn find_scoped<E: Tenanted>(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        id: impl Into<Uuid> + std::fmt::Display + Copy,
        lock: Lock,
    ) -> RepoResult<E::Model> {
        let mut query = scoped::<E>(ctx).filter(E::id_column().eq(id.into()));
        if lock == Lock::ForUpdate && self.is_postgres() {
            query = query.lock_exclusive();
        }
        query
            .one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::not_found(E::NAME, id))
    }
}

/// Applies keyset pagination in creation order on a UUIDv7 id column: rows after the cursor,
/// one more than the limit so that the page knows whether another follows.
fn keyset<E: EntityTrait>(
    query: Select<E>,
    id: E::Column,
    page: PageRequest,
) -> RepoResult<Select<E>>
where
    E::Column: ColumnTrait,
{
    if let Some(cursor) = page.after {
        cursor.check_order(page.order)?;
    }
    let query = match (page.order, page.after) {
        (SortOrder::OldestFirst, Some(cursor)) => query.filter(id.gt(cursor.id())),
        (SortOrder::NewestFirst, Some(cursor)) => query.filter(id.lt(cursor.id())),
        (SortOrder::PriorityFirst, _) => {
            return Err(RepoError::Invalid(DomainError::invalid(
                "sort",
                "only tasks can be sorted by priority",
            )));
        }
        (_, None) => query,
    };
    let query = match page.order {
        SortOrder::NewestFirst => query.order_by_desc(id),
        _ => query.order_by_asc(id),
    };
    Ok(query.limit(u64::from(page.limit.get()) + 1))
}

/// Decodes a JSON array of strings stored by this crate.
fn string_array(value: &serde_json::Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

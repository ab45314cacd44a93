//! The repository trait implementations for [`SeaStore`](crate::SeaStore), one module per
//! trait, each with the fallible row → domain conversion for its rows.

mod audit_logs;
mod auth;
mod organizations;
mod projects;
mod tasks;
mod users;

use orchestore_repo::{PageRequest, SortOrder};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

/// Applies keyset pagination on a UUIDv7 id column: rows after the cursor in the requested
/// order, one more than the limit so that the page knows whether another follows.
fn keyset<E: EntityTrait>(query: Select<E>, id: E::Column, page: PageRequest) -> Select<E>
where
    E::Column: ColumnTrait,
{
    let query = match (page.order, page.after) {
        (SortOrder::OldestFirst, Some(cursor)) => query.filter(id.gt(cursor.id())),
        (SortOrder::NewestFirst, Some(cursor)) => query.filter(id.lt(cursor.id())),
        (_, None) => query,
    };
    let query = match page.order {
        SortOrder::OldestFirst => query.order_by_asc(id),
        SortOrder::NewestFirst => query.order_by_desc(id),
    };
    query.limit(u64::from(page.limit.get()) + 1)
}

/// Decodes a JSON array of strings stored by this crate.
fn string_array(value: &serde_json::Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect()
}

//! The page parameters every list takes.

use orchestore_repo::{Cursor, Limit, ListSort, PageRequest};
use serde::{Deserialize, Serialize};

use crate::{FieldErrors, Invalid};

/// `limit`, `cursor` and `sort` of a list that has no filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Rows per page, 1 to 200 (50 when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The list's order, e.g. `-created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl PageQuery {
    pub fn into_page_request<S: ListSort>(self) -> Result<PageRequest<S>, Invalid> {
        let mut errors = FieldErrors::default();
        page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        )
        .ok_or_else(|| errors.into_error())
    }
}

/// The pagination parameters of a list, checked into a [`PageRequest`] of the list's own sort;
/// each bad one is recorded in `errors`.
pub fn page_request<S: ListSort>(
    errors: &mut FieldErrors,
    limit: Option<u64>,
    cursor: Option<&str>,
    sort: Option<&str>,
) -> Option<PageRequest<S>> {
    let limit = errors.check(limit.map_or(Ok(Limit::default()), Limit::parse));
    let after = errors.check(cursor.map(str::parse::<Cursor<S>>).transpose());
    let sort = errors.check(sort.map(S::parse).transpose());
    let (limit, sort, after) = (limit?, sort?, after?);
    // A cursor knows its sort: `sort` may be left out on the next pages.
    let sort = sort
        .or_else(|| after.as_ref().map(Cursor::sort))
        .unwrap_or_default();
    errors.check(PageRequest::new(limit, sort, after))
}

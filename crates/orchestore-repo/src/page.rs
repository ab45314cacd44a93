use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use orchestore_domain::DomainError;
use serde::{Serialize, Serializer};
use uuid::Uuid;

/// How many rows a page holds: 1 to [`Limit::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u32);

impl Limit {
    pub const DEFAULT: u32 = 50;
    pub const MAX: u32 = 200;

    pub fn parse(raw: u64) -> Result<Self, DomainError> {
        match u32::try_from(raw) {
            Ok(value) if (1..=Self::MAX).contains(&value) => Ok(Self(value)),
            _ => Err(DomainError::invalid(
                "limit",
                format!("must be between 1 and {}", Self::MAX),
            )),
        }
    }

    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

/// An opaque position in a list: the sort order it was made for, the id of the last row
/// returned, and that row's priority when the list is sorted by priority. Ids are UUIDv7 and
/// unique, so a keyset page after it neither skips nor repeats rows when others are inserted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    order: SortOrder,
    id: Uuid,
    priority: i32,
}

impl Cursor {
    /// After the row `id`, in creation order (`OldestFirst` or `NewestFirst`).
    pub fn after(order: SortOrder, id: impl Into<Uuid>) -> Self {
        Self {
            order,
            id: id.into(),
            priority: 0,
        }
    }

    /// After the row `id` of priority `priority`, in priority order.
    pub fn after_priority(priority: i32, id: impl Into<Uuid>) -> Self {
        Self {
            order: SortOrder::PriorityFirst,
            id: id.into(),
            priority,
        }
    }

    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The priority of the last row, for a cursor in priority order.
    pub fn priority(&self) -> i32 {
        self.priority
    }

    /// Checks that the cursor was made for `order`: a cursor from one sort means nothing in
    /// another.
    pub fn check_order(&self, order: SortOrder) -> Result<(), DomainError> {
        if self.order == order {
            Ok(())
        } else {
            Err(DomainError::invalid(
                "cursor",
                "belongs to another sort order: pass the same sort as for the first page",
            ))
        }
    }

    const fn tag(order: SortOrder) -> u8 {
        match order {
            SortOrder::OldestFirst => 0,
            SortOrder::NewestFirst => 1,
            SortOrder::PriorityFirst => 2,
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = vec![Self::tag(self.order)];
        bytes.extend_from_slice(self.id.as_bytes());
        if self.order == SortOrder::PriorityFirst {
            bytes.extend_from_slice(&self.priority.to_be_bytes());
        }
        f.write_str(&URL_SAFE_NO_PAD.encode(bytes))
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({self})")
    }
}

impl FromStr for Cursor {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || DomainError::invalid("cursor", "is not a cursor this API returned");
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| invalid())?;
        let (tag, rest) = bytes.split_first().ok_or_else(invalid)?;
        let (id, rest) = rest.split_at_checked(16).ok_or_else(invalid)?;
        let id = Uuid::from_slice(id).map_err(|_| invalid())?;
        match (tag, rest) {
            (0, []) => Ok(Self::after(SortOrder::OldestFirst, id)),
            (1, []) => Ok(Self::after(SortOrder::NewestFirst, id)),
            (2, [a, b, c, d]) => Ok(Self::after_priority(
                i32::from_be_bytes([*a, *b, *c, *d]),
                id,
            )),
            _ => Err(invalid()),
        }
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The order of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    /// Creation order (`created_at`).
    #[default]
    OldestFirst,
    /// Reverse creation order (`-created_at`).
    NewestFirst,
    /// Highest priority first, then oldest (`-priority`); for tasks.
    PriorityFirst,
}

impl FromStr for SortOrder {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "created_at" => Ok(Self::OldestFirst),
            "-created_at" => Ok(Self::NewestFirst),
            "-priority" => Ok(Self::PriorityFirst),
            _ => Err(DomainError::invalid(
                "sort",
                "must be created_at (oldest first), -created_at (newest first) or -priority \
                 (highest priority first, tasks only)",
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PageRequest {
    pub limit: Limit,
    pub after: Option<Cursor>,
    pub order: SortOrder,
}

impl PageRequest {
    pub fn first(limit: Limit) -> Self {
        Self {
            limit,
            ..Self::default()
        }
    }

    pub fn next(self, cursor: Option<Cursor>) -> Self {
        Self {
            after: cursor,
            ..self
        }
    }
}

/// One page of a list; `next_cursor` is `None` on the last page.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only tells that more follow.
    pub fn from_rows(mut rows: Vec<T>, limit: Limit, cursor_of: impl Fn(&T) -> Cursor) -> Self {
        let more = rows.len() > limit.get() as usize;
        rows.truncate(limit.get() as usize);
        let next_cursor = if more {
            rows.last().map(cursor_of)
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = Cursor::after(SortOrder::OldestFirst, Uuid::now_v7());
        assert_eq!(cursor.to_string().parse::<Cursor>(), Ok(cursor));
        let newest = Cursor::after(SortOrder::NewestFirst, Uuid::now_v7());
        assert_eq!(newest.to_string().parse::<Cursor>(), Ok(newest));
        assert!(newest.check_order(SortOrder::OldestFirst).is_err());
        let by_priority = Cursor::after_priority(-7, Uuid::now_v7());
        assert_eq!(by_priority.to_string().parse::<Cursor>(), Ok(by_priority));
        assert!(by_priority.check_order(SortOrder::PriorityFirst).is_ok());
        assert!(by_priority.check_order(SortOrder::OldestFirst).is_err());
        assert!(cursor.check_order(SortOrder::PriorityFirst).is_err());
        assert!("not-a-cursor!".parse::<Cursor>().is_err());
        assert!("AAAA".parse::<Cursor>().is_err());
    }

    #[test]
    fn limit_bounds() {
        assert!(Limit::parse(0).is_err());
        assert!(Limit::parse(201).is_err());
        assert_eq!(Limit::parse(200).map(Limit::get), Ok(200));
    }
}

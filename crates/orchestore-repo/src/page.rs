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

/// An opaque position in a list: the id of the last row returned. Ids are UUIDv7 and unique,
/// so a keyset page after it neither skips nor repeats rows when others are inserted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Cursor(Uuid);

impl Cursor {
    pub fn after(id: impl Into<Uuid>) -> Self {
        Self(id.into())
    }

    pub fn id(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0.as_bytes()))
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
        URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|bytes| Uuid::from_slice(&bytes).ok())
            .map(Self)
            .ok_or_else(|| DomainError::invalid("cursor", "is not a cursor this API returned"))
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Creation order of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    OldestFirst,
    NewestFirst,
}

impl FromStr for SortOrder {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "created_at" | "asc" => Ok(Self::OldestFirst),
            "-created_at" | "desc" => Ok(Self::NewestFirst),
            _ => Err(DomainError::invalid(
                "sort",
                "must be created_at (oldest first) or -created_at (newest first)",
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
    pub fn from_rows(mut rows: Vec<T>, limit: Limit, id_of: impl Fn(&T) -> Uuid) -> Self {
        let more = rows.len() > limit.get() as usize;
        rows.truncate(limit.get() as usize);
        let next_cursor = if more {
            rows.last().map(|row| Cursor(id_of(row)))
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
        let cursor = Cursor::after(Uuid::now_v7());
        assert_eq!(cursor.to_string().parse::<Cursor>(), Ok(cursor));
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

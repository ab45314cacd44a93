//! Keyset pagination, typed per list.
//!
//! Each list declares its own sort enum with [`list_sort!`](crate::list_sort); its pages and
//! cursors are typed by that enum, so a cursor of one list cannot be handed to another, nor
//! to another sort of the same list. Nothing here knows any entity.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use orchestore_domain::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;
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

/// The sort orders of one list. Implement it with [`list_sort!`](crate::list_sort).
pub trait ListSort: Copy + Eq + Default + fmt::Debug + Send + Sync + 'static {
    /// The list's name, written into its cursors.
    const LIST: &'static str;
    /// Every order, the default first.
    const ALL: &'static [Self];
    /// The query-string spelling, e.g. `-created_at`.
    fn code(self) -> &'static str;

    fn parse(code: &str) -> Result<Self, DomainError> {
        Self::ALL
            .iter()
            .copied()
            .find(|sort| sort.code() == code)
            .ok_or_else(|| {
                let allowed: Vec<&str> = Self::ALL.iter().map(|sort| sort.code()).collect();
                DomainError::invalid("sort", format!("must be one of {}", allowed.join(", ")))
            })
    }
}

/// Declares a list's sort enum: its variants with their query-string codes, the first being
/// the default.
///
/// ```
/// orchestore_repo::list_sort! {
///     /// The orders of the widget list.
///     pub enum WidgetSort for "widgets" {
///         /// Oldest first.
///         CreatedAt = "created_at",
///         /// Newest first.
///         CreatedAtDesc = "-created_at",
///     }
/// }
/// assert_eq!("-created_at".parse::<WidgetSort>(), Ok(WidgetSort::CreatedAtDesc));
/// ```
#[macro_export]
macro_rules! list_sort {
    (
        $(#[$meta:meta])*
        pub enum $name:ident for $list:literal {
            $(#[$first_meta:meta])* $first:ident = $first_code:literal,
            $($(#[$variant_meta:meta])* $variant:ident = $code:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $(#[$first_meta])*
            #[default]
            $first,
            $($(#[$variant_meta])* $variant,)*
        }

        impl $crate::ListSort for $name {
            const LIST: &'static str = $list;
            const ALL: &'static [Self] = &[Self::$first, $(Self::$variant,)*];

            fn code(self) -> &'static str {
                match self {
                    Self::$first => $first_code,
                    $(Self::$variant => $code,)*
                }
            }
        }

        /// The `sort` query parameter: one of the codes, the default first.
        impl $crate::__private::utoipa::PartialSchema for $name {
            fn schema() -> $crate::__private::utoipa::openapi::RefOr<
                $crate::__private::utoipa::openapi::schema::Schema,
            > {
                $crate::__private::utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type($crate::__private::utoipa::openapi::schema::Type::String)
                    .enum_values(Some(
                        <Self as $crate::ListSort>::ALL
                            .iter()
                            .map(|sort| $crate::ListSort::code(*sort)),
                    ))
                    .default(Some($first_code.into()))
                    .into()
            }
        }

        impl $crate::__private::utoipa::ToSchema for $name {}

        impl ::std::str::FromStr for $name {
            type Err = $crate::__private::DomainError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <Self as $crate::ListSort>::parse(s)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::ListSort::code(*self))
            }
        }
    };
}

/// The sort value of a cursor's row, for a list sorted on a column other than the id: an
/// integer (a priority, a version number) or a text (an e-mail, a code).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum SortKey {
    Int(i64),
    Text(String),
}

/// An opaque position in one list: the sort it was made for, the id of the last row returned
/// and, for sorts on another column (a priority, an e-mail), that row's value. Ids are UUIDv7
/// and unique, so a keyset page after it neither skips nor repeats rows when others are
/// inserted.
#[derive(Clone, PartialEq, Eq)]
pub struct Cursor<S> {
    sort: S,
    id: Uuid,
    key: Option<SortKey>,
}

impl<S: ListSort> Cursor<S> {
    /// After the row `id` in a creation-ordered sort.
    pub fn after(sort: S, id: impl Into<Uuid>) -> Self {
        Self {
            sort,
            id: id.into(),
            key: None,
        }
    }

    /// After the row `id` whose integer sort column holds `key`.
    pub fn after_key(sort: S, key: i64, id: impl Into<Uuid>) -> Self {
        Self {
            sort,
            id: id.into(),
            key: Some(SortKey::Int(key)),
        }
    }

    /// After the row `id` whose text sort column holds `key`.
    pub fn after_text(sort: S, key: impl Into<String>, id: impl Into<Uuid>) -> Self {
        Self {
            sort,
            id: id.into(),
            key: Some(SortKey::Text(key.into())),
        }
    }

    pub fn sort(&self) -> S {
        self.sort
    }

    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The sort value, for sorts on an integer column.
    pub fn int_key(&self) -> Result<i64, DomainError> {
        match self.key {
            Some(SortKey::Int(value)) => Ok(value),
            _ => Err(invalid_cursor()),
        }
    }

    /// The text sort value, for sorts on a text column.
    pub fn text_key(&self) -> Result<&str, DomainError> {
        match &self.key {
            Some(SortKey::Text(value)) => Ok(value),
            _ => Err(invalid_cursor()),
        }
    }
}

fn invalid_cursor() -> DomainError {
    DomainError::invalid("cursor", "is not a cursor this list returned")
}

/// What a cursor encodes: `[list, sort, id, key?]`, as JSON in base64url.
#[derive(serde::Serialize, serde::Deserialize)]
struct Encoded<'a> {
    #[serde(borrow)]
    list: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    sort: std::borrow::Cow<'a, str>,
    id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<SortKey>,
}

impl<S: ListSort> fmt::Display for Cursor<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let encoded = Encoded {
            list: S::LIST.into(),
            sort: self.sort.code().into(),
            id: self.id,
            key: self.key.clone(),
        };
        let json = serde_json::to_vec(&encoded).map_err(|_| fmt::Error)?;
        f.write_str(&URL_SAFE_NO_PAD.encode(json))
    }
}

impl<S: fmt::Debug> fmt::Debug for Cursor<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({:?}, {}, {:?})", self.sort, self.id, self.key)
    }
}

impl<S: ListSort> FromStr for Cursor<S> {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| invalid_cursor())?;
        let encoded: Encoded<'_> = serde_json::from_slice(&bytes).map_err(|_| invalid_cursor())?;
        if encoded.list != S::LIST {
            return Err(invalid_cursor());
        }
        let sort = S::parse(&encoded.sort).map_err(|_| invalid_cursor())?;
        Ok(Self {
            sort,
            id: encoded.id,
            key: encoded.key,
        })
    }
}

impl<S: ListSort> Serialize for Cursor<S> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.collect_str(self)
    }
}

// A cursor read back (a client's `next_cursor`) is checked as one given in a query string.
impl<'de, S: ListSort> Deserialize<'de> for Cursor<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// Which page of a list to read: its size, its sort, and where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<S> {
    limit: Limit,
    sort: S,
    after: Option<Cursor<S>>,
}

impl<S: ListSort> Default for PageRequest<S> {
    fn default() -> Self {
        Self::first(Limit::default())
    }
}

impl<S: ListSort> PageRequest<S> {
    /// The first page in the default order.
    pub fn first(limit: Limit) -> Self {
        Self {
            limit,
            sort: S::default(),
            after: None,
        }
    }

    /// A page in `sort`, after `after` when given. A cursor made for another sort is refused:
    /// it means nothing in this one.
    pub fn new(limit: Limit, sort: S, after: Option<Cursor<S>>) -> Result<Self, DomainError> {
        if let Some(cursor) = &after
            && cursor.sort != sort
        {
            return Err(DomainError::invalid(
                "cursor",
                "belongs to another sort order: pass the same sort as for the first page",
            ));
        }
        Ok(Self { limit, sort, after })
    }

    /// The same request in another order, from the start.
    pub fn sorted(self, sort: S) -> Self {
        Self {
            sort,
            after: None,
            ..self
        }
    }

    /// The page after `cursor` (the `next_cursor` of the previous page), in the cursor's sort.
    pub fn next(self, cursor: Option<Cursor<S>>) -> Self {
        Self {
            sort: cursor.as_ref().map_or(self.sort, Cursor::sort),
            after: cursor,
            ..self
        }
    }

    pub fn limit(&self) -> Limit {
        self.limit
    }

    pub fn sort(&self) -> S {
        self.sort
    }

    pub fn after(&self) -> Option<&Cursor<S>> {
        self.after.as_ref()
    }
}

/// One page of a list; `next_cursor` is `None` on the last page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(bound(
    serialize = "T: Serialize, S: ListSort",
    deserialize = "T: Deserialize<'de>, S: ListSort"
))]
#[schema(bound = "T: ToSchema")]
pub struct Page<T, S> {
    pub items: Vec<T>,
    /// Where the next page starts (`cursor=`); `null` on the last page.
    #[schema(value_type = Option<String>)]
    pub next_cursor: Option<Cursor<S>>,
}

impl<T, S: ListSort> Page<T, S> {
    /// Builds a page from up to `limit + 1` rows: the extra row only tells that more follow.
    pub fn from_rows(
        mut rows: Vec<T>,
        request: &PageRequest<S>,
        cursor_of: impl Fn(&T) -> Cursor<S>,
    ) -> Self {
        let limit = request.limit.get() as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
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

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U, S> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::list_sort! {
        pub enum ThingSort for "things" {
            CreatedAt = "created_at",
            CreatedAtDesc = "-created_at",
            RankDesc = "-rank",
        }
    }

    crate::list_sort! {
        pub enum OtherSort for "others" {
            CreatedAt = "created_at",
        }
    }

    #[test]
    fn cursors_round_trip_and_belong_to_their_list() {
        let cursor = Cursor::after(ThingSort::CreatedAtDesc, Uuid::now_v7());
        assert_eq!(
            cursor.to_string().parse::<Cursor<ThingSort>>(),
            Ok(cursor.clone())
        );
        let ranked = Cursor::after_key(ThingSort::RankDesc, -7, Uuid::now_v7());
        let back: Cursor<ThingSort> = ranked.to_string().parse().expect("parse");
        assert_eq!(back.int_key(), Ok(-7));
        assert!(back.text_key().is_err());
        let named = Cursor::after_text(ThingSort::RankDesc, "12", Uuid::now_v7());
        let back: Cursor<ThingSort> = named.to_string().parse().expect("parse");
        assert_eq!(back.text_key(), Ok("12"));
        assert!(back.int_key().is_err());
        assert!(cursor.to_string().parse::<Cursor<OtherSort>>().is_err());
        assert!("not-a-cursor!".parse::<Cursor<ThingSort>>().is_err());
        assert!("AAAA".parse::<Cursor<ThingSort>>().is_err());
    }

    #[test]
    fn a_cursor_of_another_sort_is_refused() {
        let cursor = Cursor::after(ThingSort::CreatedAtDesc, Uuid::now_v7());
        assert!(
            PageRequest::new(Limit::default(), ThingSort::CreatedAt, Some(cursor.clone())).is_err()
        );
        assert!(PageRequest::new(Limit::default(), ThingSort::CreatedAtDesc, Some(cursor)).is_ok());
    }

    #[test]
    fn sorts_parse_their_codes() {
        assert_eq!("-rank".parse::<ThingSort>(), Ok(ThingSort::RankDesc));
        let err = "rank".parse::<ThingSort>().expect_err("unknown");
        assert!(err.to_string().contains("created_at, -created_at, -rank"));
        assert_eq!(ThingSort::default(), ThingSort::CreatedAt);
    }

    #[test]
    fn limit_bounds() {
        assert!(Limit::parse(0).is_err());
        assert!(Limit::parse(201).is_err());
        assert_eq!(Limit::parse(200).map(Limit::get), Ok(200));
    }
}

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::has_highlight_marker;
use crate::{
    DomainError, Embedding, KnowledgeCollectionId, KnowledgeEntryId, Metadata, OrganizationId,
    ProjectId, Revision, Tags,
};

const MARKER_REFUSED: &str =
    "must not contain U+FDD0 or U+FDD1 (noncharacters the search marks matches with)";

/// Declares a text newtype of the knowledge base, read from JSON through its `parse(&str)`.
macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        deserialize_by_parse!($name, String, |raw| $name::parse(&raw));

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }
    };
}

text_value!(
    /// An entry's title: trimmed, 1 to 500 characters, no control characters, no highlight
    /// marker.
    EntryTitle
);

impl EntryTitle {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(DomainError::invalid("title", "must not be empty"));
        }
        let chars = value.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "title",
                format!(
                    "must be at most {} characters, got {chars}",
                    Self::MAX_CHARS
                ),
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "title",
                "must not contain control characters",
            ));
        }
        if has_highlight_marker(value) {
            return Err(DomainError::invalid("title", MARKER_REFUSED));
        }
        Ok(Self(value.to_owned()))
    }
}

text_value!(
    /// An entry's body: 1 to 200,000 characters, not only whitespace, kept as written; no
    /// U+0000 (which PostgreSQL cannot store) and no highlight marker.
    EntryContent
);

impl EntryContent {
    pub const MAX_CHARS: usize = 200_000;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.trim().is_empty() {
            return Err(DomainError::invalid("content", "must not be empty"));
        }
        if raw.contains('\0') {
            return Err(DomainError::invalid(
                "content",
                "must not contain the NUL character (U+0000)",
            ));
        }
        if has_highlight_marker(raw) {
            return Err(DomainError::invalid("content", MARKER_REFUSED));
        }
        let chars = raw.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "content",
                format!(
                    "must be at most {} characters, got {chars}",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

text_value!(
    /// Where an entry came from (`wiki`, `slack`, a URL): trimmed, 1 to 500 characters, no
    /// control characters. Matched exactly by the search filter.
    EntrySource
);

impl EntrySource {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim();
        let chars = value.chars().count();
        if value.is_empty() || chars > Self::MAX_CHARS || value.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "source",
                format!(
                    "must be 1 to {} characters without control characters",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

text_value!(
    /// A collection's name: 1 to 64 of `a-z`, `0-9`, `_`, `-`, `.`; unique per organization.
    /// Usually the embedding model's name (`text-embedding-3-small`).
    CollectionName
);

impl CollectionName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim();
        let valid = !value.is_empty()
            && value.len() <= 64
            && value.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
            });
        if !valid {
            return Err(DomainError::invalid(
                "collection",
                format!("{raw:?} is not a collection name (1 to 64 of a-z, 0-9, '_', '-', '.')"),
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

/// How many numbers each vector of a collection has: 1 to [`Dimension::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Dimension(u16);

deserialize_by_parse!(Dimension, i64, Dimension::parse);

impl Dimension {
    pub const MAX: u16 = 4096;

    pub fn parse(raw: i64) -> Result<Self, DomainError> {
        match u16::try_from(raw) {
            Ok(value) if (1..=Self::MAX).contains(&value) => Ok(Self(value)),
            _ => Err(DomainError::invalid(
                "dimension",
                format!("must be between 1 and {}", Self::MAX),
            )),
        }
    }

    pub const fn get(self) -> usize {
        self.0 as usize
    }
}

/// A named set of vectors of one dimension, in one organization: the vectors of one
/// embedding model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KnowledgeCollection {
    pub id: KnowledgeCollectionId,
    pub organization_id: OrganizationId,
    pub name: CollectionName,
    pub dimension: Dimension,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewKnowledgeCollection {
    pub name: CollectionName,
    pub dimension: Dimension,
}

/// A stored entry. `embeddings` names the collections it has a vector in (the vectors
/// themselves are not read back with it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KnowledgeEntry {
    pub id: KnowledgeEntryId,
    pub organization_id: OrganizationId,
    pub title: EntryTitle,
    pub content: EntryContent,
    pub tags: Tags,
    pub source: Option<EntrySource>,
    pub project_id: Option<ProjectId>,
    pub metadata: Metadata,
    /// The actor, as the audit log spells it.
    pub created_by: String,
    pub embeddings: Vec<CollectionName>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

/// An entry to write, with a vector per collection (each checked against its collection's
/// dimension by the repository).
#[derive(Debug, Clone)]
pub struct NewKnowledgeEntry {
    pub title: EntryTitle,
    pub content: EntryContent,
    pub tags: Tags,
    pub source: Option<EntrySource>,
    pub project_id: Option<ProjectId>,
    pub metadata: Metadata,
    pub embeddings: BTreeMap<CollectionName, Embedding>,
}

impl NewKnowledgeEntry {
    /// An entry with a title and content and nothing else.
    pub fn new(title: EntryTitle, content: EntryContent) -> Self {
        Self {
            title,
            content,
            tags: Tags::default(),
            source: None,
            project_id: None,
            metadata: Metadata::default(),
            embeddings: BTreeMap::new(),
        }
    }
}

/// The fields a PATCH may change; `None` leaves a field as it is, `Some(None)` clears a
/// nullable one. `embeddings` sets a collection's vector, or removes it with `None`; the
/// collections it does not name keep theirs.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeEntryPatch {
    pub title: Option<EntryTitle>,
    pub content: Option<EntryContent>,
    pub tags: Option<Tags>,
    pub source: Option<Option<EntrySource>>,
    pub project_id: Option<Option<ProjectId>>,
    pub metadata: Option<Metadata>,
    pub embeddings: BTreeMap<CollectionName, Option<Embedding>>,
}

impl KnowledgeEntryPatch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.content.is_none()
            && self.tags.is_none()
            && self.source.is_none()
            && self.project_id.is_none()
            && self.metadata.is_none()
            && self.embeddings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_refuse_the_highlight_markers() {
        assert!(EntryTitle::parse("Deploys").is_ok());
        assert_eq!(
            EntryTitle::parse("a\u{fdd0}b").unwrap_err().field(),
            Some("title")
        );
        assert_eq!(
            EntryContent::parse("x\u{fdd1}").unwrap_err().field(),
            Some("content")
        );
        assert!(EntryContent::parse("  kept as written\n").is_ok());
        assert!(EntryContent::parse(" \n").is_err());
        assert!(EntryContent::parse("a\0").is_err());
    }

    #[test]
    fn collections_and_dimensions_are_bounded() {
        assert!(CollectionName::parse("text-embedding-3-small").is_ok());
        assert!(CollectionName::parse("Has Space").is_err());
        assert_eq!(Dimension::parse(3).map(Dimension::get), Ok(3));
        assert!(Dimension::parse(0).is_err());
        assert!(Dimension::parse(4097).is_err());
        assert!(EntrySource::parse("wiki").is_ok());
        assert!(EntrySource::parse(" ").is_err());
    }
}

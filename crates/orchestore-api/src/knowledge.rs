//! `/api/v1/knowledge`: entries, collections of vectors, and search.

use std::collections::BTreeMap;

use orchestore_domain::{
    CollectionName, Dimension, DomainError, Embedding, EntryContent, EntrySource, EntryTitle,
    KnowledgeEntryPatch, Metadata, NewKnowledgeCollection, NewKnowledgeEntry, ProjectId,
    SearchLimit, Tags, TextQuery,
};
use orchestore_repo::{
    KnowledgeEntrySort, KnowledgeFilter, KnowledgeHit, KnowledgeSearch, PageRequest, SearchMode,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PatchField, page_request};

/// `{"<collection>": [numbers], …}` (a `null` vector removes one, in a PATCH).
pub type EmbeddingsBody = BTreeMap<String, Option<Vec<f64>>>;

/// The vectors of a body, each under its collection's name; every bad one is recorded on
/// `embeddings`.
fn parse_embeddings(
    errors: &mut FieldErrors,
    raw: EmbeddingsBody,
    removable: bool,
) -> Option<BTreeMap<CollectionName, Option<Embedding>>> {
    let mut parsed = BTreeMap::new();
    let mut ok = true;
    for (name, vector) in raw {
        let name =
            errors.check(CollectionName::parse(&name).map_err(|e| e.for_field("embeddings")));
        let vector = match vector {
            Some(values) => errors.check(Embedding::parse("embeddings", &values).map(Some)),
            None if removable => Some(None),
            None => errors.check(Err(DomainError::invalid(
                "embeddings",
                "a vector must be a list of numbers",
            ))),
        };
        match (name, vector) {
            (Some(name), Some(vector)) => {
                parsed.insert(name, vector);
            }
            _ => ok = false,
        }
    }
    ok.then_some(parsed)
}

// `POST /api/v1/knowledge`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEntryBody {
    pub title: String,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Where the entry comes from, e.g. a URL or a file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    /// A JSON object.
    #[schema(value_type = Option<Object>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// The entry's vectors, each under its collection's name and of its dimension.
    #[schema(value_type = Option<BTreeMap<String, Vec<f64>>>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embeddings: Option<EmbeddingsBody>,
}

impl CreateEntryBody {
    pub fn into_new_entry(self) -> Result<NewKnowledgeEntry, Invalid> {
        let mut errors = FieldErrors::default();
        let title = errors.check(EntryTitle::parse(&self.title));
        let content = errors.check(EntryContent::parse(&self.content));
        let tags = errors.check(self.tags.map_or(Ok(Tags::default()), |t| Tags::parse(&t)));
        let source = errors.check(self.source.as_deref().map(EntrySource::parse).transpose());
        let metadata = errors.check(
            self.metadata
                .map_or(Ok(Metadata::default()), |m| Metadata::parse("metadata", m)),
        );
        let embeddings = parse_embeddings(&mut errors, self.embeddings.unwrap_or_default(), false);
        let (
            Some(title),
            Some(content),
            Some(tags),
            Some(source),
            Some(metadata),
            Some(embeddings),
        ) = (title, content, tags, source, metadata, embeddings)
        else {
            return Err(errors.into_error());
        };
        Ok(NewKnowledgeEntry {
            title,
            content,
            tags,
            source,
            project_id: self.project_id,
            metadata,
            embeddings: embeddings
                .into_iter()
                .filter_map(|(name, vector)| vector.map(|vector| (name, vector)))
                .collect(),
        })
    }
}

/// Absent fields stay as they are; `null` clears `source` and `project_id`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchEntryBody {
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub title: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub content: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Vec<String>)]
    pub tags: PatchField<Vec<String>>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<String>)]
    pub source: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<ProjectId>)]
    pub project_id: PatchField<ProjectId>,
    /// A JSON object.
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Object)]
    pub metadata: PatchField<Value>,
    /// Vectors to set, each under its collection's name; `null` removes the entry's vector of
    /// that collection. Collections left out keep their vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embeddings: Option<EmbeddingsBody>,
}

impl PatchEntryBody {
    pub fn into_patch(self) -> Result<KnowledgeEntryPatch, Invalid> {
        let mut errors = FieldErrors::default();
        let title = errors.check(
            self.title
                .parse_required("title", |t| EntryTitle::parse(&t)),
        );
        let content = errors.check(
            self.content
                .parse_required("content", |c| EntryContent::parse(&c)),
        );
        let tags = errors.check(self.tags.parse_required("tags", |t| Tags::parse(&t)));
        let source = errors.check(self.source.parse_nullable(|s| EntrySource::parse(&s)));
        let project_id = errors.check(self.project_id.parse_nullable(Ok));
        let metadata = errors.check(
            self.metadata
                .parse_required("metadata", |m| Metadata::parse("metadata", m)),
        );
        let embeddings = parse_embeddings(&mut errors, self.embeddings.unwrap_or_default(), true);
        let (
            Some(title),
            Some(content),
            Some(tags),
            Some(source),
            Some(project_id),
            Some(metadata),
            Some(embeddings),
        ) = (
            title, content, tags, source, project_id, metadata, embeddings,
        )
        else {
            return Err(errors.into_error());
        };
        Ok(KnowledgeEntryPatch {
            title,
            content,
            tags,
            source,
            project_id,
            metadata,
            embeddings,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEntriesQuery {
    /// Comma-separated: entries having all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    /// Only the entries of this project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    /// Only the entries of this source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<KnowledgeEntrySort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListEntriesQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(KnowledgeFilter, PageRequest<KnowledgeEntrySort>), Invalid> {
        let mut errors = FieldErrors::default();
        let tags = errors.check(tag_list(self.tags.as_deref()));
        let source = errors.check(self.source.as_deref().map(EntrySource::parse).transpose());
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(tags), Some(source), Some(page)) = (tags, source, page) else {
            return Err(errors.into_error());
        };
        let filter = KnowledgeFilter {
            tags,
            project_id: self.project_id,
            source,
        };
        Ok((filter, page))
    }
}

fn tag_list(raw: Option<&str>) -> Result<Tags, DomainError> {
    match raw {
        None => Ok(Tags::default()),
        Some(list) => Tags::parse(&list.split(',').map(str::trim).collect::<Vec<_>>()),
    }
}

/// `query` for text, `collection` and `vector` for the nearest vectors, all three for both.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// Text to search the entries' titles and content for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The collection whose vectors `vector` is compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// A vector of the collection's dimension: the nearest entries first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f64>>,
    /// Only entries having all of these tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Only the entries of this project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    /// Only the entries of this source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// How many hits to return.
    #[schema(minimum = 1, maximum = 100, default = 10)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// The hits of a search, best first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchHits {
    pub items: Vec<KnowledgeHit>,
}

impl SearchBody {
    pub fn into_search(self) -> Result<KnowledgeSearch, Invalid> {
        let mut errors = FieldErrors::default();
        let query = errors.check(self.query.as_deref().map(TextQuery::parse).transpose());
        let collection = errors.check(
            self.collection
                .as_deref()
                .map(CollectionName::parse)
                .transpose(),
        );
        let vector = errors.check(
            self.vector
                .as_deref()
                .map(|v| Embedding::parse("vector", v))
                .transpose(),
        );
        let tags = errors.check(self.tags.map_or(Ok(Tags::default()), |t| Tags::parse(&t)));
        let source = errors.check(self.source.as_deref().map(EntrySource::parse).transpose());
        let limit = errors.check(
            self.limit
                .map_or(Ok(SearchLimit::default()), SearchLimit::parse),
        );
        let (Some(query), Some(collection), Some(vector), Some(tags), Some(source), Some(limit)) =
            (query, collection, vector, tags, source, limit)
        else {
            return Err(errors.into_error());
        };
        let mode = match (query, collection, vector) {
            (Some(query), None, None) => SearchMode::Text(query),
            (None, Some(collection), Some(vector)) => SearchMode::Vector { collection, vector },
            (Some(query), Some(collection), Some(vector)) => SearchMode::Hybrid {
                query,
                collection,
                vector,
            },
            (_, None, Some(_)) => {
                return Err(Invalid::from(DomainError::invalid(
                    "collection",
                    "must be given with vector",
                )));
            }
            (_, Some(_), None) => {
                return Err(Invalid::from(DomainError::invalid(
                    "vector",
                    "must be given with collection",
                )));
            }
            (None, None, None) => {
                return Err(Invalid::from(DomainError::invalid(
                    "query",
                    "give query (text), collection and vector (nearest vectors), or all three",
                )));
            }
        };
        Ok(KnowledgeSearch {
            mode,
            filter: KnowledgeFilter {
                tags,
                project_id: self.project_id,
                source,
            },
            limit,
        })
    }
}

// `POST /api/v1/knowledge/collections`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCollectionBody {
    /// Unique in the organization; vectors are given under it.
    pub name: String,
    /// How many numbers each vector of the collection has.
    #[schema(minimum = 1, maximum = 4096)]
    pub dimension: i64,
}

impl CreateCollectionBody {
    pub fn into_new_collection(self) -> Result<NewKnowledgeCollection, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(CollectionName::parse(&self.name).map_err(|e| e.for_field("name")));
        let dimension = errors.check(Dimension::parse(self.dimension));
        let (Some(name), Some(dimension)) = (name, dimension) else {
            return Err(errors.into_error());
        };
        Ok(NewKnowledgeCollection { name, dimension })
    }
}

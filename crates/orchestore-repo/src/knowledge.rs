//! The knowledge base: entries, their vectors in collections, and search by text, by vector
//! and by both.

use orchestore_domain::{
    CollectionName, Embedding, EntrySource, KnowledgeCollection, KnowledgeCollectionId,
    KnowledgeEntry, KnowledgeEntryId, KnowledgeEntryPatch, NewKnowledgeCollection,
    NewKnowledgeEntry, ProjectId, Revision, SearchLimit, Tags, TextQuery,
};
use serde::{Deserialize, Serialize};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the knowledge entry list.
    pub enum KnowledgeEntrySort for "knowledge_entries" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

crate::list_sort! {
    /// The orders of the collection list.
    pub enum KnowledgeCollectionSort for "knowledge_collections" {
        /// A to Z.
        Name = "name",
        /// Oldest first.
        CreatedAt = "created_at",
    }
}

/// Which entries a list or a search considers; `None` (or no tag) matches any. A search applies
/// it inside its query, before ranking, so a filtered search still returns its best `limit`.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeFilter {
    /// Entries having every one of these tags.
    pub tags: Tags,
    pub project_id: Option<ProjectId>,
    pub source: Option<EntrySource>,
}

/// How a search ranks.
#[derive(Debug, Clone)]
pub enum SearchMode {
    /// By relevance to the words (ranked by the backend's full-text ranker), with the matches
    /// highlighted.
    Text(TextQuery),
    /// By cosine similarity of the entries' vectors in `collection` to `vector` (exact: every
    /// vector of the collection that passes the filter is compared).
    Vector {
        collection: CollectionName,
        vector: Embedding,
    },
    /// Both, fused by reciprocal rank (k = 60) over each method's best
    /// [`KnowledgeSearch::HYBRID_CANDIDATES`].
    Hybrid {
        query: TextQuery,
        collection: CollectionName,
        vector: Embedding,
    },
}

/// A search of the knowledge base.
#[derive(Debug, Clone)]
pub struct KnowledgeSearch {
    pub mode: SearchMode,
    pub filter: KnowledgeFilter,
    pub limit: SearchLimit,
}

impl KnowledgeSearch {
    /// How many results of each method a hybrid search fuses.
    pub const HYBRID_CANDIDATES: usize = 100;
}

/// The matched words of an entry, HTML-escaped with each match in `<mark>`…`</mark>` (see
/// [`orchestore_domain::highlighted`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Highlight {
    /// The whole title.
    pub title: String,
    /// The passage of the content that matches best.
    pub snippet: String,
}

/// One result of a search, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KnowledgeHit {
    pub entry: KnowledgeEntry,
    /// What the results are ordered by: the text rank's score (higher is more relevant; its
    /// scale is the backend's), the cosine similarity, or the fused score.
    pub score: f64,
    /// The place (from 1) among the text matches, when the search ranked by text.
    pub text_rank: Option<u32>,
    /// The place (from 1) among the nearest vectors, when the search ranked by vector.
    pub vector_rank: Option<u32>,
    /// The cosine similarity, when the entry was ranked by vector.
    pub similarity: Option<f64>,
    /// The matches, when the entry matched the words.
    pub highlight: Option<Highlight>,
}

/// Entries and collections of the context's organization.
///
/// An entry goes with its project (deleting the project deletes them); a vector goes with its
/// entry and with its collection.
#[async_trait::async_trait]
pub trait KnowledgeRepo: Send + Sync {
    /// Writes an entry with its vectors. A project the organization does not have is a
    /// `Reference` on `project_id`, a collection it does not have one on `embeddings`, a vector
    /// of another dimension than its collection's an `Invalid` on `embeddings`.
    async fn create_knowledge_entry(
        &self,
        ctx: &Ctx,
        new: NewKnowledgeEntry,
    ) -> RepoResult<KnowledgeEntry>;
    async fn get_knowledge_entry(
        &self,
        ctx: &Ctx,
        id: KnowledgeEntryId,
    ) -> RepoResult<KnowledgeEntry>;
    async fn list_knowledge_entries(
        &self,
        ctx: &Ctx,
        filter: KnowledgeFilter,
        page: PageRequest<KnowledgeEntrySort>,
    ) -> RepoResult<Page<KnowledgeEntry, KnowledgeEntrySort>>;
    /// Changes the fields given, checked as at creation; the search index follows in the same
    /// transaction.
    async fn update_knowledge_entry(
        &self,
        ctx: &Ctx,
        id: KnowledgeEntryId,
        patch: KnowledgeEntryPatch,
        expected: Option<Revision>,
    ) -> RepoResult<KnowledgeEntry>;
    /// Deletes the entry with its vectors.
    async fn delete_knowledge_entry(
        &self,
        ctx: &Ctx,
        id: KnowledgeEntryId,
        expected: Option<Revision>,
    ) -> RepoResult<()>;
    /// The best `limit` entries for `search`, best first. A collection the organization does
    /// not have is a `Reference` on `collection`; a vector of another dimension an `Invalid` on
    /// `vector`.
    async fn search_knowledge(
        &self,
        ctx: &Ctx,
        search: KnowledgeSearch,
    ) -> RepoResult<Vec<KnowledgeHit>>;
    /// A taken name (per organization) is a `Conflict` on `name`.
    async fn create_knowledge_collection(
        &self,
        ctx: &Ctx,
        new: NewKnowledgeCollection,
    ) -> RepoResult<KnowledgeCollection>;
    async fn get_knowledge_collection(
        &self,
        ctx: &Ctx,
        id: KnowledgeCollectionId,
    ) -> RepoResult<KnowledgeCollection>;
    async fn list_knowledge_collections(
        &self,
        ctx: &Ctx,
        page: PageRequest<KnowledgeCollectionSort>,
    ) -> RepoResult<Page<KnowledgeCollection, KnowledgeCollectionSort>>;
    /// Deletes the collection and every vector in it (the entries stay; the audit row counts
    /// the vectors).
    async fn delete_knowledge_collection(
        &self,
        ctx: &Ctx,
        id: KnowledgeCollectionId,
    ) -> RepoResult<()>;
}

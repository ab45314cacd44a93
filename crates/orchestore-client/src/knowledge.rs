//! `/api/v1/knowledge`: entries, collections of vectors, and search.

use futures_util::Stream;
use orchestore_api::PageQuery;
use orchestore_api::knowledge::{
    CreateCollectionBody, CreateEntryBody, ListEntriesQuery, PatchEntryBody, SearchBody, SearchHits,
};
use orchestore_domain::{
    KnowledgeCollection, KnowledgeCollectionId, KnowledgeEntry, KnowledgeEntryId, Revision,
};
use orchestore_repo::{KnowledgeCollectionSort, KnowledgeEntrySort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /knowledge`: creates an entry, with its vectors.
    pub async fn create_knowledge_entry(&self, body: &CreateEntryBody) -> Result<KnowledgeEntry> {
        self.call(Method::POST, "/knowledge")
            .json(body)
            .send()
            .await
    }

    /// `GET /knowledge`: one page.
    pub async fn list_knowledge_entries(
        &self,
        query: &ListEntriesQuery,
    ) -> Result<Page<KnowledgeEntry, KnowledgeEntrySort>> {
        self.call(Method::GET, "/knowledge")
            .query(query)
            .send()
            .await
    }

    /// `GET /knowledge`: every entry from the page `query` names on.
    pub fn list_knowledge_entries_stream(
        &self,
        query: &ListEntriesQuery,
    ) -> impl Stream<Item = Result<KnowledgeEntry>> + Send + 'static {
        self.stream::<KnowledgeEntry, KnowledgeEntrySort>("/knowledge".to_owned(), query)
    }

    /// `GET /knowledge/{id}`.
    pub async fn get_knowledge_entry(&self, id: KnowledgeEntryId) -> Result<KnowledgeEntry> {
        self.call(Method::GET, format!("/knowledge/{id}"))
            .send()
            .await
    }

    /// `PATCH /knowledge/{id}`; with `if_match`, only when the entry is still at that
    /// revision (else a 412 problem).
    pub async fn update_knowledge_entry(
        &self,
        id: KnowledgeEntryId,
        body: &PatchEntryBody,
        if_match: Option<Revision>,
    ) -> Result<KnowledgeEntry> {
        self.call(Method::PATCH, format!("/knowledge/{id}"))
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `DELETE /knowledge/{id}`: the entry and its vectors.
    pub async fn delete_knowledge_entry(
        &self,
        id: KnowledgeEntryId,
        if_match: Option<Revision>,
    ) -> Result<()> {
        self.call(Method::DELETE, format!("/knowledge/{id}"))
            .if_match(if_match)
            .send_empty()
            .await
    }

    /// `POST /knowledge/search`: the hits, best first, by text, by vector or both.
    pub async fn search_knowledge(&self, body: &SearchBody) -> Result<SearchHits> {
        self.call(Method::POST, "/knowledge/search")
            .json(body)
            .send()
            .await
    }

    /// `POST /knowledge/collections`: creates a vector collection.
    pub async fn create_knowledge_collection(
        &self,
        body: &CreateCollectionBody,
    ) -> Result<KnowledgeCollection> {
        self.call(Method::POST, "/knowledge/collections")
            .json(body)
            .send()
            .await
    }

    /// `GET /knowledge/collections`: one page.
    pub async fn list_knowledge_collections(
        &self,
        query: &PageQuery,
    ) -> Result<Page<KnowledgeCollection, KnowledgeCollectionSort>> {
        self.call(Method::GET, "/knowledge/collections")
            .query(query)
            .send()
            .await
    }

    /// `GET /knowledge/collections`: every collection from the page `query` names on.
    pub fn list_knowledge_collections_stream(
        &self,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<KnowledgeCollection>> + Send + 'static {
        self.stream::<KnowledgeCollection, KnowledgeCollectionSort>(
            "/knowledge/collections".to_owned(),
            query,
        )
    }

    /// `GET /knowledge/collections/{id}`.
    pub async fn get_knowledge_collection(
        &self,
        id: KnowledgeCollectionId,
    ) -> Result<KnowledgeCollection> {
        self.call(Method::GET, format!("/knowledge/collections/{id}"))
            .send()
            .await
    }

    /// `DELETE /knowledge/collections/{id}`: the collection and every vector in it.
    pub async fn delete_knowledge_collection(&self, id: KnowledgeCollectionId) -> Result<()> {
        self.call(Method::DELETE, format!("/knowledge/collections/{id}"))
            .send_empty()
            .await
    }
}

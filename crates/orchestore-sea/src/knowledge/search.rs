//! Search: full text through each backend's index, exact cosine over a collection's vectors
//! in Rust, and their reciprocal rank fusion.
//!
//! The text ranking is the backend's: `bm25()` over FTS5 on SQLite (title weighted 10, content
//! 1), `ts_rank_cd` over the `search_vector` (title A, content B) on PostgreSQL. Both put an
//! entry that holds the words more often, and in its title, above one that holds them less;
//! they can differ where one entry holds rarer words and another more of them (`bm25` weighs
//! rarity, `ts_rank_cd` does not) and in the scale of `score`.

use std::collections::HashMap;

use orchestore_domain::{
    Embedding, HIGHLIGHT_END, HIGHLIGHT_START, KnowledgeEntryId, TextQuery, TopK,
    cosine_similarity, highlighted, reciprocal_rank_fusion,
};
use orchestore_repo::{
    Ctx, Highlight, KnowledgeFilter, KnowledgeHit, KnowledgeSearch, RepoError, RepoResult,
    SearchMode,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, QueryFilter, QueryResult, Statement, Value,
};
use uuid::Uuid;

use super::entity::knowledge_entries;
use crate::SeaStore;
use crate::direct::Planned;
use crate::error::{corrupt, db_err};
use crate::scoped::scoped;

/// How many vectors a vector search reads per query while it scans a collection: its memory
/// is this page and the `k` best, however large the collection.
const VECTOR_PAGE: u64 = 512;

/// An SQL statement being written, its values bound in the order they are written.
pub(crate) struct Sql {
    backend: DbBackend,
    pub(crate) text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Binds `value` here.
    pub(crate) fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        if self.backend == DbBackend::Postgres {
            let place = format!("${}", self.values.len());
            self.text.push_str(&place);
        } else {
            self.text.push('?');
        }
        self
    }

    /// The text and the values bound in it.
    pub(crate) fn into_parts(self) -> (String, Vec<Value>) {
        (self.text, self.values)
    }

    pub(crate) fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// `AND`s the conditions of `filter` on the entries aliased `e`.
fn push_filter(sql: &mut Sql, ctx: &Ctx, filter: &KnowledgeFilter, postgres: bool) {
    sql.push(" AND e.organization_id = ")
        .bind(ctx.org().as_uuid());
    if let Some(project) = filter.project_id {
        sql.push(" AND e.project_id = ").bind(project.as_uuid());
    }
    if let Some(source) = &filter.source {
        sql.push(" AND e.source = ").bind(source.as_str());
    }
    for tag in filter.tags.iter() {
        if postgres {
            sql.push(" AND e.tags @> ").bind(serde_json::json!([tag]));
        } else {
            sql.push(" AND EXISTS (SELECT 1 FROM json_each(e.tags) WHERE json_each.value = ")
                .bind(tag)
                .push(")");
        }
    }
}

/// The PostgreSQL `tsquery` of `query`: `plainto_tsquery` of its words and
/// `phraseto_tsquery` of each phrase, all required (`&&`), each text bound as a value.
pub(crate) fn push_tsquery(sql: &mut Sql, query: &TextQuery) {
    let mut first = true;
    let mut and = |sql: &mut Sql| {
        if !std::mem::take(&mut first) {
            sql.push(" && ");
        }
    };
    if let Some(words) = query.plain_words() {
        and(sql);
        sql.push("plainto_tsquery('english', ")
            .bind(words)
            .push(")");
    }
    for phrase in query.phrase_texts() {
        and(sql);
        sql.push("phraseto_tsquery('english', ")
            .bind(phrase)
            .push(")");
    }
}

/// `ts_headline`'s options: the highlight markers, and the whole text or a passage.
pub(crate) fn headline_options(whole: bool) -> String {
    let base = format!("StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}");
    if whole {
        format!("{base}, HighlightAll=true")
    } else {
        format!("{base}, MaxWords=35, MinWords=15")
    }
}

/// A text match: the entry, its score (higher is better) and its marked title and passage.
struct TextMatch {
    id: Uuid,
    score: f64,
    title: String,
    snippet: String,
}

impl SeaStore {
    /// Runs a full-text search statement. On PostgreSQL, outside a store transaction, it is
    /// planned with its words each time: a cached generic plan guesses how many rows match,
    /// and for a common word reads all of them through the index (`direct.rs`).
    pub(crate) async fn run_text_search(
        &self,
        db: &impl ConnectionTrait,
        sql: Sql,
    ) -> RepoResult<Vec<QueryResult>> {
        if self.is_postgres() && !self.inside_store_transaction() {
            let mut conn = self.postgres_connection().await?;
            let (text, values) = sql.into_parts();
            self.fetch_all_direct(&mut conn, &text, values, Planned::EachRun)
                .await
        } else {
            db.query_all_raw(sql.statement()).await.map_err(db_err)
        }
    }

    pub(super) async fn search(
        &self,
        ctx: &Ctx,
        search: KnowledgeSearch,
    ) -> RepoResult<Vec<KnowledgeHit>> {
        let db = self.db().await;
        let limit = search.limit.get();
        let (ranked, mut highlights) = match &search.mode {
            SearchMode::Text(query) => {
                let matches = self
                    .text_matches(&db, ctx, query, &search.filter, limit)
                    .await?;
                let ranked = matches
                    .iter()
                    .enumerate()
                    .map(|(index, m)| Ranked {
                        id: m.id,
                        score: m.score,
                        text_rank: Some(place(index)),
                        vector_rank: None,
                        similarity: None,
                    })
                    .collect();
                (ranked, highlights_of(matches))
            }
            SearchMode::Vector { collection, vector } => {
                let nearest = self
                    .nearest(&db, ctx, collection, vector, &search.filter, limit)
                    .await?;
                let ranked = nearest
                    .into_iter()
                    .enumerate()
                    .map(|(index, (id, similarity))| Ranked {
                        id,
                        score: similarity,
                        text_rank: None,
                        vector_rank: Some(place(index)),
                        similarity: Some(similarity),
                    })
                    .collect();
                (ranked, HashMap::new())
            }
            SearchMode::Hybrid {
                query,
                collection,
                vector,
            } => {
                let candidates = KnowledgeSearch::HYBRID_CANDIDATES;
                let nearest = self
                    .nearest(&db, ctx, collection, vector, &search.filter, candidates)
                    .await?;
                let matches = self
                    .text_matches(&db, ctx, query, &search.filter, candidates)
                    .await?;
                let text_ids: Vec<Uuid> = matches.iter().map(|m| m.id).collect();
                let vector_ids: Vec<Uuid> = nearest.iter().map(|(id, _)| *id).collect();
                let similarity: HashMap<Uuid, f64> = nearest.into_iter().collect();
                let ranked = reciprocal_rank_fusion(&text_ids, &vector_ids)
                    .into_iter()
                    .take(limit)
                    .map(|fused| Ranked {
                        id: fused.id,
                        score: fused.score,
                        text_rank: fused.text_rank,
                        vector_rank: fused.vector_rank,
                        similarity: similarity.get(&fused.id).copied(),
                    })
                    .collect();
                (ranked, highlights_of(matches))
            }
        };
        let ranked: Vec<Ranked> = ranked;
        let rows = scoped::<knowledge_entries::Entity>(ctx)
            .filter(knowledge_entries::Column::Id.is_in(ranked.iter().map(|r| r.id)))
            .all(&db)
            .await
            .map_err(db_err)?;
        let mut entries: HashMap<Uuid, _> = self
            .with_embeddings(&db, ctx, rows)
            .await?
            .into_iter()
            .map(|entry| (entry.id.as_uuid(), entry))
            .collect();
        // An entry deleted between the ranking and this read is left out.
        Ok(ranked
            .into_iter()
            .filter_map(|r| {
                let entry = entries.remove(&r.id)?;
                Some(KnowledgeHit {
                    entry,
                    score: r.score,
                    text_rank: r.text_rank,
                    vector_rank: r.vector_rank,
                    similarity: r.similarity,
                    highlight: highlights.remove(&r.id),
                })
            })
            .collect())
    }

    /// The best `limit` entries for `query`, best first (equal scores by id).
    async fn text_matches(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        query: &TextQuery,
        filter: &KnowledgeFilter,
        limit: usize,
    ) -> RepoResult<Vec<TextMatch>> {
        let postgres = self.is_postgres();
        let limit = i64::try_from(limit).map_err(RepoError::internal)?;
        let mut sql = Sql::new(db.get_database_backend());
        if postgres {
            sql.push("SELECT top.id, top.rank, ts_headline('english', top.title, top.query, ")
                .bind(headline_options(true))
                .push(") AS title_marked, ts_headline('english', top.content, top.query, ")
                .bind(headline_options(false))
                .push(
                    ") AS snippet_marked FROM (SELECT e.id, e.title, e.content, q.query, \
                     ts_rank_cd(e.search_vector, q.query)::float8 AS rank \
                     FROM knowledge_entries e, (SELECT ",
                );
            push_tsquery(&mut sql, query);
            sql.push(" AS query) q WHERE e.search_vector @@ q.query");
            push_filter(&mut sql, ctx, filter, true);
            sql.push(" ORDER BY rank DESC, e.id LIMIT ")
                .bind(limit)
                .push(") top ORDER BY top.rank DESC, top.id");
        } else {
            let marker = |sql: &mut Sql| {
                sql.bind(HIGHLIGHT_START.to_string())
                    .push(", ")
                    .bind(HIGHLIGHT_END.to_string());
            };
            sql.push("SELECT e.id AS id, -bm25(knowledge_fts, 10.0, 1.0) AS rank, highlight(knowledge_fts, 0, ");
            marker(&mut sql);
            sql.push(") AS title_marked, snippet(knowledge_fts, 1, ");
            marker(&mut sql);
            sql.push(
                ", '…', 32) AS snippet_marked FROM knowledge_fts \
                 JOIN knowledge_fts_keys k ON k.rowid = knowledge_fts.rowid \
                 JOIN knowledge_entries e ON e.organization_id = k.organization_id \
                 AND e.id = k.entry_id WHERE knowledge_fts MATCH ",
            )
            .bind(query.fts5_match());
            push_filter(&mut sql, ctx, filter, false);
            sql.push(" ORDER BY rank DESC, e.id LIMIT ").bind(limit);
        }
        let rows = self.run_text_search(db, sql).await?;
        rows.into_iter()
            .map(|row| {
                let bad = |e: sea_orm::DbErr| corrupt("knowledge search result", e);
                Ok(TextMatch {
                    id: row.try_get("", "id").map_err(bad)?,
                    score: row.try_get("", "rank").map_err(bad)?,
                    title: row.try_get("", "title_marked").map_err(bad)?,
                    snippet: row.try_get("", "snippet_marked").map_err(bad)?,
                })
            })
            .collect()
    }

    /// The `k` entries whose vectors in `collection` are nearest `vector` by cosine similarity,
    /// nearest first (equal similarities by id): every vector of the collection that passes the
    /// filter is compared, read a page at a time in entry order.
    async fn nearest(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        collection: &orchestore_domain::CollectionName,
        vector: &Embedding,
        filter: &KnowledgeFilter,
        k: usize,
    ) -> RepoResult<Vec<(Uuid, f64)>> {
        let collections = self
            .collections_named(db, ctx, std::iter::once(collection), "collection")
            .await?;
        let collection = &collections[collection];
        if vector.dimension() != collection.dimension.get() {
            return Err(RepoError::Invalid(orchestore_domain::DomainError::invalid(
                "vector",
                format!(
                    "has {} numbers, but the collection {} has dimension {}",
                    vector.dimension(),
                    collection.name,
                    collection.dimension.get()
                ),
            )));
        }
        let postgres = self.is_postgres();
        let page = i64::try_from(VECTOR_PAGE).map_err(RepoError::internal)?;
        let mut best = TopK::new(k);
        let mut after: Option<Uuid> = None;
        loop {
            let mut sql = Sql::new(db.get_database_backend());
            sql.push(
                "SELECT v.entry_id AS entry_id, v.vector AS vector FROM knowledge_embeddings v \
                 JOIN knowledge_entries e ON e.organization_id = v.organization_id \
                 AND e.id = v.entry_id WHERE v.organization_id = ",
            )
            .bind(ctx.org().as_uuid())
            .push(" AND v.collection_id = ")
            .bind(collection.id.as_uuid());
            if let Some(after) = after {
                sql.push(" AND v.entry_id > ").bind(after);
            }
            push_filter(&mut sql, ctx, filter, postgres);
            sql.push(" ORDER BY v.entry_id LIMIT ").bind(page);
            let rows = db.query_all_raw(sql.statement()).await.map_err(db_err)?;
            let read = rows.len();
            for row in rows {
                let bad = |e: sea_orm::DbErr| corrupt("knowledge_embedding", e);
                let entry: Uuid = row.try_get("", "entry_id").map_err(bad)?;
                let bytes: Vec<u8> = row.try_get("", "vector").map_err(bad)?;
                let stored = Embedding::from_bytes(&bytes)
                    .ok_or_else(|| corrupt("knowledge_embedding", "not a vector"))?;
                let similarity = cosine_similarity(vector.as_slice(), stored.as_slice())
                    .ok_or_else(|| {
                        corrupt("knowledge_embedding", "not of its collection's dimension")
                    })?;
                best.offer(KnowledgeEntryId::from_uuid(entry), similarity);
                after = Some(entry);
            }
            if read < VECTOR_PAGE as usize {
                break;
            }
        }
        Ok(best
            .into_sorted()
            .into_iter()
            .map(|(id, similarity)| (id.as_uuid(), similarity))
            .collect())
    }
}

/// One ranked result before its entry is read.
struct Ranked {
    id: Uuid,
    score: f64,
    text_rank: Option<u32>,
    vector_rank: Option<u32>,
    similarity: Option<f64>,
}

/// The place, from 1, of the result at `index`.
fn place(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

fn highlights_of(matches: Vec<TextMatch>) -> HashMap<Uuid, Highlight> {
    matches
        .into_iter()
        .map(|m| {
            (
                m.id,
                Highlight {
                    title: highlighted(&m.title),
                    snippet: highlighted(&m.snippet),
                },
            )
        })
        .collect()
}

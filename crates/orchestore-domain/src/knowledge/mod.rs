//! The knowledge base: entries of text an organization's agents and people write and search.
//!
//! An entry is searched by its words (full text, ranked by relevance, the matched words
//! highlighted), by a vector its client computed in a named collection of fixed dimension
//! (exact cosine similarity), or by both at once (reciprocal rank fusion). Orchestore computes
//! no embedding: it stores and compares the vectors it is given.

mod entry;
mod query;
mod vector;

pub use entry::{
    CollectionName, Dimension, EntryContent, EntrySource, EntryTitle, KnowledgeCollection,
    KnowledgeEntry, KnowledgeEntryPatch, NewKnowledgeCollection, NewKnowledgeEntry,
};
pub use query::{HIGHLIGHT_END, HIGHLIGHT_START, MARK_CLOSE, MARK_OPEN, TextQuery, highlighted};
pub use vector::{
    Embedding, Fused, RRF_K, SearchLimit, TopK, cosine_similarity, reciprocal_rank_fusion,
};

/// Whether `text` holds one of the two characters the search marks matches with (see
/// [`HIGHLIGHT_START`]), which stored text therefore may not hold.
fn has_highlight_marker(text: &str) -> bool {
    text.contains([HIGHLIGHT_START, HIGHLIGHT_END])
}

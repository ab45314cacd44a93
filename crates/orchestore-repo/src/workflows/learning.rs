//! Learning records: what agents learned, by pattern and context.

use orchestore_domain::{
    ContextFilter, LearningOutcome, LearningRecord, LearningRecordId, NewLearningRecord,
    PatternQuery,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the learning records.
    pub enum LearningSort for "learning_records" {
        /// The latest first.
        CreatedAtDesc = "-created_at",
        /// The oldest first.
        CreatedAt = "created_at",
        /// The highest score first, then the oldest.
        ScoreDesc = "-score",
    }
}

/// Which records a list returns; `None` matches any, and every field given must match.
#[derive(Debug, Clone, Default)]
pub struct LearningFilter {
    pub pattern: Option<PatternQuery>,
    /// The context holds each of the filter's top-level keys with an equal value.
    pub context: Option<ContextFilter>,
    pub outcome: Option<LearningOutcome>,
}

/// Learning records of the context's organization, written by agents and users (each names
/// who wrote it) and never changed. Writing one is audited (`learning_record.create`).
#[async_trait::async_trait]
pub trait LearningRepo: Send + Sync {
    async fn create_learning_record(
        &self,
        ctx: &Ctx,
        new: NewLearningRecord,
    ) -> RepoResult<LearningRecord>;
    async fn get_learning_record(
        &self,
        ctx: &Ctx,
        id: LearningRecordId,
    ) -> RepoResult<LearningRecord>;
    /// Records by pattern (exactly, or by prefix), context and outcome. The same records on
    /// both backends: patterns compare by code point, case included; a context value matches
    /// a string equal to it, a number numerically equal, or the same boolean.
    async fn list_learning_records(
        &self,
        ctx: &Ctx,
        filter: LearningFilter,
        page: PageRequest<LearningSort>,
    ) -> RepoResult<Page<LearningRecord, LearningSort>>;
}

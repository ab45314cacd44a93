//! Mentorships: pairings of a mentor and a mentee, the sessions they hold, a mentor's record.

use orchestore_domain::{
    MentorStats, Mentorship, MentorshipId, MentorshipSession, MentorshipStatus, NewMentorship,
    NewMentorshipSession, Participant,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the mentorships list.
    pub enum MentorshipSort for "mentorships" {
        /// Newest first.
        CreatedAtDesc = "-created_at",
        /// Oldest first.
        CreatedAt = "created_at",
    }
}

crate::list_sort! {
    /// The orders of a mentorship's sessions.
    pub enum MentorshipSessionSort for "mentorship_sessions" {
        /// The order they were recorded, oldest first.
        RecordedAt = "recorded_at",
        /// The latest recorded first.
        RecordedAtDesc = "-recorded_at",
    }
}

/// Which mentorships a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct MentorshipFilter {
    pub mentor: Option<Participant>,
    pub mentee: Option<Participant>,
    pub status: Option<MentorshipStatus>,
}

/// The mentorships of the context's organization.
#[async_trait::async_trait]
pub trait MentorshipRepo: Send + Sync {
    /// Proposes a mentorship. Mentor and mentee must exist in the organization, else a
    /// `Reference` error on `mentor` or `mentee`.
    async fn create_mentorship(&self, ctx: &Ctx, new: NewMentorship) -> RepoResult<Mentorship>;
    async fn get_mentorship(&self, ctx: &Ctx, id: MentorshipId) -> RepoResult<Mentorship>;
    async fn list_mentorships(
        &self,
        ctx: &Ctx,
        filter: MentorshipFilter,
        page: PageRequest<MentorshipSort>,
    ) -> RepoResult<Page<Mentorship, MentorshipSort>>;
    /// Moves a mentorship to `status` (see [`MentorshipStatus::can_become`]); any other move is
    /// a `Conflict`. The update is conditional on the statuses it may come from, so of two
    /// moves at once only one lands. At most one mentorship of a mentor and mentee is active:
    /// activating a second is a `Conflict` on `status` (a unique index of the active ones).
    async fn set_mentorship_status(
        &self,
        ctx: &Ctx,
        id: MentorshipId,
        status: MentorshipStatus,
    ) -> RepoResult<Mentorship>;
    /// Records a session of an active mentorship (any other is a `Conflict`), by the
    /// context's actor.
    async fn record_mentorship_session(
        &self,
        ctx: &Ctx,
        id: MentorshipId,
        new: NewMentorshipSession,
    ) -> RepoResult<MentorshipSession>;
    async fn list_mentorship_sessions(
        &self,
        ctx: &Ctx,
        id: MentorshipId,
        page: PageRequest<MentorshipSessionSort>,
    ) -> RepoResult<Page<MentorshipSession, MentorshipSessionSort>>;
    /// The mentor's mentorships by status, their sessions and minutes, and the mean latest
    /// progress of its mentees. A mentor the organization does not have is `NotFound`.
    async fn mentor_stats(&self, ctx: &Ctx, mentor: Participant) -> RepoResult<MentorStats>;
}

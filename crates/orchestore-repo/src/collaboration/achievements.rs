//! Achievements: what an organization can award, what each holder earned, and the summary of
//! a holder.

use orchestore_domain::{
    Achievement, AchievementDefinition, AchievementDefinitionId, HolderSummary, NewAchievement,
    NewAchievementDefinition, Participant,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the achievement definitions.
    pub enum AchievementDefinitionSort for "achievement_definitions" {
        /// The first defined first.
        CreatedAt = "created_at",
        /// The latest defined first.
        CreatedAtDesc = "-created_at",
    }
}

#[async_trait::async_trait]
pub trait AchievementRepo: Send + Sync {
    /// Defines an achievement. A code the organization has already is a `Conflict` on
    /// `code`, and nothing is written.
    async fn create_achievement_definition(
        &self,
        ctx: &Ctx,
        new: NewAchievementDefinition,
    ) -> RepoResult<AchievementDefinition>;
    async fn get_achievement_definition(
        &self,
        ctx: &Ctx,
        id: AchievementDefinitionId,
    ) -> RepoResult<AchievementDefinition>;
    async fn list_achievement_definitions(
        &self,
        ctx: &Ctx,
        page: PageRequest<AchievementDefinitionSort>,
    ) -> RepoResult<Page<AchievementDefinition, AchievementDefinitionSort>>;
    /// Awards an achievement to a holder, with its points as a ledger entry (source
    /// `achievement`) and on the holder's standing, all in one transaction. A holder has each
    /// achievement at most once (a unique key in the database): a second award is a
    /// `Conflict`, and nothing is written. The definition and the holder must exist in the
    /// organization, else a `Reference` error on `definition_id` or `holder`.
    async fn award_achievement(&self, ctx: &Ctx, new: NewAchievement) -> RepoResult<Achievement>;
    /// The holder's standing, achievements (oldest first) and, for an agent, reputation now,
    /// read in one transaction. A holder the organization does not have is `NotFound`.
    async fn holder_summary(&self, ctx: &Ctx, holder: Participant) -> RepoResult<HolderSummary>;
}

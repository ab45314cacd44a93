//! Schedules: cron patterns that enqueue a task or start a workflow execution, each occurrence
//! once however many servers fire them.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    NewSchedule, OrganizationId, Revision, Schedule, ScheduleFiring, ScheduleId, SchedulePatch,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the schedule list.
    pub enum ScheduleSort for "schedules" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// Which schedules a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct ScheduleFilter {
    pub enabled: Option<bool>,
}

/// The schedules of the context's organization. Names are unique per organization, compared as
/// project names are.
///
/// Each occurrence fires once: firing is one transaction that moves `next_run_at` from the due
/// occurrence on (`UPDATE … WHERE next_run_at = <due>`: of two firers, the second changes no row
/// and writes nothing) and creates the task, under the idempotency key
/// `schedule:<id>:<occurrence>`, or the execution, with the audit rows.
#[async_trait::async_trait]
pub trait ScheduleRepo: Send + Sync {
    /// Creates a schedule; its first occurrence is the first at or after `starts_at` (now when
    /// absent). A taken name is a `Conflict` on `name`; a project or workflow the organization
    /// does not have is a `Reference` error on `project_id` or `workflow_id`.
    async fn create_schedule(&self, ctx: &Ctx, new: NewSchedule) -> RepoResult<Schedule>;
    async fn get_schedule(&self, ctx: &Ctx, id: ScheduleId) -> RepoResult<Schedule>;
    async fn list_schedules(
        &self,
        ctx: &Ctx,
        filter: ScheduleFilter,
        page: PageRequest<ScheduleSort>,
    ) -> RepoResult<Page<Schedule, ScheduleSort>>;
    /// Changes a schedule. A new pattern or time zone, or enabling a paused schedule, moves
    /// `next_run_at` to the first occurrence after now; disabling clears it.
    async fn update_schedule(
        &self,
        ctx: &Ctx,
        id: ScheduleId,
        patch: SchedulePatch,
        expected: Option<Revision>,
    ) -> RepoResult<Schedule>;
    async fn delete_schedule(
        &self,
        ctx: &Ctx,
        id: ScheduleId,
        expected: Option<Revision>,
    ) -> RepoResult<()>;
    /// Stops a schedule firing (`next_run_at` cleared); pausing a paused one changes nothing.
    async fn pause_schedule(&self, ctx: &Ctx, id: ScheduleId) -> RepoResult<Schedule>;
    /// Lets a paused schedule fire again from the first occurrence after now: the occurrences
    /// that passed while it was paused are not fired. Resuming an enabled one changes nothing.
    async fn resume_schedule(&self, ctx: &Ctx, id: ScheduleId) -> RepoResult<Schedule>;
    /// Fires the organization's enabled schedules due at `now` (`next_run_at` at or before
    /// it), at most `limit`, earliest due first, each in its own transaction: the latest due
    /// occurrence fires as its misfire policy says, `next_run_at` moves to the first
    /// occurrence after `now`. Returns what this call did; a schedule another firer moved
    /// first is left out. A target that refuses the occurrence (a workflow without a version)
    /// is recorded as the schedule's `last_outcome` and the schedule moves on. A schedule that
    /// cannot be fired at all (a database error) is logged and left due for the next call
    /// while the others fire; the call fails only when none of the due ones could be fired.
    async fn fire_due_schedules(
        &self,
        ctx: &Ctx,
        now: DateTime<Utc>,
        limit: u32,
    ) -> RepoResult<Vec<ScheduleFiring>>;
    /// Instance-wide, for the server's periodic sweep: organizations with an enabled schedule
    /// due at `now`, at most `limit` of them.
    async fn organizations_with_due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>>;
}

//! Projects and their tasks.

use orchestore_domain::{
    NewProject, NewTask, Project, ProjectId, ProjectPatch, Task, TaskId, TaskPatch, TaskStatus,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the project list.
    pub enum ProjectSort for "projects" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// Projects of the context's organization. Names are unique per organization, compared
/// case-insensitively after Unicode normalization.
#[async_trait::async_trait]
pub trait ProjectRepo: Send + Sync {
    async fn create_project(&self, ctx: &Ctx, new: NewProject) -> RepoResult<Project>;
    async fn get_project(&self, ctx: &Ctx, id: ProjectId) -> RepoResult<Project>;
    async fn list_projects(
        &self,
        ctx: &Ctx,
        page: PageRequest<ProjectSort>,
    ) -> RepoResult<Page<Project, ProjectSort>>;
    async fn update_project(
        &self,
        ctx: &Ctx,
        id: ProjectId,
        patch: ProjectPatch,
    ) -> RepoResult<Project>;
    /// Deletes the project and, with it, its tasks and their messages (the audit row counts
    /// them).
    async fn delete_project(&self, ctx: &Ctx, id: ProjectId) -> RepoResult<()>;
}

crate::list_sort! {
    /// The orders of the task list.
    pub enum TaskSort for "tasks" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
        /// Highest priority first, then oldest.
        PriorityDesc = "-priority",
    }
}

/// Which tasks a list returns; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub project_id: Option<ProjectId>,
    pub status: Option<TaskStatus>,
}

/// Tasks of the context's organization.
#[async_trait::async_trait]
pub trait TaskRepo: Send + Sync {
    /// Creates a queued task. A project of another organization is a `Reference` error on
    /// `project_id`.
    async fn create_task(&self, ctx: &Ctx, new: NewTask) -> RepoResult<Task>;
    async fn get_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<Task>;
    async fn list_tasks(
        &self,
        ctx: &Ctx,
        filter: TaskFilter,
        page: PageRequest<TaskSort>,
    ) -> RepoResult<Page<Task, TaskSort>>;
    async fn update_task(&self, ctx: &Ctx, id: TaskId, patch: TaskPatch) -> RepoResult<Task>;
    /// Deletes the task and the messages about it (the audit row counts them).
    async fn delete_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<()>;
}

//! Projects, their tasks, the queue that runs them, and the tasks' graph: dependencies, history
//! and statistics.

mod fairness;
mod queue;
mod rate_limits;
mod schedules;

pub use fairness::SharedQueueRepo;
pub use queue::{CancelledDescendants, ExpiredLeases, QueueRepo, Retry, TaskCancellation};
pub use rate_limits::{RateLimitRepo, RateLimitSort};
pub use schedules::{ScheduleFilter, ScheduleRepo, ScheduleSort};

use orchestore_domain::{
    AgentId, ImportReport, NewProject, NewTask, Project, ProjectId, ProjectPatch, Revision, Tags,
    Task, TaskEvent, TaskId, TaskImport, TaskPatch, TaskStats, TaskStatus,
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
        expected: Option<Revision>,
    ) -> RepoResult<Project>;
    /// Deletes the project and, with it, its tasks and their messages (the audit row counts
    /// them). A project with a task of a running workflow execution is a `Conflict` naming
    /// the execution.
    async fn delete_project(
        &self,
        ctx: &Ctx,
        id: ProjectId,
        expected: Option<Revision>,
    ) -> RepoResult<()>;
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

/// Which tasks a list returns; `None` (or no tag) matches any.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub project_id: Option<ProjectId>,
    pub status: Option<TaskStatus>,
    pub assigned_agent_id: Option<AgentId>,
    /// The subtasks of this task.
    pub parent_id: Option<TaskId>,
    /// Tasks having every one of these tags (and maybe more).
    pub tags: Tags,
}

/// Tasks of the context's organization. Every status change, the creation included, appends
/// to the task's history ([`TaskGraphRepo::list_task_events`]) in the same transaction.
#[async_trait::async_trait]
pub trait TaskRepo: Send + Sync {
    /// Creates a task: `queued`, or `blocked` when one of `depends_on` has not succeeded. A
    /// project, parent, agent or dependency this organization does not have is a `Reference`
    /// error naming the field (`project_id`, `parent_id`, `assigned_agent_id`, `depends_on`);
    /// a parent of another project is `Invalid`; a cancelled dependency, which can never
    /// succeed, a `Conflict`; an `idempotency_key` already used in the organization is a
    /// `Conflict` on that field naming the first task. To have the first task back instead,
    /// enqueue it ([`QueueRepo::enqueue_task`]), which this call is made of: the same checks,
    /// the same rows.
    async fn create_task(&self, ctx: &Ctx, new: NewTask) -> RepoResult<Task>;
    async fn get_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<Task>;
    async fn list_tasks(
        &self,
        ctx: &Ctx,
        filter: TaskFilter,
        page: PageRequest<TaskSort>,
    ) -> RepoResult<Page<Task, TaskSort>>;
    /// Changes the fields the patch sets (see [`TaskPatch`]). A parent that would make the
    /// task its own ancestor is [`DomainError::Cycle`](orchestore_domain::DomainError) on
    /// `parent_id`; queueing a blocked task whose dependencies have not all succeeded is a
    /// `Conflict`. What a new status does to the tasks waiting for this one follows in the
    /// same transaction: `succeeded` queues those whose dependencies have now all succeeded;
    /// `failed` or `cancelled` cancels the blocked ones, and theirs, transitively; the
    /// workflow execution the task is a step of follows as
    /// [`WorkflowRepo::create_execution`](crate::WorkflowRepo::create_execution) says, and
    /// queueing the failed task of a step again is a `Conflict`, as
    /// [`QueueRepo::retry_task`](crate::QueueRepo::retry_task) says.
    async fn update_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        patch: TaskPatch,
        expected: Option<Revision>,
    ) -> RepoResult<Task>;
    /// Deletes the task with its dependency edges, its history and the messages about it (the
    /// audit row lists and counts them). A
    /// task with subtasks is a `Conflict` saying how many, and so is the task of a step of a
    /// running workflow execution; the blocked tasks that waited only for it are queued.
    async fn delete_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        expected: Option<Revision>,
    ) -> RepoResult<()>;
    /// Writes a task list kept elsewhere into the project named `import.project` (created when
    /// the organization has none of that name; `import.settings` merged into its settings, objects key by key), in
    /// one transaction with one `project.import` audit row, all or nothing. An import that
    /// [`TaskImport::check`] refuses is `Invalid` (a dependency cycle is
    /// [`DomainError::Cycle`](orchestore_domain::DomainError) naming the keys).
    ///
    /// Each task is known by its key within the project: a key met for the first time creates a
    /// task, a known one updates that task in place (title, description, priority, metadata,
    /// tags, parent, status and dependencies as the list says), so importing the same list twice
    /// changes nothing the second time. Tasks are written in their final status (see
    /// [`ImportedStatus`](orchestore_domain::ImportedStatus)), each status change with a history
    /// event `imported from <source>`. A task that is running, or that has succeeded or been
    /// cancelled (or failed, when the list has it still open) and would change, is skipped with
    /// the reason. A task an earlier import under one of `import.scopes` created that the list
    /// no longer has is reported in `missing`, not deleted. A task of the list moved to
    /// `succeeded` queues the blocked tasks outside the list that waited only for it. On a dry
    /// run, the report is worked out the same way and nothing is written.
    async fn import_tasks(&self, ctx: &Ctx, import: TaskImport) -> RepoResult<ImportReport>;
}

crate::list_sort! {
    /// The orders of a task's dependencies (the tasks it waits for).
    pub enum DependencySort for "task_dependencies" {
        /// Oldest task first.
        CreatedAt = "created_at",
        /// Newest task first.
        CreatedAtDesc = "-created_at",
    }
}

crate::list_sort! {
    /// The orders of a task's dependents (the tasks waiting for it).
    pub enum DependentSort for "task_dependents" {
        /// Oldest task first.
        CreatedAt = "created_at",
        /// Newest task first.
        CreatedAtDesc = "-created_at",
    }
}

crate::list_sort! {
    /// The orders of a task's history.
    pub enum TaskEventSort for "task_events" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// Which tasks [`TaskGraphRepo::task_stats`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatsScope {
    Organization,
    Project(ProjectId),
}

/// The graph of the context's organization's tasks: which task waits for which, each task's
/// state history, and statistics.
///
/// Dependencies form a directed acyclic graph within one organization. A task whose
/// dependencies have not all succeeded is `blocked`.
#[async_trait::async_trait]
pub trait TaskGraphRepo: Send + Sync {
    /// Makes `task` wait for `depends_on` and returns `task` as it is then: a queued task
    /// becomes `blocked` when `depends_on` has not succeeded. Only a blocked or queued task may
    /// gain a dependency (`Conflict` otherwise), and not on a cancelled task (`Conflict`: it
    /// would wait forever). A `depends_on` this organization does not have is a `Reference`
    /// error on `depends_on`; an edge already there is a `Conflict` on `depends_on`; an edge
    /// that closes a cycle is [`DomainError::Cycle`](orchestore_domain::DomainError) on
    /// `depends_on`, naming the cycle. The check reads the edges reachable from `depends_on`
    /// in one recursive query: its cost grows with that part of the graph only.
    async fn add_dependency(&self, ctx: &Ctx, task: TaskId, depends_on: TaskId)
    -> RepoResult<Task>;
    /// Removes the edge and returns `task` as it is then: a blocked task whose remaining
    /// dependencies have all succeeded is queued. No such edge is `NotFound`.
    async fn remove_dependency(
        &self,
        ctx: &Ctx,
        task: TaskId,
        depends_on: TaskId,
    ) -> RepoResult<Task>;
    /// The tasks `task` waits for.
    async fn list_dependencies(
        &self,
        ctx: &Ctx,
        task: TaskId,
        page: PageRequest<DependencySort>,
    ) -> RepoResult<Page<Task, DependencySort>>;
    /// The tasks waiting for `task`.
    async fn list_dependents(
        &self,
        ctx: &Ctx,
        task: TaskId,
        page: PageRequest<DependentSort>,
    ) -> RepoResult<Page<Task, DependentSort>>;
    /// The task's status changes, its creation first.
    async fn list_task_events(
        &self,
        ctx: &Ctx,
        task: TaskId,
        page: PageRequest<TaskEventSort>,
    ) -> RepoResult<Page<TaskEvent, TaskEventSort>>;
    /// Counts by status and by priority, and the run times of the most recently finished
    /// tasks (see [`RunTimeStats`](orchestore_domain::RunTimeStats)). A project this
    /// organization does not have is `NotFound`.
    async fn task_stats(&self, ctx: &Ctx, scope: TaskStatsScope) -> RepoResult<TaskStats>;
}

use std::collections::BTreeSet;

use chrono::SubsecRound;

use orchestore_domain::{
    AgentId, Capabilities, Description, DomainError, Effort, IdempotencyKey, ImportReport,
    MaxAttempts, Metadata, NewTask, OrganizationId, Payload, Priority, Progress, ProjectId,
    Revision, Tags, Task, TaskId, TaskImport, TaskPatch, TaskStatus, Title, check_new_edge,
};
use orchestore_repo::{
    Ctx, Cursor, Page, PageRequest, QueueRepo, RepoError, RepoResult, TaskFilter, TaskRepo,
    TaskSort,
};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, JoinType, Query, UnionType, WithClause,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::bodies::BodyKind;
use super::entity::{task_dependencies, task_events, tasks};
use super::transitions::Moved;
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::error::{corrupt, db_err};
use crate::messaging::{about_task, count_messages};
use crate::mutation::{Mutation, Verb, diff, snapshot};
use crate::revision::{Revised, delete_revised, expect_revision, to_revision, update_revised};
use crate::scoped::{Keyset, Lock, keyset_page, scoped, string_array};
use crate::tenancy::entity::organizations;

/// How many ids of a deleted task's edges its audit row lists.
const AUDITED_IDS: u64 = 1000;

pub(crate) fn to_task(row: tasks::Model) -> RepoResult<Task> {
    let bad = |e: String| corrupt("task", e);
    let domain = |e: DomainError| corrupt("task", e);
    let capabilities = string_array(&row.required_capabilities)
        .ok_or_else(|| bad("required_capabilities is not an array of strings".into()))?;
    let tags =
        string_array(&row.tags).ok_or_else(|| bad("tags is not an array of strings".into()))?;
    let concurrency = super::concurrency::task_concurrency(&row)?;
    let fairness = super::fairness_keys::task_fairness(&row)?;
    Ok(Task {
        id: TaskId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        project_id: ProjectId::from_uuid(row.project_id),
        parent_id: row.parent_id.map(TaskId::from_uuid),
        title: Title::parse(&row.title).map_err(domain)?,
        description: Description::parse("description", &row.description).map_err(domain)?,
        status: row.status.parse().map_err(domain)?,
        priority: Priority::parse(i64::from(row.priority)).map_err(domain)?,
        payload: Payload::parse(row.payload).map_err(domain)?,
        required_capabilities: Capabilities::parse(&capabilities).map_err(domain)?,
        metadata: Metadata::parse("metadata", row.metadata).map_err(domain)?,
        assigned_agent_id: row.assigned_agent_id.map(AgentId::from_uuid),
        estimated_minutes: row
            .estimated_minutes
            .map(|m| Effort::parse(i64::from(m)))
            .transpose()
            .map_err(domain)?,
        progress: Progress::parse(i64::from(row.progress)).map_err(domain)?,
        tags: Tags::parse(&tags).map_err(domain)?,
        attempts: u32::try_from(row.attempts).map_err(|e| bad(e.to_string()))?,
        max_attempts: MaxAttempts::parse(i64::from(row.max_attempts)).map_err(domain)?,
        run_after: row.run_after,
        rate_limits: super::rate_limits::uses_of(&row.rate_limits)?,
        idempotency_key: row
            .idempotency_key
            .as_deref()
            .map(IdempotencyKey::parse)
            .transpose()
            .map_err(domain)?,
        concurrency,
        fairness,
        result: row.result.map(Payload::parse).transpose().map_err(domain)?,
        error: row.error.map(Payload::parse).transpose().map_err(domain)?,
        payload_bytes: row
            .payload_bytes
            .map(u64::try_from)
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        result_bytes: row
            .result_bytes
            .map(u64::try_from)
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        lease_expires_at: row.lease_expires_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
        revision: to_revision("task", row.revision)?,
    })
}

pub(crate) fn tags_value(tags: &Tags) -> serde_json::Value {
    json!(tags.to_strings())
}

fn key_taken(key: &IdempotencyKey, task: TaskId) -> RepoError {
    RepoError::taken(
        "task",
        "idempotency_key",
        format!("task {task} was created with idempotency key {key:?}"),
    )
}

impl SeaStore {
    /// Serializes the changes of the organization's task graph that must see every edge to
    /// stay acyclic: two edges added at once could each pass the check and close a cycle
    /// together. PostgreSQL `FOR NO KEY UPDATE` on the organization's row, which foreign-key
    /// checks do not wait for; SQLite's write transactions are serial already. Taken before
    /// any task row, so that two graph changes cannot deadlock.
    pub(crate) async fn lock_task_graph(&self, m: &Mutation<'_>) -> RepoResult<()> {
        if self.is_postgres() {
            organizations::Entity::find_by_id(m.ctx().org().as_uuid())
                .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
                .one(m.txn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    /// The agent `id` of the organization, or a reference error on `field`.
    pub(crate) async fn agent_for(
        &self,
        m: &Mutation<'_>,
        field: &'static str,
        id: AgentId,
    ) -> RepoResult<agents::Model> {
        self.find_scoped::<agents::Entity>(m.txn(), m.ctx(), id, Lock::None)
            .await
            .map_err(|e| match e {
                RepoError::NotFound { .. } => RepoError::reference(field, "agent", id),
                other => other,
            })
    }

    /// Checks that `parent` is a task of the organization in `project`, and that it is not
    /// `task` itself or one of its subtasks (walking up from `parent` in one recursive query;
    /// the caller holds the graph lock). A new task's parent is checked by its enqueue.
    async fn check_parent(
        &self,
        m: &Mutation<'_>,
        task: TaskId,
        parent: TaskId,
        project: ProjectId,
    ) -> RepoResult<()> {
        let row = self
            .find_scoped::<tasks::Entity>(m.txn(), m.ctx(), parent, Lock::None)
            .await
            .map_err(|e| match e {
                RepoError::NotFound { .. } => RepoError::reference("parent_id", "task", parent),
                other => other,
            })?;
        if row.project_id != project.as_uuid() {
            return Err(DomainError::invalid(
                "parent_id",
                format!(
                    "task {parent} is in project {}: a subtask belongs to its parent's project",
                    row.project_id
                ),
            )
            .into());
        }
        // WITH RECURSIVE up(id, parent) AS (SELECT id, parent_id FROM tasks WHERE id = parent
        // UNION SELECT t.id, t.parent_id FROM tasks t JOIN up ON t.id = up.parent) …
        let (up, id, up_parent) = (Alias::new("up"), Alias::new("id"), Alias::new("parent"));
        let org = m.ctx().org().as_uuid();
        let mut base = Query::select()
            .columns([tasks::Column::Id, tasks::Column::ParentId])
            .from(tasks::Entity)
            .and_where(tasks::Column::OrganizationId.eq(org))
            .and_where(tasks::Column::Id.eq(parent.as_uuid()))
            .to_owned();
        let step = Query::select()
            .columns([
                (tasks::Entity, tasks::Column::Id),
                (tasks::Entity, tasks::Column::ParentId),
            ])
            .from(tasks::Entity)
            .join(
                JoinType::InnerJoin,
                up.clone(),
                Expr::col((up.clone(), up_parent.clone()))
                    .equals((tasks::Entity, tasks::Column::Id)),
            )
            .and_where(Expr::col((tasks::Entity, tasks::Column::OrganizationId)).eq(org))
            .to_owned();
        let cte = CommonTableExpression::new()
            .query(base.union(UnionType::Distinct, step).to_owned())
            .columns([id.clone(), up_parent.clone()])
            .table_name(up.clone())
            .to_owned();
        let query = Query::select()
            .columns([id, up_parent])
            .from(up)
            .to_owned()
            .with(WithClause::new().recursive(true).cte(cte).to_owned());
        let mut ancestry = Vec::new();
        for row in m.txn().query_all(&query).await.map_err(db_err)? {
            let child: Uuid = row.try_get("", "id").map_err(db_err)?;
            let above: Option<Uuid> = row.try_get("", "parent").map_err(db_err)?;
            if let Some(above) = above {
                ancestry.push((TaskId::from_uuid(child), TaskId::from_uuid(above)));
            }
        }
        check_new_edge("parent_id", ancestry, &task, &parent)?;
        Ok(())
    }

    /// Checks that every one of `depends_on` is a task of the organization that may still
    /// succeed (marked as depended on, see [`SeaStore::mark_depended_on`]), and returns those
    /// that have not succeeded yet.
    pub(crate) async fn open_among(
        &self,
        m: &Mutation<'_>,
        depends_on: &BTreeSet<TaskId>,
    ) -> RepoResult<Vec<TaskId>> {
        let ids: BTreeSet<Uuid> = depends_on.iter().map(TaskId::as_uuid).collect();
        let found = self.mark_depended_on(m, &ids).await?;
        if let Some(missing) = ids.iter().find(|id| !found.contains_key(id)) {
            return Err(RepoError::reference("depends_on", "task", missing));
        }
        let mut open = Vec::new();
        for id in ids {
            match found.get(&id) {
                Some(TaskStatus::Succeeded) => {}
                Some(TaskStatus::Cancelled) => {
                    return Err(RepoError::conflict(
                        "task",
                        format!("dependency {id} is cancelled: it will never succeed"),
                    ));
                }
                _ => open.push(TaskId::from_uuid(id)),
            }
        }
        Ok(open)
    }

    /// Counts a run of the agent that ended in `status` after `millis`.
    pub(crate) async fn count_run(
        &self,
        m: &Mutation<'_>,
        agent: AgentId,
        status: TaskStatus,
        millis: i64,
    ) -> RepoResult<()> {
        let counter = match status {
            TaskStatus::Succeeded => agents::Column::TasksCompleted,
            TaskStatus::Failed => agents::Column::TasksFailed,
            _ => return Ok(()),
        };
        agents::Entity::update_many()
            .col_expr(counter, Expr::col(counter).add(1))
            .col_expr(
                agents::Column::TotalTaskMillis,
                Expr::col(agents::Column::TotalTaskMillis).add(Ord::max(millis, 0)),
            )
            .col_expr(agents::Column::Revision, agents::Entity::next_revision())
            .filter(agents::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
            .filter(agents::Column::Id.eq(agent.as_uuid()))
            .exec(m.txn())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl TaskRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), project = %new.project_id))]
    async fn create_task(&self, ctx: &Ctx, new: NewTask) -> RepoResult<Task> {
        // An enqueue of one task, which answers the first task with the key instead.
        let key = new.idempotency_key.clone();
        let enqueued = self.enqueue_task(ctx, new).await?;
        match key {
            Some(key) if !enqueued.created => Err(key_taken(&key, enqueued.task.id)),
            _ => Ok(enqueued.task),
        }
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn get_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<Task> {
        let db = self.db().await;
        let mut row = self
            .find_scoped::<tasks::Entity>(&db, ctx, id, Lock::None)
            .await?;
        self.with_bodies(&db, ctx.org().as_uuid(), [&mut row])
            .await?;
        to_task(row)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_tasks(
        &self,
        ctx: &Ctx,
        filter: TaskFilter,
        page: PageRequest<TaskSort>,
    ) -> RepoResult<Page<Task, TaskSort>> {
        let sort = page.sort();
        let rows = self
            .task_list_query(ctx, &filter, &page)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let tasks = rows
            .into_iter()
            .map(to_task)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(tasks, &page, |t| match sort {
            TaskSort::PriorityDesc => Cursor::after_key(sort, i64::from(t.priority.get()), t.id),
            _ => Cursor::after(sort, t.id),
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn update_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        patch: TaskPatch,
        expected: Option<Revision>,
    ) -> RepoResult<Task> {
        self.mutate(ctx, async |m| {
            if let Some(Some(_)) = patch.parent_id {
                // Before the task's row, as every change of the graph takes them.
                self.lock_task_graph(m).await?;
            }
            let row = self
                .find_scoped::<tasks::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<tasks::Entity>(id, read, expected)?;
            let before = to_task(row.clone())?;
            // A status equal to the current one is no change: dropped, so that it writes
            // nothing and no empty audit row.
            let patch = patch.normalised(before.status)?;
            if patch.is_empty() {
                return Ok(before);
            }
            if let Some(Some(parent)) = patch.parent_id {
                self.check_parent(m, id, parent, before.project_id).await?;
            }
            if let Some(Some(agent)) = patch.assigned_agent_id {
                self.agent_for(m, "assigned_agent_id", agent).await?;
            }
            if before.status == TaskStatus::Failed && patch.status == Some(TaskStatus::Queued) {
                self.refuse_rerunning_a_step(m, id).await?;
            }
            if before.status == TaskStatus::Blocked && patch.status == Some(TaskStatus::Queued) {
                let waiting = self.still_waiting(m.txn(), ctx, &[id.as_uuid()]).await?;
                if !waiting.is_empty() {
                    return Err(RepoError::conflict(
                        "task",
                        "the task waits for dependencies that have not succeeded: it is \
                         queued when they have",
                    ));
                }
            }
            let row_claim_assigned = row.claim_assigned;
            let mut update = row.into_active_model();
            if let Some(title) = patch.title {
                update.title = Set(title.into_string());
            }
            if let Some(description) = patch.description {
                update.description = Set(description.into_string());
            }
            if let Some(status) = patch.status {
                update.status = Set(status.as_str().to_owned());
                if before.status == TaskStatus::Running {
                    // Its worker's token stops working: the run is over.
                    update.lease_token = Set(None);
                    update.lease_expires_at = Set(None);
                }
                if before.status == TaskStatus::Failed && status == TaskStatus::Queued {
                    // A retry by hand starts a fresh series of attempts; the history keeps
                    // the earlier ones.
                    update.attempts = Set(0);
                    if row_claim_assigned {
                        update.assigned_agent_id = Set(None);
                        update.claim_assigned = Set(false);
                    }
                }
                if status.ends_a_run() {
                    update.finished_at = Set(Some(m.at()));
                } else if status == TaskStatus::Queued {
                    update.finished_at = Set(None);
                    m.queued_work(1);
                }
            }
            if let Some(priority) = patch.priority {
                update.priority = Set(priority.get());
            }
            if let Some(payload) = patch.payload {
                let had_body = before.payload_bytes.is_some();
                let (inline, bytes) = self
                    .place_body(
                        m,
                        id.as_uuid(),
                        BodyKind::Payload,
                        Some(payload.into_value()),
                        had_body,
                    )
                    .await?;
                update.payload = Set(inline.unwrap_or_default());
                update.payload_bytes = Set(bytes);
            }
            if let Some(capabilities) = patch.required_capabilities {
                update.required_capabilities = Set(json!(capabilities.to_strings()));
            }
            if let Some(metadata) = patch.metadata {
                update.metadata = Set(metadata.to_value());
            }
            if let Some(parent) = patch.parent_id {
                update.parent_id = Set(parent.map(|p| p.as_uuid()));
            }
            if let Some(agent) = patch.assigned_agent_id {
                update.assigned_agent_id = Set(agent.map(|a| a.as_uuid()));
                update.claim_assigned = Set(false);
            }
            if let Some(estimate) = patch.estimated_minutes {
                update.estimated_minutes = Set(estimate.map(|e| e.minutes() as i32));
            }
            if let Some(progress) = patch.progress {
                update.progress = Set(i16::from(progress.get()));
            }
            if let Some(tags) = &patch.tags {
                update.tags = Set(tags_value(tags));
            }
            if let Some(max_attempts) = patch.max_attempts {
                update.max_attempts = Set(max_attempts.get() as i32);
            }
            if let Some(run_after) = patch.run_after {
                update.run_after = Set(run_after.map(|t| t.trunc_subsecs(6)));
            }
            update.updated_at = Set(m.at());
            let after =
                to_task(update_revised(m.txn(), id, update, read, expected, db_err).await?)?;
            let mut changes = diff(&before, &after);
            let verb = if before.status == after.status {
                Verb::Update
            } else {
                self.record_events(
                    m,
                    &[Moved {
                        task: id.as_uuid(),
                        from: Some(before.status),
                        to: after.status,
                        reason: "updated".to_owned(),
                    }],
                )
                .await?;
                if before.status == TaskStatus::Running
                    && let (Some(agent), Some(started)) =
                        (before.assigned_agent_id, before.started_at)
                {
                    let millis = (m.at() - started).num_milliseconds();
                    self.count_run(m, agent, after.status, millis).await?;
                }
                self.follow(m, &[(id.as_uuid(), after.status)])
                    .await?
                    .annotate(&mut changes);
                Verb::Status(after.status.as_str())
            };
            m.audit::<tasks::Entity>(verb, id, changes).await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn delete_task(
        &self,
        ctx: &Ctx,
        id: TaskId,
        expected: Option<Revision>,
    ) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<tasks::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<tasks::Entity>(id, read, expected)?;
            let task = to_task(row)?;
            let subtasks = scoped::<tasks::Entity>(ctx)
                .filter(tasks::Column::ParentId.eq(id.as_uuid()))
                .count(m.txn())
                .await
                .map_err(db_err)?;
            if subtasks > 0 {
                return Err(RepoError::conflict(
                    "task",
                    format!(
                        "the task has {subtasks} subtask(s): delete them or give them another \
                         parent first"
                    ),
                ));
            }
            self.refuse_deleting_running_steps(
                m,
                "task",
                Condition::all().add(tasks::Column::Id.eq(id.as_uuid())),
            )
            .await?;
            let edges = |column: task_dependencies::Column| {
                task_dependencies::Entity::find()
                    .filter(task_dependencies::Column::OrganizationId.eq(ctx.org().as_uuid()))
                    .filter(column.eq(id.as_uuid()))
            };
            let dependencies: Vec<Uuid> = edges(task_dependencies::Column::TaskId)
                .select_only()
                .column(task_dependencies::Column::DependsOnId)
                .order_by_asc(task_dependencies::Column::DependsOnId)
                .limit(AUDITED_IDS)
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            let dependents = self.dependents_of(m.txn(), ctx, id.as_uuid()).await?;
            let events = scoped::<task_events::Entity>(ctx)
                .filter(task_events::Column::TaskId.eq(id.as_uuid()))
                .count(m.txn())
                .await
                .map_err(db_err)?;
            // Its edges, history and messages go with it (ON DELETE CASCADE).
            let deleted_message_count = count_messages(m.txn(), ctx, about_task(id)).await?;
            delete_revised::<tasks::Entity>(m.txn(), ctx, id, read, expected).await?;
            // A task that waited only for this one waits no more.
            let released = self
                .release_ready(m, &dependents, |_| format!("dependency {id} was deleted"))
                .await?;
            let mut changes = snapshot(&task);
            if let Some(object) = changes.as_object_mut() {
                object.insert("dependencies".into(), json!(dependencies));
                object.insert(
                    "dependents".into(),
                    json!(
                        dependents
                            .iter()
                            .take(AUDITED_IDS as usize)
                            .collect::<Vec<_>>()
                    ),
                );
                object.insert("deleted_event_count".into(), events.into());
                object.insert("deleted_message_count".into(), deleted_message_count.into());
            }
            super::transitions::Followed {
                released,
                cancelled: Vec::new(),
            }
            .annotate(&mut changes);
            m.audit::<tasks::Entity>(Verb::Delete, id, changes).await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), tasks = import.tasks.len()))]
    async fn import_tasks(&self, ctx: &Ctx, import: TaskImport) -> RepoResult<ImportReport> {
        self.import(ctx, import).await
    }
}

impl SeaStore {
    /// The statement of [`list_tasks`](TaskRepo::list_tasks): the organization's tasks matching
    /// `filter`, one page in `page`'s order.
    fn task_list_query(
        &self,
        ctx: &Ctx,
        filter: &TaskFilter,
        page: &PageRequest<TaskSort>,
    ) -> RepoResult<Select<tasks::Entity>> {
        let mut query = scoped::<tasks::Entity>(ctx);
        if let Some(project) = filter.project_id {
            query = query.filter(tasks::Column::ProjectId.eq(project.as_uuid()));
        }
        if let Some(status) = filter.status {
            query = query.filter(tasks::Column::Status.eq(status.as_str()));
        }
        if let Some(agent) = filter.assigned_agent_id {
            query = query.filter(tasks::Column::AssignedAgentId.eq(agent.as_uuid()));
        }
        if let Some(parent) = filter.parent_id {
            query = query.filter(tasks::Column::ParentId.eq(parent.as_uuid()));
        }
        if self.is_postgres() && !filter.tags.is_empty() {
            // The tag index covers only tagged tasks (migration 000054), and the planner uses a
            // partial index only for a query that states its predicate.
            query = query.filter(Expr::cust(r#""tasks"."tags" <> '[]'::jsonb"#));
        }
        for tag in filter.tags.iter() {
            // JSON containment: the backends differ.
            query = query.filter(if self.is_postgres() {
                Expr::cust_with_values(r#""tasks"."tags" @> $1"#, [json!([tag])])
            } else {
                Expr::cust_with_values(
                    r#"EXISTS (SELECT 1 FROM json_each("tasks"."tags") WHERE json_each.value = ?)"#,
                    [tag],
                )
            });
        }
        let keyset = match page.sort() {
            TaskSort::CreatedAt => Keyset::OldestFirst,
            TaskSort::CreatedAtDesc => Keyset::NewestFirst,
            TaskSort::PriorityDesc => Keyset::IntDesc(tasks::Column::Priority),
        };
        keyset_page(query, page, keyset)
    }

    /// The plan the database makes for [`list_tasks`](TaskRepo::list_tasks) with `filter` (PostgreSQL
    /// `EXPLAIN`, SQLite `EXPLAIN QUERY PLAN`): to check which index a filter reads.
    pub async fn explain_list_tasks(
        &self,
        ctx: &Ctx,
        filter: &TaskFilter,
        page: &PageRequest<TaskSort>,
    ) -> RepoResult<String> {
        let backend = self.db().await.get_database_backend();
        let statement = self.task_list_query(ctx, filter, page)?.build(backend);
        self.explain_raw(statement).await
    }
}

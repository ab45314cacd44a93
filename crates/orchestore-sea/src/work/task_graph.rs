use orchestore_domain::{
    OrganizationId, Priority, PriorityCount, RunTimeStats, Task, TaskEvent, TaskEventId, TaskId,
    TaskStats, TaskStatus, check_new_edge,
};
use orchestore_repo::{
    Ctx, Cursor, DependencySort, DependentSort, Page, PageRequest, RepoError, RepoResult,
    TaskEventSort, TaskGraphRepo, TaskStatsScope,
};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, JoinType, Query, SelectStatement, UnionType,
    WithClause,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, Statement,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::{projects, task_dependencies, task_events, tasks};
use super::tasks::to_task;
use super::transitions::Moved;
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Mutation, Verb};
use crate::revision::update_revised;
use crate::scoped::{Keyset, Lock, keyset_page, scoped};

fn to_event(row: task_events::Model) -> RepoResult<TaskEvent> {
    let status = |raw: &str| {
        raw.parse::<TaskStatus>()
            .map_err(|e| corrupt("task_event", e))
    };
    Ok(TaskEvent {
        id: TaskEventId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        task_id: TaskId::from_uuid(row.task_id),
        from_status: row.from_status.as_deref().map(status).transpose()?,
        to_status: status(&row.to_status)?,
        actor: row.actor,
        reason: row.reason,
        created_at: row.created_at,
    })
}

/// The three statements of the statistics, each scoped to the organization (and project) and
/// answered from an index that leads with the organization: counts by status
/// (`idx_tasks_organization_status_id`), counts by priority
/// (`idx_tasks_organization_priority_id`), and the run times of the last
/// [`RunTimeStats::WINDOW`] finished tasks, newest first (`idx_tasks_organization_finished_at`
/// or `idx_tasks_organization_project_finished_at`). A project's counts read its tasks through
/// `idx_tasks_organization_project_id`.
fn stats_statements(ctx: &Ctx, scope: TaskStatsScope) -> [SelectStatement; 3] {
    let scoped_to = |select: &mut SelectStatement| {
        select.and_where(tasks::Column::OrganizationId.eq(ctx.org().as_uuid()));
        if let TaskStatsScope::Project(project) = scope {
            select.and_where(tasks::Column::ProjectId.eq(project.as_uuid()));
        }
    };
    let count_by = |column: tasks::Column| {
        let mut select = Query::select()
            .column(column)
            .expr_as(
                Expr::col(sea_orm::sea_query::Asterisk).count(),
                Alias::new("n"),
            )
            .from(tasks::Entity)
            .group_by_col(column)
            .to_owned();
        scoped_to(&mut select);
        select
    };
    let mut run_times = Query::select()
        .columns([tasks::Column::StartedAt, tasks::Column::FinishedAt])
        .from(tasks::Entity)
        .to_owned();
    scoped_to(&mut run_times);
    run_times
        .and_where(tasks::Column::FinishedAt.is_not_null())
        .and_where(tasks::Column::StartedAt.is_not_null())
        .order_by(tasks::Column::FinishedAt, sea_orm::Order::Desc)
        .limit(u64::from(RunTimeStats::WINDOW));
    [
        count_by(tasks::Column::Status),
        count_by(tasks::Column::Priority),
        run_times,
    ]
}

impl SeaStore {
    /// The plans the database makes for the statements of
    /// [`task_stats`](TaskGraphRepo::task_stats), one text per statement (PostgreSQL `EXPLAIN`,
    /// SQLite `EXPLAIN QUERY PLAN`): to check that they read indexes, not the whole table.
    pub async fn explain_task_stats(
        &self,
        ctx: &Ctx,
        scope: TaskStatsScope,
    ) -> RepoResult<Vec<String>> {
        self.explain(stats_statements(ctx, scope)).await
    }

    /// The plans of `statements`, one text each (PostgreSQL `EXPLAIN`, SQLite `EXPLAIN QUERY
    /// PLAN`).
    pub(crate) async fn explain(
        &self,
        statements: impl IntoIterator<Item = SelectStatement>,
    ) -> RepoResult<Vec<String>> {
        let db = self.db().await;
        let backend = db.get_database_backend();
        let (prefix, column) = if self.is_postgres() {
            ("EXPLAIN ", "QUERY PLAN")
        } else {
            ("EXPLAIN QUERY PLAN ", "detail")
        };
        let mut plans = Vec::new();
        for select in statements {
            let statement = backend.build(&select);
            let explain = Statement {
                sql: format!("{prefix}{}", statement.sql),
                ..statement
            };
            let mut lines = Vec::new();
            for row in db.query_all_raw(explain).await.map_err(db_err)? {
                lines.push(row.try_get::<String>("", column).map_err(db_err)?);
            }
            plans.push(lines.join("\n"));
        }
        Ok(plans)
    }

    /// Every edge reachable from `from` along dependencies, in one recursive query:
    /// `WITH RECURSIVE reach(id) AS (SELECT from UNION SELECT d.depends_on_id FROM
    /// task_dependencies d JOIN reach ON d.task_id = reach.id) SELECT the edges leaving reach`.
    async fn edges_reachable_from(
        &self,
        m: &Mutation<'_>,
        from: TaskId,
    ) -> RepoResult<Vec<(TaskId, TaskId)>> {
        let org = m.ctx().org().as_uuid();
        let (reach, id) = (Alias::new("reach"), Alias::new("id"));
        let mut base = Query::select().expr(Expr::val(from.as_uuid())).to_owned();
        let step = Query::select()
            .column((
                task_dependencies::Entity,
                task_dependencies::Column::DependsOnId,
            ))
            .from(task_dependencies::Entity)
            .join(
                JoinType::InnerJoin,
                reach.clone(),
                Expr::col((reach.clone(), id.clone()))
                    .equals((task_dependencies::Entity, task_dependencies::Column::TaskId)),
            )
            .and_where(
                Expr::col((
                    task_dependencies::Entity,
                    task_dependencies::Column::OrganizationId,
                ))
                .eq(org),
            )
            .to_owned();
        let cte = CommonTableExpression::new()
            .query(base.union(UnionType::Distinct, step).to_owned())
            .column(id.clone())
            .table_name(reach.clone())
            .to_owned();
        let query = Query::select()
            .columns([
                task_dependencies::Column::TaskId,
                task_dependencies::Column::DependsOnId,
            ])
            .from(task_dependencies::Entity)
            .and_where(task_dependencies::Column::OrganizationId.eq(org))
            .and_where(
                task_dependencies::Column::TaskId
                    .in_subquery(Query::select().column(id).from(reach).to_owned()),
            )
            .to_owned()
            .with(WithClause::new().recursive(true).cte(cte).to_owned());
        let mut edges = Vec::new();
        for row in m.txn().query_all(&query).await.map_err(db_err)? {
            let task: Uuid = row.try_get("", "task_id").map_err(db_err)?;
            let dependency: Uuid = row.try_get("", "depends_on_id").map_err(db_err)?;
            edges.push((TaskId::from_uuid(task), TaskId::from_uuid(dependency)));
        }
        Ok(edges)
    }

    /// The edge `task → depends_on` of the organization, if there is one.
    fn edge(
        ctx: &Ctx,
        task: TaskId,
        depends_on: TaskId,
    ) -> sea_orm::Select<task_dependencies::Entity> {
        task_dependencies::Entity::find()
            .filter(task_dependencies::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(task_dependencies::Column::TaskId.eq(task.as_uuid()))
            .filter(task_dependencies::Column::DependsOnId.eq(depends_on.as_uuid()))
    }

    /// One page of the tasks across `task`'s edges: those at `other_end` of the edges that
    /// have `task` at `this_end`.
    async fn tasks_across<S: orchestore_repo::ListSort>(
        &self,
        ctx: &Ctx,
        task: TaskId,
        other_end: task_dependencies::Column,
        this_end: task_dependencies::Column,
        page: PageRequest<S>,
        keyset: Keyset<tasks::Column>,
    ) -> RepoResult<Page<Task, S>> {
        let db = self.db().await;
        self.find_scoped::<tasks::Entity>(&db, ctx, task, Lock::None)
            .await?;
        let ends = Query::select()
            .column(other_end)
            .from(task_dependencies::Entity)
            .and_where(task_dependencies::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .and_where(this_end.eq(task.as_uuid()))
            .to_owned();
        let query = scoped::<tasks::Entity>(ctx).filter(tasks::Column::Id.in_subquery(ends));
        let rows = keyset_page(query, &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let tasks = rows
            .into_iter()
            .map(to_task)
            .collect::<RepoResult<Vec<_>>>()?;
        let sort = page.sort();
        Ok(Page::from_rows(tasks, &page, |t| Cursor::after(sort, t.id)))
    }
}

#[async_trait::async_trait]
impl TaskGraphRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %task, depends_on = %depends_on))]
    async fn add_dependency(
        &self,
        ctx: &Ctx,
        task: TaskId,
        depends_on: TaskId,
    ) -> RepoResult<Task> {
        self.mutate(ctx, async |m| {
            // The graph lock first, then the rows: every graph change takes them in this order.
            self.lock_task_graph(m).await?;
            let row = self
                .find_scoped::<tasks::Entity>(m.txn(), ctx, task, Lock::ForUpdate)
                .await?;
            let before = to_task(row.clone())?;
            if task == depends_on {
                check_new_edge("depends_on", [], &task, &depends_on)?;
            }
            if !matches!(before.status, TaskStatus::Blocked | TaskStatus::Queued) {
                return Err(RepoError::conflict(
                    "task",
                    format!(
                        "the task is {}: only a blocked or queued task can gain a dependency",
                        before.status
                    ),
                ));
            }
            let open = self
                .open_among(m, &[depends_on].into_iter().collect())
                .await?;
            if Self::edge(ctx, task, depends_on)
                .one(m.txn())
                .await
                .map_err(db_err)?
                .is_some()
            {
                return Err(RepoError::taken(
                    "task",
                    "depends_on",
                    format!("task {task} already depends on task {depends_on}"),
                ));
            }
            let reachable = self.edges_reachable_from(m, depends_on).await?;
            check_new_edge("depends_on", reachable, &task, &depends_on)?;
            task_dependencies::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                task_id: Set(task.as_uuid()),
                depends_on_id: Set(depends_on.as_uuid()),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let mut changes = json!({ "depends_on": depends_on });
            let after = if before.status == TaskStatus::Queued && !open.is_empty() {
                let read = row.revision;
                let mut update = sea_orm::IntoActiveModel::into_active_model(row);
                update.status = Set(TaskStatus::Blocked.as_str().to_owned());
                update.updated_at = Set(m.at());
                let after =
                    to_task(update_revised(m.txn(), task, update, read, None, db_err).await?)?;
                self.record_events(
                    m,
                    &[Moved {
                        task: task.as_uuid(),
                        from: Some(before.status),
                        to: after.status,
                        reason: format!("dependency {depends_on} added"),
                    }],
                )
                .await?;
                changes["status"] = json!({ "from": before.status, "to": after.status });
                after
            } else {
                before
            };
            m.audit::<tasks::Entity>(Verb::Named("dependency.add"), task, changes)
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %task, depends_on = %depends_on))]
    async fn remove_dependency(
        &self,
        ctx: &Ctx,
        task: TaskId,
        depends_on: TaskId,
    ) -> RepoResult<Task> {
        self.mutate(ctx, async |m| {
            self.find_scoped::<tasks::Entity>(m.txn(), ctx, task, Lock::ForUpdate)
                .await?;
            let removed = task_dependencies::Entity::delete_many()
                .filter(task_dependencies::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(task_dependencies::Column::TaskId.eq(task.as_uuid()))
                .filter(task_dependencies::Column::DependsOnId.eq(depends_on.as_uuid()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            if removed.rows_affected == 0 {
                return Err(RepoError::not_found(
                    "task_dependency",
                    format!("{task} → {depends_on}"),
                ));
            }
            let released = self
                .release_ready(m, &[task.as_uuid()].into_iter().collect(), |_| {
                    format!("dependency {depends_on} removed")
                })
                .await?;
            let mut changes = json!({ "depends_on": depends_on });
            if !released.is_empty() {
                changes["status"] =
                    json!({ "from": TaskStatus::Blocked, "to": TaskStatus::Queued });
            }
            m.audit::<tasks::Entity>(Verb::Named("dependency.remove"), task, changes)
                .await?;
            self.find_scoped::<tasks::Entity>(m.txn(), ctx, task, Lock::None)
                .await
                .and_then(to_task)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %task))]
    async fn list_dependencies(
        &self,
        ctx: &Ctx,
        task: TaskId,
        page: PageRequest<DependencySort>,
    ) -> RepoResult<Page<Task, DependencySort>> {
        let keyset = match page.sort() {
            DependencySort::CreatedAt => Keyset::OldestFirst,
            DependencySort::CreatedAtDesc => Keyset::NewestFirst,
        };
        self.tasks_across(
            ctx,
            task,
            task_dependencies::Column::DependsOnId,
            task_dependencies::Column::TaskId,
            page,
            keyset,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %task))]
    async fn list_dependents(
        &self,
        ctx: &Ctx,
        task: TaskId,
        page: PageRequest<DependentSort>,
    ) -> RepoResult<Page<Task, DependentSort>> {
        let keyset = match page.sort() {
            DependentSort::CreatedAt => Keyset::OldestFirst,
            DependentSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        self.tasks_across(
            ctx,
            task,
            task_dependencies::Column::TaskId,
            task_dependencies::Column::DependsOnId,
            page,
            keyset,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %task))]
    async fn list_task_events(
        &self,
        ctx: &Ctx,
        task: TaskId,
        page: PageRequest<TaskEventSort>,
    ) -> RepoResult<Page<TaskEvent, TaskEventSort>> {
        let db = self.db().await;
        self.find_scoped::<tasks::Entity>(&db, ctx, task, Lock::None)
            .await?;
        let keyset = match page.sort() {
            TaskEventSort::CreatedAt => Keyset::OldestFirst,
            TaskEventSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let query = scoped::<task_events::Entity>(ctx)
            .filter(task_events::Column::TaskId.eq(task.as_uuid()));
        let rows = keyset_page(query, &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let events = rows
            .into_iter()
            .map(to_event)
            .collect::<RepoResult<Vec<_>>>()?;
        let sort = page.sort();
        Ok(Page::from_rows(events, &page, |e| {
            Cursor::after(sort, e.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn task_stats(&self, ctx: &Ctx, scope: TaskStatsScope) -> RepoResult<TaskStats> {
        let db = self.db().await;
        if let TaskStatsScope::Project(project) = scope {
            self.find_scoped::<projects::Entity>(&db, ctx, project, Lock::None)
                .await?;
        }
        let [by_status, by_priority, run_times] = stats_statements(ctx, scope);
        let mut statuses = Vec::new();
        for row in db.query_all(&by_status).await.map_err(db_err)? {
            let status: String = row.try_get("", "status").map_err(db_err)?;
            let n: i64 = row.try_get("", "n").map_err(db_err)?;
            let status = status.parse().map_err(|e| corrupt("task", e))?;
            statuses.push((status, u64::try_from(n).map_err(|e| corrupt("task", e))?));
        }
        let mut priorities = Vec::new();
        for row in db.query_all(&by_priority).await.map_err(db_err)? {
            let priority: i32 = row.try_get("", "priority").map_err(db_err)?;
            let n: i64 = row.try_get("", "n").map_err(db_err)?;
            priorities.push(PriorityCount {
                priority: Priority::parse(i64::from(priority)).map_err(|e| corrupt("task", e))?,
                count: u64::try_from(n).map_err(|e| corrupt("task", e))?,
            });
        }
        let mut durations = Vec::new();
        for row in db.query_all(&run_times).await.map_err(db_err)? {
            let started: chrono::DateTime<chrono::Utc> =
                row.try_get("", "started_at").map_err(db_err)?;
            let finished: chrono::DateTime<chrono::Utc> =
                row.try_get("", "finished_at").map_err(db_err)?;
            durations.push((finished - started).num_milliseconds());
        }
        Ok(TaskStats::new(
            statuses,
            priorities,
            RunTimeStats::from_millis(durations),
        ))
    }
}

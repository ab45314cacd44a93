use std::collections::BTreeSet;

use orchestore_domain::{
    Description, DomainError, ExecutionStatus, ExecutionTask, Name, NewWorkflow,
    NewWorkflowExecution, OrganizationId, Payload, Revision, StepName, TaskId, TaskStatus,
    Workflow, WorkflowDefinition, WorkflowExecution, WorkflowExecutionId, WorkflowId,
    WorkflowPatch, WorkflowVersion, WorkflowVersionId,
};
use orchestore_repo::{
    Ctx, Cursor, ExecutionFilter, ExecutionSort, ExecutionTaskSort, Page, PageRequest, RepoError,
    RepoResult, WorkflowRepo, WorkflowSort, WorkflowVersionSort,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::{workflow_execution_tasks, workflow_executions, workflow_versions, workflows};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_foreign_key_violation, is_unique_violation};
use crate::mutation::{Mutation, Verb, diff, snapshot};
use crate::revision::{delete_revised, expect_revision, to_revision, update_revised};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};
use crate::work::entity::tasks;
use crate::work::to_task;

/// A stored version number: 1 or more.
pub(crate) fn version_number(value: i32) -> Result<u32, String> {
    u32::try_from(value)
        .ok()
        .filter(|number| *number >= 1)
        .ok_or_else(|| format!("version {value} is not a positive number"))
}

fn to_workflow(row: workflows::Model) -> RepoResult<Workflow> {
    let bad = |e: String| corrupt("workflow", e);
    Ok(Workflow {
        id: WorkflowId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        name: Name::parse("name", &row.name).map_err(|e| bad(e.to_string()))?,
        description: Description::parse("description", &row.description)
            .map_err(|e| bad(e.to_string()))?,
        latest_version: row
            .latest_version
            .map(version_number)
            .transpose()
            .map_err(bad)?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        revision: to_revision("workflow", row.revision)?,
    })
}

fn to_version(row: workflow_versions::Model) -> RepoResult<WorkflowVersion> {
    let bad = |e: String| corrupt("workflow_version", e);
    Ok(WorkflowVersion {
        id: WorkflowVersionId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        workflow_id: WorkflowId::from_uuid(row.workflow_id),
        version: version_number(row.version).map_err(bad)?,
        definition: WorkflowDefinition::parse(row.definition).map_err(|e| bad(e.to_string()))?,
        created_at: row.created_at,
    })
}

pub(super) fn to_execution(row: workflow_executions::Model) -> RepoResult<WorkflowExecution> {
    let bad = |e: String| corrupt("workflow_execution", e);
    let payload = |value: serde_json::Value| Payload::parse(value).map_err(|e| bad(e.to_string()));
    Ok(WorkflowExecution {
        id: WorkflowExecutionId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        workflow_id: WorkflowId::from_uuid(row.workflow_id),
        version_id: WorkflowVersionId::from_uuid(row.version_id),
        version: version_number(row.version).map_err(bad)?,
        status: row
            .status
            .parse()
            .map_err(|e: DomainError| bad(e.to_string()))?,
        input: payload(row.input)?,
        output: row.output.map(payload).transpose()?,
        error: row.error.map(payload).transpose()?,
        parent_task_id: row.parent_task_id.map(TaskId::from_uuid),
        started_at: row.started_at,
        finished_at: row.finished_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
        revision: to_revision("workflow_execution", row.revision)?,
    })
}

fn name_taken(name: &Name) -> RepoError {
    RepoError::taken(
        "workflow",
        "name",
        format!("a workflow named {name:?} already exists (names compare ignoring case)"),
    )
}

/// The versions of `workflow` in the context's organization.
fn versions_of(ctx: &Ctx, workflow: WorkflowId) -> sea_orm::Select<workflow_versions::Entity> {
    scoped::<workflow_versions::Entity>(ctx)
        .filter(workflow_versions::Column::WorkflowId.eq(workflow.as_uuid()))
}

impl SeaStore {
    /// Version number `version` of `workflow`, or `None`.
    async fn find_version(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        workflow: WorkflowId,
        version: u32,
    ) -> RepoResult<Option<workflow_versions::Model>> {
        // A number beyond what the column holds names no version.
        let Ok(stored) = i32::try_from(version) else {
            return Ok(None);
        };
        versions_of(ctx, workflow)
            .filter(workflow_versions::Column::Version.eq(stored))
            .one(db)
            .await
            .map_err(db_err)
    }
}

#[async_trait::async_trait]
impl WorkflowRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_workflow(&self, ctx: &Ctx, new: NewWorkflow) -> RepoResult<Workflow> {
        self.mutate(ctx, async |m| {
            let row = workflows::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(WorkflowId::new().as_uuid()),
                name: Set(new.name.as_str().to_owned()),
                name_key: Set(new.name.key()),
                description: Set(new.description.as_str().to_owned()),
                latest_version: Set(None),
                created_at: Set(m.at()),
                updated_at: Set(m.at()),
                revision: Set(Revision::FIRST.get()),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    name_taken(&new.name)
                } else {
                    db_err(e)
                }
            })?;
            let workflow = to_workflow(row)?;
            m.audit::<workflows::Entity>(Verb::Create, workflow.id, snapshot(&workflow))
                .await?;
            Ok(workflow)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), workflow = %id))]
    async fn get_workflow(&self, ctx: &Ctx, id: WorkflowId) -> RepoResult<Workflow> {
        self.find_scoped::<workflows::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_workflow)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_workflows(
        &self,
        ctx: &Ctx,
        page: PageRequest<WorkflowSort>,
    ) -> RepoResult<Page<Workflow, WorkflowSort>> {
        let keyset = match page.sort() {
            WorkflowSort::CreatedAt => Keyset::OldestFirst,
            WorkflowSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(scoped::<workflows::Entity>(ctx), &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let workflows = rows
            .into_iter()
            .map(to_workflow)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(workflows, &page, |w| {
            Cursor::after(page.sort(), w.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), workflow = %id))]
    async fn update_workflow(
        &self,
        ctx: &Ctx,
        id: WorkflowId,
        patch: WorkflowPatch,
        expected: Option<Revision>,
    ) -> RepoResult<Workflow> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<workflows::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<workflows::Entity>(id, read, expected)?;
            let before = to_workflow(row.clone())?;
            if patch.is_empty() {
                return Ok(before);
            }
            let mut update = row.into_active_model();
            if let Some(name) = &patch.name {
                update.name = Set(name.as_str().to_owned());
                update.name_key = Set(name.key());
            }
            if let Some(description) = &patch.description {
                update.description = Set(description.as_str().to_owned());
            }
            update.updated_at = Set(m.at());
            let row = update_revised(m.txn(), id, update, read, expected, |e| {
                match (&patch.name, is_unique_violation(&e)) {
                    (Some(name), true) => name_taken(name),
                    _ => db_err(e),
                }
            })
            .await?;
            let after = to_workflow(row)?;
            m.audit::<workflows::Entity>(Verb::Update, id, diff(&before, &after))
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), workflow = %id))]
    async fn delete_workflow(
        &self,
        ctx: &Ctx,
        id: WorkflowId,
        expected: Option<Revision>,
    ) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            // Locked, so that no execution starts between the count and the delete.
            let row = self
                .find_scoped::<workflows::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<workflows::Entity>(id, read, expected)?;
            let workflow = to_workflow(row)?;
            let executions = scoped::<workflow_executions::Entity>(ctx)
                .filter(workflow_executions::Column::WorkflowId.eq(id.as_uuid()))
                .count(m.txn())
                .await
                .map_err(db_err)?;
            if executions > 0 {
                return Err(RepoError::conflict(
                    "workflow",
                    format!(
                        "workflow {:?} has {executions} execution(s), which record what ran: \
                         it cannot be deleted while they exist",
                        workflow.name.as_str()
                    ),
                ));
            }
            // Its versions go with it (ON DELETE CASCADE); the audit row counts them.
            let deleted_version_count =
                versions_of(ctx, id).count(m.txn()).await.map_err(db_err)?;
            delete_revised::<workflows::Entity>(m.txn(), ctx, id, read, expected).await?;
            let mut changes = snapshot(&workflow);
            if let Some(object) = changes.as_object_mut() {
                object.insert("deleted_version_count".into(), deleted_version_count.into());
            }
            m.audit::<workflows::Entity>(Verb::Delete, id, changes)
                .await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), workflow = %workflow))]
    async fn create_version(
        &self,
        ctx: &Ctx,
        workflow: WorkflowId,
        definition: WorkflowDefinition,
    ) -> RepoResult<WorkflowVersion> {
        self.mutate(ctx, async |m| {
            // The lock (PostgreSQL `FOR UPDATE`; SQLite's write transaction) makes concurrent
            // calls take their numbers one after the other.
            let row = self
                .find_scoped::<workflows::Entity>(m.txn(), ctx, workflow, Lock::ForUpdate)
                .await?;
            let number = to_workflow(row.clone())?.next_version();
            let stored = i32::try_from(number).map_err(|_| {
                RepoError::conflict("workflow", "the workflow has no version number left")
            })?;
            let version = to_version(
                workflow_versions::ActiveModel {
                    organization_id: Set(ctx.org().as_uuid()),
                    id: Set(WorkflowVersionId::new().as_uuid()),
                    workflow_id: Set(workflow.as_uuid()),
                    version: Set(stored),
                    definition: Set(definition.to_value()),
                    created_at: Set(m.at()),
                }
                .insert(m.txn())
                .await
                .map_err(db_err)?,
            )?;
            let read = row.revision;
            let mut update = row.into_active_model();
            update.latest_version = Set(Some(stored));
            update.updated_at = Set(m.at());
            update_revised(m.txn(), workflow, update, read, None, db_err).await?;
            // The definition stays in its immutable row; the audit row says which it is.
            m.audit::<workflow_versions::Entity>(
                Verb::Create,
                version.id,
                json!({
                    "workflow_id": workflow,
                    "version": number,
                    "step_count": version.definition.steps().len(),
                }),
            )
            .await?;
            Ok(version)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), workflow = %workflow, version = version))]
    async fn get_version(
        &self,
        ctx: &Ctx,
        workflow: WorkflowId,
        version: u32,
    ) -> RepoResult<WorkflowVersion> {
        let db = self.db().await;
        match self.find_version(&db, ctx, workflow, version).await? {
            Some(row) => to_version(row),
            None => {
                // Say which is missing: the workflow, or only this version of it.
                self.find_scoped::<workflows::Entity>(&db, ctx, workflow, Lock::None)
                    .await?;
                Err(RepoError::not_found(
                    "workflow_version",
                    format!("{version} of workflow {workflow}"),
                ))
            }
        }
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), workflow = %workflow))]
    async fn list_versions(
        &self,
        ctx: &Ctx,
        workflow: WorkflowId,
        page: PageRequest<WorkflowVersionSort>,
    ) -> RepoResult<Page<WorkflowVersion, WorkflowVersionSort>> {
        let db = self.db().await;
        self.find_scoped::<workflows::Entity>(&db, ctx, workflow, Lock::None)
            .await?;
        let column = workflow_versions::Column::Version;
        let keyset = match page.sort() {
            WorkflowVersionSort::Version => Keyset::IntAsc(column),
            WorkflowVersionSort::VersionDesc => Keyset::IntDesc(column),
        };
        let rows = keyset_page(versions_of(ctx, workflow), &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let versions = rows
            .into_iter()
            .map(to_version)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(versions, &page, |v| {
            Cursor::after_key(page.sort(), i64::from(v.version), v.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), workflow = %new.workflow_id))]
    async fn create_execution(
        &self,
        ctx: &Ctx,
        new: NewWorkflowExecution,
    ) -> RepoResult<WorkflowExecution> {
        self.mutate(ctx, async |m| self.create_execution_in(m, new).await)
            .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), parent = %parent))]
    async fn create_child_execution(
        &self,
        ctx: &Ctx,
        parent: TaskId,
        new: NewWorkflowExecution,
    ) -> RepoResult<WorkflowExecution> {
        self.mutate(ctx, async |m| {
            // Locked, so that a cancellation of the parent either sees the child or is seen.
            let row = self
                .find_scoped::<tasks::Entity>(m.txn(), ctx, parent, Lock::ForUpdate)
                .await
                .map_err(|error| match error {
                    RepoError::NotFound { .. } => {
                        RepoError::reference("parent_task_id", "task", parent)
                    }
                    other => other,
                })?;
            let status = row
                .status
                .parse::<TaskStatus>()
                .map_err(|e| corrupt("task", e))?;
            if status.is_terminal() {
                return Err(RepoError::conflict(
                    "task",
                    format!(
                        "task {parent} is {status}: an execution is started only from a task \
                         that has not ended, so that cancelling it reaches the execution"
                    ),
                ));
            }
            self.start_execution(m, new, Some(parent)).await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), execution = %id))]
    async fn get_execution(
        &self,
        ctx: &Ctx,
        id: WorkflowExecutionId,
    ) -> RepoResult<WorkflowExecution> {
        self.find_scoped::<workflow_executions::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_execution)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_executions(
        &self,
        ctx: &Ctx,
        filter: ExecutionFilter,
        page: PageRequest<ExecutionSort>,
    ) -> RepoResult<Page<WorkflowExecution, ExecutionSort>> {
        let mut query = scoped::<workflow_executions::Entity>(ctx);
        if let Some(workflow) = filter.workflow_id {
            query = query.filter(workflow_executions::Column::WorkflowId.eq(workflow.as_uuid()));
        }
        if let Some(status) = filter.status {
            query = query.filter(workflow_executions::Column::Status.eq(status.as_str()));
        }
        let keyset = match page.sort() {
            ExecutionSort::CreatedAt => Keyset::OldestFirst,
            ExecutionSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let executions = rows
            .into_iter()
            .map(to_execution)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(executions, &page, |e| {
            Cursor::after(page.sort(), e.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), execution = %id))]
    async fn list_execution_tasks(
        &self,
        ctx: &Ctx,
        id: WorkflowExecutionId,
        page: PageRequest<ExecutionTaskSort>,
    ) -> RepoResult<Page<ExecutionTask, ExecutionTaskSort>> {
        let db = self.db().await;
        self.find_scoped::<workflow_executions::Entity>(&db, ctx, id, Lock::None)
            .await?;
        let query = workflow_execution_tasks::Entity::find()
            .filter(workflow_execution_tasks::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(workflow_execution_tasks::Column::ExecutionId.eq(id.as_uuid()));
        let keyset = match page.sort() {
            ExecutionTaskSort::CreatedAt => Keyset::OldestFirst,
            ExecutionTaskSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .find_also_related(tasks::Entity)
            .all(&db)
            .await
            .map_err(db_err)?;
        let items = rows
            .into_iter()
            .map(|(step, task)| {
                let task = task.ok_or_else(|| {
                    corrupt(
                        "workflow_execution_task",
                        format!("{} has no task", step.task_id),
                    )
                })?;
                Ok(ExecutionTask {
                    step_name: StepName::parse(&step.step_name)
                        .map_err(|e| corrupt("workflow_execution_task", e))?,
                    task: to_task(task)?,
                })
            })
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, &page, |item| {
            Cursor::after(page.sort(), item.task.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), execution = %id))]
    async fn cancel_execution(
        &self,
        ctx: &Ctx,
        id: WorkflowExecutionId,
        reason: Option<String>,
        expected: Option<Revision>,
    ) -> RepoResult<WorkflowExecution> {
        self.mutate(ctx, async |m| {
            // Its tasks before the execution, as a change of one of them takes them.
            let open = self.lock_open_steps(m, id.as_uuid()).await?;
            let row = self
                .find_scoped::<workflow_executions::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            expect_revision::<workflow_executions::Entity>(id, row.revision, expected)?;
            let status = row
                .status
                .parse::<ExecutionStatus>()
                .map_err(|e| corrupt("workflow_execution", e))?;
            if status == ExecutionStatus::Cancelled {
                return to_execution(row);
            }
            status.check_transition(ExecutionStatus::Cancelled)?;
            let error = Payload::parse(json!({
                "message": "the execution was cancelled",
                "reason": reason,
            }))
            .map_err(|error| match error {
                DomainError::Invalid { reason, .. } => DomainError::invalid("reason", reason),
                other => other,
            })?;
            let why = match &reason {
                Some(reason) => format!("workflow execution {id} was cancelled: {reason}"),
                None => format!("workflow execution {id} was cancelled"),
            };
            let roots: BTreeSet<Uuid> = open.iter().map(|(task, _)| *task).collect();
            let (mut followed, beyond) = self.cancel_steps(m, open, &why).await?;
            // Below its tasks: their descendants, and the executions started from any of them.
            let steps: BTreeSet<Uuid> = self
                .tasks_of_executions(m, &[id.as_uuid()])
                .await?
                .into_iter()
                .map(|(_, task, _)| task)
                .collect();
            let cascade = self
                .cancel_descendants(
                    m,
                    &roots,
                    &steps,
                    &format!("cancellation of workflow execution {id}"),
                )
                .await?;
            let mut note = json!({ "reason": reason });
            followed.cancelled.extend(cascade.tasks.iter().copied());
            followed.annotate(&mut note);
            cascade.annotate_executions(&mut note);
            let after = self
                .end_execution(m, row, ExecutionStatus::Cancelled, None, Some(error), note)
                .await?;
            // Tasks of other executions that waited for its steps.
            let cancelled: Vec<_> = beyond
                .into_iter()
                .chain(cascade.tasks)
                .map(|task| (task, TaskStatus::Cancelled))
                .collect();
            self.follow_executions(m, &cancelled).await?;
            Ok(after)
        })
        .await
    }
}

impl SeaStore {
    /// Starts an execution inside mutation `m` (see [`WorkflowRepo::create_execution`]): the
    /// execution, its first steps' tasks and its audit row.
    pub(crate) async fn create_execution_in(
        &self,
        m: &Mutation<'_>,
        new: NewWorkflowExecution,
    ) -> RepoResult<WorkflowExecution> {
        self.start_execution(m, new, None).await
    }

    /// Starts an execution inside mutation `m`, as a child of the task `parent` if one is
    /// given (checked by the caller).
    pub(super) async fn start_execution(
        &self,
        m: &Mutation<'_>,
        new: NewWorkflowExecution,
        parent: Option<TaskId>,
    ) -> RepoResult<WorkflowExecution> {
        let workflow_id = new.workflow_id;
        let workflow = to_workflow(
            self.find_scoped::<workflows::Entity>(m.txn(), m.ctx(), workflow_id, Lock::None)
                .await?,
        )?;
        let number = match (new.version, workflow.latest_version) {
            (Some(number), _) | (None, Some(number)) => number,
            (None, None) => {
                return Err(RepoError::conflict(
                    "workflow",
                    format!(
                        "workflow {:?} has no version yet: write its steps as a version \
                         before running it",
                        workflow.name.as_str()
                    ),
                ));
            }
        };
        let version = to_version(
            self.find_version(m.txn(), m.ctx(), workflow_id, number)
                .await?
                .ok_or_else(|| RepoError::reference("version", "workflow_version", number))?,
        )?;
        let id = WorkflowExecutionId::new();
        let planned = new.step_tasks(id, &version.definition)?;
        // Running from the start: its first steps are queued with it.
        let row = workflow_executions::ActiveModel {
            organization_id: Set(m.ctx().org().as_uuid()),
            id: Set(id.as_uuid()),
            workflow_id: Set(workflow_id.as_uuid()),
            version_id: Set(version.id.as_uuid()),
            version: Set(i32::try_from(version.version).map_err(RepoError::internal)?),
            status: Set(ExecutionStatus::Running.as_str().to_owned()),
            input: Set(new.input.into_value()),
            output: Set(None),
            error: Set(None),
            parent_task_id: Set(parent.map(|task| task.as_uuid())),
            started_at: Set(Some(m.at())),
            finished_at: Set(None),
            created_at: Set(m.at()),
            updated_at: Set(m.at()),
            revision: Set(Revision::FIRST.get()),
        }
        .insert(m.txn())
        .await
        .map_err(|e| {
            // The workflow was deleted since it was read (its row is not locked here).
            if is_foreign_key_violation(&e) {
                RepoError::not_found("workflow", workflow_id)
            } else {
                db_err(e)
            }
        })?;
        let execution = to_execution(row)?;
        let step_tasks = self.start_steps(m, id.as_uuid(), planned).await?;
        self.record_waits(m, id.as_uuid(), &version.definition, &step_tasks)
            .await?;
        let mut changes = snapshot(&execution);
        if let Some(object) = changes.as_object_mut() {
            object.insert("project_id".into(), json!(new.project_id));
            object.insert("tasks".into(), step_tasks.into());
        }
        m.audit::<workflow_executions::Entity>(Verb::Create, execution.id, changes)
            .await?;
        Ok(execution)
    }
}

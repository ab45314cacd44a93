//! `ExecutionStepRepo`: the step log of executions.

use orchestore_domain::{
    ByteCount, ExecutionStep, ExecutionStepId, NewExecutionStep, OperationName, OrganizationId,
    StepName, WorkflowExecutionId,
};
use orchestore_repo::{
    Ctx, Cursor, ExecutionStepFilter, ExecutionStepRepo, ExecutionStepSort, Page, PageRequest,
    RepoError, RepoResult,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use super::entity::{execution_steps, workflow_execution_tasks, workflow_executions};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};

fn to_step(row: execution_steps::Model) -> RepoResult<ExecutionStep> {
    let bad = |e: String| corrupt("execution_step", e);
    let bytes = |field: &'static str, value: i64| {
        u64::try_from(value)
            .map_err(|e| e.to_string())
            .and_then(|value| ByteCount::parse(field, value).map_err(|e| e.to_string()))
            .map_err(bad)
    };
    Ok(ExecutionStep {
        id: ExecutionStepId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        execution_id: WorkflowExecutionId::from_uuid(row.execution_id),
        step: StepName::parse(&row.step).map_err(|e| bad(e.to_string()))?,
        operation: OperationName::parse(&row.operation).map_err(|e| bad(e.to_string()))?,
        input_bytes: bytes("input_bytes", row.input_bytes)?,
        output_bytes: bytes("output_bytes", row.output_bytes)?,
        outcome: row.outcome.parse().map_err(|e| bad(format!("{e}")))?,
        started_at: row.started_at,
        finished_at: row.finished_at,
        duration_ms: u64::try_from(row.duration_ms).map_err(|e| bad(e.to_string()))?,
        recorded_by: row.recorded_by,
        created_at: row.created_at,
    })
}

/// A byte count as the column stores it; [`ByteCount`] fits by construction.
fn stored(count: ByteCount) -> RepoResult<i64> {
    i64::try_from(count.get()).map_err(RepoError::internal)
}

#[async_trait::async_trait]
impl ExecutionStepRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), execution = %new.execution_id))]
    async fn record_execution_step(
        &self,
        ctx: &Ctx,
        new: NewExecutionStep,
    ) -> RepoResult<ExecutionStep> {
        let duration_ms = i64::try_from(new.timing.duration_ms()).map_err(RepoError::internal)?;
        // No audit row: the log is its own record (see the trait).
        self.mutate(ctx, async |m| {
            self.find_scoped::<workflow_executions::Entity>(
                m.txn(),
                ctx,
                new.execution_id,
                Lock::None,
            )
            .await?;
            // The execution's steps are the rows naming their tasks: one primary-key lookup.
            let is_step = workflow_execution_tasks::Entity::find()
                .filter(workflow_execution_tasks::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(
                    workflow_execution_tasks::Column::ExecutionId.eq(new.execution_id.as_uuid()),
                )
                .filter(workflow_execution_tasks::Column::StepName.eq(new.step.as_str()))
                .count(m.txn())
                .await
                .map_err(db_err)?
                > 0;
            if !is_step {
                return Err(RepoError::reference("step", "workflow_step", &new.step));
            }
            let row = execution_steps::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(ExecutionStepId::new().as_uuid()),
                execution_id: Set(new.execution_id.as_uuid()),
                step: Set(new.step.as_str().to_owned()),
                operation: Set(new.operation.as_str().to_owned()),
                input_bytes: Set(stored(new.input_bytes)?),
                output_bytes: Set(stored(new.output_bytes)?),
                outcome: Set(new.outcome.as_str().to_owned()),
                started_at: Set(new.timing.started_at()),
                finished_at: Set(new.timing.finished_at()),
                duration_ms: Set(duration_ms),
                recorded_by: Set(ctx.actor().to_string()),
                created_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            to_step(row)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), execution = %execution))]
    async fn list_execution_steps(
        &self,
        ctx: &Ctx,
        execution: WorkflowExecutionId,
        filter: ExecutionStepFilter,
        page: PageRequest<ExecutionStepSort>,
    ) -> RepoResult<Page<ExecutionStep, ExecutionStepSort>> {
        let db = self.db().await;
        self.find_scoped::<workflow_executions::Entity>(&db, ctx, execution, Lock::None)
            .await?;
        let mut query = scoped::<execution_steps::Entity>(ctx)
            .filter(execution_steps::Column::ExecutionId.eq(execution.as_uuid()));
        if let Some(step) = &filter.step {
            query = query.filter(execution_steps::Column::Step.eq(step.as_str()));
        }
        if let Some(outcome) = filter.outcome {
            query = query.filter(execution_steps::Column::Outcome.eq(outcome.as_str()));
        }
        let keyset = match page.sort() {
            ExecutionStepSort::CreatedAt => Keyset::OldestFirst,
            ExecutionStepSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let steps = rows
            .into_iter()
            .map(to_step)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(steps, &page, |step| {
            Cursor::after(page.sort(), step.id)
        }))
    }
}

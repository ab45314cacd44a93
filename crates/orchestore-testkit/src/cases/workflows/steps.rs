//! The step log of executions.

use chrono::{Duration, Utc};
use orchestore_domain::{
    ByteCount, ExecutionStep, NewExecutionStep, OperationName, StepName, StepOutcome, StepTiming,
    WorkflowExecutionId,
};
use orchestore_repo::{
    Ctx, ExecutionStepFilter, ExecutionStepSort, Limit, PageRequest, RepoError, Store,
};
use serde_json::json;

use super::{PASSWORD, assert_not_found, assert_reference, definition, run, workflow};
use crate::Fixture;

pub(super) fn new_step(
    execution: WorkflowExecutionId,
    step: &str,
    operation: &str,
    outcome: StepOutcome,
    millis: i64,
) -> NewExecutionStep {
    let started = Utc::now() - Duration::seconds(10);
    NewExecutionStep {
        execution_id: execution,
        step: StepName::parse(step).expect("step"),
        operation: OperationName::parse(operation).expect("operation"),
        input_bytes: ByteCount::parse("input_bytes", 100).expect("bytes"),
        output_bytes: ByteCount::parse("output_bytes", 2048).expect("bytes"),
        outcome,
        timing: StepTiming::new(started, started + Duration::milliseconds(millis)).expect("timing"),
    }
}

async fn log<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    execution: WorkflowExecutionId,
    filter: ExecutionStepFilter,
    sort: ExecutionStepSort,
) -> Vec<ExecutionStep> {
    store
        .list_execution_steps(
            ctx,
            execution,
            filter,
            PageRequest::first(Limit::parse(50).expect("limit")).sorted(sort),
        )
        .await
        .expect("list steps")
        .items
}

pub async fn execution_steps_are_logged_in_order_and_filtered<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let flow = workflow(store, &acme, "Build").await;
    store
        .create_version(
            &acme.ctx,
            flow.id,
            definition(json!([{"name": "fetch"}, {"name": "build", "depends_on": ["fetch"]}])),
        )
        .await
        .expect("version");
    let execution = store
        .create_execution(&acme.ctx, run(flow.id, None, project.id, json!({})))
        .await
        .expect("execution");

    let first = store
        .record_execution_step(
            &acme.ctx,
            new_step(
                execution.id,
                "fetch",
                "git.clone",
                StepOutcome::Succeeded,
                1500,
            ),
        )
        .await
        .expect("record");
    assert_eq!(first.execution_id, execution.id);
    assert_eq!(first.step.as_str(), "fetch");
    assert_eq!(first.operation.as_str(), "git.clone");
    assert_eq!(
        (first.input_bytes.get(), first.output_bytes.get()),
        (100, 2048)
    );
    assert_eq!(first.duration_ms, 1500);
    assert_eq!(
        first.finished_at - first.started_at,
        Duration::milliseconds(1500)
    );
    assert_eq!(first.recorded_by, acme.ctx.actor().to_string());
    let second = store
        .record_execution_step(
            &acme.ctx,
            new_step(
                execution.id,
                "build",
                "cargo.build",
                StepOutcome::Failed,
                20,
            ),
        )
        .await
        .expect("record");
    let third = store
        .record_execution_step(
            &acme.ctx,
            new_step(
                execution.id,
                "build",
                "cargo.build",
                StepOutcome::Succeeded,
                30,
            ),
        )
        .await
        .expect("record");

    let all = log(
        store,
        &acme.ctx,
        execution.id,
        ExecutionStepFilter::default(),
        ExecutionStepSort::CreatedAt,
    )
    .await;
    assert_eq!(all, vec![first.clone(), second.clone(), third.clone()]);
    let latest = log(
        store,
        &acme.ctx,
        execution.id,
        ExecutionStepFilter::default(),
        ExecutionStepSort::CreatedAtDesc,
    )
    .await;
    assert_eq!(latest.first(), Some(&third));
    let builds = ExecutionStepFilter {
        step: Some(StepName::parse("build").expect("step")),
        outcome: None,
    };
    assert_eq!(
        log(
            store,
            &acme.ctx,
            execution.id,
            builds,
            ExecutionStepSort::CreatedAt
        )
        .await,
        vec![second.clone(), third]
    );
    let failed = ExecutionStepFilter {
        step: None,
        outcome: Some(StepOutcome::Failed),
    };
    assert_eq!(
        log(
            store,
            &acme.ctx,
            execution.id,
            failed,
            ExecutionStepSort::CreatedAt
        )
        .await,
        vec![second]
    );
}

pub async fn a_step_is_recorded_only_for_a_step_of_an_execution<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let flow = workflow(store, &acme, "Build").await;
    store
        .create_version(&acme.ctx, flow.id, definition(json!([{"name": "fetch"}])))
        .await
        .expect("version");
    let execution = store
        .create_execution(&acme.ctx, run(flow.id, None, project.id, json!({})))
        .await
        .expect("execution");

    assert_reference(
        store
            .record_execution_step(
                &acme.ctx,
                new_step(execution.id, "deploy", "ship", StepOutcome::Succeeded, 1),
            )
            .await,
        "step",
    );
    assert_not_found(
        store
            .record_execution_step(
                &acme.ctx,
                new_step(
                    WorkflowExecutionId::new(),
                    "fetch",
                    "git.clone",
                    StepOutcome::Succeeded,
                    1,
                ),
            )
            .await,
        "workflow_execution",
    );
    assert_not_found(
        store
            .list_execution_steps(
                &acme.ctx,
                WorkflowExecutionId::new(),
                ExecutionStepFilter::default(),
                PageRequest::default(),
            )
            .await,
        "workflow_execution",
    );
    // Nothing was written, and a step is not audited.
    assert!(
        log(
            store,
            &acme.ctx,
            execution.id,
            ExecutionStepFilter::default(),
            ExecutionStepSort::CreatedAt
        )
        .await
        .is_empty()
    );
    store
        .record_execution_step(
            &acme.ctx,
            new_step(execution.id, "fetch", "git.clone", StepOutcome::Skipped, 0),
        )
        .await
        .expect("record");
    assert!(
        super::audit_of(store, &acme, "execution_step")
            .await
            .is_empty()
    );

    // A late report, once the execution has ended, is kept too; the log goes with it.
    let cancelled = store
        .cancel_execution(&acme.ctx, execution.id, None, None)
        .await
        .expect("cancel");
    store
        .record_execution_step(
            &acme.ctx,
            new_step(cancelled.id, "fetch", "cleanup", StepOutcome::Succeeded, 5),
        )
        .await
        .expect("late record");
    assert_eq!(
        log(
            store,
            &acme.ctx,
            execution.id,
            ExecutionStepFilter::default(),
            ExecutionStepSort::CreatedAt
        )
        .await
        .len(),
        2
    );
    let other = Fixture::create(store, "other", PASSWORD).await;
    let refused = store
        .record_execution_step(
            &other.ctx,
            new_step(
                execution.id,
                "fetch",
                "git.clone",
                StepOutcome::Succeeded,
                1,
            ),
        )
        .await;
    assert!(
        matches!(refused, Err(RepoError::NotFound { .. })),
        "{refused:?}"
    );
}

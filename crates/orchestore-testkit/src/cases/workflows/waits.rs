//! Durable waits: steps that wait for a signal or a time, ended by a signal or by the sweep of
//! due waits, once.

use chrono::{Duration, Utc};
use orchestore_domain::{
    ExecutionStatus, LeaseDuration, SignalName, TaskStatus, WaitStatus, WorkflowExecution,
    WorkflowWait,
};
use orchestore_repo::{Ctx, Store};
use serde_json::{Value, json};

use super::runs::{complete, execution, released, status_of, step, steps_of};
use super::{actions, audit_of, payload, run};
use crate::Fixture;
use crate::cases::work::worker;
use crate::cases::{PASSWORD, assert_conflict, assert_not_found};

fn signal(name: &str) -> SignalName {
    SignalName::parse(name).expect("signal name")
}

/// Starts an execution of a new workflow named `name` with `steps`, in a new project.
async fn started<S: Store + ?Sized>(
    store: &S,
    fixture: &Fixture,
    name: &str,
    steps: Value,
) -> WorkflowExecution {
    let project = fixture.project(store, name).await;
    let flow = released(store, fixture, name, steps).await;
    store
        .create_execution(&fixture.ctx, run(flow, None, project.id, json!({"pr": 7})))
        .await
        .expect("execution")
}

async fn wait_of<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    running: &WorkflowExecution,
    step: &str,
) -> WorkflowWait {
    store
        .list_execution_waits(ctx, running.id)
        .await
        .expect("waits")
        .into_iter()
        .find(|wait| wait.step.as_str() == step)
        .unwrap_or_else(|| panic!("no wait for step {step}"))
}

fn approval_flow() -> Value {
    json!([
        {"name": "prepare"},
        {"name": "approval", "depends_on": ["prepare"],
         "wait": {"signal": "approve", "timeout_seconds": 3600, "on_timeout": ["escalate"]}},
        {"name": "ship", "depends_on": ["approval"]},
        {"name": "escalate", "depends_on": ["approval"]},
    ])
}

pub async fn a_signal_resumes_a_waiting_step<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let agent = worker(store, ctx, "builder", &[]).await;
    let running = started(store, &acme, "Release", approval_flow()).await;
    let waits = store
        .list_execution_waits(ctx, running.id)
        .await
        .expect("waits");
    assert_eq!(waits.len(), 1);
    assert_eq!(waits[0].status, WaitStatus::Pending);
    assert_eq!(waits[0].signal.as_ref(), Some(&signal("approve")));
    assert_eq!(waits[0].deadline, None);

    let steps = steps_of(store, ctx, &running).await;
    complete(store, ctx, agent.id, step(&steps, "prepare").id, None).await;
    let reached = wait_of(store, ctx, &running, "approval").await;
    assert_eq!(reached.status, WaitStatus::Waiting);
    let (at, deadline) = (
        reached.reached_at.expect("reached"),
        reached.deadline.expect("deadline"),
    );
    assert_eq!(deadline - at, Duration::hours(1));
    // The waiting step's task is queued but no worker takes it.
    let approval = step(&steps, "approval").id;
    assert_eq!(status_of(store, ctx, approval).await, TaskStatus::Queued);
    assert_conflict(
        store
            .claim_task(ctx, approval, agent.id, LeaseDuration::default())
            .await,
        None,
    );

    let signalled = store
        .signal_execution(
            ctx,
            running.id,
            &signal("approve"),
            payload(json!({"by": "ada"})),
        )
        .await
        .expect("signal");
    assert_eq!(signalled.status, WaitStatus::Signalled);
    assert_eq!(
        signalled.payload.as_ref().map(|p| p.as_value().clone()),
        Some(json!({"by": "ada"}))
    );
    let task = store.get_task(ctx, approval).await.expect("approval task");
    assert_eq!(task.status, TaskStatus::Succeeded);
    assert_eq!(
        task.result.as_ref().map(|p| p.as_value().clone()),
        Some(json!({"by": "ada"}))
    );
    assert_eq!(
        status_of(store, ctx, step(&steps, "ship").id).await,
        TaskStatus::Queued
    );
    // The timeout branch is skipped: cancelled, not counted against the execution.
    assert_eq!(
        status_of(store, ctx, step(&steps, "escalate").id).await,
        TaskStatus::Cancelled
    );
    assert_eq!(
        execution(store, ctx, &running).await.status,
        ExecutionStatus::Running
    );
    // Once is enough: the wait has ended.
    assert_conflict(
        store
            .signal_execution(ctx, running.id, &signal("approve"), payload(json!(null)))
            .await,
        None,
    );

    complete(
        store,
        ctx,
        agent.id,
        step(&steps, "ship").id,
        Some(json!("shipped")),
    )
    .await;
    let done = execution(store, ctx, &running).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    let output = done.output.expect("output").into_value();
    assert_eq!(output["approval"], json!({"by": "ada"}));
    assert_eq!(output["ship"], json!("shipped"));
    assert_eq!(output["escalate"], Value::Null);
    let audit = audit_of(store, &acme, "workflow_wait").await;
    assert_eq!(actions(&audit), ["workflow_wait.status.signalled"]);
    assert_eq!(audit[0].changes["skipped_steps"], json!(["escalate"]));
}

pub async fn a_signal_is_refused_unless_its_step_waits<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let running = started(store, &acme, "Release", approval_flow()).await;
    // Before its step is reached: not kept for later.
    assert_conflict(
        store
            .signal_execution(ctx, running.id, &signal("approve"), payload(json!(1)))
            .await,
        None,
    );
    assert_eq!(
        wait_of(store, ctx, &running, "approval").await.status,
        WaitStatus::Pending
    );
    assert_not_found(
        store
            .signal_execution(ctx, running.id, &signal("deploy"), payload(json!(1)))
            .await,
        "workflow_wait",
    );
    assert_not_found(
        store
            .signal_execution(
                &other.ctx,
                running.id,
                &signal("approve"),
                payload(json!(1)),
            )
            .await,
        "workflow_execution",
    );
    assert_not_found(
        store.list_execution_waits(&other.ctx, running.id).await,
        "workflow_execution",
    );
    assert!(audit_of(store, &acme, "workflow_wait").await.is_empty());
}

pub async fn a_timed_out_wait_takes_its_timeout_branch<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let agent = worker(store, ctx, "builder", &[]).await;
    let running = started(store, &acme, "Release", approval_flow()).await;
    let steps = steps_of(store, ctx, &running).await;
    complete(store, ctx, agent.id, step(&steps, "prepare").id, None).await;
    let deadline = wait_of(store, ctx, &running, "approval")
        .await
        .deadline
        .expect("deadline");

    // Not yet due.
    let early = store
        .fire_due_waits(ctx, deadline - Duration::seconds(1), 100)
        .await
        .expect("sweep");
    assert!(early.is_empty());
    let fired = store
        .fire_due_waits(ctx, deadline, 100)
        .await
        .expect("sweep");
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].status, WaitStatus::TimedOut);
    // Exactly once: a second sweep finds nothing.
    assert!(
        store
            .fire_due_waits(ctx, deadline + Duration::hours(1), 100)
            .await
            .expect("sweep again")
            .is_empty()
    );
    let approval = store
        .get_task(ctx, step(&steps, "approval").id)
        .await
        .expect("approval");
    assert_eq!(approval.status, TaskStatus::Succeeded);
    assert_eq!(
        approval.result.map(|p| p.into_value()),
        Some(json!({"timed_out": true}))
    );
    assert_eq!(
        status_of(store, ctx, step(&steps, "ship").id).await,
        TaskStatus::Cancelled
    );
    let escalate = step(&steps, "escalate").id;
    assert_eq!(status_of(store, ctx, escalate).await, TaskStatus::Queued);
    // Too late for the signal.
    assert_conflict(
        store
            .signal_execution(ctx, running.id, &signal("approve"), payload(json!(1)))
            .await,
        None,
    );
    complete(store, ctx, agent.id, escalate, None).await;
    assert_eq!(
        execution(store, ctx, &running).await.status,
        ExecutionStatus::Succeeded
    );
    let audit = audit_of(store, &acme, "workflow_wait").await;
    assert_eq!(actions(&audit), ["workflow_wait.status.timed_out"]);
    assert_eq!(audit[0].actor, acme.ctx.actor().to_string());
}

pub async fn a_timed_out_wait_without_a_branch_fails_its_execution<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let running = started(
        store,
        &acme,
        "Release",
        json!([
            {"name": "approval", "wait": {"signal": "approve", "timeout_seconds": 60}},
            {"name": "ship", "depends_on": ["approval"]},
        ]),
    )
    .await;
    // Reached at once: it depends on no step.
    let wait = wait_of(store, ctx, &running, "approval").await;
    assert_eq!(wait.status, WaitStatus::Waiting);
    let fired = store
        .fire_due_waits(ctx, Utc::now() + Duration::seconds(61), 100)
        .await
        .expect("sweep");
    assert_eq!(fired.len(), 1);
    let failed = execution(store, ctx, &running).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    let error = failed.error.expect("error").into_value();
    assert_eq!(error["step"], json!("approval"));
    assert_eq!(error["error"]["timed_out"], json!(true));
    let steps = steps_of(store, ctx, &running).await;
    assert_eq!(
        status_of(store, ctx, step(&steps, "ship").id).await,
        TaskStatus::Cancelled
    );
}

pub async fn a_wait_for_a_time_ends_once_when_it_comes<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let running = started(
        store,
        &acme,
        "Cooldown",
        json!([{"name": "pause", "wait": {"sleep_seconds": 30}}]),
    )
    .await;
    let wait = wait_of(store, ctx, &running, "pause").await;
    assert_eq!(wait.signal, None);
    let deadline = wait.deadline.expect("deadline");
    // Another organization's sweep ends none of it; nor does a signal.
    assert!(
        store
            .fire_due_waits(&other.ctx, deadline, 100)
            .await
            .expect("their sweep")
            .is_empty()
    );
    assert!(
        !store
            .organizations_with_due_waits(deadline, 100)
            .await
            .expect("organizations")
            .contains(&other.ctx.org())
    );
    assert!(
        store
            .organizations_with_due_waits(deadline, 100)
            .await
            .expect("organizations")
            .contains(&ctx.org())
    );
    assert_not_found(
        store
            .signal_execution(ctx, running.id, &signal("pause"), payload(json!(1)))
            .await,
        "workflow_wait",
    );
    // Two sweeps at once: one ends it.
    let (a, b) = tokio::join!(
        store.fire_due_waits(ctx, deadline, 100),
        store.fire_due_waits(ctx, deadline, 100)
    );
    let ended = a.expect("sweep a").len() + b.expect("sweep b").len();
    assert_eq!(ended, 1);
    let done = execution(store, ctx, &running).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(
        wait_of(store, ctx, &running, "pause").await.status,
        WaitStatus::Elapsed
    );
    assert_eq!(
        actions(&audit_of(store, &acme, "workflow_wait").await),
        ["workflow_wait.status.elapsed"]
    );
}

pub async fn cancelling_an_execution_closes_its_waits<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let running = started(store, &acme, "Release", approval_flow()).await;
    store
        .cancel_execution(ctx, running.id, Some("not needed".to_owned()), None)
        .await
        .expect("cancel");
    let wait = wait_of(store, ctx, &running, "approval").await;
    assert_eq!(wait.status, WaitStatus::Closed);
    assert!(wait.resolved_at.is_some());
    assert_conflict(
        store
            .signal_execution(ctx, running.id, &signal("approve"), payload(json!(1)))
            .await,
        None,
    );
}

//! Executions that run: each step of the version becomes a task that waits for the tasks of
//! the steps it depends on, and the execution follows its tasks to its end.

use std::time::Duration as StdDuration;

use orchestore_domain::{
    AgentId, DomainError, ExecutionStatus, ExecutionTask, LeaseDuration, NewWorkflowExecution,
    Payload, Priority, Task, TaskId, TaskPatch, TaskStatus, WorkflowExecution, WorkflowId,
};
use orchestore_repo::{
    AuditFilter, Ctx, ExecutionFilter, ExecutionTaskSort, Limit, PageRequest, RepoError, Retry,
    Store, TaskFilter,
};
use serde_json::{Value, json};

use super::{actions, audit_of, definition, payload, run, workflow};
use crate::Fixture;
use crate::cases::work::{reasons, worker};
use crate::cases::{
    PASSWORD, assert_conflict, assert_invalid, assert_not_found, assert_reference, task,
};

/// A workflow named `name` whose latest version has `steps`.
pub(super) async fn released<S: Store + ?Sized>(
    store: &S,
    fixture: &Fixture,
    name: &str,
    steps: Value,
) -> WorkflowId {
    let flow = workflow(store, fixture, name).await;
    store
        .create_version(&fixture.ctx, flow.id, definition(steps))
        .await
        .expect("version");
    flow.id
}

/// The execution's steps with their tasks, in the order they were created.
pub(super) async fn steps_of<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    execution: &WorkflowExecution,
) -> Vec<ExecutionTask> {
    store
        .list_execution_tasks(
            ctx,
            execution.id,
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("execution tasks")
        .items
}

/// The task of step `name`.
pub(super) fn step(steps: &[ExecutionTask], name: &str) -> Task {
    steps
        .iter()
        .find(|item| item.step_name.as_str() == name)
        .map(|item| item.task.clone())
        .unwrap_or_else(|| panic!("no step {name}"))
}

fn names(steps: &[ExecutionTask]) -> Vec<&str> {
    steps.iter().map(|item| item.step_name.as_str()).collect()
}

pub(super) async fn execution<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    running: &WorkflowExecution,
) -> WorkflowExecution {
    store
        .get_execution(ctx, running.id)
        .await
        .expect("get execution")
}

/// Claims `task` for `agent` and completes it with `result`.
pub(super) async fn complete<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    agent: AgentId,
    task: TaskId,
    result: Option<Value>,
) -> Task {
    let claimed = store
        .claim_task(ctx, task, agent, LeaseDuration::default())
        .await
        .expect("claim");
    store
        .complete_task(ctx, task, claimed.lease_token, result.map(payload))
        .await
        .expect("complete")
}

pub(super) async fn status_of<S: Store + ?Sized>(store: &S, ctx: &Ctx, id: TaskId) -> TaskStatus {
    store.get_task(ctx, id).await.expect("task").status
}

fn diamond() -> Value {
    json!([
        {"name": "release", "depends_on": ["build", "lint"], "title": "Ship it"},
        {"name": "build", "depends_on": ["fetch"], "required_capabilities": ["rust"],
         "max_attempts": 5, "payload": {"opt": 3}},
        {"name": "lint", "depends_on": ["fetch"]},
        {"name": "fetch", "payload": {"url": "git://example"}},
    ])
}

pub async fn an_execution_runs_each_step_as_a_task_after_its_dependencies<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let flow = released(store, &acme, "Release", diamond()).await;
    let new = NewWorkflowExecution {
        priority: Priority::parse(5).expect("priority"),
        ..run(flow, None, project.id, json!({"tag": "v1"}))
    };
    let started = store.create_execution(ctx, new).await.expect("execution");
    assert_eq!(started.status, ExecutionStatus::Running);
    assert!(started.started_at.is_some() && started.finished_at.is_none());

    let steps = steps_of(store, ctx, &started).await;
    assert_eq!(names(&steps), ["fetch", "build", "lint", "release"]);
    let statuses: Vec<TaskStatus> = steps.iter().map(|s| s.task.status).collect();
    use TaskStatus::{Blocked, Queued};
    assert_eq!(statuses, [Queued, Blocked, Blocked, Blocked]);
    let fetch = step(&steps, "fetch");
    assert_eq!(
        (fetch.title.as_str(), fetch.project_id, fetch.priority.get()),
        ("fetch", project.id, 5)
    );
    assert_eq!(
        fetch.payload.as_value(),
        &json!({"workflow_execution_id": started.id, "step": "fetch",
                "input": {"tag": "v1"}, "payload": {"url": "git://example"}})
    );
    let build = step(&steps, "build");
    assert_eq!(build.required_capabilities.to_strings(), ["rust"]);
    assert_eq!(build.max_attempts.get(), 5);
    let release = step(&steps, "release");
    assert_eq!(release.title.as_str(), "Ship it");
    assert_eq!(
        store.get_task(ctx, release.id).await.expect("task"),
        release,
        "listed as stored"
    );

    // The dependencies mirror the steps'.
    let waits_for = async |task: TaskId| {
        let mut ids: Vec<TaskId> = store
            .list_dependencies(ctx, task, PageRequest::default())
            .await
            .expect("dependencies")
            .items
            .into_iter()
            .map(|t| t.id)
            .collect();
        ids.sort();
        ids
    };
    let mut last = vec![build.id, step(&steps, "lint").id];
    last.sort();
    assert_eq!(waits_for(release.id).await, last);
    assert_eq!(waits_for(build.id).await, vec![fetch.id]);
    assert!(waits_for(fetch.id).await.is_empty());

    // Pages, either way.
    let three = PageRequest::first(Limit::parse(3).expect("limit"));
    let page = store
        .list_execution_tasks(ctx, started.id, three.clone())
        .await
        .expect("page");
    assert_eq!(names(&page.items), ["fetch", "build", "lint"]);
    let rest = store
        .list_execution_tasks(ctx, started.id, three.clone().next(page.next_cursor))
        .await
        .expect("rest");
    assert_eq!(names(&rest.items), ["release"]);
    assert!(rest.next_cursor.is_none());
    let newest = store
        .list_execution_tasks(
            ctx,
            started.id,
            three.sorted(ExecutionTaskSort::CreatedAtDesc),
        )
        .await
        .expect("newest first");
    assert_eq!(names(&newest.items), ["release", "lint", "build"]);

    // One execution row and its audit row, the tasks and theirs, in one transaction.
    let created = &audit_of(store, &acme, "workflow_execution").await[0];
    assert_eq!(created.action, "workflow_execution.create");
    assert_eq!(created.changes["tasks"]["release"], json!(release.id));
    assert_eq!(created.changes["project_id"], json!(project.id));
    let enqueued = &audit_of(store, &acme, "task").await[0];
    assert_eq!(enqueued.action, "task.enqueue");
    assert_eq!(enqueued.changes["created_count"], 4);
    assert_eq!(enqueued.changes["queued_count"], 1);

    assert_not_found(
        store
            .list_execution_tasks(&other.ctx, started.id, PageRequest::default())
            .await,
        "workflow_execution",
    );
    assert_not_found(
        store.get_execution(&other.ctx, started.id).await,
        "workflow_execution",
    );
    assert!(
        store
            .list_tasks(&other.ctx, TaskFilter::default(), PageRequest::default())
            .await
            .expect("their tasks")
            .items
            .is_empty()
    );
}

pub async fn an_execution_succeeds_with_the_results_of_its_steps<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "builder", &["rust"]).await.id;
    let flow = released(store, &acme, "Release", diamond()).await;
    let started = store
        .create_execution(ctx, run(flow, None, project.id, json!({})))
        .await
        .expect("execution");
    let steps = steps_of(store, ctx, &started).await;
    let id = |name: &str| step(&steps, name).id;

    complete(store, ctx, agent, id("fetch"), Some(json!({"sha": "abc"}))).await;
    assert_eq!(status_of(store, ctx, id("build")).await, TaskStatus::Queued);
    assert_eq!(status_of(store, ctx, id("lint")).await, TaskStatus::Queued);
    complete(store, ctx, agent, id("build"), Some(json!(1))).await;
    complete(store, ctx, agent, id("lint"), None).await;
    let midway = execution(store, ctx, &started).await;
    assert_eq!(
        (midway.status, &midway.output, midway.finished_at),
        (ExecutionStatus::Running, &None, None)
    );
    complete(
        store,
        ctx,
        agent,
        id("release"),
        Some(json!({"url": "https://example/v1"})),
    )
    .await;

    let done = execution(store, ctx, &started).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(
        done.output.as_ref().map(Payload::as_value),
        Some(&json!({"fetch": {"sha": "abc"}, "build": 1, "lint": null,
                     "release": {"url": "https://example/v1"}}))
    );
    assert_eq!(done.error, None);
    assert!(
        done.finished_at
            .is_some_and(|at| Some(at) >= done.started_at)
    );
    let log = audit_of(store, &acme, "workflow_execution").await;
    assert_eq!(
        actions(&log),
        [
            "workflow_execution.status.succeeded",
            "workflow_execution.create"
        ]
    );
    assert_eq!(
        log[0].changes["status"],
        json!({"from": "running", "to": "succeeded"})
    );
}

pub async fn a_step_that_fails_for_good_fails_its_execution<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "builder", &[]).await.id;
    let flow = released(
        store,
        &acme,
        "Release",
        json!([
            {"name": "build", "max_attempts": 2},
            {"name": "test", "depends_on": ["build"]},
            {"name": "docs"},
        ]),
    )
    .await;
    let started = store
        .create_execution(ctx, run(flow, None, project.id, json!({})))
        .await
        .expect("execution");
    let steps = steps_of(store, ctx, &started).await;
    let (build, test, docs) = (
        step(&steps, "build").id,
        step(&steps, "test").id,
        step(&steps, "docs").id,
    );

    // A failed attempt with attempts left is retried: the execution runs on.
    let claimed = store
        .claim_task(ctx, build, agent, LeaseDuration::default())
        .await
        .expect("claim");
    let again = store
        .fail_task(
            ctx,
            build,
            claimed.lease_token,
            Some(payload(json!({"code": 1}))),
            Retry::IfAttemptsLeft,
        )
        .await
        .expect("fail once");
    assert_eq!(again.status, TaskStatus::Queued);
    assert_eq!(
        execution(store, ctx, &started).await.status,
        ExecutionStatus::Running
    );
    let now = TaskPatch {
        run_after: Some(None),
        ..TaskPatch::default()
    };
    store
        .update_task(ctx, build, now, None)
        .await
        .expect("run now");

    // The dead letter fails it.
    let claimed = store
        .claim_task(ctx, build, agent, LeaseDuration::default())
        .await
        .expect("claim again");
    store
        .fail_task(
            ctx,
            build,
            claimed.lease_token,
            Some(payload(json!({"code": 2}))),
            Retry::Never,
        )
        .await
        .expect("fail for good");
    let failed = execution(store, ctx, &started).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert!(failed.finished_at.is_some());
    assert_eq!(failed.output, None);
    assert_eq!(
        failed.error.as_ref().map(Payload::as_value),
        Some(
            &json!({"step": "build", "task_id": build, "message": "step \"build\" failed",
                     "error": {"code": 2}})
        )
    );
    assert_eq!(status_of(store, ctx, test).await, TaskStatus::Cancelled);
    // A step that waits for nothing else is left as it is.
    assert_eq!(status_of(store, ctx, docs).await, TaskStatus::Queued);
    assert_eq!(
        actions(&audit_of(store, &acme, "workflow_execution").await)[0],
        "workflow_execution.status.failed"
    );

    // The execution is not run again, by a retry or by a PATCH.
    assert_conflict(store.retry_task(ctx, build).await, None);
    let requeue = TaskPatch {
        status: Some(TaskStatus::Queued),
        ..TaskPatch::default()
    };
    assert_conflict(store.update_task(ctx, build, requeue, None).await, None);
    assert_eq!(status_of(store, ctx, build).await, TaskStatus::Failed);
    match store.cancel_execution(ctx, failed.id, None, None).await {
        Err(RepoError::Invalid(DomainError::InvalidTransition { from, to })) => {
            assert_eq!((from, to), ("failed", "cancelled"));
        }
        other => panic!("expected an invalid transition, got {other:?}"),
    }
    // What its other tasks do changes nothing any more.
    complete(store, ctx, agent, docs, Some(json!("late"))).await;
    store
        .cancel_task(ctx, build, None, None)
        .await
        .expect("the dead letter is cancelled");
    assert_eq!(execution(store, ctx, &started).await, failed);
}

pub async fn an_expired_last_attempt_fails_its_execution<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "sleepy", &[]).await.id;
    let flow = released(
        store,
        &acme,
        "Once",
        json!([{"name": "only", "max_attempts": 1}]),
    )
    .await;
    let started = store
        .create_execution(ctx, run(flow, None, project.id, json!({})))
        .await
        .expect("execution");
    let only = step(&steps_of(store, ctx, &started).await, "only").id;
    store
        .claim_task(
            ctx,
            only,
            agent,
            LeaseDuration::parse_seconds(1).expect("lease"),
        )
        .await
        .expect("claim");
    tokio::time::sleep(StdDuration::from_millis(1100)).await;
    let swept = store.expire_leases(ctx).await.expect("sweep");
    assert_eq!(swept.failed, vec![only]);
    let failed = execution(store, ctx, &started).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(
        failed.error.as_ref().map(|e| e.as_value()["error"].clone()),
        Some(json!({"message": "the lease expired"}))
    );
}

pub async fn cancelling_a_step_task_cancels_its_execution<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let flow = released(
        store,
        &acme,
        "Release",
        json!([{"name": "a"}, {"name": "b", "depends_on": ["a"]}]),
    )
    .await;
    let started = store
        .create_execution(ctx, run(flow, None, project.id, json!({})))
        .await
        .expect("execution");
    let steps = steps_of(store, ctx, &started).await;
    let (a, b) = (step(&steps, "a").id, step(&steps, "b").id);
    store
        .cancel_task(ctx, a, Some("not needed".to_owned()), None)
        .await
        .expect("cancel the task");
    assert_eq!(status_of(store, ctx, b).await, TaskStatus::Cancelled);
    let cancelled = execution(store, ctx, &started).await;
    assert_eq!(cancelled.status, ExecutionStatus::Cancelled);
    assert_eq!(
        cancelled.error.as_ref().map(Payload::as_value),
        Some(&json!({"step": "a", "task_id": a,
                     "message": "the task of step \"a\" was cancelled"}))
    );
}

pub async fn cancelling_an_execution_cancels_its_unfinished_tasks<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "busy-bee", &[]).await.id;
    let flow = released(
        store,
        &acme,
        "Release",
        json!([
            {"name": "done"},
            {"name": "busy"},
            {"name": "waiting"},
            {"name": "later", "depends_on": ["busy"]},
        ]),
    )
    .await;
    let started = store
        .create_execution(ctx, run(flow, None, project.id, json!({})))
        .await
        .expect("execution");
    let steps = steps_of(store, ctx, &started).await;
    let id = |name: &str| step(&steps, name).id;
    complete(store, ctx, agent, id("done"), None).await;
    let busy = store
        .claim_task(ctx, id("busy"), agent, LeaseDuration::default())
        .await
        .expect("claim");
    // A task outside the execution that waits for one of its steps.
    let outsider = store
        .create_task(
            ctx,
            orchestore_domain::NewTask {
                depends_on: [id("later")].into(),
                ..task(project.id, "outsider")
            },
        )
        .await
        .expect("outsider");

    assert_not_found(
        store
            .cancel_execution(&other.ctx, started.id, None, None)
            .await,
        "workflow_execution",
    );
    let cancelled = store
        .cancel_execution(ctx, started.id, Some("superseded".to_owned()), None)
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, ExecutionStatus::Cancelled);
    assert!(cancelled.finished_at.is_some());
    assert_eq!(
        cancelled.error.as_ref().map(Payload::as_value),
        Some(&json!({"message": "the execution was cancelled", "reason": "superseded"}))
    );
    assert_eq!(execution(store, ctx, &started).await, cancelled);
    assert_eq!(
        status_of(store, ctx, id("done")).await,
        TaskStatus::Succeeded
    );
    for name in ["busy", "waiting", "later"] {
        assert_eq!(
            status_of(store, ctx, id(name)).await,
            TaskStatus::Cancelled,
            "{name}"
        );
    }
    assert_eq!(
        reasons(store, ctx, id("busy")).await.last(),
        Some(&format!(
            "workflow execution {} was cancelled: superseded",
            started.id
        ))
    );
    assert_eq!(
        status_of(store, ctx, outsider.id).await,
        TaskStatus::Cancelled
    );
    assert_eq!(
        reasons(store, ctx, outsider.id).await.last(),
        Some(&format!("dependency {} was cancelled", id("later")))
    );
    // Its worker learns it at its next call.
    match store
        .heartbeat_task(
            ctx,
            id("busy"),
            busy.lease_token,
            LeaseDuration::default(),
            None,
        )
        .await
    {
        Err(RepoError::Stale { reason, .. }) => assert!(reason.contains("cancelled"), "{reason}"),
        other => panic!("expected a stale lease, got {other:?}"),
    }

    let log = audit_of(store, &acme, "workflow_execution").await;
    assert_eq!(log[0].action, "workflow_execution.status.cancelled");
    assert_eq!(log[0].changes["reason"], "superseded");
    assert_eq!(log[0].changes["cancelled_tasks_count"], 4);
    // Again: nothing changes, nothing is written.
    assert_eq!(
        store
            .cancel_execution(ctx, started.id, None, None)
            .await
            .expect("again"),
        cancelled
    );
    assert_eq!(
        audit_of(store, &acme, "workflow_execution").await.len(),
        log.len()
    );

    // An execution that succeeded stays so.
    let quick = released(store, &acme, "Quick", json!([{"name": "one"}])).await;
    let quick = store
        .create_execution(ctx, run(quick, None, project.id, json!({})))
        .await
        .expect("quick");
    let one = step(&steps_of(store, ctx, &quick).await, "one").id;
    complete(store, ctx, agent, one, None).await;
    match store.cancel_execution(ctx, quick.id, None, None).await {
        Err(RepoError::Invalid(DomainError::InvalidTransition { from, to })) => {
            assert_eq!((from, to), ("succeeded", "cancelled"));
        }
        other => panic!("expected an invalid transition, got {other:?}"),
    }
}

pub async fn a_refused_execution_writes_nothing<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let theirs = other.project(store, "Theirs").await;
    let project = acme.project(store, "Apollo").await;
    let half = "x".repeat(Payload::MAX_BYTES / 2);
    let flow = released(
        store,
        &acme,
        "Release",
        json!([{"name": "a", "payload": half.clone()}, {"name": "b", "depends_on": ["a"]}]),
    )
    .await;
    let audit_before = store
        .list_audit(ctx, AuditFilter::default(), PageRequest::default())
        .await
        .expect("audit")
        .items
        .len();

    assert_reference(
        store
            .create_execution(ctx, run(flow, None, theirs.id, json!({})))
            .await,
        "project_id",
    );
    assert_reference(
        store
            .create_execution(
                ctx,
                run(flow, None, orchestore_domain::ProjectId::new(), json!({})),
            )
            .await,
        "project_id",
    );
    assert_reference(
        store
            .create_execution(ctx, run(flow, Some(2), project.id, json!({})))
            .await,
        "version",
    );
    assert_invalid(
        store
            .create_execution(ctx, run(flow, None, project.id, json!(half)))
            .await,
        "input",
    );
    assert_not_found(
        store
            .create_execution(&other.ctx, run(flow, None, theirs.id, json!({})))
            .await,
        "workflow",
    );

    let executions = store
        .list_executions(ctx, ExecutionFilter::default(), PageRequest::default())
        .await
        .expect("executions");
    assert!(executions.items.is_empty());
    for fixture in [&acme, &other] {
        let tasks = store
            .list_tasks(&fixture.ctx, TaskFilter::default(), PageRequest::default())
            .await
            .expect("tasks");
        assert!(tasks.items.is_empty());
    }
    let audit_after = store
        .list_audit(ctx, AuditFilter::default(), PageRequest::default())
        .await
        .expect("audit")
        .items
        .len();
    assert_eq!(audit_after, audit_before);
}

pub async fn the_tasks_of_a_running_execution_stay<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let flow = released(
        store,
        &acme,
        "Release",
        json!([{"name": "a"}, {"name": "b"}]),
    )
    .await;
    let started = store
        .create_execution(ctx, run(flow, None, project.id, json!({})))
        .await
        .expect("execution");
    let a = step(&steps_of(store, ctx, &started).await, "a").id;
    assert_conflict(store.delete_task(ctx, a, None).await, None);
    assert_conflict(store.delete_project(ctx, project.id, None).await, None);
    assert_eq!(steps_of(store, ctx, &started).await.len(), 2);

    // Once it has ended, its tasks may go; it keeps its record.
    store
        .cancel_execution(ctx, started.id, None, None)
        .await
        .expect("cancel");
    store
        .delete_task(ctx, a, None)
        .await
        .expect("delete a step");
    assert_eq!(names(&steps_of(store, ctx, &started).await), ["b"]);
    store
        .delete_project(ctx, project.id, None)
        .await
        .expect("delete the project");
    assert!(steps_of(store, ctx, &started).await.is_empty());
    assert_eq!(
        execution(store, ctx, &started).await.status,
        ExecutionStatus::Cancelled
    );
}

pub async fn steps_that_end_at_once_are_all_counted<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "many-hands", &[]).await.id;
    let flow = released(
        store,
        &acme,
        "Fan out",
        json!([{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}]),
    )
    .await;
    let started = store
        .create_execution(ctx, run(flow, None, project.id, json!({})))
        .await
        .expect("execution");
    let steps = steps_of(store, ctx, &started).await;
    let mut leases = Vec::new();
    for item in &steps {
        let claimed = store
            .claim_task(ctx, item.task.id, agent, LeaseDuration::default())
            .await
            .expect("claim");
        leases.push((item.task.id, claimed.lease_token));
    }
    let end = |i: usize| {
        let (id, token) = leases[i];
        store.complete_task(ctx, id, token, Some(payload(json!(i))))
    };
    let (a, b, c, d) = tokio::join!(end(0), end(1), end(2), end(3));
    for ended in [a, b, c, d] {
        ended.expect("complete");
    }
    let done = execution(store, ctx, &started).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(
        done.output.as_ref().map(Payload::as_value),
        Some(&json!({"a": 0, "b": 1, "c": 2, "d": 3}))
    );

    // A cancel racing a step's end: whichever goes first, the execution ends cancelled.
    let started = store
        .create_execution(ctx, run(flow, None, project.id, json!({})))
        .await
        .expect("execution");
    let a = step(&steps_of(store, ctx, &started).await, "a").id;
    let claimed = store
        .claim_task(ctx, a, agent, LeaseDuration::default())
        .await
        .expect("claim");
    let (completed, cancelled) = tokio::join!(
        store.complete_task(ctx, a, claimed.lease_token, None),
        store.cancel_execution(ctx, started.id, None, None),
    );
    cancelled.expect("cancel");
    match completed {
        Ok(task) => assert_eq!(task.status, TaskStatus::Succeeded),
        Err(RepoError::Stale { .. }) => {}
        Err(other) => panic!("the completion failed: {other:?}"),
    }
    assert_eq!(
        execution(store, ctx, &started).await.status,
        ExecutionStatus::Cancelled
    );
    let open = steps_of(store, ctx, &started)
        .await
        .into_iter()
        .filter(|item| !item.task.status.is_terminal())
        .count();
    assert_eq!(open, 0);
}

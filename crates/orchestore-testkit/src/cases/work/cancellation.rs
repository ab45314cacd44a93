//! Cancellation that reaches every descendant: subtasks, dependents, child workflow executions
//! and their tasks, at any depth, in one call; running descendants learn it at their next
//! heartbeat.

use orchestore_domain::{
    Description, ExecutionStatus, LeaseDuration, Name, NewTask, NewWorkflow, NewWorkflowExecution,
    Payload, Priority, ProjectId, Task, TaskId, TaskStatus, WorkflowDefinition, WorkflowExecution,
    WorkflowId,
};
use orchestore_repo::{
    AuditFilter, AuditSort, CancelledDescendants, Ctx, Limit, PageRequest, RepoError, Store,
    TaskStatsScope,
};
use serde_json::{Value, json};

use super::graph::{reasons, run_to, worker};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_conflict, assert_invalid, assert_reference, task};

async fn status_of<S: Store + ?Sized>(store: &S, ctx: &Ctx, id: TaskId) -> TaskStatus {
    store.get_task(ctx, id).await.expect("get task").status
}

async fn subtask<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    project: ProjectId,
    parent: TaskId,
    title: &str,
) -> Task {
    store
        .create_task(
            ctx,
            NewTask {
                parent_id: Some(parent),
                ..task(project, title)
            },
        )
        .await
        .expect("subtask")
}

async fn dependent<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    project: ProjectId,
    on: TaskId,
    title: &str,
) -> Task {
    store
        .create_task(
            ctx,
            NewTask {
                depends_on: [on].into_iter().collect(),
                ..task(project, title)
            },
        )
        .await
        .expect("dependent")
}

/// The last reason in a task's history.
async fn last_reason<S: Store + ?Sized>(store: &S, ctx: &Ctx, id: TaskId) -> String {
    reasons(store, ctx, id)
        .await
        .pop()
        .expect("a history event")
}

/// A workflow named `name` whose latest version has `steps`.
async fn released<S: Store + ?Sized>(store: &S, ctx: &Ctx, name: &str, steps: Value) -> WorkflowId {
    let flow = store
        .create_workflow(
            ctx,
            NewWorkflow {
                name: Name::parse("name", name).expect("name"),
                description: Description::empty(),
            },
        )
        .await
        .expect("workflow");
    store
        .create_version(
            ctx,
            flow.id,
            WorkflowDefinition::parse(json!({ "steps": steps })).expect("definition"),
        )
        .await
        .expect("version");
    flow.id
}

fn run(workflow: WorkflowId, project: ProjectId) -> NewWorkflowExecution {
    NewWorkflowExecution {
        workflow_id: workflow,
        version: None,
        project_id: project,
        input: Payload::parse(json!({})).expect("input"),
        priority: Priority::default(),
    }
}

/// The task of each step of `execution`, by step name.
async fn step_tasks<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    execution: &WorkflowExecution,
) -> std::collections::BTreeMap<String, TaskId> {
    store
        .list_execution_tasks(
            ctx,
            execution.id,
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("execution tasks")
        .items
        .into_iter()
        .map(|item| (item.step_name.as_str().to_owned(), item.task.id))
        .collect()
}

async fn execution_status<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    execution: &WorkflowExecution,
) -> WorkflowExecution {
    store
        .get_execution(ctx, execution.id)
        .await
        .expect("get execution")
}

fn assert_stale<T: std::fmt::Debug>(result: Result<T, RepoError>, says: &str) {
    match result {
        Err(RepoError::Stale { reason, .. }) => assert!(reason.contains(says), "{reason}"),
        other => panic!("expected a stale lease, got {other:?}"),
    }
}

pub async fn cancelling_a_task_cancels_its_subtasks_and_dependents_at_every_depth<
    S: Store + ?Sized,
>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;
    let root = store
        .create_task(ctx, task(project.id, "root"))
        .await
        .expect("root");
    let child = subtask(store, ctx, project.id, root.id, "child").await;
    let grandchild = subtask(store, ctx, project.id, child.id, "grandchild").await;
    let waits = dependent(store, ctx, project.id, child.id, "waits for the child").await;
    let waits_too = dependent(store, ctx, project.id, waits.id, "waits further").await;
    // A subtask that ended stays as it ended, and so does what hangs from it.
    let done = subtask(store, ctx, project.id, root.id, "done").await;
    run_to(store, ctx, done.id, agent.id, TaskStatus::Succeeded).await;
    let after_done = dependent(store, ctx, project.id, done.id, "after done").await;
    let unrelated = store
        .create_task(ctx, task(project.id, "unrelated"))
        .await
        .expect("unrelated");

    let cancellation = store
        .cancel_task(ctx, root.id, Some("plan changed".to_owned()), None)
        .await
        .expect("cancel");

    assert_eq!(cancellation.task.status, TaskStatus::Cancelled);
    assert_eq!(
        cancellation.descendants,
        CancelledDescendants {
            tasks: 4,
            workflow_executions: 0,
        }
    );
    for id in [child.id, grandchild.id, waits.id, waits_too.id] {
        assert_eq!(status_of(store, ctx, id).await, TaskStatus::Cancelled);
    }
    assert_eq!(status_of(store, ctx, done.id).await, TaskStatus::Succeeded);
    assert_eq!(
        status_of(store, ctx, after_done.id).await,
        TaskStatus::Queued
    );
    assert_eq!(
        status_of(store, ctx, unrelated.id).await,
        TaskStatus::Queued
    );
    let origin = format!("cancellation of task {}", root.id);
    assert_eq!(last_reason(store, ctx, root.id).await, "plan changed");
    assert_eq!(
        last_reason(store, ctx, child.id).await,
        format!("parent task {} was cancelled ({origin})", root.id)
    );
    assert_eq!(
        last_reason(store, ctx, grandchild.id).await,
        format!("parent task {} was cancelled ({origin})", child.id)
    );
    assert_eq!(
        last_reason(store, ctx, waits.id).await,
        format!("dependency {} was cancelled ({origin})", child.id)
    );
    assert_eq!(
        last_reason(store, ctx, waits_too.id).await,
        format!("dependency {} was cancelled ({origin})", waits.id)
    );
    let audit = store
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::default().sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit");
    assert_eq!(audit.items[0].action, "task.status.cancelled");
    assert_eq!(audit.items[0].entity_id, root.id.to_string());
    assert_eq!(audit.items[0].changes["cancelled_tasks_count"], 4);

    // Cancelling again is refused and changes nothing.
    let events_before = reasons(store, ctx, child.id).await.len();
    assert_invalid(store.cancel_task(ctx, root.id, None, None).await, "status");
    assert_eq!(reasons(store, ctx, child.id).await.len(), events_before);
    // A descendant cancelled with its parent is cancelled once.
    assert_invalid(store.cancel_task(ctx, child.id, None, None).await, "status");
}

pub async fn a_running_descendant_learns_its_cancellation_at_its_next_heartbeat<
    S: Store + ?Sized,
>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;
    let root = store
        .create_task(ctx, task(project.id, "root"))
        .await
        .expect("root");
    let child = subtask(store, ctx, project.id, root.id, "child").await;
    let claimed = store
        .claim_task(ctx, child.id, agent.id, LeaseDuration::default())
        .await
        .expect("claim");

    let cancellation = store
        .cancel_task(ctx, root.id, None, None)
        .await
        .expect("cancel");

    assert_eq!(cancellation.descendants.tasks, 1);
    let cancelled = store.get_task(ctx, child.id).await.expect("child");
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert_eq!(cancelled.lease_expires_at, None);
    assert_stale(
        store
            .heartbeat_task(
                ctx,
                child.id,
                claimed.lease_token,
                LeaseDuration::default(),
                None,
            )
            .await,
        "cancelled",
    );
    assert_stale(
        store
            .complete_task(ctx, child.id, claimed.lease_token, None)
            .await,
        "cancelled",
    );
    assert_eq!(status_of(store, ctx, child.id).await, TaskStatus::Cancelled);
}

pub async fn cancelling_a_task_cancels_the_executions_started_from_it<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;
    let flow = released(
        store,
        ctx,
        "Release",
        json!([{"name": "a"}, {"name": "b", "depends_on": ["a"]}]),
    )
    .await;
    let parent = store
        .create_task(ctx, task(project.id, "parent"))
        .await
        .expect("parent");
    let child = store
        .create_child_execution(ctx, parent.id, run(flow, project.id))
        .await
        .expect("child execution");
    assert_eq!(child.parent_task_id, Some(parent.id));
    let steps = step_tasks(store, ctx, &child).await;
    let (a, b) = (steps["a"], steps["b"]);
    let claimed = store
        .claim_task(ctx, a, agent.id, LeaseDuration::default())
        .await
        .expect("claim a");
    // A grandchild: started from the child's running step.
    let grandchild = store
        .create_child_execution(ctx, a, run(flow, project.id))
        .await
        .expect("grandchild execution");
    let grand_steps = step_tasks(store, ctx, &grandchild).await;

    let cancellation = store
        .cancel_task(ctx, parent.id, None, None)
        .await
        .expect("cancel");

    assert_eq!(
        cancellation.descendants,
        CancelledDescendants {
            tasks: 4,
            workflow_executions: 2,
        }
    );
    let ended = execution_status(store, ctx, &child).await;
    assert_eq!(ended.status, ExecutionStatus::Cancelled);
    assert_eq!(
        ended.error.as_ref().map(Payload::as_value),
        Some(&json!({
            "message": format!("parent task {} was cancelled", parent.id),
            "parent_task_id": parent.id,
            "reason": format!("cancellation of task {}", parent.id),
        }))
    );
    assert_eq!(
        execution_status(store, ctx, &grandchild).await.status,
        ExecutionStatus::Cancelled
    );
    for id in [a, b, grand_steps["a"], grand_steps["b"]] {
        assert_eq!(status_of(store, ctx, id).await, TaskStatus::Cancelled);
    }
    assert_eq!(
        last_reason(store, ctx, a).await,
        format!(
            "workflow execution {} was cancelled with its parent task {} (cancellation of task {})",
            child.id, parent.id, parent.id
        )
    );
    assert_stale(
        store
            .heartbeat_task(ctx, a, claimed.lease_token, LeaseDuration::default(), None)
            .await,
        "cancelled",
    );

    // The parent is the organization's own task, and one that has not ended.
    assert_reference(
        store
            .create_child_execution(&other.ctx, parent.id, run(flow, project.id))
            .await,
        "parent_task_id",
    );
    assert_conflict(
        store
            .create_child_execution(ctx, parent.id, run(flow, project.id))
            .await,
        None,
    );
}

pub async fn cancelling_an_execution_cancels_its_child_executions_and_subtasks<
    S: Store + ?Sized,
>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;
    let flow = released(
        store,
        ctx,
        "Release",
        json!([{"name": "a"}, {"name": "b", "depends_on": ["a"]}]),
    )
    .await;
    let leaf = released(store, ctx, "Leaf", json!([{"name": "only"}])).await;
    let started = store
        .create_execution(ctx, run(flow, project.id))
        .await
        .expect("execution");
    let steps = step_tasks(store, ctx, &started).await;
    // Step a starts a child execution and succeeds; the child runs on.
    let from_a = store
        .create_child_execution(ctx, steps["a"], run(leaf, project.id))
        .await
        .expect("child of a");
    run_to(store, ctx, steps["a"], agent.id, TaskStatus::Succeeded).await;
    // Step b, queued now, has a subtask and a child execution of its own.
    let b_subtask = subtask(store, ctx, project.id, steps["b"], "part of b").await;
    let from_b = store
        .create_child_execution(ctx, steps["b"], run(leaf, project.id))
        .await
        .expect("child of b");

    let cancelled = store
        .cancel_execution(ctx, started.id, Some("stop".to_owned()), None)
        .await
        .expect("cancel execution");

    assert_eq!(cancelled.status, ExecutionStatus::Cancelled);
    assert_eq!(
        status_of(store, ctx, steps["a"]).await,
        TaskStatus::Succeeded
    );
    assert_eq!(
        status_of(store, ctx, steps["b"]).await,
        TaskStatus::Cancelled
    );
    assert_eq!(
        status_of(store, ctx, b_subtask.id).await,
        TaskStatus::Cancelled
    );
    for child in [&from_a, &from_b] {
        assert_eq!(
            execution_status(store, ctx, child).await.status,
            ExecutionStatus::Cancelled
        );
        let only = step_tasks(store, ctx, child).await["only"];
        assert_eq!(status_of(store, ctx, only).await, TaskStatus::Cancelled);
    }
    let origin = format!("cancellation of workflow execution {}", started.id);
    assert_eq!(
        last_reason(store, ctx, b_subtask.id).await,
        format!("parent task {} was cancelled ({origin})", steps["b"])
    );
    // Cancelling it again changes nothing.
    let again = store
        .cancel_execution(ctx, started.id, None, None)
        .await
        .expect("cancel again");
    assert_eq!(again, execution_status(store, ctx, &started).await);
}

pub async fn a_tree_of_thousands_is_cancelled_in_one_call<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let root = store
        .create_task(ctx, task(project.id, "root"))
        .await
        .expect("root");
    // 1500 subtasks of the root, then a chain of 600 tasks each waiting for the one before,
    // the first waiting for the last subtask.
    let wide: Vec<orchestore_domain::BatchTask> = (0..1500)
        .map(|n| {
            NewTask {
                parent_id: Some(root.id),
                ..task(project.id, &format!("part {n}"))
            }
            .into()
        })
        .collect();
    let parts = store.enqueue_tasks(ctx, wide).await.expect("parts");
    let last_part = parts.last().expect("a part").task.id;
    let chain: Vec<orchestore_domain::BatchTask> = (0..600)
        .map(|n| {
            let mut link: orchestore_domain::BatchTask = NewTask {
                depends_on: if n == 0 {
                    [last_part].into_iter().collect()
                } else {
                    Default::default()
                },
                ..task(project.id, &format!("link {n}"))
            }
            .into();
            if n > 0 {
                link.depends_on_batch = [n - 1].into_iter().collect();
            }
            link
        })
        .collect();
    let links = store.enqueue_tasks(ctx, chain).await.expect("chain");

    let cancellation = store
        .cancel_task(ctx, root.id, None, None)
        .await
        .expect("cancel");

    assert_eq!(cancellation.descendants.tasks, 2100);
    let stats = store
        .task_stats(ctx, TaskStatsScope::Organization)
        .await
        .expect("stats");
    assert_eq!(stats.by_status[&TaskStatus::Cancelled], 2101);
    let last_link = links.last().expect("a link").task.id;
    assert_eq!(
        last_reason(store, ctx, last_link).await,
        format!(
            "dependency {} was cancelled (cancellation of task {})",
            links[598].task.id, root.id
        )
    );
}

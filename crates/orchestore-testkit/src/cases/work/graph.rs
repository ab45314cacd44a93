//! The task graph: subtasks, assigned agents, dependencies, history, statistics.

use chrono::{Duration, SubsecRound, Utc};
use orchestore_domain::{
    Agent, AgentId, AgentKind, Capabilities, Effort, IdempotencyKey, LeaseDuration, MaxAttempts,
    Name, NewAgent, NewTask, Priority, Progress, Tags, Task, TaskId, TaskPatch, TaskStatus,
};
use orchestore_repo::{
    AuditSort, Ctx, DependencySort, DependentSort, Limit, PageRequest, RepoError, Retry, Store,
    TaskEventSort, TaskFilter, TaskStatsScope,
};
use serde_json::json;

use crate::Fixture;
use crate::cases::{
    PASSWORD, assert_conflict, assert_cycle, assert_invalid, assert_not_found, assert_reference,
    task,
};

pub(crate) async fn worker<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    name: &str,
    capabilities: &[&str],
) -> Agent {
    let new = NewAgent {
        capabilities: Capabilities::parse(capabilities).expect("capabilities"),
        ..NewAgent::named(Name::parse("name", name).expect("name"), AgentKind::Ai)
    };
    store.create_agent(ctx, new).await.expect("create agent")
}

async fn set_status<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    id: TaskId,
    status: TaskStatus,
) -> Result<Task, RepoError> {
    let patch = TaskPatch {
        status: Some(status),
        ..TaskPatch::default()
    };
    store.update_task(ctx, id, patch).await
}

/// Claims `id` for `agent` and ends the run as its worker would: `Succeeded`, or `Failed` for
/// good.
pub(crate) async fn run_to<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    id: TaskId,
    agent: AgentId,
    end: TaskStatus,
) -> Task {
    let claimed = store
        .claim_task(ctx, id, agent, LeaseDuration::default())
        .await
        .expect("claim");
    let token = claimed.lease_token;
    match end {
        TaskStatus::Succeeded => store.complete_task(ctx, id, token, None).await,
        TaskStatus::Failed => store.fail_task(ctx, id, token, None, Retry::Never).await,
        other => panic!("a run ends succeeded or failed, not {other}"),
    }
    .expect("end the run")
}

async fn status_of<S: Store + ?Sized>(store: &S, ctx: &Ctx, id: TaskId) -> TaskStatus {
    store.get_task(ctx, id).await.expect("get task").status
}

/// The reasons of a task's history, oldest first.
pub(crate) async fn reasons<S: Store + ?Sized>(store: &S, ctx: &Ctx, id: TaskId) -> Vec<String> {
    store
        .list_task_events(
            ctx,
            id,
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("events")
        .items
        .into_iter()
        .map(|event| event.reason)
        .collect()
}

async fn audit_actions<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> Vec<String> {
    store
        .list_audit(ctx, PageRequest::first(Limit::parse(200).expect("limit")))
        .await
        .expect("audit")
        .items
        .into_iter()
        .map(|entry| entry.action)
        .collect()
}

fn ids(tasks: &[Task]) -> Vec<TaskId> {
    tasks.iter().map(|t| t.id).collect()
}

pub async fn tasks_carry_subtasks_agents_and_scheduling_fields<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let apollo = acme.project(store, "Apollo").await;
    let gemini = acme.project(store, "Gemini").await;
    let agent = worker(store, &acme.ctx, "pilot", &[]).await;
    let parent = store
        .create_task(&acme.ctx, task(apollo.id, "Fly"))
        .await
        .expect("parent");
    let plain = task(apollo.id, "defaults");
    let plain = store.create_task(&acme.ctx, plain).await.expect("plain");
    assert_eq!(
        (
            plain.attempts,
            plain.max_attempts.get(),
            plain.progress.get()
        ),
        (0, 3, 0)
    );
    assert!(plain.parent_id.is_none() && plain.started_at.is_none() && plain.result.is_none());

    let run_after = Utc::now() + Duration::hours(2);
    let full = NewTask {
        parent_id: Some(parent.id),
        assigned_agent_id: Some(agent.id),
        estimated_minutes: Some(Effort::parse(90).expect("estimate")),
        progress: Progress::parse(10).expect("progress"),
        tags: Tags::parse(&["launch", "crew"]).expect("tags"),
        max_attempts: MaxAttempts::parse(5).expect("max attempts"),
        run_after: Some(run_after),
        idempotency_key: Some(IdempotencyKey::parse("fly-1").expect("key")),
        ..task(apollo.id, "Check the suits")
    };
    let child = store.create_task(&acme.ctx, full).await.expect("child");
    assert_eq!(child.parent_id, Some(parent.id));
    assert_eq!(child.assigned_agent_id, Some(agent.id));
    assert_eq!(child.estimated_minutes.map(Effort::minutes), Some(90));
    assert_eq!(child.tags.to_strings(), vec!["crew", "launch"]);
    // Kept to the microsecond, as both backends store it.
    assert_eq!(child.run_after, Some(run_after.trunc_subsecs(6)));
    assert_eq!(child.max_attempts.get(), 5);
    assert_eq!(
        child.idempotency_key.as_ref().map(IdempotencyKey::as_str),
        Some("fly-1")
    );
    assert_eq!(
        store.get_task(&acme.ctx, child.id).await.expect("get"),
        child
    );

    // Filters: subtasks of a parent, tasks of an agent, tasks with a tag.
    let ctx = &acme.ctx;
    let filtered = |filter: TaskFilter| async move {
        ids(&store
            .list_tasks(ctx, filter, PageRequest::default())
            .await
            .expect("list")
            .items)
    };
    assert_eq!(
        filtered(TaskFilter {
            parent_id: Some(parent.id),
            ..TaskFilter::default()
        })
        .await,
        vec![child.id]
    );
    assert_eq!(
        filtered(TaskFilter {
            assigned_agent_id: Some(agent.id),
            ..TaskFilter::default()
        })
        .await,
        vec![child.id]
    );
    assert_eq!(
        filtered(TaskFilter {
            tags: Tags::parse(&["crew"]).expect("tags"),
            ..TaskFilter::default()
        })
        .await,
        vec![child.id]
    );
    assert!(
        filtered(TaskFilter {
            tags: Tags::parse(&["crew", "moon"]).expect("tags"),
            ..TaskFilter::default()
        })
        .await
        .is_empty()
    );

    // The nullable fields clear; the others change.
    let patch = TaskPatch {
        parent_id: Some(None),
        assigned_agent_id: Some(None),
        estimated_minutes: Some(None),
        run_after: Some(None),
        progress: Some(Progress::parse(55).expect("progress")),
        tags: Some(Tags::default()),
        max_attempts: Some(MaxAttempts::parse(1).expect("max attempts")),
        ..TaskPatch::default()
    };
    let cleared = store
        .update_task(&acme.ctx, child.id, patch)
        .await
        .expect("clear");
    assert!(cleared.parent_id.is_none() && cleared.assigned_agent_id.is_none());
    assert!(cleared.estimated_minutes.is_none() && cleared.run_after.is_none());
    assert_eq!(
        (cleared.progress.get(), cleared.max_attempts.get()),
        (55, 1)
    );
    assert_eq!(cleared.idempotency_key, child.idempotency_key, "set once");

    // A parent or an agent from elsewhere is refused, and nothing changes.
    let theirs = other.project(store, "Theirs").await;
    let their_task = store
        .create_task(&other.ctx, task(theirs.id, "theirs"))
        .await
        .expect("theirs");
    let their_agent = worker(store, &other.ctx, "spy", &[]).await;
    let reparent = |parent| TaskPatch {
        parent_id: Some(Some(parent)),
        ..TaskPatch::default()
    };
    assert_reference(
        store
            .update_task(&acme.ctx, child.id, reparent(their_task.id))
            .await,
        "parent_id",
    );
    assert_reference(
        store
            .create_task(
                &acme.ctx,
                NewTask {
                    parent_id: Some(TaskId::new()),
                    ..task(apollo.id, "orphan")
                },
            )
            .await,
        "parent_id",
    );
    assert_reference(
        store
            .create_task(
                &acme.ctx,
                NewTask {
                    assigned_agent_id: Some(their_agent.id),
                    ..task(apollo.id, "borrowed")
                },
            )
            .await,
        "assigned_agent_id",
    );
    let elsewhere = store
        .create_task(&acme.ctx, task(gemini.id, "elsewhere"))
        .await
        .expect("elsewhere");
    assert_invalid(
        store
            .update_task(&acme.ctx, child.id, reparent(elsewhere.id))
            .await,
        "parent_id",
    );

    // A task cannot be its own ancestor.
    store
        .update_task(&acme.ctx, child.id, reparent(parent.id))
        .await
        .expect("back under its parent");
    let grandchild = store
        .create_task(
            &acme.ctx,
            NewTask {
                parent_id: Some(child.id),
                ..task(apollo.id, "grandchild")
            },
        )
        .await
        .expect("grandchild");
    let path = assert_cycle(
        store
            .update_task(&acme.ctx, parent.id, reparent(grandchild.id))
            .await,
        "parent_id",
    );
    let names = |ids: &[TaskId]| ids.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(
        path,
        names(&[parent.id, grandchild.id, child.id, parent.id])
    );
    assert_eq!(
        assert_cycle(
            store
                .update_task(&acme.ctx, parent.id, reparent(parent.id))
                .await,
            "parent_id"
        ),
        names(&[parent.id, parent.id])
    );
    assert!(
        store
            .get_task(&acme.ctx, parent.id)
            .await
            .expect("get")
            .parent_id
            .is_none()
    );
    assert_not_found(store.get_task(&other.ctx, child.id).await, "task");
}

pub async fn idempotency_keys_are_unique_per_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let theirs = other.project(store, "Apollo").await;
    let keyed = |project, title| NewTask {
        idempotency_key: Some(IdempotencyKey::parse("order-42").expect("key")),
        ..task(project, title)
    };
    let first = store
        .create_task(&acme.ctx, keyed(project.id, "first"))
        .await
        .expect("first");
    let before = audit_actions(store, &acme.ctx).await;
    let again = store
        .create_task(&acme.ctx, keyed(project.id, "again"))
        .await;
    match &again {
        Err(RepoError::Conflict { reason, .. }) => {
            assert!(reason.contains(&first.id.to_string()), "{reason}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_conflict(again, Some("idempotency_key"));
    assert_eq!(
        audit_actions(store, &acme.ctx).await,
        before,
        "nothing written"
    );
    // Another organization has its own keys; tasks without a key never collide.
    store
        .create_task(&other.ctx, keyed(theirs.id, "theirs"))
        .await
        .expect("same key elsewhere");
    for n in 0..2 {
        store
            .create_task(&acme.ctx, task(project.id, &format!("unkeyed {n}")))
            .await
            .expect("no key");
    }
}

pub async fn dependencies_block_and_release_tasks<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, &acme.ctx, "worker", &[]).await;
    let new = |title| store.create_task(&acme.ctx, task(project.id, title));
    let build = new("build").await.expect("build");
    let test = new("test").await.expect("test");
    let ship = new("ship").await.expect("ship");

    // test waits for build, ship for both.
    let blocked = store
        .add_dependency(&acme.ctx, test.id, build.id)
        .await
        .expect("test after build");
    assert_eq!(blocked.status, TaskStatus::Blocked);
    store
        .add_dependency(&acme.ctx, ship.id, test.id)
        .await
        .expect("ship after test");
    store
        .add_dependency(&acme.ctx, ship.id, build.id)
        .await
        .expect("ship after build");
    let deps = store
        .list_dependencies(&acme.ctx, ship.id, PageRequest::<DependencySort>::default())
        .await
        .expect("dependencies");
    assert_eq!(ids(&deps.items), vec![build.id, test.id]);
    let dependents = store
        .list_dependents(&acme.ctx, build.id, PageRequest::<DependentSort>::default())
        .await
        .expect("dependents");
    assert_eq!(ids(&dependents.items), vec![test.id, ship.id]);
    let newest_first = store
        .list_dependents(
            &acme.ctx,
            build.id,
            PageRequest::first(Limit::parse(1).expect("limit"))
                .sorted(DependentSort::CreatedAtDesc),
        )
        .await
        .expect("dependents");
    assert_eq!(ids(&newest_first.items), vec![ship.id]);
    assert!(newest_first.next_cursor.is_some());

    // Refusals, each changing nothing.
    let before = audit_actions(store, &acme.ctx).await;
    assert_conflict(
        store.add_dependency(&acme.ctx, test.id, build.id).await,
        Some("depends_on"),
    );
    let theirs = other.project(store, "Theirs").await;
    let their_task = store
        .create_task(&other.ctx, task(theirs.id, "theirs"))
        .await
        .expect("theirs");
    assert_reference(
        store
            .add_dependency(&acme.ctx, build.id, their_task.id)
            .await,
        "depends_on",
    );
    assert_reference(
        store
            .add_dependency(&acme.ctx, build.id, TaskId::new())
            .await,
        "depends_on",
    );
    assert_not_found(
        store.add_dependency(&other.ctx, test.id, build.id).await,
        "task",
    );
    assert_not_found(
        store
            .list_dependencies(&other.ctx, ship.id, PageRequest::default())
            .await,
        "task",
    );
    // A blocked task is queued by its dependencies, not by a client.
    assert_conflict(
        set_status(store, &acme.ctx, test.id, TaskStatus::Queued).await,
        None,
    );
    assert_eq!(audit_actions(store, &acme.ctx).await, before);

    // build runs and succeeds: test is released; ship still waits for test.
    let claimed = store
        .claim_task(&acme.ctx, build.id, agent.id, LeaseDuration::default())
        .await
        .expect("claim build");
    assert_conflict(
        store.add_dependency(&acme.ctx, build.id, ship.id).await,
        None,
    );
    store
        .complete_task(&acme.ctx, build.id, claimed.lease_token, None)
        .await
        .expect("build succeeded");
    assert_eq!(
        status_of(store, &acme.ctx, test.id).await,
        TaskStatus::Queued
    );
    assert_eq!(
        status_of(store, &acme.ctx, ship.id).await,
        TaskStatus::Blocked
    );
    assert_eq!(
        reasons(store, &acme.ctx, test.id).await,
        vec![
            "created".to_owned(),
            format!("dependency {} added", build.id),
            format!("dependency {} succeeded", build.id),
        ]
    );
    // A dependency that has succeeded does not block.
    let docs = new("docs").await.expect("docs");
    let unblocked = store
        .add_dependency(&acme.ctx, docs.id, build.id)
        .await
        .expect("docs after build");
    assert_eq!(unblocked.status, TaskStatus::Queued);

    // Removing ship's last open dependency queues it; removing it again is not found.
    let released = store
        .remove_dependency(&acme.ctx, ship.id, test.id)
        .await
        .expect("remove");
    assert_eq!(released.status, TaskStatus::Queued);
    assert_eq!(
        reasons(store, &acme.ctx, ship.id).await.last(),
        Some(&format!("dependency {} removed", test.id))
    );
    assert_not_found(
        store.remove_dependency(&acme.ctx, ship.id, test.id).await,
        "task_dependency",
    );
    let deps = store
        .list_dependencies(&acme.ctx, ship.id, PageRequest::default())
        .await
        .expect("dependencies");
    assert_eq!(ids(&deps.items), vec![build.id]);

    // A cancelled task can never succeed: nothing may wait for it.
    set_status(store, &acme.ctx, docs.id, TaskStatus::Cancelled)
        .await
        .expect("cancel docs");
    assert_conflict(
        store.add_dependency(&acme.ctx, ship.id, docs.id).await,
        None,
    );
    let actions = audit_actions(store, &acme.ctx).await;
    assert!(actions.contains(&"task.dependency.add".to_owned()));
    assert!(actions.contains(&"task.dependency.remove".to_owned()));
}

pub async fn a_dependency_that_closes_a_cycle_is_refused<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let project = fixture.project(store, "Apollo").await;
    // A chain t0 ← t1 ← … ← t59 (each waits for the one before).
    const N: usize = 60;
    let mut chain = Vec::new();
    for n in 0..N {
        let created = store
            .create_task(&fixture.ctx, task(project.id, &format!("t{n}")))
            .await
            .expect("create");
        if let Some(previous) = chain.last() {
            store
                .add_dependency(&fixture.ctx, created.id, *previous)
                .await
                .expect("chain");
        }
        chain.push(created.id);
    }
    let before = audit_actions(store, &fixture.ctx).await;
    // t0 waiting for t59 would close the whole chain.
    let path = assert_cycle(
        store
            .add_dependency(&fixture.ctx, chain[0], chain[N - 1])
            .await,
        "depends_on",
    );
    assert_eq!(path.len(), N + 1);
    let mut expected: Vec<String> = std::iter::once(chain[0])
        .chain(chain.iter().rev().copied())
        .map(|id| id.to_string())
        .collect();
    expected.truncate(N + 1);
    assert_eq!(path, expected);
    // Waiting for oneself is the shortest cycle.
    assert_eq!(
        assert_cycle(
            store.add_dependency(&fixture.ctx, chain[3], chain[3]).await,
            "depends_on"
        ),
        vec![chain[3].to_string(), chain[3].to_string()]
    );
    // A shortcut that closes nothing is fine.
    store
        .add_dependency(&fixture.ctx, chain[N - 1], chain[0])
        .await
        .expect("a shortcut");
    assert_eq!(
        audit_actions(store, &fixture.ctx).await.len(),
        before.len() + 1,
        "the refusals wrote nothing"
    );
    assert_eq!(
        status_of(store, &fixture.ctx, chain[0]).await,
        TaskStatus::Queued
    );
}

pub async fn a_failure_cancels_the_blocked_dependents_transitively<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let project = fixture.project(store, "Apollo").await;
    let agent = worker(store, &fixture.ctx, "worker", &[]).await;
    let ctx = &fixture.ctx;
    let new = |title| store.create_task(ctx, task(project.id, title));
    let root = new("root").await.expect("root");
    let child = new("child").await.expect("child");
    let grandchild = new("grandchild").await.expect("grandchild");
    let unrelated = new("unrelated").await.expect("unrelated");
    let both = new("both").await.expect("both");
    store
        .add_dependency(ctx, child.id, root.id)
        .await
        .expect("edge");
    store
        .add_dependency(ctx, grandchild.id, child.id)
        .await
        .expect("edge");
    store
        .add_dependency(ctx, both.id, child.id)
        .await
        .expect("edge");
    store
        .add_dependency(ctx, both.id, unrelated.id)
        .await
        .expect("edge");

    run_to(store, ctx, root.id, agent.id, TaskStatus::Failed).await;
    for (id, reason) in [
        (child.id, format!("dependency {} failed", root.id)),
        (
            grandchild.id,
            format!("dependency {} was cancelled", child.id),
        ),
        (both.id, format!("dependency {} was cancelled", child.id)),
    ] {
        let cancelled = store.get_task(ctx, id).await.expect("get");
        assert_eq!(cancelled.status, TaskStatus::Cancelled);
        assert!(cancelled.finished_at.is_some());
        assert_eq!(reasons(store, ctx, id).await.last(), Some(&reason));
    }
    assert_eq!(
        status_of(store, ctx, unrelated.id).await,
        TaskStatus::Queued
    );

    // The worker's failure is in the failed task's history, like every queue transition.
    assert_eq!(
        reasons(store, ctx, root.id)
            .await
            .last()
            .map(String::as_str),
        Some("attempt 1 failed and is not to be retried")
    );

    // Cancelling a queued task cancels what waits for it too.
    let later = new("later").await.expect("later");
    store
        .add_dependency(ctx, later.id, unrelated.id)
        .await
        .expect("edge");
    set_status(store, ctx, unrelated.id, TaskStatus::Cancelled)
        .await
        .expect("cancel");
    assert_eq!(status_of(store, ctx, later.id).await, TaskStatus::Cancelled);
}

pub async fn a_task_created_with_dependencies_starts_blocked<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, &acme.ctx, "worker", &[]).await;
    let ctx = &acme.ctx;
    let open = store
        .create_task(ctx, task(project.id, "open"))
        .await
        .expect("open");
    let done = store
        .create_task(ctx, task(project.id, "done"))
        .await
        .expect("done");
    run_to(store, ctx, done.id, agent.id, TaskStatus::Succeeded).await;
    let after = |depends_on: &[TaskId], title| NewTask {
        depends_on: depends_on.iter().copied().collect(),
        ..task(project.id, title)
    };

    let waiting = store
        .create_task(ctx, after(&[open.id, done.id], "waiting"))
        .await
        .expect("waiting");
    assert_eq!(waiting.status, TaskStatus::Blocked);
    assert_eq!(
        reasons(store, ctx, waiting.id).await,
        vec!["created waiting for 1 open dependency".to_owned()]
    );
    let deps = store
        .list_dependencies(ctx, waiting.id, PageRequest::default())
        .await
        .expect("dependencies");
    assert_eq!(ids(&deps.items), vec![open.id, done.id]);
    let ready = store
        .create_task(ctx, after(&[done.id], "ready"))
        .await
        .expect("ready");
    assert_eq!(ready.status, TaskStatus::Queued);

    let theirs = other.project(store, "Theirs").await;
    let their_task = store
        .create_task(&other.ctx, task(theirs.id, "theirs"))
        .await
        .expect("theirs");
    let before = audit_actions(store, ctx).await;
    assert_reference(
        store
            .create_task(ctx, after(&[open.id, their_task.id], "foreign"))
            .await,
        "depends_on",
    );
    let cancelled = store
        .create_task(ctx, task(project.id, "cancelled"))
        .await
        .expect("cancelled");
    set_status(store, ctx, cancelled.id, TaskStatus::Cancelled)
        .await
        .expect("cancel");
    let before_cancelled = audit_actions(store, ctx).await;
    assert_eq!(before_cancelled.len(), before.len() + 2);
    assert_conflict(
        store
            .create_task(ctx, after(&[cancelled.id], "hopeless"))
            .await,
        None,
    );
    assert_eq!(audit_actions(store, ctx).await, before_cancelled);

    // Its dependency succeeding releases it.
    run_to(store, ctx, open.id, agent.id, TaskStatus::Succeeded).await;
    assert_eq!(status_of(store, ctx, waiting.id).await, TaskStatus::Queued);
}

pub async fn every_status_change_is_in_the_task_history<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, &acme.ctx, "worker", &["rust"]).await;
    let ctx = &acme.ctx;
    let created = store
        .create_task(ctx, task(project.id, "history"))
        .await
        .expect("create");
    // A change of fields alone is no status change.
    store
        .update_task(
            ctx,
            created.id,
            TaskPatch {
                priority: Some(Priority::parse(3).expect("priority")),
                ..TaskPatch::default()
            },
        )
        .await
        .expect("reprioritise");
    let claimed = store
        .claim_task(ctx, created.id, agent.id, LeaseDuration::default())
        .await
        .expect("claim");
    let started = &claimed.task;
    assert_eq!(started.attempts, 1);
    assert_eq!(started.assigned_agent_id, Some(agent.id));
    assert!(started.started_at.is_some() && started.finished_at.is_none());
    let finished = store
        .complete_task(ctx, created.id, claimed.lease_token, None)
        .await
        .expect("succeed");
    assert!(finished.finished_at >= finished.started_at);

    let events = store
        .list_task_events(ctx, created.id, PageRequest::default())
        .await
        .expect("events")
        .items;
    let steps: Vec<_> = events
        .iter()
        .map(|e| (e.from_status, e.to_status))
        .collect();
    assert_eq!(
        steps,
        vec![
            (None, TaskStatus::Queued),
            (Some(TaskStatus::Queued), TaskStatus::Running),
            (Some(TaskStatus::Running), TaskStatus::Succeeded),
        ]
    );
    assert_eq!(events[1].reason, format!("claimed by agent {}", agent.id));
    assert!(
        events
            .iter()
            .all(|e| e.actor == format!("user:{}", acme.owner.id) && e.task_id == created.id)
    );
    assert!(
        events
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at)
    );

    // Pages, newest first.
    let first = store
        .list_task_events(
            ctx,
            created.id,
            PageRequest::first(Limit::parse(2).expect("limit"))
                .sorted(TaskEventSort::CreatedAtDesc),
        )
        .await
        .expect("page");
    assert_eq!(first.items, vec![events[2].clone(), events[1].clone()]);
    let second = store
        .list_task_events(
            ctx,
            created.id,
            PageRequest::first(Limit::parse(2).expect("limit")).next(first.next_cursor),
        )
        .await
        .expect("page");
    assert_eq!(second.items, vec![events[0].clone()]);
    assert!(second.next_cursor.is_none());
    assert_not_found(
        store
            .list_task_events(&other.ctx, created.id, PageRequest::default())
            .await,
        "task",
    );
}

pub async fn claiming_a_task_needs_an_agent_that_can_run_it<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let ctx = &acme.ctx;
    let rustacean = worker(store, ctx, "rustacean", &["rust", "review"]).await;
    let novice = worker(store, ctx, "novice", &[]).await;
    let foreign = worker(store, &other.ctx, "foreign", &["rust"]).await;
    let needs_rust = NewTask {
        required_capabilities: Capabilities::parse(&["rust"]).expect("capabilities"),
        max_attempts: MaxAttempts::parse(1).expect("max attempts"),
        ..task(project.id, "needs rust")
    };
    let created = store.create_task(ctx, needs_rust).await.expect("create");
    let lease = LeaseDuration::default();

    assert_reference(
        store.claim_task(ctx, created.id, foreign.id, lease).await,
        "agent_id",
    );
    assert_conflict(
        store.claim_task(ctx, created.id, novice.id, lease).await,
        None,
    );
    assert_not_found(
        store
            .claim_task(&other.ctx, created.id, foreign.id, lease)
            .await,
        "task",
    );
    let later = NewTask {
        run_after: Some(Utc::now() + Duration::hours(1)),
        ..task(project.id, "later")
    };
    let later = store.create_task(ctx, later).await.expect("later");
    assert_conflict(
        store.claim_task(ctx, later.id, novice.id, lease).await,
        None,
    );
    for id in [created.id, later.id] {
        let untouched = store.get_task(ctx, id).await.expect("get");
        assert_eq!(
            (untouched.status, untouched.attempts),
            (TaskStatus::Queued, 0)
        );
    }

    // Assigned to one agent, it is claimed by that agent only.
    let helper = worker(store, ctx, "helper", &["rust"]).await;
    store
        .update_task(
            ctx,
            created.id,
            TaskPatch {
                assigned_agent_id: Some(Some(rustacean.id)),
                ..TaskPatch::default()
            },
        )
        .await
        .expect("assign");
    assert_conflict(
        store.claim_task(ctx, created.id, helper.id, lease).await,
        None,
    );
    let running = store
        .claim_task(ctx, created.id, rustacean.id, lease)
        .await
        .expect("claim");
    assert_eq!(running.task.status, TaskStatus::Running);
    assert_conflict(
        store.claim_task(ctx, created.id, rustacean.id, lease).await,
        None,
    );
    // Its one attempt fails: the dead letter; a retry by hand starts a fresh series.
    let failed = store
        .fail_task(
            ctx,
            created.id,
            running.lease_token,
            None,
            Retry::IfAttemptsLeft,
        )
        .await
        .expect("fail");
    assert_eq!(failed.status, TaskStatus::Failed);
    let retried = store.retry_task(ctx, created.id).await.expect("retry");
    assert_eq!((retried.status, retried.attempts), (TaskStatus::Queued, 0));
    assert!(retried.finished_at.is_none());
    run_to(store, ctx, created.id, rustacean.id, TaskStatus::Succeeded).await;
    let counted = store.get_agent(ctx, rustacean.id).await.expect("agent");
    assert_eq!((counted.tasks_completed, counted.tasks_failed), (1, 1));

    // A blocked task cannot be claimed.
    let blocked = NewTask {
        depends_on: [later.id].into_iter().collect(),
        ..task(project.id, "blocked")
    };
    let blocked = store.create_task(ctx, blocked).await.expect("blocked");
    assert_conflict(
        store.claim_task(ctx, blocked.id, rustacean.id, lease).await,
        None,
    );
}

pub async fn task_stats_count_by_status_and_priority_and_time_runs<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let apollo = acme.project(store, "Apollo").await;
    let gemini = acme.project(store, "Gemini").await;
    let agent = worker(store, &acme.ctx, "worker", &[]).await;
    let ctx = &acme.ctx;
    let with_priority = |project, title: &str, priority| NewTask {
        priority: Priority::parse(priority).expect("priority"),
        ..task(project, title)
    };
    let mut ran = Vec::new();
    for (n, priority) in [5, 5, 1].into_iter().enumerate() {
        let created = store
            .create_task(ctx, with_priority(apollo.id, &format!("a{n}"), priority))
            .await
            .expect("create");
        ran.push(created.id);
    }
    let cancelled = store
        .create_task(ctx, with_priority(gemini.id, "g", 9))
        .await
        .expect("create");
    set_status(store, ctx, cancelled.id, TaskStatus::Cancelled)
        .await
        .expect("cancel");
    run_to(store, ctx, ran[0], agent.id, TaskStatus::Succeeded).await;
    run_to(store, ctx, ran[1], agent.id, TaskStatus::Failed).await;
    let their_project = other.project(store, "Theirs").await;
    store
        .create_task(&other.ctx, task(their_project.id, "theirs"))
        .await
        .expect("theirs");

    let all = store
        .task_stats(ctx, TaskStatsScope::Organization)
        .await
        .expect("stats");
    assert_eq!(all.total, 4);
    let counts: Vec<(TaskStatus, u64)> = all.by_status.iter().map(|(s, n)| (*s, *n)).collect();
    assert_eq!(
        counts,
        vec![
            (TaskStatus::Blocked, 0),
            (TaskStatus::Queued, 1),
            (TaskStatus::Running, 0),
            (TaskStatus::Succeeded, 1),
            (TaskStatus::Failed, 1),
            (TaskStatus::Cancelled, 1),
        ]
    );
    let priorities: Vec<(i32, u64)> = all
        .by_priority
        .iter()
        .map(|p| (p.priority.get(), p.count))
        .collect();
    assert_eq!(priorities, vec![(9, 1), (5, 2), (1, 1)]);
    // The cancelled task never ran: two runs are measured.
    assert_eq!(all.run_time.measured, 2);
    assert!(all.run_time.mean_seconds.is_some_and(|s| s >= 0.0));
    assert!(all.run_time.p95_seconds >= all.run_time.mean_seconds);

    let apollo_only = store
        .task_stats(ctx, TaskStatsScope::Project(apollo.id))
        .await
        .expect("project stats");
    assert_eq!(apollo_only.total, 3);
    assert_eq!(apollo_only.by_status[&TaskStatus::Cancelled], 0);
    assert_eq!(apollo_only.run_time.measured, 2);
    let gemini_only = store
        .task_stats(ctx, TaskStatsScope::Project(gemini.id))
        .await
        .expect("project stats");
    assert_eq!((gemini_only.total, gemini_only.run_time.measured), (1, 0));
    assert_eq!(gemini_only.run_time.mean_seconds, None);
    assert_not_found(
        store
            .task_stats(ctx, TaskStatsScope::Project(their_project.id))
            .await,
        "project",
    );
    let theirs = store
        .task_stats(&other.ctx, TaskStatsScope::Organization)
        .await
        .expect("their stats");
    assert_eq!(theirs.total, 1);
}

pub async fn a_task_with_subtasks_is_not_deleted<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let project = fixture.project(store, "Apollo").await;
    let ctx = &fixture.ctx;
    let parent = store
        .create_task(ctx, task(project.id, "parent"))
        .await
        .expect("parent");
    let child = store
        .create_task(
            ctx,
            NewTask {
                parent_id: Some(parent.id),
                ..task(project.id, "child")
            },
        )
        .await
        .expect("child");
    let before = audit_actions(store, ctx).await;
    match store.delete_task(ctx, parent.id).await {
        Err(RepoError::Conflict {
            field: None,
            reason,
            ..
        }) => {
            assert!(reason.contains("1 subtask"), "{reason}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(audit_actions(store, ctx).await, before);
    assert_eq!(store.get_task(ctx, parent.id).await.expect("kept"), parent);

    // Its edges and history go with a task; what waited only for it is released.
    let waiting = store
        .create_task(
            ctx,
            NewTask {
                depends_on: [child.id].into_iter().collect(),
                ..task(project.id, "waiting")
            },
        )
        .await
        .expect("waiting");
    store
        .add_dependency(ctx, child.id, parent.id)
        .await
        .expect("child after parent");
    store
        .delete_task(ctx, child.id)
        .await
        .expect("delete child");
    assert_eq!(status_of(store, ctx, waiting.id).await, TaskStatus::Queued);
    assert_eq!(
        reasons(store, ctx, waiting.id).await.last(),
        Some(&format!("dependency {} was deleted", child.id))
    );
    assert!(
        store
            .list_dependents(ctx, parent.id, PageRequest::default())
            .await
            .expect("dependents")
            .items
            .is_empty()
    );
    assert_not_found(
        store
            .list_task_events(ctx, child.id, PageRequest::default())
            .await,
        "task",
    );
    let log = store
        .list_audit(ctx, PageRequest::default().sorted(AuditSort::CreatedAtDesc))
        .await
        .expect("audit");
    let deletion = &log.items[0];
    assert_eq!(deletion.action, "task.delete");
    assert_eq!(deletion.changes["dependencies"], json!([parent.id]));
    assert_eq!(deletion.changes["dependents"], json!([waiting.id]));
    assert_eq!(deletion.changes["deleted_event_count"], json!(2));
    assert_eq!(deletion.changes["released_tasks"], json!([waiting.id]));

    store
        .delete_task(ctx, parent.id)
        .await
        .expect("no subtask left");
    // A project goes with all its tasks, subtasks included.
    let again = store
        .create_task(ctx, task(project.id, "again"))
        .await
        .expect("again");
    store
        .create_task(
            ctx,
            NewTask {
                parent_id: Some(again.id),
                depends_on: [waiting.id].into_iter().collect(),
                ..task(project.id, "below")
            },
        )
        .await
        .expect("below");
    store
        .delete_project(ctx, project.id)
        .await
        .expect("delete project");
    assert_not_found(store.get_task(ctx, again.id).await, "task");
}

pub async fn deleting_an_agent_unassigns_its_tasks<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let project = fixture.project(store, "Apollo").await;
    let ctx = &fixture.ctx;
    let agent = worker(store, ctx, "leaving", &[]).await;
    let staying = worker(store, ctx, "staying", &[]).await;
    let assigned = |agent, title| NewTask {
        assigned_agent_id: Some(agent),
        ..task(project.id, title)
    };
    let mine = store
        .create_task(ctx, assigned(agent.id, "mine"))
        .await
        .expect("mine");
    let running = store
        .create_task(ctx, assigned(agent.id, "running"))
        .await
        .expect("running");
    store
        .claim_task(ctx, running.id, agent.id, LeaseDuration::default())
        .await
        .expect("claim");
    let theirs = store
        .create_task(ctx, assigned(staying.id, "theirs"))
        .await
        .expect("theirs");

    store.delete_agent(ctx, agent.id).await.expect("delete");
    for id in [mine.id, running.id] {
        assert_eq!(
            store
                .get_task(ctx, id)
                .await
                .expect("get")
                .assigned_agent_id,
            None
        );
    }
    assert_eq!(
        store
            .get_task(ctx, theirs.id)
            .await
            .expect("get")
            .assigned_agent_id,
        Some(staying.id)
    );
    let log = store
        .list_audit(ctx, PageRequest::default().sorted(AuditSort::CreatedAtDesc))
        .await
        .expect("audit");
    let deletion = &log.items[0];
    assert_eq!(deletion.action, "agent.delete");
    assert_eq!(deletion.changes["unassigned_task_count"], json!(2));
    assert_eq!(
        deletion.changes["unassigned_tasks"],
        json!([mine.id, running.id])
    );
}

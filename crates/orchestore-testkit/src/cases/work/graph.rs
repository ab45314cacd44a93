//! The task graph: dependencies that block and release tasks, cycles refused, failures that
//! cancel what waits; the helpers the work cases share.

use orchestore_domain::{
    Agent, AgentId, AgentKind, Capabilities, LeaseDuration, Name, NewAgent, NewTask, Task, TaskId,
    TaskPatch, TaskStatus,
};
use orchestore_repo::{
    AuditFilter, Ctx, DependencySort, DependentSort, Limit, PageRequest, RepoError, Retry, Store,
};

use crate::Fixture;
use crate::cases::{
    PASSWORD, assert_conflict, assert_cycle, assert_not_found, assert_reference, task,
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

pub(super) async fn set_status<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    id: TaskId,
    status: TaskStatus,
) -> Result<Task, RepoError> {
    let patch = TaskPatch {
        status: Some(status),
        ..TaskPatch::default()
    };
    store.update_task(ctx, id, patch, None).await
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

pub(super) async fn status_of<S: Store + ?Sized>(store: &S, ctx: &Ctx, id: TaskId) -> TaskStatus {
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

pub(super) async fn audit_actions<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> Vec<String> {
    store
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("audit")
        .items
        .into_iter()
        .map(|entry| entry.action)
        .collect()
}

pub(super) fn ids(tasks: &[Task]) -> Vec<TaskId> {
    tasks.iter().map(|t| t.id).collect()
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

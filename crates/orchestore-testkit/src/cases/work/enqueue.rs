//! Enqueueing: batches of thousands in one call, idempotency keys that answer the first task,
//! dependencies within and outside a batch, all or nothing.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, SubsecRound, Utc};
use orchestore_domain::{
    AuditLogId, BatchTask, Enqueued, IdempotencyKey, NewTask, Priority, ProjectId, TaskId,
    TaskStatus,
};
use orchestore_repo::{
    AuditEntry, AuditFilter, AuditSort, Ctx, Limit, PageRequest, RepoError, Store, TaskStatsScope,
};

use super::graph::{reasons, run_to, worker};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_conflict, assert_invalid, assert_reference, task};

fn keyed(project: ProjectId, title: &str, key: &str) -> NewTask {
    NewTask {
        idempotency_key: Some(IdempotencyKey::parse(key).expect("key")),
        ..task(project, title)
    }
}

fn batch(tasks: impl IntoIterator<Item = NewTask>) -> Vec<BatchTask> {
    tasks.into_iter().map(BatchTask::from).collect()
}

fn after(task: NewTask, positions: &[usize]) -> BatchTask {
    BatchTask {
        task,
        depends_on_batch: positions.iter().copied().collect(),
    }
}

fn ids(answer: &[Enqueued]) -> Vec<TaskId> {
    answer.iter().map(|e| e.task.id).collect()
}

fn created(answer: &[Enqueued]) -> Vec<bool> {
    answer.iter().map(|e| e.created).collect()
}

async fn total<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> u64 {
    store
        .task_stats(ctx, TaskStatsScope::Organization)
        .await
        .expect("stats")
        .total
}

/// The newest audit row, to compare with later.
async fn newest_audit<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> Option<AuditLogId> {
    audit_since(store, ctx, None).await.first().map(|e| e.id)
}

/// The audit rows written after `mark` (up to 200), newest first.
async fn audit_since<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    mark: Option<AuditLogId>,
) -> Vec<AuditEntry> {
    let page = PageRequest::new(
        Limit::parse(200).expect("limit"),
        AuditSort::CreatedAtDesc,
        None,
    )
    .expect("page");
    store
        .list_audit(ctx, AuditFilter::default(), page)
        .await
        .expect("audit")
        .items
        .into_iter()
        .take_while(|entry| Some(entry.id) != mark)
        .collect()
}

/// Asserts that the task at `index` of the batch was refused; returns the error on it.
fn assert_in_batch<T: std::fmt::Debug>(
    result: Result<T, RepoError>,
    index: usize,
) -> Result<(), RepoError> {
    match result {
        Err(RepoError::InBatch {
            index: found,
            error,
        }) => {
            assert_eq!(found, index, "refused at {found}: {error}");
            Err(*error)
        }
        other => panic!("expected task {index} of the batch refused, got {other:?}"),
    }
}

/// One plain task (on PostgreSQL written in one statement): the task, its first history
/// entry and its audit row, or, for a project the organization does not have, nothing.
pub async fn a_task_alone_is_written_with_its_history_and_audit_row_or_not_at_all<
    S: Store + ?Sized,
>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let apollo = acme.project(store, "Apollo").await;
    let theirs = other.project(store, "Theirs").await;

    let mark = newest_audit(store, ctx).await;
    let enqueued = store
        .enqueue_task(
            ctx,
            NewTask {
                priority: Priority::parse(7).expect("priority"),
                ..task(apollo.id, "alone")
            },
        )
        .await
        .expect("enqueued");
    assert!(enqueued.created);
    assert_eq!(enqueued.task.status, TaskStatus::Queued);
    assert_eq!(enqueued.task.priority.get(), 7);
    assert_eq!(
        store.get_task(ctx, enqueued.task.id).await.expect("read"),
        enqueued.task
    );
    assert_eq!(reasons(store, ctx, enqueued.task.id).await, ["created"]);
    let audit = audit_since(store, ctx, mark).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].action, "task.create");
    assert_eq!(audit[0].entity_id, enqueued.task.id.to_string());
    assert_eq!(audit[0].actor, ctx.actor().to_string());
    assert_eq!(audit[0].changes["title"], "alone");

    let before = total(store, ctx).await;
    let mark = newest_audit(store, ctx).await;
    for project in [theirs.id, ProjectId::new()] {
        assert_reference(
            store.enqueue_task(ctx, task(project, "nowhere")).await,
            "project_id",
        );
    }
    assert_eq!(total(store, ctx).await, before, "nothing was written");
    assert!(audit_since(store, ctx, mark).await.is_empty());
}

/// Creates that arrive at once (on PostgreSQL, written together by one statement) are each
/// written with their own history entry and audit row, in their own organization and under
/// their own actor; one naming a project its organization does not have fails alone.
pub async fn creates_arriving_together_are_each_written_whole_and_fail_alone<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let apollo = acme.project(store, "Apollo").await;
    let theirs = other.project(store, "Theirs").await;
    for refusing in [false, true] {
        let (acme_before, other_before) = (
            total(store, &acme.ctx).await,
            total(store, &other.ctx).await,
        );
        let (acme_mark, other_mark) = (
            newest_audit(store, &acme.ctx).await,
            newest_audit(store, &other.ctx).await,
        );
        // Every tenth is the other organization's own; when refusing, every tenth (another)
        // names the other organization's project.
        let who = |n: usize| match n % 10 {
            3 => (&other.ctx, theirs.id),
            7 if refusing => (&acme.ctx, theirs.id),
            _ => (&acme.ctx, apollo.id),
        };
        let answers = futures_util::future::join_all((0..60).map(|n| {
            let (ctx, project) = who(n);
            store.enqueue_task(ctx, task(project, &format!("together {n}")))
        }))
        .await;

        let mut created: Vec<(usize, Enqueued)> = Vec::new();
        for (n, answer) in answers.into_iter().enumerate() {
            if refusing && n % 10 == 7 {
                assert_reference(answer, "project_id");
            } else {
                created.push((n, answer.expect("created")));
            }
        }
        let acme_count = if refusing { 48 } else { 54 };
        assert_eq!(total(store, &acme.ctx).await, acme_before + acme_count);
        assert_eq!(total(store, &other.ctx).await, other_before + 6);
        for (n, enqueued) in &created {
            let (ctx, project) = who(*n);
            assert!(enqueued.created);
            assert_eq!(enqueued.task.title.as_str(), format!("together {n}"));
            assert_eq!(enqueued.task.project_id, project);
            assert_eq!(enqueued.task.organization_id, ctx.org());
            assert_eq!(
                store.get_task(ctx, enqueued.task.id).await.expect("read"),
                enqueued.task
            );
            assert_eq!(reasons(store, ctx, enqueued.task.id).await, ["created"]);
        }
        for (ctx, mark, count) in [
            (&acme.ctx, acme_mark, acme_count),
            (&other.ctx, other_mark, 6),
        ] {
            let audit = audit_since(store, ctx, mark).await;
            assert_eq!(audit.len() as u64, count, "{audit:?}");
            let expected: BTreeSet<String> = created
                .iter()
                .filter(|(_, enqueued)| enqueued.task.organization_id == ctx.org())
                .map(|(_, enqueued)| enqueued.task.id.to_string())
                .collect();
            let audited: BTreeSet<String> = audit.iter().map(|e| e.entity_id.clone()).collect();
            assert_eq!(audited, expected);
            for entry in &audit {
                assert_eq!(entry.action, "task.create");
                assert_eq!(entry.actor, ctx.actor().to_string());
            }
        }
    }
}

pub async fn a_batch_of_thousands_is_enqueued_in_one_call<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let later = Utc::now() + Duration::hours(1);
    let mut tasks: Vec<BatchTask> = (0..5000)
        .map(|n| {
            let mut new = task(project.id, &format!("task {n}"));
            new.priority = Priority::parse(n % 10).expect("priority");
            if n % 1000 == 1 {
                new.run_after = Some(later);
            }
            new.into()
        })
        .collect();
    tasks[4999].depends_on_batch = [0, 1].into_iter().collect();
    let mark = newest_audit(store, ctx).await;

    let answer = store.enqueue_tasks(ctx, tasks).await.expect("enqueue");

    assert_eq!(answer.len(), 5000);
    assert!(answer.iter().all(|e| e.created));
    for (n, enqueued) in answer.iter().enumerate() {
        assert_eq!(
            enqueued.task.title.as_str(),
            format!("task {n}"),
            "in order"
        );
        assert_eq!(enqueued.task.project_id, project.id);
    }
    let answered = ids(&answer);
    assert!(
        answered.windows(2).all(|pair| pair[0] < pair[1]),
        "ids follow the batch's order"
    );
    assert_eq!(answer[1001].task.run_after, Some(later.trunc_subsecs(6)));
    assert_eq!(answer[7].task.priority.get(), 7);
    assert_eq!(answer[4999].task.status, TaskStatus::Blocked);
    assert!(
        answer[..4999]
            .iter()
            .all(|e| e.task.status == TaskStatus::Queued)
    );
    assert_eq!(
        store
            .get_task(ctx, answer[4321].task.id)
            .await
            .expect("get"),
        answer[4321].task,
        "as stored"
    );

    let stats = store
        .task_stats(ctx, TaskStatsScope::Organization)
        .await
        .expect("stats");
    assert_eq!(stats.total, 5000);
    assert_eq!(stats.by_status[&TaskStatus::Queued], 4999);
    assert_eq!(stats.by_status[&TaskStatus::Blocked], 1);
    // Each task has its history, and the last one its edges.
    for n in [0, 2500, 4998] {
        assert_eq!(
            reasons(store, ctx, answer[n].task.id).await,
            vec!["created"]
        );
    }
    assert_eq!(
        reasons(store, ctx, answer[4999].task.id).await,
        vec!["created waiting for 2 open dependencies"]
    );
    let edges: BTreeSet<TaskId> = store
        .list_dependencies(
            ctx,
            answer[4999].task.id,
            PageRequest::first(Limit::parse(10).expect("limit")),
        )
        .await
        .expect("dependencies")
        .items
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(edges, [answered[0], answered[1]].into_iter().collect());

    // One audit row for the batch: the count and the first ids.
    let audit = audit_since(store, ctx, mark).await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    let row = &audit[0];
    assert_eq!(row.action, "task.enqueue");
    assert_eq!(row.entity, "task");
    assert_eq!(row.entity_id, answered[0].to_string());
    assert_eq!(row.changes["created_count"], 5000);
    assert_eq!(row.changes["existing_count"], 0);
    assert_eq!(row.changes["queued_count"], 4999);
    assert_eq!(row.changes["blocked_count"], 1);
    let listed = row.changes["task_ids"].as_array().expect("task ids");
    assert_eq!(listed.len(), 1000);
    assert_eq!(listed[0], answered[0].to_string());
    assert_eq!(listed[999], answered[999].to_string());
}

pub async fn re_enqueueing_answers_the_first_tasks_and_writes_nothing<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let first = store
        .enqueue_tasks(
            ctx,
            batch([
                keyed(project.id, "a", "order-a"),
                keyed(project.id, "b", "order-b"),
                task(project.id, "unkeyed"),
            ]),
        )
        .await
        .expect("first");
    assert_eq!(created(&first), [true, true, true]);
    // The first task moves on: it is answered as it is now.
    let cancelled = store
        .cancel_task(ctx, first[0].task.id, None, None)
        .await
        .expect("cancel")
        .task;
    let mark = newest_audit(store, ctx).await;

    let again = store
        .enqueue_tasks(
            ctx,
            batch([
                keyed(project.id, "a, again", "order-a"),
                keyed(project.id, "b, again", "order-b"),
            ]),
        )
        .await
        .expect("again");
    assert_eq!(created(&again), [false, false]);
    assert_eq!(again[0].task, cancelled);
    assert_eq!(again[1].task, first[1].task);
    assert!(
        audit_since(store, ctx, mark).await.is_empty(),
        "no audit row"
    );
    assert_eq!(total(store, ctx).await, 3, "no task");
    assert_eq!(
        reasons(store, ctx, first[1].task.id).await,
        vec!["created"],
        "no event"
    );

    // A batch of new and known tasks creates the new ones.
    let mixed = store
        .enqueue_tasks(
            ctx,
            batch([
                keyed(project.id, "b, once more", "order-b"),
                keyed(project.id, "c", "order-c"),
                task(project.id, "unkeyed"),
            ]),
        )
        .await
        .expect("mixed");
    assert_eq!(created(&mixed), [false, true, true]);
    assert_eq!(mixed[0].task.id, first[1].task.id);
    let audit = audit_since(store, ctx, mark).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entity_id, mixed[1].task.id.to_string());
    assert_eq!(audit[0].changes["created_count"], 2);
    assert_eq!(audit[0].changes["existing_count"], 1);
    assert_eq!(total(store, ctx).await, 5);

    // One task: enqueued, it answers the first; created, it is a conflict naming it.
    let one = store
        .enqueue_task(ctx, keyed(project.id, "b, alone", "order-b"))
        .await
        .expect("one");
    assert!(!one.created);
    assert_eq!(one.task, first[1].task);
    let fresh = store
        .enqueue_task(ctx, keyed(project.id, "d", "order-d"))
        .await
        .expect("fresh");
    assert!(fresh.created);
    let audit = audit_since(store, ctx, mark).await;
    assert_eq!(audit[0].action, "task.create", "one task is a creation");
    assert_eq!(audit[0].entity_id, fresh.task.id.to_string());
    match store
        .create_task(ctx, keyed(project.id, "b, created", "order-b"))
        .await
    {
        Err(RepoError::Conflict {
            field: Some("idempotency_key"),
            reason,
            ..
        }) => assert!(reason.contains(&first[1].task.id.to_string()), "{reason}"),
        other => panic!("expected a conflict on the key, got {other:?}"),
    }

    // Keys are per organization.
    let theirs = other.project(store, "Theirs").await;
    let elsewhere = store
        .enqueue_tasks(&other.ctx, batch([keyed(theirs.id, "a", "order-a")]))
        .await
        .expect("elsewhere");
    assert_eq!(created(&elsewhere), [true]);
    assert_ne!(elsewhere[0].task.id, first[0].task.id);
}

pub async fn a_fault_in_a_batch_writes_nothing<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let apollo = acme.project(store, "Apollo").await;
    let gemini = acme.project(store, "Gemini").await;
    let theirs = other.project(store, "Theirs").await;
    let their_agent = worker(store, &other.ctx, "theirs", &[]).await;
    let gemini_parent = store
        .create_task(ctx, task(gemini.id, "gemini"))
        .await
        .expect("parent");
    let cancelled = store
        .create_task(ctx, task(apollo.id, "cancelled"))
        .await
        .expect("task");
    store
        .cancel_task(ctx, cancelled.id, None, None)
        .await
        .expect("cancel");
    let before = total(store, ctx).await;
    let mark = newest_audit(store, ctx).await;

    // Ten good tasks, the one at 5 replaced.
    let with_bad = |bad: BatchTask| {
        let mut tasks: Vec<BatchTask> = (0..10)
            .map(|n| keyed(apollo.id, &format!("good {n}"), &format!("good-{n}")).into())
            .collect();
        tasks[5] = bad;
        tasks
    };
    let enqueue = |tasks| store.enqueue_tasks(ctx, tasks);

    let foreign = task(theirs.id, "foreign project");
    assert_reference(
        assert_in_batch(enqueue(with_bad(foreign.into())).await, 5),
        "project_id",
    );
    let orphan = NewTask {
        parent_id: Some(TaskId::new()),
        ..task(apollo.id, "orphan")
    };
    assert_reference(
        assert_in_batch(enqueue(with_bad(orphan.into())).await, 5),
        "parent_id",
    );
    let elsewhere = NewTask {
        parent_id: Some(gemini_parent.id),
        ..task(apollo.id, "parent elsewhere")
    };
    assert_invalid(
        assert_in_batch(enqueue(with_bad(elsewhere.into())).await, 5),
        "parent_id",
    );
    let their_agent = NewTask {
        assigned_agent_id: Some(their_agent.id),
        ..task(apollo.id, "their agent")
    };
    assert_reference(
        assert_in_batch(enqueue(with_bad(their_agent.into())).await, 5),
        "assigned_agent_id",
    );
    let unknown = NewTask {
        depends_on: [TaskId::new()].into_iter().collect(),
        ..task(apollo.id, "unknown dependency")
    };
    assert_reference(
        assert_in_batch(enqueue(with_bad(unknown.into())).await, 5),
        "depends_on",
    );
    let hopeless = NewTask {
        depends_on: [cancelled.id].into_iter().collect(),
        ..task(apollo.id, "cancelled dependency")
    };
    assert_conflict(
        assert_in_batch(enqueue(with_bad(hopeless.into())).await, 5),
        None,
    );
    let forward = after(task(apollo.id, "waits for a later task"), &[7]);
    assert_invalid(
        assert_in_batch(enqueue(with_bad(forward)).await, 5),
        "depends_on_batch",
    );
    let itself = after(task(apollo.id, "waits for itself"), &[5]);
    assert_invalid(
        assert_in_batch(enqueue(with_bad(itself)).await, 5),
        "depends_on_batch",
    );
    let twice = keyed(apollo.id, "the key of task 2", "good-2");
    assert_invalid(
        assert_in_batch(enqueue(with_bad(twice.into())).await, 5),
        "idempotency_key",
    );
    // The first task at fault, in batch order, is the one named.
    let mut two_faults = with_bad(task(theirs.id, "foreign project").into());
    two_faults[3] = NewTask {
        assigned_agent_id: Some(orchestore_domain::AgentId::new()),
        ..task(apollo.id, "no such agent")
    }
    .into();
    assert_reference(
        assert_in_batch(enqueue(two_faults).await, 3),
        "assigned_agent_id",
    );
    // The batch as a whole.
    assert_invalid(enqueue(Vec::new()).await, "tasks");
    let too_many = batch((0..=BatchTask::MAX_TASKS).map(|n| task(apollo.id, &format!("{n}"))));
    assert_invalid(enqueue(too_many).await, "tasks");
    // One task's errors are its own.
    assert_reference(
        store
            .enqueue_task(ctx, task(theirs.id, "foreign project"))
            .await,
        "project_id",
    );

    assert_eq!(total(store, ctx).await, before, "no task written");
    assert!(
        audit_since(store, ctx, mark).await.is_empty(),
        "no audit row"
    );
    let good = store
        .enqueue_tasks(ctx, with_bad(task(apollo.id, "good 5").into()))
        .await
        .expect("the good batch");
    assert!(good.iter().all(|e| e.created), "no key was taken");
}

pub async fn a_batch_waits_for_tasks_in_it_and_outside_it<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;
    let open = store
        .create_task(ctx, task(project.id, "open"))
        .await
        .expect("open");
    let done = store
        .create_task(ctx, task(project.id, "done"))
        .await
        .expect("done");
    run_to(store, ctx, done.id, agent.id, TaskStatus::Succeeded).await;
    let keyed_done = store
        .create_task(ctx, keyed(project.id, "keyed, done", "done-key"))
        .await
        .expect("keyed");
    run_to(store, ctx, keyed_done.id, agent.id, TaskStatus::Succeeded).await;
    let waits_for = |ids: &[TaskId]| NewTask {
        depends_on: ids.iter().copied().collect(),
        ..task(project.id, "waits")
    };

    let answer = store
        .enqueue_tasks(
            ctx,
            vec![
                waits_for(&[open.id]).into(),
                waits_for(&[done.id]).into(),
                after(task(project.id, "after 1"), &[1]),
                after(waits_for(&[open.id, done.id]), &[0, 2]),
                keyed(project.id, "keyed, again", "done-key").into(),
                after(task(project.id, "after the keyed one"), &[4]),
            ],
        )
        .await
        .expect("enqueue");
    let id = |n: usize| answer[n].task.id;
    let statuses: Vec<TaskStatus> = answer.iter().map(|e| e.task.status).collect();
    use TaskStatus::{Blocked, Queued, Succeeded};
    assert_eq!(
        statuses,
        [Blocked, Queued, Blocked, Blocked, Succeeded, Queued]
    );
    assert_eq!(created(&answer), [true, true, true, true, false, true]);
    assert_eq!(id(4), keyed_done.id);
    let dependencies = |task: TaskId| async move {
        store
            .list_dependencies(
                ctx,
                task,
                PageRequest::first(Limit::parse(10).expect("limit")),
            )
            .await
            .expect("dependencies")
            .items
            .into_iter()
            .map(|t| t.id)
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        dependencies(id(3)).await,
        [open.id, done.id, id(0), id(2)].into_iter().collect()
    );
    assert_eq!(
        dependencies(id(5)).await,
        [keyed_done.id].into_iter().collect()
    );
    assert_eq!(
        reasons(store, ctx, id(3)).await,
        vec!["created waiting for 3 open dependencies"]
    );

    // The edges work as any other: 1 succeeds and queues 2; 0 cancelled cancels 3.
    run_to(store, ctx, id(1), agent.id, TaskStatus::Succeeded).await;
    assert_eq!(
        store.get_task(ctx, id(2)).await.expect("get").status,
        Queued
    );
    store
        .cancel_task(ctx, id(0), None, None)
        .await
        .expect("cancel");
    assert_eq!(
        store.get_task(ctx, id(3)).await.expect("get").status,
        TaskStatus::Cancelled
    );
}

pub async fn concurrent_enqueues_of_one_key_create_one_task<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let keys: Vec<String> = (0..200).map(|n| format!("key-{n:03}")).collect();
    let forward = || {
        batch(
            keys.iter()
                .map(|key| keyed(project.id, &format!("forward {key}"), key)),
        )
    };
    let backward = || {
        batch(
            keys.iter()
                .rev()
                .map(|key| keyed(project.id, &format!("backward {key}"), key)),
        )
    };
    // Four connections open first (on PostgreSQL), so that the calls below run at once.
    tokio::join!(
        total(store, ctx),
        total(store, ctx),
        total(store, ctx),
        total(store, ctx)
    );
    let (a, b, c, d) = tokio::join!(
        store.enqueue_tasks(ctx, forward()),
        store.enqueue_tasks(ctx, backward()),
        store.enqueue_tasks(ctx, forward()),
        store.enqueue_tasks(ctx, backward()),
    );
    let mut answers: Vec<Enqueued> = Vec::new();
    for answer in [a, b, c, d] {
        answers.extend(answer.expect("a batch"));
    }
    let mut by_key: BTreeMap<String, (BTreeSet<TaskId>, usize)> = BTreeMap::new();
    for enqueued in &answers {
        let key = enqueued
            .task
            .idempotency_key
            .as_ref()
            .expect("keyed")
            .as_str()
            .to_owned();
        let entry = by_key.entry(key).or_default();
        entry.0.insert(enqueued.task.id);
        entry.1 += usize::from(enqueued.created);
    }
    assert_eq!(by_key.len(), 200);
    for (key, (ids, creations)) in &by_key {
        assert_eq!(ids.len(), 1, "{key}: one task");
        assert_eq!(*creations, 1, "{key}: created once");
    }
    assert_eq!(total(store, ctx).await, 200);
    let any = answers[0].task.id;
    assert_eq!(reasons(store, ctx, any).await, vec!["created"]);

    // One task at a time, the same.
    let (one, two) = tokio::join!(
        store.enqueue_task(ctx, keyed(project.id, "one", "single")),
        store.enqueue_task(ctx, keyed(project.id, "two", "single")),
    );
    let (one, two) = (one.expect("one"), two.expect("two"));
    assert_eq!(one.task.id, two.task.id);
    assert_eq!(usize::from(one.created) + usize::from(two.created), 1);
    assert_eq!(total(store, ctx).await, 201);
}

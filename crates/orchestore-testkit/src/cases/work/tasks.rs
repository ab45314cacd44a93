//! Tasks' own fields: subtasks, assigned agents, scheduling, idempotency keys, and what
//! deleting a task or an agent does to the others.

use chrono::{Duration, SubsecRound, Utc};
use orchestore_domain::{
    Effort, IdempotencyKey, LeaseDuration, MaxAttempts, NewTask, Progress, Tags, TaskId, TaskPatch,
    TaskStatus,
};
use orchestore_repo::{AuditFilter, AuditSort, PageRequest, RepoError, Store, TaskFilter};
use serde_json::json;

use super::graph::*;
use crate::Fixture;
use crate::cases::{
    PASSWORD, assert_conflict, assert_cycle, assert_invalid, assert_not_found, assert_reference,
    task,
};

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
        .update_task(&acme.ctx, child.id, patch, None)
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
            .update_task(&acme.ctx, child.id, reparent(their_task.id), None)
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
            .update_task(&acme.ctx, child.id, reparent(elsewhere.id), None)
            .await,
        "parent_id",
    );

    // A task cannot be its own ancestor.
    store
        .update_task(&acme.ctx, child.id, reparent(parent.id), None)
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
            .update_task(&acme.ctx, parent.id, reparent(grandchild.id), None)
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
                .update_task(&acme.ctx, parent.id, reparent(parent.id), None)
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
    match store.delete_task(ctx, parent.id, None).await {
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
        .delete_task(ctx, child.id, None)
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
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::default().sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit");
    let deletion = &log.items[0];
    assert_eq!(deletion.action, "task.delete");
    assert_eq!(deletion.changes["dependencies"], json!([parent.id]));
    assert_eq!(deletion.changes["dependents"], json!([waiting.id]));
    assert_eq!(deletion.changes["deleted_event_count"], json!(2));
    assert_eq!(deletion.changes["released_tasks"], json!([waiting.id]));

    store
        .delete_task(ctx, parent.id, None)
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
        .delete_project(ctx, project.id, None)
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

    store
        .delete_agent(ctx, agent.id, None)
        .await
        .expect("delete");
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
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::default().sorted(AuditSort::CreatedAtDesc),
        )
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

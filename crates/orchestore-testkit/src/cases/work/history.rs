//! A task's history and statistics, and who may claim it.

use chrono::{Duration, Utc};
use orchestore_domain::{
    Capabilities, LeaseDuration, MaxAttempts, NewTask, Priority, TaskPatch, TaskStatus,
};
use orchestore_repo::{Limit, PageRequest, Retry, Store, TaskEventSort, TaskStatsScope};

use super::graph::*;
use crate::Fixture;
use crate::cases::{PASSWORD, assert_conflict, assert_not_found, assert_reference, task};

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
            None,
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
            None,
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

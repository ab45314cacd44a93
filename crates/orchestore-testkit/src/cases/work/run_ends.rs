//! The ends of a run: fencing by the lease token, failures with backoff and the dead letter,
//! cancellation told at the next heartbeat.

use std::time::Duration as StdDuration;

use orchestore_domain::{
    ClaimRequest, LeaseDuration, LeaseToken, MaxAttempts, Payload, Progress, TaskStatus,
};
use orchestore_repo::{AuditFilter, AuditSort, PageRequest, Retry, Store, TaskFilter};
use serde_json::json;

use super::graph::{reasons, run_to, worker};
use super::queue::{assert_stale, request, short_lease};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_invalid, assert_not_found, task};

pub async fn only_the_current_lease_token_ends_a_run<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let first = worker(store, ctx, "first", &[]).await;
    let second = worker(store, ctx, "second", &[]).await;
    let created = store
        .create_task(ctx, task(project.id, "fenced"))
        .await
        .expect("create");

    // The first worker claims and goes silent; its lease runs out.
    let dead = ClaimRequest {
        lease: short_lease(),
        ..request(first.id, 1)
    };
    let dead = store.claim_tasks(ctx, dead).await.expect("claim").remove(0);
    let wrong = LeaseToken::new();
    assert_stale(
        store.complete_task(ctx, created.id, wrong, None).await,
        "claimed again",
    );
    assert_not_found(
        store
            .complete_task(&other.ctx, created.id, dead.lease_token, None)
            .await,
        "task",
    );
    let beat = store
        .heartbeat_task(
            ctx,
            created.id,
            dead.lease_token,
            short_lease(),
            Some(Progress::parse(40).expect("progress")),
        )
        .await
        .expect("heartbeat");
    assert_eq!(beat.progress.get(), 40);
    assert!(beat.lease_expires_at >= dead.task.lease_expires_at);
    tokio::time::sleep(StdDuration::from_millis(1100)).await;

    // Another worker's claim finds the expired lease and takes the task: attempt 2.
    let taken = store
        .claim_tasks(ctx, request(second.id, 1))
        .await
        .expect("claim again");
    assert_eq!(taken.len(), 1);
    let taken = &taken[0];
    assert_eq!(taken.task.id, created.id);
    assert_eq!(taken.task.attempts, 2);
    assert_eq!(taken.task.assigned_agent_id, Some(second.id));

    // The late worker is fenced off: nothing it sends changes the task.
    let before = store.get_task(ctx, created.id).await.expect("get");
    let late = dead.lease_token;
    assert_stale(
        store
            .complete_task(
                ctx,
                created.id,
                late,
                Some(Payload::parse(json!("late")).expect("p")),
            )
            .await,
        "claimed again",
    );
    assert_stale(
        store
            .fail_task(ctx, created.id, late, None, Retry::Never)
            .await,
        "claimed again",
    );
    assert_stale(
        store
            .heartbeat_task(ctx, created.id, late, short_lease(), None)
            .await,
        "claimed again",
    );
    assert_stale(
        store.release_task(ctx, created.id, late).await,
        "claimed again",
    );
    assert_eq!(store.get_task(ctx, created.id).await.expect("get"), before);

    let done = store
        .complete_task(
            ctx,
            created.id,
            taken.lease_token,
            Some(Payload::parse(json!({"ok": true})).expect("payload")),
        )
        .await
        .expect("complete");
    assert_eq!(done.status, TaskStatus::Succeeded);
    assert_eq!(
        done.result.map(Payload::into_value),
        Some(json!({"ok": true}))
    );
    assert_eq!(done.lease_expires_at, None);
    assert_stale(
        store
            .complete_task(ctx, created.id, taken.lease_token, None)
            .await,
        "the task is succeeded",
    );
    let history = reasons(store, ctx, created.id).await;
    assert!(
        history
            .iter()
            .any(|r| r.starts_with("the lease expired at")),
        "{history:?}"
    );
    assert_eq!(
        history.last(),
        Some(&format!("completed by agent {}", second.id))
    );
}

pub async fn failures_back_off_then_land_in_the_dead_letter<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;
    let new = orchestore_domain::NewTask {
        max_attempts: MaxAttempts::parse(2).expect("max attempts"),
        ..task(project.id, "flaky")
    };
    let created = store.create_task(ctx, new).await.expect("create");
    let waiting = store
        .create_task(
            ctx,
            orchestore_domain::NewTask {
                depends_on: [created.id].into_iter().collect(),
                ..task(project.id, "waits")
            },
        )
        .await
        .expect("dependent");

    let claimed = store
        .claim_task(ctx, created.id, agent.id, LeaseDuration::default())
        .await
        .expect("claim");
    let error = Payload::parse(json!({"message": "boom"})).expect("error");
    let requeued = store
        .fail_task(
            ctx,
            created.id,
            claimed.lease_token,
            Some(error.clone()),
            Retry::IfAttemptsLeft,
        )
        .await
        .expect("fail");
    assert_eq!(requeued.status, TaskStatus::Queued);
    assert_eq!(requeued.attempts, 1);
    assert_eq!(requeued.error, Some(error));
    let run_after = requeued.run_after.expect("backoff");
    let wait = run_after - requeued.updated_at;
    assert!(
        wait >= chrono::Duration::milliseconds(500) && wait <= chrono::Duration::seconds(1),
        "the first retry waits ½–1 s, not {wait}"
    );
    assert!(
        store
            .claim_tasks(ctx, request(agent.id, 1))
            .await
            .expect("too early")
            .is_empty()
    );
    assert_eq!(
        store.get_task(ctx, waiting.id).await.expect("get").status,
        TaskStatus::Blocked
    );

    // The second and last attempt fails: the dead letter, and its dependent is cancelled.
    tokio::time::sleep(
        (run_after - chrono::Utc::now())
            .to_std()
            .unwrap_or_default(),
    )
    .await;
    let second = store
        .claim_tasks(ctx, request(agent.id, 1))
        .await
        .expect("claim after the backoff")
        .remove(0);
    assert_eq!(second.task.attempts, 2);
    let failed = store
        .fail_task(
            ctx,
            created.id,
            second.lease_token,
            None,
            Retry::IfAttemptsLeft,
        )
        .await
        .expect("fail again");
    assert_eq!(failed.status, TaskStatus::Failed);
    assert!(failed.finished_at.is_some());
    let dead_letter = store
        .list_tasks(
            ctx,
            TaskFilter {
                status: Some(TaskStatus::Failed),
                ..TaskFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("failed tasks");
    assert_eq!(
        dead_letter.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [created.id]
    );
    assert_eq!(
        store.get_task(ctx, waiting.id).await.expect("get").status,
        TaskStatus::Cancelled
    );
    let counted = store.get_agent(ctx, agent.id).await.expect("agent");
    assert_eq!((counted.tasks_completed, counted.tasks_failed), (0, 1));

    // A retry by hand queues it with a fresh series of attempts.
    assert_invalid(store.retry_task(ctx, waiting.id).await, "status");
    let retried = store.retry_task(ctx, created.id).await.expect("retry");
    assert_eq!((retried.status, retried.attempts), (TaskStatus::Queued, 0));
    assert_eq!(retried.run_after, None);
    let audit = store
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::default().sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit");
    assert_eq!(audit.items[0].action, "task.retry");

    // An error retrying cannot fix fails it at once.
    let third = store
        .claim_task(ctx, created.id, agent.id, LeaseDuration::default())
        .await
        .expect("claim");
    let at_once = store
        .fail_task(ctx, created.id, third.lease_token, None, Retry::Never)
        .await
        .expect("fail for good");
    assert_eq!((at_once.status, at_once.attempts), (TaskStatus::Failed, 1));
}

pub async fn a_cancelled_run_is_told_at_its_next_heartbeat<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;
    let created = store
        .create_task(ctx, task(project.id, "long"))
        .await
        .expect("create");
    let waiting = store
        .create_task(
            ctx,
            orchestore_domain::NewTask {
                depends_on: [created.id].into_iter().collect(),
                ..task(project.id, "waits")
            },
        )
        .await
        .expect("dependent");
    let claimed = store
        .claim_task(ctx, created.id, agent.id, LeaseDuration::default())
        .await
        .expect("claim");

    let cancelled = store
        .cancel_task(
            ctx,
            created.id,
            Some("not needed any more".to_owned()),
            None,
        )
        .await
        .expect("cancel")
        .task;
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert_eq!(cancelled.lease_expires_at, None);
    assert_stale(
        store
            .heartbeat_task(
                ctx,
                created.id,
                claimed.lease_token,
                LeaseDuration::default(),
                None,
            )
            .await,
        "cancelled",
    );
    assert_stale(
        store
            .complete_task(ctx, created.id, claimed.lease_token, None)
            .await,
        "cancelled",
    );
    assert_eq!(
        reasons(store, ctx, created.id)
            .await
            .last()
            .map(String::as_str),
        Some("not needed any more")
    );
    assert_eq!(
        store.get_task(ctx, waiting.id).await.expect("get").status,
        TaskStatus::Cancelled
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
    assert_eq!(audit.items[0].changes["reason"], "not needed any more");
    assert_invalid(
        store.cancel_task(ctx, created.id, None, None).await,
        "status",
    );

    // Queued and failed tasks are cancelled too.
    let queued = store
        .create_task(ctx, task(project.id, "queued"))
        .await
        .expect("create");
    let gone = store
        .cancel_task(ctx, queued.id, None, None)
        .await
        .expect("cancel")
        .task;
    assert_eq!(gone.status, TaskStatus::Cancelled);
    let failing = store
        .create_task(ctx, task(project.id, "failing"))
        .await
        .expect("create");
    run_to(store, ctx, failing.id, agent.id, TaskStatus::Failed).await;
    let dropped = store
        .cancel_task(ctx, failing.id, None, None)
        .await
        .expect("cancel")
        .task;
    assert_eq!(dropped.status, TaskStatus::Cancelled);
}

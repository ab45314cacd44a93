//! The queue's leases and figures: expired leases, queue statistics and depth; claims are in
//! `claims`, the ends of a run in `run_ends`, which share this module's helpers.

use std::time::Duration as StdDuration;

use orchestore_domain::{
    Capabilities, ClaimLimit, ClaimRequest, LeaseDuration, MaxAttempts, Priority, TaskStatus,
};
use orchestore_repo::{RepoError, Store};

use super::graph::{run_to, worker};
use crate::Fixture;
use crate::cases::{PASSWORD, task};

pub(super) fn request(agent: orchestore_domain::AgentId, limit: i64) -> ClaimRequest {
    ClaimRequest {
        limit: ClaimLimit::parse(limit).expect("limit"),
        ..ClaimRequest::one(agent)
    }
}

pub(super) fn short_lease() -> LeaseDuration {
    LeaseDuration::parse_seconds(1).expect("lease")
}

pub(super) fn assert_stale<T: std::fmt::Debug>(result: Result<T, RepoError>, says: &str) {
    match result {
        Err(RepoError::Stale { reason, .. }) => assert!(reason.contains(says), "{reason}"),
        other => panic!("expected a stale lease ({says}), got {other:?}"),
    }
}

pub async fn expired_leases_return_to_the_queue_or_fail<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;
    let again = store
        .create_task(ctx, task(project.id, "again"))
        .await
        .expect("create");
    let last = store
        .create_task(
            ctx,
            orchestore_domain::NewTask {
                max_attempts: MaxAttempts::parse(1).expect("max"),
                ..task(project.id, "last")
            },
        )
        .await
        .expect("create");
    let kept = store
        .create_task(ctx, task(project.id, "kept"))
        .await
        .expect("create");
    for id in [again.id, last.id] {
        store
            .claim_task(ctx, id, agent.id, short_lease())
            .await
            .expect("claim");
    }
    let held = store
        .claim_task(ctx, kept.id, agent.id, LeaseDuration::default())
        .await
        .expect("claim");
    assert!(
        store
            .expire_leases(ctx)
            .await
            .expect("nothing yet")
            .is_empty()
    );
    tokio::time::sleep(StdDuration::from_millis(1100)).await;

    assert_eq!(
        store
            .organizations_with_expired_leases(10)
            .await
            .expect("organizations"),
        [acme.org.id]
    );
    assert!(
        store
            .expire_leases(&other.ctx)
            .await
            .expect("theirs")
            .is_empty()
    );
    let expired = store.expire_leases(ctx).await.expect("expire");
    assert_eq!(expired.requeued, [again.id]);
    assert_eq!(expired.failed, [last.id]);
    let requeued = store.get_task(ctx, again.id).await.expect("get");
    assert_eq!(
        (requeued.status, requeued.lease_expires_at),
        (TaskStatus::Queued, None)
    );
    assert_eq!(
        store.get_task(ctx, last.id).await.expect("get").status,
        TaskStatus::Failed
    );
    assert_eq!(
        store.get_task(ctx, kept.id).await.expect("get"),
        held.task,
        "a live lease stays"
    );
    assert!(
        store
            .organizations_with_expired_leases(10)
            .await
            .expect("none left")
            .is_empty()
    );
}

pub async fn queue_stats_count_what_waits_and_what_ran<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &["rust"]).await;
    let empty = store.queue_stats(ctx).await.expect("stats");
    assert_eq!(
        (empty.queued, empty.running, empty.oldest_queued_at),
        (0, 0, None)
    );

    let plain = store
        .create_task(ctx, task(project.id, "plain"))
        .await
        .expect("create");
    let rusty = orchestore_domain::NewTask {
        required_capabilities: Capabilities::parse(&["rust"]).expect("capabilities"),
        ..task(project.id, "rusty")
    };
    store.create_task(ctx, rusty.clone()).await.expect("create");
    store.create_task(ctx, rusty).await.expect("create");
    let later = orchestore_domain::NewTask {
        run_after: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        ..task(project.id, "later")
    };
    store.create_task(ctx, later).await.expect("later");
    let blocked = orchestore_domain::NewTask {
        depends_on: [plain.id].into_iter().collect(),
        ..task(project.id, "blocked")
    };
    store.create_task(ctx, blocked).await.expect("blocked");
    for title in ["done", "dead", "stalled"] {
        let created = store
            .create_task(
                ctx,
                orchestore_domain::NewTask {
                    priority: Priority::parse(9).expect("priority"),
                    ..task(project.id, title)
                },
            )
            .await
            .expect("create");
        match title {
            "done" => {
                run_to(store, ctx, created.id, agent.id, TaskStatus::Succeeded).await;
            }
            "dead" => {
                run_to(store, ctx, created.id, agent.id, TaskStatus::Failed).await;
            }
            _ => {
                store
                    .claim_task(ctx, created.id, agent.id, short_lease())
                    .await
                    .expect("claim");
            }
        }
    }
    let theirs = other.project(store, "Theirs").await;
    store
        .create_task(&other.ctx, task(theirs.id, "theirs"))
        .await
        .expect("theirs");
    tokio::time::sleep(StdDuration::from_millis(1100)).await;

    let stats = store.queue_stats(ctx).await.expect("stats");
    assert_eq!(
        (stats.blocked, stats.queued, stats.scheduled, stats.running),
        (1, 3, 1, 1)
    );
    assert_eq!(stats.expired_leases, 1);
    assert_eq!(stats.oldest_queued_at, Some(plain.created_at));
    let groups: Vec<(Vec<String>, u64)> = stats
        .by_capabilities
        .iter()
        .map(|g| (g.required_capabilities.to_strings(), g.queued))
        .collect();
    assert_eq!(groups, vec![(vec!["rust".to_owned()], 2), (Vec::new(), 1)]);
    assert_eq!(
        (stats.last_minute.succeeded, stats.last_minute.failed),
        (1, 1)
    );
}

pub async fn queue_depth_counts_every_organization<S: Store + ?Sized>(store: &S) {
    assert_eq!(
        store.queue_depth().await.expect("depth"),
        orchestore_domain::QueueDepth::default()
    );
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;
    let first = store
        .create_task(ctx, task(project.id, "first"))
        .await
        .expect("create");
    let blocked = orchestore_domain::NewTask {
        depends_on: [first.id].into_iter().collect(),
        ..task(project.id, "blocked")
    };
    store.create_task(ctx, blocked).await.expect("blocked");
    let later = orchestore_domain::NewTask {
        run_after: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        ..task(project.id, "later")
    };
    store.create_task(ctx, later).await.expect("later");
    for title in ["done", "stalled", "running"] {
        let created = store
            .create_task(
                ctx,
                orchestore_domain::NewTask {
                    priority: Priority::parse(9).expect("priority"),
                    ..task(project.id, title)
                },
            )
            .await
            .expect("create");
        match title {
            "done" => {
                run_to(store, ctx, created.id, agent.id, TaskStatus::Succeeded).await;
            }
            "stalled" => {
                store
                    .claim_task(ctx, created.id, agent.id, short_lease())
                    .await
                    .expect("claim");
            }
            _ => {
                store
                    .claim_task(ctx, created.id, agent.id, LeaseDuration::default())
                    .await
                    .expect("claim");
            }
        }
    }
    let theirs = other.project(store, "Theirs").await;
    let their_first = store
        .create_task(&other.ctx, task(theirs.id, "theirs"))
        .await
        .expect("theirs");
    let their_blocked = orchestore_domain::NewTask {
        depends_on: [their_first.id].into_iter().collect(),
        ..task(theirs.id, "their blocked")
    };
    store
        .create_task(&other.ctx, their_blocked)
        .await
        .expect("their blocked");
    tokio::time::sleep(StdDuration::from_millis(1100)).await;

    let depth = store.queue_depth().await.expect("depth");
    assert_eq!(
        depth,
        orchestore_domain::QueueDepth {
            blocked: 2,
            queued: 2,
            scheduled: 1,
            running: 2,
            expired_leases: 1,
        }
    );
}

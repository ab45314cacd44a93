//! The queue: claims under a lease, fencing by the lease token, retries, the dead letter,
//! cancellation, expired leases and waiting claims.

use std::time::{Duration as StdDuration, Instant};

use orchestore_domain::{
    Capabilities, ClaimLimit, ClaimRequest, ClaimWait, LeaseDuration, LeaseToken, MaxAttempts,
    Payload, Priority, Progress, TaskId, TaskStatus,
};
use orchestore_repo::{AuditFilter, AuditSort, PageRequest, RepoError, Retry, Store, TaskFilter};
use serde_json::json;

use super::graph::{reasons, run_to, worker};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_invalid, assert_not_found, assert_reference, task};

fn request(agent: orchestore_domain::AgentId, limit: i64) -> ClaimRequest {
    ClaimRequest {
        limit: ClaimLimit::parse(limit).expect("limit"),
        ..ClaimRequest::one(agent)
    }
}

fn short_lease() -> LeaseDuration {
    LeaseDuration::parse_seconds(1).expect("lease")
}

fn assert_stale<T: std::fmt::Debug>(result: Result<T, RepoError>, says: &str) {
    match result {
        Err(RepoError::Stale { reason, .. }) => assert!(reason.contains(says), "{reason}"),
        other => panic!("expected a stale lease ({says}), got {other:?}"),
    }
}

pub async fn claims_take_the_highest_priority_oldest_tasks_the_agent_can_run<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let rustacean = worker(store, ctx, "rustacean", &["rust"]).await;
    let someone = worker(store, ctx, "someone", &["rust"]).await;
    let with = |title: &str, priority: i64, capabilities: &[&str]| orchestore_domain::NewTask {
        priority: Priority::parse(priority).expect("priority"),
        required_capabilities: Capabilities::parse(capabilities).expect("capabilities"),
        ..task(project.id, title)
    };
    let mut created = Vec::new();
    for (title, priority, capabilities) in [
        ("low", 1, &[][..]),
        ("high, first", 9, &["rust"][..]),
        ("high, second", 9, &[][..]),
        ("needs go", 9, &["go"][..]),
    ] {
        created.push(
            store
                .create_task(ctx, with(title, priority, capabilities))
                .await
                .expect("create"),
        );
    }
    let assigned = orchestore_domain::NewTask {
        assigned_agent_id: Some(someone.id),
        priority: Priority::parse(10).expect("priority"),
        ..task(project.id, "someone's")
    };
    store.create_task(ctx, assigned).await.expect("assigned");
    let later = orchestore_domain::NewTask {
        run_after: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        priority: Priority::parse(10).expect("priority"),
        ..task(project.id, "later")
    };
    store.create_task(ctx, later).await.expect("later");
    let theirs = other.project(store, "Theirs").await;
    store
        .create_task(&other.ctx, task(theirs.id, "theirs"))
        .await
        .expect("theirs");

    let claimed = store
        .claim_tasks(ctx, request(rustacean.id, 2))
        .await
        .expect("claim");
    let titles: Vec<&str> = claimed.iter().map(|c| c.task.title.as_str()).collect();
    assert_eq!(titles, ["high, first", "high, second"]);
    for c in &claimed {
        assert_eq!(c.task.status, TaskStatus::Running);
        assert_eq!(c.task.assigned_agent_id, Some(rustacean.id));
        assert_eq!(c.task.attempts, 1);
        assert!(c.task.lease_expires_at > c.task.started_at);
        assert_eq!(
            reasons(store, ctx, c.task.id).await.last(),
            Some(&format!("claimed by agent {}", rustacean.id))
        );
        let read = store.get_task(ctx, c.task.id).await.expect("get");
        assert_eq!(read, c.task, "the claim returns the task as stored");
    }
    assert_ne!(claimed[0].lease_token, claimed[1].lease_token);

    let rest = store
        .claim_tasks(ctx, request(rustacean.id, 10))
        .await
        .expect("claim the rest");
    let titles: Vec<&str> = rest.iter().map(|c| c.task.title.as_str()).collect();
    assert_eq!(
        titles,
        ["low"],
        "not go's, someone's, a later or another tenant's task"
    );
    assert!(
        store
            .claim_tasks(ctx, request(rustacean.id, 10))
            .await
            .expect("nothing left")
            .is_empty()
    );
    let go = created[3].id;
    assert_eq!(
        store.get_task(ctx, go).await.expect("get").status,
        TaskStatus::Queued
    );
    let foreign = worker(store, &other.ctx, "foreign", &[]).await;
    match store.claim_tasks(ctx, request(foreign.id, 1)).await {
        Err(RepoError::Reference { field, .. }) => assert_eq!(field, "agent_id"),
        other => panic!("expected a reference error, got {other:?}"),
    }
}

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

pub async fn a_waiting_claim_wakes_when_work_is_queued<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;

    let empty_wait = ClaimRequest {
        wait: ClaimWait::parse_millis(300).expect("wait"),
        ..request(agent.id, 1)
    };
    let started = Instant::now();
    assert!(
        store
            .claim_tasks(ctx, empty_wait)
            .await
            .expect("claim")
            .is_empty()
    );
    assert!(started.elapsed() >= StdDuration::from_millis(300));

    let long_wait = ClaimRequest {
        wait: ClaimWait::parse_seconds(30).expect("wait"),
        ..request(agent.id, 1)
    };
    let started = Instant::now();
    let (claimed, created) = tokio::join!(store.claim_tasks(ctx, long_wait), async {
        tokio::time::sleep(StdDuration::from_millis(200)).await;
        store
            .create_task(ctx, task(project.id, "arrives"))
            .await
            .expect("create")
    });
    let claimed = claimed.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].task.id, created.id);
    assert!(
        started.elapsed() < StdDuration::from_secs(5),
        "woken by the commit, not by the end of the wait"
    );
}

pub async fn concurrent_claims_never_share_a_task<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;
    for n in 0..40 {
        store
            .create_task(ctx, task(project.id, &format!("t{n}")))
            .await
            .expect("create");
    }
    let claim = || store.claim_tasks(ctx, request(agent.id, 7));
    let (a, b, c, d) = tokio::join!(claim(), claim(), claim(), claim());
    let mut ids: Vec<TaskId> = [a, b, c, d]
        .into_iter()
        .flat_map(|claimed| claimed.expect("claim"))
        .map(|c| c.task.id)
        .collect();
    assert_eq!(ids.len(), 28);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 28, "no task claimed twice");
}

/// Claims that arrive together (on PostgreSQL, served by one statement per organization) each
/// get only tasks of their organization that their agent may run, never one another's, in
/// claim order; a claim that comes back short leaves nothing it could have taken; the claims of
/// an inactive agent and of an agent that does not exist fail alone.
pub async fn claims_arriving_together_each_get_what_their_agent_may_run<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let rustacean = worker(store, ctx, "rustacean", &["rust"]).await;
    let gopher = worker(store, ctx, "gopher", &["go"]).await;
    let anyone = worker(store, ctx, "anyone", &[]).await;
    let polyglot = worker(store, ctx, "polyglot", &["go", "rust"]).await;
    let retired = worker(store, ctx, "retired", &["rust"]).await;
    let inactive = orchestore_domain::AgentPatch {
        status: Some(orchestore_domain::AgentStatus::Inactive),
        ..orchestore_domain::AgentPatch::default()
    };
    store
        .update_agent(ctx, retired.id, inactive, None)
        .await
        .expect("deactivate");
    let mut kinds: Vec<(&str, i64, &[&str], Option<orchestore_domain::AgentId>)> = Vec::new();
    kinds.extend((0..6).map(|_| ("rust", 5, &["rust"][..], None)));
    kinds.extend((0..6).map(|_| ("go", 5, &["go"][..], None)));
    kinds.extend((0..10).map(|_| ("plain", 1, &[][..], None)));
    kinds.extend((0..2).map(|_| ("anyone's", 3, &[][..], Some(anyone.id))));
    kinds.push(("cobol", 9, &["cobol"][..], None));
    for (n, (title, priority, capabilities, assigned)) in kinds.into_iter().enumerate() {
        let new = orchestore_domain::NewTask {
            priority: Priority::parse(priority).expect("priority"),
            required_capabilities: Capabilities::parse(capabilities).expect("capabilities"),
            assigned_agent_id: assigned,
            ..task(project.id, &format!("{title} {n}"))
        };
        store.create_task(ctx, new).await.expect("create");
    }
    let globex = Fixture::create(store, "globex", PASSWORD).await;
    let theirs = globex.project(store, "Theirs").await;
    let their_worker = worker(store, &globex.ctx, "their worker", &[]).await;
    for n in 0..3 {
        store
            .create_task(&globex.ctx, task(theirs.id, &format!("theirs {n}")))
            .await
            .expect("their task");
    }
    let mut their_claimed = 0;
    let may_run = |agent: &orchestore_domain::Agent, task: &orchestore_domain::Task| {
        task.assigned_agent_id.is_none_or(|a| a == agent.id)
            && task.required_capabilities.is_subset_of(&agent.capabilities)
    };
    let mut seen: Vec<TaskId> = Vec::new();
    loop {
        let claim = |agent: &orchestore_domain::Agent, limit| {
            store.claim_tasks(ctx, request(agent.id, limit))
        };
        let (r, g, a, p, x, nobody, t) = tokio::join!(
            claim(&rustacean, 4),
            claim(&gopher, 3),
            claim(&anyone, 3),
            claim(&polyglot, 2),
            claim(&retired, 2),
            store.claim_tasks(ctx, request(orchestore_domain::AgentId::new(), 2)),
            store.claim_tasks(&globex.ctx, request(their_worker.id, 2)),
        );
        match x {
            Err(RepoError::Conflict { reason, .. }) => assert!(reason.contains("inactive")),
            other => panic!("an inactive agent's claim fails alone, got {other:?}"),
        }
        assert_reference(nobody, "agent_id");
        let t = t.expect("their claim");
        assert!(
            t.iter()
                .all(|c| c.task.project_id == theirs.id
                    && c.task.title.as_str().starts_with("theirs")),
            "a claim takes only its organization's tasks: {t:?}"
        );
        their_claimed += t.len();
        let mut round = t.len();
        for (agent, limit, claimed) in [
            (&rustacean, 4, r),
            (&gopher, 3, g),
            (&anyone, 3, a),
            (&polyglot, 2, p),
        ] {
            let claimed = claimed.expect("claim");
            assert!(
                claimed.len() <= limit,
                "{} took more than its limit",
                agent.name
            );
            round += claimed.len();
            let order: Vec<_> = claimed
                .iter()
                .map(|c| (-c.task.priority.get(), c.task.created_at, c.task.id))
                .collect();
            assert!(
                order.is_sorted(),
                "{} gets its tasks in claim order",
                agent.name
            );
            for c in &claimed {
                assert!(
                    may_run(agent, &c.task),
                    "{} got {}",
                    agent.name,
                    c.task.title
                );
                assert_eq!(c.task.status, TaskStatus::Running);
                assert_eq!(c.task.assigned_agent_id, Some(agent.id));
                assert_eq!(
                    reasons(store, ctx, c.task.id)
                        .await
                        .last()
                        .map(String::as_str),
                    Some(format!("claimed by agent {}", agent.id).as_str())
                );
                seen.push(c.task.id);
            }
        }
        if round == 0 {
            break;
        }
    }
    let claimed = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), claimed, "no task claimed twice");
    assert_eq!(claimed, 24, "every task an agent may run was claimed");
    assert_eq!(their_claimed, 3, "and every task of the other organization");
    let left = store
        .list_tasks(
            ctx,
            orchestore_repo::TaskFilter {
                status: Some(TaskStatus::Queued),
                ..orchestore_repo::TaskFilter::default()
            },
            PageRequest::first(orchestore_repo::Limit::parse(100).expect("limit")),
        )
        .await
        .expect("list");
    let titles: Vec<&str> = left.items.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["cobol 24"], "only what no agent may run waits");
}

pub async fn a_claim_is_a_heartbeat_and_an_inactive_agent_claims_nothing<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "agent", &[]).await;
    assert_eq!(agent.last_heartbeat_at, None);
    let created = store
        .create_task(ctx, task(project.id, "t"))
        .await
        .expect("create");
    assert!(
        store
            .claim_tasks(ctx, request(agent.id, 1))
            .await
            .expect("claim")
            .len()
            == 1
    );
    let seen = store.get_agent(ctx, agent.id).await.expect("agent");
    assert!(
        seen.last_heartbeat_at.is_some(),
        "a claim counts as a heartbeat"
    );

    let inactive = orchestore_domain::AgentPatch {
        status: Some(orchestore_domain::AgentStatus::Inactive),
        ..orchestore_domain::AgentPatch::default()
    };
    store
        .update_agent(ctx, agent.id, inactive, None)
        .await
        .expect("deactivate");
    let more = store
        .create_task(ctx, task(project.id, "more"))
        .await
        .expect("create");
    match store.claim_tasks(ctx, request(agent.id, 1)).await {
        Err(RepoError::Conflict { reason, .. }) => assert!(reason.contains("inactive"), "{reason}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    match store
        .claim_task(ctx, more.id, agent.id, LeaseDuration::default())
        .await
    {
        Err(RepoError::Conflict { reason, .. }) => assert!(reason.contains("inactive"), "{reason}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        store.get_task(ctx, more.id).await.expect("get").status,
        TaskStatus::Queued
    );
    assert_eq!(
        store.get_task(ctx, created.id).await.expect("get").status,
        TaskStatus::Running
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

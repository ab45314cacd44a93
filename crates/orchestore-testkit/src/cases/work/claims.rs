//! Claims: priority and capability order, waiting claims, claims at once and together, a claim
//! as the agent's heartbeat.

use std::time::{Duration as StdDuration, Instant};

use orchestore_domain::{
    Capabilities, ClaimRequest, ClaimWait, ClaimedTask, LeaseDuration, Priority, TaskId, TaskStatus,
};
use orchestore_repo::{PageRequest, RepoError, Store};

use super::graph::{reasons, worker};
use super::queue::request;
use crate::Fixture;
use crate::cases::{PASSWORD, assert_reference, task};

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

/// Each queued task wakes one waiting claim, the earliest first. A claim woken for a task its
/// agent may not run passes the wake-up on, so the task reaches the waiting claim that may run
/// it, and the first claim waits on for work of its own.
pub async fn a_task_reaches_the_waiting_claim_that_may_run_it<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let generalist = worker(store, ctx, "generalist", &[]).await;
    let rustacean = worker(store, ctx, "rustacean", &["rust"]).await;
    let waiting = |agent| ClaimRequest {
        wait: ClaimWait::parse_seconds(30).expect("wait"),
        ..request(agent, 1)
    };
    let needs_rust = orchestore_domain::NewTask {
        required_capabilities: Capabilities::parse(&["rust"]).expect("capabilities"),
        ..task(project.id, "needs rust")
    };
    let started = Instant::now();
    let (generalists, rustaceans, (rust, plain)) = tokio::join!(
        store.claim_tasks(ctx, waiting(generalist.id)),
        async {
            tokio::time::sleep(StdDuration::from_millis(50)).await;
            store.claim_tasks(ctx, waiting(rustacean.id)).await
        },
        async {
            tokio::time::sleep(StdDuration::from_millis(300)).await;
            let rust = store.create_task(ctx, needs_rust).await.expect("create");
            tokio::time::sleep(StdDuration::from_millis(300)).await;
            let plain = store
                .create_task(ctx, task(project.id, "anyone"))
                .await
                .expect("create");
            (rust, plain)
        }
    );
    let ids =
        |claimed: Vec<ClaimedTask>| claimed.into_iter().map(|c| c.task.id).collect::<Vec<_>>();
    assert_eq!(ids(rustaceans.expect("claim")), [rust.id]);
    assert_eq!(ids(generalists.expect("claim")), [plain.id]);
    assert!(
        started.elapsed() < StdDuration::from_secs(5),
        "woken by the commits, not by the end of the waits"
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

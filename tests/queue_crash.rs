//! A worker that dies holding tasks, on a SQLite file and on PostgreSQL: what the lease and its
//! fencing token promise, played out by workers that are tokio tasks sharing one store.
//!
//! - **A dead worker's tasks go to another, and its late calls change nothing**: a worker
//!   claims three tasks under a 1-second lease, completes one and dies (its tokio task is
//!   aborted) holding the other two. Once the lease has run out, another worker's claims
//!   take exactly those two, as their attempt 2. The dead worker's late complete, fail,
//!   heartbeat and release are each `RepoError::Stale` and change nothing — the task, its
//!   history and the agents' counters are as they were — and the new holder completes them.
//!   The history tells it: claimed by the first agent, the lease expired, claimed by the
//!   second, completed by the second.
//! - **On the last attempt the expired lease is the dead letter**: with `max_attempts` 1, the
//!   sweep (as the server runs it) fails the task with "the lease expired", and the dead
//!   worker's late completion is refused as stale.
//! - **A claim's run starts when it takes its tasks**: a claim that has to wait for a pooled
//!   connection (a pool of one connection, held by a transaction that releases the task and
//!   then keeps the connection longer than the lease) hands out a lease that runs from when
//!   it took the task, not from when it was asked for: it is live when the claim returns, so
//!   another worker's claim finds nothing to take; and the claim comes after the release in
//!   the task's history and in time.
//!
//! Times here only order events (a lease runs out before the next claim); nothing asserts
//! how fast anything is.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use orchestore_domain::{
    AgentId, AgentKind, ClaimLimit, ClaimRequest, ClaimWait, ClaimedTask, LeaseDuration,
    MaxAttempts, Name, NewAgent, NewTask, Payload, Progress, TaskId, TaskStatus, TemplateId, Title,
};
use orchestore_repo::{Backend, Ctx, Limit, PageRequest, RepoError, Retry, Store};
use orchestore_sea::{DbConfig, SeaStore};
use orchestore_testkit::{Fixture, TestDb};
use sea_orm::{
    ConnectionTrait as _, DatabaseTransaction, DbBackend, Statement, TransactionTrait as _,
};
use serde_json::json;
use tokio::sync::oneshot;

const PASSWORD: &str = "correct horse battery";
/// Only a hang guard for the loops that wait for a lease to run out.
const HANG_GUARD: Duration = Duration::from_secs(60);

fn second() -> LeaseDuration {
    LeaseDuration::parse_seconds(1).expect("lease")
}

fn claim(agent: AgentId, limit: i64, lease: LeaseDuration) -> ClaimRequest {
    ClaimRequest {
        agent,
        limit: ClaimLimit::parse(limit).expect("limit"),
        lease,
        wait: ClaimWait::parse_millis(200).expect("wait"),
    }
}

async fn agent(store: &dyn Store, ctx: &Ctx, name: &str) -> AgentId {
    let name = Name::parse("name", name).expect("name");
    store
        .create_agent(ctx, NewAgent::named(name, AgentKind::Ai))
        .await
        .expect("create agent")
        .id
}

fn assert_stale<T: std::fmt::Debug>(result: Result<T, RepoError>, says: &str) {
    match result {
        Err(RepoError::Stale { reason, .. }) => assert!(reason.contains(says), "{reason}"),
        other => panic!("expected a stale lease ({says}), got {other:?}"),
    }
}

/// The task's history as `from → to: reason` lines, oldest first.
async fn history(store: &dyn Store, ctx: &Ctx, id: TaskId) -> Vec<String> {
    store
        .list_task_events(
            ctx,
            id,
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("history")
        .items
        .into_iter()
        .map(|e| {
            let from = e.from_status.map_or("-", |s| s.as_str());
            format!("{from} → {}: {}", e.to_status, e.reason)
        })
        .collect()
}

/// Claims for `agent` until `count` tasks are taken: the claims find nothing while the dead
/// worker's lease lasts, then one of them sweeps it and takes the tasks.
async fn claim_until(
    store: &dyn Store,
    ctx: &Ctx,
    agent: AgentId,
    count: usize,
) -> Vec<ClaimedTask> {
    let mut taken = Vec::new();
    tokio::time::timeout(HANG_GUARD, async {
        while taken.len() < count {
            let request = claim(agent, 10, LeaseDuration::default());
            taken.extend(store.claim_tasks(ctx, request).await.expect("claim"));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("hang: {} of {count} tasks taken back", taken.len()));
    taken
}

async fn a_dead_workers_tasks_go_to_another(store: Arc<dyn Store>) {
    let fixture = Fixture::create(store.as_ref(), "acme", PASSWORD).await;
    let ctx = fixture.ctx.clone();
    let project = fixture.project(store.as_ref(), "Apollo").await;
    let (doomed, heir) = (
        agent(store.as_ref(), &ctx, "doomed").await,
        agent(store.as_ref(), &ctx, "heir").await,
    );
    let mut ids = Vec::new();
    for n in 0..3 {
        let title = Title::parse(&format!("task {n}")).expect("title");
        let task = store
            .create_task(&ctx, NewTask::titled(project.id, title))
            .await
            .expect("create");
        ids.push(task.id);
    }

    // The doomed worker claims all three, completes the first, sends what it holds, and
    // hangs in its work until it is killed.
    let (holding, held) = oneshot::channel();
    let worker = tokio::spawn({
        let (store, ctx) = (Arc::clone(&store), ctx.clone());
        async move {
            let claimed = store
                .claim_tasks(&ctx, claim(doomed, 3, second()))
                .await
                .expect("claim");
            let done = &claimed[0];
            let result = Payload::parse(json!({"by": "doomed"})).expect("payload");
            store
                .complete_task(&ctx, done.task.id, done.lease_token, Some(result))
                .await
                .expect("complete the first");
            holding.send(claimed[1..].to_vec()).expect("send");
            std::future::pending::<()>().await;
        }
    });
    let held: Vec<ClaimedTask> = held.await.expect("what the worker holds");
    worker.abort();
    assert!(worker.await.expect_err("killed").is_cancelled());
    assert_eq!(held.len(), 2);
    assert!(held.iter().all(|c| c.task.attempts == 1));

    // Another worker takes exactly the two the dead one held, as their second attempt.
    let taken = claim_until(store.as_ref(), &ctx, heir, 2).await;
    let mut taken_ids: Vec<TaskId> = taken.iter().map(|c| c.task.id).collect();
    taken_ids.sort();
    let mut held_ids: Vec<TaskId> = held.iter().map(|c| c.task.id).collect();
    held_ids.sort();
    assert_eq!(
        taken_ids, held_ids,
        "the tasks the dead worker held, no other"
    );
    for c in &taken {
        assert_eq!(
            (c.task.status, c.task.attempts, c.task.assigned_agent_id),
            (TaskStatus::Running, 2, Some(heir))
        );
        assert!(c.task.lease_expires_at > Some(Utc::now()), "a live lease");
    }
    let doomed_before = store.get_agent(&ctx, doomed).await.expect("agent");
    assert_eq!(
        (doomed_before.tasks_completed, doomed_before.tasks_failed),
        (1, 0)
    );

    // The dead worker's late calls are stale and change nothing.
    for late in &held {
        let id = late.task.id;
        let token = late.lease_token;
        let before = store.get_task(&ctx, id).await.expect("get");
        let events = history(store.as_ref(), &ctx, id).await;
        let says = "the lease expired and the task was claimed again";
        let result = Payload::parse(json!({"by": "doomed, late"})).expect("payload");
        assert_stale(
            store.complete_task(&ctx, id, token, Some(result)).await,
            says,
        );
        assert_stale(
            store
                .fail_task(&ctx, id, token, None, Retry::IfAttemptsLeft)
                .await,
            says,
        );
        let progress = Some(Progress::parse(99).expect("progress"));
        assert_stale(
            store
                .heartbeat_task(&ctx, id, token, LeaseDuration::default(), progress)
                .await,
            says,
        );
        assert_stale(store.release_task(&ctx, id, token).await, says);
        assert_eq!(store.get_task(&ctx, id).await.expect("get"), before);
        assert_eq!(history(store.as_ref(), &ctx, id).await, events);
    }
    assert_eq!(
        store.get_agent(&ctx, doomed).await.expect("agent"),
        doomed_before
    );

    // The heir finishes them.
    for c in &taken {
        let result = Payload::parse(json!({"by": "heir"})).expect("payload");
        let done = store
            .complete_task(&ctx, c.task.id, c.lease_token, Some(result))
            .await
            .expect("complete");
        assert_eq!((done.status, done.attempts), (TaskStatus::Succeeded, 2));
        assert_eq!(
            done.result.map(Payload::into_value),
            Some(json!({"by": "heir"}))
        );
        let events = history(store.as_ref(), &ctx, c.task.id).await;
        assert_eq!(events.len(), 5, "{events:#?}");
        assert_eq!(events[0], "- → queued: created");
        assert_eq!(
            events[1],
            format!("queued → running: claimed by agent {doomed}")
        );
        assert!(
            events[2].starts_with("running → queued: the lease expired at"),
            "{events:#?}"
        );
        assert_eq!(
            events[3],
            format!("queued → running: claimed by agent {heir}")
        );
        assert_eq!(
            events[4],
            format!("running → succeeded: completed by agent {heir}")
        );
    }
    let heir_after = store.get_agent(&ctx, heir).await.expect("agent");
    assert_eq!(
        (heir_after.tasks_completed, heir_after.tasks_failed),
        (2, 0)
    );
    assert_eq!(
        store.get_agent(&ctx, doomed).await.expect("agent"),
        doomed_before
    );
}

async fn a_dead_workers_last_attempt_is_the_dead_letter(store: Arc<dyn Store>) {
    let fixture = Fixture::create(store.as_ref(), "acme", PASSWORD).await;
    let ctx = fixture.ctx.clone();
    let project = fixture.project(store.as_ref(), "Apollo").await;
    let doomed = agent(store.as_ref(), &ctx, "doomed").await;
    let new = NewTask {
        max_attempts: MaxAttempts::parse(1).expect("max"),
        ..NewTask::titled(project.id, Title::parse("once").expect("title"))
    };
    let task = store.create_task(&ctx, new).await.expect("create");
    let claimed = store
        .claim_tasks(&ctx, claim(doomed, 1, second()))
        .await
        .expect("claim")
        .remove(0);
    assert_eq!(claimed.task.id, task.id);

    // The worker is gone; the sweep the server runs finds the lease run out.
    let expired = tokio::time::timeout(HANG_GUARD, async {
        loop {
            let expired = store.expire_leases(&ctx).await.expect("sweep");
            if !expired.is_empty() {
                return expired;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("hang: the lease never ran out");
    assert_eq!(expired.failed, [task.id]);
    assert!(expired.requeued.is_empty());
    let failed = store.get_task(&ctx, task.id).await.expect("get");
    assert_eq!((failed.status, failed.attempts), (TaskStatus::Failed, 1));
    assert_eq!(
        failed.error.map(Payload::into_value),
        Some(json!({"message": "the lease expired"}))
    );

    let late = store
        .complete_task(&ctx, task.id, claimed.lease_token, None)
        .await;
    assert_stale(late, "the task is failed");
    assert_eq!(
        store.get_task(&ctx, task.id).await.expect("get").status,
        TaskStatus::Failed
    );
    let events = history(store.as_ref(), &ctx, task.id).await;
    assert_eq!(events.len(), 3, "{events:#?}");
    assert!(
        events[2].starts_with("running → failed: the lease expired at")
            && events[2].ends_with("on the last of 1 attempts"),
        "{events:#?}"
    );
    let doomed_after = store.get_agent(&ctx, doomed).await.expect("agent");
    assert_eq!(
        (doomed_after.tasks_completed, doomed_after.tasks_failed),
        (0, 1)
    );
}

/// A claim through a store of one connection waits while a transaction holds it: the
/// transaction releases the task the claim will take, then keeps the connection for longer
/// than the claim's lease. The claim names its task (`claim_task`). On SQLite it waits for the
/// pool's one connection (the transaction holds the write lock); on PostgreSQL it runs on the
/// store's one connection for statements run alone, which a read holds meanwhile, kept waiting
/// by a lock on the table it reads. The claims of any task, run on the connections kept for
/// work done together, read the clock the same way, once one is held.
async fn a_claims_lease_starts_when_it_takes_the_task(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::new(db.store().clone());
    let fixture = Fixture::create(store.as_ref(), "acme", PASSWORD).await;
    let ctx = fixture.ctx.clone();
    let project = fixture.project(store.as_ref(), "Apollo").await;
    let (first, waiting, other) = (
        agent(store.as_ref(), &ctx, "first").await,
        agent(store.as_ref(), &ctx, "waiting").await,
        agent(store.as_ref(), &ctx, "other").await,
    );
    let task = store
        .create_task(
            &ctx,
            NewTask::titled(project.id, Title::parse("handed on").expect("title")),
        )
        .await
        .expect("create");
    let held = store
        .claim_task(&ctx, task.id, first, LeaseDuration::default())
        .await
        .expect("claim");

    let narrow: Arc<dyn Store> = Arc::new(
        SeaStore::connect(&DbConfig {
            max_connections: 1,
            min_connections: 0,
            ..DbConfig::new(db.url())
        })
        .await
        .expect("a pool of one connection"),
    );
    let tx = narrow.begin().await.expect("hold the one connection");
    let held_read = if narrow.backend() == Backend::Postgres {
        Some(HeldRead::hold(db, &narrow, &ctx).await)
    } else {
        None
    };
    let claiming = tokio::spawn({
        let (narrow, ctx) = (Arc::clone(&narrow), ctx.clone());
        async move {
            narrow
                .claim_task(&ctx, task.id, waiting, second())
                .await
                .map(|claimed| vec![claimed])
        }
    });
    // Let the claim start and wait for the connection.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let released = tx
        .release_task(&ctx, task.id, held.lease_token)
        .await
        .expect("release");
    assert_eq!(released.status, TaskStatus::Queued);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    tx.commit().await.expect("commit");
    if let Some(held_read) = held_read {
        held_read.end().await;
    }
    let freed_at = Utc::now();

    let claimed = claiming.await.expect("the claim").expect("claim");
    assert_eq!(claimed.len(), 1, "the released task");
    let run = &claimed[0].task;
    assert_eq!(run.id, task.id);
    let events = store
        .list_task_events(
            &ctx,
            task.id,
            PageRequest::first(Limit::parse(200).expect("l")),
        )
        .await
        .expect("history")
        .items;
    let reasons: Vec<&str> = events.iter().map(|e| e.reason.as_str()).collect();
    let release = events
        .iter()
        .find(|e| e.reason.starts_with("released"))
        .expect("the release in the history");
    // Every consequence is collected, then asserted together.
    let mut wrong = Vec::new();
    if run.started_at < Some(release.created_at) {
        wrong.push(format!(
            "the run started at {:?}, before the release it follows at {}",
            run.started_at, release.created_at
        ));
    }
    if run.lease_expires_at <= Some(freed_at) {
        wrong.push(format!(
            "the lease ran out at {:?}, while the claim waited for a connection (free at \
             {freed_at}): it was handed out expired",
            run.lease_expires_at
        ));
    }
    let in_order = [
        "created".to_owned(),
        format!("claimed by agent {first}"),
        "released by its worker; the attempt is not counted".to_owned(),
        format!("claimed by agent {waiting}"),
    ];
    if reasons != in_order {
        wrong.push(format!(
            "the history is not in the order it happened: {reasons:#?}"
        ));
    }
    // The lease is live: another worker finds nothing to take.
    let stolen = store
        .claim_tasks(
            &ctx,
            ClaimRequest {
                wait: ClaimWait::default(),
                ..claim(other, 1, LeaseDuration::default())
            },
        )
        .await
        .expect("claim");
    if let Some(taken) = stolen.first() {
        wrong.push(format!(
            "another worker took the task too, as attempt {}",
            taken.task.attempts
        ));
    }
    if let Err(error) = store
        .complete_task(&ctx, task.id, claimed[0].lease_token, None)
        .await
    {
        wrong.push(format!(
            "the waiting claim's worker cannot complete its task: {error}"
        ));
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    drop(narrow);
}

/// A read of `store` kept waiting, holding its connection, by a lock on the table it reads.
struct HeldRead {
    lock: DatabaseTransaction,
    read: tokio::task::JoinHandle<()>,
}

impl HeldRead {
    async fn hold(db: &TestDb, store: &Arc<dyn Store>, ctx: &Ctx) -> Self {
        let lock = db.connection().begin().await.expect("begin");
        lock.execute_unprepared("LOCK TABLE templates IN ACCESS EXCLUSIVE MODE")
            .await
            .expect("lock the templates");
        let read = tokio::spawn({
            let (store, ctx) = (Arc::clone(store), ctx.clone());
            async move {
                // Nothing is found once the lock is gone; the read only held the connection.
                let found = store.get_template(&ctx, TemplateId::new()).await;
                assert!(
                    matches!(found, Err(RepoError::NotFound { .. })),
                    "{found:?}"
                );
            }
        });
        // Until the read waits for the lock, holding its connection.
        let waiting = Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        for _ in 0..500 {
            let row = db
                .connection()
                .query_one_raw(waiting.clone())
                .await
                .expect("pg_stat_activity")
                .expect("a count");
            if row.try_get_by_index::<i64>(0).expect("count") > 0 {
                return Self { lock, read };
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the read never waited for the lock");
    }

    async fn end(self) {
        self.lock.commit().await.expect("unlock");
        self.read.await.expect("the read");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_a_dead_workers_tasks_go_to_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    a_dead_workers_tasks_go_to_another(Arc::new(db.store().clone())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_dead_workers_tasks_go_to_another() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    a_dead_workers_tasks_go_to_another(Arc::new(db.store().clone())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_a_dead_workers_last_attempt_is_the_dead_letter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    a_dead_workers_last_attempt_is_the_dead_letter(Arc::new(db.store().clone())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_dead_workers_last_attempt_is_the_dead_letter() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    a_dead_workers_last_attempt_is_the_dead_letter(Arc::new(db.store().clone())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_a_claims_lease_starts_when_it_takes_the_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    a_claims_lease_starts_when_it_takes_the_task(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_claims_lease_starts_when_it_takes_the_task() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    a_claims_lease_starts_when_it_takes_the_task(&db).await;
}

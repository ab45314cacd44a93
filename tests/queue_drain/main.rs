//! The queue drained by concurrent workers, on a SQLite file (a pool of several connections,
//! WAL, immediate write transactions) and on PostgreSQL (claims that `SKIP LOCKED`).
//!
//! Eight workers — tokio tasks, each its own agent, sharing one `Arc<dyn Store>` over a pool of
//! 14 connections — drain the tasks that four producers are still creating (in transactions
//! of 50), claiming in batches of 1 to 100. Each run heartbeats now and then, is released now
//! and then (a worker giving a task back without using an attempt), and fails 20% of the time:
//! a failed run is retried after the queue's backoff (0.5–1 s, then 1–2 s) until its third
//! attempt, then it is dead-lettered. Whether attempt `k` of task `n` fails is drawn from a RNG
//! seeded by `(SEED, n, k)`, so the outcome of every task is known before the test starts,
//! whatever the interleaving. The workers stop when every task has ended. A call that fails
//! with `Unavailable` ("worth retrying": on SQLite, a writer that waited out the busy timeout
//! behind the others) is retried, as a worker would, and counted.
//!
//! How many tasks: 10,000 on SQLite, 5,000 on PostgreSQL, so that each test takes about a
//! minute at most in a debug build on two cores shared with other builds;
//! `ORCHESTORE_QUEUE_DRAIN_TASKS=10000` drains the 10,000 on both. Measured so (debug build,
//! everything included, load average 2 to 7): SQLite, 10,000 tasks in 46 s and 62 s;
//! PostgreSQL, 4,000 in 44 s, 5,000 in 36 s, 10,000 in 96 s and 141 s. On PostgreSQL every
//! statement is a round trip that waits for a core, and the producers set the pace.
//!
//! It proves, on both backends:
//!
//! - **exactly one end**: every task is `succeeded` or `failed`, no lease left on it, and it is
//!   the end its seeded failures decide, after the number of attempts they decide (a failed
//!   task used all 3);
//! - **one live lease at a time**: the test keeps each task's current holder (set by a claim,
//!   cleared when its worker's complete, fail or release returns); a claim handing out a task
//!   whose holder had not begun to end its run, under a lease not yet expired, is a violation.
//!   Every claim also returns the attempt number the test expects, every end of a run is
//!   accepted (no lease expires: it is 5 minutes), and no task is claimed after it ended;
//! - **a consistent history**, over all tasks in SQL (`task_events`, in the order the history
//!   lists it): it starts with the creation, each event's `from_status` is the previous
//!   event's `to_status`, the last one is the task's status, the `queued → running` events
//!   less the releases are the task's `attempts`, and there is one event per creation, claim
//!   and end of run the workers saw, no more; and for a seeded sample of 500 tasks (plus every
//!   dead-lettered or released one) through `list_task_events`, each event is exactly the step
//!   the test took (which agent claimed, how the run ended);
//! - **the agents' counters add up**: each agent's `tasks_completed` and `tasks_failed` are the
//!   runs its worker completed and dead-lettered.
//!
//! It asserts no timing: it prints how long creating, draining and checking took. A guard of
//! ten minutes only turns a hang (a task that never ends) into a failure that says which.

mod checks;
mod tracker;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use orchestore_domain::{
    AgentId, AgentKind, ClaimLimit, ClaimRequest, ClaimWait, LeaseDuration, MaxAttempts, Name,
    NewAgent, NewTask, Payload, Priority, Progress, Task, TaskId, TaskStatus, Title,
};
use orchestore_repo::{
    Ctx, Limit, PageRequest, RepoError, RepoResult, Retry, Store, TaskFilter, transaction,
};
use orchestore_sea::{DbConfig, SeaStore};
use orchestore_testkit::{Fixture, TestDb};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sea_orm::Database;
use serde_json::json;
use tokio::task::JoinSet;

use crate::checks::{check_histories_in_sql, check_history};
use crate::tracker::{Step, Tracker};

/// The tasks drained on each backend, unless `ORCHESTORE_QUEUE_DRAIN_TASKS` says otherwise (see
/// the measurements in the module's documentation).
const SQLITE_TASKS: usize = 10_000;
const POSTGRES_TASKS: usize = 5_000;
const TASKS_VAR: &str = "ORCHESTORE_QUEUE_DRAIN_TASKS";
const WORKERS: usize = 8;
/// The store's pool: a connection for each worker and producer, and the PostgreSQL listener's.
const POOL: u32 = 14;
const SEED: u64 = 0x5eed_0f0c_ce55;
const MAX_ATTEMPTS: u32 = 3;
/// The chance that an attempt fails.
const FAIL_RATE: f64 = 0.2;
/// The chance that a worker gives a claimed task back (at most twice per task).
const RELEASE_RATE: f64 = 0.03;
const MAX_RELEASES: u32 = 2;
/// The chance that a run heartbeats before it ends.
const HEARTBEAT_RATE: f64 = 0.1;
/// The claim sizes workers pick from.
const BATCHES: [i64; 7] = [1, 2, 5, 10, 25, 50, 100];
/// The producers that create the tasks, while the workers drain them (four futures joined).
const CREATORS: usize = 4;
/// Tasks per creating transaction.
const CREATE_CHUNK: usize = 50;
/// Tasks whose whole history is compared with what the workers did, besides the
/// dead-lettered and released ones.
const SAMPLE: usize = 500;
/// Only a hang guard: a drain that has not ended by then has lost a task.
const HANG_GUARD: Duration = Duration::from_secs(600);
/// How many times a call that fails with `Unavailable` is tried again.
const UNAVAILABLE_RETRIES: usize = 50;

/// Whether attempt `attempt` of task `n` fails: the same answer in every run of the test.
fn fails(n: usize, attempt: u32) -> bool {
    let seed = SEED ^ ((n as u64) << 8 | u64::from(attempt));
    StdRng::seed_from_u64(seed).random_bool(FAIL_RATE)
}

/// How task `n` ends, and after how many attempts.
fn fate(n: usize) -> (TaskStatus, u32) {
    match (1..=MAX_ATTEMPTS).find(|&attempt| !fails(n, attempt)) {
        Some(attempt) => (TaskStatus::Succeeded, attempt),
        None => (TaskStatus::Failed, MAX_ATTEMPTS),
    }
}

fn title_number(task: &Task) -> usize {
    task.title
        .as_str()
        .strip_prefix("task ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a task of this test: {:?}", task.title))
}

async fn agent(store: &dyn Store, ctx: &Ctx, worker: usize) -> AgentId {
    let name = Name::parse("name", &format!("worker {worker}")).expect("name");
    store
        .create_agent(ctx, NewAgent::named(name, AgentKind::Ai))
        .await
        .expect("create agent")
        .id
}

/// One producer: creates the tasks `n` of `0..tracker.total` with `n % CREATORS == creator`,
/// `CREATE_CHUNK` per transaction.
async fn create_tasks(
    store: Arc<dyn Store>,
    ctx: Ctx,
    project: orchestore_domain::ProjectId,
    tracker: Arc<Tracker>,
    creator: usize,
) {
    let numbers: Vec<usize> = (creator..tracker.total).step_by(CREATORS).collect();
    for chunk in numbers.chunks(CREATE_CHUNK) {
        retried(&tracker, "create", || {
            transaction(store.as_ref(), async |tx| {
                for &n in chunk {
                    let title = Title::parse(&format!("task {n}")).expect("title");
                    let new = NewTask {
                        priority: Priority::parse((n % 5) as i64).expect("priority"),
                        max_attempts: MaxAttempts::parse(i64::from(MAX_ATTEMPTS)).expect("max"),
                        ..NewTask::titled(project, title)
                    };
                    tx.create_task(&ctx, new).await?;
                }
                Ok(())
            })
        })
        .await
        .expect("create a chunk of tasks");
    }
}

/// Runs `call` again after a pause while it fails with `Unavailable` — "worth retrying", as
/// a worker would on a `503`: on SQLite, a writer that waited out the busy timeout behind the
/// others. Such a failure changed nothing (its transaction rolled back); the test counts them.
async fn retried<T, F: Future<Output = RepoResult<T>>>(
    tracker: &Tracker,
    what: &str,
    mut call: impl FnMut() -> F,
) -> Result<T, String> {
    for _ in 0..UNAVAILABLE_RETRIES {
        match call().await {
            Err(RepoError::Unavailable(_)) => {
                tracker.unavailable.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => return other.map_err(|e| format!("{what}: {e:?}")),
        }
    }
    call()
        .await
        .map_err(|e| format!("{what}, unavailable every time: {e:?}"))
}

/// One worker: claims a batch of a random size, runs each task (a heartbeat now and then),
/// and ends the run as the task's seeded fate says, or gives it back now and then; until
/// every task has ended.
async fn work(
    store: Arc<dyn Store>,
    ctx: Ctx,
    worker: usize,
    agent: AgentId,
    tracker: Arc<Tracker>,
) -> Result<usize, String> {
    let mut rng = StdRng::seed_from_u64(SEED.wrapping_add(worker as u64));
    let mut runs = 0;
    let wait = ClaimWait::parse_millis(250).expect("wait");
    let store = store.as_ref();
    let ctx = &ctx;
    while !tracker.all_ended() {
        let limit = *BATCHES.choose(&mut rng).expect("a batch size");
        let request = ClaimRequest {
            agent,
            limit: ClaimLimit::parse(limit).expect("limit"),
            lease: LeaseDuration::default(),
            wait,
        };
        let claimed = retried(&tracker, "claim", || store.claim_tasks(ctx, request))
            .await
            .map_err(|e| format!("worker {worker}: {e}"))?;
        for c in &claimed {
            tracker.claimed(worker, agent, c);
        }
        for c in claimed {
            runs += 1;
            let (id, token) = (c.task.id, c.lease_token);
            if rng.random_bool(HEARTBEAT_RATE) {
                let lease = LeaseDuration::default();
                let progress = Some(Progress::parse(50).expect("progress"));
                let beat = retried(&tracker, "heartbeat", || {
                    store.heartbeat_task(ctx, id, token, lease, progress)
                })
                .await;
                match beat {
                    Ok(beat) => tracker.heartbeat(worker, id, token, &beat),
                    Err(error) => {
                        tracker.refused(worker, id, token, &error);
                        continue;
                    }
                }
            }
            let step = if rng.random_bool(RELEASE_RATE) && tracker.releases(id) < MAX_RELEASES {
                Step::Released
            } else if fails(title_number(&c.task), c.task.attempts) {
                Step::Failed
            } else {
                Step::Completed
            };
            let expected = tracker.ending(worker, id, token, step);
            let ended = retried(&tracker, &format!("{step:?}"), || match step {
                Step::Completed => {
                    let result = Payload::parse(json!({"worker": worker})).expect("payload");
                    store.complete_task(ctx, id, token, Some(result))
                }
                Step::Failed => {
                    let error = Payload::parse(json!({"message": "seeded failure"})).expect("p");
                    store.fail_task(ctx, id, token, Some(error), Retry::IfAttemptsLeft)
                }
                Step::Released => store.release_task(ctx, id, token),
                Step::Claimed { .. } => unreachable!("not an end"),
            })
            .await;
            match ended {
                Ok(after) => tracker.ended(worker, id, token, expected, &after),
                Err(error) => tracker.refused(worker, id, token, &error),
            }
        }
    }
    Ok(runs)
}

async fn drain(db: TestDb, backend: &str, total: usize) {
    let started = Instant::now();
    // A pool for the workers and the producers (TestDb's own has five connections).
    let pool = SeaStore::connect(&DbConfig {
        max_connections: POOL,
        min_connections: 0,
        ..DbConfig::new(db.url())
    })
    .await
    .expect("connect");
    let store: Arc<dyn Store> = Arc::new(pool);
    let fixture = Fixture::create(store.as_ref(), "acme", "correct horse battery").await;
    let ctx = fixture.ctx.clone();
    let project = fixture.project(store.as_ref(), "Apollo").await;
    let mut agents = Vec::new();
    for worker in 0..WORKERS {
        agents.push(agent(store.as_ref(), &ctx, worker).await);
    }
    let expected: Vec<(TaskStatus, u32)> = (0..total).map(fate).collect();

    // The workers start before the tasks exist: they wait for work, woken by the commits.
    let tracker = Arc::new(Tracker::new(total));
    let mut workers = JoinSet::new();
    for (worker, &agent) in agents.iter().enumerate() {
        let (store, ctx, tracker) = (Arc::clone(&store), ctx.clone(), Arc::clone(&tracker));
        workers.spawn(work(store, ctx, worker, agent, tracker));
    }
    let creating = Instant::now();
    let creator = |n: usize| {
        create_tasks(
            Arc::clone(&store),
            ctx.clone(),
            project.id,
            Arc::clone(&tracker),
            n,
        )
    };
    tokio::join!(creator(0), creator(1), creator(2), creator(3));
    let created_in = creating.elapsed();
    let drained = tokio::time::timeout(HANG_GUARD, async {
        let mut runs = 0;
        while let Some(joined) = workers.join_next().await {
            runs += joined
                .expect("a worker panicked")
                .unwrap_or_else(|e| panic!("a worker's call failed: {e}"));
        }
        runs
    })
    .await;
    let runs = match drained {
        Ok(runs) => runs,
        Err(_) => {
            let tasks = tracker.tasks.lock().unwrap_or_else(|e| e.into_inner());
            let open: Vec<usize> = tasks
                .values()
                .filter(|log| log.ended.is_none())
                .map(|log| log.n)
                .take(20)
                .collect();
            panic!(
                "hang: {} of {total} tasks ended; some open ones: {open:?}",
                tracker.ended.load(Ordering::SeqCst)
            );
        }
    };
    let drained_in = creating.elapsed();
    eprintln!(
        "{backend}: drained; checking (created in {created_in:.1?}, drained in \
         {drained_in:.1?}, {} calls retried after `Unavailable`)",
        tracker.unavailable.load(Ordering::SeqCst),
    );
    let checking = Instant::now();

    let violations = tracker
        .violations
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    assert!(
        violations.is_empty(),
        "{} violations, the first ones: {:#?}",
        violations.len(),
        &violations[..violations.len().min(20)]
    );
    let logs = std::mem::take(&mut *tracker.tasks.lock().unwrap_or_else(|e| e.into_inner()));
    assert_eq!(logs.len(), total, "every task was claimed");

    // Every task, as stored: the end and the attempts its seeded failures decided.
    let mut page = PageRequest::first(Limit::parse(200).expect("limit"));
    let mut seen = 0;
    loop {
        let listed = store
            .list_tasks(&ctx, TaskFilter::default(), page.clone())
            .await
            .expect("list tasks");
        for task in &listed.items {
            seen += 1;
            let n = title_number(task);
            let log = logs.get(&task.id).expect("a task the workers claimed");
            let (status, attempts) = expected[n];
            assert_eq!(
                (task.status, task.attempts, log.ended, log.attempts),
                (status, attempts, Some(status), attempts),
                "task {n}: stored, and as the workers saw it, against its seeded fate"
            );
            assert_eq!(task.lease_expires_at, None, "task {n}");
            assert_eq!(
                task.result.is_some(),
                status == TaskStatus::Succeeded,
                "task {n}"
            );
        }
        match listed.next_cursor {
            Some(cursor) => page = page.next(Some(cursor)),
            None => break,
        }
    }
    assert_eq!(seen, total);

    // Every history, in SQL.
    let claims: usize = logs
        .values()
        .flat_map(|log| &log.steps)
        .filter(|step| matches!(step, Step::Claimed { .. }))
        .count();
    let ends = logs.values().map(|log| log.steps.len()).sum::<usize>() - claims;
    assert_eq!(claims, runs);
    assert_eq!(claims, ends, "every run ended");
    let sql = Database::connect(db.url()).await.expect("connect for SQL");
    let (wrong, examples) =
        check_histories_in_sql(&sql, total, (total + claims + ends) as i64).await;
    sql.close().await.ok();

    // A sample of histories, event by event, with every dead-lettered or released task.
    let mut rng = StdRng::seed_from_u64(SEED);
    let ids: Vec<TaskId> = {
        let mut ids: Vec<TaskId> = logs.keys().copied().collect();
        ids.sort();
        ids
    };
    let mut sample: BTreeSet<TaskId> = ids.choose_multiple(&mut rng, SAMPLE).copied().collect();
    sample.extend(
        logs.iter()
            .filter(|(_, log)| log.releases > 0 || log.ended == Some(TaskStatus::Failed))
            .map(|(id, _)| *id),
    );
    sample.extend(examples);
    let mut problems = Vec::new();
    for id in &sample {
        problems.extend(check_history(store.as_ref(), &ctx, *id, &logs[id], &agents).await);
    }
    assert!(
        wrong.is_empty() && problems.is_empty(),
        "in SQL: {wrong:#?}; {} history problems in {} tasks checked event by event, the \
         first ones: {:#?}",
        problems.len(),
        sample.len(),
        &problems[..problems.len().min(20)]
    );

    // Each agent counted the runs its worker ended for good.
    let mut counters = [(0u64, 0u64); WORKERS];
    for log in logs.values() {
        let mut holder = 0;
        for (i, step) in log.steps.iter().enumerate() {
            match *step {
                Step::Claimed { worker } => holder = worker,
                Step::Completed => counters[holder].0 += 1,
                Step::Failed
                    if i + 1 == log.steps.len() && log.ended == Some(TaskStatus::Failed) =>
                {
                    counters[holder].1 += 1;
                }
                Step::Failed | Step::Released => {}
            }
        }
    }
    for (worker, &agent) in agents.iter().enumerate() {
        let stored = store.get_agent(&ctx, agent).await.expect("agent");
        assert_eq!(
            (stored.tasks_completed, stored.tasks_failed),
            counters[worker],
            "worker {worker}'s agent counters"
        );
    }

    let dead = expected
        .iter()
        .filter(|(status, _)| *status == TaskStatus::Failed)
        .count();
    let releases: u32 = logs.values().map(|log| log.releases).sum();
    eprintln!(
        "{backend}: {total} tasks by {WORKERS} workers: {runs} runs ({releases} released, \
         {dead} dead-lettered, {} calls retried after `Unavailable`); created in \
         {created_in:.1?}, drained in {drained_in:.1?} (from the first creation), checked in \
         {:.1?} ({} histories event by event); {:.1?} in all",
        tracker.unavailable.load(Ordering::SeqCst),
        checking.elapsed(),
        sample.len(),
        started.elapsed()
    );
}

/// `default` tasks, or as many as `ORCHESTORE_QUEUE_DRAIN_TASKS` says.
fn tasks(default: usize) -> usize {
    std::env::var(TASKS_VAR)
        .ok()
        .map(|raw| {
            raw.parse()
                .unwrap_or_else(|_| panic!("{TASKS_VAR} is not a number: {raw}"))
        })
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_workers_drain_the_queue() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    drain(db, "sqlite file", tasks(SQLITE_TASKS)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_workers_drain_the_queue() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    drain(db, "postgres", tasks(POSTGRES_TASKS)).await;
}

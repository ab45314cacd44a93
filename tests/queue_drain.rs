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

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, AgentKind, ClaimLimit, ClaimRequest, ClaimWait, ClaimedTask, LeaseDuration,
    LeaseToken, MaxAttempts, Name, NewAgent, NewTask, Payload, Priority, Progress, Task, TaskId,
    TaskStatus, Title,
};
use orchestore_repo::{
    Ctx, Limit, PageRequest, RepoError, RepoResult, Retry, Store, TaskFilter, transaction,
};
use orchestore_sea::{DbConfig, SeaStore};
use orchestore_testkit::{Fixture, TestDb};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::json;
use tokio::task::JoinSet;
use uuid::Uuid;

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

/// What a worker did with a task, in the order it did it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Claimed { worker: usize },
    Completed,
    Failed,
    Released,
}

/// The run a worker holds: set by its claim, marked `ending` just before the worker ends it.
#[derive(Debug)]
struct Holder {
    worker: usize,
    token: LeaseToken,
    expires: DateTime<Utc>,
    ending: bool,
}

#[derive(Debug)]
struct TaskLog {
    n: usize,
    steps: Vec<Step>,
    /// Attempts the store should have counted: claims less releases.
    attempts: u32,
    releases: u32,
    holder: Option<Holder>,
    /// The terminal status the end of a run returned.
    ended: Option<TaskStatus>,
}

/// What the workers saw, and every violation of the queue's promises they met.
struct Tracker {
    /// How many tasks the test drains.
    total: usize,
    tasks: Mutex<HashMap<TaskId, TaskLog>>,
    violations: Mutex<Vec<String>>,
    ended: AtomicUsize,
    /// Calls that failed with `Unavailable` and were retried.
    unavailable: AtomicUsize,
}

impl Tracker {
    fn violation(&self, what: String) {
        self.violations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }

    fn new(total: usize) -> Self {
        Self {
            total,
            tasks: Mutex::default(),
            violations: Mutex::default(),
            ended: AtomicUsize::new(0),
            unavailable: AtomicUsize::new(0),
        }
    }

    fn all_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst) >= self.total
    }

    fn claimed(&self, worker: usize, agent: AgentId, claimed: &ClaimedTask) {
        let task = &claimed.task;
        let n = title_number(task);
        let mut problems = Vec::new();
        {
            let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
            let log = tasks.entry(task.id).or_insert_with(|| TaskLog {
                n,
                steps: Vec::new(),
                attempts: 0,
                releases: 0,
                holder: None,
                ended: None,
            });
            if let Some(holder) = &log.holder
                && !holder.ending
                && task.started_at.is_none_or(|at| at < holder.expires)
            {
                problems.push(format!(
                    "task {n} claimed by worker {worker} at {:?} while worker {} held it under \
                     a live lease until {}, not yet ending its run",
                    task.started_at, holder.worker, holder.expires
                ));
            }
            if let Some(status) = log.ended {
                problems.push(format!(
                    "task {n} claimed by worker {worker} after it ended {status}"
                ));
            }
            let attempt = log.attempts + 1;
            if task.attempts != attempt {
                problems.push(format!(
                    "task {n} claimed by worker {worker} as attempt {}, expected {attempt}",
                    task.attempts
                ));
            }
            if task.status != TaskStatus::Running || task.assigned_agent_id != Some(agent) {
                problems.push(format!(
                    "task {n} claimed by worker {worker} is {} on {:?}",
                    task.status, task.assigned_agent_id
                ));
            }
            log.attempts = attempt;
            log.steps.push(Step::Claimed { worker });
            log.holder = Some(Holder {
                worker,
                token: claimed.lease_token,
                expires: task.lease_expires_at.unwrap_or(DateTime::<Utc>::MIN_UTC),
                ending: false,
            });
        }
        for problem in problems {
            self.violation(problem);
        }
    }

    fn releases(&self, id: TaskId) -> u32 {
        let tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.get(&id).map_or(0, |log| log.releases)
    }

    fn heartbeat(&self, worker: usize, id: TaskId, token: LeaseToken, beat: &Task) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let log = tasks.get_mut(&id).expect("a claimed task");
        match &mut log.holder {
            Some(holder) if holder.token == token => {
                let expires = beat.lease_expires_at.unwrap_or(DateTime::<Utc>::MIN_UTC);
                if expires < holder.expires {
                    let n = log.n;
                    drop(tasks);
                    self.violation(format!(
                        "task {n}: worker {worker}'s heartbeat shortened the lease"
                    ));
                    return;
                }
                holder.expires = expires;
            }
            _ => {
                let n = log.n;
                drop(tasks);
                self.violation(format!(
                    "task {n}: worker {worker} heartbeat a run the test no longer saw it hold"
                ));
            }
        }
    }

    /// Notes, before the call, that `worker` ends its run of `id` by `step`; returns what the
    /// call should leave: the task's status and attempts.
    fn ending(
        &self,
        worker: usize,
        id: TaskId,
        token: LeaseToken,
        step: Step,
    ) -> (TaskStatus, u32) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let log = tasks.get_mut(&id).expect("a claimed task");
        let n = log.n;
        let held = match &mut log.holder {
            Some(holder) if holder.token == token => {
                holder.ending = true;
                true
            }
            _ => false,
        };
        log.steps.push(step);
        let status = match step {
            Step::Completed => TaskStatus::Succeeded,
            Step::Failed if log.attempts >= MAX_ATTEMPTS => TaskStatus::Failed,
            Step::Failed => TaskStatus::Queued,
            Step::Released => {
                log.attempts -= 1;
                log.releases += 1;
                TaskStatus::Queued
            }
            Step::Claimed { .. } => unreachable!("a claim does not end a run"),
        };
        let attempts = log.attempts;
        drop(tasks);
        if !held {
            self.violation(format!(
                "task {n}: worker {worker} ends a run someone else now holds"
            ));
        }
        (status, attempts)
    }

    /// Notes what the end of the run by `token` returned, against what it should leave.
    fn ended(
        &self,
        worker: usize,
        id: TaskId,
        token: LeaseToken,
        (status, attempts): (TaskStatus, u32),
        after: &Task,
    ) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let log = tasks.get_mut(&id).expect("a claimed task");
        let n = log.n;
        if log.holder.as_ref().is_some_and(|h| h.token == token) {
            log.holder = None;
        }
        let mut problems = Vec::new();
        if (after.status, after.attempts) != (status, attempts) {
            problems.push(format!(
                "task {n}: worker {worker}'s end of its run left it {} after {} attempts, \
                 expected {status} after {attempts}",
                after.status, after.attempts
            ));
        }
        if after.lease_expires_at.is_some() {
            problems.push(format!("task {n}: a lease is left after its run ended"));
        }
        if matches!(after.status, TaskStatus::Succeeded | TaskStatus::Failed) {
            if let Some(before) = log.ended {
                problems.push(format!(
                    "task {n} ended twice: {before}, then {}",
                    after.status
                ));
            } else {
                self.ended.fetch_add(1, Ordering::SeqCst);
            }
            log.ended = Some(after.status);
        }
        drop(tasks);
        for problem in problems {
            self.violation(problem);
        }
    }

    /// A worker's heartbeat or end of its run was refused: with leases that never expire
    /// here, a violation (a `Stale` lease), or a failure. The test stops counting the run as
    /// held.
    fn refused(&self, worker: usize, id: TaskId, token: LeaseToken, error: &str) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let log = tasks.get_mut(&id).expect("a claimed task");
        let n = log.n;
        if log.holder.as_ref().is_some_and(|h| h.token == token) {
            log.holder = None;
        }
        drop(tasks);
        self.violation(format!(
            "task {n}: worker {worker}'s end of its run was refused: {error}"
        ));
    }
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

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let statement = Statement::from_string(db.get_database_backend(), sql.to_owned());
    db.query_one_raw(statement)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn task_ids(db: &DatabaseConnection, sql: &str) -> Vec<TaskId> {
    let statement = Statement::from_string(db.get_database_backend(), sql.to_owned());
    db.query_all_raw(statement)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| TaskId::from_uuid(row.try_get_by_index::<Uuid>(0).expect("a task id")))
        .collect()
}

/// Every task's history checked in SQL, in the order `list_task_events` lists it (by id):
/// what is wrong, and some of the tasks it is wrong about.
async fn check_histories_in_sql(
    db: &DatabaseConnection,
    total: usize,
    expected_events: i64,
) -> (Vec<String>, Vec<TaskId>) {
    let checks = [
        (
            "tasks that are not succeeded or failed, or keep a lease",
            "SELECT id FROM tasks WHERE status NOT IN ('succeeded', 'failed')
                 OR lease_token IS NOT NULL OR lease_expires_at IS NOT NULL",
        ),
        (
            "failed tasks with attempts left",
            "SELECT id FROM tasks WHERE status = 'failed' AND attempts <> max_attempts",
        ),
        (
            "histories that do not start with the creation or whose events do not chain",
            "SELECT DISTINCT task_id FROM (
                 SELECT task_id, from_status, to_status,
                     LAG(to_status) OVER (PARTITION BY organization_id, task_id ORDER BY id)
                         AS previous,
                     ROW_NUMBER() OVER (PARTITION BY organization_id, task_id ORDER BY id) AS n
                 FROM task_events) h
             WHERE (n = 1 AND (from_status IS NOT NULL OR to_status <> 'queued'))
                OR (n > 1 AND (from_status IS NULL OR from_status <> previous))",
        ),
        (
            "tasks whose history does not end in their status",
            "SELECT t.id FROM tasks t WHERE t.status <> COALESCE((
                 SELECT e.to_status FROM task_events e
                 WHERE e.organization_id = t.organization_id AND e.task_id = t.id
                 ORDER BY e.id DESC LIMIT 1), '')",
        ),
        (
            "tasks whose attempts are not their claims less their releases",
            "SELECT t.id FROM tasks t WHERE t.attempts <> (
                 SELECT COUNT(*) FROM task_events e
                 WHERE e.organization_id = t.organization_id AND e.task_id = t.id
                   AND e.from_status = 'queued' AND e.to_status = 'running')
               - (SELECT COUNT(*) FROM task_events e
                 WHERE e.organization_id = t.organization_id AND e.task_id = t.id
                   AND e.from_status = 'running' AND e.to_status = 'queued'
                   AND e.reason LIKE 'released%')",
        ),
    ];
    let mut problems = Vec::new();
    let mut examples = Vec::new();
    for (what, sql) in checks {
        let found = task_ids(db, sql).await;
        if !found.is_empty() {
            problems.push(format!("{} {what}", found.len()));
            examples.extend(found.into_iter().take(5));
        }
    }
    let tasks = count(db, "SELECT COUNT(*) FROM tasks").await;
    if tasks != total as i64 {
        problems.push(format!("{tasks} tasks stored, not {total}"));
    }
    let events = count(db, "SELECT COUNT(*) FROM task_events").await;
    if events != expected_events {
        problems.push(format!(
            "{events} events, not one per creation, claim and end of run: {expected_events}"
        ));
    }
    (problems, examples)
}

/// The history of one task, event by event, against the steps the workers took.
async fn check_history(
    store: &dyn Store,
    ctx: &Ctx,
    id: TaskId,
    log: &TaskLog,
    agents: &[AgentId],
) -> Vec<String> {
    let events = store
        .list_task_events(
            ctx,
            id,
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("history")
        .items;
    let n = log.n;
    let mut problems = Vec::new();
    if events.len() != 1 + log.steps.len() {
        problems.push(format!(
            "task {n}: {} events for {} steps: {:?}",
            events.len(),
            log.steps.len(),
            events.iter().map(|e| &e.reason).collect::<Vec<_>>()
        ));
        return problems;
    }
    let created = &events[0];
    if (created.from_status, created.to_status) != (None, TaskStatus::Queued) {
        problems.push(format!("task {n} starts with {created:?}"));
    }
    let mut attempts = 0;
    for (event, step) in events[1..].iter().zip(&log.steps) {
        let moved = (event.from_status, event.to_status);
        let reason = event.reason.as_str();
        let matches = match *step {
            Step::Claimed { worker } => {
                attempts += 1;
                moved == (Some(TaskStatus::Queued), TaskStatus::Running)
                    && reason == format!("claimed by agent {}", agents[worker])
            }
            Step::Completed => {
                moved == (Some(TaskStatus::Running), TaskStatus::Succeeded)
                    && reason.starts_with("completed by agent")
            }
            Step::Failed if attempts >= MAX_ATTEMPTS => {
                moved == (Some(TaskStatus::Running), TaskStatus::Failed)
                    && reason
                        == format!("attempt {attempts} of {MAX_ATTEMPTS} failed: no attempts left")
            }
            Step::Failed => {
                moved == (Some(TaskStatus::Running), TaskStatus::Queued)
                    && reason.starts_with(&format!(
                        "attempt {attempts} of {MAX_ATTEMPTS} failed: retried after"
                    ))
            }
            Step::Released => {
                attempts -= 1;
                moved == (Some(TaskStatus::Running), TaskStatus::Queued)
                    && reason.starts_with("released by its worker")
            }
        };
        if !matches {
            problems.push(format!(
                "task {n}: step {step:?} recorded as {:?} → {} ({reason})",
                event.from_status, event.to_status
            ));
        }
    }
    for pair in events.windows(2) {
        if pair[1].from_status != Some(pair[0].to_status) {
            problems.push(format!(
                "task {n}: {} then {:?} → {}: the history does not chain",
                pair[0].to_status, pair[1].from_status, pair[1].to_status
            ));
        }
    }
    if !problems.is_empty() {
        let listed: Vec<String> = events
            .iter()
            .map(|e| {
                let from = e.from_status.map_or("-", |s| s.as_str());
                format!("{} {from} → {}: {}", e.created_at, e.to_status, e.reason)
            })
            .collect();
        problems.push(format!(
            "task {n}: its history: {listed:#?}; the steps: {:?}",
            log.steps
        ));
    }
    problems
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

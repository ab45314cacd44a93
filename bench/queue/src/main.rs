//! The Orchestore side of the queue benchmark (`bench/queue.sh`): the repository API, embedded,
//! against PostgreSQL, as graphile-worker and pg-boss are embedded in their Node process.
//!
//! ```sh
//! queue-bench <mode> --url postgres://postgres@127.0.0.1:5432/orchestore_qbench?sslmode=disable \
//!     --n 20000 --c 8 --batch 50 --bulk 1000
//! ```
//!
//! Each mode starts from an empty queue (the queue's tables truncated, a fresh organization with
//! a project and C agents), prints one JSON line on stdout and says what it does on stderr. Run
//! one mode per process: `peak_rss_kib` is the process's peak (`VmHWM`).

mod sql;
mod stats;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use orchestore::domain::{
    AgentId, AgentKind, BatchTask, ClaimLimit, ClaimRequest, ClaimWait, ClaimedTask, Completion,
    Completions, ConcurrencyKey, ConcurrencyLimit, ConcurrencyStrategy, Description, FairnessKey,
    FairnessWeight, LeaseDuration, Metadata, Name, NewAgent, NewOrganization, NewProject, NewTask,
    OrganizationId, Payload, ProjectId, QueueShareWeight, SharedClaimRequest, Slug, Tags,
    TaskConcurrency, TaskFairness, TaskId, Title,
};
use orchestore::repo::{
    AgentRepo, Ctx, OrganizationRepo, ProjectRepo, QueueRepo, RepoResult, SharedQueueRepo, TaskRepo,
};
use orchestore::{DbConfig, SeaStore};
use sea_orm::{Database, DatabaseConnection};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::sql::CeilingKind;
use crate::stats::{latency_fields, ms, peak_rss_kib, round3};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// N `create_task` calls, C in flight.
    EnqueueOne,
    /// N tasks in calls of BULK tasks, one call in flight (see `enqueue_bulk`).
    EnqueueBulk,
    /// C workers: `claim_tasks` limit 1, then `complete_task`, until the queue is empty.
    DrainOne,
    /// C workers: `claim_tasks` limit BATCH, then `complete_tasks` for the batch in one call.
    DrainBatch,
    /// C workers: `claim_tasks` limit BATCH, then `complete_task` for each, each its own call.
    DrainBatchEach,
    /// TRICKLE_N tasks enqueued at TRICKLE_RATE per second; C workers wait in `claim_tasks`
    /// (`ClaimRequest.wait`). Producer and workers share the store: a commit wakes the claims
    /// in the process directly.
    Latency,
    /// The same, the producer on a second store (its own pool): the wake-up goes through
    /// PostgreSQL `NOTIFY`, as from another process.
    LatencyNotify,
    /// C workers drain N tasks whose payloads are `--payload-bytes` of JSON each (enqueued
    /// through `enqueue_tasks` before the clock starts), claiming BATCH at a time and completing
    /// the batch in one call. Payloads over `--inline-payload-limit` are stored out of the
    /// tasks' rows and the claim reads them back; a limit above the payload size keeps them in
    /// the rows, to compare.
    DrainLarge,
    /// Claim latency on a queue of SCALE_BASE tasks, then with SCALE_FINISHED finished and
    /// SCALE_QUEUED queued tasks; EXPLAIN (ANALYZE, BUFFERS) of the claim on both.
    Scale,
    /// Prepares the database for the pgbench ceiling of `--kind` and writes its script to
    /// `--out`; prints `CLIENTS=… TXNS=… JOBS_PER_TXN=… SCRIPT=…` for the shell.
    CeilingSetup,
}

#[derive(Debug, Parser)]
#[command(about = "Orchestore's queue, measured through the repository API (bench/queue.sh)")]
struct Args {
    mode: Mode,
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/orchestore_qbench?sslmode=disable"
    )]
    url: String,
    /// Jobs per mode.
    #[arg(long, default_value_t = 20_000)]
    n: u32,
    /// Concurrency: workers, or enqueue calls in flight.
    #[arg(long, default_value_t = 8)]
    c: u32,
    /// Tasks per claim in the batch drains.
    #[arg(long, default_value_t = 50)]
    batch: u32,
    /// Tasks per call in the bulk enqueue.
    #[arg(long, default_value_t = 1000)]
    bulk: u32,
    #[arg(long, default_value_t = 300)]
    trickle_n: u32,
    /// Enqueues per second in the latency modes.
    #[arg(long, default_value_t = 10.0)]
    trickle_rate: f64,
    #[arg(long, default_value_t = 10_000)]
    scale_base: u64,
    #[arg(long, default_value_t = 1_000_000)]
    scale_finished: u64,
    #[arg(long, default_value_t = 100_000)]
    scale_queued: u64,
    /// Claims timed at each size in `scale`.
    #[arg(long, default_value_t = 1000)]
    scale_claims: u32,
    /// Where `scale` writes its EXPLAIN and `ceiling-setup` its script.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// The ceiling `ceiling-setup` prepares.
    #[arg(long, value_enum)]
    kind: Option<CeilingKind>,
    /// Drains through the shared worker fleet: N tasks spread over this many organizations,
    /// each on the fleet with share 1, and the workers claim with `claim_shared_tasks` (0: each
    /// worker claims in the one organization, as usual).
    #[arg(long, default_value_t = 0)]
    fair_orgs: u32,
    /// Spread the tasks over this many concurrency keys (task `i` gets key `key-{i % K}`);
    /// 0, the default, gives them none. The enqueue and drain modes take it.
    #[arg(long, default_value_t = 0)]
    concurrency_keys: u32,
    /// How many tasks of one concurrency key may run at once.
    #[arg(long, default_value_t = 1)]
    key_limit: u32,
    /// Spread the tasks over this many fairness keys of weight 1 (task `i` gets key
    /// `fair-{i % K}`), which claims serve in turn; 0, the default, gives them none. The enqueue
    /// and drain modes take it.
    #[arg(long, default_value_t = 0)]
    fair_keys: u32,
    /// Bytes of JSON in each payload of `drain-large`.
    #[arg(long, default_value_t = 1024 * 1024)]
    payload_bytes: usize,
    /// The store's inline payload limit (`SeaStore::with_inline_payload_limit`).
    #[arg(long, default_value_t = orchestore::sea::DEFAULT_INLINE_PAYLOAD_LIMIT)]
    inline_payload_limit: usize,
}

/// The keys the tasks of a run carry: `count` concurrency keys of limit `limit`, or none, and
/// `fair` fairness keys, or none.
#[derive(Debug, Clone, Copy)]
struct Keys {
    count: u32,
    limit: u32,
    fair: u32,
}

impl Keys {
    fn of(args: &Args) -> Self {
        Self {
            count: args.concurrency_keys,
            limit: args.key_limit.max(1),
            fair: args.fair_keys,
        }
    }

    /// The fairness key of task `i`.
    fn fairness_of_task(self, i: u32) -> Option<TaskFairness> {
        (self.fair > 0).then(|| TaskFairness {
            key: FairnessKey::parse(&format!("fair-{}", i % self.fair)).expect("a key"),
            weight: FairnessWeight::default(),
        })
    }

    /// The concurrency of task `i`.
    fn of_task(self, i: u32) -> Option<TaskConcurrency> {
        (self.count > 0).then(|| TaskConcurrency {
            key: ConcurrencyKey::parse(&format!("key-{}", i % self.count)).expect("a key"),
            limit: ConcurrencyLimit::parse(i64::from(self.limit)).expect("a limit"),
            strategy: ConcurrencyStrategy::Queue,
        })
    }

    /// The fields naming the keys in a mode's JSON line.
    fn fields(self) -> Map<String, Value> {
        let mut fields = Map::new();
        if self.count > 0 {
            fields.insert("concurrency_keys".into(), json!(self.count));
            fields.insert("key_limit".into(), json!(self.limit));
        }
        if self.fair > 0 {
            fields.insert("fair_keys".into(), json!(self.fair));
        }
        fields
    }
}

/// The organization a mode works in, with its project and one agent per worker.
pub struct Fixture {
    ctx: Ctx,
    project: ProjectId,
    agents: Vec<AgentId>,
}

impl Fixture {
    pub fn org_uuid(&self) -> Uuid {
        self.ctx.org().as_uuid()
    }

    pub fn project_uuid(&self) -> Uuid {
        self.project.as_uuid()
    }

    async fn create(store: &SeaStore, agents: u32) -> Result<Self> {
        let ctx = Ctx::system(OrganizationId::new());
        let id = ctx.org().to_string();
        store
            .create_organization(
                &ctx,
                NewOrganization {
                    slug: Slug::parse("slug", &format!("qbench-{}", &id[id.len() - 12..]))?,
                    name: Name::parse("name", "Queue benchmark")?,
                },
            )
            .await?;
        let project = store
            .create_project(
                &ctx,
                NewProject {
                    name: Name::parse("name", "queue")?,
                    description: Description::empty(),
                    repository_url: None,
                    tags: Tags::default(),
                    settings: Metadata::default(),
                },
            )
            .await?
            .id;
        let mut ids = Vec::new();
        for k in 0..agents.max(1) {
            let agent = store
                .create_agent(
                    &ctx,
                    NewAgent::named(Name::parse("name", &format!("worker-{k}"))?, AgentKind::Bot),
                )
                .await?;
            ids.push(agent.id);
        }
        Ok(Self {
            ctx,
            project,
            agents: ids,
        })
    }
}

/// Task `i` as every tool's job is: a title and the payload `{"i": i}`, default priority;
/// with its concurrency key and its fairness key when the run spreads the tasks over keys.
fn new_task(project: ProjectId, i: u32, keys: Keys) -> NewTask {
    NewTask {
        payload: Payload::parse(json!({ "i": i })).expect("a JSON object is a payload"),
        concurrency: keys.of_task(i),
        fairness: keys.fairness_of_task(i),
        ..NewTask::titled(project, Title::parse(&format!("job {i}")).expect("a title"))
    }
}

/// Task `i` with a payload of about `bytes` bytes of JSON.
fn large_task(project: ProjectId, i: u32, bytes: usize) -> Result<NewTask> {
    let filler = "x".repeat(bytes.saturating_sub(32));
    Ok(NewTask {
        payload: Payload::parse(json!({ "i": i, "filler": filler }))?,
        ..NewTask::titled(project, Title::parse(&format!("job {i}"))?)
    })
}

/// What the bulk enqueue calls, named in its JSON line.
const BULK_CALL: &str = "QueueRepo::enqueue_tasks";

/// Enqueues `batch` in one call: one transaction of multi-row inserts.
async fn enqueue_bulk(store: &SeaStore, ctx: &Ctx, batch: Vec<NewTask>) -> RepoResult<()> {
    let batch = batch.into_iter().map(BatchTask::from).collect();
    store.enqueue_tasks(ctx, batch).await.map(drop)
}

/// Completes `claimed` in one `complete_tasks` call; a refused completion is an error here
/// (no lease can go stale in a drain).
async fn complete_in_one_call(
    store: &SeaStore,
    ctx: &Ctx,
    claimed: Vec<ClaimedTask>,
) -> RepoResult<()> {
    let completions = claimed
        .into_iter()
        .map(|ClaimedTask { task, lease_token }| Completion {
            task: task.id,
            lease_token,
            result: None,
        })
        .collect();
    for outcome in store
        .complete_tasks(ctx, Completions::parse(completions)?)
        .await?
    {
        outcome?;
    }
    Ok(())
}

fn claim_request(agent: AgentId, limit: u32, wait: Duration) -> Result<ClaimRequest> {
    Ok(ClaimRequest {
        agent,
        limit: ClaimLimit::parse(i64::from(limit))?,
        lease: LeaseDuration::default(),
        wait: ClaimWait::parse_millis(wait.as_millis() as i64)?,
    })
}

struct Bench {
    args: Args,
    /// For the SQL around the measurements (never inside a timed section).
    db: DatabaseConnection,
}

impl Bench {
    /// A store as an embedder opens it: default settings, a pool of C + 2 connections (the
    /// peers get the same), migrated.
    async fn store(&self, pool: u32) -> Result<SeaStore> {
        self.store_at(&self.args.url, pool).await
    }

    async fn store_at(&self, url: &str, pool: u32) -> Result<SeaStore> {
        let config = DbConfig {
            max_connections: pool,
            ..DbConfig::new(url)
        };
        let store = SeaStore::connect(&config)
            .await?
            .with_inline_payload_limit(self.args.inline_payload_limit);
        store.migrate().await?;
        Ok(store)
    }

    fn line(&self, mode: &str, fields: Map<String, Value>) {
        let mut out = Map::new();
        out.insert("tool".into(), json!("orchestore"));
        out.insert("mode".into(), json!(mode));
        out.extend(Keys::of(&self.args).fields());
        out.extend(fields);
        out.insert("peak_rss_kib".into(), json!(peak_rss_kib()));
        println!("{}", Value::Object(out));
    }

    async fn count(&self, sql: &str, fx: &Fixture) -> Result<i64> {
        sql::count(&self.db, sql, vec![fx.org_uuid().into()]).await
    }

    /// How many tasks, `created` events and audit rows the queue holds, to check a mode wrote
    /// what it should.
    async fn written(&self, fx: &Fixture, status: &str) -> Result<Value> {
        let tasks = sql::count(
            &self.db,
            "SELECT count(*) FROM tasks WHERE organization_id = $1 AND status = $2",
            vec![fx.org_uuid().into(), status.into()],
        )
        .await?;
        let events = sql::count(
            &self.db,
            "SELECT count(*) FROM task_events WHERE organization_id = $1 AND to_status = $2",
            vec![fx.org_uuid().into(), status.into()],
        )
        .await?;
        let audit = self
            .count(
                "SELECT count(*) FROM audit_logs WHERE organization_id = $1 AND entity = 'task'",
                fx,
            )
            .await?;
        Ok(json!({ "tasks": tasks, "events": events, "task_audit_rows": audit }))
    }

    async fn enqueue_one(&self) -> Result<()> {
        let (n, c) = (self.args.n, self.args.c);
        let store = self.store(c + 2).await?;
        sql::reset(&self.db).await?;
        let fx = Fixture::create(&store, 1).await?;
        sql::settle(&self.db).await?;
        eprintln!("orchestore enqueue-one: {n} create_task calls, {c} in flight");
        let next = Arc::new(AtomicU32::new(0));
        let wal = sql::wal_position(&self.db).await?;
        let start = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..c {
            let (store, ctx, next) = (store.clone(), fx.ctx.clone(), next.clone());
            let (project, keys) = (fx.project, Keys::of(&self.args));
            workers.push(tokio::spawn(async move {
                let mut calls = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return Ok::<_, orchestore::repo::RepoError>(calls);
                    }
                    let t = Instant::now();
                    store.create_task(&ctx, new_task(project, i, keys)).await?;
                    calls.push(ms(t.elapsed()));
                }
            }));
        }
        let mut calls = Vec::new();
        for worker in workers {
            calls.extend(worker.await??);
        }
        let seconds = start.elapsed().as_secs_f64();
        let wal = sql::wal_position(&self.db).await? - wal;
        let mut fields = throughput(n, c, seconds);
        fields.insert("wal_bytes_per_job".into(), json!(wal / i64::from(n.max(1))));
        fields.extend(latency_fields("call_", &calls));
        fields.insert("written".into(), self.written(&fx, "queued").await?);
        self.line("enqueue-one", fields);
        Ok(())
    }

    async fn enqueue_bulk(&self) -> Result<()> {
        let (n, bulk) = (self.args.n, self.args.bulk.max(1));
        let store = self.store(self.args.c + 2).await?;
        sql::reset(&self.db).await?;
        let fx = Fixture::create(&store, 1).await?;
        sql::settle(&self.db).await?;
        eprintln!("orchestore enqueue-bulk: {n} tasks in calls of {bulk} ({BULK_CALL})");
        let wal = sql::wal_position(&self.db).await?;
        let start = Instant::now();
        let mut calls = Vec::new();
        let mut from = 0;
        while from < n {
            let to = (from + bulk).min(n);
            let keys = Keys::of(&self.args);
            let batch = (from..to).map(|i| new_task(fx.project, i, keys)).collect();
            let t = Instant::now();
            enqueue_bulk(&store, &fx.ctx, batch).await?;
            calls.push(ms(t.elapsed()));
            from = to;
        }
        let seconds = start.elapsed().as_secs_f64();
        let wal = sql::wal_position(&self.db).await? - wal;
        let mut fields = throughput(n, 1, seconds);
        fields.insert("wal_bytes_per_job".into(), json!(wal / i64::from(n.max(1))));
        fields.insert("bulk".into(), json!(bulk));
        fields.insert("bulk_call".into(), json!(BULK_CALL));
        fields.extend(latency_fields("call_", &calls));
        fields.insert("written".into(), self.written(&fx, "queued").await?);
        self.line("enqueue-bulk", fields);
        Ok(())
    }

    async fn drain(&self, mode: Mode) -> Result<()> {
        if self.args.fair_orgs > 0 {
            return self.drain_fair(mode).await;
        }
        let (n, c) = (self.args.n, self.args.c);
        let limit = if mode == Mode::DrainOne {
            1
        } else {
            self.args.batch
        };
        let in_one_call = mode == Mode::DrainBatch;
        let store = self.store(c + 2).await?;
        sql::reset(&self.db).await?;
        let fx = Fixture::create(&store, c).await?;
        sql::seed_queued(&self.db, &fx, u64::from(n)).await?;
        let keys = Keys::of(&self.args);
        sql::key_queued(&self.db, &fx, keys.count, keys.limit).await?;
        sql::fair_key_queued(&self.db, &fx, keys.fair).await?;
        sql::settle(&self.db).await?;
        let name = mode
            .to_possible_value()
            .expect("a mode")
            .get_name()
            .to_owned();
        eprintln!(
            "orchestore {name}: {n} queued tasks, {c} workers claiming {limit} at a time, completing {}",
            if in_one_call {
                "the batch in one call (complete_tasks)"
            } else {
                "each in its own call (complete_task)"
            }
        );
        let wal = sql::wal_position(&self.db).await?;
        let start = Instant::now();
        let mut workers = Vec::new();
        // With concurrency keys a claim may find nothing it may run while tasks still wait
        // (their keys are full): the workers stop once every task has been claimed.
        let claimed_total = Arc::new(AtomicU32::new(0));
        for k in 0..c {
            let (store, ctx) = (store.clone(), fx.ctx.clone());
            let claimed_total = claimed_total.clone();
            let request = claim_request(fx.agents[k as usize], limit, Duration::ZERO)?;
            workers.push(tokio::spawn(async move {
                let (mut claims, mut completes, mut done) = (Vec::new(), Vec::new(), 0u32);
                loop {
                    let t = Instant::now();
                    let claimed = store.claim_tasks(&ctx, request).await?;
                    if claimed.is_empty() {
                        if keys.count > 0 && claimed_total.load(Ordering::Relaxed) < n {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            continue;
                        }
                        return Ok::<_, orchestore::repo::RepoError>((claims, completes, done));
                    }
                    claims.push(ms(t.elapsed()));
                    done += claimed.len() as u32;
                    claimed_total.fetch_add(claimed.len() as u32, Ordering::Relaxed);
                    let t = Instant::now();
                    if in_one_call {
                        complete_in_one_call(&store, &ctx, claimed).await?;
                    } else {
                        for ClaimedTask { task, lease_token } in claimed {
                            store
                                .complete_task(&ctx, task.id, lease_token, None)
                                .await?;
                        }
                    }
                    completes.push(ms(t.elapsed()));
                }
            }));
        }
        let (mut claims, mut completes, mut done) = (Vec::new(), Vec::new(), 0);
        for worker in workers {
            let (c, p, d) = worker.await??;
            claims.extend(c);
            completes.extend(p);
            done += d;
        }
        let seconds = start.elapsed().as_secs_f64();
        let wal = sql::wal_position(&self.db).await? - wal;
        let mut fields = throughput(done, c, seconds);
        fields.insert(
            "wal_bytes_per_job".into(),
            json!(wal / i64::from(done.max(1))),
        );
        fields.insert("claim_limit".into(), json!(limit));
        fields.extend(latency_fields("claim_", &claims));
        fields.extend(latency_fields(
            if in_one_call {
                "complete_batch_"
            } else if limit == 1 {
                "complete_"
            } else {
                "complete_batch_each_"
            },
            &completes,
        ));
        fields.insert("written".into(), self.written(&fx, "succeeded").await?);
        self.line(&name, fields);
        Ok(())
    }

    /// A drain through the shared worker fleet: FAIR_ORGS organizations share the N tasks and
    /// C workers claim with `claim_shared_tasks` (the pick of the organization whose turn it
    /// is, its claim, the pass update), then complete in the organization claimed from.
    async fn drain_fair(&self, mode: Mode) -> Result<()> {
        let (n, c, orgs) = (self.args.n, self.args.c, self.args.fair_orgs);
        let limit = if mode == Mode::DrainOne {
            1
        } else {
            self.args.batch
        };
        let in_one_call = mode == Mode::DrainBatch;
        let store = self.store(c + 2).await?;
        sql::reset(&self.db).await?;
        let mut fixtures = Vec::new();
        for k in 0..orgs {
            let fx = Fixture::create(&store, 1).await?;
            let share = n / orgs + u32::from(k < n % orgs);
            sql::seed_queued(&self.db, &fx, u64::from(share)).await?;
            store
                .set_queue_share(fx.ctx.org(), fx.agents[0], QueueShareWeight::default())
                .await?;
            fixtures.push(fx);
        }
        sql::settle(&self.db).await?;
        let name = format!(
            "{}-fair",
            mode.to_possible_value().expect("a mode").get_name()
        );
        eprintln!(
            "orchestore {name}: {n} queued tasks over {orgs} organizations on the shared fleet, \
             {c} workers claiming {limit} at a time with claim_shared_tasks"
        );
        let request = SharedClaimRequest {
            limit: ClaimLimit::parse(i64::from(limit))?,
            lease: LeaseDuration::default(),
        };
        let wal = sql::wal_position(&self.db).await?;
        let start = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..c {
            let store = store.clone();
            workers.push(tokio::spawn(async move {
                let (mut claims, mut completes, mut done) = (Vec::new(), Vec::new(), 0u32);
                loop {
                    let t = Instant::now();
                    let Some(claim) = store.claim_shared_tasks(request).await? else {
                        return Ok::<_, orchestore::repo::RepoError>((claims, completes, done));
                    };
                    claims.push(ms(t.elapsed()));
                    done += claim.tasks.len() as u32;
                    let ctx = Ctx::system(claim.organization_id);
                    let t = Instant::now();
                    if in_one_call {
                        complete_in_one_call(&store, &ctx, claim.tasks).await?;
                    } else {
                        for ClaimedTask { task, lease_token } in claim.tasks {
                            store
                                .complete_task(&ctx, task.id, lease_token, None)
                                .await?;
                        }
                    }
                    completes.push(ms(t.elapsed()));
                }
            }));
        }
        let (mut claims, mut completes, mut done) = (Vec::new(), Vec::new(), 0);
        for worker in workers {
            let (c, p, d) = worker.await??;
            claims.extend(c);
            completes.extend(p);
            done += d;
        }
        let seconds = start.elapsed().as_secs_f64();
        let wal = sql::wal_position(&self.db).await? - wal;
        let mut fields = throughput(done, c, seconds);
        fields.insert(
            "wal_bytes_per_job".into(),
            json!(wal / i64::from(done.max(1))),
        );
        fields.insert("claim_limit".into(), json!(limit));
        fields.insert("fair_orgs".into(), json!(orgs));
        fields.extend(latency_fields("claim_", &claims));
        fields.extend(latency_fields("complete_", &completes));
        let mut written = Vec::new();
        for fx in &fixtures {
            written.push(self.written(fx, "succeeded").await?);
        }
        fields.insert("written".into(), json!(written));
        self.line(&name, fields);
        Ok(())
    }

    /// A drain of tasks whose payloads are large (`--payload-bytes`), stored apart or inline by
    /// `--inline-payload-limit`.
    async fn drain_large(&self) -> Result<()> {
        let (n, c, limit) = (self.args.n, self.args.c, self.args.batch);
        let bytes = self.args.payload_bytes;
        let store = self.store(c + 2).await?;
        sql::reset(&self.db).await?;
        let fx = Fixture::create(&store, c).await?;
        // Enqueued in calls of at most 16 MiB of payloads.
        let per_call = (16 * 1024 * 1024 / bytes.max(1)).clamp(1, 1000) as u32;
        let mut from = 0;
        while from < n {
            let to = (from + per_call).min(n);
            let batch = (from..to)
                .map(|i| large_task(fx.project, i, bytes))
                .collect::<Result<Vec<_>>>()?;
            enqueue_bulk(&store, &fx.ctx, batch).await?;
            from = to;
        }
        let apart = self
            .count(
                "SELECT count(*) FROM task_bodies WHERE organization_id = $1",
                &fx,
            )
            .await?;
        sql::settle(&self.db).await?;
        eprintln!(
            "orchestore drain-large: {n} queued tasks with {bytes}-byte payloads ({apart} stored              apart), {c} workers claiming {limit} at a time, completing the batch in one call"
        );
        let start = Instant::now();
        let mut workers = Vec::new();
        for k in 0..c {
            let (store, ctx) = (store.clone(), fx.ctx.clone());
            let request = claim_request(fx.agents[k as usize], limit, Duration::ZERO)?;
            workers.push(tokio::spawn(async move {
                let (mut claims, mut done) = (Vec::new(), 0u32);
                loop {
                    let t = Instant::now();
                    let claimed = store.claim_tasks(&ctx, request).await?;
                    if claimed.is_empty() {
                        return Ok::<_, orchestore::repo::RepoError>((claims, done));
                    }
                    claims.push(ms(t.elapsed()));
                    done += claimed.len() as u32;
                    complete_in_one_call(&store, &ctx, claimed).await?;
                }
            }));
        }
        let (mut claims, mut done) = (Vec::new(), 0);
        for worker in workers {
            let (c, d) = worker.await??;
            claims.extend(c);
            done += d;
        }
        let seconds = start.elapsed().as_secs_f64();
        let mut fields = throughput(done, c, seconds);
        fields.insert("claim_limit".into(), json!(limit));
        fields.insert("payload_bytes".into(), json!(bytes));
        fields.insert(
            "inline_payload_limit".into(),
            json!(self.args.inline_payload_limit),
        );
        fields.insert("payloads_stored_apart".into(), json!(apart));
        fields.extend(latency_fields("claim_", &claims));
        fields.insert("written".into(), self.written(&fx, "succeeded").await?);
        let mode = if apart > 0 {
            "drain-large"
        } else {
            "drain-large-inline"
        };
        self.line(mode, fields);
        Ok(())
    }

    async fn latency(&self, through_notify: bool) -> Result<()> {
        let (n, c, rate) = (self.args.trickle_n, self.args.c, self.args.trickle_rate);
        let workers_store = self.store(c + 2).await?;
        let producer = if through_notify {
            self.store(2).await?
        } else {
            workers_store.clone()
        };
        sql::reset(&self.db).await?;
        let fx = Fixture::create(&workers_store, c).await?;
        sql::settle(&self.db).await?;
        let mode = if through_notify {
            "latency-notify"
        } else {
            "latency"
        };
        eprintln!(
            "orchestore {mode}: {n} tasks at {rate}/s, {c} workers waiting in claim_tasks{}",
            if through_notify {
                " (the producer's own store: woken by NOTIFY)"
            } else {
                " (same store: woken in the process)"
            }
        );
        let claimed_at: Arc<Mutex<HashMap<TaskId, Instant>>> = Arc::default();
        let claimed = Arc::new(AtomicU32::new(0));
        let mut workers = Vec::new();
        for k in 0..c {
            let (store, ctx) = (workers_store.clone(), fx.ctx.clone());
            let (claimed_at, claimed) = (claimed_at.clone(), claimed.clone());
            let request = claim_request(fx.agents[k as usize], 1, Duration::from_secs(2))?;
            workers.push(tokio::spawn(async move {
                while claimed.load(Ordering::Relaxed) < n {
                    for ClaimedTask { task, lease_token } in
                        store.claim_tasks(&ctx, request).await?
                    {
                        let at = Instant::now();
                        claimed_at.lock().expect("not poisoned").insert(task.id, at);
                        claimed.fetch_add(1, Ordering::Relaxed);
                        store
                            .complete_task(&ctx, task.id, lease_token, None)
                            .await?;
                    }
                }
                Ok::<_, orchestore::repo::RepoError>(())
            }));
        }
        // The workers are waiting (and, through NOTIFY, listening) before the first task.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut enqueued: Vec<(TaskId, Instant, Instant)> = Vec::new();
        let gap = Duration::from_secs_f64(1.0 / rate);
        let start = Instant::now();
        for i in 0..n {
            tokio::time::sleep_until((start + gap * i).into()).await;
            let before = Instant::now();
            let task = producer
                .create_task(&fx.ctx, new_task(fx.project, i, Keys::of(&self.args)))
                .await?;
            enqueued.push((task.id, before, Instant::now()));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while claimed.load(Ordering::Relaxed) < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        claimed.fetch_add(n, Ordering::Relaxed); // Stops the workers (each within its wait).
        for worker in workers {
            worker.await??;
        }
        let claimed_at = claimed_at.lock().expect("not poisoned");
        let (mut after_commit, mut from_call, mut early) = (Vec::new(), Vec::new(), 0);
        for (id, before, after) in &enqueued {
            if let Some(at) = claimed_at.get(id) {
                // A claim woken in the process can return before the producer's call does.
                match at.checked_duration_since(*after) {
                    Some(d) => after_commit.push(ms(d)),
                    None => {
                        early += 1;
                        after_commit.push(0.0);
                    }
                }
                from_call.push(ms(at.duration_since(*before)));
            }
        }
        let mut fields = Map::new();
        fields.insert("n".into(), json!(n));
        fields.insert("c".into(), json!(c));
        fields.insert("rate_per_s".into(), json!(rate));
        fields.insert("claimed".into(), json!(after_commit.len()));
        fields.extend(latency_fields("", &after_commit));
        fields.extend(latency_fields("from_call_", &from_call));
        fields.insert("claimed_before_call_returned".into(), json!(early));
        self.line(mode, fields);
        Ok(())
    }

    /// Times `claims` claims of one task by one worker, completing each (timed apart).
    async fn claim_latencies(
        store: &SeaStore,
        fx: &Fixture,
        claims: u32,
        claim_ms: &mut Vec<f64>,
        complete_ms: &mut Vec<f64>,
    ) -> Result<()> {
        let request = claim_request(fx.agents[0], 1, Duration::ZERO)?;
        for _ in 0..claims {
            let t = Instant::now();
            let Some(ClaimedTask { task, lease_token }) =
                store.claim_tasks(&fx.ctx, request).await?.pop()
            else {
                return Err("the queue ran out of tasks".into());
            };
            claim_ms.push(ms(t.elapsed()));
            let t = Instant::now();
            store
                .complete_task(&fx.ctx, task.id, lease_token, None)
                .await?;
            complete_ms.push(ms(t.elapsed()));
        }
        Ok(())
    }

    /// Claim latency on a small queue beside a large table. The small one ("base": SCALE_BASE
    /// queued tasks) lives in a schema of its own (`qbench_scale_base`, the whole Orchestore
    /// schema migrated into it), the large one ("large": SCALE_FINISHED succeeded and
    /// SCALE_QUEUED queued tasks) in the database's usual schema, so that the claims can
    /// alternate between them, in rounds, and the disk's drift falls on both alike.
    ///
    /// Reported for each: the claims' latency as a worker sees it (commit included), the
    /// completions', and the claim statement's own planning and execution time in the server
    /// (EXPLAIN ANALYZE of rolled-back claims, no commit); and how long a single-row commit
    /// takes. After seeding, the claims wait (at most 2 minutes) until single-row commits are
    /// about as fast as before the seeding.
    async fn scale(&self) -> Result<()> {
        const SCHEMA: &str = "qbench_scale_base";
        const ROUNDS: u32 = 10;
        const WARM_UP: u32 = 50;
        const EXPLAINS: u32 = 30;
        const SETTLE_MAX: Duration = Duration::from_secs(120);
        let a = &self.args;
        let median = |v: &[f64]| stats::percentile(v, 50.0).unwrap_or(f64::NAN);
        let mut fields = Map::new();
        // The disk's commit latency before any seeding.
        let calm = median(&sql::commit_floor(&self.db, 100).await?);
        fields.insert("commit_p50_before_seeding_ms".into(), json!(round3(calm)));

        sql::exec(&self.db, &format!("DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")).await?;
        sql::exec(&self.db, &format!("CREATE SCHEMA {SCHEMA}")).await?;
        let separator = if a.url.contains('?') { '&' } else { '?' };
        let base_url = format!("{}{separator}options%5Bsearch_path%5D={SCHEMA}", a.url);
        let base_db = Database::connect(base_url.as_str()).await?;
        let large_store = self.store(a.c + 2).await?;
        let base_store = self.store_at(&base_url, a.c + 2).await?;
        sql::reset(&self.db).await?;

        struct State<'a> {
            label: &'static str,
            db: &'a DatabaseConnection,
            store: SeaStore,
            fx: Fixture,
            finished: u64,
            queued: u64,
            claims: Vec<f64>,
            completes: Vec<f64>,
        }
        let mut states = Vec::new();
        for (label, db, store, finished, queued) in [
            ("base", &base_db, base_store, 0, a.scale_base),
            (
                "large",
                &self.db,
                large_store,
                a.scale_finished,
                a.scale_queued,
            ),
        ] {
            let fx = Fixture::create(&store, 1).await?;
            eprintln!(
                "orchestore scale ({label}): seeding {finished} succeeded and {queued} queued tasks"
            );
            let t = Instant::now();
            sql::seed_finished(db, &fx, finished).await?;
            sql::seed_queued(db, &fx, queued).await?;
            sql::settle(db).await?;
            eprintln!("  seeded in {:.1} s", t.elapsed().as_secs_f64());
            states.push(State {
                label,
                db,
                store,
                fx,
                finished,
                queued,
                claims: Vec::new(),
                completes: Vec::new(),
            });
        }
        let t = Instant::now();
        loop {
            let now = median(&sql::commit_floor(&self.db, 50).await?);
            if now <= (calm * 1.5).max(calm + 0.2) || t.elapsed() > SETTLE_MAX {
                break;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let waited = t.elapsed().as_secs_f64();
        eprintln!("  waited {waited:.1} s for commits to be as fast as before seeding");
        fields.insert("settle_wait_s".into(), json!(round3(waited)));
        let floor = sql::commit_floor(&self.db, 200).await?;
        fields.insert("commit_p50_ms".into(), json!(round3(median(&floor))));

        // Warm-up (pools, statement caches), then rounds alternating which goes first.
        let (mut ignored, mut ignored_too) = (Vec::new(), Vec::new());
        for s in &states {
            Self::claim_latencies(&s.store, &s.fx, WARM_UP, &mut ignored, &mut ignored_too).await?;
        }
        let per_round = a.scale_claims.div_ceil(ROUNDS);
        for round in 0..ROUNDS {
            let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                let s = &mut states[i];
                Self::claim_latencies(&s.store, &s.fx, per_round, &mut s.claims, &mut s.completes)
                    .await?;
            }
        }

        let mut report = String::new();
        let mut p50s = Vec::new();
        let mut server = Vec::new();
        for s in &states {
            let (mut planning, mut execution, mut plan) = (Vec::new(), Vec::new(), String::new());
            for _ in 0..EXPLAINS {
                let (text, p, e) = sql::explain_claim(s.db, &s.fx, 1).await?;
                planning.push(p);
                execution.push(e);
                plan = text;
            }
            let table =
                sql::count(s.db, "SELECT pg_total_relation_size('tasks')", Vec::new()).await?;
            let label = s.label;
            report.push_str(&format!(
                "== {label}: {} succeeded + {} queued tasks (tasks with its indexes: {} MiB), \
                 after {} timed claims; over {EXPLAINS} rolled-back claims, planning p50 {:.3} ms, \
                 execution p50 {:.3} ms; the last one's EXPLAIN (ANALYZE, BUFFERS) (limit 1):\n{plan}\n",
                s.finished,
                s.queued,
                table / (1 << 20),
                s.claims.len() as u32 + WARM_UP,
                median(&planning),
                median(&execution),
            ));
            p50s.push(median(&s.claims));
            server.push(median(&planning) + median(&execution));
            fields.insert(format!("{label}_finished"), json!(s.finished));
            fields.insert(format!("{label}_queued"), json!(s.queued));
            fields.insert(format!("{label}_table_mib"), json!(table / (1 << 20)));
            fields.extend(latency_fields(&format!("{label}_claim_"), &s.claims));
            fields.extend(latency_fields(&format!("{label}_complete_"), &s.completes));
            fields.insert(
                format!("{label}_server_planning_p50_ms"),
                json!(round3(median(&planning))),
            );
            fields.insert(
                format!("{label}_server_execution_p50_ms"),
                json!(round3(median(&execution))),
            );
        }
        fields.insert("claims_timed".into(), json!(per_round * ROUNDS));
        fields.insert("claim_p50_ratio".into(), json!(round3(p50s[1] / p50s[0])));
        fields.insert("server_ratio".into(), json!(round3(server[1] / server[0])));
        fields.insert(
            "shared_buffers".into(),
            json!(sql::setting(&self.db, "shared_buffers").await?),
        );
        drop(states);
        sql::exec(&self.db, &format!("DROP SCHEMA {SCHEMA} CASCADE")).await?;
        std::fs::create_dir_all(&a.out)?;
        let path = a.out.join("orchestore-scale-explain.txt");
        std::fs::write(
            &path,
            format!(
                "The claim statement:\n{}\n\n{report}",
                sql::claim_statement()
            ),
        )?;
        eprint!("{report}");
        fields.insert("explain".into(), json!(path.display().to_string()));
        self.line("scale", fields);
        Ok(())
    }

    async fn ceiling_setup(&self) -> Result<()> {
        let a = &self.args;
        let kind = a.kind.ok_or("ceiling-setup needs --kind")?;
        let store = self.store(2).await?;
        sql::reset(&self.db).await?;
        let mut fx = Fixture::create(&store, a.c).await?;
        sql::rekey_agents(&self.db, &mut fx).await?;
        let ceiling = sql::ceiling(kind, &fx, a.n, a.c, a.batch.max(1), a.bulk.max(1));
        if !matches!(kind, CeilingKind::EnqueueOne | CeilingKind::EnqueueBulk) {
            sql::seed_queued(&self.db, &fx, u64::from(a.n)).await?;
        }
        sql::settle(&self.db).await?;
        std::fs::create_dir_all(&a.out)?;
        let name = kind
            .to_possible_value()
            .expect("a kind")
            .get_name()
            .to_owned();
        let path = a.out.join(format!("ceiling-{name}.sql"));
        std::fs::write(&path, &ceiling.script)?;
        println!(
            "CLIENTS={} TXNS={} JOBS_PER_TXN={} SCRIPT={}",
            ceiling.clients,
            ceiling.transactions_per_client,
            ceiling.jobs_per_transaction,
            path.display()
        );
        Ok(())
    }
}

fn throughput(jobs: u32, c: u32, seconds: f64) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("n".into(), json!(jobs));
    out.insert("c".into(), json!(c));
    out.insert("seconds".into(), json!(round3(seconds)));
    out.insert(
        "jobs_per_s".into(),
        json!((f64::from(jobs) / seconds).round()),
    );
    out
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let db = Database::connect(args.url.as_str()).await?;
    let mode = args.mode;
    let bench = Bench { args, db };
    match mode {
        Mode::EnqueueOne => bench.enqueue_one().await,
        Mode::EnqueueBulk => bench.enqueue_bulk().await,
        Mode::DrainOne | Mode::DrainBatch | Mode::DrainBatchEach => bench.drain(mode).await,
        Mode::Latency => bench.latency(false).await,
        Mode::LatencyNotify => bench.latency(true).await,
        Mode::DrainLarge => bench.drain_large().await,
        Mode::Scale => bench.scale().await,
        Mode::CeilingSetup => bench.ceiling_setup().await,
    }
}

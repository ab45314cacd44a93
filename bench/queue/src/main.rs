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

mod ceiling;
mod drain;
mod enqueue;
mod latency;
mod scale;
mod sql;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use orchestore::domain::{
    AgentId, AgentKind, BatchTask, ClaimLimit, ClaimRequest, ClaimWait, ConcurrencyKey,
    ConcurrencyLimit, ConcurrencyStrategy, Description, FairnessKey, FairnessWeight, LeaseDuration,
    Metadata, Name, NewAgent, NewOrganization, NewProject, NewTask, OrganizationId, Payload,
    ProjectId, Slug, Tags, TaskConcurrency, TaskFairness, Title,
};
use orchestore::repo::{AgentRepo, Ctx, OrganizationRepo, ProjectRepo, QueueRepo, RepoResult};
use orchestore::{DbConfig, SeaStore};
use sea_orm::{Database, DatabaseConnection};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::sql::CeilingKind;
use crate::stats::{peak_rss_kib, round3};

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

/// What the bulk enqueue calls, named in its JSON line.
const BULK_CALL: &str = "QueueRepo::enqueue_tasks";

/// Enqueues `batch` in one call: one transaction of multi-row inserts.
async fn enqueue_bulk(store: &SeaStore, ctx: &Ctx, batch: Vec<NewTask>) -> RepoResult<()> {
    let batch = batch.into_iter().map(BatchTask::from).collect();
    store.enqueue_tasks(ctx, batch).await.map(drop)
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

//! Concurrency keys under racing claimers, on a SQLite file (a pool of several connections,
//! immediate write transactions) and on PostgreSQL (claims outside any transaction that `SKIP
//! LOCKED`): 16 claimers, each its own agent, drain 48 tasks of one key whose limit is 2,
//! claiming up to 4 tasks at a time and holding each run a few milliseconds before completing
//! it. The limit must hold exactly, which two observers check:
//!
//! - a sampler reads the key's running tasks from the database, over and over, while the
//!   claimers run: no sample (one snapshot each) ever holds more than 2;
//! - each claimer records each run's interval, from its claim's return to its completion's
//!   call, which lies within the interval the database counted it running: at no instant do
//!   more than 2 intervals overlap.
//!
//! Every task succeeds exactly once, and the limit was reached (2 at once), so the claims were
//! not merely taking turns.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use orchestore_domain::{
    AgentKind, BatchTask, ClaimLimit, ClaimRequest, ConcurrencyKey, ConcurrencyLimit,
    ConcurrencyStrategy, Name, NewAgent, NewTask, TaskConcurrency, TaskStatus, Title,
};
use orchestore_repo::{Limit, PageRequest, RepoError, Store, TaskFilter};
use orchestore_testkit::{Fixture, TestDb};
use tokio::task::JoinSet;

const CLAIMERS: usize = 16;
const TASKS: usize = 48;
const KEY_LIMIT: usize = 2;
const HOLD: Duration = Duration::from_millis(5);
const DEADLINE: Duration = Duration::from_secs(120);

/// The most intervals that overlap at one instant; an interval ends before one starting at its
/// end.
fn max_overlap(intervals: &[(Instant, Instant)]) -> usize {
    let mut edges: Vec<(Instant, i32)> = intervals
        .iter()
        .flat_map(|&(start, end)| [(start, 1), (end, -1)])
        .collect();
    edges.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut most) = (0i32, 0i32);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    usize::try_from(most).unwrap_or(0)
}

/// Calls `call` until it answers something other than `Unavailable` (a SQLite writer that
/// waited out the busy timeout behind the others).
macro_rules! patiently {
    ($call:expr) => {
        loop {
            match $call.await {
                Err(RepoError::Unavailable(_)) => tokio::task::yield_now().await,
                other => break other,
            }
        }
    };
}

async fn claimers_race_on_one_key(store: Arc<dyn Store>) {
    let fixture = Fixture::create(store.as_ref(), "acme", "correct horse battery").await;
    let ctx = Arc::new(fixture.ctx.clone());
    let project = fixture.project(store.as_ref(), "Apollo").await;
    let concurrency = TaskConcurrency {
        key: ConcurrencyKey::parse("repo:acme/web").expect("key"),
        limit: ConcurrencyLimit::parse(KEY_LIMIT as i64).expect("limit"),
        strategy: ConcurrencyStrategy::Queue,
    };
    let batch: Vec<BatchTask> = (0..TASKS)
        .map(|n| {
            BatchTask::from(NewTask {
                concurrency: Some(concurrency.clone()),
                ..NewTask::titled(
                    project.id,
                    Title::parse(&format!("deploy {n}")).expect("title"),
                )
            })
        })
        .collect();
    store.enqueue_tasks(&ctx, batch).await.expect("enqueue");

    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (store, ctx, stop) = (Arc::clone(&store), Arc::clone(&ctx), Arc::clone(&stop));
        tokio::spawn(async move {
            let running = TaskFilter {
                status: Some(TaskStatus::Running),
                ..TaskFilter::default()
            };
            let mut most = 0;
            let mut samples = 0;
            while !stop.load(Ordering::Relaxed) {
                let page = PageRequest::first(Limit::parse(100).expect("limit"));
                let Ok(found) = store.list_tasks(&ctx, running.clone(), page).await else {
                    continue;
                };
                most = most.max(found.items.len());
                samples += 1;
                tokio::task::yield_now().await;
            }
            (most, samples)
        })
    };

    let started = Instant::now();
    let mut claimers = JoinSet::new();
    for n in 0..CLAIMERS {
        let (store, ctx, done) = (Arc::clone(&store), Arc::clone(&ctx), Arc::clone(&done));
        let agent = NewAgent::named(
            Name::parse("name", &format!("claimer {n}")).expect("name"),
            AgentKind::Ai,
        );
        let agent = store.create_agent(&ctx, agent).await.expect("agent");
        claimers.spawn(async move {
            let request = ClaimRequest {
                limit: ClaimLimit::parse(4).expect("claim limit"),
                ..ClaimRequest::one(agent.id)
            };
            let mut intervals = Vec::new();
            while done.load(Ordering::Relaxed) < TASKS {
                assert!(started.elapsed() < DEADLINE, "the claimers stalled");
                let claimed = patiently!(store.claim_tasks(&ctx, request)).expect("claim");
                let since = Instant::now();
                if claimed.is_empty() {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                }
                tokio::time::sleep(HOLD).await;
                for run in claimed {
                    let until = Instant::now();
                    patiently!(store.complete_task(&ctx, run.task.id, run.lease_token, None))
                        .expect("complete");
                    intervals.push((since, until));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            intervals
        });
    }
    let mut intervals = Vec::new();
    while let Some(joined) = claimers.join_next().await {
        intervals.extend(joined.expect("claimer"));
    }
    stop.store(true, Ordering::Relaxed);
    let (most_sampled, samples) = sampler.await.expect("sampler");

    assert_eq!(intervals.len(), TASKS, "every task ran once");
    assert!(samples > 0);
    assert!(
        most_sampled <= KEY_LIMIT,
        "a sample saw {most_sampled} tasks of the key running"
    );
    let overlap = max_overlap(&intervals);
    assert!(overlap <= KEY_LIMIT, "{overlap} runs of the key overlapped");
    assert_eq!(overlap, KEY_LIMIT, "the limit was reached");
    let succeeded = TaskFilter {
        status: Some(TaskStatus::Succeeded),
        ..TaskFilter::default()
    };
    let page = PageRequest::first(Limit::parse(100).expect("limit"));
    let ended = store.list_tasks(&ctx, succeeded, page).await.expect("list");
    assert_eq!(ended.items.len(), TASKS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_claimers_race_on_one_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    claimers_race_on_one_key(Arc::new(db.store().clone())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_claimers_race_on_one_key() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    claimers_race_on_one_key(Arc::new(db.store().clone())).await;
}

//! The drain modes: C workers claim and complete until the queue is empty (`drain-one`,
//! `drain-batch`, `drain-batch-each`; through the shared worker fleet with `--fair-orgs`), and
//! `drain-large`, the drain of tasks with large payloads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use orchestore::SeaStore;
use orchestore::domain::{
    ClaimLimit, ClaimedTask, Completion, Completions, LeaseDuration, NewTask, Payload, ProjectId,
    QueueShareWeight, SharedClaimRequest, Title,
};
use orchestore::repo::{Ctx, QueueRepo, RepoResult, SharedQueueRepo};
use serde_json::json;

use crate::stats::{latency_fields, ms};
use crate::{Bench, Fixture, Keys, Mode, Result, claim_request, enqueue_bulk, sql, throughput};

/// Task `i` with a payload of about `bytes` bytes of JSON.
fn large_task(project: ProjectId, i: u32, bytes: usize) -> Result<NewTask> {
    let filler = "x".repeat(bytes.saturating_sub(32));
    Ok(NewTask {
        payload: Payload::parse(json!({ "i": i, "filler": filler }))?,
        ..NewTask::titled(project, Title::parse(&format!("job {i}"))?)
    })
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

impl Bench {
    pub(crate) async fn drain(&self, mode: Mode) -> Result<()> {
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
    pub(crate) async fn drain_large(&self) -> Result<()> {
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
}

//! The latency modes: `latency` and `latency-notify`, workers waiting in `claim_tasks` for
//! tasks enqueued at a trickle, woken in the process or through PostgreSQL `NOTIFY`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orchestore::domain::{ClaimedTask, TaskId};
use orchestore::repo::{QueueRepo, TaskRepo};
use serde_json::{Map, json};

use crate::stats::{latency_fields, ms};
use crate::{Bench, Fixture, Keys, Result, claim_request, new_task, sql};

impl Bench {
    pub(crate) async fn latency(&self, through_notify: bool) -> Result<()> {
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
}

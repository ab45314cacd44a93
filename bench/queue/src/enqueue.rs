//! The enqueue modes: `enqueue-one` (one `create_task` call per task, C in flight) and
//! `enqueue-bulk` (calls of BULK tasks, one in flight).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use orchestore::repo::TaskRepo;
use serde_json::json;

use crate::stats::{latency_fields, ms};
use crate::{BULK_CALL, Bench, Fixture, Keys, Result, enqueue_bulk, new_task, sql, throughput};

impl Bench {
    pub(crate) async fn enqueue_one(&self) -> Result<()> {
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

    pub(crate) async fn enqueue_bulk(&self) -> Result<()> {
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
}

//! The `scale` mode: claim latency on a small queue beside a large table, and the claim's
//! EXPLAIN (ANALYZE, BUFFERS) on both.

use std::time::{Duration, Instant};

use orchestore::SeaStore;
use orchestore::domain::ClaimedTask;
use orchestore::repo::QueueRepo;
use sea_orm::{Database, DatabaseConnection};
use serde_json::{Map, json};

use crate::stats::{self, latency_fields, ms, round3};
use crate::{Bench, Fixture, Result, claim_request, sql};

impl Bench {
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
    pub(crate) async fn scale(&self) -> Result<()> {
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
}

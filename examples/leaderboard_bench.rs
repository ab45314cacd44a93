//! The leaderboard read at scale: seeds one organization with `AGENTS` agents (100,000 by
//! default; a few hundred for a quick check), each with a standing of random points, rating and
//! reputation key, then times the top-100 read through the repository
//! (`RankRepo::leaderboard`) by points, rating, reputation and combined (the combined ranking
//! after one snapshot of it, whose time is printed too) and prints p50/p99 and PostgreSQL's
//! plan of each.
//!
//! ```sh
//! bash bench/leaderboard.sh     # creates database orchestore_leaderboard_bench and runs this
//! cargo run --release --example leaderboard_bench -- postgres://postgres@127.0.0.1:5432/orchestore_leaderboard_bench
//! ```
//!
//! The rows are seeded by SQL (`generate_series`), not through the repository: 100,000 audited
//! calls would time the seeding, not the read.

use std::time::{Duration, Instant};

use chrono::Utc;
use orchestore::domain::{
    LeaderboardKind, LeaderboardPeriod, Name, NewOrganization, OrganizationId, Slug,
};
use orchestore::repo::{BoardRepo, Ctx, LeaderboardQuery, Limit, OrganizationRepo, RankRepo};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .ok_or("usage: leaderboard_bench <postgres url>")?;
    let agents: i64 = std::env::var("AGENTS").map_or(Ok(100_000), |n| n.parse())?;
    let reads: usize = std::env::var("READS").map_or(Ok(1_000), |n| n.parse())?;
    let store = orchestore::open(&url).await?;
    let ctx = Ctx::system(OrganizationId::new());
    let id = ctx.org().to_string();
    store
        .create_organization(
            &ctx,
            NewOrganization {
                slug: Slug::parse("slug", &format!("bench-{}", &id[id.len() - 12..]))?,
                name: Name::parse("name", "Leaderboard bench")?,
            },
        )
        .await?;

    let db = Database::connect(&url).await?;
    let org = ctx.org().as_uuid();
    let seeded = Instant::now();
    for sql in [
        "INSERT INTO agents (organization_id, id, name, name_key, kind, capabilities, status, \
         config, created_at, updated_at) \
         SELECT $1, gen_random_uuid(), 'agent ' || n, 'agent ' || n, 'ai', '{}'::jsonb, \
         'active', '{}'::jsonb, now(), now() FROM generate_series(1, $2) AS n",
        "INSERT INTO standings (organization_id, holder_id, agent_id, points, experience, \
         rating, matches_played, updated_at, reputation_key) \
         SELECT organization_id, id, id, p, p, 1000 + (random() * 1000)::int, 10, now(), \
         (random() - 0.3) * 1e6 \
         FROM (SELECT organization_id, id, (random() * 100000)::bigint AS p FROM agents \
         WHERE organization_id = $1 LIMIT $2) AS a",
        "ANALYZE agents",
        "ANALYZE standings",
    ] {
        let values: Vec<sea_orm::Value> = if sql.starts_with("ANALYZE") {
            vec![]
        } else {
            vec![org.into(), agents.into()]
        };
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?;
    }
    println!(
        "seeded {agents} agents with standings in {:.1?}",
        seeded.elapsed()
    );

    let snapshot_started = Instant::now();
    let combined = store
        .take_leaderboard_snapshot(&ctx, LeaderboardKind::Combined, LeaderboardPeriod::AllTime)
        .await?;
    println!(
        "snapshot of the combined ranking (a scan of {agents} standings): {:.1?}",
        snapshot_started.elapsed()
    );
    let top = 100.min(agents);
    for kind in [
        LeaderboardKind::Points,
        LeaderboardKind::Rating,
        LeaderboardKind::Reputation,
        LeaderboardKind::Combined,
    ] {
        let query = LeaderboardQuery {
            kind,
            period: LeaderboardPeriod::AllTime,
            as_of: Utc::now(),
            limit: Limit::parse(100)?,
        };
        // Warm the pool and the cache, then time each read.
        for _ in 0..20 {
            store.leaderboard(&ctx, query).await?;
        }
        let mut times: Vec<Duration> = Vec::with_capacity(reads);
        for _ in 0..reads {
            let started = Instant::now();
            let rows = store.leaderboard(&ctx, query).await?;
            times.push(started.elapsed());
            assert_eq!(rows.len() as i64, top);
        }
        times.sort();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        println!(
            "top 100 by {kind}: {reads} reads, p50 {:.3} ms, p99 {:.3} ms",
            at(0.50).as_secs_f64() * 1e3,
            at(0.99).as_secs_f64() * 1e3,
        );
        // The statements the repository runs, with their parameters.
        let (explain, values): (String, Vec<sea_orm::Value>) = match kind {
            LeaderboardKind::Combined => (
                "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM leaderboard_snapshot_entries \
                 WHERE organization_id = $1 AND snapshot_id = $2 ORDER BY position LIMIT 100"
                    .to_owned(),
                vec![org.into(), combined.snapshot.id.as_uuid().into()],
            ),
            _ => {
                let (column, filter) = match kind {
                    LeaderboardKind::Points => ("points", ""),
                    LeaderboardKind::Rating => ("rating", " AND agent_id IS NOT NULL"),
                    _ => ("reputation_key", " AND agent_id IS NOT NULL"),
                };
                (
                    format!(
                        "EXPLAIN (ANALYZE, BUFFERS) SELECT holder_id, agent_id, user_id, \
                         {column} AS score FROM standings WHERE organization_id = $1{filter} \
                         ORDER BY {column} DESC, holder_id ASC LIMIT 100"
                    ),
                    vec![org.into()],
                )
            }
        };
        let plan = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                explain,
                values,
            ))
            .await?;
        for row in plan {
            println!("    {}", row.try_get::<String>("", "QUERY PLAN")?);
        }
    }
    Ok(())
}

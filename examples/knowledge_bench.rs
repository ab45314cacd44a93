//! Full-text search at scale: seeds one organization with `ENTRIES` knowledge entries (100,000
//! by default) of English words drawn with a Zipf-like skew, each ending with a reference
//! (`ref<n>`) that about five entries share, then times searches of words of
//! different frequencies through the repository (`KnowledgeRepo::search_knowledge`, ten hits
//! with highlights) and prints p50/p99 and the backend's plan of the ranking query.
//!
//! ```sh
//! bash bench/knowledge.sh     # both backends; creates database orchestore_knowledge_bench
//! cargo run --release --example knowledge_bench -- postgres://postgres@127.0.0.1:5432/orchestore_knowledge_bench
//! cargo run --release --example knowledge_bench -- sqlite:///tmp/knowledge.db?mode=rwc
//! ```
//!
//! The rows are inserted by batched SQL, not through the repository (100,000 audited calls
//! would time the seeding, not the search); the backend's own machinery — PostgreSQL's
//! generated `search_vector` and its GIN index, SQLite's FTS5 triggers — indexes them as it
//! would any entry. The words are drawn from a fixed seed, so every run searches the same text.

use std::time::{Duration, Instant};

use orchestore::domain::{
    Name, NewOrganization, OrganizationId, SearchLimit, Slug, Tags, TextQuery,
};
use orchestore::repo::{
    Ctx, KnowledgeFilter, KnowledgeRepo, KnowledgeSearch, OrganizationRepo, SearchMode,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, Value};

/// The vocabulary, most frequent first: word `i` is drawn with a weight of about 1 / (i + 1).
/// `fixture` and `callback` are listed twice; BENCHMARKS.md's figures were measured with this
/// list as it is.
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "agent", "task", "queue", "worker", "lease", "retry", "workflow", "step", "result", "error",
    "deploy", "service", "request", "response", "database", "index", "query", "table", "schema",
    "migration", "token", "session", "permission", "role", "tenant", "project", "priority",
    "deadline", "schedule", "message", "event", "metric", "alert", "latency", "throughput",
    "memory", "cache", "timeout", "backoff", "failure", "success", "output", "input", "prompt",
    "model", "embedding", "vector", "search", "ranking", "document", "summary", "context",
    "planner", "executor", "reviewer", "critic", "tool", "function", "argument", "parameter",
    "config", "secret", "credential", "audit", "log", "trace", "span", "histogram", "counter",
    "gauge", "dashboard", "incident", "runbook", "rollback", "release", "version", "branch",
    "commit", "review", "merge", "conflict", "resolution", "vote", "proposal", "quorum",
    "threshold", "consensus", "mentor", "reward", "penalty", "appeal", "reputation", "rating",
    "match", "leaderboard", "points", "level", "badge", "tier", "snapshot", "backup", "restore",
    "replica", "pooler", "connection", "transaction", "isolation", "deadlock", "lock",
    "contention", "partition", "shard", "cluster", "node", "region", "zone", "network",
    "packet", "socket", "protocol", "handshake", "certificate", "encryption", "signature",
    "hash", "checksum", "payload", "header", "cookie", "browser", "crawler", "scraper", "parser",
    "tokenizer", "compiler", "interpreter", "runtime", "sandbox", "container", "image",
    "registry", "artifact", "pipeline", "stage", "job", "runner", "matrix", "fixture", "mock",
    "stub", "assertion", "coverage", "benchmark", "profile", "flamegraph", "allocation",
    "garbage", "collector", "thread", "coroutine", "future", "promise", "callback", "channel",
    "mailbox", "actor", "supervisor", "heartbeat", "watchdog", "sweep", "janitor", "retention",
    "archive", "export", "import", "copy", "seed", "fixture", "template", "blueprint", "recipe",
    "playbook", "checklist", "guideline", "policy", "rule", "violation", "evidence", "severity",
    "escalation", "notification", "webhook", "callback", "subscription", "topic", "broker",
    "stream", "offset", "cursor", "page", "limit", "filter", "sort", "order", "group", "bucket",
    "window", "median", "percentile", "quantile", "anomaly", "forecast", "trend", "baseline",
    "regression", "improvement", "experiment", "hypothesis", "observation", "insight", "lesson",
    "pattern", "antipattern", "refactor", "cleanup", "debt", "ownership", "handoff", "escalate",
    "orchestrator", "coordinator", "scheduler", "dispatcher", "balancer", "limiter", "throttle",
    "quota", "budget", "cost", "invoice", "billing", "usage", "forecasting", "capacity",
    "saturation", "utilization", "headroom", "postgres", "sqlite", "rust", "python", "kubernetes",
    "terraform", "ansible", "grafana", "prometheus", "opentelemetry", "jaeger", "kafka",
    "rabbitmq", "redis", "nginx", "envoy", "istio", "linkerd", "consul", "vault", "etcd",
    "zookeeper", "cassandra", "elasticsearch", "clickhouse", "duckdb", "parquet", "arrow",
];

/// The words searched, from rare to common, and what each search shows.
const SEARCHES: &[(&str, &str)] = &[
    ("a rare word", "ref7"),
    ("an uncommon word", "zookeeper"),
    ("a middling word", "heartbeat"),
    ("a common word", "queue"),
    ("two words, both required", "retry backoff"),
    ("a phrase", "\"lease timeout\""),
];

fn word(rng: &mut StdRng) -> &'static str {
    // Inverse-transform sampling of weights 1 / (i + 1): the i-th word's share is about
    // 1 / ((i + 1) · H_n), a Zipf-like spread as in real text.
    let n = WORDS.len() as f64;
    let x: f64 = rng.random::<f64>() * (n + 1.0).ln();
    let index = (x.exp() - 1.0) as usize;
    WORDS[index.min(WORDS.len() - 1)]
}

fn sentence(rng: &mut StdRng, words: usize) -> String {
    (0..words).map(|_| word(rng)).collect::<Vec<_>>().join(" ")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .ok_or("usage: knowledge_bench <database url>")?;
    let entries: usize = std::env::var("ENTRIES").map_or(Ok(100_000), |n| n.parse())?;
    let reads: usize = std::env::var("READS").map_or(Ok(500), |n| n.parse())?;
    let store = orchestore::open(&url).await?;
    let ctx = Ctx::system(OrganizationId::new());
    let id = ctx.org().to_string();
    store
        .create_organization(
            &ctx,
            NewOrganization {
                slug: Slug::parse("slug", &format!("bench-{}", &id[id.len() - 12..]))?,
                name: Name::parse("name", "Knowledge bench")?,
            },
        )
        .await?;

    let db = Database::connect(&url).await?;
    let backend = db.get_database_backend();
    let postgres = backend == DbBackend::Postgres;
    let org = ctx.org().as_uuid();
    let mut rng = StdRng::seed_from_u64(7);
    let seeded = Instant::now();
    // 500 rows of 8 values a statement: within SQLite's 32,766 bound values.
    const BATCH: usize = 500;
    let mut done = 0;
    while done < entries {
        let rows = BATCH.min(entries - done);
        let mut sql = String::from(
            "INSERT INTO knowledge_entries (organization_id, id, title, content, tags, source, \
             metadata, created_by, created_at, updated_at) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(rows * 8);
        for row in 0..rows {
            let place = |i: usize| {
                if postgres {
                    format!("${}", row * 8 + i)
                } else {
                    "?".to_owned()
                }
            };
            let tags = if postgres { "::jsonb" } else { "" };
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "({}, {}, {}, {}, {}{tags}, {}, '{{}}'{tags}, 'system', {}, {})",
                place(1),
                place(2),
                place(3),
                place(4),
                place(5),
                place(6),
                place(7),
                place(8),
            ));
            let at = chrono::Utc::now();
            let tag = format!("[\"team-{}\"]", (done + row) % 10);
            values.extend([
                org.into(),
                uuid::Uuid::now_v7().into(),
                sentence(&mut rng, 6).into(),
                format!(
                    "{} ref{}",
                    sentence(&mut rng, 120),
                    rng.random_range(0..(entries / 5).max(1))
                )
                .into(),
                tag.into(),
                format!("source-{}", (done + row) % 5).into(),
                at.into(),
                at.into(),
            ]);
        }
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        done += rows;
    }
    let analyze = if postgres {
        "VACUUM ANALYZE knowledge_entries"
    } else {
        "ANALYZE"
    };
    db.execute_unprepared(analyze).await?;
    println!(
        "{}: seeded {entries} entries (6-word titles, 120-word contents, {} words) in {:.1?}",
        if postgres { "PostgreSQL" } else { "SQLite" },
        WORDS.len(),
        seeded.elapsed()
    );

    for &(what, text) in SEARCHES {
        for tagged in [false, true] {
            let filter = KnowledgeFilter {
                tags: if tagged {
                    Tags::parse(&["team-3"])?
                } else {
                    Tags::default()
                },
                ..KnowledgeFilter::default()
            };
            let search = KnowledgeSearch {
                mode: SearchMode::Text(TextQuery::parse(text)?),
                filter,
                limit: SearchLimit::parse(10)?,
            };
            let matching = matching(&db, postgres, org, text, tagged).await?;
            for _ in 0..10 {
                store.search_knowledge(&ctx, search.clone()).await?;
            }
            let mut times: Vec<Duration> = Vec::with_capacity(reads);
            for _ in 0..reads {
                let started = Instant::now();
                let hits = store.search_knowledge(&ctx, search.clone()).await?;
                times.push(started.elapsed());
                assert_eq!(hits.len() as i64, matching.min(10), "hits for {text}");
            }
            times.sort();
            let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
            println!(
                "{what} ({text}{}): {matching} entries match; top 10 of {reads} searches: \
                 p50 {:.2} ms, p99 {:.2} ms",
                if tagged { ", tag team-3" } else { "" },
                at(0.50).as_secs_f64() * 1e3,
                at(0.99).as_secs_f64() * 1e3,
            );
        }
    }
    for (what, text) in [SEARCHES[0], SEARCHES[3]] {
        println!("plan of the ranking query for {what} ({text}), no filter:");
        for line in plan(&db, postgres, org, text).await? {
            println!("    {line}");
        }
    }
    Ok(())
}

/// How many entries of the organization match `text` (with the tag filter the bench uses).
async fn matching(
    db: &impl ConnectionTrait,
    postgres: bool,
    org: uuid::Uuid,
    text: &str,
    tagged: bool,
) -> Result<i64, sea_orm::DbErr> {
    let query = TextQuery::parse(text).map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    let (sql, values): (String, Vec<Value>) = if postgres {
        let tag = if tagged {
            " AND tags @> '[\"team-3\"]'"
        } else {
            ""
        };
        (
            format!(
                "SELECT count(*) AS n FROM knowledge_entries WHERE organization_id = $1 \
                 AND search_vector @@ {}{tag}",
                tsquery(&query, 2)
            ),
            tsquery_values(org, &query),
        )
    } else {
        let tag = if tagged {
            " AND EXISTS (SELECT 1 FROM json_each(e.tags) WHERE json_each.value = 'team-3')"
        } else {
            ""
        };
        (
            format!(
                "SELECT count(*) AS n FROM knowledge_fts JOIN knowledge_fts_keys k \
                 ON k.rowid = knowledge_fts.rowid JOIN knowledge_entries e \
                 ON e.organization_id = k.organization_id AND e.id = k.entry_id \
                 WHERE knowledge_fts MATCH ? AND e.organization_id = ?{tag}"
            ),
            vec![query.fts5_match().into(), org.into()],
        )
    };
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .ok_or_else(|| sea_orm::DbErr::Custom("count returned no row".into()))?;
    row.try_get("", "n")
}

/// The repository's `tsquery` of `query` (see `orchestore-sea`'s `push_tsquery`), its values
/// numbered from `first`.
fn tsquery(query: &TextQuery, first: usize) -> String {
    let mut parts = Vec::new();
    let mut n = first;
    if query.plain_words().is_some() {
        parts.push(format!("plainto_tsquery('english', ${n})"));
        n += 1;
    }
    for _ in query.phrase_texts() {
        parts.push(format!("phraseto_tsquery('english', ${n})"));
        n += 1;
    }
    format!("({})", parts.join(" && "))
}

fn tsquery_values(org: uuid::Uuid, query: &TextQuery) -> Vec<Value> {
    let mut values: Vec<Value> = vec![org.into()];
    if let Some(words) = query.plain_words() {
        values.push(words.into());
    }
    values.extend(query.phrase_texts().map(Value::from));
    values
}

/// The plan of the ranking part of the repository's text search (the part that reads the
/// index; the highlighting runs on the ten rows it returns): `EXPLAIN (ANALYZE, BUFFERS)` on
/// PostgreSQL, `EXPLAIN QUERY PLAN` on SQLite.
async fn plan(
    db: &impl ConnectionTrait,
    postgres: bool,
    org: uuid::Uuid,
    text: &str,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let query = TextQuery::parse(text)?;
    let backend = db.get_database_backend();
    let rows = if postgres {
        let sql = format!(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT e.id, ts_rank_cd(e.search_vector, q.query)::float8 \
             AS rank FROM knowledge_entries e, (SELECT {} AS query) q \
             WHERE e.search_vector @@ q.query AND e.organization_id = $1 \
             ORDER BY rank DESC, e.id LIMIT 10",
            tsquery(&query, 2)
        );
        db.query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            tsquery_values(org, &query),
        ))
        .await?
        .into_iter()
        .map(|row| row.try_get::<String>("", "QUERY PLAN"))
        .collect::<Result<Vec<_>, _>>()?
    } else {
        let sql = "EXPLAIN QUERY PLAN SELECT e.id, -bm25(knowledge_fts, 10.0, 1.0) AS rank \
                   FROM knowledge_fts JOIN knowledge_fts_keys k ON k.rowid = knowledge_fts.rowid \
                   JOIN knowledge_entries e ON e.organization_id = k.organization_id \
                   AND e.id = k.entry_id WHERE knowledge_fts MATCH ? AND e.organization_id = ? \
                   ORDER BY rank DESC, e.id LIMIT 10";
        db.query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [query.fts5_match().into(), org.into()],
        ))
        .await?
        .into_iter()
        .map(|row| row.try_get::<String>("", "detail"))
        .collect::<Result<Vec<_>, _>>()?
    };
    Ok(rows)
}

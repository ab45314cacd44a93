//! The task and queue statistics read indexes, not the whole `tasks` table: on PostgreSQL, with
//! thousands of tasks in two organizations, the plan of every statement `task_stats` (for an
//! organization and for a project), `queue_stats` and `queue_depth` (every organization's)
//! run is free of a sequential scan of `tasks`; a tag filter reads the tag index.

use orchestore_domain::Tags;
use orchestore_repo::{
    Limit, PageRequest, QueueRepo, TaskFilter, TaskGraphRepo, TaskRepo, TaskStatsScope,
};
use orchestore_testkit::{Fixture, TestDb};
use sea_orm::{ConnectionTrait, Database};

/// Tasks per organization: enough that the planner prefers an index to reading the table.
const TASKS: [(usize, &str); 2] = [(2_500, "acme"), (2_500, "other")];

#[tokio::test]
async fn task_stats_use_indexes_on_postgres() {
    let Some(test_db) = TestDb::postgres().await else {
        return;
    };
    let store = test_db.store();
    let db = Database::connect(test_db.url())
        .await
        .expect("connect to the test database");
    let mut scopes = Vec::new();
    for (count, slug) in TASKS {
        let fixture = Fixture::create(store, slug, "correct horse battery").await;
        let project = fixture.project(store, "Apollo").await;
        // Every status, ten priorities, a run time for the finished ones.
        db.execute_unprepared(&format!(
            "INSERT INTO tasks (id, organization_id, project_id, title, description, status,
                 priority, payload, required_capabilities, metadata, created_at, updated_at,
                 started_at, finished_at, lease_token, lease_expires_at)
             SELECT gen_random_uuid(), '{org}', '{project}', 'seeded ' || i, '',
                 (ARRAY['blocked','queued','running','succeeded','failed','cancelled'])[1 + i % 6],
                 i % 10, 'null', '[]', '{{}}', now(), now(),
                 CASE WHEN i % 6 >= 2 THEN now() - make_interval(secs => i % 100) END,
                 CASE WHEN i % 6 >= 3 THEN now() END,
                 CASE WHEN i % 6 = 2 THEN gen_random_uuid() END,
                 CASE WHEN i % 6 = 2 THEN now() + interval '1 hour' END
             FROM generate_series(1, {count}) AS i",
            org = fixture.org.id,
            project = project.id,
        ))
        .await
        .expect("seed tasks");
        scopes.push((fixture, project));
    }
    db.execute_unprepared("VACUUM ANALYZE tasks")
        .await
        .expect("analyze");

    let (fixture, project) = &scopes[0];
    let stats = store
        .task_stats(&fixture.ctx, TaskStatsScope::Organization)
        .await
        .expect("stats");
    assert_eq!(stats.total, 2_500);
    assert_eq!(stats.run_time.measured, 1_000, "the window");
    for scope in [
        TaskStatsScope::Organization,
        TaskStatsScope::Project(project.id),
    ] {
        let plans = store
            .explain_task_stats(&fixture.ctx, scope)
            .await
            .expect("explain");
        assert_eq!(plans.len(), 3);
        for plan in &plans {
            assert!(
                !plan.contains("Seq Scan on tasks"),
                "{scope:?} reads the whole table:\n{plan}"
            );
            assert!(plan.contains("idx_tasks_"), "{scope:?}:\n{plan}");
        }
    }
    let plans = store
        .explain_queue_stats(&fixture.ctx)
        .await
        .expect("explain the queue statistics");
    assert_eq!(plans.len(), 6);
    for plan in &plans {
        assert!(
            !plan.contains("Seq Scan on tasks"),
            "the queue statistics read the whole table:\n{plan}"
        );
    }

    // Seeded by `i % 6`: 0 blocked, 1 queued, 2 running (leased for an hour).
    let seeded = |status: usize| -> u64 {
        TASKS
            .iter()
            .map(|(count, _)| (1..=*count).filter(|i| i % 6 == status).count() as u64)
            .sum()
    };
    let depth = store.queue_depth().await.expect("queue depth");
    assert_eq!(
        (
            depth.blocked,
            depth.queued,
            depth.running,
            depth.expired_leases
        ),
        (seeded(0), seeded(1), seeded(2), 0)
    );
    let plans = store
        .explain_queue_depth()
        .await
        .expect("explain the queue depth");
    assert_eq!(plans.len(), 5);
    for plan in &plans {
        assert!(
            !plan.contains("Seq Scan on tasks"),
            "the queue depth reads the whole table:\n{plan}"
        );
    }
    db.close().await.ok();
}

/// The foreign-key check every dependency, message and workflow step makes against `tasks`
/// (`organization_id = $1 AND id = $2`) is planned once per connection and kept; on a fresh
/// database it is planned while `tasks` is empty and never analyzed, when every index leading
/// with `organization_id` costs the same and PostgreSQL takes the newest. The primary key must
/// be that index (migration `m20261128_000023_tasks_primary_key_last`): a later index on
/// `tasks` that leads with `organization_id` and is not partial would take the check over.
#[tokio::test]
async fn a_fresh_database_checks_task_references_by_the_primary_key() {
    let Some(test_db) = TestDb::postgres().await else {
        return;
    };
    let plan = test_db.reference_check_plan("tasks").await;
    assert!(
        plan.contains("using pk_tasks") && plan.contains("(id = $2)"),
        "the reference check does not use the primary key:\n{plan}"
    );
}

/// A tag filter reads `tasks`' tag index, which covers only tagged tasks (migration
/// `m20261201_000054_task_tags_index_partial`): the statement states the index's predicate, so
/// PostgreSQL can use it, and the filter finds exactly the tasks with the tag.
#[tokio::test]
async fn a_tag_filter_reads_the_partial_tag_index_on_postgres() {
    let Some(test_db) = TestDb::postgres().await else {
        return;
    };
    let (store, db) = (test_db.store(), test_db.connection());
    let index: String = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_tasks_tags'",
        ))
        .await
        .expect("read the index")
        .expect("the tag index exists")
        .try_get_by_index(0)
        .expect("its definition");
    assert!(index.contains("WHERE (tags <> '[]'::jsonb)"), "{index}");

    let fixture = Fixture::create(store, "acme", "correct horse battery").await;
    let project = fixture.project(store, "Apollo").await;
    // 20,000 untagged tasks, every 500th tagged `urgent` and every 1,000th `urgent` and `ui`.
    db.execute_unprepared(&format!(
        "INSERT INTO tasks (id, organization_id, project_id, title, description, status,
             priority, payload, required_capabilities, metadata, created_at, updated_at, tags)
         SELECT gen_random_uuid(), '{org}', '{project}', 'seeded ' || i, '', 'queued', 0,
             'null', '[]', '{{}}', now(), now(),
             CASE WHEN i % 1000 = 0 THEN '[\"ui\", \"urgent\"]'::jsonb
                  WHEN i % 500 = 0 THEN '[\"urgent\"]'::jsonb
                  ELSE '[]'::jsonb END
         FROM generate_series(1, 20000) AS i",
        org = fixture.org.id,
        project = project.id,
    ))
    .await
    .expect("seed tasks");
    db.execute_unprepared("VACUUM ANALYZE tasks")
        .await
        .expect("analyze");

    let page = PageRequest::first(Limit::parse(100).expect("a limit"));
    for (tags, expected) in [(vec!["urgent"], 40), (vec!["urgent", "ui"], 20)] {
        let filter = TaskFilter {
            tags: Tags::parse(&tags).expect("tags"),
            ..TaskFilter::default()
        };
        let plan = store
            .explain_list_tasks(&fixture.ctx, &filter, &page)
            .await
            .expect("explain");
        assert!(plan.contains("idx_tasks_tags"), "{tags:?}:\n{plan}");
        let found = store
            .list_tasks(&fixture.ctx, filter, page.clone())
            .await
            .expect("list");
        assert_eq!(found.items.len(), expected, "{tags:?}");
        assert!(found.items.iter().all(|task| {
            tags.iter()
                .all(|tag| task.tags.iter().any(|has| has == *tag))
        }));
    }
}

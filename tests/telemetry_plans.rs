//! The telemetry reads use their indexes: a metric query reads its series' range of
//! `idx_metrics_series`, and the latest health of components reads one entry of each one's
//! history index, never the whole history; on a fresh PostgreSQL database the foreign-key check
//! of every sample names a component by the primary key.

use chrono::{DateTime, Duration, Utc};
use orchestore_domain::{
    Bucket, Component, ComponentKind, HealthStatus, Measure, MetricName, MetricQuery, MetricTags,
    Name, NewComponent, NewHealthCheck, NewMetricSample, Records,
};
use orchestore_repo::{Backend, ComponentRepo, MetricRepo, Store};
use orchestore_sea::SeaStore;
use orchestore_testkit::{Fixture, TestDb};
use sea_orm::ConnectionTrait;

/// Samples per component and checks per component: enough that the planner prefers an index.
const SAMPLES: usize = 3_000;
const CHECKS: usize = 40;
/// Checks per component added on PostgreSQL, whose planner reads statistics.
const HISTORY: usize = 5_000;

fn start() -> DateTime<Utc> {
    "2020-01-01T00:00:00Z".parse().expect("a time")
}

async fn seed(store: &SeaStore, slug: &str) -> (Fixture, Vec<Component>) {
    let fixture = Fixture::create(store, slug, "correct horse battery").await;
    let mut components = Vec::new();
    for name in ["api", "worker", "db"] {
        let component = store
            .create_component(
                &fixture.ctx,
                NewComponent::named(
                    Name::parse("name", name).expect("name"),
                    ComponentKind::parse("service").expect("kind"),
                ),
            )
            .await
            .expect("component");
        let samples = (0..SAMPLES)
            .map(|i| NewMetricSample {
                component_id: component.id,
                name: MetricName::parse(if i % 2 == 0 { "latency_ms" } else { "rps" })
                    .expect("name"),
                value: Measure::parse("value", (i % 97) as f64).expect("value"),
                unit: None,
                tags: MetricTags::default(),
                recorded_at: Some(start() + Duration::seconds(i as i64 * 60)),
            })
            .collect();
        store
            .record_metrics(
                &fixture.ctx,
                Records::parse("samples", samples).expect("batch"),
            )
            .await
            .expect("samples");
        for i in 0..CHECKS {
            store
                .record_health(
                    &fixture.ctx,
                    component.id,
                    NewHealthCheck {
                        checked_at: Some(start() + Duration::minutes(i as i64)),
                        ..NewHealthCheck::new(HealthStatus::Healthy)
                    },
                )
                .await
                .expect("check");
        }
        components.push(component);
    }
    (fixture, components)
}

async fn reads_use_their_indexes(db: &TestDb) {
    let store = db.store();
    let (acme, components) = seed(store, "acme").await;
    seed(store, "other").await;
    if store.backend() == Backend::Postgres {
        // A long history, as a component that reports every few seconds gathers: the plan must
        // still read one entry of each component's.
        store
            .connection()
            .execute_unprepared(&format!(
                "INSERT INTO component_health
                     (organization_id, id, component_id, status, details, resources, checked_at)
                 SELECT organization_id, gen_random_uuid(), id, 'healthy', '{{}}', '{{}}',
                        timestamptz '2020-01-02 00:00:00+00' + i * interval '1 second'
                 FROM components, generate_series(1, {HISTORY}) AS i"
            ))
            .await
            .expect("history");
        for table in ["metrics", "component_health"] {
            store
                .connection()
                .execute_unprepared(&format!("VACUUM ANALYZE {table}"))
                .await
                .expect("analyze");
        }
    }
    let day = MetricQuery::new(
        components[0].id,
        MetricName::parse("latency_ms").expect("name"),
        start(),
        start() + Duration::days(1),
        Bucket::Hour,
    )
    .expect("query");
    let plan = store
        .explain_metric_query(&acme.ctx, &day)
        .await
        .expect("explain");
    assert!(
        plan.contains("idx_metrics_series") && !plan.contains("Seq Scan on metrics"),
        "the metric query does not read its series' index:\n{plan}"
    );
    if store.backend() == Backend::Sqlite {
        assert!(plan.contains("COVERING INDEX idx_metrics_series"), "{plan}");
    }
    let ids: Vec<_> = components.iter().map(|c| c.id).collect();
    let plan = store
        .explain_latest_health(&acme.ctx, &ids)
        .await
        .expect("explain");
    assert!(
        plan.contains("idx_component_health_component_time")
            && !plan.contains("Seq Scan on component_health")
            && !plan.contains("SCAN component_health\n")
            && !plan.ends_with("SCAN component_health"),
        "the latest health reads more than one entry per component:\n{plan}"
    );
}

#[tokio::test]
async fn sqlite_telemetry_reads_use_their_indexes() {
    reads_use_their_indexes(&TestDb::sqlite().await).await;
}

#[tokio::test]
async fn postgres_telemetry_reads_use_their_indexes() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    reads_use_their_indexes(&db).await;
}

/// As `tasks` (see `task_stats_plans.rs`): planned on a fresh database, the check that a sample,
/// a health check or a communication names a component of its organization must use the
/// primary key, not the newer unique index on `(organization_id, name_key)`.
#[tokio::test]
async fn a_fresh_database_checks_component_references_by_the_primary_key() {
    let Some(test_db) = TestDb::postgres().await else {
        return;
    };
    let plan = test_db.reference_check_plan("components").await;
    assert!(
        plan.contains("using pk_components") && plan.contains("(id = $2)"),
        "the reference check does not use the primary key:\n{plan}"
    );
}

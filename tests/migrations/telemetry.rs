use orchestore_repo::ComponentRepo;

use super::*;

// Events, components, metrics and alerts (m20261129_000027, m20261129_000028): the schema
// refuses what the domain refuses, and `down` restores the schema and the grants before them.

const FIRST: &str = "m20261129_000027_events_components";

/// Inserts `row` into `table`; the database's answer.
async fn try_insert(
    db: &DatabaseConnection,
    table: &str,
    row: Vec<(&str, Value)>,
) -> Result<(), sea_orm::DbErr> {
    let (columns, values): (Vec<_>, Vec<_>) = row.into_iter().unzip();
    let statement = Query::insert()
        .into_table(Alias::new(table))
        .columns(columns.into_iter().map(Alias::new))
        .values_panic(values.into_iter().map(Into::into))
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

fn alert(org: Uuid, status: &str) -> Vec<(&'static str, Value)> {
    let now = Utc::now();
    vec![
        ("organization_id", org.into()),
        ("id", Uuid::now_v7().into()),
        ("severity", "critical".into()),
        ("source", "db".into()),
        ("fingerprint", "disk full".into()),
        ("message", "disk full".into()),
        ("details", serde_json::json!({}).into()),
        ("status", status.into()),
        ("occurrences", 1i64.into()),
        ("first_raised_at", now.into()),
        ("last_raised_at", now.into()),
        ("updated_at", now.into()),
    ]
}

async fn the_schema_keeps_telemetry_in_its_organization(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(migrations_before(FIRST)))
        .await
        .expect("up to before");
    let before = schema(db).await;
    let permissions_before = count(db, "permissions").await;
    Migrator::up(db, None).await.expect("up");

    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(raw.url.clone()))
        .await
        .expect("store");
    let acme = Fixture::create(&store, "acme", "correct horse battery").await;
    let other = Fixture::create(&store, "other", "correct horse battery").await;
    let component = |name: &str| {
        orchestore_domain::NewComponent::named(
            Name::parse("name", name).expect("name"),
            orchestore_domain::ComponentKind::parse("service").expect("kind"),
        )
    };
    let ours = store
        .create_component(&acme.ctx, component("api"))
        .await
        .expect("component")
        .id
        .as_uuid();
    let theirs = store
        .create_component(&other.ctx, component("api"))
        .await
        .expect("component")
        .id
        .as_uuid();
    let org = acme.org.id.as_uuid();
    let now = Utc::now();
    let sample = |component: Uuid| {
        vec![
            ("organization_id", org.into()),
            ("id", Uuid::now_v7().into()),
            ("component_id", component.into()),
            ("name", "latency_ms".into()),
            ("value", 1.5f64.into()),
            ("tags", serde_json::json!({}).into()),
            ("recorded_at", now.into()),
        ]
    };
    try_insert(db, "metrics", sample(ours))
        .await
        .expect("a sample of ours");
    assert_refused_by(
        try_insert(db, "metrics", sample(theirs)).await,
        FOREIGN_KEY,
        "a sample of another organization's component",
    );
    let check = |status: &str| {
        vec![
            ("organization_id", org.into()),
            ("id", Uuid::now_v7().into()),
            ("component_id", ours.into()),
            ("status", status.into()),
            ("details", serde_json::json!({}).into()),
            ("resources", serde_json::json!({}).into()),
            ("checked_at", now.into()),
        ]
    };
    try_insert(db, "component_health", check("down"))
        .await
        .expect("a check");
    assert_refused_by(
        try_insert(db, "component_health", check("fine")).await,
        CHECK,
        "a health status the domain does not know",
    );
    let call = |to: Uuid, latency: f64| {
        vec![
            ("organization_id", org.into()),
            ("id", Uuid::now_v7().into()),
            ("from_component_id", ours.into()),
            ("to_component_id", to.into()),
            ("kind", "http.get".into()),
            ("payload_bytes", 10i64.into()),
            ("latency_ms", latency.into()),
            ("outcome", "success".into()),
            ("occurred_at", now.into()),
        ]
    };
    try_insert(db, "component_communications", call(ours, 2.0))
        .await
        .expect("a communication");
    assert_refused_by(
        try_insert(db, "component_communications", call(ours, -1.0)).await,
        CHECK,
        "a negative latency",
    );
    assert_refused_by(
        try_insert(db, "component_communications", call(theirs, 2.0)).await,
        FOREIGN_KEY,
        "a communication to another organization's component",
    );

    // One unresolved alert per source and fingerprint; resolved ones may repeat.
    try_insert(db, "alerts", alert(org, "open"))
        .await
        .expect("an open alert");
    let twice = try_insert(db, "alerts", alert(org, "acknowledged")).await;
    assert!(
        matches!(
            twice.as_ref().map_err(sea_orm::DbErr::sql_err),
            Err(Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
        ),
        "a second unresolved alert must break the unique index: {twice:?}"
    );
    for _ in 0..2 {
        try_insert(db, "alerts", alert(org, "resolved"))
            .await
            .expect("resolved alerts repeat");
    }
    try_insert(db, "alerts", alert(other.org.id.as_uuid(), "open"))
        .await
        .expect("another organization's alert");
    assert_refused_by(
        try_insert(db, "alerts", alert(org, "closed")).await,
        CHECK,
        "an alert status the domain does not know",
    );
    assert_eq!(count(db, "alerts").await, 4);
    store.connection().clone().close().await.ok();

    let applied = u32::try_from(Migrator::migrations().len()).expect("a few migrations");
    Migrator::down(db, Some(applied - migrations_before(FIRST)))
        .await
        .expect("down");
    assert_eq!(schema(db).await, before, "down restores the schema");
    assert_eq!(count(db, "permissions").await, permissions_before);
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_the_schema_keeps_telemetry_in_its_organization() {
    the_schema_keeps_telemetry_in_its_organization(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_the_schema_keeps_telemetry_in_its_organization() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    the_schema_keeps_telemetry_in_its_organization(raw).await;
}

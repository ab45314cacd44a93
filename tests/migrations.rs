//! Migration round trip on every backend: up → down (one step at a time) → up, and every
//! entity decodes on the freshly migrated database.

use chrono::{Duration, Utc};
use orchestore_domain::{NewTask, Title};
use orchestore_repo::{
    AuditRepo, AuthRepo, OrganizationRepo, PageRequest, ProjectRepo, Store, TaskFilter, TaskRepo,
    UserRepo,
};
use orchestore_sea::SeaStore;
use orchestore_testkit::{Fixture, TestDb};
use sea_orm_migration::MigratorTrait;

const TABLES: [&str; 11] = [
    "organizations",
    "users",
    "roles",
    "permissions",
    "role_permissions",
    "user_roles",
    "sessions",
    "instance_settings",
    "projects",
    "tasks",
    "audit_logs",
];

async fn existing_tables(store: &SeaStore) -> Vec<&'static str> {
    let mut present = Vec::new();
    for table in TABLES {
        if store.has_table(table).await.expect("has_table") {
            present.push(table);
        }
    }
    present
}

async fn round_trip(store: &SeaStore) {
    let count = migration::Migrator::migrations().len();
    assert!(existing_tables(store).await.is_empty());

    store.migrate().await.expect("up");
    assert_eq!(existing_tables(store).await, TABLES);
    assert!(
        store
            .migration_status()
            .await
            .expect("status")
            .iter()
            .all(|m| m.applied)
    );

    for step in 1..=count {
        store.rollback(Some(1)).await.expect("down one step");
        let applied = store
            .migration_status()
            .await
            .expect("status")
            .iter()
            .filter(|m| m.applied)
            .count();
        assert_eq!(applied, count - step);
    }
    assert!(existing_tables(store).await.is_empty());

    store.migrate().await.expect("up again");
    assert_eq!(existing_tables(store).await, TABLES);
    every_entity_decodes(store).await;

    // `fresh` empties the database and leaves it migrated, whatever the pool size.
    store.fresh().await.expect("fresh");
    assert_eq!(store.count_users().await.expect("count users"), 0);
    assert!(
        store
            .migration_status()
            .await
            .expect("status")
            .iter()
            .all(|m| m.applied)
    );
}

async fn every_entity_decodes(store: &SeaStore) {
    let fixture = Fixture::create(store, "acme", "correct horse battery").await;
    let project = fixture.project(store, "Apollo").await;
    let task = store
        .create_task(
            &fixture.ctx,
            NewTask::titled(project.id, Title::parse("decode me").expect("title")),
        )
        .await
        .expect("task");
    store
        .create_session(
            &fixture.ctx,
            fixture.owner.id,
            "hash",
            Utc::now() + Duration::hours(1),
        )
        .await
        .expect("session");
    store
        .instance_setting_or_insert("probe", "value")
        .await
        .expect("setting");

    assert_eq!(
        store.get_organization(&fixture.ctx).await.expect("org"),
        fixture.org
    );
    assert_eq!(
        store
            .get_user(&fixture.ctx, fixture.owner.id)
            .await
            .expect("user"),
        fixture.owner
    );
    assert!(
        !store
            .user_permissions(&fixture.ctx, fixture.owner.id)
            .await
            .expect("perms")
            .is_empty()
    );
    assert_eq!(
        store
            .get_project(&fixture.ctx, project.id)
            .await
            .expect("project"),
        project
    );
    let tasks = store
        .list_tasks(&fixture.ctx, TaskFilter::default(), PageRequest::default())
        .await
        .expect("tasks");
    assert_eq!(tasks.items, vec![task]);
    let audit = store
        .list_audit(&fixture.ctx, PageRequest::default())
        .await
        .expect("audit");
    assert_eq!(audit.items.len(), 5);
    assert!(
        store
            .health()
            .await
            .expect("health")
            .pending_migrations
            .is_empty()
    );
}

#[tokio::test]
async fn sqlite_round_trip() {
    let db = TestDb::sqlite_unmigrated().await;
    round_trip(db.store()).await;
}

#[tokio::test]
async fn sqlite_file_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("round-trip.db").display()
    )))
    .await
    .expect("open file");
    round_trip(&store).await;
}

#[tokio::test]
async fn postgres_round_trip() {
    let Some(db) = TestDb::postgres_unmigrated().await else {
        return;
    };
    round_trip(db.store()).await;
}

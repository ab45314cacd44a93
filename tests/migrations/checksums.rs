//! The checksums of applied migrations: every shipped migration has its source text, the
//! checksums of a database migrated before they were recorded are filled in, and a changed
//! one is refused by name.

use migration::{MIGRATION_SOURCES, Migrator};
use orchestore_sea::MigrationError;
use orchestore_testkit::TestDb;
use sea_orm::ConnectionTrait;
use sea_orm_migration::MigratorTrait;

#[test]
fn every_shipped_migration_has_its_source_text() {
    let shipped: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let sourced: Vec<&str> = MIGRATION_SOURCES.iter().map(|(name, _)| *name).collect();
    assert_eq!(shipped, sourced);
    for (name, text) in MIGRATION_SOURCES {
        assert!(
            text.contains("impl MigrationTrait for Migration"),
            "{name}: the text is not a migration's file"
        );
    }
}

async fn recorded(db: &TestDb) -> i64 {
    let backend = db.connection().get_database_backend();
    db.connection()
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT COUNT(*) FROM orchestore_migration_checksums",
        ))
        .await
        .expect("count")
        .expect("a row")
        .try_get_by_index(0)
        .expect("a number")
}

async fn checksums_are_backfilled_and_a_changed_one_is_refused(db: TestDb) {
    let total = i64::try_from(MIGRATION_SOURCES.len()).expect("a count");
    assert_eq!(recorded(&db).await, total, "migrating recorded them");

    // As a database migrated before checksums were recorded.
    db.connection()
        .execute_unprepared("DROP TABLE orchestore_migration_checksums")
        .await
        .expect("drop");
    db.store()
        .check_migrations()
        .await
        .expect("nothing recorded, nothing to refuse");
    assert_eq!(db.store().migrate().await.expect("migrate"), 0);
    assert_eq!(recorded(&db).await, total, "the next run filled them in");

    db.connection()
        .execute_unprepared(
            "UPDATE orchestore_migration_checksums SET checksum = 'edited' \
             WHERE version = 'm20261127_000010_workflows'",
        )
        .await
        .expect("tamper");
    for refused in [
        db.store().check_migrations().await.err(),
        db.store().migrate().await.err(),
        db.store().rollback(Some(1)).await.err(),
    ] {
        match refused {
            Some(MigrationError::ChangedMigration { name }) => {
                assert_eq!(name, "m20261127_000010_workflows");
            }
            other => panic!("expected a refusal naming the migration, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_checksums_are_backfilled_and_a_changed_one_is_refused() {
    checksums_are_backfilled_and_a_changed_one_is_refused(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_checksums_are_backfilled_and_a_changed_one_is_refused() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    checksums_are_backfilled_and_a_changed_one_is_refused(db).await;
}

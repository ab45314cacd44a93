use super::*;

/// Whether task `id` is marked as depended on.
async fn has_dependents(db: &DatabaseConnection, id: Uuid) -> bool {
    let query = Query::select()
        .column(Alias::new("has_dependents"))
        .from(Alias::new("tasks"))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    let row = db
        .query_one(&query)
        .await
        .expect("query")
        .expect("the task");
    row.try_get_by_index::<bool>(0).expect("a flag")
}

// Migration 000018 marks every task that has a dependent, and its `down` drops the mark.
async fn the_dependents_mark_is_backfilled(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, None).await.expect("up");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let fixture = Fixture::create(&store, "acme", "correct horse battery staple").await;
    let ctx = &fixture.ctx;
    let project = fixture.project(&store, "Apollo").await;
    let titled = |title: &str| NewTask::titled(project.id, Title::parse(title).expect("title"));
    let first = store
        .create_task(ctx, titled("first"))
        .await
        .expect("first");
    let second = NewTask {
        depends_on: [first.id].into_iter().collect(),
        ..titled("second")
    };
    let second = store.create_task(ctx, second).await.expect("second");
    drop(store);
    let (first, second) = (first.id.as_uuid(), second.id.as_uuid());
    assert!(has_dependents(db, first).await && !has_dependents(db, second).await);

    let from_the_mark = u32::try_from(Migrator::migrations().len()).expect("a few")
        - migrations_before("m20261127_000018_task_has_dependents");
    Migrator::down(db, Some(from_the_mark))
        .await
        .expect("down to before the mark");
    let manager = SchemaManager::new(db);
    assert!(
        !manager
            .has_column("tasks", "has_dependents")
            .await
            .expect("has_column")
    );
    Migrator::up(db, None).await.expect("up again");
    assert!(has_dependents(db, first).await, "backfilled");
    assert!(!has_dependents(db, second).await, "nothing depends on it");
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_the_dependents_mark_is_backfilled() {
    the_dependents_mark_is_backfilled(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_the_dependents_mark_is_backfilled() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    the_dependents_mark_is_backfilled(raw).await;
}

use super::*;

/// How many history rows task `id` has.
async fn history_of(db: &DatabaseConnection, id: Uuid) -> i64 {
    let query = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(Alias::new("task_events"))
        .and_where(Expr::col(Alias::new("task_id")).eq(id))
        .to_owned();
    let row = db.query_one(&query).await.expect("query").expect("a count");
    row.try_get_by_index::<i64>(0).expect("a count")
}

// Migration 000024 takes the foreign keys off the task history: a deleted task's history goes
// with it by a trigger instead, also when the task goes with its project; `down` puts the keys
// back with the rows kept.
async fn history_follows_its_tasks_without_foreign_keys(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, None).await.expect("up");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let fixture = Fixture::create(&store, "acme", "correct horse battery staple").await;
    let ctx = &fixture.ctx;
    let apollo = fixture.project(&store, "Apollo").await;
    let gemini = fixture.project(&store, "Gemini").await;
    let task = |project: ProjectId, title: &str| {
        NewTask::titled(project, Title::parse(title).expect("title"))
    };
    let kept = store
        .create_task(ctx, task(apollo.id, "kept"))
        .await
        .expect("kept");
    let deleted = store
        .create_task(ctx, task(apollo.id, "deleted"))
        .await
        .expect("deleted");
    let with_project = store
        .create_task(ctx, task(gemini.id, "with its project"))
        .await
        .expect("with its project");
    let (kept, deleted, with_project) = (
        kept.id.as_uuid(),
        deleted.id.as_uuid(),
        with_project.id.as_uuid(),
    );
    for id in [kept, deleted, with_project] {
        assert_eq!(history_of(db, id).await, 1, "created");
    }

    store
        .delete_task(ctx, TaskId::from_uuid(deleted), None)
        .await
        .expect("delete the task");
    assert_eq!(history_of(db, deleted).await, 0, "gone with its task");
    store
        .delete_project(ctx, gemini.id, None)
        .await
        .expect("delete the project");
    assert_eq!(
        history_of(db, with_project).await,
        0,
        "gone with its project"
    );
    assert_eq!(history_of(db, kept).await, 1, "the other history stays");
    drop(store);

    let from_here = u32::try_from(Migrator::migrations().len()).expect("a few")
        - migrations_before("m20261129_000024_task_history_unchecked");
    Migrator::down(db, Some(from_here))
        .await
        .expect("down to the checked history");
    assert_eq!(history_of(db, kept).await, 1, "rows kept");
    // With the keys back, a history row must name a task of its organization.
    let orphan = Query::insert()
        .into_table(Alias::new("task_events"))
        .columns(
            [
                "organization_id",
                "id",
                "task_id",
                "to_status",
                "actor",
                "reason",
                "created_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            fixture.org.id.as_uuid().into(),
            Uuid::now_v7().into(),
            deleted.into(),
            "queued".into(),
            "system".into(),
            "orphan".into(),
            Utc::now().into(),
        ])
        .to_owned();
    assert!(db.execute(&orphan).await.is_err(), "the key refuses it");
    Migrator::up(db, None).await.expect("up again");
    assert_eq!(history_of(db, kept).await, 1, "rows kept");
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_history_follows_its_tasks_without_foreign_keys() {
    history_follows_its_tasks_without_foreign_keys(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_history_follows_its_tasks_without_foreign_keys() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    history_follows_its_tasks_without_foreign_keys(raw).await;
}

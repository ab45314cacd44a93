use super::*;

/// The revision of the retention policy of `org`, read by hand.
async fn policy_revision(db: &DatabaseConnection, org: Uuid) -> i64 {
    let query = Query::select()
        .column(Alias::new("revision"))
        .from(Alias::new("retention_policies"))
        .and_where(Expr::col(Alias::new("organization_id")).eq(org))
        .to_owned();
    let row = db
        .query_one(&query)
        .await
        .expect("query")
        .expect("the policy");
    row.try_get_by_index::<i64>(0).expect("a revision")
}

// Migration 000053 gives the settings tables a revision: a row written before it has been
// written at least once, past the defaults' 1, so it starts at 2; `down` drops the columns and
// keeps the rows.
async fn settings_written_before_start_past_the_defaults(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, None).await.expect("up");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let fixture = Fixture::create(&store, "acme", "correct horse battery staple").await;
    let org = fixture.org.id.as_uuid();
    drop(store);

    let from_revisions = u32::try_from(Migrator::migrations().len()).expect("a few")
        - migrations_before("m20261201_000053_settings_revisions");
    Migrator::down(db, Some(from_revisions))
        .await
        .expect("down to before the revisions");
    let manager = SchemaManager::new(db);
    for table in [
        "retention_policies",
        "collaboration_settings",
        "leaderboard_settings",
    ] {
        assert!(
            !manager
                .has_column(table, "revision")
                .await
                .expect("has_column"),
            "{table}"
        );
    }
    insert(
        db,
        "retention_policies",
        vec![
            ("organization_id", org.into()),
            ("events_seconds", 86_400i64.into()),
            ("updated_at", Utc::now().into()),
        ],
    )
    .await;

    Migrator::up(db, None).await.expect("up again");
    assert_eq!(policy_revision(db, org).await, 2);
    assert_eq!(count(db, "retention_policies").await, 1, "the row is kept");
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_settings_written_before_start_past_the_defaults() {
    settings_written_before_start_past_the_defaults(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_settings_written_before_start_past_the_defaults() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    settings_written_before_start_past_the_defaults(raw).await;
}

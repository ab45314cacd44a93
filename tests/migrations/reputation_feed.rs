use super::*;

const MIGRATION: &str = "m20261130_000042_reputation_feed";

/// The watermark of organization `org`, if it has one.
async fn watermark(db: &DatabaseConnection, org: Uuid) -> Option<Uuid> {
    let query = Query::select()
        .column(Alias::new("last_event_id"))
        .from(Alias::new("reputation_feed_watermarks"))
        .and_where(Expr::col(Alias::new("organization_id")).eq(org))
        .to_owned();
    db.query_one(&query)
        .await
        .expect("query")
        .map(|row| row.try_get_by_index::<Uuid>(0).expect("an id"))
}

/// The organization's latest task history event.
async fn latest_event(db: &DatabaseConnection, org: Uuid) -> Uuid {
    let query = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new("task_events"))
        .and_where(Expr::col(Alias::new("organization_id")).eq(org))
        .order_by(Alias::new("id"), sea_orm::Order::Desc)
        .limit(1)
        .to_owned();
    let row = db
        .query_one(&query)
        .await
        .expect("query")
        .expect("an event");
    row.try_get_by_index::<Uuid>(0).expect("an id")
}

// Migration 000042 starts every organization with history at its latest event (outcomes that
// clients recorded before are not read again), and its `down` drops the watermarks and the
// source column.
async fn organizations_with_history_start_at_their_latest_event(raw: Raw) {
    let db = &raw.db;
    // The history is written by today's store on today's schema, then the schema is taken
    // back to before the feeder.
    Migrator::up(db, None).await.expect("up");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let busy = Fixture::create(&store, "acme", "correct horse battery staple").await;
    let quiet = Fixture::create(&store, "globex", "correct horse battery staple").await;
    let project = busy.project(&store, "Apollo").await;
    for title in ["first", "second"] {
        store
            .create_task(
                &busy.ctx,
                NewTask::titled(project.id, Title::parse(title).expect("title")),
            )
            .await
            .expect("task");
    }
    drop(store);
    let to_before_the_feeder =
        u32::try_from(Migrator::migrations().len()).expect("a few") - migrations_before(MIGRATION);
    Migrator::down(db, Some(to_before_the_feeder))
        .await
        .expect("down to before the feeder");
    let (busy, quiet) = (busy.org.id.as_uuid(), quiet.org.id.as_uuid());
    let manager = SchemaManager::new(db);

    for round in ["up", "up again"] {
        Migrator::up(db, None).await.expect(round);
        assert_eq!(
            watermark(db, busy).await,
            Some(latest_event(db, busy).await),
            "{round}"
        );
        assert_eq!(
            watermark(db, quiet).await,
            None,
            "no history: from its start"
        );
        assert!(
            manager
                .has_column("reputation_events", "source_event_id")
                .await
                .expect("has_column")
        );
        if round == "up" {
            let from_the_feeder = u32::try_from(Migrator::migrations().len()).expect("a few")
                - migrations_before(MIGRATION);
            Migrator::down(db, Some(from_the_feeder))
                .await
                .expect("down to before the feeder");
            assert!(
                !manager
                    .has_table("reputation_feed_watermarks")
                    .await
                    .expect("has_table")
            );
            assert!(
                !manager
                    .has_column("reputation_events", "source_event_id")
                    .await
                    .expect("has_column")
            );
        }
    }
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_organizations_with_history_start_at_their_latest_event() {
    organizations_with_history_start_at_their_latest_event(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_organizations_with_history_start_at_their_latest_event() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    organizations_with_history_start_at_their_latest_event(raw).await;
}

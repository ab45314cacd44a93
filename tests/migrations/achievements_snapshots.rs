use orchestore_domain::{
    LeaderboardKind, LeaderboardPeriod, NewReputationEvent, Participant, ReputationDelta,
    ReputationDimension, ReputationReason,
};
use orchestore_repo::{LeaderboardQuery, Limit, RankRepo, ReputationRepo};

use super::*;

/// The reputation key of holder `id`; `None` without a standing.
async fn reputation_key(db: &DatabaseConnection, id: Uuid) -> Option<f64> {
    let query = Query::select()
        .column(Alias::new("reputation_key"))
        .from(Alias::new("standings"))
        .and_where(Expr::col(Alias::new("holder_id")).eq(id))
        .to_owned();
    db.query_one(&query)
        .await
        .expect("query")
        .map(|row| row.try_get_by_index::<f64>(0).expect("a key"))
}

// Migration 000039 backfills each agent's reputation key from its events (giving a standing to
// an agent with events and none), and its `down` drops the key with its tables.
async fn reputation_keys_are_backfilled(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, None).await.expect("up");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let fixture = Fixture::create(&store, "acme", "correct horse battery staple").await;
    let ctx = &fixture.ctx;
    let new_agent =
        |name: &str| NewAgent::named(Name::parse("name", name).expect("name"), AgentKind::Ai);
    let ada = store
        .create_agent(ctx, new_agent("ada"))
        .await
        .expect("ada");
    let bob = store
        .create_agent(ctx, new_agent("bob"))
        .await
        .expect("bob");
    for (agent, delta) in [(ada.id, 40), (bob.id, -10), (ada.id, 5)] {
        store
            .record_reputation_event(
                ctx,
                NewReputationEvent {
                    agent_id: agent,
                    dimension: ReputationDimension::Trust,
                    delta: ReputationDelta::parse(delta).expect("delta"),
                    reason: ReputationReason::parse("review").expect("reason"),
                    task_id: None,
                },
            )
            .await
            .expect("event");
    }
    drop(store);
    let (ada, bob) = (ada.id.as_uuid(), bob.id.as_uuid());
    let kept = reputation_key(db, ada).await.expect("ada's key");
    assert!(kept > 0.0);

    let from_it = u32::try_from(Migrator::migrations().len()).expect("a few")
        - migrations_before("m20261129_000039_achievements_snapshots");
    Migrator::down(db, Some(from_it)).await.expect("down");
    let manager = SchemaManager::new(db);
    assert!(
        !manager
            .has_column("standings", "reputation_key")
            .await
            .expect("has_column")
    );
    for table in ["achievements", "leaderboard_snapshots"] {
        assert!(!manager.has_table(table).await.expect("has_table"));
    }
    // An agent with events and no standing.
    db.execute(
        &Query::delete()
            .from_table(Alias::new("standings"))
            .and_where(Expr::col(Alias::new("holder_id")).eq(bob))
            .to_owned(),
    )
    .await
    .expect("delete bob's standing");

    Migrator::up(db, None).await.expect("up again");
    let backfilled = reputation_key(db, ada).await.expect("ada's key");
    assert!(
        (backfilled - kept).abs() <= kept * 1e-9,
        "{backfilled} against {kept}"
    );
    assert!(reputation_key(db, bob).await.expect("bob's new standing") < 0.0);
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let board = store
        .leaderboard(
            &fixture.ctx,
            LeaderboardQuery {
                kind: LeaderboardKind::Reputation,
                period: LeaderboardPeriod::AllTime,
                as_of: Utc::now(),
                limit: Limit::default(),
            },
        )
        .await
        .expect("leaderboard");
    let holders: Vec<Participant> = board.iter().map(|e| e.holder).collect();
    assert_eq!(
        holders,
        [
            Participant::Agent(orchestore_domain::AgentId::from_uuid(ada)),
            Participant::Agent(orchestore_domain::AgentId::from_uuid(bob))
        ]
    );
    drop(store);
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_reputation_keys_are_backfilled() {
    reputation_keys_are_backfilled(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_reputation_keys_are_backfilled() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    reputation_keys_are_backfilled(raw).await;
}

use super::*;

// Messages (m20261127_000009): the schema refuses what the domain refuses.

/// Inserts a message row with these ends; the database's answer.
async fn insert_message(
    db: &DatabaseConnection,
    org: Uuid,
    sender: (Option<Uuid>, Option<Uuid>),
    recipient: (Option<Uuid>, Option<Uuid>),
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    let statement = Query::insert()
        .into_table(Alias::new("messages"))
        .columns(
            [
                "organization_id",
                "id",
                "sender_agent_id",
                "sender_user_id",
                "recipient_agent_id",
                "recipient_user_id",
                "content",
                "metadata",
                "created_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            org.into(),
            Uuid::now_v7().into(),
            sender.0.into(),
            sender.1.into(),
            recipient.0.into(),
            recipient.1.into(),
            "hello".into(),
            Value::from(serde_json::json!({})).into(),
            now.into(),
        ])
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

async fn messages_hold_one_sender_and_one_recipient(raw: Raw) {
    Migrator::up(&raw.db, None).await.expect("up");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(raw.url.clone()))
        .await
        .expect("store");
    let acme = Fixture::create(&store, "acme", "correct horse battery").await;
    let other = Fixture::create(&store, "other", "correct horse battery").await;
    let new_agent = |name: &str| {
        orchestore_domain::NewAgent::named(
            orchestore_domain::Name::parse("name", name).expect("name"),
            orchestore_domain::AgentKind::Ai,
        )
    };
    let agent = store
        .create_agent(&acme.ctx, new_agent("a"))
        .await
        .expect("agent")
        .id
        .as_uuid();
    let foreign = store
        .create_agent(&other.ctx, new_agent("b"))
        .await
        .expect("agent")
        .id
        .as_uuid();
    let (org, user) = (acme.org.id.as_uuid(), acme.owner.id.as_uuid());
    let db = &raw.db;

    insert_message(db, org, (None, Some(user)), (Some(agent), None))
        .await
        .expect("one sender, one recipient");
    for (sender, recipient, what) in [
        (
            (Some(agent), Some(user)),
            (Some(agent), None),
            "two senders",
        ),
        ((None, None), (Some(agent), None), "no sender"),
        (
            (None, Some(user)),
            (Some(agent), Some(user)),
            "two recipients",
        ),
        ((None, Some(user)), (None, None), "no recipient"),
        ((Some(agent), None), (Some(agent), None), "to itself"),
        ((None, Some(user)), (None, Some(user)), "to oneself"),
        (
            (None, Some(user)),
            (Some(foreign), None),
            "another organization's agent",
        ),
    ] {
        assert!(
            insert_message(db, org, sender, recipient).await.is_err(),
            "{what} must be refused"
        );
    }
    assert_eq!(count(db, "messages").await, 1);
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_messages_hold_one_sender_and_one_recipient() {
    messages_hold_one_sender_and_one_recipient(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_messages_hold_one_sender_and_one_recipient() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    messages_hold_one_sender_and_one_recipient(raw).await;
}

use super::*;

use orchestore_domain::{
    AgentId, ApiKeyId, ApiKeySecret, KeyExpiry, KeyOwner, KeyScopes, NewApiKey, Permission,
};
use orchestore_repo::ApiKeyRepo;

// API keys (m20261128_000022): the agents' keys move to `api_keys` and keep working, granting
// what they granted; the schema holds each key to exactly one owner; `down` restores exactly
// the earlier schema with the agents' keys, those it cannot express revoked rather than wider.

const API_KEYS: &str = "m20261128_000022_api_keys";

/// What the test wrote, to find again.
struct Written {
    org: Uuid,
    agent: Uuid,
    user: Uuid,
    /// A live key, written by hand with its real hash, that authenticates.
    live: ApiKeySecret,
    revoked: Uuid,
}

async fn write_rows_before_api_keys(db: &DatabaseConnection) -> Written {
    let now = Utc::now();
    let json = |v: serde_json::Value| Value::from(v);
    let (org, agent, user) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    insert(
        db,
        "organizations",
        vec![
            ("id", org.into()),
            ("slug", "acme".into()),
            ("name", "Acme".into()),
            ("settings", json(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    insert(
        db,
        "users",
        vec![
            ("id", user.into()),
            ("organization_id", org.into()),
            ("email", "ci@acme.test".into()),
            ("display_name", "CI".into()),
            ("password_hash", "x".repeat(60).into()),
            ("active", true.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    insert(
        db,
        "agents",
        vec![
            ("organization_id", org.into()),
            ("id", agent.into()),
            ("name", "worker".into()),
            ("name_key", "worker".into()),
            ("kind", "bot".into()),
            ("capabilities", json(serde_json::json!([]))),
            ("status", "active".into()),
            ("config", json(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    let organization = OrganizationId::from_uuid(org);
    let live_id = ApiKeyId::new();
    let live = ApiKeySecret::new(organization, live_id, [3; 32]);
    let revoked = ApiKeyId::new();
    for (id, hash, revoked_at) in [
        (live_id, live.hash(), None),
        (
            revoked,
            ApiKeySecret::new(organization, revoked, [4; 32]).hash(),
            Some(now),
        ),
    ] {
        insert(
            db,
            "agent_api_keys",
            vec![
                ("organization_id", org.into()),
                ("id", id.as_uuid().into()),
                ("agent_id", agent.into()),
                ("name", "host-1".into()),
                ("key_hash", hash.into()),
                ("created_by", format!("user:{user}").into()),
                ("created_at", now.into()),
                ("last_used_at", Some(now).into()),
                ("revoked_at", revoked_at.into()),
            ],
        )
        .await;
    }
    Written {
        org,
        agent,
        user,
        live,
        revoked: revoked.as_uuid(),
    }
}

/// A key row written by hand with these owners; the database's answer.
async fn insert_key(
    db: &DatabaseConnection,
    org: Uuid,
    agent: Option<Uuid>,
    user: Option<Uuid>,
) -> Result<(), sea_orm::DbErr> {
    let id = Uuid::now_v7();
    let statement = Query::insert()
        .into_table(Alias::new("api_keys"))
        .columns(
            [
                "organization_id",
                "id",
                "agent_id",
                "user_id",
                "name",
                "key_hash",
                "created_by",
                "created_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            org.into(),
            id.into(),
            agent.into(),
            user.into(),
            "by hand".into(),
            id.simple().to_string().into(),
            "system".into(),
            Utc::now().into(),
        ])
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

/// `(id, revoked)` of every row of `agent_api_keys`, sorted.
async fn agent_keys_revoked(db: &DatabaseConnection) -> Vec<(Uuid, bool)> {
    let statement = Query::select()
        .columns([Alias::new("id"), Alias::new("revoked_at")])
        .from(Alias::new("agent_api_keys"))
        .to_owned();
    let mut rows: Vec<(Uuid, bool)> = db
        .query_all(&statement)
        .await
        .expect("select keys")
        .iter()
        .map(|row| {
            let revoked: Option<chrono::DateTime<Utc>> =
                row.try_get("", "revoked_at").expect("revoked_at");
            (row.try_get("", "id").expect("id"), revoked.is_some())
        })
        .collect();
    rows.sort();
    rows
}

async fn agent_keys_move_and_come_back(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(migrations_before(API_KEYS)))
        .await
        .expect("up to the API keys");
    let earlier = schema(db).await;
    let written = write_rows_before_api_keys(db).await;

    Migrator::up(db, Some(1)).await.expect("the API keys");
    let later = schema(db).await;
    assert_ne!(earlier, later);
    // Exactly one owner, and it must exist.
    let (org, user) = (written.org, written.user);
    insert_key(db, org, None, Some(user))
        .await
        .expect("a user's key");
    assert_refused_by(
        insert_key(db, org, Some(written.agent), Some(user)).await,
        CHECK,
        "a key of an agent and a user",
    );
    assert_refused_by(
        insert_key(db, org, None, None).await,
        CHECK,
        "a key of no one",
    );
    assert_refused_by(
        insert_key(db, org, None, Some(Uuid::now_v7())).await,
        FOREIGN_KEY,
        "a key of a missing user",
    );
    // The store reads the moved keys once the later migrations, which its entities follow,
    // are in too.
    Migrator::up(db, None).await.expect("up to the last");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let ctx = Ctx::system(OrganizationId::from_uuid(written.org));
    let agent = KeyOwner::Agent(AgentId::from_uuid(written.agent));
    let moved = store
        .list_api_keys(&ctx, agent, PageRequest::default())
        .await
        .expect("the moved keys decode");
    assert_eq!(moved.items.len(), 2);
    assert!(moved.items.iter().all(|k| k.scopes == KeyScopes::owners()
        && k.expires_at.is_none()
        && k.last_used_at.is_some()));
    let grant = store
        .authenticate_api_key(&written.live)
        .await
        .expect("a moved key still works");
    assert_eq!(grant.owner, agent);
    assert!(grant.permissions.contains(&Permission::TasksWrite));

    // Keys the earlier table cannot express: scoped, expiring, a user's.
    let scoped = store
        .create_api_key(
            &ctx,
            NewApiKey {
                owner: agent,
                name: Name::parse("name", "reader").expect("name"),
                scopes: KeyScopes::parse(&["tasks:read"]).expect("scopes"),
                expires_at: None,
            },
        )
        .await
        .expect("a scoped key");
    let expiring = store
        .create_api_key(
            &ctx,
            NewApiKey {
                owner: agent,
                name: Name::parse("name", "for a day").expect("name"),
                scopes: KeyScopes::owners(),
                expires_at: Some(
                    KeyExpiry::parse(Utc::now() + Duration::days(1), Utc::now()).expect("expiry"),
                ),
            },
        )
        .await
        .expect("an expiring key");
    drop(store);
    assert_eq!(count(db, "api_keys").await, 5);

    let after = u32::try_from(Migrator::migrations().len()).expect("a few")
        - migrations_before(API_KEYS)
        - 1;
    Migrator::down(db, Some(after + 1))
        .await
        .expect("down to before the API keys");
    assert_eq!(schema(db).await, earlier);
    let mut expected = vec![
        (written.live.id().as_uuid(), false),
        (written.revoked, true),
        (scoped.key.id.as_uuid(), true),
        (expiring.key.id.as_uuid(), true),
    ];
    expected.sort();
    assert_eq!(
        agent_keys_revoked(db).await,
        expected,
        "the agents' keys are kept, those with scopes or an expiry revoked; the user's is gone"
    );

    Migrator::up(db, Some(1)).await.expect("up again");
    // PostgreSQL numbers a column added again after the dropped ones.
    assert_eq!(
        without_positions(schema(db).await),
        without_positions(later)
    );
    assert_eq!(count(db, "api_keys").await, 4);
    Migrator::up(db, None).await.expect("up to the last");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    store
        .authenticate_api_key(&written.live)
        .await
        .expect("the live key works after the round trip");
    drop(store);
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_agent_keys_move_and_come_back() {
    agent_keys_move_and_come_back(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_agent_keys_move_and_come_back() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    agent_keys_move_and_come_back(raw).await;
}

use super::*;

// Tenant keys (m20261127_000004): rows survive the rebuild both ways, `down` restores exactly
// the earlier schema, and refuses rows the earlier global keys would not hold.

/// The number of migrations before the tenant keys.
const BEFORE_TENANT_KEYS: u32 = 3;
/// Applied migrations once the tenant keys are in, so that the tests below stop there and go
/// down one step from it, whatever later migrations add. (`Migrator::up(db, Some(n))` applies
/// `n` more migrations.)
const WITH_TENANT_KEYS: u32 = BEFORE_TENANT_KEYS + 1;

/// A project name whose key differs from it by composition (e + combining acute, U + combining
/// diaeresis) and by case.
const DECOMPOSED_NAME: &str = "Cafe\u{301} U\u{308}ni\u{308}code";
const DECOMPOSED_KEY: &str = "café ünïcode";
/// Fullwidth letters, which NFKC folds to ASCII.
const FULLWIDTH_NAME: &str = "\u{FF21}\u{FF30}\u{FF2F}\u{FF2C}\u{FF2C}\u{FF2F}";
const FULLWIDTH_KEY: &str = "apollo";

/// What the test wrote at the earlier schema, to find again.
struct Written {
    org: Uuid,
    user: Uuid,
    role: Uuid,
    session: Uuid,
    decomposed: Uuid,
    fullwidth: Uuid,
    task: Uuid,
    audit: Uuid,
}

async fn write_rows_before_tenant_keys(db: &DatabaseConnection) -> Written {
    let now = Utc::now();
    let json = |v: serde_json::Value| Value::from(v);
    let org = Uuid::now_v7();
    let written = Written {
        org,
        user: Uuid::now_v7(),
        role: owner_role(db).await,
        session: Uuid::now_v7(),
        decomposed: Uuid::now_v7(),
        fullwidth: Uuid::now_v7(),
        task: Uuid::now_v7(),
        audit: Uuid::now_v7(),
    };
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
            ("id", written.user.into()),
            ("organization_id", org.into()),
            ("email", "owner@acme.test".into()),
            ("display_name", "Owner".into()),
            ("password_hash", "x".repeat(60).into()),
            ("active", true.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    insert(
        db,
        "user_roles",
        vec![
            ("organization_id", org.into()),
            ("user_id", written.user.into()),
            ("role_id", written.role.into()),
            ("created_at", now.into()),
        ],
    )
    .await;
    insert(
        db,
        "sessions",
        vec![
            ("id", written.session.into()),
            ("organization_id", org.into()),
            ("user_id", written.user.into()),
            ("refresh_token_hash", "hash-1".into()),
            ("expires_at", (now + Duration::days(1)).into()),
            ("revoked_at", Option::<chrono::DateTime<Utc>>::None.into()),
            ("created_at", now.into()),
        ],
    )
    .await;
    for (id, name) in [
        (written.decomposed, DECOMPOSED_NAME),
        (written.fullwidth, FULLWIDTH_NAME),
    ] {
        insert(
            db,
            "projects",
            vec![
                ("id", id.into()),
                ("organization_id", org.into()),
                ("name", name.into()),
                ("description", "".into()),
                ("repository_url", Option::<String>::None.into()),
                ("tags", json(serde_json::json!(["x"]))),
                ("settings", json(serde_json::json!({}))),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await;
    }
    insert(
        db,
        "tasks",
        vec![
            ("id", written.task.into()),
            ("organization_id", org.into()),
            ("project_id", written.decomposed.into()),
            ("title", "survive the migration".into()),
            ("description", "".into()),
            ("status", "queued".into()),
            ("priority", 3.into()),
            ("payload", json(serde_json::json!({"k": 1}))),
            ("required_capabilities", json(serde_json::json!([]))),
            ("metadata", json(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    insert(
        db,
        "audit_logs",
        vec![
            ("id", written.audit.into()),
            ("organization_id", org.into()),
            ("actor", format!("user:{}", written.user).into()),
            ("action", "project.create".into()),
            ("entity", "project".into()),
            ("entity_id", written.decomposed.to_string().into()),
            ("changes", json(serde_json::json!({}))),
            ("request_id", Option::<String>::None.into()),
            ("created_at", now.into()),
        ],
    )
    .await;
    written
}

async fn assert_rows_are_there(db: &DatabaseConnection, written: &Written) {
    assert_eq!(ids(db, "organizations", "id").await, vec![written.org]);
    assert_eq!(ids(db, "users", "id").await, vec![written.user]);
    assert_eq!(ids(db, "user_roles", "role_id").await, vec![written.role]);
    assert_eq!(ids(db, "user_roles", "user_id").await, vec![written.user]);
    assert_eq!(ids(db, "sessions", "id").await, vec![written.session]);
    let mut projects = vec![written.decomposed, written.fullwidth];
    projects.sort();
    assert_eq!(ids(db, "projects", "id").await, projects);
    assert_eq!(ids(db, "tasks", "id").await, vec![written.task]);
    assert_eq!(ids(db, "audit_logs", "id").await, vec![written.audit]);
    // Every user row's organization is still its own.
    assert_eq!(
        ids(db, "sessions", "organization_id").await,
        vec![written.org]
    );
    assert_eq!(
        ids(db, "tasks", "project_id").await,
        vec![written.decomposed]
    );
}

async fn name_keys(db: &DatabaseConnection) -> Vec<(String, String)> {
    let statement: SelectStatement = Query::select()
        .columns([Alias::new("name"), Alias::new("name_key")])
        .from(Alias::new("projects"))
        .order_by(Alias::new("name_key"), sea_orm::Order::Asc)
        .to_owned();
    db.query_all(&statement)
        .await
        .expect("name keys")
        .iter()
        .map(|row| {
            (
                row.try_get("", "name").expect("name"),
                row.try_get("", "name_key").expect("name_key"),
            )
        })
        .collect()
}

async fn rows_survive_the_tenant_keys(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(BEFORE_TENANT_KEYS))
        .await
        .expect("up to 3");
    let written = write_rows_before_tenant_keys(db).await;

    Migrator::up(db, Some(1))
        .await
        .expect("up to the tenant keys");
    assert_rows_are_there(db, &written).await;
    assert_eq!(
        name_keys(db).await,
        vec![
            (FULLWIDTH_NAME.to_owned(), FULLWIDTH_KEY.to_owned()),
            (DECOMPOSED_NAME.to_owned(), DECOMPOSED_KEY.to_owned()),
        ]
    );
    // The store reads the copied rows (ids, JSON, timestamps decode) once the later
    // migrations, which its entities follow, are in too.
    Migrator::up(db, None).await.expect("up to the last");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let ctx = Ctx::new(
        OrganizationId::from_uuid(written.org),
        Actor::User(UserId::from_uuid(written.user)),
    );
    let user = store
        .get_user(&ctx, UserId::from_uuid(written.user))
        .await
        .expect("user");
    assert_eq!(user.email.as_str(), "owner@acme.test");
    let project = store
        .get_project(&ctx, ProjectId::from_uuid(written.decomposed))
        .await
        .expect("project");
    // A name reads back in its composed (NFC) form, as `Name::parse` keeps every name.
    assert_eq!(
        project.name,
        orchestore_domain::Name::parse("name", DECOMPOSED_NAME).expect("name")
    );
    // Tasks gained columns since: the store reads them in the task graph's test below.
    assert!(
        !store
            .user_permissions(&ctx, UserId::from_uuid(written.user))
            .await
            .expect("permissions")
            .is_empty()
    );
    let grant = store
        .rotate_session(
            "hash-1",
            "hash-2",
            Utc::now() + Duration::days(1),
            &ClientInfo::default(),
            None,
        )
        .await
        .expect("rotate the copied session");
    assert_eq!(grant.user, user);
    drop(store);

    let later = u32::try_from(Migrator::migrations().len()).expect("a few") - WITH_TENANT_KEYS;
    Migrator::down(db, Some(later + 1))
        .await
        .expect("down to before the tenant keys");
    assert!(
        !SchemaManager::new(db)
            .has_column("projects", "name_key")
            .await
            .expect("has_column")
    );
    assert_eq!(
        count(db, "sessions").await,
        1,
        "the session, its token rotated in place"
    );
    assert_eq!(
        count(db, "audit_logs").await,
        2,
        "the rotation's audit row too"
    );
    assert_eq!(count(db, "projects").await, 2);
    assert_eq!(ids(db, "users", "id").await, vec![written.user]);
    assert_eq!(ids(db, "tasks", "id").await, vec![written.task]);
    assert_eq!(ids(db, "user_roles", "role_id").await, vec![written.role]);
    raw.db.close().await.ok();
}

async fn down_restores_the_earlier_schema(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(BEFORE_TENANT_KEYS))
        .await
        .expect("up to 3");
    let earlier = schema(db).await;
    Migrator::up(db, Some(1))
        .await
        .expect("up to the tenant keys");
    let tenant = schema(db).await;
    assert_ne!(earlier, tenant);
    assert!(
        !tenant.iter().any(|line| line.contains("_new")),
        "a name of the staging tables is left: {tenant:#?}"
    );

    Migrator::down(db, Some(1)).await.expect("down");
    assert_eq!(schema(db).await, earlier);
    Migrator::up(db, Some(1)).await.expect("up again");
    assert_eq!(schema(db).await, tenant);
    raw.db.close().await.ok();
}

async fn down_refuses_an_email_in_two_organizations(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(WITH_TENANT_KEYS))
        .await
        .expect("up to the tenant keys");
    let now = Utc::now();
    for slug in ["acme", "beta"] {
        let org = Uuid::now_v7();
        insert(
            db,
            "organizations",
            vec![
                ("id", org.into()),
                ("slug", slug.into()),
                ("name", slug.into()),
                ("settings", Value::from(serde_json::json!({}))),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await;
        insert(
            db,
            "users",
            vec![
                ("id", Uuid::now_v7().into()),
                ("organization_id", org.into()),
                ("email", "same@example.test".into()),
                ("display_name", "Same".into()),
                ("password_hash", "x".repeat(60).into()),
                ("active", true.into()),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await;
    }
    let before = schema(db).await;

    let refused = Migrator::down(db, Some(1))
        .await
        .expect_err("the earlier schema holds one user per email");
    let message = refused.to_string();
    assert!(
        message.contains("users(email)") && message.contains("more than once"),
        "{message}"
    );
    assert_eq!(schema(db).await, before, "nothing changed");
    assert_eq!(count(db, "users").await, 2);
    let applied = Migrator::get_applied_migrations(db).await.expect("applied");
    assert_eq!(applied.len(), WITH_TENANT_KEYS as usize);
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_rows_survive_the_tenant_keys() {
    rows_survive_the_tenant_keys(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_rows_survive_the_tenant_keys() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    rows_survive_the_tenant_keys(raw).await;
}

#[tokio::test]
async fn sqlite_down_restores_the_earlier_schema() {
    down_restores_the_earlier_schema(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_down_restores_the_earlier_schema() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    down_restores_the_earlier_schema(raw).await;
}

#[tokio::test]
async fn sqlite_down_refuses_an_email_in_two_organizations() {
    down_refuses_an_email_in_two_organizations(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_down_refuses_an_email_in_two_organizations() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    down_refuses_an_email_in_two_organizations(raw).await;
}

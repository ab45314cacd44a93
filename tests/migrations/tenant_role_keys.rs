use super::*;

// Tenant role keys (m20261127_000012): a user holds a system role or a custom role of their own
// organization, and the schema refuses any other row, whatever writes it; the rows already there
// get their scopes, and `down` restores exactly the earlier schema with them.

const TENANT_ROLE_KEYS: &str = "m20261127_000012_tenant_role_keys";

/// The scope of the system roles.
const SYSTEM_SCOPE: Uuid = Uuid::nil();

async fn insert_organization(db: &DatabaseConnection, id: Uuid, slug: &str) {
    let now = Utc::now();
    insert(
        db,
        "organizations",
        vec![
            ("id", id.into()),
            ("slug", slug.into()),
            ("name", slug.into()),
            ("settings", Value::from(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
}

/// A user of `org` written by hand; its id.
async fn insert_plain_user(db: &DatabaseConnection, org: Uuid, email: &str) -> Uuid {
    let (id, now) = (Uuid::now_v7(), Utc::now());
    insert(
        db,
        "users",
        vec![
            ("id", id.into()),
            ("organization_id", org.into()),
            ("email", email.into()),
            ("display_name", "Someone".into()),
            ("password_hash", "x".repeat(60).into()),
            ("active", true.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    id
}

/// A role row written by hand (`scope` only once the tenant role keys are in); its id, or
/// the database's refusal.
async fn insert_role(
    db: &DatabaseConnection,
    organization: Option<Uuid>,
    code: &str,
    scope: Option<Uuid>,
) -> Result<Uuid, sea_orm::DbErr> {
    let id = Uuid::now_v7();
    let mut row: Vec<(&str, Value)> = vec![
        ("id", id.into()),
        ("organization_id", organization.into()),
        ("code", code.into()),
        ("is_system", organization.is_none().into()),
        ("description", "".into()),
        ("created_at", Utc::now().into()),
    ];
    if let Some(scope) = scope {
        row.push(("scope", scope.into()));
    }
    let (columns, values): (Vec<_>, Vec<_>) = row.into_iter().unzip();
    let statement = Query::insert()
        .into_table(Alias::new("roles"))
        .columns(columns.into_iter().map(Alias::new))
        .values_panic(values.into_iter().map(Into::into))
        .to_owned();
    db.execute(&statement).await.map(|_| id)
}

/// A `user_roles` row written by hand (`role_scope` only once the tenant role keys are in);
/// the database's answer.
async fn insert_user_role(
    db: &DatabaseConnection,
    org: Uuid,
    user: Uuid,
    role: Uuid,
    role_scope: Option<Uuid>,
) -> Result<(), sea_orm::DbErr> {
    let mut row: Vec<(&str, Value)> = vec![
        ("organization_id", org.into()),
        ("user_id", user.into()),
        ("role_id", role.into()),
        ("created_at", Utc::now().into()),
    ];
    if let Some(role_scope) = role_scope {
        row.push(("role_scope", role_scope.into()));
    }
    let (columns, values): (Vec<_>, Vec<_>) = row.into_iter().unzip();
    let statement = Query::insert()
        .into_table(Alias::new("user_roles"))
        .columns(columns.into_iter().map(Alias::new))
        .values_panic(values.into_iter().map(Into::into))
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

/// `(first, second)` of every row of `table`, sorted.
async fn uuid_pairs(
    db: &DatabaseConnection,
    table: &str,
    first: &str,
    second: &str,
) -> Vec<(Uuid, Uuid)> {
    let statement = Query::select()
        .columns([Alias::new(first), Alias::new(second)])
        .from(Alias::new(table))
        .to_owned();
    let mut pairs: Vec<(Uuid, Uuid)> = db
        .query_all(&statement)
        .await
        .expect("select pairs")
        .iter()
        .map(|row| {
            (
                row.try_get("", first).expect(first),
                row.try_get("", second).expect(second),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

pub(super) fn role_code(raw: &str) -> orchestore_domain::RoleCode {
    orchestore_domain::RoleCode::parse("code", raw).expect("role code")
}

async fn another_organizations_role_is_refused_by_the_schema(raw: Raw) {
    Migrator::up(&raw.db, None).await.expect("up");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(raw.url.clone()))
        .await
        .expect("store");
    let acme = Fixture::create(&store, "acme", "correct horse battery").await;
    let beta = Fixture::create(&store, "beta", "correct horse battery").await;
    let new_role = |code: &str| orchestore_domain::NewRole {
        code: role_code(code),
        description: Description::empty(),
        permissions: vec![orchestore_domain::Permission::AuditRead],
    };
    let own_role = store
        .create_role(&acme.ctx, new_role("release"))
        .await
        .expect("acme's role")
        .id
        .as_uuid();
    let foreign_role = store
        .create_role(&beta.ctx, new_role("qa"))
        .await
        .expect("beta's role")
        .id
        .as_uuid();
    let developer = store
        .find_role_by_code(&acme.ctx, &role_code("developer"))
        .await
        .expect("find")
        .expect("the developer role")
        .id
        .as_uuid();
    let (org, other) = (acme.org.id.as_uuid(), beta.org.id.as_uuid());
    let user = acme.owner.id.as_uuid();
    let db = &raw.db;

    for (role, scope, refused_by, what) in [
        (
            foreign_role,
            other,
            CHECK,
            "another organization's role in its scope",
        ),
        (
            foreign_role,
            org,
            FOREIGN_KEY,
            "another organization's role in the user's scope",
        ),
        (
            foreign_role,
            SYSTEM_SCOPE,
            FOREIGN_KEY,
            "another organization's role as a system role",
        ),
        (
            developer,
            org,
            FOREIGN_KEY,
            "a system role in the organization's scope",
        ),
        (
            own_role,
            SYSTEM_SCOPE,
            FOREIGN_KEY,
            "the organization's own role as a system role",
        ),
    ] {
        assert_refused_by(
            insert_user_role(db, org, user, role, Some(scope)).await,
            refused_by,
            what,
        );
    }
    insert_user_role(db, org, user, developer, Some(SYSTEM_SCOPE))
        .await
        .expect("a system role");
    insert_user_role(db, org, user, own_role, Some(org))
        .await
        .expect("the organization's own role");
    let held: Vec<String> = store
        .user_roles(&acme.ctx, acme.owner.id)
        .await
        .expect("roles")
        .iter()
        .map(|role| role.code.to_string())
        .collect();
    assert_eq!(held, ["developer", "owner", "release"]);

    // A role's scope is its organization's, or the system scope for a system role; no
    // organization's scope is the system scope.
    for (organization, scope, what) in [
        (Some(org), SYSTEM_SCOPE, "a custom role in the system scope"),
        (
            Some(org),
            other,
            "a custom role in another organization's scope",
        ),
        (None, org, "a system role in an organization's scope"),
    ] {
        assert_refused_by(
            insert_role(db, organization, "forged", Some(scope)).await,
            CHECK,
            what,
        );
    }
    insert_organization(db, SYSTEM_SCOPE, "nil").await;
    assert_refused_by(
        insert_role(db, Some(SYSTEM_SCOPE), "forged", Some(SYSTEM_SCOPE)).await,
        CHECK,
        "a custom role of an organization whose id is the system scope",
    );
    insert_role(db, Some(org), "by-hand", Some(org))
        .await
        .expect("a custom role in its organization's scope");

    // Deleting a role still takes it from its holders.
    let delete = Query::delete()
        .from_table(Alias::new("roles"))
        .and_where(Expr::col(Alias::new("id")).eq(own_role))
        .to_owned();
    db.execute(&delete).await.expect("delete the role");
    let held: Vec<Uuid> = uuid_pairs(db, "user_roles", "user_id", "role_id")
        .await
        .into_iter()
        .filter(|(holder, _)| *holder == user)
        .map(|(_, role)| role)
        .collect();
    assert!(!held.contains(&own_role) && held.contains(&developer));
    raw.db.close().await.ok();
}

async fn rows_survive_the_tenant_role_keys(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(migrations_before(TENANT_ROLE_KEYS)))
        .await
        .expect("up to the tenant role keys");
    let earlier = schema(db).await;
    let org = Uuid::now_v7();
    insert_organization(db, org, "acme").await;
    let user = insert_plain_user(db, org, "ada@acme.test").await;
    let owner = owner_role(db).await;
    let custom = insert_role(db, Some(org), "release", None)
        .await
        .expect("a custom role");
    insert(
        db,
        "role_permissions",
        vec![
            ("role_id", custom.into()),
            ("permission_code", "audit:read".into()),
        ],
    )
    .await;
    for role in [owner, custom] {
        insert_user_role(db, org, user, role, None)
            .await
            .expect("a role of the user");
    }
    let grants = count(db, "role_permissions").await;
    let held = uuid_pairs(db, "user_roles", "user_id", "role_id").await;

    Migrator::up(db, Some(1))
        .await
        .expect("the tenant role keys");
    let scoped = schema(db).await;
    assert_ne!(earlier, scoped);
    assert!(
        !scoped.iter().any(|line| line.contains("_new")),
        "a name of the staging tables is left: {scoped:#?}"
    );
    let mut scopes = vec![(owner, SYSTEM_SCOPE), (custom, org)];
    scopes.sort();
    assert_eq!(
        uuid_pairs(db, "user_roles", "role_id", "role_scope").await,
        scopes
    );
    let role_scopes = uuid_pairs(db, "roles", "id", "scope").await;
    assert_eq!(role_scopes.len(), 6, "five system roles and the custom one");
    for (role, scope) in role_scopes {
        let expected = if role == custom { org } else { SYSTEM_SCOPE };
        assert_eq!(scope, expected, "the scope of role {role}");
    }
    assert_eq!(count(db, "role_permissions").await, grants);
    assert_eq!(
        uuid_pairs(db, "user_roles", "user_id", "role_id").await,
        held
    );
    // The store reads the rows and grants through them once the later migrations are in.
    Migrator::up(db, None).await.expect("up to the last");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let ctx = Ctx::new(
        OrganizationId::from_uuid(org),
        Actor::User(UserId::from_uuid(user)),
    );
    let codes: Vec<String> = store
        .user_roles(&ctx, UserId::from_uuid(user))
        .await
        .expect("roles")
        .iter()
        .map(|role| role.code.to_string())
        .collect();
    assert_eq!(codes, ["owner", "release"]);
    assert!(
        store
            .user_permissions(&ctx, UserId::from_uuid(user))
            .await
            .expect("permissions")
            .contains(&orchestore_domain::Permission::AuditRead)
    );
    drop(store);

    let later = u32::try_from(Migrator::migrations().len()).expect("a few")
        - migrations_before(TENANT_ROLE_KEYS)
        - 1;
    Migrator::down(db, Some(later + 1))
        .await
        .expect("down to before the tenant role keys");
    assert_eq!(schema(db).await, earlier);
    assert_eq!(count(db, "role_permissions").await, grants);
    assert_eq!(
        uuid_pairs(db, "user_roles", "user_id", "role_id").await,
        held
    );
    Migrator::up(db, Some(1)).await.expect("up again");
    // PostgreSQL numbers a column added again after the dropped ones.
    assert_eq!(
        without_positions(schema(db).await),
        without_positions(scoped)
    );
    raw.db.close().await.ok();
}

async fn the_tenant_role_keys_name_a_role_of_another_organization(raw: Raw) {
    let db = &raw.db;
    let before = migrations_before(TENANT_ROLE_KEYS);
    Migrator::up(db, Some(before))
        .await
        .expect("up to the tenant role keys");
    let (acme, beta) = (Uuid::now_v7(), Uuid::now_v7());
    insert_organization(db, acme, "acme").await;
    insert_organization(db, beta, "beta").await;
    let user = insert_plain_user(db, acme, "ada@acme.test").await;
    let foreign = insert_role(db, Some(beta), "qa", None)
        .await
        .expect("beta's role");
    // Only the repository refused this before.
    insert_user_role(db, acme, user, foreign, None)
        .await
        .expect("the earlier schema takes it");
    let schema_before = schema(db).await;

    let refused = Migrator::up(db, Some(1))
        .await
        .expect_err("the new keys would refuse the row");
    assert!(
        refused
            .to_string()
            .contains("1 row(s) of user_roles give a user a custom role of another organization"),
        "{refused}"
    );
    assert_eq!(schema(db).await, schema_before, "nothing changed");
    let applied = Migrator::get_applied_migrations(db).await.expect("applied");
    assert_eq!(applied.len(), before as usize);
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_another_organizations_role_is_refused_by_the_schema() {
    another_organizations_role_is_refused_by_the_schema(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_another_organizations_role_is_refused_by_the_schema() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    another_organizations_role_is_refused_by_the_schema(raw).await;
}

#[tokio::test]
async fn sqlite_rows_survive_the_tenant_role_keys() {
    rows_survive_the_tenant_role_keys(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_rows_survive_the_tenant_role_keys() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    rows_survive_the_tenant_role_keys(raw).await;
}

#[tokio::test]
async fn sqlite_the_tenant_role_keys_name_a_role_of_another_organization() {
    the_tenant_role_keys_name_a_role_of_another_organization(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_the_tenant_role_keys_name_a_role_of_another_organization() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    the_tenant_role_keys_name_a_role_of_another_organization(raw).await;
}

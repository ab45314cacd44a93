use super::*;

// Users and roles (m20261127_000007): the schema refuses a username the domain refuses, and
// `down` restores exactly the earlier schema, keeping the rows.

/// The migrations before the users-and-roles one.
const BEFORE_USERS_ROLES: u32 = 6;

async fn insert_user(
    db: &DatabaseConnection,
    org: Uuid,
    email: &str,
    username: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    let statement = Query::insert()
        .into_table(Alias::new("users"))
        .columns(
            [
                "id",
                "organization_id",
                "email",
                "username",
                "display_name",
                "password_hash",
                "active",
                "created_at",
                "updated_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            Uuid::now_v7().into(),
            org.into(),
            email.into(),
            username.map(str::to_owned).into(),
            "Someone".into(),
            "x".repeat(60).into(),
            true.into(),
            now.into(),
            now.into(),
        ])
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

async fn usernames_are_checked_and_down_restores(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(BEFORE_USERS_ROLES))
        .await
        .expect("up to the agents");
    let earlier = schema(db).await;
    Migrator::up(db, Some(1))
        .await
        .expect("up to users and roles");
    let later = schema(db).await;
    assert_ne!(earlier, later);

    let org = Uuid::now_v7();
    let now = Utc::now();
    insert(
        db,
        "organizations",
        vec![
            ("id", org.into()),
            ("slug", "acme".into()),
            ("name", "Acme".into()),
            ("settings", Value::from(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    for (email, username) in [
        ("a@acme.test", None),
        ("b@acme.test", None),
        ("c@acme.test", Some("ada.l")),
    ] {
        insert_user(db, org, email, username)
            .await
            .unwrap_or_else(|e| panic!("{email}: {e}"));
    }
    for (email, refused) in [
        ("d@acme.test", "Ada"),
        ("e@acme.test", ""),
        ("f@acme.test", "ada.l"),
    ] {
        assert!(
            insert_user(db, org, email, Some(refused)).await.is_err(),
            "{refused:?} should be refused"
        );
    }
    assert!(
        insert_user(db, org, "g@acme.test", Some(&"a".repeat(65)))
            .await
            .is_err()
    );
    assert_eq!(count(db, "users").await, 3);

    Migrator::down(db, Some(1)).await.expect("down one step");
    assert_eq!(schema(db).await, earlier);
    assert_eq!(count(db, "users").await, 3);
    Migrator::up(db, Some(1)).await.expect("up again");
    // PostgreSQL numbers a column added again after the dropped ones.
    assert_eq!(
        without_positions(schema(db).await),
        without_positions(later)
    );
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_usernames_are_checked_and_down_restores() {
    usernames_are_checked_and_down_restores(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_usernames_are_checked_and_down_restores() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    usernames_are_checked_and_down_restores(raw).await;
}

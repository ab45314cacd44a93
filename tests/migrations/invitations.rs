use super::tenant_role_keys::role_code;
use super::*;
use super::{CHECK, FOREIGN_KEY, assert_refused_by};

// Invitations (m20261128_000021): an invitation offers a system role or a custom role of its
// own organization, and is accepted with the user it made or not at all, whatever writes it;
// `down` restores exactly the earlier schema.

const INVITATIONS: &str = "m20261128_000021_invitations";

/// An `invitation_roles` row written by hand; the database's answer.
async fn insert_invitation_role(
    db: &DatabaseConnection,
    org: Uuid,
    invitation: Uuid,
    role: Uuid,
    role_scope: Uuid,
) -> Result<(), sea_orm::DbErr> {
    let statement = Query::insert()
        .into_table(Alias::new("invitation_roles"))
        .columns(["organization_id", "invitation_id", "role_id", "role_scope"].map(Alias::new))
        .values_panic([
            org.into(),
            invitation.into(),
            role.into(),
            role_scope.into(),
        ])
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

/// Marks invitation `id` accepted at `accepted_at` by `user`, by hand; the database's answer.
async fn set_accepted(
    db: &DatabaseConnection,
    id: Uuid,
    accepted_at: Option<chrono::DateTime<Utc>>,
    user: Option<Uuid>,
) -> Result<(), sea_orm::DbErr> {
    let statement = Query::update()
        .table(Alias::new("invitations"))
        .value(Alias::new("accepted_at"), accepted_at)
        .value(Alias::new("accepted_user_id"), user)
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

async fn the_schema_refuses_foreign_roles_and_half_acceptances(raw: Raw) {
    Migrator::up(&raw.db, None).await.expect("up");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(raw.url.clone()))
        .await
        .expect("store");
    let acme = Fixture::create(&store, "acme", "correct horse battery").await;
    let beta = Fixture::create(&store, "beta", "correct horse battery").await;
    let foreign_role = store
        .create_role(
            &beta.ctx,
            orchestore_domain::NewRole {
                code: role_code("qa"),
                description: Description::empty(),
                permissions: vec![orchestore_domain::Permission::AuditRead],
            },
        )
        .await
        .expect("beta's role")
        .id
        .as_uuid();
    let issued = store
        .create_invitation(
            &acme.ctx,
            orchestore_repo::NewInvitation {
                email: orchestore_domain::Email::parse("ada@acme.test").expect("email"),
                roles: Vec::new(),
                expires_at: Utc::now() + Duration::days(1),
            },
        )
        .await
        .expect("an invitation");
    let invitation = issued.invitation.id.as_uuid();
    let (org, other) = (acme.org.id.as_uuid(), beta.org.id.as_uuid());
    let db = &raw.db;

    for (scope, refused_by, what) in [
        (other, CHECK, "another organization's role in its scope"),
        (org, FOREIGN_KEY, "another organization's role in ours"),
        (
            Uuid::nil(),
            FOREIGN_KEY,
            "another organization's role as a system role",
        ),
    ] {
        assert_refused_by(
            insert_invitation_role(db, org, invitation, foreign_role, scope).await,
            refused_by,
            what,
        );
    }

    let now = Utc::now();
    assert_refused_by(
        set_accepted(db, invitation, Some(now), None).await,
        CHECK,
        "accepted without a user",
    );
    assert_refused_by(
        set_accepted(db, invitation, None, Some(acme.owner.id.as_uuid())).await,
        CHECK,
        "a user without an acceptance",
    );
    assert_refused_by(
        set_accepted(db, invitation, Some(now), Some(beta.owner.id.as_uuid())).await,
        FOREIGN_KEY,
        "accepted by another organization's user",
    );
    set_accepted(db, invitation, Some(now), Some(acme.owner.id.as_uuid()))
        .await
        .expect("accepted by a user of the organization");
}

async fn down_restores_the_schema_before_the_invitations(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(migrations_before(INVITATIONS)))
        .await
        .expect("up to the invitations");
    let earlier = schema(db).await;
    Migrator::up(db, Some(1)).await.expect("up the invitations");
    assert_ne!(schema(db).await, earlier);
    Migrator::down(db, Some(1))
        .await
        .expect("down the invitations");
    assert_eq!(schema(db).await, earlier);
    Migrator::up(db, Some(1)).await.expect("up again");
}

#[tokio::test]
async fn sqlite_the_schema_refuses_foreign_roles_and_half_acceptances() {
    the_schema_refuses_foreign_roles_and_half_acceptances(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_the_schema_refuses_foreign_roles_and_half_acceptances() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    the_schema_refuses_foreign_roles_and_half_acceptances(raw).await;
}

#[tokio::test]
async fn sqlite_down_restores_the_schema_before_the_invitations() {
    down_restores_the_schema_before_the_invitations(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_down_restores_the_schema_before_the_invitations() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    down_restores_the_schema_before_the_invitations(raw).await;
}

//! Organizations, users and roles, logins, sessions, API keys and invitations: organizations
//! and logins here, users in [`users`], roles in [`roles`], sessions in [`sessions`], keys in
//! [`api_keys`], invitations in [`invitations`].

mod api_keys;
mod invitations;
mod roles;
mod sessions;
mod users;

pub use api_keys::*;
pub use invitations::*;
pub use roles::*;
pub use sessions::*;
pub use users::*;

use orchestore_domain::{
    Description, Email, Name, NewOrganization, NewRole, OrganizationId, Password, Permission,
    RoleCode, Slug, SystemRole, Username,
};
use orchestore_repo::{
    AuditEntry, AuditFilter, AuditSort, Ctx, Limit, PageRequest, RepoError, Store,
};

use super::{PASSWORD, assert_conflict, assert_not_found, new_user};
use crate::Fixture;

pub async fn organization_is_created_once_per_slug<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;

    let read = store.get_organization(&fixture.ctx).await.expect("get");
    assert_eq!(read, fixture.org);

    let again = store
        .create_organization(
            &Ctx::system(OrganizationId::new()),
            NewOrganization {
                slug: Slug::parse("slug", "acme").expect("slug"),
                name: Name::parse("name", "Another Acme").expect("name"),
            },
        )
        .await;
    assert_conflict(again, Some("slug"));
    assert_not_found(
        store
            .get_organization(&Ctx::system(OrganizationId::new()))
            .await,
        "organization",
    );
}

pub async fn organization_and_owner_are_created_together<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Ctx::system(OrganizationId::new());
    let new_org = || NewOrganization {
        slug: Slug::parse("slug", "beta").expect("slug"),
        name: Name::parse("name", "Beta").expect("name"),
    };

    // The slug is taken: neither the organization nor its owner is written.
    let users_before = store.count_users().await.expect("count");
    let taken = store
        .create_organization_with_owner(
            &beta,
            NewOrganization {
                slug: acme.org.slug.clone(),
                name: Name::parse("name", "Beta").expect("name"),
            },
            new_user("owner@beta.test", vec![SystemRole::Owner]),
        )
        .await;
    assert_conflict(taken, Some("slug"));
    assert_not_found(store.get_organization(&beta).await, "organization");
    assert_eq!(store.count_users().await.expect("count"), users_before);

    let (org, owner) = store
        .create_organization_with_owner(
            &beta,
            new_org(),
            new_user(
                "owner@beta.test",
                vec![SystemRole::Owner, SystemRole::Owner],
            ),
        )
        .await
        .expect("create organization with owner");
    assert_eq!(org.id, beta.org());
    assert_eq!(owner.organization_id, org.id);
    let permissions = store
        .user_permissions(&beta, owner.id)
        .await
        .expect("permissions");
    assert_eq!(permissions.len(), Permission::ALL.len());
}

pub async fn users_have_unique_emails_and_role_permissions<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;

    let viewer = store
        .create_user(
            &acme.ctx,
            new_user("Viewer@Acme.test", vec![SystemRole::Viewer]),
        )
        .await
        .expect("create viewer");
    assert_eq!(viewer.email.as_str(), "viewer@acme.test");
    assert_eq!(viewer.organization_id, acme.org.id);
    assert_eq!(
        store.get_user(&acme.ctx, viewer.id).await.expect("get"),
        viewer
    );
    assert_not_found(store.get_user(&other.ctx, viewer.id).await, "user");

    // Email uniqueness within the organization ignores case.
    assert_conflict(
        store
            .create_user(&acme.ctx, new_user("VIEWER@acme.test", vec![]))
            .await,
        Some("email"),
    );

    let owner = store
        .user_permissions(&acme.ctx, acme.owner.id)
        .await
        .expect("owner permissions");
    assert_eq!(owner.len(), Permission::ALL.len());
    let viewer_permissions = store
        .user_permissions(&acme.ctx, viewer.id)
        .await
        .expect("viewer permissions");
    assert!(viewer_permissions.contains(&Permission::TasksRead));
    assert!(!viewer_permissions.contains(&Permission::TasksWrite));
    // Another organization has no such user.
    assert_not_found(store.user_permissions(&other.ctx, viewer.id).await, "user");
}

/// An address used in one organization is free in another, and creating it there tells
/// nothing about the first: it succeeds like any new address.
pub async fn emails_are_unique_per_organization_and_private<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;

    let in_beta = store
        .create_user(
            &beta.ctx,
            new_user(acme.owner.email.as_str(), vec![SystemRole::Viewer]),
        )
        .await
        .expect("the same address in another organization");
    assert_eq!(in_beta.email, acme.owner.email);
    assert_ne!(in_beta.id, acme.owner.id);
    assert_eq!(in_beta.organization_id, beta.org.id);
    // Each organization sees its own user only.
    assert_not_found(store.get_user(&beta.ctx, acme.owner.id).await, "user");
    assert_not_found(store.get_user(&acme.ctx, in_beta.id).await, "user");

    // Each logs in to its own organization with its own password.
    let password = Password::offered(PASSWORD);
    let acme_login = store
        .verify_login(&acme.org.slug, &acme.owner.email, &password)
        .await
        .expect("login");
    assert_eq!(acme_login, Some(acme.owner.clone()));
    let beta_login = store
        .verify_login(&beta.org.slug, &acme.owner.email, &password)
        .await
        .expect("login");
    assert_eq!(beta_login, Some(in_beta));
}

pub async fn login_checks_the_password<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let right = Password::offered(PASSWORD);
    let wrong = Password::offered("wrong password");
    let acme = &fixture.org.slug;

    let user = store
        .verify_login(acme, &fixture.owner.email, &right)
        .await
        .expect("verify login");
    assert_eq!(user, Some(fixture.owner.clone()));
    let refused = store
        .verify_login(acme, &fixture.owner.email, &wrong)
        .await
        .expect("verify login");
    assert_eq!(refused, None);
    let unknown = Email::parse("nobody@acme.test").expect("email");
    assert_eq!(
        store
            .verify_login(acme, &unknown, &right)
            .await
            .expect("verify"),
        None
    );
    // The right password in the wrong organization, or in none, logs nobody in.
    assert_eq!(
        store
            .verify_login(&other.org.slug, &fixture.owner.email, &right)
            .await
            .expect("verify"),
        None
    );
    let nowhere = Slug::parse("organization", "nowhere").expect("slug");
    assert_eq!(
        store
            .verify_login(&nowhere, &fixture.owner.email, &right)
            .await
            .expect("verify"),
        None
    );
    assert_eq!(store.count_users().await.expect("count"), 2);
}

pub async fn instance_setting_keeps_the_first_value<S: Store + ?Sized>(store: &S) {
    let first = store
        .instance_setting_or_insert("auth.jwt_secret", "first")
        .await
        .expect("insert");
    let second = store
        .instance_setting_or_insert("auth.jwt_secret", "second")
        .await
        .expect("read");
    assert_eq!((first.as_str(), second.as_str()), ("first", "first"));
}

/// Every permission this build knows is seeded by a migration and granted to a system role;
/// the owner holds them all.
pub async fn seeded_grants_cover_every_permission<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let owner = store
        .user_permissions(&acme.ctx, acme.owner.id)
        .await
        .expect("owner permissions");
    assert_eq!(owner, sorted(Permission::ALL.to_vec()));

    let mut granted = Vec::new();
    for role in SystemRole::ALL {
        let user = store
            .create_user(
                &acme.ctx,
                new_user(&format!("role-{}@acme.test", role.code()), vec![role]),
            )
            .await
            .expect("create user");
        let permissions = store
            .user_permissions(&acme.ctx, user.id)
            .await
            .expect("permissions");
        assert!(!permissions.is_empty(), "{role:?} grants nothing");
        granted.extend(permissions);
    }
    granted.sort_by_key(|p| p.code());
    granted.dedup();
    assert_eq!(granted, sorted(Permission::ALL.to_vec()));
}

pub(crate) fn sorted(mut permissions: Vec<Permission>) -> Vec<Permission> {
    permissions.sort_by_key(|p| p.code());
    permissions
}

// ---------------------------------------------------------------------------------------------
// Users and roles, administered.

pub(crate) fn username(raw: &str) -> Username {
    Username::parse(raw).expect("test username")
}

pub(crate) fn code(raw: &str) -> RoleCode {
    RoleCode::parse("code", raw).expect("test role code")
}

pub(crate) fn new_role(raw: &str, permissions: &[Permission]) -> NewRole {
    NewRole {
        code: code(raw),
        description: Description::parse("description", &format!("the {raw} role"))
            .expect("description"),
        permissions: permissions.to_vec(),
    }
}

/// The newest audit rows of the context's organization, newest first.
pub(crate) async fn audit<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> Vec<AuditEntry> {
    store
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")).sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit")
        .items
}

pub(crate) fn conflict_reason<T: std::fmt::Debug>(result: Result<T, RepoError>) -> String {
    match result {
        Err(RepoError::Conflict { reason, .. }) => reason,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

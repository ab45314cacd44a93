//! Organizations, users and roles, logins and sessions.

use chrono::{Duration, Utc};
use orchestore_domain::{
    Description, Email, Name, NewOrganization, NewRole, NewUser, OrganizationId, Password,
    Permission, Role, RoleCode, RolePatch, Slug, SystemRole, User, UserPatch, Username,
};
use orchestore_repo::{
    AuditEntry, AuditSort, Ctx, Limit, Page, PageRequest, RepoError, RoleSort, Store, UserFilter,
    UserSort,
};

use super::{PASSWORD, assert_conflict, assert_not_found, assert_reference, new_user};
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
    // Another organization sees no roles for this user.
    assert!(
        store
            .user_permissions(&other.ctx, viewer.id)
            .await
            .expect("permissions")
            .is_empty()
    );
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

pub async fn sessions_rotate_and_revoke<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let in_a_day = Utc::now() + Duration::days(1);

    store
        .create_session(&fixture.ctx, fixture.owner.id, "hash-1", in_a_day)
        .await
        .expect("create session");
    let grant = store
        .rotate_session("hash-1", "hash-2", in_a_day, None)
        .await
        .expect("rotate");
    assert_eq!(grant.user, fixture.owner);
    // The rotated token is spent; the new one works once.
    assert_not_found(
        store
            .rotate_session("hash-1", "hash-3", in_a_day, None)
            .await,
        "session",
    );
    store
        .revoke_session(&fixture.ctx, "hash-2")
        .await
        .expect("revoke");
    assert_not_found(
        store
            .rotate_session("hash-2", "hash-4", in_a_day, None)
            .await,
        "session",
    );

    // An expired session cannot be refreshed.
    store
        .create_session(
            &fixture.ctx,
            fixture.owner.id,
            "hash-old",
            Utc::now() - Duration::seconds(1),
        )
        .await
        .expect("create expired session");
    assert_not_found(
        store
            .rotate_session("hash-old", "hash-5", in_a_day, None)
            .await,
        "session",
    );

    // Another organization cannot open a session for this user.
    let other = Fixture::create(store, "other", PASSWORD).await;
    assert_not_found(
        store
            .create_session(&other.ctx, fixture.owner.id, "hash-x", in_a_day)
            .await,
        "user",
    );
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

fn sorted(mut permissions: Vec<Permission>) -> Vec<Permission> {
    permissions.sort_by_key(|p| p.code());
    permissions
}

// ---------------------------------------------------------------------------------------------
// Users and roles, administered.

fn username(raw: &str) -> Username {
    Username::parse(raw).expect("test username")
}

fn code(raw: &str) -> RoleCode {
    RoleCode::parse("code", raw).expect("test role code")
}

fn new_role(raw: &str, permissions: &[Permission]) -> NewRole {
    NewRole {
        code: code(raw),
        description: Description::parse("description", &format!("the {raw} role"))
            .expect("description"),
        permissions: permissions.to_vec(),
    }
}

/// The newest audit rows of the context's organization, newest first.
async fn audit<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> Vec<AuditEntry> {
    store
        .list_audit(
            ctx,
            PageRequest::first(Limit::parse(200).expect("limit")).sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit")
        .items
}

fn conflict_reason<T: std::fmt::Debug>(result: Result<T, RepoError>) -> String {
    match result {
        Err(RepoError::Conflict { reason, .. }) => reason,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// Users are found by e-mail and by username in their organization only; a username is unique
/// per organization, ignoring case, and optional.
pub async fn users_are_found_by_email_and_username<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let ada = store
        .create_user(
            &acme.ctx,
            NewUser {
                username: Some(username("Ada.L")),
                ..new_user("ada@acme.test", vec![SystemRole::Developer])
            },
        )
        .await
        .expect("create");
    assert_eq!(ada.username, Some(username("ada.l")));
    assert_eq!(acme.owner.username, None);

    let email = Email::parse("ADA@acme.test").expect("email");
    assert_eq!(
        store
            .find_user_by_email(&acme.ctx, &email)
            .await
            .expect("find"),
        Some(ada.clone())
    );
    assert_eq!(
        store
            .find_user_by_username(&acme.ctx, &username("ADA.L"))
            .await
            .expect("find"),
        Some(ada.clone())
    );
    assert_eq!(
        store
            .find_user_by_username(&acme.ctx, &username("nobody"))
            .await
            .expect("find"),
        None
    );
    // Another organization learns nothing about the address or the handle.
    assert_eq!(
        store
            .find_user_by_email(&beta.ctx, &email)
            .await
            .expect("find"),
        None
    );
    assert_eq!(
        store
            .find_user_by_username(&beta.ctx, &username("ada.l"))
            .await
            .expect("find"),
        None
    );

    // Taken in this organization, whatever the case; free in another.
    let users_before = store.count_users().await.expect("count");
    assert_conflict(
        store
            .create_user(
                &acme.ctx,
                NewUser {
                    username: Some(username("ADA.l")),
                    ..new_user("other@acme.test", vec![])
                },
            )
            .await,
        Some("username"),
    );
    // Both taken: the e-mail is named.
    assert_conflict(
        store
            .create_user(
                &acme.ctx,
                NewUser {
                    username: Some(username("ada.l")),
                    ..new_user("ada@acme.test", vec![])
                },
            )
            .await,
        Some("email"),
    );
    assert_eq!(store.count_users().await.expect("count"), users_before);
    let in_beta = store
        .create_user(
            &beta.ctx,
            NewUser {
                username: Some(username("ada.l")),
                ..new_user("ada@acme.test", vec![])
            },
        )
        .await
        .expect("the same handle in another organization");
    assert_eq!(
        store
            .find_user_by_username(&beta.ctx, &username("ada.l"))
            .await
            .expect("find"),
        Some(in_beta)
    );
    // Many users without a username.
    store
        .create_user(&acme.ctx, new_user("plain@acme.test", vec![]))
        .await
        .expect("no username");
}

/// Lists filter by activity and role, sort by creation either way or by e-mail, and page with
/// a cursor; another organization's users never show.
pub async fn users_list_by_filter_and_sort<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let carol = store
        .create_user(
            &acme.ctx,
            new_user("carol@acme.test", vec![SystemRole::Viewer]),
        )
        .await
        .expect("create");
    let alice = store
        .create_user(
            &acme.ctx,
            new_user("alice@acme.test", vec![SystemRole::Developer]),
        )
        .await
        .expect("create");
    let bob = store
        .create_user(
            &acme.ctx,
            new_user("bob@acme.test", vec![SystemRole::Developer]),
        )
        .await
        .expect("create");
    store
        .create_user(
            &beta.ctx,
            new_user("zed@beta.test", vec![SystemRole::Developer]),
        )
        .await
        .expect("create in beta");
    let bob = store
        .set_user_active(&acme.ctx, bob.id, false)
        .await
        .expect("deactivate");

    let list = async |filter: UserFilter, page: PageRequest<UserSort>| {
        store
            .list_users(&acme.ctx, filter, page)
            .await
            .expect("list")
    };
    let emails = |page: &Page<User, UserSort>| {
        page.items
            .iter()
            .map(|u| u.email.as_str().to_owned())
            .collect::<Vec<_>>()
    };

    let all = list(UserFilter::default(), PageRequest::default()).await;
    assert_eq!(
        all.items,
        vec![
            acme.owner.clone(),
            carol.clone(),
            alice.clone(),
            bob.clone()
        ]
    );
    let newest = list(
        UserFilter::default(),
        PageRequest::default().sorted(UserSort::CreatedAtDesc),
    )
    .await;
    assert_eq!(newest.items[0], bob);

    // By e-mail, two at a time.
    let two = Limit::parse(2).expect("limit");
    let first = list(
        UserFilter::default(),
        PageRequest::first(two).sorted(UserSort::Email),
    )
    .await;
    assert_eq!(emails(&first), ["alice@acme.test", "bob@acme.test"]);
    let second = list(
        UserFilter::default(),
        PageRequest::first(two).next(first.next_cursor.clone()),
    )
    .await;
    assert_eq!(emails(&second), ["carol@acme.test", "owner@acme.test"]);
    assert!(second.next_cursor.is_none());

    let active = list(
        UserFilter {
            active: Some(true),
            ..UserFilter::default()
        },
        PageRequest::default().sorted(UserSort::Email),
    )
    .await;
    assert_eq!(
        emails(&active),
        ["alice@acme.test", "carol@acme.test", "owner@acme.test"]
    );
    let developer = store
        .find_role_by_code(&acme.ctx, &code("developer"))
        .await
        .expect("find")
        .expect("the developer role");
    let developers = list(
        UserFilter {
            role: Some(developer.id),
            ..UserFilter::default()
        },
        PageRequest::default(),
    )
    .await;
    assert_eq!(developers.items, vec![alice.clone(), bob.clone()]);
    let active_developers = list(
        UserFilter {
            role: Some(developer.id),
            active: Some(true),
        },
        PageRequest::default(),
    )
    .await;
    assert_eq!(active_developers.items, vec![alice]);

    // Filtering by another organization's role matches nobody; beta lists only its own.
    let beta_role = store
        .create_role(&beta.ctx, new_role("qa", &[]))
        .await
        .expect("role");
    let none = list(
        UserFilter {
            role: Some(beta_role.id),
            ..UserFilter::default()
        },
        PageRequest::default(),
    )
    .await;
    assert!(none.items.is_empty());
    let beta_users = store
        .list_users(&beta.ctx, UserFilter::default(), PageRequest::default())
        .await
        .expect("list beta");
    assert_eq!(emails(&beta_users), ["owner@beta.test", "zed@beta.test"]);
}

/// A PATCH changes the display name and the username (or clears it), audited as a diff; a
/// taken username changes nothing; another organization's user is not found.
pub async fn users_are_updated_and_audited<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let ada = store
        .create_user(
            &acme.ctx,
            NewUser {
                username: Some(username("ada")),
                ..new_user("ada@acme.test", vec![])
            },
        )
        .await
        .expect("create");

    let renamed = store
        .update_user(
            &acme.ctx,
            ada.id,
            UserPatch {
                display_name: Some(Name::parse("display_name", "Ada Lovelace").expect("name")),
                username: Some(Some(username("countess"))),
            },
        )
        .await
        .expect("update");
    assert_eq!(renamed.display_name.as_str(), "Ada Lovelace");
    assert_eq!(renamed.username, Some(username("countess")));
    assert_eq!(renamed.email, ada.email);
    assert_eq!(
        store.get_user(&acme.ctx, ada.id).await.expect("get"),
        renamed
    );
    let row = &audit(store, &acme.ctx).await[0];
    assert_eq!(row.action, "user.update");
    assert_eq!(row.entity_id, ada.id.to_string());
    assert_eq!(
        row.changes["username"],
        serde_json::json!({"from": "ada", "to": "countess"})
    );

    // The username is free again once cleared.
    let cleared = store
        .update_user(
            &acme.ctx,
            ada.id,
            UserPatch {
                username: Some(None),
                ..UserPatch::default()
            },
        )
        .await
        .expect("clear");
    assert_eq!(cleared.username, None);
    let owner = store
        .update_user(
            &acme.ctx,
            acme.owner.id,
            UserPatch {
                username: Some(Some(username("countess"))),
                ..UserPatch::default()
            },
        )
        .await
        .expect("take the freed username");

    let refused = store
        .update_user(
            &acme.ctx,
            ada.id,
            UserPatch {
                display_name: Some(Name::parse("display_name", "Changed").expect("name")),
                username: Some(Some(username("COUNTESS"))),
            },
        )
        .await;
    assert_conflict(refused, Some("username"));
    assert_eq!(
        store.get_user(&acme.ctx, ada.id).await.expect("get"),
        cleared
    );
    assert_eq!(
        audit(store, &acme.ctx).await[0].entity_id,
        owner.id.to_string()
    );

    // An empty patch changes nothing and writes no audit row.
    let rows = audit(store, &acme.ctx).await.len();
    store
        .update_user(&acme.ctx, ada.id, UserPatch::default())
        .await
        .expect("empty patch");
    assert_eq!(audit(store, &acme.ctx).await.len(), rows);

    assert_not_found(
        store
            .update_user(
                &beta.ctx,
                ada.id,
                UserPatch {
                    username: Some(None),
                    ..UserPatch::default()
                },
            )
            .await,
        "user",
    );
    assert_not_found(
        store.set_user_active(&beta.ctx, ada.id, false).await,
        "user",
    );
    assert_eq!(
        store.get_user(&acme.ctx, ada.id).await.expect("get"),
        cleared
    );
}

/// Deactivation: a deactivated user cannot log in or refresh a session, and an organization
/// always keeps an active owner.
pub async fn deactivation_keeps_an_active_owner<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let in_a_day = Utc::now() + Duration::days(1);
    let password = Password::offered(PASSWORD);

    // The only owner cannot go.
    let reason = conflict_reason(store.set_user_active(&acme.ctx, acme.owner.id, false).await);
    assert!(reason.contains("last active owner"), "{reason}");
    assert!(
        store
            .get_user(&acme.ctx, acme.owner.id)
            .await
            .expect("get")
            .active
    );

    let second = store
        .create_user(
            &acme.ctx,
            new_user("second@acme.test", vec![SystemRole::Owner]),
        )
        .await
        .expect("a second owner");
    store
        .create_session(&acme.ctx, acme.owner.id, "owner-hash", in_a_day)
        .await
        .expect("session");
    let inactive = store
        .set_user_active(&acme.ctx, acme.owner.id, false)
        .await
        .expect("deactivate");
    assert!(!inactive.active);
    let row = &audit(store, &acme.ctx).await[0];
    assert_eq!(row.action, "user.deactivate");
    assert_eq!(
        row.changes["active"],
        serde_json::json!({"from": true, "to": false})
    );
    // Again: no change, no audit row.
    let rows = audit(store, &acme.ctx).await.len();
    store
        .set_user_active(&acme.ctx, acme.owner.id, false)
        .await
        .expect("already inactive");
    assert_eq!(audit(store, &acme.ctx).await.len(), rows);

    assert_eq!(
        store
            .verify_login(&acme.org.slug, &acme.owner.email, &password)
            .await
            .expect("login"),
        None
    );
    assert_not_found(
        store
            .rotate_session("owner-hash", "owner-hash-2", in_a_day, None)
            .await,
        "user",
    );
    // An inactive owner does not count: the second is now the last.
    let reason = conflict_reason(store.set_user_active(&acme.ctx, second.id, false).await);
    assert!(reason.contains("second@acme.test"), "{reason}");

    let back = store
        .set_user_active(&acme.ctx, acme.owner.id, true)
        .await
        .expect("reactivate");
    assert!(back.active);
    assert_eq!(audit(store, &acme.ctx).await[0].action, "user.reactivate");
    assert_eq!(
        store
            .verify_login(&acme.org.slug, &acme.owner.email, &password)
            .await
            .expect("login"),
        Some(back.clone())
    );
    let grant = store
        .rotate_session("owner-hash", "owner-hash-2", in_a_day, None)
        .await
        .expect("the refused rotation changed nothing");
    assert_eq!(grant.user, back);
    store
        .set_user_active(&acme.ctx, second.id, false)
        .await
        .expect("two active owners: one may go");
}

/// Roles are granted (system roles and the organization's own), listed and taken away; the
/// permissions follow; another organization's roles and users are out of reach.
pub async fn roles_are_assigned_and_removed<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let ada = store
        .create_user(
            &acme.ctx,
            new_user("ada@acme.test", vec![SystemRole::Viewer]),
        )
        .await
        .expect("create");
    let auditor = store
        .create_role(&acme.ctx, new_role("auditor", &[Permission::AuditRead]))
        .await
        .expect("role");
    let beta_role = store
        .create_role(&beta.ctx, new_role("qa", &[Permission::TasksWrite]))
        .await
        .expect("beta role");
    let codes = |roles: &[Role]| roles.iter().map(|r| r.code.to_string()).collect::<Vec<_>>();

    let held = store.user_roles(&acme.ctx, ada.id).await.expect("roles");
    assert_eq!(codes(&held), ["viewer"]);
    assert!(held[0].is_system);
    let held = store
        .assign_role(&acme.ctx, ada.id, auditor.id)
        .await
        .expect("assign");
    assert_eq!(codes(&held), ["auditor", "viewer"]);
    assert_eq!(held[0], auditor);
    let row = &audit(store, &acme.ctx).await[0];
    assert_eq!(row.action, "user.assign_role");
    assert_eq!(row.entity_id, ada.id.to_string());
    assert_eq!(row.changes["role"], "auditor");
    assert!(
        store
            .user_permissions(&acme.ctx, ada.id)
            .await
            .expect("permissions")
            .contains(&Permission::AuditRead)
    );
    // Granting it again changes nothing.
    let rows = audit(store, &acme.ctx).await.len();
    let again = store
        .assign_role(&acme.ctx, ada.id, auditor.id)
        .await
        .expect("again");
    assert_eq!(codes(&again), ["auditor", "viewer"]);
    assert_eq!(audit(store, &acme.ctx).await.len(), rows);

    // Another organization's role is no role here; another organization's user is not found.
    assert_reference(
        store.assign_role(&acme.ctx, ada.id, beta_role.id).await,
        "role_id",
    );
    assert_reference(
        store
            .assign_role(&acme.ctx, ada.id, orchestore_domain::RoleId::new())
            .await,
        "role_id",
    );
    assert_not_found(
        store.assign_role(&beta.ctx, ada.id, beta_role.id).await,
        "user",
    );
    assert_not_found(store.user_roles(&beta.ctx, ada.id).await, "user");
    assert_not_found(
        store.remove_role(&beta.ctx, ada.id, auditor.id).await,
        "user",
    );
    assert_eq!(
        codes(&store.user_roles(&acme.ctx, ada.id).await.expect("roles")),
        ["auditor", "viewer"]
    );

    store
        .remove_role(&acme.ctx, ada.id, auditor.id)
        .await
        .expect("remove");
    assert_eq!(audit(store, &acme.ctx).await[0].action, "user.remove_role");
    assert_eq!(
        codes(&store.user_roles(&acme.ctx, ada.id).await.expect("roles")),
        ["viewer"]
    );
    assert!(
        !store
            .user_permissions(&acme.ctx, ada.id)
            .await
            .expect("permissions")
            .contains(&Permission::AuditRead)
    );
    assert_not_found(
        store.remove_role(&acme.ctx, ada.id, auditor.id).await,
        "role",
    );

    // The owner role stays with the last active owner.
    let owner_role = store
        .find_role_by_code(&acme.ctx, &code("owner"))
        .await
        .expect("find")
        .expect("the owner role");
    let reason = conflict_reason(
        store
            .remove_role(&acme.ctx, acme.owner.id, owner_role.id)
            .await,
    );
    assert!(reason.contains("last active owner"), "{reason}");
    store
        .assign_role(&acme.ctx, ada.id, owner_role.id)
        .await
        .expect("a second owner");
    store
        .remove_role(&acme.ctx, acme.owner.id, owner_role.id)
        .await
        .expect("two owners: one may stop being one");
    assert_eq!(
        codes(
            &store
                .user_roles(&acme.ctx, acme.owner.id)
                .await
                .expect("roles")
        ),
        Vec::<String>::new()
    );
}

/// A user may be created with custom role codes of the organization; an unknown code, or
/// another organization's, writes nothing.
pub async fn users_are_created_with_custom_roles<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    store
        .create_role(&acme.ctx, new_role("auditor", &[Permission::AuditRead]))
        .await
        .expect("role");
    store
        .create_role(&beta.ctx, new_role("qa", &[]))
        .await
        .expect("beta role");

    let ada = store
        .create_user(
            &acme.ctx,
            NewUser {
                roles: vec![code("auditor"), code("viewer"), code("auditor")],
                ..new_user("ada@acme.test", vec![])
            },
        )
        .await
        .expect("create");
    let held: Vec<String> = store
        .user_roles(&acme.ctx, ada.id)
        .await
        .expect("roles")
        .iter()
        .map(|r| r.code.to_string())
        .collect();
    assert_eq!(held, ["auditor", "viewer"]);
    assert_eq!(
        audit(store, &acme.ctx).await[0].changes["roles"],
        serde_json::json!(["auditor", "viewer"])
    );

    let users = store.count_users().await.expect("count");
    for unknown in ["qa", "nobody"] {
        assert_reference(
            store
                .create_user(
                    &acme.ctx,
                    NewUser {
                        roles: vec![code("viewer"), code(unknown)],
                        ..new_user("bob@acme.test", vec![])
                    },
                )
                .await,
            "roles",
        );
    }
    assert_eq!(store.count_users().await.expect("count"), users);
}

/// Custom roles: created, read, found by code, listed beside the system roles, changed and
/// audited; codes are unique per organization and never a system code; another organization
/// sees none of it.
pub async fn custom_roles_are_scoped_to_the_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let created = store
        .create_role(
            &acme.ctx,
            new_role(
                "release-manager",
                &[
                    Permission::TasksWrite,
                    Permission::ProjectsRead,
                    Permission::TasksWrite,
                ],
            ),
        )
        .await
        .expect("create");
    assert_eq!(created.organization_id, Some(acme.org.id));
    assert!(!created.is_system);
    assert_eq!(
        created.permissions,
        vec![Permission::ProjectsRead, Permission::TasksWrite]
    );
    assert_eq!(created.description.as_str(), "the release-manager role");
    assert_eq!(
        store.get_role(&acme.ctx, created.id).await.expect("get"),
        created
    );
    assert_eq!(
        store
            .find_role_by_code(&acme.ctx, &code("release-manager"))
            .await
            .expect("find"),
        Some(created.clone())
    );
    let row = &audit(store, &acme.ctx).await[0];
    assert_eq!(row.action, "role.create");
    assert_eq!(
        row.changes["permissions"],
        serde_json::json!(["projects:read", "tasks:write"])
    );

    // Beta sees nothing of it, and may use the same code.
    assert_not_found(store.get_role(&beta.ctx, created.id).await, "role");
    assert_eq!(
        store
            .find_role_by_code(&beta.ctx, &code("release-manager"))
            .await
            .expect("find"),
        None
    );
    assert_not_found(
        store
            .update_role(&beta.ctx, created.id, RolePatch::default())
            .await,
        "role",
    );
    assert_not_found(store.delete_role(&beta.ctx, created.id).await, "role");
    let beta_role = store
        .create_role(&beta.ctx, new_role("release-manager", &[]))
        .await
        .expect("the same code in another organization");

    assert_conflict(
        store
            .create_role(&acme.ctx, new_role("release-manager", &[]))
            .await,
        Some("code"),
    );
    for system in SystemRole::ALL {
        assert_conflict(
            store
                .create_role(&acme.ctx, new_role(system.code(), &[]))
                .await,
            Some("code"),
        );
    }

    // The list: the system roles and acme's own, by code, two at a time.
    let mut codes = Vec::new();
    let mut page = PageRequest::<RoleSort>::first(Limit::parse(2).expect("limit"));
    loop {
        let roles = store
            .list_roles(&acme.ctx, page.clone())
            .await
            .expect("list");
        codes.extend(roles.items.iter().map(|r| r.code.to_string()));
        match roles.next_cursor {
            Some(cursor) => page = page.next(Some(cursor)),
            None => break,
        }
    }
    assert_eq!(
        codes,
        [
            "admin",
            "agent",
            "developer",
            "owner",
            "release-manager",
            "viewer"
        ]
    );
    let oldest = store
        .list_roles(
            &acme.ctx,
            PageRequest::default().sorted(RoleSort::CreatedAt),
        )
        .await
        .expect("list");
    assert_eq!(oldest.items.len(), 6);
    assert_eq!(oldest.items[5], created);
    assert!(oldest.items[..5].iter().all(|r| r.is_system));
    let beta_roles = store
        .list_roles(&beta.ctx, PageRequest::default())
        .await
        .expect("list");
    assert!(beta_roles.items.contains(&beta_role));
    assert!(!beta_roles.items.contains(&created));

    let updated = store
        .update_role(
            &acme.ctx,
            created.id,
            RolePatch {
                description: Some(Description::parse("description", "ships").expect("text")),
                permissions: Some(vec![Permission::AgentsRead]),
            },
        )
        .await
        .expect("update");
    assert_eq!(updated.description.as_str(), "ships");
    assert_eq!(updated.permissions, vec![Permission::AgentsRead]);
    assert_eq!(updated.code, created.code);
    assert_eq!(
        store.get_role(&acme.ctx, created.id).await.expect("get"),
        updated
    );
    let row = &audit(store, &acme.ctx).await[0];
    assert_eq!(row.action, "role.update");
    assert_eq!(
        row.changes["permissions"],
        serde_json::json!({"from": ["projects:read", "tasks:write"], "to": ["agents:read"]})
    );
}

/// The system roles are shared by every organization: none may change or delete them.
pub async fn system_roles_cannot_change<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let developer = store
        .find_role_by_code(&acme.ctx, &code("developer"))
        .await
        .expect("find")
        .expect("developer");
    assert!(developer.is_system);
    assert_eq!(developer.organization_id, None);
    assert_eq!(developer.system_role(), Some(SystemRole::Developer));
    assert_eq!(
        store.get_role(&acme.ctx, developer.id).await.expect("get"),
        developer
    );
    let rows = audit(store, &acme.ctx).await.len();

    let patch = RolePatch {
        permissions: Some(Permission::ALL.to_vec()),
        ..RolePatch::default()
    };
    let reason = conflict_reason(store.update_role(&acme.ctx, developer.id, patch).await);
    assert!(reason.contains("system role"), "{reason}");
    let reason = conflict_reason(
        store
            .update_role(&acme.ctx, developer.id, RolePatch::default())
            .await,
    );
    assert!(reason.contains("system role"), "{reason}");
    assert_conflict(store.delete_role(&acme.ctx, developer.id).await, None);
    assert_eq!(
        store.get_role(&acme.ctx, developer.id).await.expect("get"),
        developer
    );
    assert_eq!(audit(store, &acme.ctx).await.len(), rows);
}

/// A custom role someone holds is not deleted (409, saying by how many users); once nobody
/// holds it, it goes with its grants, audited.
pub async fn deleting_a_held_role_conflicts<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let role = store
        .create_role(&acme.ctx, new_role("auditor", &[Permission::AuditRead]))
        .await
        .expect("role");
    let mut holders = Vec::new();
    for email in ["ada@acme.test", "bob@acme.test"] {
        let user = store
            .create_user(
                &acme.ctx,
                NewUser {
                    roles: vec![code("auditor")],
                    ..new_user(email, vec![])
                },
            )
            .await
            .expect("create");
        holders.push(user);
    }

    let reason = conflict_reason(store.delete_role(&acme.ctx, role.id).await);
    assert!(reason.contains("held by 2 users"), "{reason}");
    store
        .remove_role(&acme.ctx, holders[0].id, role.id)
        .await
        .expect("remove");
    let reason = conflict_reason(store.delete_role(&acme.ctx, role.id).await);
    assert!(reason.contains("held by 1 user:"), "{reason}");
    assert_eq!(store.get_role(&acme.ctx, role.id).await.expect("get"), role);

    store
        .remove_role(&acme.ctx, holders[1].id, role.id)
        .await
        .expect("remove");
    store.delete_role(&acme.ctx, role.id).await.expect("delete");
    assert_not_found(store.get_role(&acme.ctx, role.id).await, "role");
    assert_not_found(store.delete_role(&acme.ctx, role.id).await, "role");
    let row = &audit(store, &acme.ctx).await[0];
    assert_eq!(row.action, "role.delete");
    assert_eq!(row.changes["code"], "auditor");
    // The code is free again.
    store
        .create_role(&acme.ctx, new_role("auditor", &[]))
        .await
        .expect("the code again");
}

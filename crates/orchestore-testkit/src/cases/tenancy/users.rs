//! Users: found, listed, updated, deactivated.

use chrono::{Duration, Utc};
use orchestore_domain::{ClientInfo, Email, Name, NewUser, Password, SystemRole, User, UserPatch};
use orchestore_repo::{Limit, NewSession, Page, PageRequest, Store, UserFilter, UserSort};

use super::{audit, code, conflict_reason, new_role, username};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_conflict, assert_not_found, new_user};

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
            None,
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
            None,
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
            None,
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
            None,
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
        .update_user(&acme.ctx, ada.id, UserPatch::default(), None)
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
                None,
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
        .create_session(
            &acme.ctx,
            acme.owner.id,
            NewSession {
                refresh_token_hash: "owner-hash".to_owned(),
                expires_at: in_a_day,
                client: ClientInfo::default(),
            },
        )
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
            .rotate_session(
                "owner-hash",
                "owner-hash-2",
                in_a_day,
                &ClientInfo::default(),
                None,
            )
            .await,
        "session",
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
    // Deactivation ended the session: reactivation does not revive it.
    assert_not_found(
        store
            .rotate_session(
                "owner-hash",
                "owner-hash-2",
                in_a_day,
                &ClientInfo::default(),
                None,
            )
            .await,
        "session",
    );
    store
        .set_user_active(&acme.ctx, second.id, false)
        .await
        .expect("two active owners: one may go");
}

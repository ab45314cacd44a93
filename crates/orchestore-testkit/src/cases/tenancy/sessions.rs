//! Sessions: rotation with replay detection, listing and revoking, the standing that access
//! tokens are checked against, and password changes.

use chrono::{Duration, Utc};
use orchestore_domain::{
    ClientInfo, Description, NewRole, Password, PasswordHash, Permission, RoleCode, RolePatch,
    SessionId, SystemRole, UserAgent,
};
use orchestore_repo::{Ctx, Limit, NewSession, PageRequest, SessionGrant, SessionSort, Store};

use super::audit;
use crate::cases::{PASSWORD, assert_invalid, assert_not_found, new_user};
use crate::{Fixture, TEST_BCRYPT_COST};

fn opening(hash: &str) -> NewSession {
    NewSession {
        refresh_token_hash: hash.to_owned(),
        expires_at: Utc::now() + Duration::days(1),
        client: ClientInfo {
            address: Some("192.0.2.7".parse().expect("ip")),
            user_agent: UserAgent::parse("orchestore-tests/1.0"),
        },
    }
}

async fn open<S: Store + ?Sized>(store: &S, ctx: &Ctx, f: &Fixture, hash: &str) -> SessionGrant {
    store
        .create_session(ctx, f.owner.id, opening(hash))
        .await
        .expect("open a session")
}

async fn rotate<S: Store + ?Sized>(
    store: &S,
    old: &str,
    new: &str,
) -> orchestore_repo::RepoResult<SessionGrant> {
    let elsewhere = ClientInfo {
        address: Some("198.51.100.3".parse().expect("ip")),
        user_agent: None,
    };
    store
        .rotate_session(old, new, Utc::now() + Duration::days(1), &elsewhere, None)
        .await
}

pub async fn sessions_rotate_and_revoke<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;

    let opened = open(store, &fixture.ctx, &fixture, "hash-1").await;
    assert_eq!(opened.user, fixture.owner);
    assert_eq!(opened.access_version, 0);
    let rotated = rotate(store, "hash-1", "hash-2").await.expect("rotate");
    // A refresh renews the session; it does not open another.
    assert_eq!(rotated.session_id, opened.session_id);
    assert_eq!(rotated.user, fixture.owner);
    let listed = store
        .list_sessions(&fixture.ctx, fixture.owner.id, PageRequest::default())
        .await
        .expect("list")
        .items;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].refreshed_at.is_some());
    assert_eq!(
        listed[0].client_address,
        Some("198.51.100.3".parse().expect("ip"))
    );
    assert_eq!(
        listed[0].user_agent.as_ref().map(UserAgent::as_str),
        Some("orchestore-tests/1.0")
    );

    store
        .revoke_session(&fixture.ctx, fixture.owner.id, opened.session_id)
        .await
        .expect("revoke");
    assert_not_found(rotate(store, "hash-2", "hash-4").await, "session");
    assert_not_found(
        store
            .revoke_session(&fixture.ctx, fixture.owner.id, opened.session_id)
            .await,
        "session",
    );

    // An expired session cannot be refreshed.
    let mut expired = opening("hash-old");
    expired.expires_at = Utc::now() - Duration::seconds(1);
    store
        .create_session(&fixture.ctx, fixture.owner.id, expired)
        .await
        .expect("create expired session");
    assert_not_found(rotate(store, "hash-old", "hash-5").await, "session");
    assert_not_found(rotate(store, "never-issued", "hash-6").await, "session");

    // Another organization cannot open a session for this user.
    let other = Fixture::create(store, "other", PASSWORD).await;
    assert_not_found(
        store
            .create_session(&other.ctx, fixture.owner.id, opening("hash-x"))
            .await,
        "user",
    );
}

/// A replaced refresh token offered again means two parties hold the session's tokens: the
/// whole session is revoked, the newest token with it.
pub async fn a_replayed_refresh_token_revokes_its_session<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let opened = open(store, &fixture.ctx, &fixture, "first").await;
    let untouched = open(store, &fixture.ctx, &fixture, "other-device").await;
    rotate(store, "first", "second").await.expect("rotate");
    rotate(store, "second", "third")
        .await
        .expect("rotate again");

    let epoch = store.standing_epoch();
    assert_not_found(rotate(store, "first", "thief").await, "session");
    assert!(store.standing_epoch() > epoch);
    // The legitimate holder's newest token is dead too.
    assert_not_found(rotate(store, "third", "fourth").await, "session");
    let standing = store
        .session_standing(&fixture.ctx, opened.session_id)
        .await
        .expect("standing");
    assert!(!standing.live);
    let row = audit(store, &fixture.ctx)
        .await
        .into_iter()
        .find(|row| row.action == "session.revoke")
        .expect("the revocation is audited");
    assert_eq!(row.entity_id, opened.session_id.to_string());
    assert_eq!(row.changes["reason"], "refresh_token_reused");
    assert_eq!(row.actor, "system");

    // Replaying again changes nothing more; the user's other session stands.
    assert_not_found(rotate(store, "second", "thief-2").await, "session");
    assert!(
        store
            .session_standing(&fixture.ctx, untouched.session_id)
            .await
            .expect("standing")
            .live
    );
    rotate(store, "other-device", "other-device-2")
        .await
        .expect("the other session refreshes");
}

pub async fn sessions_are_listed_and_revoked_by_their_owner<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let first = open(store, &acme.ctx, &acme, "a-1").await;
    let second = open(store, &acme.ctx, &acme, "a-2").await;
    let third = open(store, &acme.ctx, &acme, "a-3").await;
    let colleague = store
        .create_user(
            &acme.ctx,
            new_user("dev@acme.test", vec![SystemRole::Developer]),
        )
        .await
        .expect("colleague");
    let theirs = store
        .create_session(&acme.ctx, colleague.id, opening("c-1"))
        .await
        .expect("their session");

    let ids = |sessions: orchestore_repo::Page<orchestore_domain::Session, SessionSort>| {
        sessions
            .items
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<SessionId>>()
    };
    let listed = store
        .list_sessions(&acme.ctx, acme.owner.id, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(
        ids(listed),
        vec![third.session_id, second.session_id, first.session_id]
    );
    // By pages, in either order: every session once.
    let two = Limit::parse(2).expect("limit");
    let newest = store
        .list_sessions(&acme.ctx, acme.owner.id, PageRequest::first(two))
        .await
        .expect("first page");
    let after = newest.next_cursor.clone().expect("another page");
    assert_eq!(ids(newest), vec![third.session_id, second.session_id]);
    let rest = PageRequest::new(two, SessionSort::CreatedAtDesc, Some(after)).expect("page");
    let last = store
        .list_sessions(&acme.ctx, acme.owner.id, rest)
        .await
        .expect("last page");
    assert_eq!(last.next_cursor, None);
    assert_eq!(ids(last), vec![first.session_id]);
    let oldest = PageRequest::first(Limit::parse(3).expect("limit")).sorted(SessionSort::CreatedAt);
    assert_eq!(
        ids(store
            .list_sessions(&acme.ctx, acme.owner.id, oldest)
            .await
            .expect("oldest first")),
        vec![first.session_id, second.session_id, third.session_id]
    );
    // Someone else's session is not the owner's to revoke.
    assert_not_found(
        store
            .revoke_session(&acme.ctx, acme.owner.id, theirs.session_id)
            .await,
        "session",
    );

    let revoked = store
        .revoke_user_sessions(&acme.ctx, acme.owner.id, Some(second.session_id))
        .await
        .expect("log out everywhere else");
    assert_eq!(revoked, 2);
    assert_eq!(
        ids(store
            .list_sessions(&acme.ctx, acme.owner.id, PageRequest::default())
            .await
            .expect("list")),
        vec![second.session_id]
    );
    assert_eq!(
        audit(store, &acme.ctx).await[0].action,
        "user.revoke_sessions"
    );
    assert_not_found(rotate(store, "a-1", "a-1b").await, "session");
    rotate(store, "a-2", "a-2b")
        .await
        .expect("the kept one works");
    assert!(
        store
            .session_standing(&acme.ctx, theirs.session_id)
            .await
            .expect("standing")
            .live
    );
    // Nothing left to revoke: nothing happens, nothing is audited.
    let rows = audit(store, &acme.ctx).await.len();
    assert_eq!(
        store
            .revoke_user_sessions(&acme.ctx, acme.owner.id, Some(second.session_id))
            .await
            .expect("again"),
        0
    );
    assert_eq!(audit(store, &acme.ctx).await.len(), rows);

    // Another organization sees none of it.
    let other = Fixture::create(store, "other", PASSWORD).await;
    assert_not_found(
        store
            .list_sessions(&other.ctx, acme.owner.id, PageRequest::default())
            .await,
        "user",
    );
    assert_not_found(
        store.session_standing(&other.ctx, second.session_id).await,
        "session",
    );
    assert_not_found(
        store
            .revoke_user_sessions(&other.ctx, acme.owner.id, None)
            .await,
        "user",
    );
}

/// What an access token grants shrinks: its user's access version rises (and the store's
/// standing epoch with it); what it grants grows: nothing is revoked.
pub async fn the_standing_falls_when_access_shrinks<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let role = store
        .create_role(
            &acme.ctx,
            NewRole {
                code: RoleCode::parse("code", "reviewer").expect("code"),
                description: Description::empty(),
                permissions: vec![Permission::TasksRead, Permission::TasksWrite],
            },
        )
        .await
        .expect("role");
    let dev = store
        .create_user(
            &acme.ctx,
            new_user("dev@acme.test", vec![SystemRole::Developer]),
        )
        .await
        .expect("dev");
    store
        .assign_role(&acme.ctx, dev.id, role.id)
        .await
        .expect("assign");
    let session = store
        .create_session(&acme.ctx, dev.id, opening("dev-1"))
        .await
        .expect("session");
    let standing = async |store: &S| {
        store
            .session_standing(&acme.ctx, session.session_id)
            .await
            .expect("standing")
    };
    let start = standing(store).await;
    assert!(start.live);
    assert_eq!((start.user_id, start.access_version), (dev.id, 0));

    // More permissions: tokens may keep the fewer they carry.
    let epoch = store.standing_epoch();
    store
        .update_role(
            &acme.ctx,
            role.id,
            RolePatch {
                description: None,
                permissions: Some(vec![
                    Permission::TasksRead,
                    Permission::TasksWrite,
                    Permission::ProjectsRead,
                ]),
            },
            None,
        )
        .await
        .expect("grant more");
    assert_eq!(standing(store).await.access_version, 0);
    assert_eq!(store.standing_epoch(), epoch);

    // Fewer: every holder's tokens stop.
    store
        .update_role(
            &acme.ctx,
            role.id,
            RolePatch {
                description: None,
                permissions: Some(vec![Permission::TasksRead]),
            },
            None,
        )
        .await
        .expect("cut");
    assert_eq!(standing(store).await.access_version, 1);
    assert!(store.standing_epoch() > epoch);
    let owner = store
        .session_standing(
            &acme.ctx,
            open(store, &acme.ctx, &acme, "owner-1").await.session_id,
        )
        .await
        .expect("owner standing");
    assert_eq!(owner.access_version, 0, "the owner does not hold the role");

    store
        .remove_role(&acme.ctx, dev.id, role.id)
        .await
        .expect("remove");
    assert_eq!(standing(store).await.access_version, 2);
    // A new session carries the version of now.
    let fresh = store
        .create_session(&acme.ctx, dev.id, opening("dev-2"))
        .await
        .expect("session");
    assert_eq!(fresh.access_version, 2);

    // Deactivation ends every session and raises the version.
    store
        .set_user_active(&acme.ctx, dev.id, false)
        .await
        .expect("deactivate");
    let after = standing(store).await;
    assert!(!after.live);
    assert_eq!(after.access_version, 3);
    assert_eq!(
        audit(store, &acme.ctx).await[0].changes["sessions_revoked"],
        2
    );
    store
        .set_user_active(&acme.ctx, dev.id, true)
        .await
        .expect("reactivate");
    assert!(
        !standing(store).await.live,
        "reactivation revives no session"
    );
    assert_not_found(rotate(store, "dev-2", "dev-3").await, "session");
}

/// Cached standings are dropped when a transaction that made a standing fall commits, not
/// before: a standing read in between still sees the old one and, cached under the raised
/// epoch, would be trusted for the check interval. A nested transaction's fall waits for the
/// outermost commit; a rolled-back one drops nothing.
pub async fn a_standing_falls_when_its_transaction_commits<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let dev = store
        .create_user(
            &acme.ctx,
            new_user("dev@acme.test", vec![SystemRole::Developer]),
        )
        .await
        .expect("dev");
    let epoch = store.standing_epoch();

    let tx = store.begin().await.expect("begin");
    tx.set_user_active(&acme.ctx, dev.id, false)
        .await
        .expect("deactivate");
    assert_eq!(store.standing_epoch(), epoch, "not before the commit");
    tx.rollback().await.expect("rollback");
    assert_eq!(store.standing_epoch(), epoch, "rolled back, nothing fell");

    let tx = store.begin().await.expect("begin");
    let nested = tx.begin().await.expect("nested");
    nested
        .set_user_active(&acme.ctx, dev.id, false)
        .await
        .expect("deactivate");
    nested.rollback().await.expect("rollback the nested one");
    let nested = tx.begin().await.expect("nested again");
    nested
        .set_user_active(&acme.ctx, dev.id, false)
        .await
        .expect("deactivate");
    nested.commit().await.expect("commit the nested one");
    assert_eq!(
        store.standing_epoch(),
        epoch,
        "not before the outermost commit"
    );
    tx.commit().await.expect("commit");
    assert!(store.standing_epoch() > epoch);
    let user = store.get_user(&acme.ctx, dev.id).await.expect("user");
    assert!(!user.active);
}

pub async fn passwords_change_with_the_current_one<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let here = open(store, &acme.ctx, &acme, "here").await;
    let elsewhere = open(store, &acme.ctx, &acme, "elsewhere").await;
    let new_password = Password::parse("a much longer passphrase").expect("password");
    let new_hash = PasswordHash::hash(&new_password, TEST_BCRYPT_COST).expect("hash");

    let rows = audit(store, &acme.ctx).await.len();
    assert_invalid(
        store
            .change_password(
                &acme.ctx,
                acme.owner.id,
                &Password::offered("not the password"),
                new_hash.clone(),
                Some(here.session_id),
            )
            .await,
        "current_password",
    );
    assert_eq!(audit(store, &acme.ctx).await.len(), rows);
    assert!(
        store
            .session_standing(&acme.ctx, elsewhere.session_id)
            .await
            .expect("standing")
            .live
    );

    store
        .change_password(
            &acme.ctx,
            acme.owner.id,
            &Password::offered(PASSWORD),
            new_hash,
            Some(here.session_id),
        )
        .await
        .expect("change");
    let row = &audit(store, &acme.ctx).await[0];
    assert_eq!(row.action, "user.change_password");
    assert_eq!(row.changes, serde_json::json!({ "sessions_revoked": 1 }));
    assert!(
        !row.changes.to_string().contains("$2"),
        "no hash in the audit log"
    );
    let email = &acme.owner.email;
    assert_eq!(
        store
            .verify_login(&acme.org.slug, email, &Password::offered(PASSWORD))
            .await
            .expect("login"),
        None
    );
    assert!(
        store
            .verify_login(&acme.org.slug, email, &new_password)
            .await
            .expect("login")
            .is_some()
    );
    assert!(
        store
            .session_standing(&acme.ctx, here.session_id)
            .await
            .expect("standing")
            .live
    );
    assert!(
        !store
            .session_standing(&acme.ctx, elsewhere.session_id)
            .await
            .expect("standing")
            .live
    );

    let other = Fixture::create(store, "other", PASSWORD).await;
    assert_not_found(
        store
            .change_password(
                &other.ctx,
                acme.owner.id,
                &new_password,
                PasswordHash::hash(&new_password, TEST_BCRYPT_COST).expect("hash"),
                None,
            )
            .await,
        "user",
    );
}

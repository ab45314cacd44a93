//! Invitations: issued with a one-time token, listed while pending, accepted once (also when
//! two acceptances race), refused once expired or revoked, and invisible to other
//! organizations.

use chrono::{Duration, Utc};
use orchestore_domain::{
    Email, InvitationToken, IssuedInvitation, Name, Password, PasswordHash, Permission, SystemRole,
};
use orchestore_repo::{
    Ctx, InvitationAcceptance, InvitationSort, Limit, NewInvitation, PageRequest, RepoResult,
    Store, UserFilter,
};

use super::{audit, code, new_role, username};
use crate::cases::{PASSWORD, assert_conflict, assert_not_found, assert_reference, new_user};
use crate::{Fixture, TEST_BCRYPT_COST};

fn inviting(email: &str, roles: &[&str]) -> NewInvitation {
    NewInvitation {
        email: Email::parse(email).expect("test email"),
        roles: roles.iter().map(|raw| code(raw)).collect(),
        expires_at: Utc::now() + Duration::days(7),
    }
}

fn acceptance(display_name: &str) -> InvitationAcceptance {
    let password = Password::parse(PASSWORD).expect("test password");
    InvitationAcceptance {
        display_name: Name::parse("display_name", display_name).expect("test name"),
        username: None,
        password_hash: PasswordHash::hash(&password, TEST_BCRYPT_COST).expect("hash"),
    }
}

async fn invite<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    email: &str,
    roles: &[&str],
) -> IssuedInvitation {
    store
        .create_invitation(ctx, inviting(email, roles))
        .await
        .expect("issue an invitation")
}

async fn accept<S: Store + ?Sized>(
    store: &S,
    token: &InvitationToken,
    display_name: &str,
) -> RepoResult<orchestore_domain::User> {
    store
        .accept_invitation(token, acceptance(display_name), Some("req-accept"))
        .await
}

async fn pending_emails<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> Vec<String> {
    store
        .list_invitations(ctx, PageRequest::default())
        .await
        .expect("list invitations")
        .items
        .into_iter()
        .map(|invitation| invitation.email.into_string())
        .collect()
}

/// Issued with a token that is returned once and never stored or audited; found by the token
/// while pending; accepted into a user with the invited address and roles, who can log in; then
/// no longer pending, and the token is spent.
pub async fn invitations_are_issued_and_accepted_once<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let issued = invite(store, &acme.ctx, "Ada@Acme.test", &["developer", "viewer"]).await;
    let invitation = &issued.invitation;
    assert_eq!(invitation.email.as_str(), "ada@acme.test");
    assert_eq!(invitation.roles, vec![code("developer"), code("viewer")]);
    assert_eq!(invitation.invited_by, format!("user:{}", acme.owner.id));
    assert_eq!(invitation.organization_id, acme.org.id);
    assert!(invitation.is_pending(Utc::now()));
    assert!(issued.token.expose().starts_with("osi_"));
    assert_eq!(
        store
            .get_invitation(&acme.ctx, invitation.id)
            .await
            .expect("get"),
        *invitation
    );
    assert_eq!(
        store
            .find_pending_invitation(&issued.token)
            .await
            .expect("found by its token"),
        *invitation
    );
    assert_eq!(pending_emails(store, &acme.ctx).await, ["ada@acme.test"]);

    let ada = accept(store, &issued.token, "Ada").await.expect("accept");
    assert_eq!(ada.email.as_str(), "ada@acme.test");
    assert_eq!(ada.organization_id, acme.org.id);
    let roles: Vec<String> = store
        .user_roles(&acme.ctx, ada.id)
        .await
        .expect("roles")
        .into_iter()
        .map(|role| role.code.into_string())
        .collect();
    assert_eq!(roles, ["developer", "viewer"]);
    let logged_in = store
        .verify_login(&acme.org.slug, &ada.email, &Password::offered(PASSWORD))
        .await
        .expect("login");
    assert_eq!(logged_in, Some(ada.clone()));

    let accepted = store
        .get_invitation(&acme.ctx, invitation.id)
        .await
        .expect("get");
    assert_eq!(accepted.accepted_user_id, Some(ada.id));
    assert!(accepted.accepted_at.is_some());
    assert!(pending_emails(store, &acme.ctx).await.is_empty());
    assert_not_found(
        store.find_pending_invitation(&issued.token).await,
        "invitation",
    );
    assert_not_found(
        accept(store, &issued.token, "Ada again").await,
        "invitation",
    );
    // A token never issued is the same unknown.
    let never = InvitationToken::new([9; 32]);
    assert_not_found(store.find_pending_invitation(&never).await, "invitation");
    assert_not_found(accept(store, &never, "Nobody").await, "invitation");

    let rows = audit(store, &acme.ctx).await;
    let action = |name: &str| {
        rows.iter()
            .find(|row| row.action == name)
            .unwrap_or_else(|| panic!("{name} is audited"))
    };
    let created = action("invitation.create");
    assert_eq!(created.entity_id, invitation.id.to_string());
    assert_eq!(created.changes["email"], "ada@acme.test");
    let accepted_row = action("invitation.accept");
    assert_eq!(accepted_row.actor, "system");
    assert_eq!(accepted_row.request_id.as_deref(), Some("req-accept"));
    assert_eq!(accepted_row.changes["user_id"], ada.id.to_string());
    assert_eq!(
        action("user.create").request_id.as_deref(),
        Some("req-accept")
    );
    for row in &rows {
        let text = row.changes.to_string();
        assert!(!text.contains(issued.token.expose()), "{}", row.action);
        assert!(!text.contains(&issued.token.hash()), "{}", row.action);
    }
}

/// Two acceptances racing with one token: exactly one makes a user, the other finds the
/// invitation spent.
pub async fn an_invitation_is_accepted_once_under_concurrency<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let issued = invite(store, &acme.ctx, "ada@acme.test", &["developer"]).await;
    // Connections open first (on PostgreSQL), so that the calls below run at once.
    let (a, b) = tokio::join!(
        store.find_pending_invitation(&issued.token),
        store.find_pending_invitation(&issued.token),
    );
    a.expect("pending");
    b.expect("pending");

    let (first, second) = tokio::join!(
        accept(store, &issued.token, "First"),
        accept(store, &issued.token, "Second"),
    );
    let (won, lost) = match (first, second) {
        (Ok(user), lost) | (lost, Ok(user)) => (user, lost),
        (first, second) => panic!("one acceptance must succeed: {first:?}, {second:?}"),
    };
    assert_not_found(lost, "invitation");
    let users = store
        .list_users(&acme.ctx, UserFilter::default(), PageRequest::default())
        .await
        .expect("users");
    let invited: Vec<_> = users
        .items
        .iter()
        .filter(|user| user.email.as_str() == "ada@acme.test")
        .collect();
    assert_eq!(invited, [&won]);
    let accepted = store
        .get_invitation(&acme.ctx, issued.invitation.id)
        .await
        .expect("get");
    assert_eq!(accepted.accepted_user_id, Some(won.id));
}

/// An expired invitation and a revoked one cannot be accepted, nor are they listed; revoking
/// is idempotent, and an accepted invitation cannot be revoked.
pub async fn expired_and_revoked_invitations_are_spent<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let expired = store
        .create_invitation(
            &acme.ctx,
            NewInvitation {
                expires_at: Utc::now() - Duration::seconds(1),
                ..inviting("late@acme.test", &[])
            },
        )
        .await
        .expect("issue");
    let revoked = invite(store, &acme.ctx, "revoked@acme.test", &[]).await;
    let kept = invite(store, &acme.ctx, "kept@acme.test", &[]).await;

    let before = audit(store, &acme.ctx).await.len();
    let answer = store
        .revoke_invitation(&acme.ctx, revoked.invitation.id)
        .await
        .expect("revoke");
    assert!(answer.revoked_at.is_some());
    let again = store
        .revoke_invitation(&acme.ctx, revoked.invitation.id)
        .await
        .expect("revoke again");
    assert_eq!(again, answer);
    let rows = audit(store, &acme.ctx).await;
    assert_eq!(rows.len(), before + 1, "revoking again writes nothing");
    assert_eq!(rows[0].action, "invitation.revoke");

    for (token, what) in [(&expired.token, "expired"), (&revoked.token, "revoked")] {
        assert_not_found(store.find_pending_invitation(token).await, "invitation");
        assert_not_found(accept(store, token, what).await, "invitation");
    }
    assert_eq!(pending_emails(store, &acme.ctx).await, ["kept@acme.test"]);
    assert_eq!(
        store
            .find_user_by_email(&acme.ctx, &Email::parse("late@acme.test").expect("email"))
            .await
            .expect("find"),
        None
    );

    accept(store, &kept.token, "Kept").await.expect("accept");
    assert_conflict(
        store.revoke_invitation(&acme.ctx, kept.invitation.id).await,
        None,
    );
    assert_not_found(
        store
            .revoke_invitation(&acme.ctx, orchestore_domain::InvitationId::new())
            .await,
        "invitation",
    );
}

/// The address must not be a user's, at issue and at acceptance; the roles must be the
/// organization's; a custom role deleted before acceptance is no longer granted.
pub async fn invitations_check_the_address_and_the_roles<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    store
        .create_user(
            &acme.ctx,
            new_user("bob@acme.test", vec![SystemRole::Viewer]),
        )
        .await
        .expect("bob");
    assert_conflict(
        store
            .create_invitation(&acme.ctx, inviting("BOB@acme.test", &[]))
            .await,
        Some("email"),
    );
    assert_reference(
        store
            .create_invitation(&acme.ctx, inviting("ada@acme.test", &["no-such-role"]))
            .await,
        "roles",
    );
    store
        .create_role(&beta.ctx, new_role("qa", &[Permission::AuditRead]))
        .await
        .expect("beta's role");
    assert_reference(
        store
            .create_invitation(&acme.ctx, inviting("ada@acme.test", &["qa"]))
            .await,
        "roles",
    );
    assert!(pending_emails(store, &acme.ctx).await.is_empty());

    // Invited twice: the first acceptance makes the user, the second conflicts and stays
    // pending.
    let release = store
        .create_role(&acme.ctx, new_role("release", &[Permission::AuditRead]))
        .await
        .expect("acme's role");
    let first = invite(store, &acme.ctx, "ada@acme.test", &["release", "viewer"]).await;
    let second = invite(store, &acme.ctx, "ada@acme.test", &[]).await;
    store
        .delete_role(&acme.ctx, release.id, None)
        .await
        .expect("delete the role nobody holds");
    let offered = store
        .get_invitation(&acme.ctx, first.invitation.id)
        .await
        .expect("get");
    assert_eq!(offered.roles, vec![code("viewer")]);
    let ada = accept(store, &first.token, "Ada").await.expect("accept");
    let roles: Vec<String> = store
        .user_roles(&acme.ctx, ada.id)
        .await
        .expect("roles")
        .into_iter()
        .map(|role| role.code.into_string())
        .collect();
    assert_eq!(roles, ["viewer"]);
    assert_conflict(
        accept(store, &second.token, "Ada twice").await,
        Some("email"),
    );
    assert!(
        store
            .get_invitation(&acme.ctx, second.invitation.id)
            .await
            .expect("get")
            .is_pending(Utc::now())
    );

    // A username someone has is refused, and the invitation stays pending.
    store
        .update_user(
            &acme.ctx,
            acme.owner.id,
            orchestore_domain::UserPatch {
                username: Some(Some(username("taken"))),
                ..Default::default()
            },
            None,
        )
        .await
        .expect("owner's username");
    let carol = invite(store, &acme.ctx, "carol@acme.test", &[]).await;
    let taken = store
        .accept_invitation(
            &carol.token,
            InvitationAcceptance {
                username: Some(username("Taken")),
                ..acceptance("Carol")
            },
            None,
        )
        .await;
    assert_conflict(taken, Some("username"));
    store
        .find_pending_invitation(&carol.token)
        .await
        .expect("still pending");
}

/// Another organization's invitations are not found, listed or revocable; the same address
/// may be invited by both.
pub async fn invitations_of_another_organization_are_invisible<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let ours = invite(store, &acme.ctx, "ada@example.test", &["developer"]).await;
    let theirs = invite(store, &beta.ctx, "ada@example.test", &[]).await;

    assert_not_found(
        store.get_invitation(&beta.ctx, ours.invitation.id).await,
        "invitation",
    );
    assert_not_found(
        store.revoke_invitation(&beta.ctx, ours.invitation.id).await,
        "invitation",
    );
    assert_eq!(
        store
            .list_invitations(&beta.ctx, PageRequest::default())
            .await
            .expect("list")
            .items,
        vec![theirs.invitation.clone()]
    );
    store
        .get_invitation(&acme.ctx, ours.invitation.id)
        .await
        .expect("still ours")
        .is_pending(Utc::now())
        .then_some(())
        .expect("still pending");

    // Each token joins its own organization.
    let in_beta = accept(store, &theirs.token, "Ada").await.expect("accept");
    assert_eq!(in_beta.organization_id, beta.org.id);
    let in_acme = accept(store, &ours.token, "Ada").await.expect("accept");
    assert_eq!(in_acme.organization_id, acme.org.id);
}

/// The pending invitations page by creation time, both ways, without repeats.
pub async fn pending_invitations_are_paged<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let mut issued = Vec::new();
    for n in 0..5 {
        issued.push(invite(store, &acme.ctx, &format!("user{n}@acme.test"), &[]).await);
    }
    let two = Limit::parse(2).expect("limit");
    for (sort, expected) in [
        (InvitationSort::CreatedAt, [0, 1, 2, 3, 4]),
        (InvitationSort::CreatedAtDesc, [4, 3, 2, 1, 0]),
    ] {
        let mut request = PageRequest::first(two).sorted(sort);
        let mut seen = Vec::new();
        loop {
            let page = store
                .list_invitations(&acme.ctx, request.clone())
                .await
                .expect("page");
            seen.extend(page.items.iter().map(|invitation| invitation.id));
            match page.next_cursor {
                Some(cursor) => request = request.next(Some(cursor)),
                None => break,
            }
        }
        let wanted: Vec<_> = expected.iter().map(|&n| issued[n].invitation.id).collect();
        assert_eq!(seen, wanted, "{sort:?}");
    }
}

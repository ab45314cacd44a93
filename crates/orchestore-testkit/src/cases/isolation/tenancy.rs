//! Organizations, users, roles, sessions, API keys of users and invitations.

use super::*;

pub(super) async fn check_tenancy<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    // Creates the context's own organization.
    c.unscoped("create_organization");
    // Creates the context's own organization.
    c.unscoped("create_organization_with_owner");
    c.clean("get_organization", store.get_organization(ctx).await);

    let offering_a_role = store
        .create_invitation(
            ctx,
            NewInvitation {
                email: Email::parse("invited@beta.test").expect("email"),
                roles: vec![a.role.code.clone()],
                expires_at: Utc::now() + chrono::Duration::days(1),
            },
        )
        .await;
    c.reference("create_invitation", "roles", offering_a_role);
    c.not_found(
        "get_invitation",
        store.get_invitation(ctx, a.invitation.invitation.id).await,
    );
    c.clean("list_invitations", store.list_invitations(ctx, all()).await);
    c.not_found(
        "revoke_invitation",
        store
            .revoke_invitation(ctx, a.invitation.invitation.id)
            .await,
    );
    // A token names its own organization, as a refresh token does.
    c.unscoped("find_pending_invitation");
    c.unscoped("accept_invitation");

    let granted = store
        .create_user(
            ctx,
            NewUser {
                roles: vec![a.role.code.clone()],
                ..new_user("granted@beta.test", vec![])
            },
        )
        .await;
    c.reference("create_user", "roles", granted);
    c.not_found("get_user", store.get_user(ctx, a.user.id).await);
    c.nothing(
        "find_user_by_email",
        store.find_user_by_email(ctx, &a.user.email).await,
    );
    let a_username = a.user.username.clone().expect("a username");
    c.nothing(
        "find_user_by_username",
        store.find_user_by_username(ctx, &a_username).await,
    );
    let by_role = UserFilter {
        role: Some(a.role.id),
        ..UserFilter::default()
    };
    c.clean("list_users", store.list_users(ctx, by_role, all()).await);
    c.clean(
        "list_users",
        store.list_users(ctx, UserFilter::default(), all()).await,
    );
    c.not_found(
        "update_user",
        store
            .update_user(ctx, a.user.id, UserPatch::default(), None)
            .await,
    );
    c.not_found(
        "set_user_active",
        store.set_user_active(ctx, a.user.id, false).await,
    );
    c.not_found("user_roles", store.user_roles(ctx, a.user.id).await);
    c.not_found(
        "assign_role",
        store.assign_role(ctx, a.user.id, b.role.id).await,
    );
    c.reference(
        "assign_role",
        "role_id",
        store.assign_role(ctx, b.user.id, a.role.id).await,
    );
    c.not_found(
        "remove_role",
        store.remove_role(ctx, a.user.id, a.role.id).await,
    );
    c.not_found(
        "remove_role",
        store.remove_role(ctx, b.user.id, a.role.id).await,
    );
    c.not_found(
        "user_permissions",
        store.user_permissions(ctx, a.user.id).await,
    );
    let current = Password::parse(PASSWORD).expect("password");
    let new_hash = PasswordHash::hash(&current, TEST_BCRYPT_COST).expect("hash");
    c.not_found(
        "change_password",
        store
            .change_password(ctx, a.user.id, &current, new_hash, None)
            .await,
    );

    // Found by code before B has a role with A's code, which B may then create.
    c.nothing(
        "find_role_by_code",
        store.find_role_by_code(ctx, &a.role.code).await,
    );
    c.clean(
        "create_role",
        store
            .create_role(
                ctx,
                new_role(a.role.code.as_str(), &[Permission::TasksRead]),
            )
            .await,
    );
    c.not_found("get_role", store.get_role(ctx, a.role.id).await);
    c.clean("list_roles", store.list_roles(ctx, all()).await);
    c.not_found(
        "update_role",
        store
            .update_role(ctx, a.role.id, RolePatch::default(), None)
            .await,
    );
    c.not_found("delete_role", store.delete_role(ctx, a.role.id, None).await);

    // Counts every organization's, to bootstrap.
    c.unscoped("count_users");
    // A's user is nobody in B's organization, with the right password too.
    let b_slug = b.fixture.org.slug.clone();
    c.nothing(
        "verify_login",
        store.verify_login(&b_slug, &a.user.email, &current).await,
    );
    c.not_found(
        "create_session",
        store.create_session(ctx, a.user.id, opening()).await,
    );
    // A refresh token names its own session.
    c.unscoped("rotate_session");
    c.not_found(
        "session_standing",
        store.session_standing(ctx, a.session).await,
    );
    // A counter of the store, of no row.
    c.unscoped("standing_epoch");
    c.not_found(
        "list_sessions",
        store
            .list_sessions(ctx, a.fixture.owner.id, PageRequest::default())
            .await,
    );
    c.not_found(
        "revoke_session",
        store
            .revoke_session(ctx, a.fixture.owner.id, a.session)
            .await,
    );
    c.not_found(
        "revoke_session",
        store
            .revoke_session(ctx, b.fixture.owner.id, a.session)
            .await,
    );
    c.not_found(
        "revoke_user_sessions",
        store
            .revoke_user_sessions(ctx, a.fixture.owner.id, None)
            .await,
    );
    // Settings of the instance, of no organization.
    c.unscoped("instance_setting_or_insert");
}

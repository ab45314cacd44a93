//! API keys of agents and users: scopes within what the owner holds now, expiry, revocation,
//! owners that stop, and tenants that cannot see each other's keys.

use chrono::{Duration, Utc};
use orchestore_domain::{
    AgentKind, AgentPatch, AgentStatus, ApiKeySecret, IssuedApiKey, KeyExpiry, KeyOwner, KeyScopes,
    Name, NewAgent, NewApiKey, Permission, SystemRole, User,
};
use orchestore_repo::{ApiKeyGrant, AuditFilter, AuditSort, Ctx, PageRequest, RepoError, Store};

use super::audit;
use crate::Fixture;
use crate::cases::{PASSWORD, assert_invalid, assert_not_found, assert_reference, new_user};

fn key(owner: KeyOwner, name: &str, scopes: &[Permission]) -> NewApiKey {
    NewApiKey {
        owner,
        name: Name::parse("name", name).expect("name"),
        scopes: if scopes.is_empty() {
            KeyScopes::owners()
        } else {
            KeyScopes::parse(&scopes.iter().map(|p| p.code()).collect::<Vec<_>>()).expect("scopes")
        },
        expires_at: None,
    }
}

async fn issue<S: Store + ?Sized>(store: &S, ctx: &Ctx, new: NewApiKey) -> IssuedApiKey {
    store.create_api_key(ctx, new).await.expect("create key")
}

async fn grant<S: Store + ?Sized>(store: &S, issued: &IssuedApiKey) -> ApiKeyGrant {
    store
        .authenticate_api_key(&issued.secret)
        .await
        .expect("the key authenticates")
}

async fn refused<S: Store + ?Sized>(store: &S, issued: &IssuedApiKey) {
    assert_not_found(store.authenticate_api_key(&issued.secret).await, "api_key");
}

async fn user<S: Store + ?Sized>(store: &S, f: &Fixture, email: &str, role: SystemRole) -> User {
    store
        .create_user(&f.ctx, new_user(email, vec![role]))
        .await
        .expect("user")
}

/// An agent's key acts as its agent with what the `agent` system role grants, limited to its
/// scopes; it stops while its agent is inactive, when revoked, and with its agent.
pub async fn agent_keys_authenticate_their_agent_until_revoked<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let bot =
        |name: &str| NewAgent::named(Name::parse("name", name).expect("name"), AgentKind::Bot);
    let worker = store.create_agent(ctx, bot("worker")).await.expect("agent");
    let theirs = store
        .create_agent(&other.ctx, bot("theirs"))
        .await
        .expect("agent");
    let own = KeyOwner::Agent(worker.id);

    assert_reference(
        store
            .create_api_key(ctx, key(KeyOwner::Agent(theirs.id), "x", &[]))
            .await,
        "agent_id",
    );
    // The agent role grants no `users:write`.
    assert_invalid(
        store
            .create_api_key(ctx, key(own, "x", &[Permission::UsersWrite]))
            .await,
        "scopes",
    );
    let issued = issue(store, ctx, key(own, "host-1", &[])).await;
    assert_eq!(issued.key.owner, own);
    assert_eq!(issued.key.scopes, KeyScopes::owners());
    assert!(issued.secret.expose().starts_with("osk_"));

    let granted = grant(store, &issued).await;
    assert_eq!(
        (granted.organization_id, granted.owner, granted.key_id),
        (acme.org.id, own, issued.key.id)
    );
    for needed in [
        Permission::TasksRead,
        Permission::TasksWrite,
        Permission::AgentsHeartbeat,
        Permission::MessagesWrite,
    ] {
        assert!(granted.permissions.contains(&needed), "{needed:?}");
    }
    assert!(!granted.permissions.contains(&Permission::UsersWrite));
    let reader = issue(store, ctx, key(own, "reader", &[Permission::TasksRead])).await;
    assert_eq!(
        grant(store, &reader).await.permissions,
        [Permission::TasksRead]
    );

    let listed = store
        .list_api_keys(ctx, own, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 2);
    assert!(listed.items[0].last_used_at.is_some(), "use is recorded");
    assert_not_found(
        store
            .list_api_keys(&other.ctx, own, PageRequest::default())
            .await,
        "agent",
    );

    // A forged key with the right id but other random bytes is unknown.
    let forged = ApiKeySecret::new(acme.org.id, issued.key.id, [9; 32]);
    assert_not_found(store.authenticate_api_key(&forged).await, "api_key");

    // An inactive agent's key stops working, and works again when it is back.
    let status = |status| AgentPatch {
        status: Some(status),
        ..AgentPatch::default()
    };
    store
        .update_agent(ctx, worker.id, status(AgentStatus::Inactive), None)
        .await
        .expect("deactivate");
    refused(store, &issued).await;
    store
        .update_agent(ctx, worker.id, status(AgentStatus::Active), None)
        .await
        .expect("reactivate");
    grant(store, &issued).await;

    let revoked = store
        .revoke_api_key(ctx, own, issued.key.id)
        .await
        .expect("revoke");
    assert!(revoked.revoked_at.is_some());
    refused(store, &issued).await;
    let again = store
        .revoke_api_key(ctx, own, issued.key.id)
        .await
        .expect("revoke again");
    assert_eq!(again.revoked_at, revoked.revoked_at);

    let audit = store
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::default().sorted(AuditSort::CreatedAt),
        )
        .await
        .expect("audit");
    let actions: Vec<&str> = audit
        .items
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| a.starts_with("api_key"))
        .collect();
    assert_eq!(
        actions,
        ["api_key.create", "api_key.create", "api_key.revoke"]
    );
    let created = audit
        .items
        .iter()
        .find(|e| e.entity_id == reader.key.id.to_string())
        .expect("the reader's creation");
    assert_eq!(created.changes["agent_id"], serde_json::json!(worker.id));
    assert_eq!(created.changes["scopes"], serde_json::json!(["tasks:read"]));
    for secret in [&issued.secret, &reader.secret] {
        let secret_part = &secret.expose()[4..];
        assert!(
            audit
                .items
                .iter()
                .all(|e| !e.changes.to_string().contains(secret_part)),
            "no audit row holds a key"
        );
    }

    // Keys go with their agent.
    store
        .delete_agent(ctx, worker.id, None)
        .await
        .expect("delete");
    refused(store, &reader).await;
}

/// A user's key acts as the user with its scopes that the user holds at each request: a scope
/// the user lacks is refused at creation, a permission the user loses the key loses at once,
/// and one given back comes back. Without scopes the key follows the user.
pub async fn user_keys_grant_their_scopes_that_the_owner_holds<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ada = user(store, &acme, "ada@acme.test", SystemRole::Developer).await;
    let as_ada = Ctx::new(acme.org.id, orchestore_repo::Actor::User(ada.id));
    let own = KeyOwner::User(ada.id);

    assert_invalid(
        store
            .create_api_key(&as_ada, key(own, "ci", &[Permission::UsersWrite]))
            .await,
        "scopes",
    );
    let scoped = issue(
        store,
        &as_ada,
        key(own, "ci", &[Permission::TasksRead, Permission::TasksWrite]),
    )
    .await;
    let unscoped = issue(store, &as_ada, key(own, "laptop", &[])).await;
    assert_eq!(scoped.key.created_by, format!("user:{}", ada.id));
    assert_eq!(
        scoped.key.scopes.listed(),
        Some(&[Permission::TasksRead, Permission::TasksWrite][..])
    );

    let granted = grant(store, &scoped).await;
    assert_eq!(granted.owner, own);
    assert_eq!(
        granted.permissions,
        [Permission::TasksRead, Permission::TasksWrite]
    );
    let developer = store
        .user_permissions(&acme.ctx, ada.id)
        .await
        .expect("permissions");
    assert_eq!(grant(store, &unscoped).await.permissions, developer);

    // Ada becomes a viewer: her keys lose `tasks:write` on the next request.
    let role_id = async |role: SystemRole| {
        store
            .find_role_by_code(&acme.ctx, &role.into())
            .await
            .expect("find role")
            .expect("a system role")
            .id
    };
    let (developer_role, viewer_role) = (
        role_id(SystemRole::Developer).await,
        role_id(SystemRole::Viewer).await,
    );
    store
        .assign_role(&acme.ctx, ada.id, viewer_role)
        .await
        .expect("viewer");
    store
        .remove_role(&acme.ctx, ada.id, developer_role)
        .await
        .expect("no longer a developer");
    assert_eq!(
        grant(store, &scoped).await.permissions,
        [Permission::TasksRead]
    );
    let viewer = store
        .user_permissions(&acme.ctx, ada.id)
        .await
        .expect("permissions");
    assert!(!viewer.contains(&Permission::TasksWrite));
    assert_eq!(grant(store, &unscoped).await.permissions, viewer);
    // What she no longer holds, no new key of hers may have.
    assert_invalid(
        store
            .create_api_key(&as_ada, key(own, "more", &[Permission::TasksWrite]))
            .await,
        "scopes",
    );

    store
        .assign_role(&acme.ctx, ada.id, developer_role)
        .await
        .expect("a developer again");
    assert_eq!(
        grant(store, &scoped).await.permissions,
        [Permission::TasksRead, Permission::TasksWrite]
    );
    let audit = audit(store, &acme.ctx).await;
    let created = audit
        .iter()
        .find(|e| e.action == "api_key.create" && e.entity_id == scoped.key.id.to_string())
        .expect("audited");
    assert_eq!(created.changes["user_id"], serde_json::json!(ada.id));
    assert_eq!(created.actor, format!("user:{}", ada.id));
}

/// An expired key is refused like a revoked one, and both stay listed with their times.
pub async fn expired_and_revoked_keys_are_refused<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let own = KeyOwner::User(acme.owner.id);
    let soon = Utc::now() + Duration::hours(1);
    let expiring = issue(
        store,
        &acme.ctx,
        NewApiKey {
            expires_at: Some(KeyExpiry::parse(soon, Utc::now()).expect("expiry")),
            ..key(own, "for an hour", &[])
        },
    )
    .await;
    assert_eq!(
        expiring.key.expires_at.map(|at| at.timestamp()),
        Some(soon.timestamp())
    );
    grant(store, &expiring).await;
    // An expiry valid when it was given, which has passed since.
    let an_hour_ago = Utc::now() - Duration::hours(1);
    let expired = issue(
        store,
        &acme.ctx,
        NewApiKey {
            expires_at: Some(
                KeyExpiry::parse(an_hour_ago, an_hour_ago - Duration::minutes(1)).expect("expiry"),
            ),
            ..key(own, "expired", &[])
        },
    )
    .await;
    refused(store, &expired).await;

    let revoked = issue(store, &acme.ctx, key(own, "revoked", &[])).await;
    grant(store, &revoked).await;
    store
        .revoke_api_key(&acme.ctx, own, revoked.key.id)
        .await
        .expect("revoke");
    refused(store, &revoked).await;
    grant(store, &expiring).await;

    let listed = store
        .list_api_keys(&acme.ctx, own, PageRequest::default())
        .await
        .expect("list");
    let names: Vec<&str> = listed.items.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["for an hour", "expired", "revoked"]);
    assert!(
        listed.items[1].last_used_at.is_none(),
        "never authenticated"
    );
    assert!(listed.items[2].revoked_at.is_some());
    // A key is revoked through its owner only.
    let ada = user(store, &acme, "ada@acme.test", SystemRole::Admin).await;
    assert_not_found(
        store
            .revoke_api_key(&acme.ctx, KeyOwner::User(ada.id), expiring.key.id)
            .await,
        "api_key",
    );
}

/// A deactivated user's keys stop at once, and work again when the user is back.
pub async fn a_deactivated_users_keys_stop_at_once<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let service = user(store, &acme, "ci@acme.test", SystemRole::Developer).await;
    let as_service = Ctx::new(acme.org.id, orchestore_repo::Actor::User(service.id));
    let issued = issue(
        store,
        &as_service,
        key(KeyOwner::User(service.id), "ci", &[]),
    )
    .await;
    grant(store, &issued).await;

    store
        .set_user_active(&acme.ctx, service.id, false)
        .await
        .expect("deactivate");
    refused(store, &issued).await;
    store
        .set_user_active(&acme.ctx, service.id, true)
        .await
        .expect("reactivate");
    grant(store, &issued).await;
}

/// Another organization sees neither a user's keys nor the user, and a key presented with
/// another organization's id is unknown.
pub async fn keys_of_another_organization_are_invisible<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let own = KeyOwner::User(acme.owner.id);
    let issued = issue(store, &acme.ctx, key(own, "acme's", &[])).await;

    assert_not_found(
        store
            .list_api_keys(&beta.ctx, own, PageRequest::default())
            .await,
        "user",
    );
    assert_not_found(
        store.revoke_api_key(&beta.ctx, own, issued.key.id).await,
        "api_key",
    );
    assert_reference(
        store
            .create_api_key(&beta.ctx, key(own, "theirs", &[]))
            .await,
        "user_id",
    );
    let beta_keys = store
        .list_api_keys(
            &beta.ctx,
            KeyOwner::User(beta.owner.id),
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert!(beta_keys.items.is_empty());
    // The same id under beta's organization is no key.
    let moved = ApiKeySecret::new(beta.org.id, issued.key.id, [1; 32]);
    assert!(matches!(
        store.authenticate_api_key(&moved).await,
        Err(RepoError::NotFound { .. })
    ));
    let granted = grant(store, &issued).await;
    assert_eq!(granted.organization_id, acme.org.id);
}

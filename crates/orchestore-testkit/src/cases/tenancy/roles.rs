//! Roles: assigned and removed, custom roles per organization, system roles fixed.

use orchestore_domain::{Description, NewUser, Permission, Role, RolePatch, SystemRole};
use orchestore_repo::{Limit, PageRequest, RoleSort, Store};

use super::{audit, code, conflict_reason, new_role};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_conflict, assert_not_found, assert_reference, new_user};

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
            .update_role(&beta.ctx, created.id, RolePatch::default(), None)
            .await,
        "role",
    );
    assert_not_found(store.delete_role(&beta.ctx, created.id, None).await, "role");
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
            None,
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
    let reason = conflict_reason(
        store
            .update_role(&acme.ctx, developer.id, patch, None)
            .await,
    );
    assert!(reason.contains("system role"), "{reason}");
    let reason = conflict_reason(
        store
            .update_role(&acme.ctx, developer.id, RolePatch::default(), None)
            .await,
    );
    assert!(reason.contains("system role"), "{reason}");
    assert_conflict(store.delete_role(&acme.ctx, developer.id, None).await, None);
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

    let reason = conflict_reason(store.delete_role(&acme.ctx, role.id, None).await);
    assert!(reason.contains("held by 2 users"), "{reason}");
    store
        .remove_role(&acme.ctx, holders[0].id, role.id)
        .await
        .expect("remove");
    let reason = conflict_reason(store.delete_role(&acme.ctx, role.id, None).await);
    assert!(reason.contains("held by 1 user:"), "{reason}");
    assert_eq!(store.get_role(&acme.ctx, role.id).await.expect("get"), role);

    store
        .remove_role(&acme.ctx, holders[1].id, role.id)
        .await
        .expect("remove");
    store
        .delete_role(&acme.ctx, role.id, None)
        .await
        .expect("delete");
    assert_not_found(store.get_role(&acme.ctx, role.id).await, "role");
    assert_not_found(store.delete_role(&acme.ctx, role.id, None).await, "role");
    let row = &audit(store, &acme.ctx).await[0];
    assert_eq!(row.action, "role.delete");
    assert_eq!(row.changes["code"], "auditor");
    // The code is free again.
    store
        .create_role(&acme.ctx, new_role("auditor", &[]))
        .await
        .expect("the code again");
}

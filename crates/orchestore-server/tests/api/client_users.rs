//! Users, roles, API keys and invitations through the typed client.

use futures_util::TryStreamExt;
use orchestore_client::Credential;
use orchestore_client::api::api_keys::CreateApiKeyBody;
use orchestore_client::api::invitations::{AcceptBody, CreateInvitationBody};
use orchestore_client::api::roles::{CreateRoleBody, ListRolesQuery, PatchRoleBody};
use orchestore_client::api::users::{
    AssignRoleBody, CreateUserBody, ListUsersQuery, LookupUserQuery, PatchUserBody,
};
use orchestore_client::api::{PageQuery, PatchField};

use crate::helpers::*;

pub async fn users_and_their_roles_are_managed_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let bad = client
        .create_user(&CreateUserBody {
            email: "not an address".into(),
            display_name: "Ada".into(),
            password: USER_PASSWORD.into(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(bad.status(), Some(422));
    let fields: Vec<_> = bad
        .problem()
        .map(|p| p.errors.iter().map(|e| e.field.clone()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["email"]);

    let ada = client
        .create_user(&CreateUserBody {
            email: "ada@example.test".into(),
            display_name: "Ada".into(),
            username: Some("ada".into()),
            password: USER_PASSWORD.into(),
            roles: Some(vec!["developer".into()]),
        })
        .await
        .expect("created");
    assert_eq!(client.get_user(ada.id).await.expect("read"), ada);
    let found = client
        .lookup_user(&LookupUserQuery {
            username: Some("ada".into()),
            ..Default::default()
        })
        .await
        .expect("found");
    assert_eq!(found.id, ada.id);

    let everyone: Vec<_> = client
        .list_users_stream(&ListUsersQuery {
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(everyone.len(), 2, "the admin and Ada");
    let developers = client
        .list_users(&ListUsersQuery {
            role: Some("developer".into()),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(developers.items, std::slice::from_ref(&ada));

    let renamed = client
        .update_user(
            ada.id,
            &PatchUserBody {
                display_name: PatchField::Value("Ada L.".into()),
                ..Default::default()
            },
            Some(ada.revision),
        )
        .await
        .expect("renamed");
    assert_eq!(renamed.display_name.as_str(), "Ada L.");
    let stale = client
        .update_user(
            ada.id,
            &PatchUserBody {
                username: PatchField::Null,
                ..Default::default()
            },
            Some(ada.revision),
        )
        .await
        .expect_err("stale");
    assert_eq!(stale.status(), Some(412));

    let roles = client
        .assign_role(
            ada.id,
            &AssignRoleBody {
                role: Some("viewer".into()),
                ..Default::default()
            },
        )
        .await
        .expect("granted");
    let codes: Vec<_> = roles.items.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["developer", "viewer"]);
    let viewer = roles.items[1].id;
    client.remove_role(ada.id, viewer).await.expect("taken");
    let roles = client.list_user_roles(ada.id).await.expect("roles");
    let codes: Vec<_> = roles.items.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["developer"]);
}

pub async fn roles_are_managed_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let bad = client
        .create_role(&CreateRoleBody {
            code: "reviewer".into(),
            permissions: Some(vec!["tasks:fly".into()]),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(bad.status(), Some(422));

    let role = client
        .create_role(&CreateRoleBody {
            code: "reviewer".into(),
            description: Some("Reads tasks".into()),
            permissions: Some(vec!["tasks:read".into()]),
        })
        .await
        .expect("created");
    assert!(!role.is_system);
    assert_eq!(client.get_role(role.id).await.expect("read"), role);
    let every: Vec<_> = client
        .list_roles_stream(&ListRolesQuery {
            limit: Some(2),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert!(every.iter().any(|r| r.id == role.id));
    assert!(every.iter().any(|r| r.is_system));

    let changed = client
        .update_role(
            role.id,
            &PatchRoleBody {
                description: PatchField::Value("Reads and writes tasks".into()),
                permissions: PatchField::Value(vec!["tasks:read".into(), "tasks:write".into()]),
            },
            Some(role.revision),
        )
        .await
        .expect("changed");
    assert_eq!(changed.permissions.len(), 2);
    let stale = client
        .delete_role(role.id, Some(role.revision))
        .await
        .expect_err("stale");
    assert_eq!(stale.status(), Some(412));
    client
        .delete_role(role.id, Some(changed.revision))
        .await
        .expect("deleted");
    let gone = client.get_role(role.id).await.expect_err("gone");
    assert_eq!(gone.status(), Some(404));
}

pub async fn api_keys_are_created_listed_and_revoked_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let admin = client.get_me().await.expect("the admin").user;
    let issued = client
        .create_api_key(&CreateApiKeyBody {
            name: "ci".into(),
            scopes: Some(vec!["tasks:read".into()]),
            ..Default::default()
        })
        .await
        .expect("created");
    let keyed = app.client(Credential::ApiKey(issued.secret.expose().to_owned()));
    let me = keyed.get_me().await.expect("the key acts as the admin");
    assert_eq!(me.user.id, admin.id);
    let refused = keyed
        .create_api_key(&CreateApiKeyBody {
            name: "wider".into(),
            ..Default::default()
        })
        .await
        .expect_err("a key must name its key's scopes");
    assert_eq!(refused.status(), Some(422));

    let mine: Vec<_> = keyed
        .list_api_keys_stream(&PageQuery::default())
        .try_collect()
        .await
        .expect("the admin's keys");
    assert_eq!(mine.len(), 1);
    assert!(mine[0].current);
    let other = client
        .create_api_key(&CreateApiKeyBody {
            name: "laptop".into(),
            ..Default::default()
        })
        .await
        .expect("created");
    let page = client
        .list_api_keys(&PageQuery::default())
        .await
        .expect("a page");
    assert_eq!(page.items.len(), 2);
    assert!(
        page.items.iter().all(|k| !k.current),
        "a token presents no key"
    );
    client.revoke_api_key(other.key.id).await.expect("revoked");

    let theirs = client
        .list_user_api_keys(admin.id, &PageQuery::default())
        .await
        .expect("the admin's keys");
    assert_eq!(theirs.items.len(), 2);
    let streamed: Vec<_> = client
        .list_user_api_keys_stream(
            admin.id,
            &PageQuery {
                limit: Some(1),
                ..Default::default()
            },
        )
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(streamed, theirs.items);
    client
        .revoke_user_api_key(admin.id, issued.key.id)
        .await
        .expect("revoked");
    let stopped = keyed.get_me().await.expect_err("the key is revoked");
    assert_eq!(stopped.status(), Some(401));
}

pub async fn an_invitation_is_issued_accepted_and_revoked_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let issued = client
        .create_invitation(&CreateInvitationBody {
            email: "grace@example.test".into(),
            roles: Some(vec!["developer".into()]),
        })
        .await
        .expect("invited");
    let pending: Vec<_> = client
        .list_invitations_stream(&PageQuery::default())
        .try_collect()
        .await
        .expect("pending");
    assert_eq!(pending, std::slice::from_ref(&issued.invitation));
    assert_eq!(
        client
            .get_invitation(issued.invitation.id)
            .await
            .expect("read"),
        issued.invitation
    );

    let anonymous = app.client(Credential::Anonymous);
    let accept = AcceptBody {
        token: issued.token.expose().to_owned(),
        display_name: "Grace".into(),
        password: "a password of her own".into(),
        username: None,
    };
    let tokens = anonymous
        .accept_invitation(&accept)
        .await
        .expect("accepted");
    let grace = anonymous.with_credential(Credential::Bearer(tokens.access_token));
    let me = grace.get_me().await.expect("the new user");
    assert_eq!(me.user.email.as_str(), "grace@example.test");
    let again = anonymous
        .accept_invitation(&accept)
        .await
        .expect_err("used once");
    assert_eq!(again.status(), Some(404));

    let second = client
        .create_invitation(&CreateInvitationBody {
            email: "alan@example.test".into(),
            ..Default::default()
        })
        .await
        .expect("invited");
    client
        .revoke_invitation(second.invitation.id)
        .await
        .expect("revoked");
    let revoked = client
        .get_invitation(second.invitation.id)
        .await
        .expect("read");
    assert!(revoked.revoked_at.is_some());
    let page = client
        .list_invitations(&PageQuery::default())
        .await
        .expect("a page");
    assert!(page.items.is_empty(), "none is pending");
}

//! Logging in, the caller, sessions and sign-up through the typed client.

use std::sync::Arc;

use futures_util::TryStreamExt;

use orchestore_client::api::PageQuery;
use orchestore_client::api::auth::{LoginBody, RefreshBody};
use orchestore_client::api::me::ChangePasswordBody;
use orchestore_client::api::sessions::RevokeAllQuery;
use orchestore_client::api::signup::SignupBody;
use orchestore_client::{Client, Credential, Error};

use crate::helpers::*;

fn login_body(email: &str, password: &str) -> LoginBody {
    LoginBody {
        organization: ORGANIZATION.into(),
        email: email.into(),
        password: password.into(),
    }
}

pub async fn a_session_is_opened_refreshed_and_ended_through_the_client(app: &TestApp) {
    let anonymous = app.client(Credential::Anonymous);
    let refused = anonymous
        .login(&login_body(ADMIN_EMAIL, "not the password"))
        .await
        .expect_err("a wrong password");
    assert_eq!(refused.status(), Some(401));
    assert!(refused.problem().is_some(), "{refused:?}");

    let tokens = anonymous
        .login(&login_body(ADMIN_EMAIL, ADMIN_PASSWORD))
        .await
        .expect("logged in");
    assert_eq!(tokens.token_type, "Bearer");
    assert!(tokens.expires_in > 0);
    let client = anonymous.with_credential(Credential::Bearer(tokens.access_token));
    let me = client.get_me().await.expect("the caller");
    assert_eq!(me.user.email.as_str(), ADMIN_EMAIL);
    assert!(!me.permissions.is_empty());

    let renewed = anonymous
        .refresh(&RefreshBody {
            refresh_token: tokens.refresh_token,
        })
        .await
        .expect("refreshed");
    let client = anonymous.with_credential(Credential::Bearer(renewed.access_token));
    let sessions = client
        .list_sessions(&PageQuery::default())
        .await
        .expect("sessions");
    assert_eq!(sessions.items.len(), 1);
    assert!(sessions.items[0].current);

    client.logout().await.expect("logged out");
    let ended = client.get_me().await.expect_err("the session is revoked");
    assert_eq!(ended.status(), Some(401));
    let spent = anonymous
        .refresh(&RefreshBody {
            refresh_token: renewed.refresh_token,
        })
        .await
        .expect_err("the session is revoked");
    assert_eq!(spent.status(), Some(401));
}

pub async fn sessions_and_the_password_are_managed_through_the_client(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "ada@example.test", &["developer"])
        .await;
    let anonymous = app.client(Credential::Anonymous);
    let mut clients = Vec::new();
    for _ in 0..3 {
        let tokens = anonymous
            .login(&login_body("ada@example.test", USER_PASSWORD))
            .await
            .expect("logged in");
        clients.push(anonymous.with_credential(Credential::Bearer(tokens.access_token)));
    }
    let ada = &clients[0];
    let sessions = ada
        .list_sessions(&PageQuery::default())
        .await
        .expect("sessions")
        .items;
    assert_eq!(sessions.len(), 3);
    let by_one: Vec<_> = ada
        .list_sessions_stream(&PageQuery {
            limit: Some(1),
            ..PageQuery::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(by_one, sessions, "three pages of one, in the same order");
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    let other = sessions
        .iter()
        .find(|s| !s.current)
        .expect("another session");
    ada.revoke_session(other.session.id).await.expect("revoked");
    let again = ada
        .revoke_session(other.session.id)
        .await
        .expect_err("revoked already");
    assert_eq!(again.status(), Some(404));
    let revoked = ada
        .revoke_sessions(&RevokeAllQuery {
            except_current: true,
        })
        .await
        .expect("the others revoked");
    assert_eq!(revoked.revoked, 1);
    assert_eq!(
        ada.list_sessions(&PageQuery::default())
            .await
            .expect("sessions")
            .items
            .len(),
        1
    );

    let wrong = ada
        .change_password(&ChangePasswordBody {
            current_password: "not the password".into(),
            new_password: "a brand new passphrase".into(),
        })
        .await
        .expect_err("the current password is wrong");
    assert_eq!(wrong.status(), Some(422));
    let Error::Problem(problem) = &wrong else {
        panic!("a problem document, not {wrong:?}");
    };
    assert!(!problem.errors.is_empty());
    ada.change_password(&ChangePasswordBody {
        current_password: USER_PASSWORD.into(),
        new_password: "a brand new passphrase".into(),
    })
    .await
    .expect("changed");
    anonymous
        .login(&login_body("ada@example.test", "a brand new passphrase"))
        .await
        .expect("the new password logs in");
}

pub async fn an_organization_signs_up_through_the_client(app: &TestApp) {
    let body = SignupBody {
        organization: "acme".into(),
        email: "owner@acme.test".into(),
        password: "our very own organization".into(),
        ..Default::default()
    };
    let closed = app
        .client(Credential::Anonymous)
        .sign_up(&body)
        .await
        .expect_err("sign-up is closed by default");
    assert_eq!(closed.status(), Some(403));

    let mut settings = test_settings();
    settings.auth.open_signup = true;
    let open = serve(Arc::clone(&app.store), settings).await;
    let anonymous = Client::new(&open, Credential::Anonymous).expect("a base URL");
    let tokens = anonymous.sign_up(&body).await.expect("signed up");
    let owner = anonymous.with_credential(Credential::Bearer(tokens.access_token));
    let me = owner.get_me().await.expect("the owner");
    assert_eq!(me.user.email.as_str(), "owner@acme.test");
    assert_eq!(me.user.display_name.as_str(), "Owner");

    let taken = anonymous
        .sign_up(&body)
        .await
        .expect_err("the slug is taken");
    assert_eq!(taken.status(), Some(409));
    let fields: Vec<_> = taken
        .problem()
        .map(|p| p.errors.iter().map(|e| e.field.clone()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["organization"]);
}

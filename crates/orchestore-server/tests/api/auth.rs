//! Login, tokens, refresh and logout, permissions.

use std::sync::Arc;

use orchestore_domain::{Email, Name, NewUser, OrganizationId, Password, PasswordHash, SystemRole};
use orchestore_repo::Ctx;
use orchestore_testkit::TEST_BCRYPT_COST;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

pub async fn login_issues_tokens_and_refuses_bad_credentials_alike(app: &TestApp) {
    let ok = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["token_type"], "Bearer");
    assert_eq!(ok.body["expires_in"], 900);
    assert_eq!(ok.header("cache-control"), "no-store");
    let access = ok.body["access_token"].as_str().expect("access token");
    assert_eq!(access.split('.').count(), 3, "a JWT");
    assert!(
        ok.body["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 43)
    );

    // The email is matched case-insensitively.
    let upper = app.login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD).await;
    assert_eq!(upper.status, StatusCode::OK);

    let wrong_password = app.login(ADMIN_EMAIL, "not the password").await;
    let unknown_email = app.login("nobody@example.test", ADMIN_PASSWORD).await;
    let malformed_email = app.login("not an email", ADMIN_PASSWORD).await;
    // An e-mail address is unique within an organization: the login names it.
    let unknown_organization = app.login_to("nowhere", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let malformed_organization = app
        .login_to("Not A Slug!", ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    wrong_password.assert_problem(StatusCode::UNAUTHORIZED);
    for refused in [
        &unknown_email,
        &malformed_email,
        &unknown_organization,
        &malformed_organization,
    ] {
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong_password.body, refused.body);
    }
    let missing_organization = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })),
        )
        .await;
    missing_organization.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(unknown_email.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong_password
            .header("www-authenticate")
            .starts_with("Bearer")
    );
}

pub async fn routes_need_a_valid_bearer_token(app: &TestApp) {
    let none = app.send(Method::GET, "/api/v1/projects", None, None).await;
    assert_eq!(none.assert_problem(StatusCode::UNAUTHORIZED), None);
    assert!(none.header("www-authenticate").starts_with("Bearer"));

    let garbage = app.get("not-a-jwt", "/api/v1/projects").await;
    garbage.assert_problem(StatusCode::UNAUTHORIZED);
    assert!(garbage.header("www-authenticate").contains("invalid_token"));

    let token = app.admin_token().await;
    let forged = format!("{token}x");
    app.get(&forged, "/api/v1/projects")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);

    let me = app.get(&token, "/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["user"]["email"], ADMIN_EMAIL);
    assert!(me.body["user"].get("password_hash").is_none());
    let permissions: Vec<&str> = me.body["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(permissions.contains(&"tasks:write") && permissions.contains(&"projects:write"));

    let org = app.get(&token, "/api/v1/organization").await;
    assert_eq!(org.status, StatusCode::OK);
    assert_eq!(org.body["slug"], "default");
    assert_eq!(org.body["id"], me.body["user"]["organization_id"]);
}

pub async fn missing_permission_is_forbidden(app: &TestApp) {
    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "Watched").await;
    app.create_task(&admin, &project, "visible").await;
    let org = app.get(&admin, "/api/v1/organization").await;
    let org_id: OrganizationId = org.body["id"]
        .as_str()
        .expect("org id")
        .parse()
        .expect("a uuid");

    let password = Password::parse("viewer-password").expect("password");
    app.store
        .create_user(
            &Ctx::system(org_id),
            NewUser {
                email: Email::parse("viewer@example.test").expect("email"),
                username: None,
                display_name: Name::parse("display_name", "Viewer").expect("name"),
                password_hash: PasswordHash::hash(&password, TEST_BCRYPT_COST).expect("hash"),
                roles: vec![SystemRole::Viewer.into()],
            },
        )
        .await
        .expect("create viewer");
    let viewer = app.token("viewer@example.test", "viewer-password").await;

    assert_eq!(
        app.task_ids(&viewer, "").await.len(),
        1,
        "viewers read tasks"
    );
    let write = app
        .post(
            &viewer,
            "/api/v1/tasks",
            json!({ "project_id": project["id"], "title": "no" }),
        )
        .await;
    write.assert_problem(StatusCode::FORBIDDEN);
    assert!(
        write.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("tasks:write"))
    );
    app.post(&viewer, "/api/v1/projects", json!({ "name": "no" }))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    assert_eq!(
        app.task_ids(&admin, "").await.len(),
        1,
        "nothing was written"
    );
}

pub async fn replicas_share_the_generated_jwt_key(app: &TestApp) {
    let token = app.admin_token().await;
    // A second server on the same database, told a different admin: it must not bootstrap
    // again, and it must accept the first one's tokens.
    let mut settings = test_settings();
    settings.bootstrap.admin_email = Some("second@example.test".to_owned());
    let second = serve(Arc::clone(&app.store), settings).await;
    let me = app
        .http
        .get(format!("{second}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    let me = Reply::from(me).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["user"]["email"], ADMIN_EMAIL);
    let login = json!({ "organization": ORGANIZATION, "email": "second@example.test", "password": ADMIN_PASSWORD });
    let second_admin = app
        .http
        .post(format!("{second}/api/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .expect("sent");
    Reply::from(second_admin)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

pub async fn failed_logins_are_limited_per_account_and_address(app: &TestApp) {
    let mut settings = test_settings();
    settings.auth.login_failures_per_account = 3;
    settings.auth.login_failures_per_address = 8;
    let limited = serve(Arc::clone(&app.store), settings).await;
    let login = async |email: &str, password: &str| {
        let body = json!({ "organization": ORGANIZATION, "email": email, "password": password });
        let sent = app
            .http
            .post(format!("{limited}/api/v1/auth/login"))
            .json(&body)
            .send()
            .await
            .expect("sent");
        Reply::from(sent).await
    };

    // A success takes its attempt back: it never counts.
    for _ in 0..5 {
        assert_eq!(
            login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status,
            StatusCode::OK
        );
    }
    for _ in 0..3 {
        login(ADMIN_EMAIL, "wrong password")
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused, before any password check.
    let refused = login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    refused.assert_problem(StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused
        .header("retry-after")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // The account as written otherwise is the same account; an unknown one counts alike.
    login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD)
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS);
    for _ in 0..3 {
        login("nobody@example.test", "wrong password")
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
    }
    login("nobody@example.test", "wrong password")
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS);
    // The address has failed 6 times (and been refused, which does not count): two more
    // failures on a third account, then the address itself is refused.
    for _ in 0..2 {
        login("third@example.test", "wrong password")
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
    }
    login("fourth@example.test", "wrong password")
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS);
    // The other server counts its own: the account is not refused there.
    assert_eq!(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status,
        StatusCode::OK
    );
}

//! `POST /api/v1/organizations/signup`: closed by default; open, it creates an organization
//! and its owner and logs the owner in.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const SIGNUP: &str = "/api/v1/organizations/signup";
const OWNER_PASSWORD: &str = "our very own organization";

fn signup_body(organization: &str, email: &str) -> Value {
    json!({ "organization": organization, "email": email, "password": OWNER_PASSWORD })
}

/// A server over the same database with sign-up open and the per-address limit given.
async fn open_server(app: &TestApp, signups_per_address: u32) -> String {
    let mut settings = test_settings();
    settings.auth.open_signup = true;
    settings.auth.signups_per_address = signups_per_address;
    serve(Arc::clone(&app.store), settings).await
}

async fn post(app: &TestApp, base: &str, path: &str, body: Value) -> Reply {
    let sent = app
        .http
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .expect("sent");
    Reply::from(sent).await
}

pub async fn sign_up_is_closed_by_default(app: &TestApp) {
    let users = app.store.count_users().await.expect("count");
    let closed = app
        .send(
            reqwest::Method::POST,
            SIGNUP,
            None,
            Some(signup_body("acme", "ada@acme.test")),
        )
        .await;
    closed.assert_problem(StatusCode::FORBIDDEN);
    assert_eq!(closed.body["detail"], "sign-up is closed on this server");
    // Whatever the body: a closed server reads none.
    app.send(reqwest::Method::POST, SIGNUP, None, Some(json!({ "x": 1 })))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    assert_eq!(app.store.count_users().await.expect("count"), users);
    app.login_to("acme", "ada@acme.test", OWNER_PASSWORD)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

pub async fn sign_up_creates_an_organization_and_logs_its_owner_in(app: &TestApp) {
    let open = open_server(app, 5).await;
    let body = json!({
        "organization": "acme",
        "organization_name": "Acme Inc.",
        "email": "Ada@Acme.test",
        "password": OWNER_PASSWORD,
        "display_name": "Ada Lovelace",
    });
    let signed_up = post(app, &open, SIGNUP, body).await;
    assert_eq!(signed_up.status, StatusCode::CREATED, "{}", signed_up.body);
    assert_eq!(signed_up.header("location"), "/api/v1/organization");
    assert_eq!(signed_up.header("cache-control"), "no-store");
    assert_eq!(signed_up.body["token_type"], "Bearer");
    assert!(signed_up.body["expires_in"].as_u64().is_some_and(|s| s > 0));
    assert!(signed_up.body["refresh_token"].is_string());
    let token = signed_up.body["access_token"].as_str().expect("a token");

    let organization = app.get(token, "/api/v1/organization").await;
    assert_eq!(organization.status, StatusCode::OK, "{}", organization.body);
    assert_eq!(organization.body["slug"], "acme");
    assert_eq!(organization.body["name"], "Acme Inc.");
    let me = app.get(token, "/api/v1/me").await;
    assert_eq!(me.body["user"]["email"], "ada@acme.test");
    assert_eq!(me.body["user"]["display_name"], "Ada Lovelace");
    let permissions = me.body["permissions"].as_array().expect("permissions");
    for owner_only in ["organizations:write", "roles:write", "users:write"] {
        assert!(permissions.contains(&json!(owner_only)), "{owner_only}");
    }
    // The organization is the owner's alone: the bootstrapped one's users are not there.
    let users = app.get(token, "/api/v1/users").await;
    assert_eq!(users.body["items"].as_array().map(Vec::len), Some(1));

    // The same three values log in, and the refresh token works.
    let login = app.login_to("acme", "ada@acme.test", OWNER_PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let refreshed = app
        .send(
            reqwest::Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": signed_up.body["refresh_token"] })),
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);

    // Without the optional names: the organization is named by its slug, the owner `Owner`.
    let plain = post(app, &open, SIGNUP, signup_body("beta", "bob@beta.test")).await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.body);
    let token = plain.body["access_token"].as_str().expect("a token");
    assert_eq!(
        app.get(token, "/api/v1/organization").await.body["name"],
        "beta"
    );
    assert_eq!(
        app.get(token, "/api/v1/me").await.body["user"]["display_name"],
        "Owner"
    );
}

pub async fn sign_up_input_is_checked(app: &TestApp) {
    let open = open_server(app, 100).await;
    let users = app.store.count_users().await.expect("count");

    // The bootstrapped organization's slug is taken.
    let taken = post(
        app,
        &open,
        SIGNUP,
        signup_body(ORGANIZATION, "ada@acme.test"),
    )
    .await;
    assert_eq!(
        taken.assert_problem(StatusCode::CONFLICT),
        Some("organization")
    );
    for (body, field) in [
        (
            json!({ "organization": "acme", "email": "ada@acme.test", "password": "password123" }),
            "password",
        ),
        (
            json!({ "organization": "acme", "email": "ada@acme.test", "password": "ADA@acme.test" }),
            "password",
        ),
        (
            json!({ "organization": "acme", "email": "ada@acme.test", "password": "short" }),
            "password",
        ),
        (signup_body("Not A Slug!", "ada@acme.test"), "organization"),
        (signup_body("acme", "not an address"), "email"),
        (
            json!({
                "organization": "acme", "email": "ada@acme.test", "password": OWNER_PASSWORD,
                "display_name": " ",
            }),
            "display_name",
        ),
    ] {
        let refused = post(app, &open, SIGNUP, body.clone()).await;
        assert_eq!(
            refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some(field),
            "{body}"
        );
    }
    // Every bad field at once.
    let all = post(
        app,
        &open,
        SIGNUP,
        json!({ "organization": "-", "email": "nope", "password": "x" }),
    )
    .await;
    all.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&all.body),
        ["email", "organization", "password"]
    );
    for body in [
        json!({ "organization": "acme", "email": "ada@acme.test" }),
        json!({ "organization": "acme", "email": "ada@acme.test", "password": OWNER_PASSWORD, "plan": "pro" }),
    ] {
        post(app, &open, SIGNUP, body)
            .await
            .assert_problem(StatusCode::BAD_REQUEST);
    }
    assert_eq!(app.store.count_users().await.expect("count"), users);
    app.login_to("acme", "ada@acme.test", OWNER_PASSWORD)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

pub async fn sign_ups_are_limited_per_address(app: &TestApp) {
    let open = open_server(app, 2).await;
    // Refused input does not count: it costs no password hash.
    for _ in 0..3 {
        post(app, &open, SIGNUP, signup_body("acme", "not an address"))
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let first = post(app, &open, SIGNUP, signup_body("first", "ada@first.test")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    // A taken slug counts: it was hashed before the store refused it.
    post(app, &open, SIGNUP, signup_body("first", "bob@first.test"))
        .await
        .assert_problem(StatusCode::CONFLICT);
    let refused = post(app, &open, SIGNUP, signup_body("third", "ada@third.test")).await;
    refused.assert_problem(StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused
        .header("retry-after")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    app.login_to("third", "ada@third.test", OWNER_PASSWORD)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

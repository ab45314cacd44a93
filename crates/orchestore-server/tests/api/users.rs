//! `/api/v1/users` and `/api/v1/users/{id}/roles`.

use orchestore_testkit::Fixture;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn codes(roles: &Value) -> Vec<String> {
    roles
        .as_array()
        .expect("an array of roles")
        .iter()
        .map(|role| role["code"].as_str().expect("a code").to_owned())
        .collect()
}

fn emails(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|user| user["email"].as_str().expect("email").to_owned())
        .collect()
}

pub async fn user_lifecycle(app: &TestApp) {
    let admin = app.admin_token().await;
    let created = app
        .post(
            &admin,
            "/api/v1/users",
            json!({
                "email": "Ada@Example.test",
                "display_name": "Ada",
                "username": "Ada.L",
                "password": USER_PASSWORD,
                "roles": ["developer"],
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/users/{id}");
    assert_eq!(created.header("location"), path);
    assert_eq!(created.body["email"], "ada@example.test");
    assert_eq!(created.body["username"], "ada.l");
    assert_eq!(created.body["active"], true);
    // The hash never leaves the server.
    assert!(
        !created.body.to_string().contains("password"),
        "{}",
        created.body
    );
    assert_eq!(app.get(&admin, &path).await.body, created.body);

    // The password was hashed at the configured cost: the user logs in with it.
    let login = app.login("ada@example.test", USER_PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let refresh_token = login.body["refresh_token"].clone();

    let roles = app.get(&admin, &format!("{path}/roles")).await;
    assert_eq!(roles.status, StatusCode::OK, "{}", roles.body);
    assert_eq!(codes(&roles.body["items"]), ["developer"]);
    let granted = app
        .post(
            &admin,
            &format!("{path}/roles"),
            json!({ "role": "viewer" }),
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(codes(&granted.body["items"]), ["developer", "viewer"]);
    let viewer_id = granted.body["items"][1]["id"].clone();
    let again = app
        .post(
            &admin,
            &format!("{path}/roles"),
            json!({ "role_id": viewer_id }),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(codes(&again.body["items"]), ["developer", "viewer"]);
    let role_path = format!("{path}/roles/{}", viewer_id.as_str().expect("id"));
    assert_eq!(
        app.delete(&admin, &role_path).await.status,
        StatusCode::NO_CONTENT
    );
    app.delete(&admin, &role_path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);

    // Lists: by e-mail, by role (code or id), by activity.
    app.create_user(&admin, "bob@example.test", &["viewer"])
        .await;
    let by_email = app.get(&admin, "/api/v1/users?sort=email&limit=2").await;
    assert_eq!(by_email.status, StatusCode::OK, "{}", by_email.body);
    assert_eq!(emails(&by_email.body), ["ada@example.test", ADMIN_EMAIL]);
    let cursor = by_email.body["next_cursor"].as_str().expect("a next page");
    let rest = app
        .get(
            &admin,
            &format!("/api/v1/users?sort=email&limit=2&cursor={cursor}"),
        )
        .await;
    assert_eq!(emails(&rest.body), ["bob@example.test"]);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let developers = app.get(&admin, "/api/v1/users?role=developer").await;
    assert_eq!(emails(&developers.body), ["ada@example.test"]);
    let developer_id = &created_roles(app, &admin, &path).await[0]["id"];
    let by_id = app
        .get(
            &admin,
            &format!("/api/v1/users?role={}", developer_id.as_str().expect("id")),
        )
        .await;
    assert_eq!(emails(&by_id.body), ["ada@example.test"]);

    // PATCH: fields, then deactivation. A deactivated user cannot log in or refresh (the access
    // tokens already issued work until they expire).
    let patched = app
        .patch(
            &admin,
            &path,
            json!({ "display_name": "Ada Lovelace", "username": null }),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["display_name"], "Ada Lovelace");
    assert_eq!(patched.body["username"], Value::Null);
    let off = app.patch(&admin, &path, json!({ "active": false })).await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["active"], false);
    app.login("ada@example.test", USER_PASSWORD)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    app.send(
        reqwest::Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({ "refresh_token": refresh_token })),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED);
    let inactive = app.get(&admin, "/api/v1/users?active=false").await;
    assert_eq!(emails(&inactive.body), ["ada@example.test"]);
    let on = app.patch(&admin, &path, json!({ "active": true })).await;
    assert_eq!(on.body["active"], true);
    assert_eq!(
        app.login("ada@example.test", USER_PASSWORD).await.status,
        StatusCode::OK
    );
}

async fn created_roles(app: &TestApp, token: &str, user_path: &str) -> Vec<Value> {
    let reply = app.get(token, &format!("{user_path}/roles")).await;
    reply.body["items"].as_array().expect("items").clone()
}

pub async fn user_input_is_checked(app: &TestApp) {
    let admin = app.admin_token().await;
    let bad = app
        .post(
            &admin,
            "/api/v1/users",
            json!({
                "email": "not an address",
                "display_name": " ",
                "username": "no spaces",
                "password": "short",
                "roles": ["Not A Code"],
            }),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&bad.body),
        ["display_name", "email", "password", "roles", "username"]
    );
    let unknown_role = app
        .post(
            &admin,
            "/api/v1/users",
            json!({
                "email": "x@example.test",
                "display_name": "X",
                "password": USER_PASSWORD,
                "roles": ["nobody"],
            }),
        )
        .await;
    assert_eq!(
        unknown_role.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("roles")
    );
    app.post(
        &admin,
        "/api/v1/users",
        json!({ "email": "x@example.test", "display_name": "X", "password": USER_PASSWORD, "is_admin": true }),
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST);

    let ada = app
        .post(
            &admin,
            "/api/v1/users",
            json!({ "email": "ada@example.test", "display_name": "Ada", "username": "ada", "password": USER_PASSWORD }),
        )
        .await;
    assert_eq!(ada.status, StatusCode::CREATED, "{}", ada.body);
    let email_taken = app
        .post(
            &admin,
            "/api/v1/users",
            json!({ "email": "ADA@example.test", "display_name": "Ada", "password": USER_PASSWORD }),
        )
        .await;
    assert_eq!(
        email_taken.assert_problem(StatusCode::CONFLICT),
        Some("email")
    );
    let username_taken = app
        .post(
            &admin,
            "/api/v1/users",
            json!({ "email": "other@example.test", "display_name": "Ada", "username": "ADA", "password": USER_PASSWORD }),
        )
        .await;
    assert_eq!(
        username_taken.assert_problem(StatusCode::CONFLICT),
        Some("username")
    );

    let path = format!("/api/v1/users/{}", ada.body["id"].as_str().expect("id"));
    let null_active = app
        .patch(&admin, &path, json!({ "active": null, "display_name": "" }))
        .await;
    null_active.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&null_active.body), ["active", "display_name"]);
    app.patch(&admin, &path, json!({ "active": "no" }))
        .await
        .assert_problem(StatusCode::BAD_REQUEST);

    let roles = format!("{path}/roles");
    for (body, field) in [
        (
            json!({ "role": "viewer", "role_id": uuid::Uuid::now_v7() }),
            "role",
        ),
        (json!({}), "role"),
        (json!({ "role": "nobody" }), "role"),
        (json!({ "role_id": uuid::Uuid::now_v7() }), "role_id"),
    ] {
        let reply = app.post(&admin, &roles, body.clone()).await;
        assert_eq!(
            reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some(field),
            "{body}"
        );
    }
    app.delete(&admin, &format!("{roles}/not-a-uuid"))
        .await
        .assert_problem(StatusCode::BAD_REQUEST);

    for (query, status) in [
        ("active=maybe", StatusCode::BAD_REQUEST),
        ("role=nobody", StatusCode::UNPROCESSABLE_ENTITY),
        ("role=Not%20A%20Code", StatusCode::UNPROCESSABLE_ENTITY),
        ("sort=-email", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let reply = app.get(&admin, &format!("/api/v1/users?{query}")).await;
        reply.assert_problem(status);
    }
    assert_eq!(
        app.get(&admin, "/api/v1/users?role=nobody").await.body["errors"][0]["field"],
        "role"
    );
}

/// The organization keeps an active owner: the bootstrapped admin is the only one.
pub async fn the_last_owner_stays(app: &TestApp) {
    let admin = app.admin_token().await;
    let me = app.get(&admin, "/api/v1/me").await;
    let path = format!(
        "/api/v1/users/{}",
        me.body["user"]["id"].as_str().expect("id")
    );

    let refused = app
        .patch(
            &admin,
            &path,
            json!({ "display_name": "Renamed", "active": false }),
        )
        .await;
    refused.assert_problem(StatusCode::CONFLICT);
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("last active owner")),
        "{}",
        refused.body
    );
    // One transaction: the new name did not land either.
    assert_eq!(
        app.get(&admin, &path).await.body["display_name"],
        "Administrator"
    );

    let owner_role = app.get(&admin, &format!("{path}/roles")).await.body["items"][0]["id"]
        .as_str()
        .expect("owner role id")
        .to_owned();
    app.delete(&admin, &format!("{path}/roles/{owner_role}"))
        .await
        .assert_problem(StatusCode::CONFLICT);

    // With a second owner, the first may step down.
    app.create_user(&admin, "second@example.test", &["owner"])
        .await;
    assert_eq!(
        app.delete(&admin, &format!("{path}/roles/{owner_role}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

/// Reading users needs `users:read`, creating them `users:write`, and granting roles (at
/// creation too) `roles:write`.
pub async fn user_routes_need_their_permissions(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let developer = app.token("dev@example.test", USER_PASSWORD).await;
    let forbidden = app.get(&developer, "/api/v1/users").await;
    forbidden.assert_problem(StatusCode::FORBIDDEN);
    assert!(
        forbidden.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("users:read"))
    );

    // A custom role that may manage users but not grant roles.
    let role = app
        .post(
            &admin,
            "/api/v1/roles",
            json!({ "code": "people", "permissions": ["users:read", "users:write"] }),
        )
        .await;
    assert_eq!(role.status, StatusCode::CREATED, "{}", role.body);
    app.create_user(&admin, "hr@example.test", &["people"])
        .await;
    let hr = app.token("hr@example.test", USER_PASSWORD).await;
    let body = |roles: Value| json!({ "email": "new@example.test", "display_name": "New", "password": USER_PASSWORD, "roles": roles });
    let escalation = app.post(&hr, "/api/v1/users", body(json!(["owner"]))).await;
    escalation.assert_problem(StatusCode::FORBIDDEN);
    assert!(
        escalation.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("roles:write"))
    );
    let plain = app.post(&hr, "/api/v1/users", body(json!([]))).await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.body);
    let path = format!(
        "/api/v1/users/{}/roles",
        plain.body["id"].as_str().expect("id")
    );
    app.post(&hr, &path, json!({ "role": "owner" }))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    assert_eq!(app.get(&hr, &path).await.body["items"], json!([]));
}

/// `GET /users/lookup` finds one user by e-mail address or by username, ignoring case, in the
/// caller's organization only.
pub async fn users_are_looked_up_by_email_or_username(app: &TestApp) {
    let admin = app.admin_token().await;
    let created = app
        .post(
            &admin,
            "/api/v1/users",
            json!({
                "email": "grace@example.test",
                "display_name": "Grace",
                "username": "grace.h",
                "password": USER_PASSWORD,
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    for query in [
        "email=grace@example.test",
        "email=%20Grace@EXAMPLE.test",
        "username=grace.h",
        "username=Grace.H",
    ] {
        let found = app
            .get(&admin, &format!("/api/v1/users/lookup?{query}"))
            .await;
        assert_eq!(found.status, StatusCode::OK, "{query}: {}", found.body);
        assert_eq!(found.body, created.body, "{query}");
    }
    for query in ["email=nobody@example.test", "username=nobody"] {
        app.get(&admin, &format!("/api/v1/users/lookup?{query}"))
            .await
            .assert_problem(StatusCode::NOT_FOUND);
    }
    for (query, field) in [
        ("email=not-an-address", "email"),
        ("username=no%20spaces", "username"),
        ("email=grace@example.test&username=grace.h", "email"),
        ("", "email"),
    ] {
        let reply = app
            .get(&admin, &format!("/api/v1/users/lookup?{query}"))
            .await;
        assert_eq!(
            reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some(field),
            "{query}"
        );
    }
    app.get(&admin, "/api/v1/users/lookup?name=grace")
        .await
        .assert_problem(StatusCode::BAD_REQUEST);

    // Another organization's lookup finds none of ours.
    Fixture::create(app.store.as_ref(), "other", "another organization password").await;
    let other = app
        .token_in("other", "owner@other.test", "another organization password")
        .await;
    for query in ["email=grace@example.test", "username=grace.h"] {
        app.get(&other, &format!("/api/v1/users/lookup?{query}"))
            .await
            .assert_problem(StatusCode::NOT_FOUND);
    }
}

/// Another organization sees, changes and grants nothing of ours, and learns nothing about our
/// addresses.
pub async fn another_organization_sees_no_users(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = app
        .create_user(&admin, "ada@example.test", &["developer"])
        .await;
    let path = format!("/api/v1/users/{}", ada["id"].as_str().expect("id"));

    Fixture::create(app.store.as_ref(), "other", "another organization password").await;
    let other = app
        .token_in("other", "owner@other.test", "another organization password")
        .await;
    app.get(&other, &path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.patch(&other, &path, json!({ "active": false }))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.get(&other, &format!("{path}/roles"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.post(&other, &format!("{path}/roles"), json!({ "role": "owner" }))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    assert_eq!(
        emails(&app.get(&other, "/api/v1/users").await.body),
        ["owner@other.test"]
    );
    // Our address is free there, like any new one.
    let same = app
        .post(
            &other,
            "/api/v1/users",
            json!({ "email": "ada@example.test", "display_name": "Ada", "password": USER_PASSWORD }),
        )
        .await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.body);

    // Their custom role is no role of ours.
    let theirs = app
        .post(&other, "/api/v1/roles", json!({ "code": "qa" }))
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    let grant = app
        .post(
            &admin,
            &format!("{path}/roles"),
            json!({ "role_id": theirs.body["id"] }),
        )
        .await;
    assert_eq!(
        grant.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("role_id")
    );
    app.get(&admin, "/api/v1/users?role=qa")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get(&admin, &path).await.body, ada, "ours is untouched");
}

//! `/api/v1/roles`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn codes(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|role| role["code"].as_str().expect("code").to_owned())
        .collect()
}

pub async fn role_lifecycle(app: &TestApp) {
    let admin = app.admin_token().await;
    let created = app
        .post(
            &admin,
            "/api/v1/roles",
            json!({
                "code": "release-manager",
                "description": "ships releases",
                "permissions": ["tasks:write", "projects:read", "tasks:write"],
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/roles/{id}");
    assert_eq!(created.header("location"), path);
    assert_eq!(created.body["is_system"], false);
    assert!(created.body["organization_id"].is_string());
    assert_eq!(
        created.body["permissions"],
        json!(["projects:read", "tasks:write"])
    );
    assert_eq!(app.get(&admin, &path).await.body, created.body);

    // The list: the system roles and ours, by code, three at a time.
    let first = app.get(&admin, "/api/v1/roles?limit=3").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(codes(&first.body), ["admin", "agent", "developer"]);
    let cursor = first.body["next_cursor"].as_str().expect("more");
    let rest = app
        .get(&admin, &format!("/api/v1/roles?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(codes(&rest.body), ["owner", "release-manager", "viewer"]);
    let oldest = app.get(&admin, "/api/v1/roles?sort=created_at").await;
    assert_eq!(oldest.body["items"][5]["id"], id.as_str());

    let patched = app
        .patch(&admin, &path, json!({ "permissions": ["projects:write"] }))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["permissions"], json!(["projects:write"]));
    assert_eq!(patched.body["description"], "ships releases");

    // A custom role grants its permissions from the holder's next login.
    let viewer = app
        .create_user(&admin, "viewer@example.test", &["viewer"])
        .await;
    let viewer_token = app.token("viewer@example.test", USER_PASSWORD).await;
    app.post(&viewer_token, "/api/v1/projects", json!({ "name": "No" }))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let user_roles = format!("/api/v1/users/{}/roles", viewer["id"].as_str().expect("id"));
    let granted = app
        .post(&admin, &user_roles, json!({ "role": "release-manager" }))
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    let viewer_token = app.token("viewer@example.test", USER_PASSWORD).await;
    app.create_project(&viewer_token, "Yes").await;

    // Held: not deleted, and the answer says by how many.
    let held = app.delete(&admin, &path).await;
    held.assert_problem(StatusCode::CONFLICT);
    assert!(
        held.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("held by 1 user")),
        "{}",
        held.body
    );
    assert_eq!(
        app.delete(&admin, &format!("{user_roles}/{id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&admin, &path).await.status,
        StatusCode::NO_CONTENT
    );
    app.get(&admin, &path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

pub async fn role_input_is_checked(app: &TestApp) {
    let admin = app.admin_token().await;
    let bad = app
        .post(
            &admin,
            "/api/v1/roles",
            json!({ "code": "Bad Code", "description": "a\u{0}b", "permissions": ["tasks:delete"] }),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&bad.body),
        ["code", "description", "permissions"]
    );
    let system_code = app
        .post(&admin, "/api/v1/roles", json!({ "code": "owner" }))
        .await;
    assert_eq!(
        system_code.assert_problem(StatusCode::CONFLICT),
        Some("code")
    );
    let first = app
        .post(&admin, "/api/v1/roles", json!({ "code": "qa" }))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let taken = app
        .post(&admin, "/api/v1/roles", json!({ "code": "qa" }))
        .await;
    assert_eq!(taken.assert_problem(StatusCode::CONFLICT), Some("code"));
    let qa = format!("/api/v1/roles/{}", first.body["id"].as_str().expect("id"));
    app.patch(&admin, &qa, json!({ "code": "renamed" }))
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    let null = app.patch(&admin, &qa, json!({ "permissions": null })).await;
    assert_eq!(
        null.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("permissions")
    );

    // The system roles are shared: no organization changes or deletes them.
    let roles = app.get(&admin, "/api/v1/roles").await;
    let owner = roles.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|role| role["code"] == "owner")
        .expect("the owner role")
        .clone();
    assert_eq!(owner["is_system"], true);
    assert_eq!(owner["organization_id"], Value::Null);
    let owner_path = format!("/api/v1/roles/{}", owner["id"].as_str().expect("id"));
    let refused = app
        .patch(&admin, &owner_path, json!({ "permissions": [] }))
        .await;
    refused.assert_problem(StatusCode::CONFLICT);
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("system role")),
        "{}",
        refused.body
    );
    app.delete(&admin, &owner_path)
        .await
        .assert_problem(StatusCode::CONFLICT);
    assert_eq!(app.get(&admin, &owner_path).await.body, owner);

    app.get(&admin, "/api/v1/roles?sort=name")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);

    // Viewers read roles but do not write them.
    app.create_user(&admin, "viewer@example.test", &["viewer"])
        .await;
    let viewer = app.token("viewer@example.test", USER_PASSWORD).await;
    assert_eq!(
        app.get(&viewer, "/api/v1/roles").await.status,
        StatusCode::OK
    );
    app.post(&viewer, "/api/v1/roles", json!({ "code": "mine" }))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
}

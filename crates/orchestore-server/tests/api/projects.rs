//! `/api/v1/projects`.

use orchestore_testkit::Fixture;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

pub async fn project_crud(app: &TestApp) {
    let token = app.admin_token().await;
    let created = app
        .post(
            &token,
            "/api/v1/projects",
            json!({
                "name": "  Apollo ",
                "description": "to the moon",
                "repository_url": "https://example.test/apollo.git",
                "tags": ["space", "nasa", "space"],
                "settings": { "lanes": 3 },
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(created.header("location"), format!("/api/v1/projects/{id}"));
    assert_eq!(created.body["name"], "Apollo");
    assert_eq!(created.body["tags"], json!(["nasa", "space"]));
    assert_eq!(created.body["settings"], json!({ "lanes": 3 }));

    let path = format!("/api/v1/projects/{id}");
    let fetched = app.get(&token, &path).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, created.body);

    let listed = app.get(&token, "/api/v1/projects").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(ids(&listed.body["items"]), vec![id.clone()]);
    assert_eq!(listed.body["next_cursor"], Value::Null);

    let patched = app
        .patch(
            &token,
            &path,
            json!({ "name": "Artemis", "repository_url": null }),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["name"], "Artemis");
    assert_eq!(patched.body["repository_url"], Value::Null);
    assert_eq!(patched.body["description"], "to the moon");

    let unchanged = app.patch(&token, &path, json!({})).await;
    assert_eq!(unchanged.status, StatusCode::OK);
    assert_eq!(unchanged.body, patched.body);

    let bad_url = app
        .patch(&token, &path, json!({ "repository_url": "ftp://nope" }))
        .await;
    assert_eq!(
        bad_url.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("repository_url")
    );

    let deleted = app.delete(&token, &path).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&token, &path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.delete(&token, &path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

pub async fn duplicate_project_name_conflicts(app: &TestApp) {
    let token = app.admin_token().await;
    app.create_project(&token, "Gemini").await;
    let again = app
        .post(&token, "/api/v1/projects", json!({ "name": "Gemini" }))
        .await;
    again.assert_problem(StatusCode::CONFLICT);
    let listed = app.get(&token, "/api/v1/projects").await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
}

pub async fn another_organization_is_not_found(app: &TestApp) {
    let admin = app.admin_token().await;
    let ours = app.create_project(&admin, "Ours").await;
    let task = app.create_task(&admin, &ours, "ours").await;

    Fixture::create(app.store.as_ref(), "other", "another organization password").await;
    let other = app
        .token_in("other", "owner@other.test", "another organization password")
        .await;
    let project_path = format!("/api/v1/projects/{}", ours["id"].as_str().expect("id"));
    let task_path = format!("/api/v1/tasks/{}", task["id"].as_str().expect("id"));
    app.get(&other, &project_path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.get(&other, &task_path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.patch(&other, &project_path, json!({ "name": "Theirs" }))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.delete(&other, &task_path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    let foreign_task = app
        .post(
            &other,
            "/api/v1/tasks",
            json!({ "project_id": ours["id"], "title": "sneaky" }),
        )
        .await;
    // Another organization's project is as missing as no project: a 422 naming the field.
    foreign_task.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(foreign_task.body["errors"][0]["field"], "project_id");
    let listed = app.get(&other, "/api/v1/projects").await;
    assert_eq!(listed.body["items"], json!([]));
    assert!(app.task_ids(&other, "").await.is_empty());

    // The same name is free in another organization, and ours is untouched.
    app.create_project(&other, "Ours").await;
    assert_eq!(app.get(&admin, &project_path).await.body, ours);
    assert_eq!(app.task_ids(&admin, "").await.len(), 1);
}

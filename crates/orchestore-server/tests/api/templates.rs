//! `/api/v1/templates`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

pub async fn template_lifecycle(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Apollo").await;
    let created = app
        .post(
            &token,
            "/api/v1/templates",
            json!({
                "name": "Code review",
                "kind": "task",
                "parameters": [{"name": "repo", "required": true}, {"name": "priority", "default": 3}],
                "body": {"tasks": [
                    {"title": "Review {{repo}}", "priority": "{{priority}}"},
                    {"title": "Merge {{repo}}"}
                ]},
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/v1/templates/{id}")
    );
    assert_eq!(created.body["usage_count"], 0);

    let used = app
        .post(
            &token,
            &format!("/api/v1/templates/{id}/instantiate"),
            json!({"project_id": project["id"], "arguments": {"repo": "orchestore", "priority": 8}}),
        )
        .await;
    assert_eq!(used.status, StatusCode::CREATED, "{}", used.body);
    let tasks = used.body["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["title"], "Review orchestore");
    assert_eq!(tasks[0]["priority"], 8);
    assert_eq!(ids(&used.body["tasks"]), app.task_ids(&token, "").await);

    let usages = app
        .get(&token, &format!("/api/v1/templates/{id}/usages"))
        .await;
    assert_eq!(usages.status, StatusCode::OK);
    assert_eq!(
        usages.body["items"][0]["created_entities"],
        json!(ids(&used.body["tasks"]))
    );
    let read = app.get(&token, &format!("/api/v1/templates/{id}")).await;
    assert_eq!(read.body["usage_count"], 1);

    let patched = app
        .patch(
            &token,
            &format!("/api/v1/templates/{id}"),
            json!({"body": {"tasks": [{"title": "Only review {{repo}}"}]}}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        patched.body["body"]["tasks"][0]["title"],
        "Only review {{repo}}"
    );

    let deleted = app.delete(&token, &format!("/api/v1/templates/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&token, &format!("/api/v1/templates/{id}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

pub async fn template_input_is_checked(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Apollo").await;
    // An undeclared placeholder, a bad kind, bad parameters: each named.
    let undeclared = app
        .post(
            &token,
            "/api/v1/templates",
            json!({"name": "t", "kind": "task", "body": {"tasks": [{"title": "Fix {{bug}}"}]}}),
        )
        .await;
    assert_eq!(
        undeclared.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("body")
    );
    let bad = app
        .post(
            &token,
            "/api/v1/templates",
            json!({"name": "", "kind": "recipe", "parameters": [{"name": "Bad Name"}], "body": {}}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, vec!["kind", "name", "parameters"]);

    let created = app
        .post(
            &token,
            "/api/v1/templates",
            json!({"name": "Fix", "kind": "task", "parameters": [{"name": "bug", "required": true}],
                   "body": {"tasks": [{"title": "Fix {{bug}}"}]}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id");
    let missing = app
        .post(
            &token,
            &format!("/api/v1/templates/{id}/instantiate"),
            json!({"project_id": project["id"], "arguments": {}}),
        )
        .await;
    assert_eq!(
        missing.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("arguments")
    );
    assert!(
        app.task_ids(&token, "").await.is_empty(),
        "nothing was created"
    );
    app.get(&token, "/api/v1/templates?kind=recipe")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
}

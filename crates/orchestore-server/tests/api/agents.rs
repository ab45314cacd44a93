//! `/api/v1/agents`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

pub async fn agent_lifecycle(app: &TestApp) {
    let token = app.admin_token().await;
    let body = json!({
        "name": "Reviewer",
        "kind": "ai",
        "capabilities": ["rust", "review"],
        "config": {"temperature": 0.20, "big": 123456789012345678901234567890_u128},
        "model": "claude-opus",
        "provider": "anthropic",
    });
    let created = app.post(&token, "/api/v1/agents", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(created.header("location"), format!("/api/v1/agents/{id}"));
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["capabilities"], json!(["review", "rust"]));
    assert_eq!(created.body["tasks_completed"], 0);
    // JSON numbers come back exactly as sent, on both backends.
    assert_eq!(
        created.body["config"]["big"].to_string(),
        "123456789012345678901234567890"
    );

    let read = app.get(&token, &format!("/api/v1/agents/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, created.body);

    let patched = app
        .patch(
            &token,
            &format!("/api/v1/agents/{id}"),
            json!({"status": "offline", "model": null}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["status"], "offline");
    assert_eq!(patched.body["model"], json!(null));
    assert_eq!(patched.body["provider"], "anthropic");

    let beat = app
        .post(
            &token,
            &format!("/api/v1/agents/{id}/heartbeat"),
            json!(null),
        )
        .await;
    assert_eq!(beat.status, StatusCode::OK, "{}", beat.body);
    assert_eq!(beat.body["status"], "active");
    assert!(beat.body["last_heartbeat_at"].is_string());

    let stats = app.get(&token, &format!("/api/v1/agents/{id}/stats")).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(stats.body["tasks_completed"], 0);
    assert_eq!(stats.body["success_rate"], json!(null));

    let by_capability = app
        .get(
            &token,
            "/api/v1/agents?capabilities=review,rust&status=active",
        )
        .await;
    assert_eq!(ids(&by_capability.body["items"]), vec![id.clone()]);
    let none = app.get(&token, "/api/v1/agents?capabilities=go").await;
    assert!(ids(&none.body["items"]).is_empty());

    let deleted = app.delete(&token, &format!("/api/v1/agents/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&token, &format!("/api/v1/agents/{id}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

pub async fn agent_input_is_checked(app: &TestApp) {
    let token = app.admin_token().await;
    let bad = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "", "kind": "robot", "capabilities": ["Not Valid"], "status": "asleep"}),
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
    assert_eq!(fields, vec!["capabilities", "kind", "name", "status"]);

    let first = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "Planner", "kind": "bot"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let taken = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "PLANNER", "kind": "ai"}),
        )
        .await;
    taken.assert_problem(StatusCode::CONFLICT);
    assert_eq!(taken.body["errors"][0]["field"], "name");

    app.get(&token, "/api/v1/agents?kind=robot")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.get(&token, "/api/v1/agents?sort=-priority")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
}

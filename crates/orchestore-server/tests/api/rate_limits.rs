//! `/api/v1/rate-limits`: buckets as a client manages them, tasks that name them, and claims
//! that take their tokens.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn worker(app: &TestApp, token: &str) -> String {
    let created = app
        .post(
            token,
            "/api/v1/agents",
            json!({"name": "caller", "kind": "ai", "capabilities": []}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_str().expect("id").to_owned()
}

async fn limited_task(app: &TestApp, token: &str, project: &Value, title: &str) -> Value {
    let created = app
        .post(
            token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": title, "priority": 5,
                   "rate_limits": [{"name": "openai:requests", "units": 1}]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body
}

pub async fn rate_limits_are_managed_and_hold_back_claims(app: &TestApp) {
    let admin = app.admin_token().await;
    let created = app
        .post(
            &admin,
            "/api/v1/rate-limits",
            json!({"name": "openai:requests", "capacity": 2, "period_seconds": 3600}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.header("location"),
        "/api/v1/rate-limits/openai:requests"
    );
    assert_eq!(created.body["capacity"], 2);
    assert_eq!(created.body["period_seconds"], 3600);
    assert_eq!(created.body["tokens"], 2);

    let project = app.create_project(&admin, "Calls").await;
    let first = limited_task(app, &admin, &project, "first call").await;
    assert_eq!(
        first["rate_limits"],
        json!([{"name": "openai:requests", "units": 1}])
    );
    let second = limited_task(app, &admin, &project, "second call").await;
    let third = limited_task(app, &admin, &project, "third call").await;
    let plain = app.create_task(&admin, &project, "no limit").await;
    let agent = worker(app, &admin).await;

    // Two tokens: the two oldest calls, then the task that needs none (lower priority).
    let claimed = app
        .post(
            &admin,
            "/api/v1/queue/claim",
            json!({"agent_id": agent, "limit": 10, "lease_seconds": 60}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(
        ids(&claimed.body["items"]),
        ids(&json!([first, second, plain]))
    );
    let bucket = app.get(&admin, "/api/v1/rate-limits/openai:requests").await;
    assert_eq!(bucket.status, StatusCode::OK, "{}", bucket.body);
    assert_eq!(bucket.body["tokens"], 0);

    // The third stays queued, and claiming it by id says why.
    let third_id = third["id"].as_str().expect("id");
    let refused = app
        .post(
            &admin,
            &format!("/api/v1/tasks/{third_id}/claim"),
            json!({"agent_id": agent}),
        )
        .await;
    refused.assert_problem(StatusCode::CONFLICT);
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("openai:requests")),
        "{}",
        refused.body
    );

    // A bigger bucket keeps its empty balance; deleting it lifts the limit.
    let patched = app
        .patch(
            &admin,
            "/api/v1/rate-limits/openai:requests",
            json!({"capacity": 5}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["capacity"], 5);
    assert_eq!(patched.body["tokens"], 0);
    let listed = app.get(&admin, "/api/v1/rate-limits").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    let deleted = app
        .delete(&admin, "/api/v1/rate-limits/openai:requests")
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let claimed = app
        .post(
            &admin,
            "/api/v1/queue/claim",
            json!({"agent_id": agent, "limit": 10, "lease_seconds": 60}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(ids(&claimed.body["items"]), ids(&json!([third])));
    app.get(&admin, "/api/v1/rate-limits/openai:requests")
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

pub async fn bad_rate_limits_are_refused_naming_the_field(app: &TestApp) {
    let admin = app.admin_token().await;
    let bad = app
        .post(
            &admin,
            "/api/v1/rate-limits",
            json!({"name": "not a name", "capacity": 0, "period_seconds": -1}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&bad.body),
        ["capacity", "name", "period_seconds"]
    );
    let good = json!({"name": "search", "capacity": 3, "period_seconds": 60});
    let created = app.post(&admin, "/api/v1/rate-limits", good.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    app.post(&admin, "/api/v1/rate-limits", good)
        .await
        .assert_problem(StatusCode::CONFLICT);
    app.patch(
        &admin,
        "/api/v1/rate-limits/search",
        json!({"capacity": null}),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);

    let project = app.create_project(&admin, "Searches").await;
    let task = |rate_limits: Value| json!({"project_id": project["id"], "title": "search", "rate_limits": rate_limits});
    for (rate_limits, status) in [
        // No such bucket.
        (
            json!([{"name": "missing"}]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // More than the bucket ever holds.
        (
            json!([{"name": "search", "units": 4}]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!([{"name": "search"}, {"name": "search"}]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let refused = app.post(&admin, "/api/v1/tasks", task(rate_limits)).await;
        assert_eq!(
            refused.assert_problem(status),
            Some("rate_limits"),
            "{}",
            refused.body
        );
    }
    let created = app
        .post(&admin, "/api/v1/tasks", task(json!([{"name": "search"}])))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["rate_limits"],
        json!([{"name": "search", "units": 1}])
    );
}

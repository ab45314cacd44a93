//! `/api/v1/components`, their health, and `/api/v1/component-communications`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) async fn create_component(app: &TestApp, token: &str, name: &str) -> String {
    let reply = app
        .post(
            token,
            "/api/v1/components",
            json!({"name": name, "kind": "service"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().expect("id").to_owned()
}

pub async fn components_are_registered_and_changed(app: &TestApp) {
    let token = app.admin_token().await;
    let created = app
        .post(
            &token,
            "/api/v1/components",
            json!({"name": "API", "kind": "api", "version": "1.4.2",
                   "endpoint": "http://10.0.0.7:8080", "metadata": {"region": "eu"}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/v1/components/{id}")
    );
    assert_eq!(created.body["status"], "active");
    let taken = app
        .post(
            &token,
            "/api/v1/components",
            json!({"name": "api", "kind": "api"}),
        )
        .await;
    assert_eq!(taken.assert_problem(StatusCode::CONFLICT), Some("name"));
    let bad = app
        .post(
            &token,
            "/api/v1/components",
            json!({"name": " ", "kind": "a b", "status": "broken", "endpoint": "a b"}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&bad.body),
        ["endpoint", "kind", "name", "status"]
    );

    let patched = app
        .patch(
            &token,
            &format!("/api/v1/components/{id}"),
            json!({"status": "maintenance", "endpoint": null}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["status"], "maintenance");
    assert!(patched.body["endpoint"].is_null());
    create_component(app, &token, "worker").await;
    let listed = app
        .get(&token, "/api/v1/components?status=maintenance")
        .await;
    assert_eq!(ids(&listed.body["items"]), std::slice::from_ref(&id));
    let by_name = app.get(&token, "/api/v1/components?sort=name").await;
    let names: Vec<&str> = by_name.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["API", "worker"]);
    let got = app.get(&token, &format!("/api/v1/components/{id}")).await;
    assert_eq!(got.body, patched.body);
}

pub async fn health_is_reported_and_read_latest_first(app: &TestApp) {
    let token = app.admin_token().await;
    let api = create_component(app, &token, "api").await;
    let quiet = create_component(app, &token, "quiet").await;
    for (status, at) in [
        ("healthy", "2020-01-01T10:00:00Z"),
        ("down", "2020-01-01T10:02:00Z"),
        ("degraded", "2020-01-01T10:01:00Z"),
    ] {
        let reply = app
            .post(
                &token,
                &format!("/api/v1/components/{api}/health"),
                json!({"status": status, "checked_at": at,
                       "resources": {"cpu_percent": 50.0}, "details": {"note": status}}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let history = app
        .get(&token, &format!("/api/v1/components/{api}/health"))
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    let statuses: Vec<&str> = history.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["down", "degraded", "healthy"]);
    assert_eq!(history.body["items"][0]["resources"]["cpu_percent"], 50.0);

    let latest = app.get(&token, "/api/v1/components/health").await;
    assert_eq!(latest.status, StatusCode::OK, "{}", latest.body);
    let items = latest.body["items"].as_array().expect("items");
    assert_eq!(items[0]["component"]["id"], api.as_str());
    assert_eq!(items[0]["latest"]["status"], "down");
    assert_eq!(items[1]["component"]["id"], quiet.as_str());
    assert!(items[1]["latest"].is_null());

    let bad = app
        .post(
            &token,
            &format!("/api/v1/components/{api}/health"),
            json!({"status": "fine", "resources": {"cpu": -1.0}}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["resources", "status"]);
    let unknown = app
        .post(
            &token,
            "/api/v1/components/0190a000-0000-7000-8000-000000000001/health",
            json!({"status": "down"}),
        )
        .await;
    unknown.assert_problem(StatusCode::NOT_FOUND);
}

fn call(from: &str, to: &str, at: &str, outcome: &str) -> Value {
    json!({"from_component_id": from, "to_component_id": to, "kind": "http.post",
           "payload_bytes": 512, "latency_ms": 12.5, "outcome": outcome, "occurred_at": at})
}

pub async fn communications_are_recorded_and_queried(app: &TestApp) {
    let token = &app.admin_token().await;
    let api = create_component(app, token, "api").await;
    let worker = create_component(app, token, "worker").await;
    let db = create_component(app, token, "db").await;
    let one = app
        .post(
            token,
            "/api/v1/component-communications",
            call(&api, &worker, "2020-01-01T10:01:00Z", "success"),
        )
        .await;
    assert_eq!(one.status, StatusCode::CREATED, "{}", one.body);
    assert_eq!(one.body["latency_ms"], 12.5);
    let batch = app
        .post(
            token,
            "/api/v1/component-communications",
            json!({"communications": [
                call(&worker, &db, "2020-01-01T10:02:00Z", "success"),
                call(&api, &db, "2020-01-01T10:03:00Z", "timeout"),
            ]}),
        )
        .await;
    assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.body);
    assert_eq!(batch.body["recorded"], 2);
    let listed = |query: String| async move {
        let reply = app
            .get(token, &format!("/api/v1/component-communications?{query}"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["occurred_at"].as_str().expect("time").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed(format!("component_id={api}")).await,
        ["2020-01-01T10:03:00Z", "2020-01-01T10:01:00Z"]
    );
    assert_eq!(
        listed(format!(
            "component_id={db}&since=2020-01-01T10:02:30Z&until=2020-01-01T11:00:00Z"
        ))
        .await,
        ["2020-01-01T10:03:00Z"]
    );
    assert_eq!(
        listed("outcome=timeout".to_owned()).await,
        ["2020-01-01T10:03:00Z"]
    );
    let refused = app
        .post(
            token,
            "/api/v1/component-communications",
            json!({"communications": [
                call(&api, &db, "2020-01-01T10:05:00Z", "success"),
                call(&api, "0190a000-0000-7000-8000-000000000001", "2020-01-01T10:05:00Z", "lost"),
            ]}),
        )
        .await;
    assert_eq!(
        refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("communications[1].outcome")
    );
    let missing = app
        .post(
            token,
            "/api/v1/component-communications",
            call(
                &api,
                "0190a000-0000-7000-8000-000000000001",
                "2020-01-01T10:05:00Z",
                "success",
            ),
        )
        .await;
    assert_eq!(
        missing.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("to_component_id")
    );
    assert_eq!(listed(String::new()).await.len(), 3);
}

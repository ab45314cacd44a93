//! Requests the API refuses, and how it says so.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

pub async fn malformed_requests_are_problems(app: &TestApp) {
    let token = app.admin_token().await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.http
            .post(app.url("/api/v1/projects"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
    };
    let malformed = Reply::from(
        raw("{\"name\": ", "application/json")
            .send()
            .await
            .expect("sent"),
    )
    .await;
    malformed.assert_problem(StatusCode::BAD_REQUEST);
    let wrong_type = Reply::from(
        raw("{\"name\": \"x\"}", "text/plain")
            .send()
            .await
            .expect("sent"),
    )
    .await;
    wrong_type.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let too_large = app
        .http
        .post(app.url("/api/v1/projects"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .expect("sent");
    Reply::from(too_large)
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE);

    let project = app.create_project(&token, "Shapes").await;
    for (path, body, field) in [
        (
            "/api/v1/projects",
            json!({ "name": "x", "colour": "red" }),
            "colour",
        ),
        ("/api/v1/projects", json!({ "description": "x" }), "name"),
        (
            "/api/v1/tasks",
            json!({ "project_id": project["id"], "title": "t", "priority": "high" }),
            "priority",
        ),
        (
            "/api/v1/tasks",
            json!({ "project_id": "nope", "title": "t" }),
            "project_id",
        ),
    ] {
        let reply = app.post(&token, path, body).await;
        assert_eq!(
            reply.assert_problem(StatusCode::BAD_REQUEST),
            Some(field),
            "{path}"
        );
    }

    let bad_path = app.get(&token, "/api/v1/tasks/not-a-uuid").await;
    assert_eq!(bad_path.assert_problem(StatusCode::BAD_REQUEST), Some("id"));
    let no_route = app.get(&token, "/api/v1/nothing-here").await;
    no_route.assert_problem(StatusCode::NOT_FOUND);
    let wrong_method = app
        .send(Method::PUT, "/api/v1/projects", Some(&token), None)
        .await;
    wrong_method.assert_problem(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.header("allow"), "GET, HEAD, POST");
}

pub async fn invalid_fields_are_all_reported_and_nothing_is_written(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Validation").await;
    for title in [String::new(), "   ".to_owned(), "x".repeat(501)] {
        let reply = app
            .post(
                &token,
                "/api/v1/tasks",
                json!({ "project_id": project["id"], "title": title }),
            )
            .await;
        assert_eq!(
            reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some("title")
        );
    }
    let many = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({
                "project_id": project["id"],
                "title": "",
                "priority": 10_000_000_000_i64,
                "required_capabilities": ["Not A Capability"],
                "metadata": [1, 2],
            }),
        )
        .await;
    many.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = many.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        vec!["title", "priority", "required_capabilities", "metadata"]
    );
    assert!(
        app.task_ids(&token, "").await.is_empty(),
        "no task was written"
    );

    let bad_project = app
        .post(
            &token,
            "/api/v1/projects",
            json!({ "name": "", "tags": [""] }),
        )
        .await;
    bad_project.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_project.body["errors"].as_array().map(Vec::len), Some(2));
    let listed = app.get(&token, "/api/v1/projects").await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
}

pub async fn list_parameters_are_checked(app: &TestApp) {
    let token = app.admin_token().await;
    for (path, status, field) in [
        (
            "/api/v1/tasks?limit=201",
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit",
        ),
        (
            "/api/v1/projects?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit",
        ),
        ("/api/v1/tasks?limit=abc", StatusCode::BAD_REQUEST, "limit"),
        (
            "/api/v1/tasks?cursor=garbage",
            StatusCode::UNPROCESSABLE_ENTITY,
            "cursor",
        ),
        (
            "/api/v1/tasks?sort=title",
            StatusCode::UNPROCESSABLE_ENTITY,
            "sort",
        ),
        (
            "/api/v1/tasks?status=done",
            StatusCode::UNPROCESSABLE_ENTITY,
            "status",
        ),
        (
            "/api/v1/tasks?colour=red",
            StatusCode::BAD_REQUEST,
            "colour",
        ),
    ] {
        let reply = app.get(&token, path).await;
        assert_eq!(reply.assert_problem(status), Some(field), "{path}");
    }
    let ok = app.get(&token, "/api/v1/tasks?limit=200").await;
    assert_eq!(ok.status, StatusCode::OK);
}

//! `/api/v1/analytics/…`, an execution's step log, `/api/v1/learning-records` and
//! `/api/v1/admin/database`.

use orchestore_testkit::Fixture;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// A workflow with the step `build`, and an execution of it: `(workflow, execution)`.
async fn running_execution(app: &TestApp, token: &str) -> (String, String) {
    let project = app
        .post(token, "/api/v1/projects", json!({"name": "Apollo"}))
        .await;
    let workflow = app
        .post(token, "/api/v1/workflows", json!({"name": "Build"}))
        .await;
    let workflow = workflow.body["id"].as_str().expect("id").to_owned();
    app.post(
        token,
        &format!("/api/v1/workflows/{workflow}/versions"),
        json!({"definition": {"steps": [{"name": "build"}]}}),
    )
    .await;
    let execution = app
        .post(
            token,
            &format!("/api/v1/workflows/{workflow}/executions"),
            json!({"project_id": project.body["id"], "input": {}}),
        )
        .await;
    assert_eq!(execution.status, StatusCode::CREATED, "{}", execution.body);
    (
        workflow,
        execution.body["id"].as_str().expect("id").to_owned(),
    )
}

pub async fn workers_record_the_steps_of_an_execution(app: &TestApp) {
    let token = app.admin_token().await;
    let (workflow, execution) = running_execution(app, &token).await;
    let steps = format!("/api/v1/workflows/{workflow}/executions/{execution}/steps");
    let recorded = app
        .post(
            &token,
            &steps,
            json!({"step": "build", "operation": "cargo.build", "input_bytes": 10,
                   "output_bytes": 2048, "outcome": "failed",
                   "started_at": "2026-11-27T10:00:00Z", "finished_at": "2026-11-27T10:00:01.25Z"}),
        )
        .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
    assert_eq!(recorded.body["duration_ms"], 1250);
    assert_eq!(recorded.body["output_bytes"], 2048);

    let listed = app.get(&token, &format!("{steps}?outcome=failed")).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["items"][0]["id"], recorded.body["id"]);
    assert!(listed.body["next_cursor"].is_null());

    // Every bad field at once, and a step the execution does not have.
    let refused = app
        .post(
            &token,
            &steps,
            json!({"step": "Build!", "operation": "", "input_bytes": 1, "output_bytes": 1,
                   "outcome": "done", "started_at": "2026-11-27T10:00:01Z",
                   "finished_at": "2026-11-27T10:00:00Z"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&refused.body),
        ["finished_at", "operation", "outcome", "step"]
    );
    let unknown = app
        .post(
            &token,
            &steps,
            json!({"step": "deploy", "operation": "ship", "input_bytes": 1, "output_bytes": 1,
                   "outcome": "succeeded", "started_at": "2026-11-27T10:00:00Z",
                   "finished_at": "2026-11-27T10:00:00Z"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&unknown.body), ["step"]);
}

pub async fn learning_records_are_searched_by_pattern_and_context(app: &TestApp) {
    let token = app.admin_token().await;
    for (pattern, context, score) in [
        ("deploy.rollback", json!({"service": "api"}), 0.9),
        ("deploy.canary", json!({"service": "web"}), 0.4),
        ("review", json!({"service": "api"}), 0.7),
    ] {
        let made = app
            .post(
                &token,
                "/api/v1/learning-records",
                json!({"pattern": pattern, "context": context, "outcome": "success", "score": score}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
        let location = made.header("location");
        assert_eq!(app.get(&token, location).await.body, made.body);
    }
    let patterns = |body: &serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["pattern"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let by_prefix = app
        .get(
            &token,
            "/api/v1/learning-records?pattern_prefix=deploy.&sort=-score",
        )
        .await;
    assert_eq!(
        patterns(&by_prefix.body),
        ["deploy.rollback", "deploy.canary"]
    );
    let by_context = app
        .get(
            &token,
            "/api/v1/learning-records?context=%7B%22service%22%3A%22api%22%7D&sort=created_at",
        )
        .await;
    assert_eq!(patterns(&by_context.body), ["deploy.rollback", "review"]);

    let refused = app
        .post(
            &token,
            "/api/v1/learning-records",
            json!({"pattern": "", "outcome": "win", "score": 1.5}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&refused.body), ["outcome", "pattern", "score"]);
    let bad_filter = app
        .get(
            &token,
            "/api/v1/learning-records?context=%7B%22a%22%3A%5B1%5D%7D",
        )
        .await;
    assert_eq!(bad_filter.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad_filter.body), ["context"]);
}

pub async fn analytics_report_over_a_bounded_window(app: &TestApp) {
    let token = app.admin_token().await;
    let (workflow, _) = running_execution(app, &token).await;
    let report = app.get(&token, "/api/v1/analytics/workflows").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(report.body["items"][0]["workflow_id"], workflow.as_str());
    assert_eq!(report.body["items"][0]["executions"]["total"], 1);
    assert_eq!(report.body["items"][0]["executions"]["unfinished"], 1);
    let daily = app
        .get(
            &token,
            &format!("/api/v1/analytics/workflows/{workflow}/daily"),
        )
        .await;
    assert_eq!(daily.status, StatusCode::OK);
    assert_eq!(daily.body["days"].as_array().map(Vec::len), Some(31));
    for path in [
        "/api/v1/analytics/task-kinds",
        "/api/v1/analytics/templates",
    ] {
        assert_eq!(app.get(&token, path).await.status, StatusCode::OK, "{path}");
    }
    let too_long = app
        .get(
            &token,
            "/api/v1/analytics/task-kinds?since=2026-01-01T00:00:00Z&until=2026-06-01T00:00:00Z",
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&too_long.body), ["since"]);
}

pub async fn the_database_is_shown_to_the_operating_organization_only(app: &TestApp) {
    let token = app.admin_token().await;
    let status = app.get(&token, "/api/v1/admin/database").await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert!(status.body["server_version"].is_string());
    assert!(status.body["pool"]["max_connections"].as_u64() >= Some(1));
    assert!(
        !status.body["slowest_statements"]
            .as_array()
            .expect("statements")
            .is_empty()
    );
    assert!(status.body["tables"].as_array().expect("tables").len() > 20);

    // The owner of another organization holds `system:read` too, and is refused.
    Fixture::create(app.store.as_ref(), "tenant", "tenant-password").await;
    let tenant = app
        .token_in("tenant", "owner@tenant.test", "tenant-password")
        .await;
    let refused = app.get(&tenant, "/api/v1/admin/database").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

//! `/api/v1/metrics` and `/api/v1/metrics/query`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::components::create_component;
use crate::helpers::*;

pub async fn samples_are_recorded_and_read_in_buckets(app: &TestApp) {
    let token = app.admin_token().await;
    let api = create_component(app, &token, "api").await;
    // 10:00 holds 1 to 100; 10:01 holds 10 and 20 (the first sent alone).
    let mut samples: Vec<Value> = (1..=100)
        .map(|v| {
            json!({"component_id": api, "name": "latency_ms", "value": v, "unit": "ms",
                   "tags": {"route": "/tasks"},
                   "recorded_at": format!("2020-01-01T10:00:{:02}Z", v % 60)})
        })
        .collect();
    samples.push(
        json!({"component_id": api, "name": "latency_ms", "value": 20.0,
                        "recorded_at": "2020-01-01T10:01:30Z"}),
    );
    let batch = app
        .post(&token, "/api/v1/metrics", json!({"samples": samples}))
        .await;
    assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.body);
    assert_eq!(batch.body["recorded"], 101);
    let one = app
        .post(
            &token,
            "/api/v1/metrics",
            json!({"component_id": api, "name": "latency_ms", "value": 10,
                   "recorded_at": "2020-01-01T10:01:00Z"}),
        )
        .await;
    assert_eq!(one.status, StatusCode::CREATED, "{}", one.body);
    assert_eq!(one.body["recorded"], 1);

    let query = format!(
        "/api/v1/metrics/query?component_id={api}&name=latency_ms\
         &since=2020-01-01T10:00:00Z&until=2020-01-01T11:00:00Z&bucket=minute"
    );
    let reply = app.get(&token, &query).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["bucket"], "minute");
    assert_eq!(
        reply.body["buckets"],
        json!([
            {"start": "2020-01-01T10:00:00Z", "count": 100, "min": 1.0, "max": 100.0,
             "mean": 50.5, "p95": 95.05},
            {"start": "2020-01-01T10:01:00Z", "count": 2, "min": 10.0, "max": 20.0,
             "mean": 15.0, "p95": 19.5},
        ])
    );
    let hour = app
        .get(&token, &query.replace("bucket=minute", "bucket=hour"))
        .await;
    assert_eq!(hour.body["buckets"][0]["count"], 102);
}

pub async fn metric_input_and_ranges_are_checked(app: &TestApp) {
    let token = app.admin_token().await;
    let api = create_component(app, &token, "api").await;
    let week = app
        .get(
            &token,
            &format!(
                "/api/v1/metrics/query?component_id={api}&name=x\
                 &since=2020-01-01T00:00:00Z&until=2020-01-08T00:00:00Z&bucket=minute"
            ),
        )
        .await;
    assert_eq!(
        week.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("bucket")
    );
    let backwards = app
        .get(
            &token,
            &format!(
                "/api/v1/metrics/query?component_id={api}&name=x\
                 &since=2020-01-02T00:00:00Z&until=2020-01-01T00:00:00Z&bucket=second"
            ),
        )
        .await;
    assert_eq!(
        backwards.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("bucket")
    );
    let unknown = app
        .get(
            &token,
            "/api/v1/metrics/query?component_id=0190a000-0000-7000-8000-000000000001&name=x\
             &since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z",
        )
        .await;
    unknown.assert_problem(StatusCode::NOT_FOUND);
    let bad = app
        .post(
            &token,
            "/api/v1/metrics",
            json!({"samples": [
                {"component_id": api, "name": "ok", "value": 1},
                {"component_id": api, "name": "bad name", "value": 1, "unit": ""},
            ]}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&bad.body),
        ["samples[1].name", "samples[1].unit"]
    );
    let wrong_type = app
        .post(
            &token,
            "/api/v1/metrics",
            json!({"samples": [{"component_id": api, "name": "ok", "value": "high"}]}),
        )
        .await;
    wrong_type.assert_problem(StatusCode::BAD_REQUEST);
    let foreign = app
        .post(
            &token,
            "/api/v1/metrics",
            json!({"samples": [
                {"component_id": api, "name": "ok", "value": 1},
                {"component_id": "0190a000-0000-7000-8000-000000000001", "name": "ok", "value": 1},
            ]}),
        )
        .await;
    assert_eq!(
        foreign.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("samples[1].component_id")
    );
}

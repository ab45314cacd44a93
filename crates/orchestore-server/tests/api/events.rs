//! `/api/v1/events`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

pub async fn events_are_recorded_one_or_by_the_batch_and_filtered(app: &TestApp) {
    let token = &app.admin_token().await;
    let project = app.create_project(token, "Apollo").await;
    let one = app
        .post(
            token,
            "/api/v1/events",
            json!({
                "kind": "deploy.started",
                "source": "deployer",
                "payload": {"version": "1.2"},
                "correlation_id": "run-1",
                "project_id": project["id"],
                "occurred_at": "2020-01-01T10:01:00Z",
            }),
        )
        .await;
    assert_eq!(one.status, StatusCode::CREATED, "{}", one.body);
    let id = one.body["id"].as_str().expect("id").to_owned();
    assert_eq!(one.header("location"), format!("/api/v1/events/{id}"));
    assert_eq!(one.body["payload"], json!({"version": "1.2"}));
    assert_eq!(one.body["occurred_at"], "2020-01-01T10:01:00Z");

    let batch = app
        .post(
            token,
            "/api/v1/events",
            json!({"events": [
                {"kind": "deploy.finished", "source": "deployer", "correlation_id": "run-1",
                 "occurred_at": "2020-01-01T10:02:00Z"},
                {"kind": "deploy.started", "source": "deployer", "correlation_id": "run-2",
                 "occurred_at": "2020-01-01T10:03:00Z"},
                {"kind": "task.completed", "source": "scheduler",
                 "occurred_at": "2020-01-01T10:04:00Z"},
            ]}),
        )
        .await;
    assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.body);
    assert_eq!(batch.body["recorded"], 3);
    let batch_ids: Vec<String> = batch.body["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|id| id.as_str().expect("id").to_owned())
        .collect();

    let listed = |query: &'static str| async move {
        let reply = app.get(token, &format!("/api/v1/events?{query}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
        ids(&reply.body["items"])
    };
    assert_eq!(
        listed("").await,
        [
            batch_ids[2].clone(),
            batch_ids[1].clone(),
            batch_ids[0].clone(),
            id.clone()
        ],
        "newest first"
    );
    assert_eq!(
        listed("kind=deploy.started").await,
        [batch_ids[1].clone(), id.clone()]
    );
    assert_eq!(listed("source=scheduler").await, [batch_ids[2].clone()]);
    assert_eq!(
        listed("correlation_id=run-1").await,
        [batch_ids[0].clone(), id.clone()]
    );
    assert_eq!(
        listed("since=2020-01-01T10:02:00Z&until=2020-01-01T10:04:00Z").await,
        [batch_ids[1].clone(), batch_ids[0].clone()]
    );
    assert_eq!(
        listed("sort=occurred_at&kind=&source=").await,
        [
            id.clone(),
            batch_ids[0].clone(),
            batch_ids[1].clone(),
            batch_ids[2].clone()
        ]
    );
    let first = app.get(token, "/api/v1/events?limit=2").await;
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let second = app
        .get(token, &format!("/api/v1/events?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(
        ids(&second.body["items"]),
        [batch_ids[0].clone(), id.clone()]
    );
    assert!(second.body["next_cursor"].is_null());

    let got = app.get(token, &format!("/api/v1/events/{id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, one.body);
}

pub async fn event_input_is_checked(app: &TestApp) {
    let token = app.admin_token().await;
    let bad = app
        .post(
            &token,
            "/api/v1/events",
            json!({"kind": "has space", "source": "", "correlation_id": "ok"}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["kind", "source"]);
    let big = json!({"kind": "k", "source": "s", "payload": "x".repeat(70_000)});
    let too_big = app.post(&token, "/api/v1/events", big).await;
    assert_eq!(
        too_big.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("payload")
    );
    let in_batch = app
        .post(
            &token,
            "/api/v1/events",
            json!({"events": [{"kind": "ok", "source": "s"}, {"kind": "bad kind", "source": "s"}]}),
        )
        .await;
    assert_eq!(
        in_batch.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("events[1].kind")
    );
    let unknown = app
        .post(
            &token,
            "/api/v1/events",
            json!({"kind": "k", "source": "s", "colour": 1}),
        )
        .await;
    assert_eq!(
        unknown.assert_problem(StatusCode::BAD_REQUEST),
        Some("colour")
    );
    let empty = app
        .post(&token, "/api/v1/events", json!({"events": []}))
        .await;
    assert_eq!(
        empty.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("events")
    );
    let missing = app
        .post(
            &token,
            "/api/v1/events",
            json!({"events": [
                {"kind": "k", "source": "s"},
                {"kind": "k", "source": "s", "task_id": "0190a000-0000-7000-8000-000000000001"},
            ]}),
        )
        .await;
    assert_eq!(
        missing.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("events[1].task_id")
    );
    let nothing = app.get(&token, "/api/v1/events").await;
    assert_eq!(
        nothing.body["items"],
        json!([]),
        "a refused batch writes nothing"
    );
    let sort = app.get(&token, "/api/v1/events?sort=kind").await;
    assert_eq!(
        sort.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("sort")
    );
}

//! `/api/v1/matches` and rating histories.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::points::{create_agent, fields};

pub async fn a_match_result_moves_ratings_once(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let bob = create_agent(app, &admin, "bob").await;
    let created = app
        .post(
            &admin,
            "/api/v1/matches",
            json!({"agents": [ada, bob], "challenge": "sort a million rows"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["status"], "open");
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(created.header("location"), format!("/api/v1/matches/{id}"));

    // The standard K for newcomers is 64: 64 × 0.5 = 32.
    let result = json!({"placements": {ada.as_str(): 1, bob.as_str(): 2}});
    let done = app
        .post(
            &admin,
            &format!("/api/v1/matches/{id}/result"),
            result.clone(),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["status"], "finished");
    assert_eq!(done.body["changes"][0]["rating_after"], 1532);
    assert_eq!(done.body["changes"][1]["rating_after"], 1468);

    let again = app
        .post(&admin, &format!("/api/v1/matches/{id}/result"), result)
        .await;
    again.assert_problem(StatusCode::CONFLICT);
    let standing = app
        .get(&admin, &format!("/api/v1/agents/{ada}/standing"))
        .await;
    assert_eq!(standing.body["rating"], 1532);
    assert_eq!(standing.body["matches_played"], 1);

    let history = app
        .get(&admin, &format!("/api/v1/agents/{ada}/rating-history"))
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    assert_eq!(history.body["items"][0]["rating_before"], 1500);
    assert_eq!(history.body["items"][0]["match_id"], id);
    assert_eq!(
        app.get(&admin, &format!("/api/v1/matches/{id}")).await.body,
        done.body
    );
}

pub async fn bad_matches_and_results_are_refused(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let bob = create_agent(app, &admin, "bob").await;
    let bad = app
        .post(&admin, "/api/v1/matches", json!({"agents": [ada]}))
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["task_id", "agents"]);

    let created = app
        .post(
            &admin,
            "/api/v1/matches",
            json!({"agents": [ada, bob], "challenge": "chess"}),
        )
        .await;
    let id = created.body["id"].as_str().expect("id").to_owned();
    let partial = app
        .post(
            &admin,
            &format!("/api/v1/matches/{id}/result"),
            json!({"placements": {ada.as_str(): 1}}),
        )
        .await;
    partial.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&partial.body), ["placements"]);
    let zero = app
        .post(
            &admin,
            &format!("/api/v1/matches/{id}/result"),
            json!({"placements": {ada.as_str(): 0, bob.as_str(): 1}}),
        )
        .await;
    zero.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let still = app.get(&admin, &format!("/api/v1/matches/{id}")).await;
    assert_eq!(still.body["status"], "open");
}

pub async fn reputation_events_and_task_outcomes(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let project = app.create_project(&admin, "work").await;
    let task = app.create_task(&admin, &project, "ship it").await;
    let event = app
        .post(
            &admin,
            "/api/v1/reputation-events",
            json!({"agent_id": ada, "dimension": "trust", "delta": 40, "reason": "kept its word"}),
        )
        .await;
    assert_eq!(event.status, StatusCode::CREATED, "{}", event.body);
    let at = event.body["occurred_at"]
        .as_str()
        .expect("occurred_at")
        .to_owned();
    let outcome = app
        .post(
            &admin,
            &format!("/api/v1/agents/{ada}/task-outcomes"),
            json!({"task_id": task["id"], "succeeded": false}),
        )
        .await;
    assert_eq!(outcome.status, StatusCode::CREATED, "{}", outcome.body);
    assert_eq!(outcome.body["dimension"], "reliability");
    assert_eq!(outcome.body["delta"], -10);

    // As of the first event: only it counts, in full.
    let score = app
        .get(
            &admin,
            &format!(
                "/api/v1/agents/{ada}/reputation?as_of={}",
                at.replace('+', "%2B")
            ),
        )
        .await;
    assert_eq!(score.status, StatusCode::OK, "{}", score.body);
    assert_eq!(score.body["trust"], 40.0);
    assert_eq!(score.body["reliability"], 0.0);
    let history = app
        .get(
            &admin,
            &format!("/api/v1/agents/{ada}/reputation-events?sort=occurred_at"),
        )
        .await;
    assert_eq!(history.body["items"].as_array().map(Vec::len), Some(2));

    let bad = app
        .post(
            &admin,
            "/api/v1/reputation-events",
            json!({"agent_id": ada, "dimension": "charm", "delta": 0, "reason": ""}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["dimension", "delta", "reason"]);
}

pub async fn the_server_feeds_task_outcomes_into_reputation(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let project = app.create_project(&admin, "work").await;
    let task = app.create_task(&admin, &project, "ship it").await;
    let id = task["id"].as_str().expect("id");
    let claimed = app
        .post(
            &admin,
            "/api/v1/queue/claim",
            json!({"agent_id": ada, "limit": 1, "lease_seconds": 60}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let done = app
        .post(
            &admin,
            &format!("/api/v1/tasks/{id}/complete"),
            json!({"lease_token": claimed.body["items"][0]["lease_token"]}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);

    // A second server over the same database, feeding every 100 ms; nobody records the outcome.
    let mut settings = test_settings();
    settings.collaboration.reputation_feed_interval = Duration::from_millis(100);
    let _second = serve(app.store.clone(), settings).await;
    let mut events = serde_json::Value::Null;
    for _ in 0..100 {
        let listed = app
            .get(&admin, &format!("/api/v1/agents/{ada}/reputation-events"))
            .await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        events = listed.body["items"].clone();
        if events.as_array().is_some_and(|items| !items.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let items = events.as_array().expect("items");
    assert_eq!(items.len(), 1, "one event within 10 s: {events}");
    assert_eq!(items[0]["task_id"], id);
    assert_eq!(items[0]["dimension"], "reliability");
    assert_eq!(items[0]["delta"], 5);
    assert_eq!(items[0]["occurred_at"], done.body["finished_at"]);
    let score = app
        .get(&admin, &format!("/api/v1/agents/{ada}/reputation"))
        .await;
    assert!(
        score.body["reliability"].as_f64().is_some_and(|r| r > 4.9),
        "{}",
        score.body
    );

    // The client's call for the same ending answers the fed event.
    let outcome = app
        .post(
            &admin,
            &format!("/api/v1/agents/{ada}/task-outcomes"),
            json!({"task_id": id, "succeeded": true}),
        )
        .await;
    assert!(outcome.status.is_success(), "{}", outcome.body);
    assert_eq!(outcome.body["id"], items[0]["id"]);
}

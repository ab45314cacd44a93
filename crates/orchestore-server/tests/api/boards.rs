//! `/api/v1/achievement-definitions`, `/api/v1/achievements`, the summaries of agents and
//! users, `/api/v1/leaderboards/settings`, `/api/v1/leaderboards/snapshots`,
//! `/api/v1/leaderboards/hall-of-fame`, and the server's schedule of snapshots.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::points::{create_agent, fields};

fn holders(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["holder"]["id"].as_str())
        .collect()
}

pub async fn achievements_are_awarded_once_and_summarised(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let definition = json!({"code": "first-review", "name": "First review",
                            "description": "Reviewed a first pull request", "points": 25,
                            "criteria": {"reviews": 1}});
    let defined = app
        .post(
            &admin,
            "/api/v1/achievement-definitions",
            definition.clone(),
        )
        .await;
    assert_eq!(defined.status, StatusCode::CREATED, "{}", defined.body);
    let id = defined.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        defined.header("location"),
        format!("/api/v1/achievement-definitions/{id}")
    );
    let again = app
        .post(&admin, "/api/v1/achievement-definitions", definition)
        .await;
    again.assert_problem(StatusCode::CONFLICT);
    let bad = app
        .post(
            &admin,
            "/api/v1/achievement-definitions",
            json!({"code": "Not A Code", "name": " ", "description": "d", "points": -1,
                   "criteria": [1]}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["code", "name", "points", "criteria"]);
    let got = app
        .get(&admin, &format!("/api/v1/achievement-definitions/{id}"))
        .await;
    assert_eq!(got.body, defined.body);
    let listed = app.get(&admin, "/api/v1/achievement-definitions").await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));

    let award = json!({"definition_id": id, "holder": {"kind": "agent", "id": ada}});
    let earned = app
        .post(&admin, "/api/v1/achievements", award.clone())
        .await;
    assert_eq!(earned.status, StatusCode::CREATED, "{}", earned.body);
    assert_eq!(earned.body["points"], 25);
    let twice = app.post(&admin, "/api/v1/achievements", award).await;
    twice.assert_problem(StatusCode::CONFLICT);
    let missing = app
        .post(
            &admin,
            "/api/v1/achievements",
            json!({"definition_id": ada, "holder": {"kind": "agent", "id": ada}}),
        )
        .await;
    missing.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&missing.body), ["definition_id"]);

    let summary = app
        .get(&admin, &format!("/api/v1/agents/{ada}/summary"))
        .await;
    assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
    assert_eq!(summary.body["standing"]["points"], 25, "awarded once");
    assert_eq!(summary.body["achievements"][0]["code"], "first-review");
    assert_eq!(summary.body["reputation"]["overall"], 0.0);
    let me = app.get(&admin, "/api/v1/me").await;
    let user = me.body["user"]["id"].as_str().expect("user id").to_owned();
    let mine = app
        .get(&admin, &format!("/api/v1/users/{user}/summary"))
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.body["reputation"], Value::Null);
    assert_eq!(mine.body["achievements"], json!([]));
}

pub async fn snapshots_weights_and_the_hall_of_fame(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let bob = create_agent(app, &admin, "bob").await;
    for (agent, points) in [(&ada, 10), (&bob, 30)] {
        let reply = app
            .post(
                &admin,
                "/api/v1/points",
                json!({"holder": {"kind": "agent", "id": agent}, "points": points,
                       "reason": "r", "source": "s"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let event = app
        .post(
            &admin,
            "/api/v1/reputation-events",
            json!({"agent_id": ada, "dimension": "trust", "delta": 40, "reason": "r"}),
        )
        .await;
    assert_eq!(event.status, StatusCode::CREATED, "{}", event.body);
    let by_reputation = app
        .get(&admin, "/api/v1/leaderboards?kind=reputation")
        .await;
    assert_eq!(
        by_reputation.status,
        StatusCode::OK,
        "{}",
        by_reputation.body
    );
    assert_eq!(holders(&by_reputation.body["items"]), [&ada, &bob]);
    app.get(&admin, "/api/v1/leaderboards?kind=reputation&period=week")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);

    let standard = app.get(&admin, "/api/v1/leaderboards/settings").await;
    assert_eq!(
        standard.body,
        json!({"points": 1.0, "rating": 1.0, "reputation": 1.0, "revision": 1})
    );
    let weights = json!({"points": 1.0, "rating": 0.0, "reputation": 5.0});
    let put = app
        .send(
            Method::PUT,
            "/api/v1/leaderboards/settings",
            Some(&admin),
            Some(weights.clone()),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(
        put.body,
        json!({"points": 1.0, "rating": 0.0, "reputation": 5.0, "revision": 2})
    );
    let bad = app
        .send(
            Method::PUT,
            "/api/v1/leaderboards/settings",
            Some(&admin),
            Some(json!({"points": -1.0, "rating": 0.0, "reputation": 0.0})),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["points"]);

    // Combined: ada 10 + 5 × 10 = 60, bob 30.
    let taken = app
        .post(
            &admin,
            "/api/v1/leaderboards/snapshots",
            json!({"kind": "combined"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    assert_eq!(taken.body["trigger"], "on_demand");
    assert_eq!(holders(&taken.body["entries"]), [&ada, &bob]);
    let combined = app.get(&admin, "/api/v1/leaderboards?kind=combined").await;
    assert_eq!(combined.body["items"], taken.body["entries"]);
    for _ in 0..2 {
        let points = app
            .post(
                &admin,
                "/api/v1/leaderboards/snapshots",
                json!({"kind": "points", "period": "all_time"}),
            )
            .await;
        assert_eq!(points.status, StatusCode::CREATED, "{}", points.body);
    }
    let id = taken.body["id"].as_str().expect("id");
    let got = app
        .get(&admin, &format!("/api/v1/leaderboards/snapshots/{id}"))
        .await;
    assert_eq!(got.body, taken.body);
    let listed = app
        .get(&admin, "/api/v1/leaderboards/snapshots?kind=points")
        .await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(2));
    assert!(listed.body["items"][0].get("entries").is_none());

    let fame = app
        .get(
            &admin,
            "/api/v1/leaderboards/hall-of-fame?kind=points&top=1",
        )
        .await;
    assert_eq!(fame.status, StatusCode::OK, "{}", fame.body);
    assert_eq!(holders(&fame.body["items"]), [&bob]);
    assert_eq!(fame.body["items"][0]["times"], 2);
    let bad = app
        .get(
            &admin,
            "/api/v1/leaderboards/hall-of-fame?kind=karma&top=101",
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["kind", "top"]);
    app.post(
        &admin,
        "/api/v1/leaderboards/snapshots",
        json!({"kind": "rating", "period": "week"}),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
}

pub async fn the_server_takes_scheduled_snapshots(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let reply = app
        .post(
            &admin,
            "/api/v1/points",
            json!({"holder": {"kind": "agent", "id": ada}, "points": 5,
                   "reason": "r", "source": "s"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    // A second server over the same database, on a schedule of a second.
    let mut settings = test_settings();
    settings.collaboration.snapshot_interval = Duration::from_secs(1);
    let _second = serve(app.store.clone(), settings).await;
    let mut scheduled = Vec::new();
    for _ in 0..100 {
        let listed = app
            .get(&admin, "/api/v1/leaderboards/snapshots?limit=200")
            .await;
        scheduled = listed.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|s| s["trigger"] == "scheduled")
            .cloned()
            .collect();
        if !scheduled.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        scheduled
            .iter()
            .any(|s| s["kind"] == "points" && s["period"] == "all_time" && s["size"] == 1),
        "a scheduled snapshot of the points within 10 s: {scheduled:?}"
    );
}

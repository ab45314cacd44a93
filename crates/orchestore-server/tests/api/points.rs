//! `/api/v1/points` and the standings of agents and users.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) async fn create_agent(app: &TestApp, token: &str, name: &str) -> String {
    let reply = app
        .post(token, "/api/v1/agents", json!({"name": name, "kind": "ai"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().expect("id").to_owned()
}

pub(crate) fn fields(body: &Value) -> Vec<&str> {
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect()
}

pub async fn points_are_awarded_listed_and_summed(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let award = |points: i64| {
        json!({"holder": {"kind": "agent", "id": ada}, "points": points,
               "reason": "fixed the build", "source": "task"})
    };
    let first = app.post(&admin, "/api/v1/points", award(150)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let id = first.body["id"].as_str().expect("id").to_owned();
    assert_eq!(first.header("location"), format!("/api/v1/points/{id}"));
    assert_eq!(first.body["holder"], json!({"kind": "agent", "id": ada}));
    let penalty = app.post(&admin, "/api/v1/points", award(-20)).await;
    assert_eq!(penalty.status, StatusCode::CREATED, "{}", penalty.body);

    let got = app.get(&admin, &format!("/api/v1/points/{id}")).await;
    assert_eq!(got.body, first.body);
    let listed = app
        .get(
            &admin,
            &format!("/api/v1/points?holder_kind=agent&holder_id={ada}&sort=awarded_at"),
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let amounts: Vec<i64> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["points"].as_i64())
        .collect();
    assert_eq!(amounts, [150, -20]);

    let standing = app
        .get(&admin, &format!("/api/v1/agents/{ada}/standing"))
        .await;
    assert_eq!(standing.status, StatusCode::OK, "{}", standing.body);
    assert_eq!(standing.body["points"], 130);
    assert_eq!(standing.body["experience"], 150);
    assert_eq!(standing.body["level"]["level"], 2);
    assert_eq!(standing.body["level"]["tier"], "bronze");
    assert_eq!(standing.body["rating"], 1500);

    let me = app.get(&admin, "/api/v1/me").await;
    let user = me.body["user"]["id"].as_str().expect("user id").to_owned();
    let mine = app
        .get(&admin, &format!("/api/v1/users/{user}/standing"))
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.body["points"], 0);
}

pub async fn bad_awards_are_refused_and_nothing_is_written(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let bad = app
        .post(
            &admin,
            "/api/v1/points",
            json!({"holder": {"kind": "robot", "id": ada}, "points": 0,
                   "reason": " ", "source": ""}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&bad.body),
        ["holder.kind", "points", "reason", "source"]
    );
    let ghost = app
        .post(
            &admin,
            "/api/v1/points",
            json!({"holder": {"kind": "agent", "id": "0190a000-0000-7000-8000-000000000009"},
                   "points": 5, "reason": "r", "source": "s"}),
        )
        .await;
    ghost.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&ghost.body), ["holder"]);
    let listed = app.get(&admin, "/api/v1/points").await;
    assert_eq!(listed.body["items"], json!([]));
    let unknown = app
        .get(
            &admin,
            "/api/v1/agents/0190a000-0000-7000-8000-000000000009/standing",
        )
        .await;
    unknown.assert_problem(StatusCode::NOT_FOUND);
}

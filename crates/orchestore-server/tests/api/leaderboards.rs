//! `/api/v1/leaderboards` and `/api/v1/collaboration/settings`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::points::{create_agent, fields};

pub async fn leaderboards_rank_holders(app: &TestApp) {
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
    for period in ["all_time", "week", "month"] {
        let board = app
            .get(
                &admin,
                &format!("/api/v1/leaderboards?kind=points&period={period}"),
            )
            .await;
        assert_eq!(board.status, StatusCode::OK, "{}", board.body);
        assert_eq!(board.body["items"][0]["holder"]["id"], bob);
        assert_eq!(board.body["items"][0]["rank"], 1);
        assert_eq!(board.body["items"][1]["score"], 10);
    }
    let ratings = app
        .get(&admin, "/api/v1/leaderboards?kind=rating&limit=1")
        .await;
    assert_eq!(ratings.status, StatusCode::OK, "{}", ratings.body);
    assert_eq!(ratings.body["items"].as_array().map(Vec::len), Some(1));
    let bad = app
        .get(
            &admin,
            "/api/v1/leaderboards?kind=karma&period=year&limit=0",
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["kind", "period", "limit"]);
    let weekly_rating = app
        .get(&admin, "/api/v1/leaderboards?kind=rating&period=week")
        .await;
    weekly_rating.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
}

pub async fn settings_are_read_and_replaced(app: &TestApp) {
    let admin = app.admin_token().await;
    let standard = app.get(&admin, "/api/v1/collaboration/settings").await;
    assert_eq!(standard.status, StatusCode::OK, "{}", standard.body);
    assert_eq!(standard.body["k_factor"], 32);
    assert_eq!(standard.body["provisional_k_factor"], 64);
    let mine = json!({
        "level_thresholds": [{"experience": 0, "tier": "novice"}, {"experience": 50, "tier": "expert"}],
        "k_factor": 16, "provisional_k_factor": 40, "provisional_matches": 3,
    });
    let put = app
        .send(
            Method::PUT,
            "/api/v1/collaboration/settings",
            Some(&admin),
            Some(mine.clone()),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let mut revised = mine.clone();
    revised["revision"] = json!(2);
    assert_eq!(put.body, revised);
    assert_eq!(
        app.get(&admin, "/api/v1/collaboration/settings").await.body,
        revised
    );

    let bad = app
        .send(
            Method::PUT,
            "/api/v1/collaboration/settings",
            Some(&admin),
            Some(json!({"level_thresholds": [{"experience": 5, "tier": "x"}],
                        "k_factor": 0, "provisional_k_factor": 40, "provisional_matches": 3})),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["level_thresholds", "k_factor"]);
    assert_eq!(
        app.get(&admin, "/api/v1/collaboration/settings").await.body,
        revised
    );
}

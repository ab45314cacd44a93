//! `/api/v1/proposals`: votes, tallies, closing and cancelling, and what is refused.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;
use crate::points::{create_agent, fields};

fn in_an_hour() -> String {
    (Utc::now() + Duration::hours(1)).to_rfc3339()
}

pub async fn a_proposal_is_voted_on_and_closed_once(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let created = app
        .post(
            &admin,
            "/api/v1/proposals",
            json!({"title": "Pick a database", "kind": "choice",
                   "options": ["postgres", "sqlite", "both"], "closes_at": in_an_hour(),
                   "quorum": 2, "threshold": 0.5}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/v1/proposals/{id}")
    );
    assert_eq!(created.body["status"], "open");
    assert_eq!(created.body["threshold"], 0.5);
    assert_eq!(created.body["allow_vote_change"], true);

    // The caller votes as itself; a user's token may vote for an agent of its organization.
    let votes = format!("/api/v1/proposals/{id}/votes");
    let mine = app.post(&admin, &votes, json!({"option": "sqlite"})).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_eq!(mine.body["voter"]["kind"], "user");
    let agents = app
        .post(
            &admin,
            &votes,
            json!({"option": "both", "voter": {"kind": "agent", "id": ada}}),
        )
        .await;
    assert_eq!(agents.status, StatusCode::OK, "{}", agents.body);
    let changed = app.post(&admin, &votes, json!({"option": "both"})).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert!(changed.body["changed_at"].is_string());

    let open = app.get(&admin, &format!("/api/v1/proposals/{id}")).await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.body);
    assert_eq!(open.body["votes_cast"], 2);
    assert_eq!(
        open.body["tallies"][2],
        json!({"option": "both", "votes": 2})
    );
    let listed = app.get(&admin, &votes).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(2));

    let closed = app
        .post(&admin, &format!("/api/v1/proposals/{id}/close"), json!({}))
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["result"], "passed");
    assert_eq!(closed.body["winning_option"], "both");
    assert_eq!(closed.body["closed_by"], "hand");
    app.post(&admin, &format!("/api/v1/proposals/{id}/close"), json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT);
    app.post(&admin, &votes, json!({"option": "postgres"}))
        .await
        .assert_problem(StatusCode::CONFLICT);
    let listed = app
        .get(&admin, "/api/v1/proposals?status=closed&sort=created_at")
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["items"][0], closed.body);
}

pub async fn bad_proposals_and_votes_are_refused(app: &TestApp) {
    let admin = app.admin_token().await;
    let bad = app
        .post(
            &admin,
            "/api/v1/proposals",
            json!({"title": " ", "options": ["a", "b"], "closes_at": in_an_hour(),
                   "quorum": 0, "threshold": 1.5, "eligible_agent_kinds": ["robot"]}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&bad.body),
        [
            "title",
            "options",
            "quorum",
            "threshold",
            "eligible_agent_kinds"
        ]
    );
    let past = app
        .post(
            &admin,
            "/api/v1/proposals",
            json!({"title": "Too late", "closes_at": "2020-01-01T00:00:00Z", "threshold": 0.5}),
        )
        .await;
    past.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&past.body), ["closes_at"]);
    let role = app
        .post(
            &admin,
            "/api/v1/proposals",
            json!({"title": "Who?", "closes_at": in_an_hour(), "threshold": 0.5,
                   "eligible_roles": ["no-such-role"]}),
        )
        .await;
    role.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&role.body), ["eligible_roles"]);
    let none = app.get(&admin, "/api/v1/proposals").await;
    assert_eq!(none.body["items"], json!([]), "nothing written");

    let once = app
        .post(
            &admin,
            "/api/v1/proposals",
            json!({"title": "Once only", "closes_at": in_an_hour(), "threshold": 0.5,
                   "allow_vote_change": false, "eligible_roles": ["owner"]}),
        )
        .await;
    assert_eq!(once.status, StatusCode::CREATED, "{}", once.body);
    let id = once.body["id"].as_str().expect("id").to_owned();
    let votes = format!("/api/v1/proposals/{id}/votes");
    let unknown = app.post(&admin, &votes, json!({"option": "maybe"})).await;
    unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&unknown.body), ["option"]);
    // Agents are not eligible: only owners are.
    let ada = create_agent(app, &admin, "ada").await;
    let agent = app
        .post(
            &admin,
            &votes,
            json!({"option": "yes", "voter": {"kind": "agent", "id": ada}}),
        )
        .await;
    agent.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&agent.body), ["voter"]);
    let other = app
        .create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let as_other = app
        .post(
            &admin,
            &votes,
            json!({"option": "yes", "voter": {"kind": "user", "id": other["id"]}}),
        )
        .await;
    as_other.assert_problem(StatusCode::FORBIDDEN);
    let first = app.post(&admin, &votes, json!({"option": "yes"})).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let second = app.post(&admin, &votes, json!({"option": "no"})).await;
    second.assert_problem(StatusCode::CONFLICT);
    assert_eq!(fields(&second.body), ["voter"]);

    let later = app
        .post(
            &admin,
            "/api/v1/proposals",
            json!({"title": "Not yet", "threshold": 0.5, "closes_at": in_an_hour(),
                   "opens_at": (Utc::now() + Duration::minutes(30)).to_rfc3339()}),
        )
        .await;
    let later_id = later.body["id"].as_str().expect("id").to_owned();
    app.post(
        &admin,
        &format!("/api/v1/proposals/{later_id}/votes"),
        json!({"option": "yes"}),
    )
    .await
    .assert_problem(StatusCode::CONFLICT);
    let cancelled = app
        .post(
            &admin,
            &format!("/api/v1/proposals/{later_id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    app.post(
        &admin,
        &format!("/api/v1/proposals/{later_id}/close"),
        json!({}),
    )
    .await
    .assert_problem(StatusCode::CONFLICT);

    let after = app.get(&admin, &format!("/api/v1/proposals/{id}")).await;
    assert_eq!(after.body["votes_cast"], 1);
    assert_eq!(after.body["tallies"][0]["votes"], 1);
}

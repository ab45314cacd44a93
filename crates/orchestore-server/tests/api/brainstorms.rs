//! `/api/v1/brainstorms` and `/api/v1/mentorships`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::points::{create_agent, fields};

fn texts_and_votes(body: &Value) -> Vec<(String, i64)> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["text"].as_str().expect("text").to_owned(),
                i["votes"].as_i64().expect("votes"),
            )
        })
        .collect()
}

fn idea(text: &str, votes: i64) -> (String, i64) {
    (text.to_owned(), votes)
}

pub async fn brainstorms_take_ideas_and_votes_until_closed(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let project = app.create_project(&admin, "release").await;
    let created = app
        .post(
            &admin,
            "/api/v1/brainstorms",
            json!({"topic": "Release names", "project_id": project["id"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/v1/brainstorms/{id}")
    );
    assert_eq!(created.body["status"], "open");
    // The facilitator is the caller when left out.
    let me = app.get(&admin, "/api/v1/me").await.body["user"]["id"].clone();
    assert_eq!(
        created.body["facilitator"],
        json!({"kind": "user", "id": me})
    );

    let ideas = format!("/api/v1/brainstorms/{id}/ideas");
    let nova = app.post(&admin, &ideas, json!({"text": "Nova"})).await;
    assert_eq!(nova.status, StatusCode::CREATED, "{}", nova.body);
    let orbit = app
        .post(
            &admin,
            &ideas,
            json!({"text": "Orbit", "author": {"kind": "agent", "id": ada}}),
        )
        .await;
    assert_eq!(orbit.body["author"], json!({"kind": "agent", "id": ada}));
    let votes = |idea: &Value| format!("{ideas}/{}/votes", idea["id"].as_str().expect("id"));

    let mine = app.post(&admin, &votes(&orbit.body), json!({})).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    assert_eq!(mine.body["votes"], 1);
    let as_agent = app
        .post(
            &admin,
            &votes(&orbit.body),
            json!({"voter": {"kind": "agent", "id": ada}}),
        )
        .await;
    assert_eq!(as_agent.body["votes"], 2);
    let twice = app.post(&admin, &votes(&orbit.body), json!({})).await;
    twice.assert_problem(StatusCode::CONFLICT);
    assert_eq!(fields(&twice.body), ["voter"]);
    app.post(&admin, &votes(&nova.body), json!({})).await;

    let top = app
        .get(
            &admin,
            &format!("/api/v1/brainstorms/{id}/top-ideas?limit=5"),
        )
        .await;
    assert_eq!(top.status, StatusCode::OK, "{}", top.body);
    assert_eq!(
        texts_and_votes(&top.body),
        [idea("Orbit", 2), idea("Nova", 1)]
    );
    let stats = app
        .get(&admin, &format!("/api/v1/brainstorms/{id}/stats"))
        .await;
    assert_eq!(
        stats.body,
        json!({"brainstorm_id": id, "ideas": 2, "participants": 2, "votes": 3})
    );

    let withdrawn = app.delete(&admin, &votes(&orbit.body)).await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.body);
    assert_eq!(withdrawn.body["votes"], 1);
    app.delete(&admin, &votes(&orbit.body))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    let listed = app.get(&admin, &format!("{ideas}?sort=created_at")).await;
    assert_eq!(
        texts_and_votes(&listed.body),
        [idea("Nova", 1), idea("Orbit", 1)]
    );

    let closed = app
        .post(
            &admin,
            &format!("/api/v1/brainstorms/{id}/close"),
            json!({}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    assert!(closed.body["closed_at"].is_string());
    for reply in [
        app.post(
            &admin,
            &format!("/api/v1/brainstorms/{id}/close"),
            json!({}),
        )
        .await,
        app.post(&admin, &ideas, json!({"text": "Late"})).await,
        app.post(&admin, &votes(&orbit.body), json!({})).await,
        app.delete(
            &admin,
            &format!("{}?voter_kind=agent&voter_id={ada}", votes(&orbit.body)),
        )
        .await,
    ] {
        reply.assert_problem(StatusCode::CONFLICT);
    }
    let after = app
        .get(&admin, &format!("/api/v1/brainstorms/{id}/stats"))
        .await;
    assert_eq!(after.body["votes"], 2, "nothing written");
    let closed_list = app
        .get(
            &admin,
            &format!(
                "/api/v1/brainstorms?status=closed&project_id={}",
                project["id"].as_str().expect("id")
            ),
        )
        .await;
    assert_eq!(ids(&closed_list.body["items"]), std::slice::from_ref(&id));
    assert_eq!(
        app.get(&admin, &format!("/api/v1/brainstorms/{id}"))
            .await
            .body,
        closed.body
    );
}

pub async fn brainstorm_input_and_callers_are_checked(app: &TestApp) {
    let admin = app.admin_token().await;
    let bad = app
        .post(
            &admin,
            "/api/v1/brainstorms",
            json!({"topic": " ", "facilitator": {"kind": "robot", "id": "0190a000-0000-7000-8000-000000000009"}}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["topic", "facilitator.kind"]);
    let ghost_project = app
        .post(
            &admin,
            "/api/v1/brainstorms",
            json!({"topic": "t", "project_id": "0190a000-0000-7000-8000-000000000009"}),
        )
        .await;
    ghost_project.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&ghost_project.body), ["project_id"]);
    let listed = app.get(&admin, "/api/v1/brainstorms").await;
    assert_eq!(listed.body["items"], json!([]), "nothing written");

    let created = app
        .post(&admin, "/api/v1/brainstorms", json!({"topic": "Names"}))
        .await;
    let id = created.body["id"].as_str().expect("id").to_owned();
    let ideas = format!("/api/v1/brainstorms/{id}/ideas");
    let empty = app.post(&admin, &ideas, json!({"text": ""})).await;
    empty.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&empty.body), ["text"]);
    app.get(
        &admin,
        &format!("/api/v1/brainstorms/{id}/top-ideas?limit=0"),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.get(&admin, "/api/v1/brainstorms?status=paused")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);

    // A developer holds collaboration:write: it puts ideas and votes as itself, never as
    // another user, and closes only the brainstorms it facilitates.
    let developer = app
        .create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let dev = app.token("dev@example.test", USER_PASSWORD).await;
    let idea = app.post(&dev, &ideas, json!({"text": "Nova"})).await;
    assert_eq!(idea.status, StatusCode::CREATED, "{}", idea.body);
    let as_admin = app
        .post(
            &dev,
            &ideas,
            json!({"text": "Orbit", "author": {"kind": "user", "id": created.body["facilitator"]["id"]}}),
        )
        .await;
    as_admin.assert_problem(StatusCode::FORBIDDEN);
    app.post(&dev, &format!("/api/v1/brainstorms/{id}/close"), json!({}))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let own = app
        .post(&dev, "/api/v1/brainstorms", json!({"topic": "Mascots"}))
        .await;
    assert_eq!(own.body["facilitator"]["id"], developer["id"]);
    let own_id = own.body["id"].as_str().expect("id");
    let closed = app
        .post(
            &dev,
            &format!("/api/v1/brainstorms/{own_id}/close"),
            json!({}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let still = app.get(&admin, &format!("/api/v1/brainstorms/{id}")).await;
    assert_eq!(still.body["status"], "open");
}

pub async fn mentorships_pair_and_record_sessions(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let me = app.get(&admin, "/api/v1/me").await.body["user"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let pairing = json!({"mentor": {"kind": "user", "id": me},
                         "mentee": {"kind": "agent", "id": ada},
                         "goals": ["review pull requests", "ship a release"]});
    let created = app
        .post(&admin, "/api/v1/mentorships", pairing.clone())
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/v1/mentorships/{id}")
    );
    assert_eq!(created.body["status"], "proposed");
    assert_eq!(
        created.body["goals"],
        json!(["review pull requests", "ship a release"])
    );
    let status = format!("/api/v1/mentorships/{id}/status");
    let sessions = format!("/api/v1/mentorships/{id}/sessions");

    app.post(&admin, &status, json!({"status": "completed"}))
        .await
        .assert_problem(StatusCode::CONFLICT);
    app.post(
        &admin,
        &sessions,
        json!({"duration_minutes": 30, "progress": 10}),
    )
    .await
    .assert_problem(StatusCode::CONFLICT);
    let active = app.post(&admin, &status, json!({"status": "active"})).await;
    assert_eq!(active.status, StatusCode::OK, "{}", active.body);
    assert!(active.body["started_at"].is_string());
    // A second pairing of the two cannot be active at once.
    let second = app.post(&admin, "/api/v1/mentorships", pairing).await;
    let second_id = second.body["id"].as_str().expect("id");
    let clash = app
        .post(
            &admin,
            &format!("/api/v1/mentorships/{second_id}/status"),
            json!({"status": "active"}),
        )
        .await;
    clash.assert_problem(StatusCode::CONFLICT);
    assert_eq!(fields(&clash.body), ["status"]);

    let first = app
        .post(
            &admin,
            &sessions,
            json!({"held_at": "2026-11-20T10:00:00Z", "duration_minutes": 45,
                   "notes": "walked through a review", "progress": 30}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["recorded_by"], format!("user:{me}"));
    app.post(
        &admin,
        &sessions,
        json!({"duration_minutes": 15, "progress": 70}),
    )
    .await;
    let bad = app
        .post(
            &admin,
            &sessions,
            json!({"duration_minutes": 0, "progress": 101}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["duration_minutes", "progress"]);
    let listed = app.get(&admin, &sessions).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(2));

    let stats = app
        .get(&admin, &format!("/api/v1/users/{me}/mentor-stats"))
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    assert_eq!(
        stats.body["mentorships"],
        json!({"proposed": 1, "active": 1, "completed": 0, "cancelled": 0})
    );
    assert_eq!(stats.body["sessions"], 2);
    assert_eq!(stats.body["total_minutes"], 60);
    assert_eq!(stats.body["mean_latest_progress"], 70.0);

    let done = app
        .post(&admin, &status, json!({"status": "completed"}))
        .await;
    assert_eq!(done.body["status"], "completed");
    assert!(done.body["ended_at"].is_string());
    app.post(
        &admin,
        &sessions,
        json!({"duration_minutes": 30, "progress": 90}),
    )
    .await
    .assert_problem(StatusCode::CONFLICT);
    let proposed = app
        .get(
            &admin,
            &format!("/api/v1/mentorships?mentee_kind=agent&mentee_id={ada}&status=proposed"),
        )
        .await;
    assert_eq!(ids(&proposed.body["items"]), [second_id.to_owned()]);
    let agent_stats = app
        .get(&admin, &format!("/api/v1/agents/{ada}/mentor-stats"))
        .await;
    assert_eq!(agent_stats.body["sessions"], 0);
    assert_eq!(agent_stats.body["mean_latest_progress"], Value::Null);
}

pub async fn mentorship_input_and_callers_are_checked(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = create_agent(app, &admin, "ada").await;
    let bob = create_agent(app, &admin, "bob").await;
    let agent = |id: &str| json!({"kind": "agent", "id": id});
    let oneself = app
        .post(
            &admin,
            "/api/v1/mentorships",
            json!({"mentor": agent(&ada), "mentee": agent(&ada), "goals": ["ship"]}),
        )
        .await;
    oneself.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&oneself.body), ["mentee"]);
    let bad = app
        .post(
            &admin,
            "/api/v1/mentorships",
            json!({"mentor": {"kind": "robot", "id": ada}, "mentee": agent(&bob), "goals": []}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["mentor.kind", "goals"]);
    let ghost = app
        .post(
            &admin,
            "/api/v1/mentorships",
            json!({"mentor": agent(&ada),
                   "mentee": agent("0190a000-0000-7000-8000-000000000009"), "goals": ["ship"]}),
        )
        .await;
    ghost.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&ghost.body), ["mentee"]);
    let listed = app.get(&admin, "/api/v1/mentorships").await;
    assert_eq!(listed.body["items"], json!([]), "nothing written");

    let created = app
        .post(
            &admin,
            "/api/v1/mentorships",
            json!({"mentor": agent(&ada), "mentee": agent(&bob), "goals": ["ship"]}),
        )
        .await;
    let id = created.body["id"].as_str().expect("id").to_owned();
    let status = format!("/api/v1/mentorships/{id}/status");
    app.post(&admin, &status, json!({"status": "paused"}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    // Neither mentor nor mentee: a developer needs collaboration:admin to move it.
    app.create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let dev = app.token("dev@example.test", USER_PASSWORD).await;
    app.post(&dev, &status, json!({"status": "active"}))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let unchanged = app.get(&admin, &format!("/api/v1/mentorships/{id}")).await;
    assert_eq!(unchanged.body["status"], "proposed");
    app.get(
        &admin,
        "/api/v1/agents/0190a000-0000-7000-8000-000000000009/mentor-stats",
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND);
}

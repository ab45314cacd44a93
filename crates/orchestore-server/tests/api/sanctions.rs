//! Rewards, violations, penalties and appeals; the permissions grants and suspensions give
//! and take from an agent's key and a user's token.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::points::{create_agent, fields};

fn id(body: &Value) -> String {
    body["id"].as_str().expect("an id").to_owned()
}

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let reply = app.post(token, path, body).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "POST {path}: {}",
        reply.body
    );
    reply.body
}

pub async fn rewards_are_redeemed_once_and_appeals_restore_points(app: &TestApp) {
    let admin = app.admin_token().await;
    let dev = app
        .create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let dev_id = id(&dev);
    let dev_token = app.token("dev@example.test", USER_PASSWORD).await;

    let reward = created(
        app,
        &admin,
        "/api/v1/rewards",
        json!({"recipient": {"kind": "user", "id": dev_id}, "kind": "points", "points": 40,
               "reason": "fixed the build"}),
    )
    .await;
    assert_eq!(reward["status"], "allocated");
    let redeem = format!("/api/v1/rewards/{}/redeem", id(&reward));
    let first = app.post(&dev_token, &redeem, json!(null)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["reward"]["status"], "redeemed");
    assert_eq!(first.body["point_award"]["points"], 40);
    let second = app.post(&dev_token, &redeem, json!(null)).await;
    second.assert_problem(StatusCode::CONFLICT);
    let standing = app
        .get(&admin, &format!("/api/v1/users/{dev_id}/standing"))
        .await;
    assert_eq!(standing.body["points"], 40, "redeemed once");

    // A violation, a penalty of 15 points, the developer's appeal, overturned.
    let violation = created(
        app,
        &admin,
        "/api/v1/violations",
        json!({"offender": {"kind": "user", "id": dev_id}, "rule": "tests pass before merge",
               "severity": "medium", "evidence": "CI run 42 was red"}),
    )
    .await;
    let penalty = created(
        app,
        &admin,
        "/api/v1/penalties",
        json!({"violation_id": id(&violation), "kind": "points", "points": 15,
               "reason": "merged on red"}),
    )
    .await;
    let standing = app
        .get(&admin, &format!("/api/v1/users/{dev_id}/standing"))
        .await;
    assert_eq!(standing.body["points"], 25);
    let by_admin = app
        .post(
            &admin,
            "/api/v1/appeals",
            json!({"penalty_id": id(&penalty), "reason": "not mine to appeal"}),
        )
        .await;
    assert_eq!(
        by_admin.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("penalty_id")
    );
    let appeal = created(
        app,
        &dev_token,
        "/api/v1/appeals",
        json!({"penalty_id": id(&penalty), "reason": "the run was a flake"}),
    )
    .await;
    let decision = format!("/api/v1/appeals/{}/decision", id(&appeal));
    let by_dev = app
        .post(
            &dev_token,
            &decision,
            json!({"outcome": "overturned", "reason": "mine"}),
        )
        .await;
    by_dev.assert_problem(StatusCode::FORBIDDEN);
    let decided = app
        .post(
            &admin,
            &decision,
            json!({"outcome": "overturned", "reason": "the rerun passed"}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.body);
    assert_eq!(decided.body["status"], "overturned");
    let again = app
        .post(
            &admin,
            &decision,
            json!({"outcome": "upheld", "reason": "changed my mind"}),
        )
        .await;
    again.assert_problem(StatusCode::CONFLICT);
    let standing = app
        .get(&admin, &format!("/api/v1/users/{dev_id}/standing"))
        .await;
    assert_eq!(standing.body["points"], 40, "the penalty's points are back");
    let penalty = app
        .get(&admin, &format!("/api/v1/penalties/{}", id(&penalty)))
        .await;
    assert_eq!(penalty.body["status"], "overturned");

    let summary = app.get(&admin, "/api/v1/sanctions/summary").await;
    assert_eq!(summary.status, StatusCode::OK, "{}", summary.body);
    assert_eq!(summary.body["points_deducted"], 15);
    assert_eq!(summary.body["points_restored"], 15);
    assert_eq!(summary.body["appeals_by_status"]["overturned"], 1);
    let mine = app
        .get(&dev_token, &format!("/api/v1/users/{dev_id}/sanctions"))
        .await;
    assert_eq!(mine.body["rewards_by_status"]["redeemed"], 1);

    let bad = app
        .post(
            &admin,
            "/api/v1/rewards",
            json!({"recipient": {"kind": "robot", "id": dev_id}, "kind": "permission",
                   "permission": "nothing:at_all", "duration_seconds": 0, "reason": ""}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&bad.body),
        ["recipient.kind", "reason", "permission", "duration_seconds"]
    );
    let bad = app
        .post(
            &admin,
            "/api/v1/penalties",
            json!({"violation_id": id(&violation), "kind": "points", "points": -3,
                   "reason": "x"}),
        )
        .await;
    assert_eq!(
        bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("points")
    );
    let listed = app
        .get(
            &admin,
            &format!("/api/v1/penalties?holder_kind=user&holder_id={dev_id}"),
        )
        .await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(1),
        "nothing written by the refused calls"
    );
}

pub async fn suspensions_and_grants_rule_an_agents_key_and_a_users_token(app: &TestApp) {
    let admin = app.admin_token().await;
    let agent = create_agent(app, &admin, "ada").await;
    let key = created(
        app,
        &admin,
        &format!("/api/v1/agents/{agent}/api-keys"),
        json!({"name": "worker"}),
    )
    .await;
    let key = key["secret"].as_str().expect("a secret").to_owned();
    let heartbeat = format!("/api/v1/agents/{agent}/heartbeat");
    let beat = app.post(&key, &heartbeat, json!(null)).await;
    assert_eq!(beat.status, StatusCode::OK, "{}", beat.body);

    // Suspended, the key's heartbeat is refused at the next request.
    let violation = created(
        app,
        &admin,
        "/api/v1/violations",
        json!({"offender": {"kind": "agent", "id": agent}, "rule": "no flapping",
               "severity": "high", "evidence": "42 heartbeats in a second"}),
    )
    .await;
    let suspension = created(
        app,
        &admin,
        "/api/v1/penalties",
        json!({"violation_id": id(&violation), "kind": "suspension",
               "permission": "agents:heartbeat", "duration_seconds": 3600,
               "reason": "cool off"}),
    )
    .await;
    assert_eq!(suspension["permission"], "agents:heartbeat");
    let refused = app.post(&key, &heartbeat, json!(null)).await;
    refused.assert_problem(StatusCode::FORBIDDEN);

    // The agent's role cannot appeal (`collaboration:write`); a granted permission lets it.
    let appeal = json!({"penalty_id": id(&suspension), "reason": "it was a clock bug"});
    let not_yet = app.post(&key, "/api/v1/appeals", appeal.clone()).await;
    not_yet.assert_problem(StatusCode::FORBIDDEN);
    let gift = created(
        app,
        &admin,
        "/api/v1/rewards",
        json!({"recipient": {"kind": "agent", "id": agent}, "kind": "permission",
               "permission": "collaboration:write", "duration_seconds": 600,
               "reason": "may appeal"}),
    )
    .await;
    let redeemed = app
        .post(
            &admin,
            &format!("/api/v1/rewards/{}/redeem", id(&gift)),
            json!(null),
        )
        .await;
    assert_eq!(redeemed.status, StatusCode::OK, "{}", redeemed.body);
    assert_eq!(redeemed.body["grant"]["permission"], "collaboration:write");
    let filed = created(app, &key, "/api/v1/appeals", appeal).await;
    let decided = app
        .post(
            &admin,
            &format!("/api/v1/appeals/{}/decision", id(&filed)),
            json!({"outcome": "overturned", "reason": "the clock was wrong"}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.body);
    let beat = app.post(&key, &heartbeat, json!(null)).await;
    assert_eq!(
        beat.status,
        StatusCode::OK,
        "the suspension is lifted: {}",
        beat.body
    );
    let held = app
        .get(&admin, &format!("/api/v1/agents/{agent}/sanctions"))
        .await;
    assert_eq!(held.body["active_grants"].as_array().map(Vec::len), Some(1));
    assert_eq!(held.body["active_suspensions"], json!([]));

    // A user's suspension stops their access token; the next one lacks the permission.
    let dev = app
        .create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let dev_token = app.token("dev@example.test", USER_PASSWORD).await;
    let project = app.create_project(&admin, "work").await;
    let new_task = json!({"project_id": project["id"], "title": "write docs"});
    let allowed = app
        .post(&dev_token, "/api/v1/tasks", new_task.clone())
        .await;
    assert_eq!(allowed.status, StatusCode::CREATED, "{}", allowed.body);
    let violation = created(
        app,
        &admin,
        "/api/v1/violations",
        json!({"offender": {"kind": "user", "id": id(&dev)}, "rule": "one task at a time",
               "severity": "low", "evidence": "opened 500 tasks"}),
    )
    .await;
    created(
        app,
        &admin,
        "/api/v1/penalties",
        json!({"violation_id": id(&violation), "kind": "suspension",
               "permission": "tasks:write", "duration_seconds": 3600, "reason": "slow down"}),
    )
    .await;
    let stale = app
        .post(&dev_token, "/api/v1/tasks", new_task.clone())
        .await;
    stale.assert_problem(StatusCode::UNAUTHORIZED);
    let fresh = app.token("dev@example.test", USER_PASSWORD).await;
    let refused = app.post(&fresh, "/api/v1/tasks", new_task).await;
    refused.assert_problem(StatusCode::FORBIDDEN);
    let me = app.get(&fresh, "/api/v1/me").await;
    let permissions = me.body["permissions"].as_array().expect("permissions");
    assert!(!permissions.contains(&json!("tasks:write")));
    assert!(permissions.contains(&json!("tasks:read")));
    // A grant ending in two minutes: the tokens signed now end with it.
    let soon = created(
        app,
        &admin,
        "/api/v1/rewards",
        json!({"recipient": {"kind": "user", "id": id(&dev)}, "kind": "permission",
               "permission": "agents:write", "duration_seconds": 120, "reason": "a hand"}),
    )
    .await;
    let granted = app
        .post(
            &admin,
            &format!("/api/v1/rewards/{}/redeem", id(&soon)),
            json!(null),
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    let login = app.login("dev@example.test", USER_PASSWORD).await;
    let lifetime = login.body["expires_in"].as_u64().expect("expires_in");
    assert!(
        (100..=120).contains(&lifetime),
        "the token ends with the grant: {lifetime}"
    );
    let swept = app
        .post(&admin, "/api/v1/sanctions/sweep", json!(null))
        .await;
    assert_eq!(swept.status, StatusCode::OK, "{}", swept.body);
    assert_eq!(swept.body["suspensions_ended"], 0);
}

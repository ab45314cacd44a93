//! `/api/v1/queue/claim` and the ends of a run under `/api/v1/tasks/{id}/…`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn agent(app: &TestApp, token: &str, name: &str, capabilities: &[&str]) -> String {
    let created = app
        .post(
            token,
            "/api/v1/agents",
            json!({"name": name, "kind": "ai", "capabilities": capabilities}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_str().expect("id").to_owned()
}

fn claimed_ids(reply: &Value) -> Vec<String> {
    ids(&reply["items"])
}

pub async fn workers_claim_heartbeat_and_complete(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Queue").await;
    let worker = agent(app, &token, "worker", &["rust"]).await;
    let low = app.create_task(&token, &project, "low").await;
    let high = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "high", "priority": 9,
                   "required_capabilities": ["rust"]}),
        )
        .await;
    assert_eq!(high.status, StatusCode::CREATED, "{}", high.body);

    let claimed = app
        .post(
            &token,
            "/api/v1/queue/claim",
            json!({"agent_id": worker, "limit": 5, "lease_seconds": 60}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(
        claimed_ids(&claimed.body),
        vec![
            high.body["id"].as_str().expect("id").to_owned(),
            low["id"].as_str().expect("id").to_owned()
        ]
    );
    let first = &claimed.body["items"][0];
    assert_eq!(first["status"], "running");
    assert_eq!(first["attempts"], 1);
    assert!(uuid_like(first["lease_token"].as_str().expect("token")));
    let id = first["id"].as_str().expect("id");
    // The token goes only to the claimer.
    let read = app.get(&token, &format!("/api/v1/tasks/{id}")).await;
    assert!(read.body.get("lease_token").is_none(), "{}", read.body);
    assert!(read.body["lease_expires_at"].is_string());

    let beat = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/heartbeat"),
            json!({"lease_token": first["lease_token"], "progress": 50}),
        )
        .await;
    assert_eq!(beat.status, StatusCode::OK, "{}", beat.body);
    assert_eq!(beat.body["progress"], 50);

    let wrong = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/complete"),
            json!({"lease_token": uuid::Uuid::new_v4()}),
        )
        .await;
    wrong.assert_problem(StatusCode::CONFLICT);
    let unchanged = app.get(&token, &format!("/api/v1/tasks/{id}")).await;
    assert_eq!(unchanged.body["status"], "running");

    let done = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/complete"),
            json!({"lease_token": first["lease_token"], "result": {"answer": 42}}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["status"], "succeeded");
    assert_eq!(done.body["result"], json!({"answer": 42}));
    let again = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/complete"),
            json!({"lease_token": first["lease_token"]}),
        )
        .await;
    again.assert_problem(StatusCode::CONFLICT);
    assert!(
        again.body["detail"]
            .as_str()
            .expect("detail")
            .contains("succeeded"),
        "{}",
        again.body
    );

    // A PATCH does not end a run: the worker does, with its token.
    let other = &claimed.body["items"][1];
    let other_id = other["id"].as_str().expect("id");
    let patched = app
        .patch(
            &token,
            &format!("/api/v1/tasks/{other_id}"),
            json!({"status": "succeeded"}),
        )
        .await;
    assert_eq!(
        patched.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("status")
    );
    let released = app
        .post(
            &token,
            &format!("/api/v1/tasks/{other_id}/release"),
            json!({"lease_token": other["lease_token"]}),
        )
        .await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert_eq!(
        (
            released.body["status"].clone(),
            released.body["attempts"].clone()
        ),
        (json!("queued"), json!(0))
    );
}

pub async fn failures_retry_then_dead_letter_and_cancel(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Queue").await;
    let worker = agent(app, &token, "worker", &[]).await;
    let created = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "flaky", "max_attempts": 1}),
        )
        .await;
    let id = created.body["id"].as_str().expect("id").to_owned();
    let claimed = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/claim"),
            json!({"agent_id": worker}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let failed = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/fail"),
            json!({"lease_token": claimed.body["lease_token"], "error": {"message": "boom"}}),
        )
        .await;
    assert_eq!(failed.status, StatusCode::OK, "{}", failed.body);
    assert_eq!(failed.body["status"], "failed");
    assert_eq!(
        app.task_ids(&token, "status=failed").await,
        vec![id.clone()]
    );
    let retried = app
        .post(&token, &format!("/api/v1/tasks/{id}/retry"), json!({}))
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    assert_eq!(retried.body["status"], "queued");
    let retry_again = app
        .post(&token, &format!("/api/v1/tasks/{id}/retry"), json!({}))
        .await;
    assert_eq!(
        retry_again.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("status")
    );

    let claimed = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/claim"),
            json!({"agent_id": worker}),
        )
        .await;
    let cancelled = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/cancel"),
            json!({"reason": "superseded"}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    let told = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/heartbeat"),
            json!({"lease_token": claimed.body["lease_token"]}),
        )
        .await;
    told.assert_problem(StatusCode::CONFLICT);
    assert!(
        told.body["detail"]
            .as_str()
            .expect("detail")
            .contains("cancelled")
    );
}

pub async fn claims_check_their_input(app: &TestApp) {
    let token = app.admin_token().await;
    let worker = agent(app, &token, "worker", &[]).await;
    let bad = app
        .post(
            &token,
            "/api/v1/queue/claim",
            json!({"agent_id": worker, "limit": 0, "lease_seconds": 0, "wait_seconds": 61}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = error_fields(&bad.body);
    fields.sort();
    assert_eq!(fields, ["lease_seconds", "limit", "wait_seconds"]);
    let unknown = app
        .post(
            &token,
            "/api/v1/queue/claim",
            json!({"agent_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(
        unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("agent_id")
    );
    let no_token = app
        .post(
            &token,
            &format!("/api/v1/tasks/{}/complete", uuid::Uuid::now_v7()),
            json!({}),
        )
        .await;
    assert_eq!(
        no_token.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_token.body
    );
}

pub async fn a_waiting_claim_answers_when_work_arrives(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Queue").await;
    let worker = agent(app, &token, "worker", &[]).await;
    let started = Instant::now();
    let (claimed, created) = tokio::join!(
        app.post(
            &token,
            "/api/v1/queue/claim",
            json!({"agent_id": worker, "wait_seconds": 30}),
        ),
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            app.create_task(&token, &project, "arrives").await
        }
    );
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(claimed_ids(&claimed.body), ids(&json!([created])));
    assert!(started.elapsed() < Duration::from_secs(10));

    let empty = app
        .post(
            &token,
            "/api/v1/queue/claim",
            json!({"agent_id": worker, "wait_seconds": 1}),
        )
        .await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["items"], json!([]));
}

pub async fn a_worker_authenticates_with_its_agents_api_key(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Queue").await;
    let worker = agent(app, &token, "worker", &[]).await;
    let other = agent(app, &token, "other", &[]).await;
    let issued = app
        .post(
            &token,
            &format!("/api/v1/agents/{worker}/api-keys"),
            json!({"name": "host-1"}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let key = issued.body["secret"].as_str().expect("secret").to_owned();
    let key_id = issued.body["id"].as_str().expect("id").to_owned();
    assert!(key.starts_with("osk_"));
    let listed = app
        .get(&token, &format!("/api/v1/agents/{worker}/api-keys"))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert!(
        listed.body["items"][0].get("secret").is_none(),
        "shown once"
    );

    let created = app.create_task(&token, &project, "for the worker").await;
    let claimed = app
        .post(&key, "/api/v1/queue/claim", json!({"limit": 1}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let task = &claimed.body["items"][0];
    assert_eq!(task["id"], created["id"]);
    assert_eq!(task["assigned_agent_id"], json!(worker));
    let id = task["id"].as_str().expect("id");
    let done = app
        .post(
            &key,
            &format!("/api/v1/tasks/{id}/complete"),
            json!({"lease_token": task["lease_token"]}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let events = app.get(&token, &format!("/api/v1/tasks/{id}/events")).await;
    assert_eq!(
        events.body["items"][2]["actor"],
        json!(format!("agent:{worker}")),
        "{}",
        events.body
    );
    let counted = app.get(&token, &format!("/api/v1/agents/{worker}")).await;
    assert_eq!(counted.body["tasks_completed"], 1);
    assert!(counted.body["last_heartbeat_at"].is_string());

    // The key acts for its agent only, and not as a person.
    let as_other = app
        .post(&key, "/api/v1/queue/claim", json!({"agent_id": other}))
        .await;
    as_other.assert_problem(StatusCode::FORBIDDEN);
    let me = app.get(&key, "/api/v1/me").await;
    me.assert_problem(StatusCode::FORBIDDEN);
    let users = app.get(&key, "/api/v1/users").await;
    users.assert_problem(StatusCode::FORBIDDEN);
    let sent = app
        .post(
            &key,
            "/api/v1/messages",
            json!({"recipient": {"kind": "agent", "id": other}, "content": "done"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    assert_eq!(sent.body["sender"], json!({"kind": "agent", "id": worker}));

    // A user must name the agent.
    let unnamed = app.post(&token, "/api/v1/queue/claim", json!({})).await;
    assert_eq!(
        unnamed.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("agent_id")
    );

    let revoked = app
        .delete(
            &token,
            &format!("/api/v1/agents/{worker}/api-keys/{key_id}"),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let refused = app.post(&key, "/api/v1/queue/claim", json!({})).await;
    refused.assert_problem(StatusCode::UNAUTHORIZED);
    let garbage = app
        .post("osk_nonsense", "/api/v1/queue/claim", json!({}))
        .await;
    garbage.assert_problem(StatusCode::UNAUTHORIZED);
}

/// A worker that claims under a 1-second lease and dies: once the lease has run out, another
/// agent's claim takes the task as attempt 2, and the dead worker's late completion is a 409
/// that changes nothing; the new holder completes it.
pub async fn a_dead_workers_late_completion_is_refused(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Queue").await;
    let dead = agent(app, &token, "dead", &[]).await;
    let heir = agent(app, &token, "heir", &[]).await;
    let created = app.create_task(&token, &project, "orphaned").await;
    let id = created["id"].as_str().expect("id").to_owned();
    let claim = |agent: &str| json!({"agent_id": agent, "lease_seconds": 1, "wait_seconds": 1});
    let first = app.post(&token, "/api/v1/queue/claim", claim(&dead)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(claimed_ids(&first.body), std::slice::from_ref(&id));
    let late_token = first.body["items"][0]["lease_token"].clone();

    // The dead worker sends nothing more; the heir's claims find the task once the lease ran
    // out (a claim that finds nothing sweeps expired leases).
    let started = Instant::now();
    let taken = loop {
        let reply = app.post(&token, "/api/v1/queue/claim", claim(&heir)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        if !claimed_ids(&reply.body).is_empty() {
            break reply.body["items"][0].clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "hang: never taken"
        );
    };
    assert_eq!(taken["id"], json!(id));
    assert_eq!(taken["attempts"], 2);
    assert_eq!(taken["assigned_agent_id"], json!(heir));

    let before = app.get(&token, &format!("/api/v1/tasks/{id}")).await;
    let events_before = app.get(&token, &format!("/api/v1/tasks/{id}/events")).await;
    let late = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/complete"),
            json!({"lease_token": late_token, "result": {"by": "dead"}}),
        )
        .await;
    late.assert_problem(StatusCode::CONFLICT);
    assert!(
        late.body["detail"]
            .as_str()
            .expect("detail")
            .contains("claimed again"),
        "{}",
        late.body
    );
    let after = app.get(&token, &format!("/api/v1/tasks/{id}")).await;
    assert_eq!(
        after.body, before.body,
        "the late completion changed nothing"
    );
    let events_after = app.get(&token, &format!("/api/v1/tasks/{id}/events")).await;
    assert_eq!(events_after.body, events_before.body);

    let done = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/complete"),
            json!({"lease_token": taken["lease_token"], "result": {"by": "heir"}}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(
        (
            &done.body["status"],
            &done.body["attempts"],
            &done.body["result"]
        ),
        (&json!("succeeded"), &json!(2), &json!({"by": "heir"}))
    );
}

pub async fn a_worker_completes_what_it_claimed_in_one_call(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Queue").await;
    let worker = agent(app, &token, "worker", &[]).await;
    for title in ["one", "two", "three"] {
        app.create_task(&token, &project, title).await;
    }
    let claimed = app
        .post(
            &token,
            "/api/v1/queue/claim",
            json!({"agent_id": worker, "limit": 3}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let items = claimed.body["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 3);
    let cancelled = items[1]["id"].as_str().expect("id");
    let cancel = app
        .post(
            &token,
            &format!("/api/v1/tasks/{cancelled}/cancel"),
            json!({"reason": "not needed"}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);

    // A body at fault ends nothing.
    let completions: Vec<Value> = items
        .iter()
        .map(|c| json!({"task_id": c["id"], "lease_token": c["lease_token"], "result": {"ok": true}}))
        .collect();
    let twice = app
        .post(
            &token,
            "/api/v1/queue/complete",
            json!({"completions": [completions[0], completions[0]]}),
        )
        .await;
    assert_eq!(
        twice.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("completions")
    );
    let empty = app
        .post(&token, "/api/v1/queue/complete", json!({"completions": []}))
        .await;
    empty.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let first = items[0]["id"].as_str().expect("id");
    let still = app.get(&token, &format!("/api/v1/tasks/{first}")).await;
    assert_eq!(still.body["status"], "running");

    let done = app
        .post(
            &token,
            "/api/v1/queue/complete",
            json!({"completions": completions}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let answers = done.body["items"].as_array().expect("items");
    assert_eq!(answers.len(), 3, "{}", done.body);
    for (answer, claimed) in answers.iter().zip(&items) {
        assert_eq!(answer["task_id"], claimed["id"], "in the order given");
    }
    assert_eq!(answers[0]["status"], 200);
    assert_eq!(answers[0]["task"]["status"], "succeeded");
    assert_eq!(answers[0]["task"]["result"], json!({"ok": true}));
    assert_eq!(answers[1]["status"], 409, "{}", done.body);
    assert_eq!(answers[1]["problem"]["status"], 409);
    assert!(answers[1].get("task").is_none());
    assert_eq!(answers[2]["status"], 200);
    let read = app.get(&token, &format!("/api/v1/tasks/{first}")).await;
    assert_eq!(read.body["status"], "succeeded");
}

pub async fn concurrency_keys_limit_claims_over_http(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Keys").await;
    let worker = agent(app, &token, "worker", &[]).await;
    let keyed = |title: &str, strategy: &str| {
        json!({"project_id": project["id"], "title": title,
               "concurrency": {"key": "repo:acme/web", "limit": 1, "strategy": strategy}})
    };
    let first = app
        .post(&token, "/api/v1/tasks", keyed("first", "queue"))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(
        first.body["concurrency"],
        json!({"key": "repo:acme/web", "limit": 1, "strategy": "queue"})
    );
    let second = app
        .post(&token, "/api/v1/tasks", keyed("second", "queue"))
        .await;
    let second_id = second.body["id"].as_str().expect("id").to_owned();
    let plain = app.create_task(&token, &project, "plain").await;
    assert!(plain["concurrency"].is_null(), "{plain}");

    // One of the key runs at a time; the keyless task runs beside it.
    let claimed = app
        .post(
            &token,
            "/api/v1/queue/claim",
            json!({"agent_id": worker, "limit": 5}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let mut got = claimed_ids(&claimed.body);
    got.sort();
    let mut expected = vec![
        first.body["id"].as_str().expect("id").to_owned(),
        plain["id"].as_str().expect("id").to_owned(),
    ];
    expected.sort();
    assert_eq!(got, expected);
    let refused = app
        .post(
            &token,
            &format!("/api/v1/tasks/{second_id}/claim"),
            json!({"agent_id": worker}),
        )
        .await;
    refused.assert_problem(StatusCode::CONFLICT);
    let detail = refused.body["detail"].as_str().expect("detail");
    assert!(detail.contains("concurrency key repo:acme/web"), "{detail}");
    let read = app.get(&token, &format!("/api/v1/tasks/{second_id}")).await;
    assert_eq!(read.body["status"], "queued");
    assert_eq!(read.body["concurrency"]["key"], "repo:acme/web");

    // cancel_newest: the key already has its one task queued and one running.
    let newest = app
        .post(&token, "/api/v1/tasks", keyed("newest", "cancel_newest"))
        .await;
    assert_eq!(newest.status, StatusCode::CREATED, "{}", newest.body);
    assert_eq!(newest.body["status"], "cancelled");

    // Bad concurrency: every field named.
    let bad = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "bad",
                   "concurrency": {"key": "has space", "limit": 0, "strategy": "newest"}}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "concurrency.key",
            "concurrency.limit",
            "concurrency.strategy"
        ]
    );
}

/// Tasks enqueued by the batch with fairness keys: a claim over HTTP spreads over the keys
/// (the large key's backlog was enqueued first), each task shows its key and weight, and bad
/// keys and weights are 422s naming them.
pub async fn fairness_keys_spread_claims_over_http(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Fair").await;
    let worker = agent(app, &token, "worker", &[]).await;
    let batch = |key: &str, n: usize| {
        let tasks: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                json!({"project_id": project["id"], "title": format!("{key} {i}"),
                       "fairness": {"key": key}})
            })
            .collect();
        json!({ "tasks": tasks })
    };
    let big = app
        .post(&token, "/api/v1/tasks/batch", batch("project:big", 40))
        .await;
    assert_eq!(big.status, StatusCode::CREATED, "{}", big.body);
    let small = app
        .post(&token, "/api/v1/tasks/batch", batch("project:small", 3))
        .await;
    assert_eq!(small.status, StatusCode::CREATED, "{}", small.body);
    let weighted = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "weighted",
                   "fairness": {"key": "project:small", "weight": 2}}),
        )
        .await;
    assert_eq!(weighted.status, StatusCode::CREATED, "{}", weighted.body);
    assert_eq!(
        weighted.body["fairness"],
        json!({"key": "project:small", "weight": 2})
    );
    let plain = app.create_task(&token, &project, "plain").await;
    assert!(plain["fairness"].is_null(), "{plain}");

    let claimed = app
        .post(
            &token,
            "/api/v1/queue/claim",
            json!({"agent_id": worker, "limit": 6}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let keys: Vec<String> = claimed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["fairness"]["key"].as_str().unwrap_or("-").to_owned())
        .collect();
    assert_eq!(keys.len(), 6, "{keys:?}");
    let small_count = keys.iter().filter(|k| *k == "project:small").count();
    assert!(small_count >= 2, "the small key takes its turns: {keys:?}");

    let bad = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "bad",
                   "fairness": {"key": "has space", "weight": 0}}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["fairness.key", "fairness.weight"]);
}

/// A payload and a result of 2 MiB each go through create, claim, complete and get unchanged;
/// a list says the payload's size instead of carrying it; over the hard maximum a payload is a
/// 422 naming it.
pub async fn megabyte_payloads_round_trip(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Large").await;
    let worker = agent(app, &token, "worker", &[]).await;
    let payload = json!({"text": "p".repeat(2 * 1024 * 1024), "n": [1, 2.5, -3]});
    let result = json!({"text": "r".repeat(2 * 1024 * 1024), "ok": true});

    let created = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "big", "payload": payload}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["payload"], payload);
    assert!(created.body.get("payload_bytes").is_none());
    let id = created.body["id"].as_str().expect("id").to_owned();

    let listed = app.get(&token, "/api/v1/tasks").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let item = &listed.body["items"][0];
    assert_eq!(item["payload"], Value::Null);
    assert_eq!(
        item["payload_bytes"].as_u64(),
        Some(payload.to_string().len() as u64)
    );

    let claimed = app
        .post(&token, "/api/v1/queue/claim", json!({"agent_id": worker}))
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    assert_eq!(claimed.body["items"][0]["payload"], payload);
    let lease_token = claimed.body["items"][0]["lease_token"].clone();

    let completed = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/complete"),
            json!({"lease_token": lease_token, "result": result}),
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
    assert_eq!(completed.body["result"], result);

    let read = app.get(&token, &format!("/api/v1/tasks/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["payload"], payload);
    assert_eq!(read.body["result"], result);

    let too_large = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "too large",
                   "payload": "x".repeat(4 * 1024 * 1024)}),
        )
        .await;
    assert_eq!(
        too_large.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("payload")
    );
}

//! Durable waits across a restart of the built binary: an execution reaches a step that waits
//! for a signal, the server stops (SIGTERM) and starts again, the signal resumes the execution,
//! and the next server's sweep ends a wait for a time so that the execution finishes.

use std::time::{Duration, Instant};

use orchestore_testkit::TestDb;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::shutdown::{Server, client_of};

/// Claims the one queued task for `agent` and completes it with `result`; returns its id.
async fn work_one(app: &TestApp, token: &str, agent: &str, result: Value) -> String {
    let claimed = app
        .post(
            token,
            "/api/v1/queue/claim",
            json!({"agent_id": agent, "lease_seconds": 600}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let items = claimed.body["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1, "one task is claimable: {}", claimed.body);
    let id = items[0]["id"].as_str().expect("id").to_owned();
    let done = app
        .post(
            token,
            &format!("/api/v1/tasks/{id}/complete"),
            json!({"lease_token": items[0]["lease_token"], "result": result}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    id
}

async fn wait_status(app: &TestApp, token: &str, execution: &str, step: &str) -> Value {
    let waits = app
        .get(
            token,
            &format!("/api/v1/workflows/executions/{execution}/waits"),
        )
        .await;
    assert_eq!(waits.status, StatusCode::OK, "{}", waits.body);
    waits.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|wait| wait["step"] == step)
        .unwrap_or_else(|| panic!("no wait of {step}: {}", waits.body))["status"]
        .clone()
}

async fn a_signal_resumes_an_execution_across_a_restart(db: TestDb) {
    let url = db.url().to_owned();
    let mut server = Server::start(&url);
    let app = client_of(&server, db);
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Releases").await;
    let agent = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "worker", "kind": "ai", "capabilities": []}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::CREATED, "{}", agent.body);
    let agent = agent.body["id"].as_str().expect("id").to_owned();
    let flow = app
        .post(&token, "/api/v1/workflows", json!({"name": "Release"}))
        .await;
    assert_eq!(flow.status, StatusCode::CREATED, "{}", flow.body);
    let flow = flow.body["id"].as_str().expect("id").to_owned();
    let version = app
        .post(
            &token,
            &format!("/api/v1/workflows/{flow}/versions"),
            json!({"definition": {"steps": [
                {"name": "prepare"},
                {"name": "approval", "depends_on": ["prepare"],
                 "wait": {"signal": "approve", "timeout_seconds": 3600,
                          "on_timeout": ["escalate"]}},
                {"name": "ship", "depends_on": ["approval"]},
                {"name": "escalate", "depends_on": ["approval"]},
                {"name": "cooldown", "depends_on": ["ship"], "wait": {"sleep_seconds": 1}},
            ]}}),
        )
        .await;
    assert_eq!(version.status, StatusCode::CREATED, "{}", version.body);
    assert_eq!(
        version.body["definition"]["steps"][1]["wait"]["signal"],
        "approve"
    );
    let started = app
        .post(
            &token,
            &format!("/api/v1/workflows/{flow}/executions"),
            json!({"project_id": project["id"], "input": {"tag": "v2"}}),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let execution = started.body["id"].as_str().expect("id").to_owned();
    let signal_path = format!("/api/v1/workflows/executions/{execution}/signals/approve");

    // Too early: the step is not reached yet.
    let early = app
        .post(&token, &signal_path, json!({"payload": {"by": "ada"}}))
        .await;
    early.assert_problem(StatusCode::CONFLICT);
    work_one(&app, &token, &agent, json!("prepared")).await;
    assert_eq!(
        wait_status(&app, &token, &execution, "approval").await,
        "waiting"
    );

    server.terminate();
    assert_eq!(server.exit_code().await, Some(0), "a clean exit");
    let mut server = Server::start(&url);
    let app = TestApp {
        base: server.base.clone(),
        ..app
    };
    let token = app.admin_token().await;

    // The wait outlived the server; nothing but the signal ends it.
    assert_eq!(
        wait_status(&app, &token, &execution, "approval").await,
        "waiting"
    );
    let unknown = app
        .post(
            &token,
            &format!("/api/v1/workflows/executions/{execution}/signals/deploy"),
            json!({}),
        )
        .await;
    unknown.assert_problem(StatusCode::NOT_FOUND);
    let signalled = app
        .post(&token, &signal_path, json!({"payload": {"by": "ada"}}))
        .await;
    assert_eq!(signalled.status, StatusCode::OK, "{}", signalled.body);
    assert_eq!(signalled.body["status"], "signalled");
    assert_eq!(signalled.body["payload"], json!({"by": "ada"}));
    let again = app
        .post(&token, &signal_path, json!({"payload": null}))
        .await;
    again.assert_problem(StatusCode::CONFLICT);

    work_one(&app, &token, &agent, json!("shipped")).await;
    // The cooldown ends by the new server's sweep, and with it the execution.
    let path = format!("/api/v1/workflows/{flow}/executions/{execution}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let finished = loop {
        let reply = app.get(&token, &path).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        if reply.body["status"] != "running" {
            break reply.body;
        }
        assert!(Instant::now() < deadline, "still running: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(finished["status"], "succeeded", "{finished}");
    assert_eq!(finished["output"]["approval"], json!({"by": "ada"}));
    assert_eq!(finished["output"]["ship"], "shipped");
    assert_eq!(finished["output"]["escalate"], Value::Null);
    assert_eq!(
        wait_status(&app, &token, &execution, "cooldown").await,
        "elapsed"
    );
    let ended = app
        .post(&token, &signal_path, json!({"payload": null}))
        .await;
    ended.assert_problem(StatusCode::CONFLICT);
    server.terminate();
    assert_eq!(server.exit_code().await, Some(0));
}

on_file_backends! {
    a_signal_resumes_an_execution_across_a_restart,
}

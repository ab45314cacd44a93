//! SIGTERM, as a deployer's orchestrator sends it: the `orchestore` binary stops accepting,
//! lets the request in flight finish, exits 0, and leaves every lease it handed out valid, so
//! that a worker carries on against the next server.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use orchestore_testkit::{TEST_BCRYPT_COST, TestDb};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};

/// A `orchestore serve` process and the base URL it listens on.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    /// Starts the binary on `url`, port 0, and reads the port from its `listening` log line.
    pub(crate) fn start(url: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_orchestore"))
            .arg("serve")
            .env_clear()
            .env("DATABASE_URL", url)
            .env("ORCHESTORE__SERVER__PORT", "0")
            .env("ORCHESTORE__LOG__FORMAT", "json")
            .env("ORCHESTORE__LOG__LEVEL", "info")
            .env(
                "ORCHESTORE__AUTH__BCRYPT_COST",
                TEST_BCRYPT_COST.to_string(),
            )
            .env("ORCHESTORE__BOOTSTRAP__ADMIN_EMAIL", ADMIN_EMAIL)
            .env("ORCHESTORE__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("orchestore starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("the server logs `listening` before its log ends")
                .expect("a log line");
            let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if entry["fields"]["message"] == "listening" {
                break entry["fields"]["port"].as_u64().expect("a port");
            }
        };
        // Keep draining the log so that the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    pub(crate) fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM is delivered");
    }

    /// Waits (at most a minute) for the process to exit; its exit code.
    pub(crate) async fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("the process is there") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed assertion must not leave a server behind.
        self.child.kill().ok();
    }
}

pub(crate) fn client_of(server: &Server, db: TestDb) -> TestApp {
    TestApp {
        base: server.base.clone(),
        http: reqwest::Client::new(),
        store: Arc::new(db.store().clone()),
        db,
    }
}

async fn sigterm_lets_requests_finish_and_leases_survive(db: TestDb) {
    let url = db.url().to_owned();
    let mut server = Server::start(&url);
    let app = client_of(&server, db);
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Shutdown").await;
    let agent = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "worker", "kind": "ai", "capabilities": []}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::CREATED, "{}", agent.body);
    let agent = agent.body["id"].as_str().expect("id").to_owned();
    app.create_task(&token, &project, "held across a restart")
        .await;
    let claimed = app
        .post(
            &token,
            "/api/v1/queue/claim",
            json!({"agent_id": agent, "lease_seconds": 600}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let held = claimed.body["items"][0].clone();
    let id = held["id"].as_str().expect("a claimed task").to_owned();
    let before = app.get(&token, &format!("/api/v1/tasks/{id}")).await.body;

    // A worker waits for work; SIGTERM arrives while it waits.
    let waiting = {
        let (http, base, token, agent) = (
            app.http.clone(),
            app.base.clone(),
            token.clone(),
            agent.clone(),
        );
        tokio::spawn(async move {
            let started = Instant::now();
            let reply = http
                .post(format!("{base}/api/v1/queue/claim"))
                .bearer_auth(token)
                .json(&json!({"agent_id": agent, "wait_seconds": 2}))
                .send()
                .await
                .expect("the waiting claim is answered");
            let status = reply.status();
            let body: Value = reply.json().await.expect("a JSON body");
            (status, body, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.terminate();
    let (status, body, waited) = waiting.await.expect("the waiting claim ends");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"], json!([]), "nothing was queued");
    assert!(waited >= Duration::from_secs(2), "it waited its full wait");
    assert_eq!(server.exit_code().await, Some(0), "a clean exit");

    // The next server finds the lease as it was; the worker heartbeats and completes with it.
    let mut server = Server::start(&url);
    let app = TestApp {
        base: server.base.clone(),
        ..app
    };
    let token = app.admin_token().await;
    let after = app.get(&token, &format!("/api/v1/tasks/{id}")).await.body;
    assert_eq!(after["status"], "running");
    assert_eq!(after["lease_expires_at"], before["lease_expires_at"]);
    assert_eq!(after["attempts"], 1);
    let lease = json!({"lease_token": held["lease_token"]});
    let beat = app
        .post(
            &token,
            &format!("/api/v1/tasks/{id}/heartbeat"),
            lease.clone(),
        )
        .await;
    assert_eq!(beat.status, StatusCode::OK, "{}", beat.body);
    let done = app
        .post(&token, &format!("/api/v1/tasks/{id}/complete"), lease)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.body["status"], "succeeded");
    server.terminate();
    assert_eq!(server.exit_code().await, Some(0));
}

on_file_backends! {
    sigterm_lets_requests_finish_and_leases_survive,
}

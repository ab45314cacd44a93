//! A worker over HTTP: it claims tasks for its agent, heartbeats while it works, completes or
//! fails each run, and on Ctrl-C stops claiming, lets the runs in hand finish for a grace period,
//! releases the rest, and exits.
//!
//! ```sh
//! # an agent and a key for it (the key is shown once):
//! curl -s -X POST localhost:8080/api/v1/agents/$AGENT/api-keys -H "authorization: Bearer $TOKEN" \
//!      -H 'content-type: application/json' -d '{"name": "my-laptop"}'
//! ORCHESTORE_API_KEY=osk_… cargo run --example worker
//! ```
//!
//! Settings, from the environment: `ORCHESTORE_URL` (default `http://127.0.0.1:8080`),
//! `ORCHESTORE_API_KEY` (required), `WORKER_SLOTS` (tasks at once, default 4).
//!
//! The work itself is a stand-in: a task whose payload has `"sleep_ms": n` takes that long, and
//! one with `"fail": true` fails; its result echoes the payload.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// How long a claim holds a task between heartbeats.
const LEASE_SECONDS: u64 = 60;
/// How long an idle claim waits for work before asking again (and how long Ctrl-C may take to
/// be heard while idle).
const WAIT_SECONDS: u64 = 5;
/// How long runs in hand may go on after Ctrl-C before they are released.
const GRACE: Duration = Duration::from_secs(10);

type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> Result<(reqwest::StatusCode, Value), Error> {
        let response = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let api = Api {
        http: reqwest::Client::new(),
        base: std::env::var("ORCHESTORE_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into()),
        key: std::env::var("ORCHESTORE_API_KEY").map_err(|_| "set ORCHESTORE_API_KEY=osk_…")?,
    };
    let slots: usize = std::env::var("WORKER_SLOTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let free = Arc::new(Semaphore::new(slots));
    let (stop, stopping) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping: no new claims; finishing what is in hand");
            let _ = stop.send(true);
        }
    });

    let mut runs = JoinSet::new();
    while !*stopping.borrow() {
        // Claim only as many as there are free slots.
        let Ok(permit) = free.clone().acquire_many_owned(1).await else {
            break;
        };
        let limit = 1 + free.available_permits();
        let claim = api.post(
            "/queue/claim",
            json!({"limit": limit, "lease_seconds": LEASE_SECONDS, "wait_seconds": WAIT_SECONDS}),
        );
        // Not abandoned on Ctrl-C: the server would go on waiting and could claim a task for a
        // worker that has gone. The claim answers within `WAIT_SECONDS`.
        let (status, body) = claim.await?;
        if *stopping.borrow() {
            for task in body["items"].as_array().into_iter().flatten() {
                let (id, token) = (&task["id"], &task["lease_token"]);
                let id = id.as_str().unwrap_or_default();
                let released = api
                    .post(
                        &format!("/tasks/{id}/release"),
                        json!({"lease_token": token}),
                    )
                    .await;
                eprintln!(
                    "task {id}: claimed while stopping, released: {:?}",
                    released.map(|r| r.0)
                );
            }
            break;
        }
        if !status.is_success() {
            eprintln!("claim refused ({status}): {body}");
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        let tasks = body["items"].as_array().cloned().unwrap_or_default();
        let mut permit = Some(permit);
        for task in tasks {
            // The first task takes the permit already held; the others take their own.
            let slot = match permit.take() {
                Some(held) => held,
                None => match free.clone().try_acquire_owned() {
                    Ok(slot) => slot,
                    Err(_) => break,
                },
            };
            let (api, stopping) = (api.clone(), stopping.clone());
            runs.spawn(async move {
                if let Err(error) = run(&api, &task, stopping).await {
                    eprintln!("task {}: {error}", task["id"]);
                }
                drop(slot);
            });
        }
    }
    while runs.join_next().await.is_some() {}
    Ok(())
}

/// Works on one claimed task: heartbeats every third of the lease, then completes or fails it;
/// after Ctrl-C and the grace period, releases it instead.
async fn run(api: &Api, task: &Value, mut stopping: watch::Receiver<bool>) -> Result<(), Error> {
    let id = task["id"].as_str().ok_or("a claimed task without an id")?;
    let token = task["lease_token"].clone();
    let work = work(&task["payload"]);
    tokio::pin!(work);
    let mut beat = tokio::time::interval(Duration::from_secs(LEASE_SECONDS / 3));
    beat.tick().await;
    let mut deadline = None::<tokio::time::Instant>;
    let outcome = loop {
        let grace_over = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            outcome = &mut work => break Some(outcome),
            _ = beat.tick() => {
                let (status, body) = api
                    .post(&format!("/tasks/{id}/heartbeat"), json!({"lease_token": token}))
                    .await?;
                if status == reqwest::StatusCode::CONFLICT {
                    // Cancelled, or the lease was lost: the run is no longer ours.
                    eprintln!("task {id}: {}", body["detail"]);
                    return Ok(());
                }
            }
            _ = stopping.changed(), if deadline.is_none() => {
                deadline = Some(tokio::time::Instant::now() + GRACE);
            }
            () = grace_over => break None,
        }
    };
    let (path, body) = match outcome {
        Some(Ok(result)) => ("complete", json!({"lease_token": token, "result": result})),
        Some(Err(error)) => (
            "fail",
            json!({"lease_token": token, "error": {"message": error}}),
        ),
        None => ("release", json!({"lease_token": token})),
    };
    let (status, reply) = api.post(&format!("/tasks/{id}/{path}"), body).await?;
    eprintln!("task {id}: {path} → {status} {}", reply["status"]);
    Ok(())
}

/// The stand-in for real work.
async fn work(payload: &Value) -> Result<Value, String> {
    if let Some(ms) = payload["sleep_ms"].as_u64() {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if payload["fail"].as_bool() == Some(true) {
        return Err("the payload asked to fail".to_owned());
    }
    Ok(json!({ "echo": payload }))
}

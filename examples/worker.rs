//! A worker over HTTP, written with the typed client (`orchestore-client`): it claims tasks for
//! its agent, heartbeats while it works, completes or fails each run, and on Ctrl-C stops
//! claiming, lets the runs in hand finish for a grace period, releases the rest, and exits.
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

use orchestore_client::api::queue::{
    ClaimBody, CompleteBody, FailBody, HeartbeatBody, ReleaseBody,
};
use orchestore_client::{Client, Credential, Error};
use orchestore_domain::ClaimedTask;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// How long a claim holds a task between heartbeats.
const LEASE_SECONDS: i64 = 60;
/// How long an idle claim waits for work before asking again (and how long Ctrl-C may take to
/// be heard while idle).
const WAIT_SECONDS: i64 = 5;
/// How long runs in hand may go on after Ctrl-C before they are released.
const GRACE: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::var("ORCHESTORE_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let key = std::env::var("ORCHESTORE_API_KEY").map_err(|_| "set ORCHESTORE_API_KEY=osk_…")?;
    let client = Client::new(&base, Credential::ApiKey(key))?;
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
        // Not abandoned on Ctrl-C: the server would go on waiting and could claim a task for a
        // worker that has gone. The claim answers within `WAIT_SECONDS`.
        let claimed = client
            .claim_tasks(&ClaimBody {
                agent_id: None, // the agent's key implies its agent
                limit: Some(i64::try_from(limit).unwrap_or(1000).min(1000)),
                lease_seconds: Some(LEASE_SECONDS),
                wait_seconds: Some(WAIT_SECONDS),
            })
            .await;
        let tasks = match claimed {
            Ok(claimed) => claimed.items,
            Err(error) => {
                eprintln!("claim failed: {error}");
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            }
        };
        if *stopping.borrow() {
            for task in tasks {
                let released = client
                    .release_task(
                        task.task.id,
                        &ReleaseBody {
                            lease_token: task.lease_token,
                        },
                    )
                    .await;
                eprintln!(
                    "task {}: claimed while stopping, released: {}",
                    task.task.id,
                    released.map_or_else(|e| e.to_string(), |_| "ok".to_owned())
                );
            }
            break;
        }
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
            let (client, stopping) = (client.clone(), stopping.clone());
            runs.spawn(async move {
                if let Err(error) = run(&client, &task, stopping).await {
                    eprintln!("task {}: {error}", task.task.id);
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
async fn run(
    client: &Client,
    claimed: &ClaimedTask,
    mut stopping: watch::Receiver<bool>,
) -> Result<(), Error> {
    let (id, lease_token) = (claimed.task.id, claimed.lease_token);
    let payload = claimed.task.payload.as_value().clone();
    let work = work(&payload);
    tokio::pin!(work);
    let mut beat = tokio::time::interval(Duration::from_secs((LEASE_SECONDS / 3).unsigned_abs()));
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
                let beat = client
                    .heartbeat_task(id, &HeartbeatBody {
                        lease_token,
                        lease_seconds: Some(LEASE_SECONDS),
                        progress: None,
                    })
                    .await;
                match beat {
                    Ok(_) => {}
                    // Cancelled, or the lease was lost: the run is no longer ours.
                    Err(Error::Problem(problem)) if problem.status == 409 => {
                        eprintln!("task {id}: {}", problem.detail);
                        return Ok(());
                    }
                    // The server is out of reach for now: the lease outlives a missed beat.
                    Err(error) => eprintln!("task {id}: heartbeat failed: {error}"),
                }
            }
            _ = stopping.changed(), if deadline.is_none() => {
                deadline = Some(tokio::time::Instant::now() + GRACE);
            }
            () = grace_over => break None,
        }
    };
    let (ended, task) = match outcome {
        Some(Ok(result)) => (
            "complete",
            client
                .complete_task(
                    id,
                    &CompleteBody {
                        lease_token,
                        result: Some(result),
                    },
                )
                .await?,
        ),
        Some(Err(message)) => (
            "fail",
            client
                .fail_task(
                    id,
                    &FailBody {
                        lease_token,
                        error: Some(json!({ "message": message })),
                        retry: None,
                    },
                )
                .await?,
        ),
        None => (
            "release",
            client
                .release_task(id, &ReleaseBody { lease_token })
                .await?,
        ),
    };
    eprintln!("task {id}: {ended} → {:?}", task.status);
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

//! Concurrency keys: a claim never runs more tasks of a key than its limit, a claim of one
//! task says when its key is full, `cancel_newest` creates the tasks over the limit cancelled,
//! and the latest enqueue sets a key's limit.

use orchestore_domain::{
    AgentId, BatchTask, ClaimLimit, ClaimRequest, ClaimedTask, ConcurrencyKey, ConcurrencyLimit,
    ConcurrencyStrategy, LeaseDuration, NewTask, Priority, ProjectId, TaskConcurrency, TaskId,
    TaskStatus,
};
use orchestore_repo::{Ctx, RepoError, Store};

use super::graph::{reasons, status_of, worker};
use crate::Fixture;
use crate::cases::{PASSWORD, task};

fn concurrency(key: &str, limit: i64, strategy: ConcurrencyStrategy) -> TaskConcurrency {
    TaskConcurrency {
        key: ConcurrencyKey::parse(key).expect("key"),
        limit: ConcurrencyLimit::parse(limit).expect("limit"),
        strategy,
    }
}

fn keyed(
    project: ProjectId,
    title: &str,
    key: &str,
    limit: i64,
    strategy: ConcurrencyStrategy,
) -> NewTask {
    NewTask {
        concurrency: Some(concurrency(key, limit, strategy)),
        ..task(project, title)
    }
}

/// The tasks one claim of up to `limit` tasks hands `agent`.
async fn claim<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    agent: AgentId,
    limit: i64,
) -> Vec<ClaimedTask> {
    let request = ClaimRequest {
        limit: ClaimLimit::parse(limit).expect("claim limit"),
        ..ClaimRequest::one(agent)
    };
    store.claim_tasks(ctx, request).await.expect("claim")
}

fn ids(claimed: &[ClaimedTask]) -> Vec<TaskId> {
    claimed.iter().map(|c| c.task.id).collect()
}

/// Ends the run of `claimed` in success.
async fn finish<S: Store + ?Sized>(store: &S, ctx: &Ctx, claimed: &ClaimedTask) {
    store
        .complete_task(ctx, claimed.task.id, claimed.lease_token, None)
        .await
        .expect("complete");
}

pub async fn claims_never_run_more_tasks_of_a_key_than_its_limit<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "runner", &[]).await;
    let queue = ConcurrencyStrategy::Queue;
    let mut web = Vec::new();
    for title in ["web 1", "web 2", "web 3"] {
        let new = NewTask {
            priority: Priority::parse(5).expect("priority"),
            ..keyed(project.id, title, "repo:acme/web", 2, queue)
        };
        web.push(store.create_task(ctx, new).await.expect("web task").id);
    }
    let api = store
        .create_task(ctx, keyed(project.id, "api", "repo:acme/api", 1, queue))
        .await
        .expect("api task");
    let keyless = store
        .create_task(ctx, task(project.id, "keyless"))
        .await
        .expect("keyless task");
    assert_eq!(
        api.concurrency,
        Some(concurrency("repo:acme/api", 1, queue)),
        "a task shows its key"
    );
    assert_eq!(keyless.concurrency, None);

    // The third web task waits: its key has two running. The others run.
    let claimed = claim(store, ctx, agent.id, 10).await;
    let mut first = ids(&claimed);
    first.sort();
    let mut expected = vec![web[0], web[1], api.id, keyless.id];
    expected.sort();
    assert_eq!(first, expected);
    assert_eq!(status_of(store, ctx, web[2]).await, TaskStatus::Queued);
    assert!(claim(store, ctx, agent.id, 10).await.is_empty());

    // The same key in another organization is another key.
    let theirs = other.project(store, "Theirs").await;
    let their_agent = worker(store, &other.ctx, "theirs", &[]).await;
    let their_task = store
        .create_task(
            &other.ctx,
            keyed(theirs.id, "their web", "repo:acme/web", 1, queue),
        )
        .await
        .expect("their task");
    assert_eq!(
        ids(&claim(store, &other.ctx, their_agent.id, 10).await),
        vec![their_task.id]
    );

    // A run of the key ends: the waiting task runs.
    let web_run = claimed
        .iter()
        .find(|c| c.task.id == web[0])
        .expect("the first web task ran");
    finish(store, ctx, web_run).await;
    assert_eq!(ids(&claim(store, ctx, agent.id, 10).await), vec![web[2]]);
}

pub async fn claiming_a_task_of_a_full_key_says_why<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "runner", &[]).await;
    let queue = ConcurrencyStrategy::Queue;
    let running = store
        .create_task(ctx, keyed(project.id, "first", "deploy", 1, queue))
        .await
        .expect("first");
    let waiting = store
        .create_task(ctx, keyed(project.id, "second", "deploy", 1, queue))
        .await
        .expect("second");
    store
        .claim_task(ctx, running.id, agent.id, LeaseDuration::default())
        .await
        .expect("claim the first");

    let refused = store
        .claim_task(ctx, waiting.id, agent.id, LeaseDuration::default())
        .await;
    match refused {
        Err(RepoError::Conflict { reason, .. }) => {
            assert!(
                reason.contains("concurrency key deploy has its limit of 1"),
                "{reason}"
            );
        }
        other => panic!("expected a conflict naming the key, got {other:?}"),
    }
    assert_eq!(status_of(store, ctx, waiting.id).await, TaskStatus::Queued);

    // Cancelling the running task frees the key.
    store
        .cancel_task(ctx, running.id, None, None)
        .await
        .expect("cancel");
    let claimed = store
        .claim_task(ctx, waiting.id, agent.id, LeaseDuration::default())
        .await
        .expect("claim the second");
    assert_eq!(claimed.task.status, TaskStatus::Running);
}

pub async fn cancel_newest_creates_the_tasks_over_the_limit_cancelled<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "runner", &[]).await;
    let newest = ConcurrencyStrategy::CancelNewest;
    let one = |title: &str| BatchTask::from(keyed(project.id, title, "sync", 2, newest));
    let mut over = one("third");
    let after_over = BatchTask {
        depends_on_batch: [2].into(),
        ..BatchTask::from(task(project.id, "after the third"))
    };
    over.depends_on_batch.clear();
    let batch = vec![one("first"), one("second"), over, after_over];
    let enqueued = store.enqueue_tasks(ctx, batch).await.expect("enqueue");
    let statuses: Vec<TaskStatus> = enqueued.iter().map(|e| e.task.status).collect();
    assert_eq!(
        statuses,
        [
            TaskStatus::Queued,
            TaskStatus::Queued,
            TaskStatus::Cancelled,
            TaskStatus::Cancelled
        ]
    );
    let third = &enqueued[2].task;
    assert!(third.finished_at.is_some(), "a cancelled task has ended");
    let history = reasons(store, ctx, third.id).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(history[0].contains("cancel_newest"), "{history:?}");
    let dependent = reasons(store, ctx, enqueued[3].task.id).await;
    assert!(
        dependent[0].contains(&third.id.to_string()),
        "{dependent:?}"
    );

    // A running task still counts; one that ended does not.
    let running = claim(store, ctx, agent.id, 1).await;
    assert_eq!(ids(&running), vec![enqueued[0].task.id]);
    let refused = store
        .create_task(ctx, keyed(project.id, "fourth", "sync", 2, newest))
        .await
        .expect("fourth");
    assert_eq!(refused.status, TaskStatus::Cancelled);
    finish(store, ctx, &running[0]).await;
    let admitted = store
        .create_task(ctx, keyed(project.id, "fifth", "sync", 2, newest))
        .await
        .expect("fifth");
    assert_eq!(admitted.status, TaskStatus::Queued);
}

pub async fn the_latest_enqueue_sets_a_keys_limit<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "runner", &[]).await;
    let queue = ConcurrencyStrategy::Queue;
    let mut first = Vec::new();
    for title in ["a", "b", "c"] {
        let created = store
            .create_task(ctx, keyed(project.id, title, "build", 1, queue))
            .await
            .expect("task");
        first.push(created.id);
    }
    assert_eq!(claim(store, ctx, agent.id, 10).await.len(), 1);

    // A later task raises the limit to 3: two more of the key run.
    let raised = store
        .create_task(ctx, keyed(project.id, "d", "build", 3, queue))
        .await
        .expect("raised");
    assert_eq!(raised.concurrency, Some(concurrency("build", 3, queue)));
    assert_eq!(claim(store, ctx, agent.id, 10).await.len(), 2);
    assert!(claim(store, ctx, agent.id, 10).await.is_empty());
    let earlier = store.get_task(ctx, first[2]).await.expect("earlier");
    assert_eq!(
        earlier.concurrency,
        Some(concurrency("build", 1, queue)),
        "a task keeps the limit it was enqueued with"
    );
}

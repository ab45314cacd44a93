//! Fairness keys: within one organization, claims serve the keys with claimable work in turn,
//! among the tasks of the highest priority, so a key with a large backlog cannot starve one
//! with a small one; weights divide the turns, and concurrent claimers keep the rotation.

use std::collections::HashMap;

use orchestore_domain::{
    AgentId, BatchTask, ClaimLimit, ClaimRequest, ClaimedTask, FairnessKey, FairnessWeight,
    NewTask, Priority, ProjectId, TaskFairness, TaskId,
};
use orchestore_repo::{Ctx, Store};

use super::graph::worker;
use crate::Fixture;
use crate::cases::{PASSWORD, task};

fn fairness(key: &str, weight: i64) -> TaskFairness {
    TaskFairness {
        key: FairnessKey::parse(key).expect("key"),
        weight: FairnessWeight::parse(weight).expect("weight"),
    }
}

/// `n` tasks of `key` with `weight`, enqueued in one batch.
async fn backlog<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    project: ProjectId,
    key: &str,
    weight: i64,
    n: usize,
) -> Vec<TaskId> {
    let tasks: Vec<BatchTask> = (0..n)
        .map(|i| {
            BatchTask::from(NewTask {
                fairness: Some(fairness(key, weight)),
                ..task(project, &format!("{key} {i}"))
            })
        })
        .collect();
    store
        .enqueue_tasks(ctx, tasks)
        .await
        .expect("enqueue")
        .into_iter()
        .map(|e| e.task.id)
        .collect()
}

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

/// The fairness key of each claimed task (`-` for none).
fn keys(claimed: &[ClaimedTask]) -> Vec<String> {
    claimed
        .iter()
        .map(|c| {
            c.task
                .fairness
                .as_ref()
                .map_or_else(|| "-".to_owned(), |f| f.key.to_string())
        })
        .collect()
}

fn count(keys: &[String], key: &str) -> usize {
    keys.iter().filter(|k| *k == key).count()
}

/// Key A has 10,000 queued tasks and key B, enqueued after them, 10: B's tasks all start
/// within the first 20 one-task claims. A claim of several tasks spreads over the keys, a task
/// without a key takes its turn as a group of its own, and priority still comes first.
pub async fn a_small_key_is_not_starved_by_a_large_one<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "runner", &[]).await;
    backlog(store, ctx, project.id, "project:big", 1, 10_000).await;
    let small = backlog(store, ctx, project.id, "project:small", 1, 10).await;
    let shown = store.get_task(ctx, small[0]).await.expect("get");
    assert_eq!(shown.fairness, Some(fairness("project:small", 1)));

    let mut served = Vec::new();
    for _ in 0..20 {
        let claimed = claim(store, ctx, agent.id, 1).await;
        assert_eq!(claimed.len(), 1);
        served.extend(keys(&claimed));
    }
    assert_eq!(count(&served, "project:small"), 10, "{served:?}");
    // Taking turns, not in runs.
    for pair in served.chunks(2) {
        assert!(pair.contains(&"project:small".to_owned()), "{served:?}");
    }

    // A new key starts at the organization's lowest pass, within a claim of the others rather
    // than owed every task they took: a claim of ten spreads over both keys.
    backlog(store, ctx, project.id, "project:new", 1, 10).await;
    let spread = keys(&claim(store, ctx, agent.id, 10).await);
    assert_eq!(spread.len(), 10);
    assert!(
        (4..=6).contains(&count(&spread, "project:big")),
        "{spread:?}"
    );

    // A task without a key is one more group, served in its turn rather than after the
    // backlog it was enqueued behind.
    let keyless = store
        .create_task(ctx, task(project.id, "no key"))
        .await
        .expect("keyless");
    assert_eq!(keyless.fairness, None);
    // A claim that found no keyless work may not look again for a second.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let claimed = claim(store, ctx, agent.id, 3).await;
    assert!(
        claimed.iter().any(|c| c.task.id == keyless.id),
        "{:?}",
        keys(&claimed)
    );

    // Priority first: an urgent task of the large key goes before every turn.
    let urgent = store
        .create_task(
            ctx,
            NewTask {
                priority: Priority::parse(9).expect("priority"),
                fairness: Some(fairness("project:big", 1)),
                ..task(project.id, "urgent")
            },
        )
        .await
        .expect("urgent");
    let claimed = claim(store, ctx, agent.id, 1).await;
    assert_eq!(claimed[0].task.id, urgent.id);

    // Another organization's claims see none of this.
    let other = Fixture::create(store, "other", PASSWORD).await;
    let theirs = other.project(store, "Theirs").await;
    let their_agent = worker(store, &other.ctx, "theirs", &[]).await;
    let their_task = store
        .create_task(&other.ctx, task(theirs.id, "theirs"))
        .await
        .expect("their task");
    let claimed = claim(store, &other.ctx, their_agent.id, 10).await;
    let ids: Vec<TaskId> = claimed.iter().map(|c| c.task.id).collect();
    assert_eq!(ids, vec![their_task.id]);
}

/// Weights 3 and 1 give three tasks and one of every four, in one claim or across claims, and
/// the latest enqueue naming a key sets its weight.
pub async fn weights_divide_the_turns_of_the_keys<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "runner", &[]).await;
    backlog(store, ctx, project.id, "heavy", 3, 60).await;
    backlog(store, ctx, project.id, "light", 1, 60).await;

    let mut served = Vec::new();
    for _ in 0..16 {
        served.extend(keys(&claim(store, ctx, agent.id, 1).await));
    }
    assert_eq!(count(&served, "heavy"), 12, "{served:?}");
    for window in served.windows(5) {
        assert!(window.contains(&"light".to_owned()), "{served:?}");
    }
    let batch = keys(&claim(store, ctx, agent.id, 8).await);
    assert_eq!(count(&batch, "heavy"), 6, "{batch:?}");
    assert_eq!(count(&batch, "light"), 2, "{batch:?}");

    // Light's next enqueue names weight 3: from then on the keys take equal turns, and every
    // task of the batch shows the weight the key has after it.
    let more = backlog(store, ctx, project.id, "light", 3, 4).await;
    let shown = store.get_task(ctx, more[0]).await.expect("get");
    assert_eq!(shown.fairness, Some(fairness("light", 3)));
    let even = keys(&claim(store, ctx, agent.id, 8).await);
    assert_eq!(count(&even, "heavy"), 4, "{even:?}");
    assert_eq!(count(&even, "light"), 4, "{even:?}");
}

/// Eight claimers claim one task at a time at once, 48 claims in all, from key A with 2,000
/// queued tasks and key B with 10: no task is claimed twice, every claim gets a task, and B's
/// ten are all claimed — the rotation is kept in the database, so concurrent claimers cannot
/// all keep serving the large key.
pub async fn concurrent_claimers_serve_the_keys_in_turn<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "runner", &[]).await;
    backlog(store, ctx, project.id, "big", 1, 2_000).await;
    let small = backlog(store, ctx, project.id, "small", 1, 10).await;

    let claimer = async || {
        let mut taken = Vec::new();
        for _ in 0..6 {
            taken.extend(claim(store, ctx, agent.id, 1).await);
        }
        taken
    };
    let (a, b, c, d, e, f, g, h) = tokio::join!(
        claimer(),
        claimer(),
        claimer(),
        claimer(),
        claimer(),
        claimer(),
        claimer(),
        claimer()
    );
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut ids: Vec<TaskId> = Vec::new();
    for taken in [a, b, c, d, e, f, g, h] {
        for key in keys(&taken) {
            *by_key.entry(key).or_default() += 1;
        }
        ids.extend(taken.iter().map(|c| c.task.id));
    }
    assert_eq!(ids.len(), 48, "every claim takes a task");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 48, "no task claimed twice");
    assert_eq!(by_key.get("small"), Some(&10), "{by_key:?}");
    for id in small {
        let shown = store.get_task(ctx, id).await.expect("get");
        assert_eq!(shown.status, orchestore_domain::TaskStatus::Running);
    }
}

//! Completions by the batch, and completions of tasks that gained dependents while they ran.

use orchestore_domain::{
    ClaimLimit, ClaimRequest, Completion, Completions, LeaseToken, Payload, TaskId, TaskStatus,
};
use orchestore_repo::{RepoError, Store};
use serde_json::json;

use super::graph::{reasons, worker};
use crate::Fixture;
use crate::cases::{PASSWORD, task};

fn completion(
    task: TaskId,
    lease_token: LeaseToken,
    result: Option<serde_json::Value>,
) -> Completion {
    Completion {
        task,
        lease_token,
        result: result.map(|r| Payload::parse(r).expect("payload")),
    }
}

pub async fn a_batch_of_completions_ends_each_run_or_says_why_not<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "worker", &[]).await;
    let mut ids = Vec::new();
    for title in [
        "plain",
        "cancelled",
        "depended on",
        "null result",
        "theirs to try",
    ] {
        ids.push(
            store
                .create_task(ctx, task(project.id, title))
                .await
                .expect("create")
                .id,
        );
    }
    let waiting = orchestore_domain::NewTask {
        depends_on: [ids[2]].into_iter().collect(),
        ..task(project.id, "waiting")
    };
    let waiting = store.create_task(ctx, waiting).await.expect("waiting");
    assert_eq!(waiting.status, TaskStatus::Blocked);
    let request = ClaimRequest {
        limit: ClaimLimit::parse(10).expect("limit"),
        ..ClaimRequest::one(agent.id)
    };
    let claimed = store.claim_tasks(ctx, request).await.expect("claim");
    assert_eq!(claimed.len(), 5, "every task but the blocked one");
    let token = |id: TaskId| {
        claimed
            .iter()
            .find(|c| c.task.id == id)
            .map(|c| c.lease_token)
            .expect("claimed")
    };
    store
        .cancel_task(ctx, ids[1], Some("not needed".into()), None)
        .await
        .expect("cancel");

    // Another organization cannot end acme's run, even with its token.
    let theirs = Completions::parse(vec![completion(ids[4], token(ids[4]), None)]).expect("one");
    let refused = store
        .complete_tasks(&other.ctx, theirs)
        .await
        .expect("call");
    assert!(
        matches!(refused.as_slice(), [Err(RepoError::NotFound { .. })]),
        "{refused:?}"
    );

    let unknown = TaskId::new();
    let batch = Completions::parse(vec![
        completion(ids[0], token(ids[0]), Some(json!({ "lines": 42 }))),
        completion(ids[1], token(ids[1]), None),
        completion(ids[2], token(ids[2]), Some(json!("done"))),
        completion(unknown, LeaseToken::new(), None),
        completion(ids[3], token(ids[3]), Some(serde_json::Value::Null)),
        completion(ids[4], LeaseToken::new(), None),
    ])
    .expect("completions");
    let outcomes = store.complete_tasks(ctx, batch).await.expect("call");
    assert_eq!(outcomes.len(), 6, "one answer per completion, in order");

    let plain = outcomes[0].as_ref().expect("plain completes");
    assert_eq!(plain.id, ids[0]);
    assert_eq!(plain.status, TaskStatus::Succeeded);
    assert_eq!(
        plain.result.as_ref().map(Payload::as_value),
        Some(&json!({ "lines": 42 }))
    );
    assert_eq!(plain.progress.get(), 100);
    assert_eq!(plain.lease_expires_at, None);
    assert_eq!(
        &store.get_task(ctx, ids[0]).await.expect("get"),
        plain,
        "the answer is the task as stored"
    );
    match &outcomes[1] {
        Err(RepoError::Stale { reason, .. }) => assert!(reason.contains("cancelled"), "{reason}"),
        other => panic!("a cancelled run is stale, got {other:?}"),
    }
    let depended_on = outcomes[2].as_ref().expect("depended on completes");
    assert_eq!(depended_on.status, TaskStatus::Succeeded);
    assert!(matches!(outcomes[3], Err(RepoError::NotFound { .. })));
    let null = outcomes[4].as_ref().expect("null result completes");
    assert_eq!(
        null.result.as_ref().map(Payload::as_value),
        Some(&serde_json::Value::Null),
        "a JSON null result is kept as one"
    );
    assert_eq!(store.get_task(ctx, ids[3]).await.expect("get"), *null);
    match &outcomes[5] {
        Err(RepoError::Stale { reason, .. }) => assert!(reason.contains("token"), "{reason}"),
        other => panic!("a wrong token is stale, got {other:?}"),
    }
    assert_eq!(
        store.get_task(ctx, ids[4]).await.expect("get").status,
        TaskStatus::Running,
        "a refused completion changes nothing"
    );

    assert_eq!(
        store.get_task(ctx, waiting.id).await.expect("get").status,
        TaskStatus::Queued,
        "the completion queued the task waiting for it"
    );
    for id in [ids[0], ids[2], ids[3]] {
        assert_eq!(
            reasons(store, ctx, id).await.last(),
            Some(&format!("completed by agent {}", agent.id))
        );
    }
    let agent = store.get_agent(ctx, agent.id).await.expect("agent");
    assert_eq!(agent.tasks_completed, 3, "each completed run counted once");
}

pub async fn a_task_that_gains_a_dependent_while_running_queues_it_on_success<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "worker", &[]).await;
    let first = store
        .create_task(ctx, task(project.id, "first"))
        .await
        .expect("first");
    let second = store
        .create_task(ctx, task(project.id, "second"))
        .await
        .expect("second");
    let request = ClaimRequest {
        limit: ClaimLimit::parse(2).expect("limit"),
        ..ClaimRequest::one(agent.id)
    };
    let claimed = store.claim_tasks(ctx, request).await.expect("claim");
    assert_eq!(claimed.len(), 2);

    // A task created waiting for the running first one, and a queued task given a dependency
    // on the running second one.
    let created = orchestore_domain::NewTask {
        depends_on: [first.id].into_iter().collect(),
        ..task(project.id, "after first")
    };
    let created = store.create_task(ctx, created).await.expect("after first");
    assert_eq!(created.status, TaskStatus::Blocked);
    let gained = store
        .create_task(ctx, task(project.id, "after second"))
        .await
        .expect("after second");
    let gained = store
        .add_dependency(ctx, gained.id, second.id)
        .await
        .expect("add dependency");
    assert_eq!(gained.status, TaskStatus::Blocked);

    for c in &claimed {
        store
            .complete_task(ctx, c.task.id, c.lease_token, None)
            .await
            .expect("complete");
    }
    for id in [created.id, gained.id] {
        assert_eq!(
            store.get_task(ctx, id).await.expect("get").status,
            TaskStatus::Queued,
            "its dependency's success queued it"
        );
    }
}

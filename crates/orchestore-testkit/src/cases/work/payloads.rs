//! Large payloads: a payload or result over the store's inline limit is stored out of the
//! task's row, and reads back byte for byte wherever the task is answered whole.

use chrono::{Duration, Utc};
use orchestore_domain::{
    BatchTask, ClaimLimit, ClaimRequest, Completion, Completions, IdempotencyKey, NewTask, Payload,
    ProjectId, PurgeBatch, RetentionAge, RetentionRules, RetentionTarget, TaskPatch,
};
use orchestore_repo::{PageRequest, Store, TaskFilter};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use super::graph::worker;
use crate::cases::{PASSWORD, task};
use crate::{Fixture, TestDb};

/// A JSON document of about `bytes` bytes, with text, numbers and nesting, unique by `seed`.
fn large(seed: &str, bytes: usize) -> Payload {
    let line = format!("{seed} — ünïcödé line with \"quotes\" and \\ backslashes\n");
    let text = line.repeat(bytes / line.len() + 1);
    Payload::parse(json!({
        "seed": seed,
        "text": text,
        "numbers": [1, -2, 3.5, 1e-7, 12_345_678_901_i64],
        "nested": {"flag": true, "none": null, "list": [{"a": 1}, {"b": [2, 3]}]},
    }))
    .expect("a large payload")
}

fn with_payload(project: ProjectId, title: &str, payload: &Payload) -> NewTask {
    NewTask {
        payload: payload.clone(),
        ..task(project, title)
    }
}

/// The size of the value of `column` kept in the row of the task titled `title`, in bytes of
/// text (0 for `NULL`), and its `…_bytes` marker.
async fn in_row(db: &TestDb, column: &str, title: &str) -> (i64, Option<i64>) {
    let connection = db.connection();
    let sql = format!(
        "SELECT CAST(COALESCE(length(CAST({column} AS TEXT)), 0) AS BIGINT) AS kept, \
         {column}_bytes AS apart \
         FROM tasks WHERE title = '{title}'"
    );
    let row = connection
        .query_one_raw(Statement::from_string(
            connection.get_database_backend(),
            sql,
        ))
        .await
        .expect("read the row")
        .expect("the task's row");
    (
        row.try_get::<i64>("", "kept").expect("kept"),
        row.try_get::<Option<i64>>("", "apart").expect("apart"),
    )
}

/// How many bodies are stored apart.
async fn bodies(db: &TestDb) -> i64 {
    let connection = db.connection();
    let row = connection
        .query_one_raw(Statement::from_string(
            connection.get_database_backend(),
            "SELECT COUNT(*) AS n FROM task_bodies",
        ))
        .await
        .expect("count")
        .expect("a count");
    row.try_get::<i64>("", "n").expect("n")
}

/// A 2 MiB payload and a 2 MiB result go through enqueue, claim, complete and get byte for
/// byte, while the task's row keeps a few bytes of each; lists say the payload's size instead
/// of carrying it; a small payload stays in its row.
pub async fn megabyte_payloads_round_trip_out_of_the_hot_row<S: Store + ?Sized>(
    store: &S,
    db: &TestDb,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "worker", &[]).await;
    let payload = large("payload", 2 * 1024 * 1024);
    let result = large("result", 2 * 1024 * 1024);
    let bytes = serde_json::to_vec(payload.as_value()).expect("bytes").len() as u64;

    let created = store
        .create_task(ctx, with_payload(project.id, "Big", &payload))
        .await
        .expect("create");
    assert_eq!(created.payload, payload, "the answer carries the payload");
    assert_eq!(created.payload_bytes, None);
    let small = store
        .create_task(ctx, with_payload(project.id, "Small", &Payload::default()))
        .await
        .expect("small");
    let (kept, apart) = in_row(db, "payload", "Big").await;
    assert!(kept < 16, "the row keeps a marker, not {kept} bytes");
    assert_eq!(apart, Some(bytes as i64));
    assert_eq!(in_row(db, "payload", "Small").await.1, None, "in its row");

    // A payload changed to a large one leaves the row, and back to a small one returns to it,
    // its body deleted.
    let patch = |payload: &Payload| TaskPatch {
        payload: Some(payload.clone()),
        ..TaskPatch::default()
    };
    let changed = store
        .update_task(ctx, small.id, patch(&large("changed", 100 * 1024)), None)
        .await
        .expect("to a large payload");
    assert!(changed.payload_bytes.is_some());
    assert!(in_row(db, "payload", "Small").await.1.is_some());
    assert_eq!(bodies(db).await, 2);
    let small = store
        .update_task(ctx, small.id, patch(&Payload::default()), None)
        .await
        .expect("back to a small payload");
    assert_eq!(small.payload_bytes, None);
    assert_eq!(in_row(db, "payload", "Small").await.1, None);
    assert_eq!(bodies(db).await, 1);

    let listed = store
        .list_tasks(ctx, TaskFilter::default(), PageRequest::default())
        .await
        .expect("list");
    let big = listed
        .items
        .iter()
        .find(|t| t.id == created.id)
        .expect("listed");
    assert_eq!(big.payload_bytes, Some(bytes), "a list says the size");
    assert_eq!(big.payload.as_value(), &Value::Null, "and leaves it out");
    let small_listed = listed
        .items
        .iter()
        .find(|t| t.id == small.id)
        .expect("small");
    assert_eq!(small_listed, &small, "a small payload is listed as it is");

    let request = ClaimRequest {
        limit: ClaimLimit::parse(10).expect("limit"),
        ..ClaimRequest::one(agent.id)
    };
    let claimed = store.claim_tasks(ctx, request).await.expect("claim");
    assert_eq!(claimed.len(), 2);
    let run = claimed
        .iter()
        .find(|c| c.task.id == created.id)
        .expect("claimed");
    assert_eq!(run.task.payload, payload, "a claim carries the payload");
    assert_eq!(run.task.payload_bytes, None);

    let completions = Completions::parse(vec![Completion {
        task: created.id,
        lease_token: run.lease_token,
        result: Some(result.clone()),
    }])
    .expect("completions");
    let done = store
        .complete_tasks(ctx, completions)
        .await
        .expect("complete")
        .pop()
        .expect("one answer")
        .expect("completed");
    assert_eq!(
        done.result.as_ref(),
        Some(&result),
        "the answer carries the result"
    );
    let (kept, apart) = in_row(db, "result", "Big").await;
    assert_eq!(kept, 0, "the row keeps no result");
    assert!(apart.is_some_and(|n| n > 2 * 1024 * 1024));

    let read = store.get_task(ctx, created.id).await.expect("get");
    assert_eq!(
        read.payload, payload,
        "get answers the payload byte for byte"
    );
    assert_eq!(read.result.as_ref(), Some(&result), "and the result");
    assert_eq!((read.payload_bytes, read.result_bytes), (None, None));
    assert_eq!(
        serde_json::to_vec(read.payload.as_value()).expect("bytes"),
        serde_json::to_vec(payload.as_value()).expect("bytes")
    );
    assert_eq!(bodies(db).await, 2);

    // Over the hard maximum, a payload is refused on its field.
    let too_large = serde_json::json!("x".repeat(Payload::MAX_BYTES + 1));
    let refused = Payload::parse(too_large).expect_err("over the maximum");
    assert_eq!(refused.field(), Some("payload"));
}

/// A batch mixing small and large payloads answers each as given, a task found again by its
/// idempotency key comes back whole, a claim of them all carries every payload, and deleting or
/// purging a task deletes its body.
pub async fn a_batch_mixes_inline_and_large_payloads<S: Store + ?Sized>(store: &S, db: &TestDb) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = worker(store, ctx, "worker", &[]).await;
    let payloads: Vec<Payload> = (0..6)
        .map(|i| {
            if i % 2 == 0 {
                Payload::parse(json!({ "i": i })).expect("small")
            } else {
                large(&format!("batch {i}"), 200 * 1024 + i * 1000)
            }
        })
        .collect();
    let batch = |payloads: &[Payload]| -> Vec<BatchTask> {
        payloads
            .iter()
            .enumerate()
            .map(|(i, payload)| {
                BatchTask::from(NewTask {
                    idempotency_key: Some(IdempotencyKey::parse(&format!("k{i}")).expect("key")),
                    ..with_payload(project.id, &format!("t{i}"), payload)
                })
            })
            .collect()
    };
    let answer = store
        .enqueue_tasks(ctx, batch(&payloads))
        .await
        .expect("enqueue");
    let answered: Vec<&Payload> = answer.iter().map(|e| &e.task.payload).collect();
    assert_eq!(answered, payloads.iter().collect::<Vec<_>>());
    assert_eq!(bodies(db).await, 3);
    for i in 0..6 {
        let (_, apart) = in_row(db, "payload", &format!("t{i}")).await;
        assert_eq!(apart.is_some(), i % 2 == 1, "t{i}");
    }

    // Enqueued again by key: the first tasks, whole, and nothing written.
    let again = store
        .enqueue_tasks(ctx, batch(&payloads))
        .await
        .expect("again");
    assert!(again.iter().all(|e| !e.created));
    let answered: Vec<&Payload> = again.iter().map(|e| &e.task.payload).collect();
    assert_eq!(answered, payloads.iter().collect::<Vec<_>>());
    assert_eq!(bodies(db).await, 3);

    // Another organization reads none of it.
    assert!(store.get_task(&other.ctx, answer[1].task.id).await.is_err());

    let request = ClaimRequest {
        limit: ClaimLimit::parse(10).expect("limit"),
        ..ClaimRequest::one(agent.id)
    };
    let mut claimed = store.claim_tasks(ctx, request).await.expect("claim");
    claimed.sort_by_key(|c| c.task.title.as_str().to_owned());
    let claimed_payloads: Vec<&Payload> = claimed.iter().map(|c| &c.task.payload).collect();
    assert_eq!(claimed_payloads, payloads.iter().collect::<Vec<_>>());

    store
        .delete_task(ctx, answer[1].task.id, None)
        .await
        .expect("delete");
    assert_eq!(bodies(db).await, 2, "a body goes with its deleted task");

    // The retention purge of a cancelled task takes its body too.
    store
        .cancel_task(ctx, answer[3].task.id, None, None)
        .await
        .expect("cancel");
    store
        .set_retention_policy(
            ctx,
            RetentionRules::default().with(
                RetentionTarget::CancelledTasks,
                Some(RetentionAge::parse("age", "1h").expect("age")),
            ),
            None,
        )
        .await
        .expect("policy");
    let report = store
        .purge_retention(
            ctx,
            Utc::now() + Duration::hours(2),
            PurgeBatch::default(),
            false,
        )
        .await
        .expect("purge");
    assert!(!report.dry_run);
    assert!(store.get_task(ctx, answer[3].task.id).await.is_err());
    assert_eq!(bodies(db).await, 1, "a body goes with its purged task");
    let kept = store.get_task(ctx, answer[5].task.id).await.expect("kept");
    assert_eq!(kept.payload, payloads[5]);
}

/// A payload of JSON `null` is stored and read back as `null` on every path a task is created
/// by: alone, several at once (on PostgreSQL one statement writes them together), and in a
/// batch, with and without an idempotency key.
pub async fn a_null_payload_stays_null_on_every_create_path<S: Store + ?Sized>(
    store: &S,
    db: &TestDb,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let null = Payload::parse(Value::Null).expect("a null payload");
    let with_null = |title: &str| with_payload(project.id, title, &null);

    let mut created = vec![
        store
            .enqueue_task(ctx, with_null("alone"))
            .await
            .expect("alone")
            .task,
    ];
    let together = futures_util::future::join_all(
        (0..8).map(|n| store.enqueue_task(ctx, with_null(&format!("together {n}")))),
    )
    .await;
    created.extend(
        together
            .into_iter()
            .map(|answer| answer.expect("together").task),
    );
    let batch = vec![
        BatchTask::from(with_null("batch")),
        BatchTask::from(NewTask {
            idempotency_key: Some(IdempotencyKey::parse("keyed").expect("key")),
            ..with_null("batch keyed")
        }),
    ];
    created.extend(
        store
            .enqueue_tasks(ctx, batch)
            .await
            .expect("batch")
            .into_iter()
            .map(|enqueued| enqueued.task),
    );

    assert_eq!(created.len(), 11);
    for task in &created {
        assert_eq!(task.payload, null, "{}", task.title);
        let read = store.get_task(ctx, task.id).await.expect("read");
        assert_eq!(read.payload, null, "{}", task.title);
        // In the row: JSON `null` (four bytes of text), not SQL `NULL` (0).
        assert_eq!(in_row(db, "payload", task.title.as_str()).await, (4, None));
    }
}

//! Events: appended in batches, filtered by kind, source, correlation id and time, newest
//! first.

use orchestore_domain::{CorrelationId, EventId, NewEvent, Records, WorkflowId};
use orchestore_repo::{EventFilter, EventSort, RepoError, Store};
use serde_json::json;

use super::telemetry::{at, audit_rows, event, page};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_not_found, task};

fn correlated(new: NewEvent, correlation: &str) -> NewEvent {
    NewEvent {
        correlation_id: Some(CorrelationId::parse(correlation).expect("correlation")),
        ..new
    }
}

pub async fn events_are_recorded_and_filtered_newest_first<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let work = store
        .create_task(ctx, task(project.id, "deploy"))
        .await
        .expect("task");
    let at_minute = |m: u32| Some(at(&format!("2020-01-01T10:{m:02}:00Z")));
    let batch = vec![
        NewEvent {
            payload: NewEvent::payload(json!({"version": "1.2"})).expect("payload"),
            project_id: Some(project.id),
            task_id: Some(work.id),
            occurred_at: at_minute(1),
            ..correlated(event("deploy.started", "deployer"), "run-1")
        },
        NewEvent {
            occurred_at: at_minute(2),
            ..correlated(event("deploy.finished", "deployer"), "run-1")
        },
        NewEvent {
            occurred_at: at_minute(3),
            ..correlated(event("deploy.started", "deployer"), "run-2")
        },
        NewEvent {
            occurred_at: at_minute(4),
            ..event("task.completed", "scheduler")
        },
    ];
    let recorded = store
        .record_events(ctx, Records::parse("events", batch).expect("batch"))
        .await
        .expect("record");
    assert_eq!(recorded.len(), 4);
    assert_eq!(recorded[0].payload.as_value(), &json!({"version": "1.2"}));
    assert_eq!(recorded[0].task_id, Some(work.id));
    // An event recorded without a time happened when it was recorded.
    let now = store
        .record_events(ctx, Records::one(event("ping", "scheduler")))
        .await
        .expect("record now")
        .remove(0);
    assert_eq!(now.occurred_at, now.recorded_at);
    assert_eq!(
        store.get_event(ctx, recorded[0].id).await.expect("get"),
        recorded[0]
    );
    assert_not_found(store.get_event(&other.ctx, recorded[0].id).await, "event");
    assert_not_found(store.get_event(ctx, EventId::new()).await, "event");

    let ids = |filter: EventFilter| async move {
        store
            .list_events(ctx, filter, page(50))
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    let [started, finished, second, completed] = [0, 1, 2, 3].map(|i| recorded[i].id);
    assert_eq!(
        ids(EventFilter::default()).await,
        vec![now.id, completed, second, finished, started],
        "newest first"
    );
    let kind = EventFilter {
        kind: Some(orchestore_domain::EventKind::parse("deploy.started").expect("kind")),
        ..EventFilter::default()
    };
    assert_eq!(ids(kind).await, vec![second, started]);
    let source = EventFilter {
        source: Some(orchestore_domain::SourceName::parse("deployer").expect("source")),
        ..EventFilter::default()
    };
    assert_eq!(ids(source).await, vec![second, finished, started]);
    let run = EventFilter {
        correlation_id: Some(CorrelationId::parse("run-1").expect("id")),
        ..EventFilter::default()
    };
    assert_eq!(ids(run).await, vec![finished, started]);
    let range = EventFilter {
        since: at_minute(2),
        until: at_minute(4),
        ..EventFilter::default()
    };
    assert_eq!(
        ids(range).await,
        vec![second, finished],
        "since inclusive, until not"
    );
    assert!(
        store
            .list_events(&other.ctx, EventFilter::default(), page(50))
            .await
            .expect("other's list")
            .items
            .is_empty()
    );

    // Pages of two, oldest first, follow each other without a gap.
    let mut request = page(2).sorted(EventSort::OccurredAt);
    let mut seen = Vec::new();
    loop {
        let got = store
            .list_events(ctx, EventFilter::default(), request.clone())
            .await
            .expect("page");
        seen.extend(got.items.iter().map(|e| e.id));
        match got.next_cursor {
            Some(cursor) => request = request.next(Some(cursor)),
            None => break,
        }
    }
    assert_eq!(seen, vec![started, finished, second, completed, now.id]);
    // Events write no audit row.
    assert!(audit_rows(store, ctx, "event").await.is_empty());
}

pub async fn events_name_only_rows_of_the_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let theirs = other.project(store, "Theirs").await;
    let ours = acme.project(store, "Ours").await;
    let batch = vec![
        NewEvent {
            project_id: Some(ours.id),
            ..event("a", "x")
        },
        NewEvent {
            project_id: Some(theirs.id),
            ..event("b", "x")
        },
    ];
    match store
        .record_events(&acme.ctx, Records::parse("events", batch).expect("batch"))
        .await
    {
        Err(RepoError::InBatch { index: 1, error }) => assert!(
            matches!(
                *error,
                RepoError::Reference {
                    field: "project_id",
                    ..
                }
            ),
            "{error:?}"
        ),
        other => panic!("expected a reference error on events[1], got {other:?}"),
    }
    let unknown_workflow = NewEvent {
        workflow_id: Some(WorkflowId::new()),
        ..event("c", "x")
    };
    match store
        .record_events(&acme.ctx, Records::one(unknown_workflow))
        .await
    {
        Err(RepoError::InBatch { index: 0, error }) => assert!(
            matches!(
                *error,
                RepoError::Reference {
                    field: "workflow_id",
                    ..
                }
            ),
            "{error:?}"
        ),
        other => panic!("expected a reference error on workflow_id, got {other:?}"),
    }
    // Nothing of a refused batch was written.
    assert!(
        store
            .list_events(&acme.ctx, EventFilter::default(), page(50))
            .await
            .expect("list")
            .items
            .is_empty()
    );
}

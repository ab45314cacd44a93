//! Many writers at once through one pool: on a SQLite file (several connections, WAL, immediate
//! write transactions) and on PostgreSQL, every write lands once, with its audit row, and
//! concurrent versions of one workflow get consecutive numbers.

use std::sync::Arc;

use orchestore_domain::{
    Description, Name, NewTask, NewWorkflow, Priority, TaskPatch, Title, WorkflowDefinition,
};
use orchestore_repo::{
    AuditRepo, Limit, PageRequest, Store, TaskFilter, TaskRepo, WorkflowRepo, WorkflowVersionSort,
};
use orchestore_sea::SeaStore;
use orchestore_testkit::{Fixture, TestDb};
use tokio::task::JoinSet;

const WRITERS: usize = 32;

async fn concurrent_writers(store: SeaStore) {
    let store = Arc::new(store);
    let fixture = Fixture::create(store.as_ref(), "acme", "correct horse battery").await;
    let project = fixture.project(store.as_ref(), "Apollo").await;
    let ctx = Arc::new(fixture.ctx.clone());

    let mut writers = JoinSet::new();
    for n in 0..WRITERS {
        let (store, ctx) = (Arc::clone(&store), Arc::clone(&ctx));
        writers.spawn(async move {
            let title = Title::parse(&format!("task {n}")).expect("title");
            let task = store
                .create_task(&ctx, NewTask::titled(project.id, title))
                .await?;
            let patch = TaskPatch {
                priority: Some(Priority::parse(n as i64).expect("priority")),
                ..TaskPatch::default()
            };
            store.update_task(&ctx, task.id, patch).await
        });
    }
    let mut updated = Vec::new();
    while let Some(joined) = writers.join_next().await {
        updated.push(joined.expect("writer task").expect("write"));
    }
    assert_eq!(updated.len(), WRITERS);

    let all = store
        .list_tasks(
            &ctx,
            TaskFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("list");
    assert_eq!(all.items.len(), WRITERS);
    let mut priorities: Vec<i32> = all.items.iter().map(|t| t.priority.get()).collect();
    priorities.sort_unstable();
    assert_eq!(priorities, (0..WRITERS as i32).collect::<Vec<_>>());

    // organization, owner, project, then a create and an update per writer.
    let audit = store
        .list_audit(&ctx, PageRequest::first(Limit::parse(200).expect("limit")))
        .await
        .expect("audit");
    assert_eq!(audit.items.len(), 3 + 2 * WRITERS);
    assert!(
        store
            .health()
            .await
            .expect("health")
            .pending_migrations
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_concurrent_writers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    concurrent_writers(db.store().clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_writers() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    concurrent_writers(db.store().clone()).await;
}

/// Writers that all add a version to the same workflow at once: each gets its own number, the
/// numbers run 1..=n with no gap and no duplicate, and the workflow's latest is the highest.
async fn concurrent_versions(store: SeaStore) {
    let store = Arc::new(store);
    let fixture = Fixture::create(store.as_ref(), "acme", "correct horse battery").await;
    let ctx = Arc::new(fixture.ctx.clone());
    let workflow = store
        .create_workflow(
            &ctx,
            NewWorkflow {
                name: Name::parse("name", "Release").expect("name"),
                description: Description::empty(),
            },
        )
        .await
        .expect("workflow");

    let mut writers = JoinSet::new();
    for n in 0..WRITERS {
        let (store, ctx) = (Arc::clone(&store), Arc::clone(&ctx));
        writers.spawn(async move {
            let steps = serde_json::json!({"steps": [{"name": format!("step-{n}")}]});
            let definition = WorkflowDefinition::parse(steps).expect("definition");
            store.create_version(&ctx, workflow.id, definition).await
        });
    }
    let mut numbers = Vec::new();
    while let Some(joined) = writers.join_next().await {
        numbers.push(joined.expect("writer task").expect("version").version);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=WRITERS as u32).collect::<Vec<_>>());

    let latest = store
        .get_workflow(&ctx, workflow.id)
        .await
        .expect("workflow");
    assert_eq!(latest.latest_version, Some(WRITERS as u32));
    let stored = store
        .list_versions(
            &ctx,
            workflow.id,
            PageRequest::first(Limit::parse(200).expect("limit"))
                .sorted(WorkflowVersionSort::VersionDesc),
        )
        .await
        .expect("versions");
    assert_eq!(stored.items.len(), WRITERS);
    assert_eq!(stored.items[0].version, WRITERS as u32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_concurrent_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    concurrent_versions(db.store().clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_versions() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    concurrent_versions(db.store().clone()).await;
}

//! The store as a whole: health, and transactions across repositories.

use orchestore_domain::{Description, Metadata, Name, NewProject, Tags};
use orchestore_repo::{
    AuditFilter, AuditSort, Backend, Limit, PageRequest, ProjectSort, RepoError, Store, TaskFilter,
    transaction,
};

use super::{PASSWORD, assert_conflict, assert_not_found, task};
use crate::Fixture;

fn project_named(name: &str) -> NewProject {
    NewProject {
        name: Name::parse("name", name).expect("name"),
        description: Description::empty(),
        repository_url: None,
        tags: Tags::default(),
        settings: Metadata::default(),
    }
}

pub async fn health_reports_backend_and_migrations<S: Store + ?Sized>(store: &S) {
    let health = store.health().await.expect("health");
    assert!(health.pending_migrations.is_empty(), "{health:?}");
    assert_eq!(health.backend, store.backend());
    assert!(matches!(
        health.backend,
        Backend::Sqlite | Backend::Postgres
    ));
    assert!(health.pool_connections >= 1);
}

/// A project and its tasks, all or nothing: a failure inside rolls back every earlier write
/// of the transaction, audit rows included; success makes them all visible.
pub async fn transactions_commit_or_roll_back_everything<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let audit_rows = async || {
        store
            .list_audit(
                ctx,
                AuditFilter::default(),
                PageRequest::<AuditSort>::first(Limit::parse(200).expect("limit")),
            )
            .await
            .expect("audit")
            .items
            .len()
    };
    let audited_before = audit_rows().await;

    let failed = transaction(store, async |tx| {
        let project = tx.create_project(ctx, project_named("Apollo")).await?;
        tx.create_task(ctx, task(project.id, "first")).await?;
        // A name this organization already uses in the same transaction: refused.
        tx.create_project(ctx, project_named("apollo")).await?;
        Ok(project)
    })
    .await;
    assert_conflict(failed, Some("name"));
    let projects = store
        .list_projects(ctx, PageRequest::<ProjectSort>::default())
        .await
        .expect("list");
    assert!(projects.items.is_empty(), "{projects:?}");
    assert_eq!(audit_rows().await, audited_before);

    let (project, tasks) = transaction(store, async |tx| {
        let project = tx.create_project(ctx, project_named("Apollo")).await?;
        let mut tasks = Vec::new();
        for title in ["one", "two", "three"] {
            tasks.push(tx.create_task(ctx, task(project.id, title)).await?);
        }
        // Reads inside see the transaction's own writes.
        assert_eq!(tx.get_project(ctx, project.id).await?, project);
        Ok((project, tasks))
    })
    .await
    .expect("commit");
    assert_eq!(
        store.get_project(ctx, project.id).await.expect("get"),
        project
    );
    let listed = store
        .list_tasks(
            ctx,
            TaskFilter {
                project_id: Some(project.id),
                ..TaskFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(listed.items, tasks);
    assert_eq!(audit_rows().await, audited_before + 4);

    // Dropped without a commit: rolled back.
    let tx = store.begin().await.expect("begin");
    let dropped = tx
        .create_project(ctx, project_named("Gemini"))
        .await
        .expect("create");
    drop(tx);
    assert_not_found(store.get_project(ctx, dropped.id).await, "project");
}

/// Each call inside a transaction is atomic on its own: a refused one leaves the
/// transaction's earlier writes in place, and the rest can still commit.
pub async fn a_refused_call_leaves_the_transaction_usable<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let tx = store.begin().await.expect("begin");
    let apollo = tx
        .create_project(ctx, project_named("Apollo"))
        .await
        .expect("create");
    let refused = tx.create_project(ctx, project_named("APOLLO")).await;
    assert!(
        matches!(refused, Err(RepoError::Conflict { .. })),
        "{refused:?}"
    );
    let gemini = tx
        .create_project(ctx, project_named("Gemini"))
        .await
        .expect("create");
    tx.commit().await.expect("commit");
    assert_eq!(
        store.get_project(ctx, apollo.id).await.expect("get"),
        apollo
    );
    assert_eq!(
        store.get_project(ctx, gemini.id).await.expect("get"),
        gemini
    );
}

/// Calls on one transaction may run at once (it is `Sync`): they take turns, so each keeps its
/// own savepoint and all of them land; a nested transaction keeps its parent's turn until it
/// ends.
pub async fn one_transaction_takes_concurrent_calls_in_turn<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let tx = store.begin().await.expect("begin");
    let (apollo, gemini, refused) = tokio::join!(
        tx.create_project(ctx, project_named("Apollo")),
        tx.create_project(ctx, project_named("Gemini")),
        tx.create_project(ctx, project_named("APOLLO")),
    );
    let (apollo, gemini) = (apollo.expect("apollo"), gemini.expect("gemini"));
    assert!(
        matches!(refused, Err(RepoError::Conflict { .. })),
        "{refused:?}"
    );

    let nested = tx.begin().await.expect("nested");
    let mercury = nested
        .create_project(ctx, project_named("Mercury"))
        .await
        .expect("mercury");
    nested.rollback().await.expect("roll back the nested one");
    tx.commit().await.expect("commit");

    for project in [&apollo, &gemini] {
        assert_eq!(
            &store.get_project(ctx, project.id).await.expect("get"),
            project
        );
    }
    assert_not_found(store.get_project(ctx, mercury.id).await, "project");
}

/// The database's figures: its version, a pool that adds up, the statements just run among the
/// recorded ones with their placeholders and never their values, and a size for every table.
pub async fn the_database_reports_its_version_pool_statements_and_tables<S: Store + ?Sized>(
    store: &S,
) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let secret_name = "Project with a value only in a parameter";
    fixture.project(store, secret_name).await;
    let status = store.database_status().await.expect("status");
    assert_eq!(status.backend, store.backend());
    match status.backend {
        Backend::Postgres => assert!(
            status.server_version.starts_with("PostgreSQL"),
            "{status:?}"
        ),
        Backend::Sqlite => assert!(status.server_version.starts_with('3'), "{status:?}"),
    }
    let pool = status.pool;
    assert!(
        pool.max_connections >= 1 && pool.open <= pool.max_connections,
        "{pool:?}"
    );
    assert_eq!(pool.in_use + pool.idle, pool.open);

    assert!(!status.slowest_statements.is_empty());
    assert!(status.slowest_statements.len() <= orchestore_repo::DatabaseStatus::SLOWEST);
    let maxima: Vec<f64> = status.slowest_statements.iter().map(|s| s.max_ms).collect();
    assert!(
        maxima.windows(2).all(|pair| pair[0] >= pair[1]),
        "{maxima:?}"
    );
    for statement in &status.slowest_statements {
        assert!(!statement.statement.contains(secret_name), "{statement:?}");
        assert!(statement.count >= 1 && statement.mean_ms <= statement.max_ms);
        assert!(!statement.statement.contains("$1"), "{statement:?}");
    }

    let projects = status
        .tables
        .iter()
        .find(|table| table.table == "projects")
        .expect("projects");
    match status.backend {
        // An estimate, which the planner may not have made yet.
        Backend::Postgres => assert!(projects.rows_estimated && projects.bytes.is_some()),
        Backend::Sqlite => assert_eq!((projects.rows, projects.rows_estimated), (Some(1), false)),
    }
    for table in ["execution_steps", "learning_records", "tasks", "audit_logs"] {
        assert!(status.tables.iter().any(|t| t.table == table), "{table}");
    }
}

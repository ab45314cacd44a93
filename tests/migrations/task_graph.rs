use super::*;

// Task graph (m20261127_000008): the new columns take their defaults on the rows already there,
// the checks refuse what the domain refuses, and `down` restores exactly the earlier schema with
// the rows, on both backends (PostgreSQL alters the table in place, SQLite rebuilds it).

const TASK_GRAPH: &str = "m20261127_000008_task_graph";

/// How many migrations come before the task graph.
fn before_task_graph() -> u32 {
    migrations_before(TASK_GRAPH)
}

/// An organization, a project and a task written at the schema before the task graph.
async fn write_task_before_the_graph(db: &DatabaseConnection, status: &str) -> (Uuid, Uuid) {
    let now = Utc::now();
    let json = |v: serde_json::Value| Value::from(v);
    let (org, project, task) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    insert(
        db,
        "organizations",
        vec![
            ("id", org.into()),
            ("slug", "acme".into()),
            ("name", "Acme".into()),
            ("settings", json(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    insert(
        db,
        "projects",
        vec![
            ("id", project.into()),
            ("organization_id", org.into()),
            ("name", "Apollo".into()),
            ("name_key", "apollo".into()),
            ("description", "".into()),
            ("repository_url", Option::<String>::None.into()),
            ("tags", json(serde_json::json!([]))),
            ("settings", json(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    insert(
        db,
        "tasks",
        vec![
            ("id", task.into()),
            ("organization_id", org.into()),
            ("project_id", project.into()),
            ("title", "older than the graph".into()),
            ("description", "".into()),
            ("status", status.into()),
            ("priority", 4.into()),
            ("payload", json(serde_json::json!({"k": [1, 2]}))),
            ("required_capabilities", json(serde_json::json!(["rust"]))),
            ("metadata", json(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    (org, task)
}

async fn rows_survive_the_task_graph(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(before_task_graph()))
        .await
        .expect("up to the task graph");
    let (org, old_task) = write_task_before_the_graph(db, "queued").await;

    Migrator::up(db, Some(1)).await.expect("the task graph");
    assert_eq!(ids(db, "tasks", "id").await, vec![old_task]);
    // The store reads the latest schema.
    Migrator::up(db, None).await.expect("the rest");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let ctx = Ctx::system(OrganizationId::from_uuid(org));
    let old = store
        .get_task(&ctx, TaskId::from_uuid(old_task))
        .await
        .expect("the old task decodes");
    assert_eq!(
        (old.progress.get(), old.attempts, old.max_attempts.get()),
        (0, 0, 3)
    );
    assert!(old.tags.to_strings().is_empty() && old.parent_id.is_none());
    assert_eq!(old.required_capabilities.to_strings(), vec!["rust"]);
    // The graph works on the old row: a subtask that waits for it.
    let child = store
        .create_task(
            &ctx,
            NewTask {
                parent_id: Some(old.id),
                depends_on: [old.id].into_iter().collect(),
                ..NewTask::titled(old.project_id, Title::parse("newer").expect("title"))
            },
        )
        .await
        .expect("a subtask");
    assert_eq!(count(db, "task_dependencies").await, 1);
    assert_eq!(count(db, "task_events").await, 1);
    // The checks hold what the domain holds.
    for (column, value) in [
        ("progress", 101),
        ("max_attempts", 0),
        ("attempts", -1),
        ("estimated_minutes", 0),
    ] {
        let update = Query::update()
            .table(Alias::new("tasks"))
            .value(Alias::new(column), value)
            .and_where(Expr::col(Alias::new("id")).eq(old_task))
            .to_owned();
        assert!(db.execute(&update).await.is_err(), "{column} = {value}");
    }
    let bad_status = Query::update()
        .table(Alias::new("tasks"))
        .value(Alias::new("status"), "done")
        .and_where(Expr::col(Alias::new("id")).eq(old_task))
        .to_owned();
    assert!(db.execute(&bad_status).await.is_err());
    drop(store);

    let after_the_graph =
        u32::try_from(Migrator::migrations().len()).expect("a few") - before_task_graph() - 1;
    Migrator::down(db, Some(after_the_graph))
        .await
        .expect("down to the task graph");
    Migrator::down(db, Some(1)).await.expect("down one step");
    let mut both = vec![old_task, child.id.as_uuid()];
    both.sort();
    assert_eq!(ids(db, "tasks", "id").await, both, "rows kept");
    let manager = SchemaManager::new(db);
    for table in ["task_dependencies", "task_events"] {
        assert!(
            !manager.has_table(table).await.expect("has_table"),
            "{table}"
        );
    }
    assert!(
        !manager
            .has_column("tasks", "parent_id")
            .await
            .expect("has_column")
    );
    Migrator::up(db, Some(1)).await.expect("up again");
    assert_eq!(count(db, "tasks").await, 2);
    raw.db.close().await.ok();
}

async fn down_restores_the_schema_before_the_task_graph(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(before_task_graph()))
        .await
        .expect("up to the task graph");
    let earlier = schema(db).await;
    Migrator::up(db, Some(1)).await.expect("the task graph");
    let graph = schema(db).await;
    assert_ne!(earlier, graph);
    assert!(
        !graph.iter().any(|line| line.contains("_new")),
        "a name of the staging table is left: {graph:#?}"
    );
    // Every earlier index of tasks is still there, under its name.
    for index in [
        "idx_tasks_organization_id",
        "idx_tasks_organization_project_id",
        "idx_tasks_organization_status_id",
        "idx_tasks_organization_priority_id",
    ] {
        assert!(
            graph.iter().any(|line| line.contains(index)),
            "{index} is missing"
        );
    }
    Migrator::down(db, Some(1)).await.expect("down");
    assert_eq!(schema(db).await, earlier);
    raw.db.close().await.ok();
}

async fn the_task_graph_names_a_status_it_does_not_know(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(before_task_graph()))
        .await
        .expect("up to the task graph");
    write_task_before_the_graph(db, "done").await;
    let before = schema(db).await;
    let refused = Migrator::up(db, Some(1))
        .await
        .expect_err("the status check would refuse the row");
    assert!(
        refused
            .to_string()
            .contains("1 task(s) have a status other than"),
        "{refused}"
    );
    assert_eq!(schema(db).await, before, "nothing changed");
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_rows_survive_the_task_graph() {
    rows_survive_the_task_graph(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_rows_survive_the_task_graph() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    rows_survive_the_task_graph(raw).await;
}

#[tokio::test]
async fn sqlite_down_restores_the_schema_before_the_task_graph() {
    down_restores_the_schema_before_the_task_graph(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_down_restores_the_schema_before_the_task_graph() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    down_restores_the_schema_before_the_task_graph(raw).await;
}

#[tokio::test]
async fn sqlite_the_task_graph_names_a_status_it_does_not_know() {
    the_task_graph_names_a_status_it_does_not_know(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_the_task_graph_names_a_status_it_does_not_know() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    the_task_graph_names_a_status_it_does_not_know(raw).await;
}

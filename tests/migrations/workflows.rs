use super::*;

// Workflows (m20261127_000010): the schema itself keeps versions immutable, and deleting an
// organization still takes its workflows, versions and executions (the executions' foreign
// keys are checked at the end of the statement, after the cascades), and with them the tasks
// of the executions' steps (m20261127_000017).

async fn versions_are_immutable_in_the_schema(test_db: TestDb) {
    let store = test_db.store();
    let fixture = Fixture::create(store, "acme", "correct horse battery").await;
    let project = fixture.project(store, "Apollo").await;
    let (workflow, version, execution) = workflow_with_a_run(store, &fixture.ctx, project.id).await;
    let raw = Database::connect(test_db.url()).await.expect("open raw");

    for sql in [
        "UPDATE workflow_versions SET version = 7",
        "UPDATE workflow_versions SET definition = definition",
        "UPDATE workflow_versions SET created_at = created_at",
    ] {
        let error = raw.execute_unprepared(sql).await.expect_err(sql);
        assert!(
            error
                .to_string()
                .contains("workflow versions are immutable"),
            "{sql}: {error}"
        );
    }
    assert_eq!(
        store
            .get_version(&fixture.ctx, workflow.id, 1)
            .await
            .expect("version"),
        version
    );

    let organization = Query::delete()
        .from_table(Alias::new("organizations"))
        .and_where(Expr::col(Alias::new("id")).eq(fixture.org.id.as_uuid()))
        .to_owned();
    raw.execute(&organization)
        .await
        .expect("delete the organization");
    for table in [
        "workflow_execution_tasks",
        "workflow_executions",
        "workflow_versions",
        "workflows",
        "tasks",
    ] {
        assert_eq!(count(&raw, table).await, 0, "{table}");
    }
    assert!(
        store
            .get_execution(&fixture.ctx, execution.id)
            .await
            .is_err()
    );
    raw.close().await.ok();
}

#[tokio::test]
async fn sqlite_versions_are_immutable_in_the_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    versions_are_immutable_in_the_schema(TestDb::sqlite_file(dir.path()).await).await;
}

#[tokio::test]
async fn postgres_versions_are_immutable_in_the_schema() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    versions_are_immutable_in_the_schema(db).await;
}

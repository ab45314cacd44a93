//! Migration round trip on every backend: up → down (one step at a time) → up, and every
//! entity decodes on the freshly migrated database. Then the tenant-keys migration: rows
//! survive it both ways, and `down` restores exactly the earlier schema.

use chrono::{Duration, Utc};
use migration::Migrator;
use orchestore_domain::{
    AgentKind, Description, Name, NewAgent, NewTask, NewWorkflow, NewWorkflowExecution,
    OrganizationId, Payload, Priority, ProjectId, TaskId, TemplateId, Title, UserId,
    WorkflowDefinition,
};
use orchestore_repo::{
    Actor, AgentRepo, AuditRepo, AuthRepo, Ctx, ExecutionFilter, OrganizationRepo, PageRequest,
    ProjectRepo, RoleRepo, Store, TaskFilter, TaskGraphRepo, TaskRepo, TaskStatsScope,
    TemplateRepo, UserRepo, WorkflowRepo,
};
use orchestore_sea::SeaStore;
use orchestore_testkit::{Fixture, TestDb};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, Value};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use sea_orm_migration::{MigratorTrait, SchemaManager};
use uuid::Uuid;

const TABLES: &[&str] = &[
    "organizations",
    "users",
    "roles",
    "permissions",
    "role_permissions",
    "user_roles",
    "sessions",
    "instance_settings",
    "projects",
    "tasks",
    "audit_logs",
    "agents",
    "messages",
    "workflows",
    "workflow_versions",
    "workflow_executions",
    "templates",
    "template_usages",
    "task_dependencies",
    "task_events",
    "agent_api_keys",
    "workflow_execution_tasks",
];

async fn existing_tables(store: &SeaStore) -> Vec<&'static str> {
    let mut present = Vec::new();
    for &table in TABLES {
        if store.has_table(table).await.expect("has_table") {
            present.push(table);
        }
    }
    present
}

async fn round_trip(store: &SeaStore) {
    let count = migration::Migrator::migrations().len();
    assert!(existing_tables(store).await.is_empty());

    store.migrate().await.expect("up");
    assert_eq!(existing_tables(store).await, TABLES);
    assert!(
        store
            .migration_status()
            .await
            .expect("status")
            .iter()
            .all(|m| m.applied)
    );

    for step in 1..=count {
        store.rollback(Some(1)).await.expect("down one step");
        let applied = store
            .migration_status()
            .await
            .expect("status")
            .iter()
            .filter(|m| m.applied)
            .count();
        assert_eq!(applied, count - step);
    }
    assert!(existing_tables(store).await.is_empty());

    store.migrate().await.expect("up again");
    assert_eq!(existing_tables(store).await, TABLES);
    every_entity_decodes(store).await;

    // `fresh` empties the database and leaves it migrated, whatever the pool size.
    store.fresh().await.expect("fresh");
    assert_eq!(store.count_users().await.expect("count users"), 0);
    assert!(
        store
            .migration_status()
            .await
            .expect("status")
            .iter()
            .all(|m| m.applied)
    );
}

async fn every_entity_decodes(store: &SeaStore) {
    let fixture = Fixture::create(store, "acme", "correct horse battery").await;
    let project = fixture.project(store, "Apollo").await;
    let task = store
        .create_task(
            &fixture.ctx,
            NewTask::titled(project.id, Title::parse("decode me").expect("title")),
        )
        .await
        .expect("task");
    store
        .create_session(
            &fixture.ctx,
            fixture.owner.id,
            "hash",
            Utc::now() + Duration::hours(1),
        )
        .await
        .expect("session");
    store
        .instance_setting_or_insert("probe", "value")
        .await
        .expect("setting");
    let agent = store
        .create_agent(
            &fixture.ctx,
            NewAgent::named(Name::parse("name", "decoder").expect("name"), AgentKind::Ai),
        )
        .await
        .expect("agent");

    assert_eq!(
        store.get_organization(&fixture.ctx).await.expect("org"),
        fixture.org
    );
    assert_eq!(
        store
            .get_user(&fixture.ctx, fixture.owner.id)
            .await
            .expect("user"),
        fixture.owner
    );
    assert!(
        !store
            .user_permissions(&fixture.ctx, fixture.owner.id)
            .await
            .expect("perms")
            .is_empty()
    );
    assert_eq!(
        store
            .get_project(&fixture.ctx, project.id)
            .await
            .expect("project"),
        project
    );
    let waiting = store
        .create_task(
            &fixture.ctx,
            NewTask {
                depends_on: [task.id].into_iter().collect(),
                ..NewTask::titled(project.id, Title::parse("wait").expect("title"))
            },
        )
        .await
        .expect("waiting task");
    let tasks = store
        .list_tasks(&fixture.ctx, TaskFilter::default(), PageRequest::default())
        .await
        .expect("tasks");
    assert_eq!(tasks.items, vec![task.clone(), waiting.clone()]);
    let dependencies = store
        .list_dependencies(&fixture.ctx, waiting.id, PageRequest::default())
        .await
        .expect("dependencies");
    assert_eq!(dependencies.items, vec![task]);
    let events = store
        .list_task_events(&fixture.ctx, waiting.id, PageRequest::default())
        .await
        .expect("events");
    assert_eq!(events.items.len(), 1);
    let stats = store
        .task_stats(&fixture.ctx, TaskStatsScope::Organization)
        .await
        .expect("stats");
    assert_eq!(stats.total, 2);
    assert_eq!(
        store
            .get_agent(&fixture.ctx, agent.id)
            .await
            .expect("agent"),
        agent
    );
    let (workflow, version, execution) = workflow_with_a_run(store, &fixture.ctx, project.id).await;
    assert_eq!(
        store
            .get_workflow(&fixture.ctx, workflow.id)
            .await
            .expect("workflow"),
        workflow
    );
    assert_eq!(
        store
            .get_version(&fixture.ctx, workflow.id, 1)
            .await
            .expect("version"),
        version
    );
    let executions = store
        .list_executions(
            &fixture.ctx,
            ExecutionFilter::default(),
            PageRequest::default(),
        )
        .await
        .expect("executions");
    assert_eq!(executions.items, vec![execution.clone()]);
    let steps = store
        .list_execution_tasks(&fixture.ctx, execution.id, PageRequest::default())
        .await
        .expect("execution tasks");
    let names: Vec<&str> = steps.items.iter().map(|s| s.step_name.as_str()).collect();
    assert_eq!(names, ["build", "ship"]);
    let audit = store
        .list_audit(&fixture.ctx, PageRequest::default())
        .await
        .expect("audit");
    assert_eq!(audit.items.len(), 11);
    assert!(
        store
            .health()
            .await
            .expect("health")
            .pending_migrations
            .is_empty()
    );
}

/// A workflow (read back after its first version) with that version and one execution of it.
async fn workflow_with_a_run(
    store: &SeaStore,
    ctx: &Ctx,
    project: ProjectId,
) -> (
    orchestore_domain::Workflow,
    orchestore_domain::WorkflowVersion,
    orchestore_domain::WorkflowExecution,
) {
    let workflow = store
        .create_workflow(
            ctx,
            NewWorkflow {
                name: Name::parse("name", "Release").expect("name"),
                description: Description::empty(),
            },
        )
        .await
        .expect("workflow");
    let definition = WorkflowDefinition::parse(serde_json::json!({"steps": [
        {"name": "build", "payload": {"opt": 3}},
        {"name": "ship", "depends_on": ["build"]},
    ]}))
    .expect("definition");
    let version = store
        .create_version(ctx, workflow.id, definition)
        .await
        .expect("version");
    let execution = store
        .create_execution(
            ctx,
            NewWorkflowExecution {
                workflow_id: workflow.id,
                version: None,
                project_id: project,
                input: Payload::parse(serde_json::json!({"tag": "v1"})).expect("input"),
                priority: Priority::default(),
            },
        )
        .await
        .expect("execution");
    let workflow = store
        .get_workflow(ctx, workflow.id)
        .await
        .expect("workflow");
    (workflow, version, execution)
}

#[tokio::test]
async fn sqlite_round_trip() {
    let db = TestDb::sqlite_unmigrated().await;
    round_trip(db.store()).await;
}

#[tokio::test]
async fn sqlite_file_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("round-trip.db").display()
    )))
    .await
    .expect("open file");
    round_trip(&store).await;
}

#[tokio::test]
async fn postgres_round_trip() {
    let Some(db) = TestDb::postgres_unmigrated().await else {
        return;
    };
    round_trip(db.store()).await;
}

// ---------------------------------------------------------------------------------------------
// Tenant keys (m20261127_000004): rows survive the rebuild both ways, `down` restores exactly
// the earlier schema, and refuses rows the earlier global keys would not hold.

/// The number of migrations before the tenant keys.
const BEFORE_TENANT_KEYS: u32 = 3;
/// Applied migrations once the tenant keys are in, so that the tests below stop there and go
/// down one step from it, whatever later migrations add. (`Migrator::up(db, Some(n))` applies
/// `n` more migrations.)
const WITH_TENANT_KEYS: u32 = BEFORE_TENANT_KEYS + 1;

/// A project name whose key differs from it by composition (e + combining acute, U + combining
/// diaeresis) and by case.
const DECOMPOSED_NAME: &str = "Cafe\u{301} U\u{308}ni\u{308}code";
const DECOMPOSED_KEY: &str = "café ünïcode";
/// Fullwidth letters, which NFKC folds to ASCII.
const FULLWIDTH_NAME: &str = "\u{FF21}\u{FF30}\u{FF2F}\u{FF2C}\u{FF2C}\u{FF2F}";
const FULLWIDTH_KEY: &str = "apollo";

/// One database owned by a test, opened directly (no store) so that it can be migrated step
/// by step. The `TestDb` (PostgreSQL) or temporary directory (SQLite) keeps it alive.
struct Raw {
    db: DatabaseConnection,
    url: String,
    _keep: Keep,
}

#[allow(dead_code)]
enum Keep {
    Dir(tempfile::TempDir),
    Pg(TestDb),
}

async fn sqlite_raw() -> Raw {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("tenant-keys.db").display()
    );
    let mut options = ConnectOptions::new(&url);
    options
        .max_connections(1)
        .map_sqlx_sqlite_opts(|opts| opts.foreign_keys(true));
    let db = Database::connect(options).await.expect("open sqlite");
    Raw {
        db,
        url,
        _keep: Keep::Dir(dir),
    }
}

async fn postgres_raw() -> Option<Raw> {
    let test_db = TestDb::postgres_unmigrated().await?;
    let url = test_db.url().to_owned();
    let db = Database::connect(&url).await.expect("open postgres");
    Some(Raw {
        db,
        url,
        _keep: Keep::Pg(test_db),
    })
}

async fn insert(db: &DatabaseConnection, table: &str, row: Vec<(&str, Value)>) {
    let (columns, values): (Vec<_>, Vec<_>) = row.into_iter().unzip();
    let statement = Query::insert()
        .into_table(Alias::new(table))
        .columns(columns.into_iter().map(Alias::new))
        .values_panic(values.into_iter().map(Into::into))
        .to_owned();
    db.execute(&statement)
        .await
        .unwrap_or_else(|e| panic!("insert into {table}: {e}"));
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let statement = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(Alias::new(table))
        .to_owned();
    db.query_one(&statement)
        .await
        .expect("count")
        .expect("a row")
        .try_get("", "n")
        .expect("n")
}

async fn owner_role(db: &DatabaseConnection) -> Uuid {
    let statement = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new("roles"))
        .and_where(Expr::col(Alias::new("code")).eq("owner"))
        .to_owned();
    db.query_one(&statement)
        .await
        .expect("owner role")
        .expect("a row")
        .try_get("", "id")
        .expect("id")
}

/// What the test wrote at the earlier schema, to find again.
struct Written {
    org: Uuid,
    user: Uuid,
    role: Uuid,
    session: Uuid,
    decomposed: Uuid,
    fullwidth: Uuid,
    task: Uuid,
    audit: Uuid,
}

async fn write_rows_before_tenant_keys(db: &DatabaseConnection) -> Written {
    let now = Utc::now();
    let json = |v: serde_json::Value| Value::from(v);
    let org = Uuid::now_v7();
    let written = Written {
        org,
        user: Uuid::now_v7(),
        role: owner_role(db).await,
        session: Uuid::now_v7(),
        decomposed: Uuid::now_v7(),
        fullwidth: Uuid::now_v7(),
        task: Uuid::now_v7(),
        audit: Uuid::now_v7(),
    };
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
        "users",
        vec![
            ("id", written.user.into()),
            ("organization_id", org.into()),
            ("email", "owner@acme.test".into()),
            ("display_name", "Owner".into()),
            ("password_hash", "x".repeat(60).into()),
            ("active", true.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    insert(
        db,
        "user_roles",
        vec![
            ("organization_id", org.into()),
            ("user_id", written.user.into()),
            ("role_id", written.role.into()),
            ("created_at", now.into()),
        ],
    )
    .await;
    insert(
        db,
        "sessions",
        vec![
            ("id", written.session.into()),
            ("organization_id", org.into()),
            ("user_id", written.user.into()),
            ("refresh_token_hash", "hash-1".into()),
            ("expires_at", (now + Duration::days(1)).into()),
            ("revoked_at", Option::<chrono::DateTime<Utc>>::None.into()),
            ("created_at", now.into()),
        ],
    )
    .await;
    for (id, name) in [
        (written.decomposed, DECOMPOSED_NAME),
        (written.fullwidth, FULLWIDTH_NAME),
    ] {
        insert(
            db,
            "projects",
            vec![
                ("id", id.into()),
                ("organization_id", org.into()),
                ("name", name.into()),
                ("description", "".into()),
                ("repository_url", Option::<String>::None.into()),
                ("tags", json(serde_json::json!(["x"]))),
                ("settings", json(serde_json::json!({}))),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await;
    }
    insert(
        db,
        "tasks",
        vec![
            ("id", written.task.into()),
            ("organization_id", org.into()),
            ("project_id", written.decomposed.into()),
            ("title", "survive the migration".into()),
            ("description", "".into()),
            ("status", "queued".into()),
            ("priority", 3.into()),
            ("payload", json(serde_json::json!({"k": 1}))),
            ("required_capabilities", json(serde_json::json!([]))),
            ("metadata", json(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    insert(
        db,
        "audit_logs",
        vec![
            ("id", written.audit.into()),
            ("organization_id", org.into()),
            ("actor", format!("user:{}", written.user).into()),
            ("action", "project.create".into()),
            ("entity", "project".into()),
            ("entity_id", written.decomposed.to_string().into()),
            ("changes", json(serde_json::json!({}))),
            ("request_id", Option::<String>::None.into()),
            ("created_at", now.into()),
        ],
    )
    .await;
    written
}

/// The ids each table holds, sorted.
async fn ids(db: &DatabaseConnection, table: &str, column: &str) -> Vec<Uuid> {
    let statement = Query::select()
        .column(Alias::new(column))
        .from(Alias::new(table))
        .to_owned();
    let mut ids: Vec<Uuid> = db
        .query_all(&statement)
        .await
        .expect("select ids")
        .iter()
        .map(|row| row.try_get("", column).expect("uuid"))
        .collect();
    ids.sort();
    ids
}

async fn assert_rows_are_there(db: &DatabaseConnection, written: &Written) {
    assert_eq!(ids(db, "organizations", "id").await, vec![written.org]);
    assert_eq!(ids(db, "users", "id").await, vec![written.user]);
    assert_eq!(ids(db, "user_roles", "role_id").await, vec![written.role]);
    assert_eq!(ids(db, "user_roles", "user_id").await, vec![written.user]);
    assert_eq!(ids(db, "sessions", "id").await, vec![written.session]);
    let mut projects = vec![written.decomposed, written.fullwidth];
    projects.sort();
    assert_eq!(ids(db, "projects", "id").await, projects);
    assert_eq!(ids(db, "tasks", "id").await, vec![written.task]);
    assert_eq!(ids(db, "audit_logs", "id").await, vec![written.audit]);
    // Every user row's organization is still its own.
    assert_eq!(
        ids(db, "sessions", "organization_id").await,
        vec![written.org]
    );
    assert_eq!(
        ids(db, "tasks", "project_id").await,
        vec![written.decomposed]
    );
}

async fn name_keys(db: &DatabaseConnection) -> Vec<(String, String)> {
    let statement: SelectStatement = Query::select()
        .columns([Alias::new("name"), Alias::new("name_key")])
        .from(Alias::new("projects"))
        .order_by(Alias::new("name_key"), sea_orm::Order::Asc)
        .to_owned();
    db.query_all(&statement)
        .await
        .expect("name keys")
        .iter()
        .map(|row| {
            (
                row.try_get("", "name").expect("name"),
                row.try_get("", "name_key").expect("name_key"),
            )
        })
        .collect()
}

async fn rows_survive_the_tenant_keys(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(BEFORE_TENANT_KEYS))
        .await
        .expect("up to 3");
    let written = write_rows_before_tenant_keys(db).await;

    Migrator::up(db, Some(1))
        .await
        .expect("up to the tenant keys");
    assert_rows_are_there(db, &written).await;
    assert_eq!(
        name_keys(db).await,
        vec![
            (FULLWIDTH_NAME.to_owned(), FULLWIDTH_KEY.to_owned()),
            (DECOMPOSED_NAME.to_owned(), DECOMPOSED_KEY.to_owned()),
        ]
    );
    // The store reads the copied rows (ids, JSON, timestamps decode) once the later
    // migrations, which its entities follow, are in too.
    Migrator::up(db, None).await.expect("up to the last");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let ctx = Ctx::new(
        OrganizationId::from_uuid(written.org),
        Actor::User(UserId::from_uuid(written.user)),
    );
    let user = store
        .get_user(&ctx, UserId::from_uuid(written.user))
        .await
        .expect("user");
    assert_eq!(user.email.as_str(), "owner@acme.test");
    let project = store
        .get_project(&ctx, ProjectId::from_uuid(written.decomposed))
        .await
        .expect("project");
    // A name reads back in its composed (NFC) form, as `Name::parse` keeps every name.
    assert_eq!(
        project.name,
        orchestore_domain::Name::parse("name", DECOMPOSED_NAME).expect("name")
    );
    // Tasks gained columns since: the store reads them in the task graph's test below.
    assert!(
        !store
            .user_permissions(&ctx, UserId::from_uuid(written.user))
            .await
            .expect("permissions")
            .is_empty()
    );
    let grant = store
        .rotate_session("hash-1", "hash-2", Utc::now() + Duration::days(1), None)
        .await
        .expect("rotate the copied session");
    assert_eq!(grant.user, user);
    drop(store);

    let later = u32::try_from(Migrator::migrations().len()).expect("a few") - WITH_TENANT_KEYS;
    Migrator::down(db, Some(later + 1))
        .await
        .expect("down to before the tenant keys");
    assert!(
        !SchemaManager::new(db)
            .has_column("projects", "name_key")
            .await
            .expect("has_column")
    );
    assert_eq!(count(db, "sessions").await, 2, "the rotated session too");
    assert_eq!(
        count(db, "audit_logs").await,
        2,
        "the rotation's audit row too"
    );
    assert_eq!(count(db, "projects").await, 2);
    assert_eq!(ids(db, "users", "id").await, vec![written.user]);
    assert_eq!(ids(db, "tasks", "id").await, vec![written.task]);
    assert_eq!(ids(db, "user_roles", "role_id").await, vec![written.role]);
    raw.db.close().await.ok();
}

/// A description of the schema, one line per column, constraint and index, in a stable order.
async fn schema(db: &DatabaseConnection) -> Vec<String> {
    let queries: &[&str] = match db.get_database_backend() {
        DbBackend::Sqlite => &[
            r#"SELECT m.name || ' column ' || p.cid || ' ' || p.name || ' ' || p.type || ' notnull='
                 || p."notnull" || ' default=' || coalesce(p.dflt_value, '-') || ' pk=' || p.pk AS line
               FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'"#,
            // Automatic index names number the constraints: compare their columns instead.
            r#"SELECT m.name || ' index '
                 || CASE WHEN l.name LIKE 'sqlite_autoindex_%' THEN '(auto)' ELSE l.name END
                 || ' unique=' || l."unique" || ' origin=' || l.origin || ' partial=' || l.partial
                 || ' (' || (SELECT group_concat(x.name || CASE WHEN x."desc" THEN ' desc' ELSE '' END,
                                                 ', ' ORDER BY x.seqno)
                            FROM pragma_index_xinfo(l.name) x WHERE x.key = 1) || ')' AS line
               FROM sqlite_master m, pragma_index_list(m.name) l WHERE m.type = 'table'"#,
            r#"SELECT m.name || ' foreign key (' || group_concat(f."from", ', ' ORDER BY f.seq)
                 || ') -> ' || f."table" || ' (' || group_concat(f."to", ', ' ORDER BY f.seq)
                 || ') on delete ' || f.on_delete || ' on update ' || f.on_update AS line
               FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'
               GROUP BY m.name, f.id"#,
        ],
        _ => &[
            r#"SELECT concat_ws(' ', table_name, 'column', ordinal_position, column_name, data_type,
                 character_maximum_length, is_nullable, column_default) AS line
               FROM information_schema.columns WHERE table_schema = current_schema()"#,
            r#"SELECT concat_ws(' ', c.relname, 'constraint', con.conname, pg_get_constraintdef(con.oid)) AS line
               FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"#,
            r#"SELECT concat_ws(' ', tablename, 'index', indexname, indexdef) AS line
               FROM pg_indexes WHERE schemaname = current_schema()"#,
        ],
    };
    let backend = db.get_database_backend();
    let mut lines = Vec::new();
    for sql in queries {
        for row in db
            .query_all_raw(Statement::from_string(backend, *sql))
            .await
            .expect("describe the schema")
        {
            lines.push(row.try_get::<String>("", "line").expect("line"));
        }
    }
    lines.sort();
    lines
}

async fn down_restores_the_earlier_schema(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(BEFORE_TENANT_KEYS))
        .await
        .expect("up to 3");
    let earlier = schema(db).await;
    Migrator::up(db, Some(1))
        .await
        .expect("up to the tenant keys");
    let tenant = schema(db).await;
    assert_ne!(earlier, tenant);
    assert!(
        !tenant.iter().any(|line| line.contains("_new")),
        "a name of the staging tables is left: {tenant:#?}"
    );

    Migrator::down(db, Some(1)).await.expect("down");
    assert_eq!(schema(db).await, earlier);
    Migrator::up(db, Some(1)).await.expect("up again");
    assert_eq!(schema(db).await, tenant);
    raw.db.close().await.ok();
}

async fn down_refuses_an_email_in_two_organizations(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(WITH_TENANT_KEYS))
        .await
        .expect("up to the tenant keys");
    let now = Utc::now();
    for slug in ["acme", "beta"] {
        let org = Uuid::now_v7();
        insert(
            db,
            "organizations",
            vec![
                ("id", org.into()),
                ("slug", slug.into()),
                ("name", slug.into()),
                ("settings", Value::from(serde_json::json!({}))),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await;
        insert(
            db,
            "users",
            vec![
                ("id", Uuid::now_v7().into()),
                ("organization_id", org.into()),
                ("email", "same@example.test".into()),
                ("display_name", "Same".into()),
                ("password_hash", "x".repeat(60).into()),
                ("active", true.into()),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .await;
    }
    let before = schema(db).await;

    let refused = Migrator::down(db, Some(1))
        .await
        .expect_err("the earlier schema holds one user per email");
    let message = refused.to_string();
    assert!(
        message.contains("users(email)") && message.contains("more than once"),
        "{message}"
    );
    assert_eq!(schema(db).await, before, "nothing changed");
    assert_eq!(count(db, "users").await, 2);
    let applied = Migrator::get_applied_migrations(db).await.expect("applied");
    assert_eq!(applied.len(), WITH_TENANT_KEYS as usize);
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_rows_survive_the_tenant_keys() {
    rows_survive_the_tenant_keys(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_rows_survive_the_tenant_keys() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    rows_survive_the_tenant_keys(raw).await;
}

#[tokio::test]
async fn sqlite_down_restores_the_earlier_schema() {
    down_restores_the_earlier_schema(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_down_restores_the_earlier_schema() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    down_restores_the_earlier_schema(raw).await;
}

#[tokio::test]
async fn sqlite_down_refuses_an_email_in_two_organizations() {
    down_refuses_an_email_in_two_organizations(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_down_refuses_an_email_in_two_organizations() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    down_refuses_an_email_in_two_organizations(raw).await;
}

// ---------------------------------------------------------------------------------------------
// Users and roles (m20261127_000007): the schema refuses a username the domain refuses, and
// `down` restores exactly the earlier schema, keeping the rows.

/// The migrations before the users-and-roles one.
const BEFORE_USERS_ROLES: u32 = 6;

async fn insert_user(
    db: &DatabaseConnection,
    org: Uuid,
    email: &str,
    username: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    let statement = Query::insert()
        .into_table(Alias::new("users"))
        .columns(
            [
                "id",
                "organization_id",
                "email",
                "username",
                "display_name",
                "password_hash",
                "active",
                "created_at",
                "updated_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            Uuid::now_v7().into(),
            org.into(),
            email.into(),
            username.map(str::to_owned).into(),
            "Someone".into(),
            "x".repeat(60).into(),
            true.into(),
            now.into(),
            now.into(),
        ])
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

async fn usernames_are_checked_and_down_restores(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(BEFORE_USERS_ROLES))
        .await
        .expect("up to the agents");
    let earlier = schema(db).await;
    Migrator::up(db, Some(1))
        .await
        .expect("up to users and roles");
    let later = schema(db).await;
    assert_ne!(earlier, later);

    let org = Uuid::now_v7();
    let now = Utc::now();
    insert(
        db,
        "organizations",
        vec![
            ("id", org.into()),
            ("slug", "acme".into()),
            ("name", "Acme".into()),
            ("settings", Value::from(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    for (email, username) in [
        ("a@acme.test", None),
        ("b@acme.test", None),
        ("c@acme.test", Some("ada.l")),
    ] {
        insert_user(db, org, email, username)
            .await
            .unwrap_or_else(|e| panic!("{email}: {e}"));
    }
    for (email, refused) in [
        ("d@acme.test", "Ada"),
        ("e@acme.test", ""),
        ("f@acme.test", "ada.l"),
    ] {
        assert!(
            insert_user(db, org, email, Some(refused)).await.is_err(),
            "{refused:?} should be refused"
        );
    }
    assert!(
        insert_user(db, org, "g@acme.test", Some(&"a".repeat(65)))
            .await
            .is_err()
    );
    assert_eq!(count(db, "users").await, 3);

    Migrator::down(db, Some(1)).await.expect("down one step");
    assert_eq!(schema(db).await, earlier);
    assert_eq!(count(db, "users").await, 3);
    Migrator::up(db, Some(1)).await.expect("up again");
    // PostgreSQL numbers a column added again after the dropped ones.
    assert_eq!(
        without_positions(schema(db).await),
        without_positions(later)
    );
    raw.db.close().await.ok();
}

/// Schema lines without the columns' ordinal positions.
fn without_positions(lines: Vec<String>) -> Vec<String> {
    let mut lines: Vec<String> = lines
        .into_iter()
        .map(|line| match line.split_once(" column ") {
            Some((table, rest)) => {
                let rest = rest.split_once(' ').map_or(rest, |(_, rest)| rest);
                format!("{table} column {rest}")
            }
            None => line,
        })
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn sqlite_usernames_are_checked_and_down_restores() {
    usernames_are_checked_and_down_restores(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_usernames_are_checked_and_down_restores() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    usernames_are_checked_and_down_restores(raw).await;
}

// ---------------------------------------------------------------------------------------------
// Messages (m20261127_000009): the schema refuses what the domain refuses.

/// Inserts a message row with these ends; the database's answer.
async fn insert_message(
    db: &DatabaseConnection,
    org: Uuid,
    sender: (Option<Uuid>, Option<Uuid>),
    recipient: (Option<Uuid>, Option<Uuid>),
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    let statement = Query::insert()
        .into_table(Alias::new("messages"))
        .columns(
            [
                "organization_id",
                "id",
                "sender_agent_id",
                "sender_user_id",
                "recipient_agent_id",
                "recipient_user_id",
                "content",
                "metadata",
                "created_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            org.into(),
            Uuid::now_v7().into(),
            sender.0.into(),
            sender.1.into(),
            recipient.0.into(),
            recipient.1.into(),
            "hello".into(),
            Value::from(serde_json::json!({})).into(),
            now.into(),
        ])
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

async fn messages_hold_one_sender_and_one_recipient(raw: Raw) {
    Migrator::up(&raw.db, None).await.expect("up");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(raw.url.clone()))
        .await
        .expect("store");
    let acme = Fixture::create(&store, "acme", "correct horse battery").await;
    let other = Fixture::create(&store, "other", "correct horse battery").await;
    let new_agent = |name: &str| {
        orchestore_domain::NewAgent::named(
            orchestore_domain::Name::parse("name", name).expect("name"),
            orchestore_domain::AgentKind::Ai,
        )
    };
    let agent = store
        .create_agent(&acme.ctx, new_agent("a"))
        .await
        .expect("agent")
        .id
        .as_uuid();
    let foreign = store
        .create_agent(&other.ctx, new_agent("b"))
        .await
        .expect("agent")
        .id
        .as_uuid();
    let (org, user) = (acme.org.id.as_uuid(), acme.owner.id.as_uuid());
    let db = &raw.db;

    insert_message(db, org, (None, Some(user)), (Some(agent), None))
        .await
        .expect("one sender, one recipient");
    for (sender, recipient, what) in [
        (
            (Some(agent), Some(user)),
            (Some(agent), None),
            "two senders",
        ),
        ((None, None), (Some(agent), None), "no sender"),
        (
            (None, Some(user)),
            (Some(agent), Some(user)),
            "two recipients",
        ),
        ((None, Some(user)), (None, None), "no recipient"),
        ((Some(agent), None), (Some(agent), None), "to itself"),
        ((None, Some(user)), (None, Some(user)), "to oneself"),
        (
            (None, Some(user)),
            (Some(foreign), None),
            "another organization's agent",
        ),
    ] {
        assert!(
            insert_message(db, org, sender, recipient).await.is_err(),
            "{what} must be refused"
        );
    }
    assert_eq!(count(db, "messages").await, 1);
    raw.db.close().await.ok();
}

// Task graph (m20261127_000008): the new columns take their defaults on the rows already there,
// the checks refuse what the domain refuses, and `down` restores exactly the earlier schema with
// the rows, on both backends (PostgreSQL alters the table in place, SQLite rebuilds it).

const TASK_GRAPH: &str = "m20261127_000008_task_graph";

/// How many migrations come before the task graph.
fn before_task_graph() -> u32 {
    migrations_before(TASK_GRAPH)
}

/// How many migrations come before migration `name`.
fn migrations_before(name: &str) -> u32 {
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == name)
        .unwrap_or_else(|| panic!("{name} is registered"));
    u32::try_from(position).expect("a few migrations")
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
async fn sqlite_messages_hold_one_sender_and_one_recipient() {
    messages_hold_one_sender_and_one_recipient(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_messages_hold_one_sender_and_one_recipient() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    messages_hold_one_sender_and_one_recipient(raw).await;
}

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

// ---------------------------------------------------------------------------------------------
// Tenant role keys (m20261127_000012): a user holds a system role or a custom role of their own
// organization, and the schema refuses any other row, whatever writes it; the rows already there
// get their scopes, and `down` restores exactly the earlier schema with them.

const TENANT_ROLE_KEYS: &str = "m20261127_000012_tenant_role_keys";

/// The scope of the system roles.
const SYSTEM_SCOPE: Uuid = Uuid::nil();

async fn insert_organization(db: &DatabaseConnection, id: Uuid, slug: &str) {
    let now = Utc::now();
    insert(
        db,
        "organizations",
        vec![
            ("id", id.into()),
            ("slug", slug.into()),
            ("name", slug.into()),
            ("settings", Value::from(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
}

/// A user of `org` written by hand; its id.
async fn insert_plain_user(db: &DatabaseConnection, org: Uuid, email: &str) -> Uuid {
    let (id, now) = (Uuid::now_v7(), Utc::now());
    insert(
        db,
        "users",
        vec![
            ("id", id.into()),
            ("organization_id", org.into()),
            ("email", email.into()),
            ("display_name", "Someone".into()),
            ("password_hash", "x".repeat(60).into()),
            ("active", true.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    id
}

/// A role row written by hand (`scope` only once the tenant role keys are in); its id, or
/// the database's refusal.
async fn insert_role(
    db: &DatabaseConnection,
    organization: Option<Uuid>,
    code: &str,
    scope: Option<Uuid>,
) -> Result<Uuid, sea_orm::DbErr> {
    let id = Uuid::now_v7();
    let mut row: Vec<(&str, Value)> = vec![
        ("id", id.into()),
        ("organization_id", organization.into()),
        ("code", code.into()),
        ("is_system", organization.is_none().into()),
        ("description", "".into()),
        ("created_at", Utc::now().into()),
    ];
    if let Some(scope) = scope {
        row.push(("scope", scope.into()));
    }
    let (columns, values): (Vec<_>, Vec<_>) = row.into_iter().unzip();
    let statement = Query::insert()
        .into_table(Alias::new("roles"))
        .columns(columns.into_iter().map(Alias::new))
        .values_panic(values.into_iter().map(Into::into))
        .to_owned();
    db.execute(&statement).await.map(|_| id)
}

/// A `user_roles` row written by hand (`role_scope` only once the tenant role keys are in);
/// the database's answer.
async fn insert_user_role(
    db: &DatabaseConnection,
    org: Uuid,
    user: Uuid,
    role: Uuid,
    role_scope: Option<Uuid>,
) -> Result<(), sea_orm::DbErr> {
    let mut row: Vec<(&str, Value)> = vec![
        ("organization_id", org.into()),
        ("user_id", user.into()),
        ("role_id", role.into()),
        ("created_at", Utc::now().into()),
    ];
    if let Some(role_scope) = role_scope {
        row.push(("role_scope", role_scope.into()));
    }
    let (columns, values): (Vec<_>, Vec<_>) = row.into_iter().unzip();
    let statement = Query::insert()
        .into_table(Alias::new("user_roles"))
        .columns(columns.into_iter().map(Alias::new))
        .values_panic(values.into_iter().map(Into::into))
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

/// `(first, second)` of every row of `table`, sorted.
async fn uuid_pairs(
    db: &DatabaseConnection,
    table: &str,
    first: &str,
    second: &str,
) -> Vec<(Uuid, Uuid)> {
    let statement = Query::select()
        .columns([Alias::new(first), Alias::new(second)])
        .from(Alias::new(table))
        .to_owned();
    let mut pairs: Vec<(Uuid, Uuid)> = db
        .query_all(&statement)
        .await
        .expect("select pairs")
        .iter()
        .map(|row| {
            (
                row.try_get("", first).expect(first),
                row.try_get("", second).expect(second),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

/// How the two backends word a refusal by a check and by a foreign key, lower-cased.
const CHECK: &str = "check constraint";
const FOREIGN_KEY: &str = "foreign key constraint";

/// Asserts that the database refused `what` for the reason `refused_by` says.
fn assert_refused_by<T: std::fmt::Debug>(
    answer: Result<T, sea_orm::DbErr>,
    refused_by: &str,
    what: &str,
) {
    match answer {
        Ok(accepted) => panic!("{what} must be refused, and was accepted: {accepted:?}"),
        Err(err) => assert!(
            err.to_string().to_lowercase().contains(refused_by),
            "{what} must be refused by a {refused_by}: {err}"
        ),
    }
}

fn role_code(raw: &str) -> orchestore_domain::RoleCode {
    orchestore_domain::RoleCode::parse("code", raw).expect("role code")
}

async fn another_organizations_role_is_refused_by_the_schema(raw: Raw) {
    Migrator::up(&raw.db, None).await.expect("up");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(raw.url.clone()))
        .await
        .expect("store");
    let acme = Fixture::create(&store, "acme", "correct horse battery").await;
    let beta = Fixture::create(&store, "beta", "correct horse battery").await;
    let new_role = |code: &str| orchestore_domain::NewRole {
        code: role_code(code),
        description: Description::empty(),
        permissions: vec![orchestore_domain::Permission::AuditRead],
    };
    let own_role = store
        .create_role(&acme.ctx, new_role("release"))
        .await
        .expect("acme's role")
        .id
        .as_uuid();
    let foreign_role = store
        .create_role(&beta.ctx, new_role("qa"))
        .await
        .expect("beta's role")
        .id
        .as_uuid();
    let developer = store
        .find_role_by_code(&acme.ctx, &role_code("developer"))
        .await
        .expect("find")
        .expect("the developer role")
        .id
        .as_uuid();
    let (org, other) = (acme.org.id.as_uuid(), beta.org.id.as_uuid());
    let user = acme.owner.id.as_uuid();
    let db = &raw.db;

    for (role, scope, refused_by, what) in [
        (
            foreign_role,
            other,
            CHECK,
            "another organization's role in its scope",
        ),
        (
            foreign_role,
            org,
            FOREIGN_KEY,
            "another organization's role in the user's scope",
        ),
        (
            foreign_role,
            SYSTEM_SCOPE,
            FOREIGN_KEY,
            "another organization's role as a system role",
        ),
        (
            developer,
            org,
            FOREIGN_KEY,
            "a system role in the organization's scope",
        ),
        (
            own_role,
            SYSTEM_SCOPE,
            FOREIGN_KEY,
            "the organization's own role as a system role",
        ),
    ] {
        assert_refused_by(
            insert_user_role(db, org, user, role, Some(scope)).await,
            refused_by,
            what,
        );
    }
    insert_user_role(db, org, user, developer, Some(SYSTEM_SCOPE))
        .await
        .expect("a system role");
    insert_user_role(db, org, user, own_role, Some(org))
        .await
        .expect("the organization's own role");
    let held: Vec<String> = store
        .user_roles(&acme.ctx, acme.owner.id)
        .await
        .expect("roles")
        .iter()
        .map(|role| role.code.to_string())
        .collect();
    assert_eq!(held, ["developer", "owner", "release"]);

    // A role's scope is its organization's, or the system scope for a system role; no
    // organization's scope is the system scope.
    for (organization, scope, what) in [
        (Some(org), SYSTEM_SCOPE, "a custom role in the system scope"),
        (
            Some(org),
            other,
            "a custom role in another organization's scope",
        ),
        (None, org, "a system role in an organization's scope"),
    ] {
        assert_refused_by(
            insert_role(db, organization, "forged", Some(scope)).await,
            CHECK,
            what,
        );
    }
    insert_organization(db, SYSTEM_SCOPE, "nil").await;
    assert_refused_by(
        insert_role(db, Some(SYSTEM_SCOPE), "forged", Some(SYSTEM_SCOPE)).await,
        CHECK,
        "a custom role of an organization whose id is the system scope",
    );
    insert_role(db, Some(org), "by-hand", Some(org))
        .await
        .expect("a custom role in its organization's scope");

    // Deleting a role still takes it from its holders.
    let delete = Query::delete()
        .from_table(Alias::new("roles"))
        .and_where(Expr::col(Alias::new("id")).eq(own_role))
        .to_owned();
    db.execute(&delete).await.expect("delete the role");
    let held: Vec<Uuid> = uuid_pairs(db, "user_roles", "user_id", "role_id")
        .await
        .into_iter()
        .filter(|(holder, _)| *holder == user)
        .map(|(_, role)| role)
        .collect();
    assert!(!held.contains(&own_role) && held.contains(&developer));
    raw.db.close().await.ok();
}

async fn rows_survive_the_tenant_role_keys(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(migrations_before(TENANT_ROLE_KEYS)))
        .await
        .expect("up to the tenant role keys");
    let earlier = schema(db).await;
    let org = Uuid::now_v7();
    insert_organization(db, org, "acme").await;
    let user = insert_plain_user(db, org, "ada@acme.test").await;
    let owner = owner_role(db).await;
    let custom = insert_role(db, Some(org), "release", None)
        .await
        .expect("a custom role");
    insert(
        db,
        "role_permissions",
        vec![
            ("role_id", custom.into()),
            ("permission_code", "audit:read".into()),
        ],
    )
    .await;
    for role in [owner, custom] {
        insert_user_role(db, org, user, role, None)
            .await
            .expect("a role of the user");
    }
    let grants = count(db, "role_permissions").await;
    let held = uuid_pairs(db, "user_roles", "user_id", "role_id").await;

    Migrator::up(db, Some(1))
        .await
        .expect("the tenant role keys");
    let scoped = schema(db).await;
    assert_ne!(earlier, scoped);
    assert!(
        !scoped.iter().any(|line| line.contains("_new")),
        "a name of the staging tables is left: {scoped:#?}"
    );
    let mut scopes = vec![(owner, SYSTEM_SCOPE), (custom, org)];
    scopes.sort();
    assert_eq!(
        uuid_pairs(db, "user_roles", "role_id", "role_scope").await,
        scopes
    );
    let role_scopes = uuid_pairs(db, "roles", "id", "scope").await;
    assert_eq!(role_scopes.len(), 6, "five system roles and the custom one");
    for (role, scope) in role_scopes {
        let expected = if role == custom { org } else { SYSTEM_SCOPE };
        assert_eq!(scope, expected, "the scope of role {role}");
    }
    assert_eq!(count(db, "role_permissions").await, grants);
    assert_eq!(
        uuid_pairs(db, "user_roles", "user_id", "role_id").await,
        held
    );
    // The store reads the rows and grants through them once the later migrations are in.
    Migrator::up(db, None).await.expect("up to the last");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let ctx = Ctx::new(
        OrganizationId::from_uuid(org),
        Actor::User(UserId::from_uuid(user)),
    );
    let codes: Vec<String> = store
        .user_roles(&ctx, UserId::from_uuid(user))
        .await
        .expect("roles")
        .iter()
        .map(|role| role.code.to_string())
        .collect();
    assert_eq!(codes, ["owner", "release"]);
    assert!(
        store
            .user_permissions(&ctx, UserId::from_uuid(user))
            .await
            .expect("permissions")
            .contains(&orchestore_domain::Permission::AuditRead)
    );
    drop(store);

    let later = u32::try_from(Migrator::migrations().len()).expect("a few")
        - migrations_before(TENANT_ROLE_KEYS)
        - 1;
    Migrator::down(db, Some(later + 1))
        .await
        .expect("down to before the tenant role keys");
    assert_eq!(schema(db).await, earlier);
    assert_eq!(count(db, "role_permissions").await, grants);
    assert_eq!(
        uuid_pairs(db, "user_roles", "user_id", "role_id").await,
        held
    );
    Migrator::up(db, Some(1)).await.expect("up again");
    // PostgreSQL numbers a column added again after the dropped ones.
    assert_eq!(
        without_positions(schema(db).await),
        without_positions(scoped)
    );
    raw.db.close().await.ok();
}

async fn the_tenant_role_keys_name_a_role_of_another_organization(raw: Raw) {
    let db = &raw.db;
    let before = migrations_before(TENANT_ROLE_KEYS);
    Migrator::up(db, Some(before))
        .await
        .expect("up to the tenant role keys");
    let (acme, beta) = (Uuid::now_v7(), Uuid::now_v7());
    insert_organization(db, acme, "acme").await;
    insert_organization(db, beta, "beta").await;
    let user = insert_plain_user(db, acme, "ada@acme.test").await;
    let foreign = insert_role(db, Some(beta), "qa", None)
        .await
        .expect("beta's role");
    // Only the repository refused this before.
    insert_user_role(db, acme, user, foreign, None)
        .await
        .expect("the earlier schema takes it");
    let schema_before = schema(db).await;

    let refused = Migrator::up(db, Some(1))
        .await
        .expect_err("the new keys would refuse the row");
    assert!(
        refused
            .to_string()
            .contains("1 row(s) of user_roles give a user a custom role of another organization"),
        "{refused}"
    );
    assert_eq!(schema(db).await, schema_before, "nothing changed");
    let applied = Migrator::get_applied_migrations(db).await.expect("applied");
    assert_eq!(applied.len(), before as usize);
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_another_organizations_role_is_refused_by_the_schema() {
    another_organizations_role_is_refused_by_the_schema(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_another_organizations_role_is_refused_by_the_schema() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    another_organizations_role_is_refused_by_the_schema(raw).await;
}

#[tokio::test]
async fn sqlite_rows_survive_the_tenant_role_keys() {
    rows_survive_the_tenant_role_keys(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_rows_survive_the_tenant_role_keys() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    rows_survive_the_tenant_role_keys(raw).await;
}

#[tokio::test]
async fn sqlite_the_tenant_role_keys_name_a_role_of_another_organization() {
    the_tenant_role_keys_name_a_role_of_another_organization(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_the_tenant_role_keys_name_a_role_of_another_organization() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    the_tenant_role_keys_name_a_role_of_another_organization(raw).await;
}

// ---------------------------------------------------------------------------------------------
// Template usage versions (m20261127_000014): a usage written before reads back with no
// version, the two new columns are set together or not at all, and `down` restores exactly the
// earlier schema, keeping the rows.

const USAGE_VERSIONS: &str = "m20261127_000014_template_usage_versions";

/// How many migrations come before the usage versions.
fn before_usage_versions() -> u32 {
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == USAGE_VERSIONS)
        .expect("the usage versions migration is registered");
    u32::try_from(position).expect("a few migrations")
}

/// Inserts a usage of `template` naming `workflow` version `number`; the database's answer.
async fn insert_usage(
    db: &DatabaseConnection,
    (org, template): (Uuid, Uuid),
    workflow: Option<Uuid>,
    number: Option<i32>,
) -> Result<(), sea_orm::DbErr> {
    let statement = Query::insert()
        .into_table(Alias::new("template_usages"))
        .columns(
            [
                "organization_id",
                "id",
                "template_id",
                "arguments",
                "created_by",
                "created_entities",
                "workflow_id",
                "workflow_version",
                "created_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            org.into(),
            Uuid::now_v7().into(),
            template.into(),
            Value::from(serde_json::json!({})).into(),
            "system".into(),
            Value::from(serde_json::json!([])).into(),
            workflow.into(),
            number.into(),
            Utc::now().into(),
        ])
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

async fn usage_versions_keep_the_usages(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(before_usage_versions()))
        .await
        .expect("up to the usage versions");
    let earlier = schema(db).await;
    let now = Utc::now();
    let json = |v: serde_json::Value| Value::from(v);
    let (org, template, usage) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
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
        "templates",
        vec![
            ("organization_id", org.into()),
            ("id", template.into()),
            ("name", "Review".into()),
            ("name_key", "review".into()),
            ("description", "".into()),
            ("kind", "task".into()),
            ("parameters", json(serde_json::json!([]))),
            (
                "body",
                json(serde_json::json!({"tasks": [{"title": "Review"}]})),
            ),
            ("usage_count", 1_i64.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    let task = Uuid::now_v7().to_string();
    insert(
        db,
        "template_usages",
        vec![
            ("organization_id", org.into()),
            ("id", usage.into()),
            ("template_id", template.into()),
            ("arguments", json(serde_json::json!({}))),
            ("created_by", "system".into()),
            ("created_entities", json(serde_json::json!([task]))),
            ("created_at", now.into()),
        ],
    )
    .await;

    Migrator::up(db, Some(1)).await.expect("the usage versions");
    let later = schema(db).await;
    assert_ne!(earlier, later);
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let ctx = Ctx::system(OrganizationId::from_uuid(org));
    let usages = store
        .list_template_usages(
            &ctx,
            TemplateId::from_uuid(template),
            PageRequest::default(),
        )
        .await
        .expect("the old usage decodes");
    assert_eq!(usages.items.len(), 1);
    assert_eq!(usages.items[0].id.as_uuid(), usage);
    assert_eq!(usages.items[0].created_entities, vec![task]);
    assert_eq!(usages.items[0].workflow_version, None);
    drop(store);
    // Set together, the number from 1, or neither.
    let keys = (org, template);
    insert_usage(db, keys, Some(Uuid::now_v7()), Some(1))
        .await
        .expect("a workflow and its version number");
    for (workflow, number) in [
        (Some(Uuid::now_v7()), None),
        (None, Some(1)),
        (Some(Uuid::now_v7()), Some(0)),
    ] {
        assert!(
            insert_usage(db, keys, workflow, number).await.is_err(),
            "{workflow:?} {number:?} must be refused"
        );
    }
    assert_eq!(count(db, "template_usages").await, 2);

    Migrator::down(db, Some(1)).await.expect("down one step");
    assert_eq!(schema(db).await, earlier);
    assert_eq!(count(db, "template_usages").await, 2, "rows kept");
    Migrator::up(db, Some(1)).await.expect("up again");
    // PostgreSQL numbers a column added again after the dropped ones.
    assert_eq!(
        without_positions(schema(db).await),
        without_positions(later)
    );
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_usage_versions_keep_the_usages() {
    usage_versions_keep_the_usages(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_usage_versions_keep_the_usages() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    usage_versions_keep_the_usages(raw).await;
}

/// Whether task `id` is marked as depended on.
async fn has_dependents(db: &DatabaseConnection, id: Uuid) -> bool {
    let query = Query::select()
        .column(Alias::new("has_dependents"))
        .from(Alias::new("tasks"))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    let row = db
        .query_one(&query)
        .await
        .expect("query")
        .expect("the task");
    row.try_get_by_index::<bool>(0).expect("a flag")
}

// Migration 000018 marks every task that has a dependent, and its `down` drops the mark.
async fn the_dependents_mark_is_backfilled(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, None).await.expect("up");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let fixture = Fixture::create(&store, "acme", "correct horse battery staple").await;
    let ctx = &fixture.ctx;
    let project = fixture.project(&store, "Apollo").await;
    let titled = |title: &str| NewTask::titled(project.id, Title::parse(title).expect("title"));
    let first = store
        .create_task(ctx, titled("first"))
        .await
        .expect("first");
    let second = NewTask {
        depends_on: [first.id].into_iter().collect(),
        ..titled("second")
    };
    let second = store.create_task(ctx, second).await.expect("second");
    drop(store);
    let (first, second) = (first.id.as_uuid(), second.id.as_uuid());
    assert!(has_dependents(db, first).await && !has_dependents(db, second).await);

    let from_the_mark = u32::try_from(Migrator::migrations().len()).expect("a few")
        - migrations_before("m20261127_000018_task_has_dependents");
    Migrator::down(db, Some(from_the_mark))
        .await
        .expect("down to before the mark");
    let manager = SchemaManager::new(db);
    assert!(
        !manager
            .has_column("tasks", "has_dependents")
            .await
            .expect("has_column")
    );
    Migrator::up(db, None).await.expect("up again");
    assert!(has_dependents(db, first).await, "backfilled");
    assert!(!has_dependents(db, second).await, "nothing depends on it");
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_the_dependents_mark_is_backfilled() {
    the_dependents_mark_is_backfilled(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_the_dependents_mark_is_backfilled() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    the_dependents_mark_is_backfilled(raw).await;
}

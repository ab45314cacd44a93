//! Migration round trip on every backend: up → down (one step at a time) → up, and every
//! entity decodes on the freshly migrated database; the helpers every module shares (a raw
//! database migrated step by step, rows written by hand, the schema as lines). One module per
//! migration that moves rows or adds checks: its rows survive both ways, its schema refuses
//! what the domain refuses, and `down` restores exactly the earlier schema.

use chrono::{Duration, Utc};
use migration::Migrator;
use orchestore_domain::{
    AgentKind, ClientInfo, Description, Email, Name, NewAgent, NewTask, NewWorkflow,
    NewWorkflowExecution, OrganizationId, Password, PasswordHash, Payload, Priority, ProjectId,
    RoleCode, TaskId, TemplateId, Title, UserId, WorkflowDefinition,
};
use orchestore_repo::{
    Actor, AgentRepo, ApiKeyRepo, AuditFilter, AuditRepo, AuthRepo, Ctx, ExecutionFilter,
    InvitationAcceptance, InvitationRepo, NewInvitation, NewSession, OrganizationRepo, PageRequest,
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

mod achievements_snapshots;
mod api_keys;
mod audit_chain;
mod brainstorms;
mod checksums;
mod invitations;
mod messages;
mod reputation_feed;
mod settings_revisions;
mod task_graph;
mod task_has_dependents;
mod task_history_unchecked;
mod telemetry;
mod template_usages;
mod tenant_keys;
mod tenant_role_keys;
mod users_roles;
mod workflows;

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
    "collaboration_settings",
    "point_awards",
    "standings",
    "matches",
    "match_players",
    "reputation_events",
    "workflows",
    "workflow_versions",
    "workflow_executions",
    "templates",
    "template_usages",
    "task_dependencies",
    "task_events",
    "workflow_execution_tasks",
    "session_retired_tokens",
    "audit_chain_heads",
    "invitations",
    "invitation_roles",
    "api_keys",
    "knowledge_collections",
    "knowledge_entries",
    "knowledge_embeddings",
    "marketplace_items",
    "marketplace_installs",
    "execution_steps",
    "learning_records",
    "components",
    "events",
    "component_communications",
    "component_health",
    "metrics",
    "alerts",
    "rewards",
    "permission_grants",
    "violations",
    "penalties",
    "appeals",
    "brainstorms",
    "brainstorm_ideas",
    "brainstorm_idea_votes",
    "mentorships",
    "mentorship_sessions",
    "proposals",
    "proposal_options",
    "votes",
    "achievement_definitions",
    "achievements",
    "leaderboard_settings",
    "leaderboard_snapshots",
    "leaderboard_snapshot_entries",
    "retention_policies",
    "seed_records",
    "reputation_feed_watermarks",
    "schedules",
    "idempotent_requests",
    "workflow_waits",
    "queue_shares",
    "rate_limits",
    "task_concurrency_keys",
    "task_bodies",
    "task_fairness_keys",
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
            NewSession {
                refresh_token_hash: "hash".to_owned(),
                expires_at: Utc::now() + Duration::hours(1),
                client: ClientInfo::default(),
            },
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
    let invited = store
        .create_invitation(
            &fixture.ctx,
            NewInvitation {
                email: Email::parse("invited@acme.test").expect("email"),
                roles: vec![RoleCode::parse("roles", "developer").expect("code")],
                expires_at: Utc::now() + Duration::hours(1),
            },
        )
        .await
        .expect("invitation");
    let pending = store
        .list_invitations(&fixture.ctx, PageRequest::default())
        .await
        .expect("invitations");
    assert_eq!(pending.items, vec![invited.invitation.clone()]);
    let joined = store
        .accept_invitation(
            &invited.token,
            InvitationAcceptance {
                display_name: Name::parse("display_name", "Invited").expect("name"),
                username: None,
                password_hash: PasswordHash::hash(
                    &Password::parse("correct horse battery").expect("password"),
                    orchestore_testkit::TEST_BCRYPT_COST,
                )
                .expect("hash"),
            },
            None,
        )
        .await
        .expect("accept");
    let accepted = store
        .get_invitation(&fixture.ctx, invited.invitation.id)
        .await
        .expect("accepted invitation");
    assert_eq!(accepted.accepted_user_id, Some(joined.id));
    assert_eq!(accepted.roles, invited.invitation.roles);
    let key = store
        .create_api_key(
            &fixture.ctx,
            orchestore_domain::NewApiKey {
                owner: orchestore_domain::KeyOwner::User(fixture.owner.id),
                name: Name::parse("name", "decoder").expect("name"),
                scopes: orchestore_domain::KeyScopes::parse(&["tasks:read"]).expect("scopes"),
                expires_at: None,
            },
        )
        .await
        .expect("key");

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
        .list_audit(&fixture.ctx, AuditFilter::default(), PageRequest::default())
        .await
        .expect("audit");
    let keys = store
        .list_api_keys(
            &fixture.ctx,
            orchestore_domain::KeyOwner::User(fixture.owner.id),
            PageRequest::default(),
        )
        .await
        .expect("keys");
    assert_eq!(keys.items, vec![key.key]);
    assert_eq!(audit.items.len(), 15);
    assert!(
        store
            .health()
            .await
            .expect("health")
            .pending_migrations
            .is_empty()
    );
    telemetry_decodes(store, &fixture.ctx).await;
}

/// Each telemetry record written and read back: a component, its health check, a
/// communication, a metric sample in a bucket, an event and an alert.
async fn telemetry_decodes(store: &SeaStore, ctx: &Ctx) {
    use orchestore_domain::{
        AlertMessage, AlertSeverity, Bucket, CommunicationKind, ComponentKind, EventKind,
        HealthStatus, Measure, MetricName, MetricQuery, MetricTags, NewAlert, NewCommunication,
        NewComponent, NewEvent, NewHealthCheck, NewMetricSample, Outcome, Records, SourceName,
    };
    use orchestore_repo::{
        AlertRepo, CommunicationFilter, ComponentFilter, ComponentRepo, EventFilter, EventRepo,
        HealthFilter, MetricRepo,
    };

    let component = store
        .create_component(
            ctx,
            NewComponent::named(
                Name::parse("name", "api").expect("name"),
                ComponentKind::parse("api").expect("kind"),
            ),
        )
        .await
        .expect("component");
    let check = store
        .record_health(
            ctx,
            component.id,
            NewHealthCheck::new(HealthStatus::Healthy),
        )
        .await
        .expect("health");
    let latest = store
        .latest_health(ctx, ComponentFilter::default(), PageRequest::default())
        .await
        .expect("latest");
    assert_eq!(latest.items[0].latest.as_ref(), Some(&check));
    let history = store
        .list_health(
            ctx,
            component.id,
            HealthFilter::default(),
            PageRequest::default(),
        )
        .await
        .expect("history");
    assert_eq!(history.items, vec![check]);
    let call = NewCommunication {
        from_component_id: component.id,
        to_component_id: component.id,
        kind: CommunicationKind::parse("loopback").expect("kind"),
        payload_bytes: 1,
        latency_ms: Measure::parse_non_negative("latency_ms", 0.5).expect("latency"),
        outcome: Outcome::Success,
        occurred_at: None,
    };
    let recorded = store
        .record_communications(ctx, Records::one(call))
        .await
        .expect("communication");
    let listed = store
        .list_communications(ctx, CommunicationFilter::default(), PageRequest::default())
        .await
        .expect("communications");
    assert_eq!(listed.items, recorded);
    let at = Utc::now();
    let sample = NewMetricSample {
        component_id: component.id,
        name: MetricName::parse("rps").expect("name"),
        value: Measure::parse("value", 3.0).expect("value"),
        unit: None,
        tags: MetricTags::default(),
        recorded_at: Some(at),
    };
    store
        .record_metrics(ctx, Records::one(sample))
        .await
        .expect("sample");
    let query = MetricQuery::new(
        component.id,
        MetricName::parse("rps").expect("name"),
        at - Duration::hours(1),
        at + Duration::hours(1),
        Bucket::Hour,
    )
    .expect("query");
    let buckets = store.query_metrics(ctx, query).await.expect("buckets");
    assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 1);
    let event = store
        .record_events(
            ctx,
            Records::one(NewEvent::new(
                EventKind::parse("probe").expect("kind"),
                SourceName::parse("migrations").expect("source"),
            )),
        )
        .await
        .expect("event");
    let events = store
        .list_events(ctx, EventFilter::default(), PageRequest::default())
        .await
        .expect("events");
    assert_eq!(events.items, event);
    let raised = store
        .raise_alert(
            ctx,
            NewAlert::new(
                AlertSeverity::Info,
                SourceName::parse("migrations").expect("source"),
                AlertMessage::parse("decoded").expect("message"),
            ),
        )
        .await
        .expect("alert");
    assert_eq!(
        store
            .get_alert(ctx, raised.alert.id)
            .await
            .expect("get alert"),
        raised.alert
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

/// How many migrations come before migration `name`.
fn migrations_before(name: &str) -> u32 {
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == name)
        .unwrap_or_else(|| panic!("{name} is registered"));
    u32::try_from(position).expect("a few migrations")
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

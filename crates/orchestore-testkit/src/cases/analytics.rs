//! Analytics over a window, with known values: the rows' times and ends are set behind the
//! store's back, so that every count, mean and 95th percentile is known in advance and must be
//! the same number on both backends.

use chrono::{DateTime, Duration, Utc};
use orchestore_domain::{
    AnalyticsWindow, Description, DurationStats, LeaseDuration, Name, NewTemplate, NewWorkflow,
    NewWorkflowExecution, Outcomes, Payload, Priority, ProjectId, TemplateBody, TemplateKind,
    TemplateParameters, WorkflowDefinition, WorkflowExecutionId, WorkflowId,
};
use orchestore_repo::{Store, WorkflowTarget};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, Value};
use serde_json::{Map, json};
use uuid::Uuid;

use super::{PASSWORD, assert_not_found, task};
use crate::{Fixture, TestDb};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("time")
}

fn window(since: &str, until: &str) -> AnalyticsWindow {
    AnalyticsWindow::parse(Some(at(since)), Some(at(until)), Utc::now()).expect("window")
}

/// Sets `columns` of row `id` of `table` behind the store's back.
async fn set(db: &TestDb, table: &str, id: Uuid, columns: Vec<(&str, Value)>) {
    let mut update = Query::update();
    update.table(Alias::new(table));
    for (column, value) in columns {
        update.value(Alias::new(column), value);
    }
    update.and_where(Expr::col(Alias::new("id")).eq(id));
    let done = db.connection().execute(&update).await.expect("update");
    assert_eq!(done.rows_affected(), 1, "{table} {id}");
}

fn millis(ms: i64) -> Duration {
    Duration::milliseconds(ms)
}

async fn workflow<S: Store + ?Sized>(store: &S, fixture: &Fixture, name: &str) -> WorkflowId {
    let flow = store
        .create_workflow(
            &fixture.ctx,
            NewWorkflow {
                name: Name::parse("name", name).expect("name"),
                description: Description::empty(),
            },
        )
        .await
        .expect("workflow");
    store
        .create_version(
            &fixture.ctx,
            flow.id,
            WorkflowDefinition::parse(json!({"steps": [{"name": "only"}]})).expect("definition"),
        )
        .await
        .expect("version");
    flow.id
}

async fn execution<S: Store + ?Sized>(
    store: &S,
    fixture: &Fixture,
    workflow: WorkflowId,
    version: Option<u32>,
    project: ProjectId,
) -> WorkflowExecutionId {
    store
        .create_execution(
            &fixture.ctx,
            NewWorkflowExecution {
                workflow_id: workflow,
                version,
                project_id: project,
                input: Payload::parse(json!({})).expect("input"),
                priority: Priority::default(),
            },
        )
        .await
        .expect("execution")
        .id
}

/// Makes execution `id` created at `created`, and ended as `status` after `ms` (`None`:
/// still running, started then).
async fn execution_ran(
    db: &TestDb,
    id: WorkflowExecutionId,
    created: DateTime<Utc>,
    ended: Option<(&str, i64)>,
) {
    let mut columns = vec![
        ("created_at", created.into()),
        ("started_at", created.into()),
    ];
    if let Some((status, ms)) = ended {
        columns.push(("status", status.into()));
        columns.push(("finished_at", (created + millis(ms)).into()));
    }
    set(db, "workflow_executions", id.as_uuid(), columns).await;
}

pub async fn workflow_analytics_count_and_time_executions_of_the_window<S: Store + ?Sized>(
    store: &S,
    db: &TestDb,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let alpha = workflow(store, &acme, "Alpha").await;
    let beta = workflow(store, &acme, "Beta").await;
    let day_one = at("2026-11-01T10:00:00Z");
    let day_two = at("2026-11-02T23:59:59Z");
    for (created, ended) in [
        (day_one, Some(("succeeded", 1000))),
        (day_one, Some(("succeeded", 3000))),
        (day_one, Some(("failed", 2000))),
        (day_one, None),
        (day_two, Some(("succeeded", 4000))),
        // Before the window: not counted.
        (at("2026-10-31T23:59:59Z"), Some(("succeeded", 9999))),
    ] {
        let id = execution(store, &acme, alpha, None, project.id).await;
        execution_ran(db, id, created, ended).await;
    }
    let cancelled = execution(store, &acme, beta, None, project.id).await;
    execution_ran(db, cancelled, day_two, Some(("cancelled", 250))).await;

    let report = store
        .workflow_analytics(
            &acme.ctx,
            window("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z"),
        )
        .await
        .expect("analytics");
    let names: Vec<&str> = report.items.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["Alpha", "Beta"]);
    let alpha_report = &report.items[0];
    assert_eq!(alpha_report.workflow_id, alpha);
    assert_eq!(alpha_report.executions, Outcomes::new(5, 3, 1, 0));
    assert_eq!(alpha_report.executions.unfinished, 1);
    assert_eq!(alpha_report.executions.success_rate, Some(0.75));
    // 1, 2, 3 and 4 s: the mean 2.5 s, the ⌈0.95 × 4⌉ = 4th smallest 4 s.
    assert_eq!(
        alpha_report.duration,
        DurationStats::from_parts(4, 10_000, Some(4000))
    );
    assert_eq!(alpha_report.duration.mean_seconds, Some(2.5));
    assert_eq!(alpha_report.duration.p95_seconds, Some(4.0));
    assert_eq!(report.items[1].executions, Outcomes::new(1, 0, 0, 1));
    assert_eq!(report.items[1].executions.success_rate, Some(0.0));

    let daily = store
        .workflow_daily(
            &acme.ctx,
            alpha,
            window("2026-11-01T00:00:00Z", "2026-11-04T00:00:00Z"),
        )
        .await
        .expect("daily");
    let days: Vec<String> = daily.days.iter().map(|d| d.day.to_string()).collect();
    assert_eq!(days, ["2026-11-01", "2026-11-02", "2026-11-03"]);
    assert_eq!(daily.days[0].executions, Outcomes::new(4, 2, 1, 0));
    // 1, 2 and 3 s: the ⌈2.85⌉ = 3rd smallest.
    assert_eq!(
        daily.days[0].duration,
        DurationStats::from_millis([1000, 3000, 2000])
    );
    assert_eq!(daily.days[0].duration.p95_seconds, Some(3.0));
    assert_eq!(daily.days[1].executions, Outcomes::new(1, 1, 0, 0));
    assert_eq!(daily.days[1].duration.mean_seconds, Some(4.0));
    assert_eq!(daily.days[2].executions, Outcomes::default());
    assert_eq!(daily.days[2].duration, DurationStats::from_millis([]));

    // Another organization sees none of it, and not the workflow.
    let other = Fixture::create(store, "other", PASSWORD).await;
    let theirs = store
        .workflow_analytics(
            &other.ctx,
            window("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z"),
        )
        .await
        .expect("analytics");
    assert!(theirs.items.is_empty());
    assert_not_found(
        store
            .workflow_daily(
                &other.ctx,
                alpha,
                window("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
            )
            .await,
        "workflow",
    );
}

pub async fn task_kinds_count_attempts_and_time_the_tasks_that_ended<S: Store + ?Sized>(
    store: &S,
    db: &TestDb,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let created = at("2026-11-01T10:00:00Z");
    // (capabilities, status, attempts, ms to its last start, ms of its last run)
    for (capabilities, status, attempts, queued, running) in [
        (vec!["gpu"], "succeeded", 1, Some(1000), 2000),
        (vec!["gpu"], "failed", 3, Some(5000), 1000),
        (vec!["gpu"], "cancelled", 0, None, 100),
        (vec![], "succeeded", 2, Some(0), 500),
        // Ended after the window: not counted.
        (vec!["gpu"], "succeeded", 1, Some(1000), 5 * 86_400_000),
    ] {
        let mut new = task(project.id, "work");
        new.required_capabilities =
            orchestore_domain::Capabilities::parse(&capabilities).expect("capabilities");
        let made = store.create_task(&acme.ctx, new).await.expect("task");
        let started = queued.map(|ms| created + millis(ms));
        let finished = started.unwrap_or(created) + millis(running);
        set(
            db,
            "tasks",
            made.id.as_uuid(),
            vec![
                ("status", status.into()),
                ("attempts", attempts.into()),
                ("created_at", created.into()),
                ("started_at", started.into()),
                ("finished_at", finished.into()),
            ],
        )
        .await;
    }
    // A task still queued has not ended.
    store
        .create_task(&acme.ctx, task(project.id, "waiting"))
        .await
        .expect("task");

    let report = store
        .task_kind_analytics(
            &acme.ctx,
            window("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z"),
        )
        .await
        .expect("analytics");
    let kinds: Vec<Vec<String>> = report
        .items
        .iter()
        .map(|k| k.required_capabilities.clone())
        .collect();
    assert_eq!(kinds, [vec![], vec!["gpu".to_owned()]]);
    let any = &report.items[0];
    assert_eq!(any.tasks, Outcomes::new(1, 1, 0, 0));
    assert_eq!((any.attempts, any.mean_attempts), (2, Some(2.0)));
    assert_eq!(any.queued, DurationStats::from_millis([0]));
    assert_eq!(any.running.mean_seconds, Some(0.5));
    let gpu = &report.items[1];
    assert_eq!(gpu.tasks, Outcomes::new(3, 1, 1, 1));
    assert_eq!((gpu.attempts, gpu.mean_attempts), (4, Some(4.0 / 3.0)));
    // The cancelled task never ran: two waits (1 and 5 s) and two runs (2 and 1 s).
    assert_eq!(gpu.queued, DurationStats::from_parts(2, 6000, Some(5000)));
    assert_eq!(gpu.queued.mean_seconds, Some(3.0));
    assert_eq!(gpu.running, DurationStats::from_parts(2, 3000, Some(2000)));

    let other = Fixture::create(store, "other", PASSWORD).await;
    let theirs = store
        .task_kind_analytics(
            &other.ctx,
            window("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z"),
        )
        .await
        .expect("analytics");
    assert!(theirs.items.is_empty());
}

fn task_template() -> NewTemplate {
    let parameters = TemplateParameters::from_json(json!([])).expect("parameters");
    let body = TemplateBody::parse(
        TemplateKind::Task,
        &parameters,
        json!({"tasks": [{"title": "Review"}, {"title": "Merge"}]}),
    )
    .expect("body");
    NewTemplate {
        name: Name::parse("name", "Review").expect("name"),
        description: Description::empty(),
        kind: TemplateKind::Task,
        parameters,
        body,
    }
}

fn workflow_template() -> NewTemplate {
    let parameters = TemplateParameters::from_json(json!([])).expect("parameters");
    let body = TemplateBody::parse(
        TemplateKind::Workflow,
        &parameters,
        json!({"steps": [{"name": "build"}]}),
    )
    .expect("body");
    NewTemplate {
        name: Name::parse("name", "Pipeline").expect("name"),
        description: Description::empty(),
        kind: TemplateKind::Workflow,
        parameters,
        body,
    }
}

pub async fn template_analytics_follow_what_the_uses_produced<S: Store + ?Sized>(
    store: &S,
    db: &TestDb,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let review = store
        .create_template(&acme.ctx, task_template())
        .await
        .expect("template");
    let pipeline = store
        .create_template(&acme.ctx, workflow_template())
        .await
        .expect("template");
    let mut produced = Vec::new();
    for _ in 0..2 {
        let (_, tasks) = store
            .instantiate_task_template(&acme.ctx, review.id, project.id, Map::new())
            .await
            .expect("instantiate");
        produced.extend(tasks);
    }
    // One task of the four succeeds, one fails; the others wait.
    let agent = store
        .create_agent(
            &acme.ctx,
            orchestore_domain::NewAgent::named(
                Name::parse("name", "Worker").expect("name"),
                orchestore_domain::AgentKind::Ai,
            ),
        )
        .await
        .expect("agent");
    for (index, succeed) in [(0, true), (3, false)] {
        let run = store
            .claim_task(
                &acme.ctx,
                produced[index].id,
                agent.id,
                LeaseDuration::default(),
            )
            .await
            .expect("claim");
        if succeed {
            store
                .complete_task(&acme.ctx, produced[index].id, run.lease_token, None)
                .await
                .expect("complete");
        } else {
            store
                .fail_task(
                    &acme.ctx,
                    produced[index].id,
                    run.lease_token,
                    None,
                    orchestore_repo::Retry::Never,
                )
                .await
                .expect("fail");
        }
    }
    let (_, version) = store
        .instantiate_workflow_template(
            &acme.ctx,
            pipeline.id,
            WorkflowTarget::New(NewWorkflow {
                name: Name::parse("name", "Shipping").expect("name"),
                description: Description::empty(),
            }),
            Map::new(),
        )
        .await
        .expect("instantiate");
    let first = execution(
        store,
        &acme,
        version.workflow_id,
        Some(version.version),
        project.id,
    )
    .await;
    execution(
        store,
        &acme,
        version.workflow_id,
        Some(version.version),
        project.id,
    )
    .await;
    execution_ran(db, first, Utc::now(), Some(("succeeded", 10))).await;

    let now = Utc::now();
    let window = AnalyticsWindow::parse(
        Some(now - Duration::days(1)),
        Some(now + Duration::minutes(1)),
        now,
    )
    .expect("window");
    let report = store
        .template_analytics(&acme.ctx, window)
        .await
        .expect("analytics");
    let names: Vec<&str> = report.items.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Pipeline", "Review"]);
    let (pipeline_report, review_report) = (&report.items[0], &report.items[1]);
    assert_eq!(
        (pipeline_report.kind, pipeline_report.uses),
        (TemplateKind::Workflow, 1)
    );
    assert_eq!(pipeline_report.produced, Outcomes::new(2, 1, 0, 0));
    assert_eq!(pipeline_report.produced.success_rate, Some(1.0));
    assert_eq!(
        (review_report.template_id, review_report.uses),
        (review.id, 2)
    );
    assert_eq!(review_report.produced, Outcomes::new(4, 1, 1, 0));
    assert_eq!(review_report.produced.success_rate, Some(0.5));

    // Uses before the window are not counted.
    let earlier = AnalyticsWindow::parse(
        Some(now - Duration::days(3)),
        Some(now - Duration::days(1)),
        now,
    )
    .expect("window");
    assert!(
        store
            .template_analytics(&acme.ctx, earlier)
            .await
            .expect("analytics")
            .items
            .is_empty()
    );
    let other = Fixture::create(store, "other", PASSWORD).await;
    assert!(
        store
            .template_analytics(&other.ctx, window)
            .await
            .expect("analytics")
            .items
            .is_empty()
    );
}

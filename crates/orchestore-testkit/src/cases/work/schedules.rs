//! Schedules: each occurrence fires once, by a fixed clock (`now` is passed in), whoever fires
//! it; missed occurrences follow the schedule's misfire policy.

use chrono::{DateTime, Duration, Utc};
use orchestore_domain::{
    Capabilities, CronSchedule, Description, DomainError, MaxAttempts, MisfirePolicy, Name,
    NewSchedule, NewWorkflow, Payload, Priority, ProjectId, ScheduleOutcome, SchedulePatch,
    ScheduleTarget, ScheduledTask, ScheduledWorkflow, Tags, TimeZone, WorkflowDefinition,
    WorkflowId, occurrence_key,
};
use orchestore_repo::{
    ExecutionFilter, Limit, PageRequest, RepoError, ScheduleFilter, ScheduleRepo, Store,
    TaskFilter, TaskSort,
};
use orchestore_sea::{DbConfig, SeaStore};
use serde_json::json;

use super::super::{PASSWORD, assert_conflict, assert_not_found, assert_reference, title};
use crate::{Fixture, TestDb};

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("instant")
        .with_timezone(&Utc)
}

/// The fixed clock the cases start at.
fn t0() -> DateTime<Utc> {
    at("2026-03-01T10:00:00Z")
}

fn task_target(project: ProjectId, text: &str) -> ScheduleTarget {
    ScheduleTarget::Task(ScheduledTask {
        project_id: project,
        title: title(text),
        description: Description::empty(),
        priority: Priority::parse(7).expect("priority"),
        payload: Payload::parse(json!({ "report": "daily" })).expect("payload"),
        required_capabilities: Capabilities::parse(&["reporting"]).expect("capabilities"),
        tags: Tags::parse(&["scheduled"]).expect("tags"),
        max_attempts: MaxAttempts::parse(2).expect("max attempts"),
    })
}

fn schedule(name: &str, cron: &str, policy: MisfirePolicy, target: ScheduleTarget) -> NewSchedule {
    NewSchedule {
        name: Name::parse("name", name).expect("name"),
        cron: CronSchedule::parse(cron).expect("cron"),
        time_zone: TimeZone::utc(),
        misfire_policy: policy,
        target,
        enabled: true,
        starts_at: Some(t0()),
    }
}

async fn task_keys<S: Store + ?Sized>(
    store: &S,
    fixture: &Fixture,
    project: ProjectId,
) -> Vec<String> {
    let tasks = store
        .list_tasks(
            &fixture.ctx,
            TaskFilter {
                project_id: Some(project),
                ..TaskFilter::default()
            },
            PageRequest::new(Limit::parse(200).expect("limit"), TaskSort::CreatedAt, None)
                .expect("page"),
        )
        .await
        .expect("tasks");
    tasks
        .items
        .iter()
        .map(|task| {
            task.idempotency_key
                .as_ref()
                .expect("a scheduled task has a key")
                .as_str()
                .to_owned()
        })
        .collect()
}

pub async fn schedules_are_created_listed_changed_and_deleted<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Reports").await;
    let created = store
        .create_schedule(
            &acme.ctx,
            schedule(
                "Daily report",
                "0 9 * * *",
                MisfirePolicy::Skip,
                task_target(project.id, "Write the report"),
            ),
        )
        .await
        .expect("create");
    assert_eq!(created.next_run_at, Some(at("2026-03-02T09:00:00Z")));
    assert!(created.enabled);
    assert_eq!(created.last_outcome, None);
    assert_eq!(
        store
            .get_schedule(&acme.ctx, created.id)
            .await
            .expect("get"),
        created
    );
    assert_not_found(store.get_schedule(&other.ctx, created.id).await, "schedule");

    // Names are unique per organization, ignoring case.
    assert_conflict(
        store
            .create_schedule(
                &acme.ctx,
                schedule(
                    "DAILY REPORT",
                    "0 10 * * *",
                    MisfirePolicy::Skip,
                    task_target(project.id, "Again"),
                ),
            )
            .await,
        Some("name"),
    );

    // A new pattern and time zone move the next occurrence past now.
    let paris = TimeZone::parse("Europe/Paris").expect("tz");
    let updated = store
        .update_schedule(
            &acme.ctx,
            created.id,
            SchedulePatch {
                cron: Some(CronSchedule::parse("30 7 * * *").expect("cron")),
                time_zone: Some(paris),
                misfire_policy: Some(MisfirePolicy::CatchUpOne),
                ..SchedulePatch::default()
            },
            None,
        )
        .await
        .expect("update");
    assert_eq!(updated.cron.as_str(), "30 7 * * *");
    assert_eq!(updated.time_zone, paris);
    assert_eq!(updated.misfire_policy, MisfirePolicy::CatchUpOne);
    let next = updated.next_run_at.expect("next");
    assert!(next > Utc::now());
    assert_eq!(
        updated.cron.next_after(Utc::now(), paris),
        Some(next),
        "the first occurrence after the update"
    );

    // Paused: no occurrence due; resumed: the first after now.
    let paused = store
        .pause_schedule(&acme.ctx, created.id)
        .await
        .expect("pause");
    assert!(!paused.enabled);
    assert_eq!(paused.next_run_at, None);
    let listed = store
        .list_schedules(
            &acme.ctx,
            ScheduleFilter {
                enabled: Some(false),
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(listed.items, vec![paused.clone()]);
    let resumed = store
        .resume_schedule(&acme.ctx, created.id)
        .await
        .expect("resume");
    assert!(resumed.enabled);
    assert!(resumed.next_run_at.expect("next") > Utc::now());
    assert_eq!(
        store
            .resume_schedule(&acme.ctx, created.id)
            .await
            .expect("resume again"),
        resumed
    );
    assert_not_found(
        store.pause_schedule(&other.ctx, created.id).await,
        "schedule",
    );
    assert_not_found(
        store.delete_schedule(&other.ctx, created.id, None).await,
        "schedule",
    );
    assert!(
        store
            .list_schedules(
                &other.ctx,
                ScheduleFilter::default(),
                PageRequest::default()
            )
            .await
            .expect("list")
            .items
            .is_empty()
    );

    store
        .delete_schedule(&acme.ctx, created.id, None)
        .await
        .expect("delete");
    assert_not_found(store.get_schedule(&acme.ctx, created.id).await, "schedule");
}

pub async fn each_due_occurrence_fires_once<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let project = acme.project(store, "Reports").await;
    let created = store
        .create_schedule(
            &acme.ctx,
            schedule(
                "Every minute",
                "* * * * *",
                MisfirePolicy::Skip,
                task_target(project.id, "Tick"),
            ),
        )
        .await
        .expect("create");
    assert_eq!(created.next_run_at, Some(t0()));

    // Not due yet: nothing.
    let early = t0() - Duration::seconds(1);
    assert!(
        store
            .fire_due_schedules(&acme.ctx, early, 10)
            .await
            .expect("fire")
            .is_empty()
    );

    // Due: one task for the occurrence, then nothing more at the same instant.
    let now = t0() + Duration::seconds(2);
    let fired = store
        .fire_due_schedules(&acme.ctx, now, 10)
        .await
        .expect("fire");
    assert_eq!(fired.len(), 1);
    let Some(ScheduleOutcome::Task {
        occurrence,
        task_id,
    }) = fired[0].outcome.clone()
    else {
        panic!("expected a task, got {:?}", fired[0].outcome);
    };
    assert_eq!(occurrence, t0());
    assert_eq!(fired[0].next_run_at, Some(t0() + Duration::minutes(1)));
    let task = store.get_task(&acme.ctx, task_id).await.expect("task");
    assert_eq!(task.title.as_str(), "Tick");
    assert_eq!(task.priority.get(), 7);
    assert_eq!(task.max_attempts.get(), 2);
    assert_eq!(task.required_capabilities.to_strings(), vec!["reporting"]);
    assert_eq!(
        task.idempotency_key,
        Some(occurrence_key(created.id, t0()).expect("key"))
    );
    assert!(
        store
            .fire_due_schedules(&acme.ctx, now, 10)
            .await
            .expect("fire again")
            .is_empty()
    );

    let after = store
        .get_schedule(&acme.ctx, created.id)
        .await
        .expect("get");
    assert_eq!(after.last_run_at, Some(t0()));
    assert_eq!(after.last_outcome, fired[0].outcome);
    assert_eq!(after.next_run_at, Some(t0() + Duration::minutes(1)));

    // The next minute fires the next occurrence.
    store
        .fire_due_schedules(&acme.ctx, t0() + Duration::seconds(61), 10)
        .await
        .expect("fire");
    assert_eq!(
        task_keys(store, &acme, project.id).await,
        vec![
            occurrence_key(created.id, t0())
                .expect("key")
                .as_str()
                .to_owned(),
            occurrence_key(created.id, t0() + Duration::minutes(1))
                .expect("key")
                .as_str()
                .to_owned(),
        ]
    );
}

pub async fn missed_occurrences_follow_the_misfire_policy<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let skipping = acme.project(store, "Skipping").await;
    let catching_up = acme.project(store, "Catching up").await;
    let skip = store
        .create_schedule(
            &acme.ctx,
            schedule(
                "Hourly, skip",
                "0 * * * *",
                MisfirePolicy::Skip,
                task_target(skipping.id, "Hourly"),
            ),
        )
        .await
        .expect("create");
    let catch_up = store
        .create_schedule(
            &acme.ctx,
            schedule(
                "Hourly, catch up",
                "0 * * * *",
                MisfirePolicy::CatchUpOne,
                task_target(catching_up.id, "Hourly"),
            ),
        )
        .await
        .expect("create");

    // Down from before 10:00 until 13:30: four occurrences missed.
    let now = t0() + Duration::minutes(210);
    let fired = store
        .fire_due_schedules(&acme.ctx, now, 10)
        .await
        .expect("fire");
    assert_eq!(fired.len(), 2);
    let of = |id| {
        fired
            .iter()
            .find(|f| f.schedule_id == id)
            .expect("a firing of each")
            .clone()
    };
    let next = Some(t0() + Duration::hours(4));
    let skipped = of(skip.id);
    assert_eq!((skipped.outcome, skipped.next_run_at), (None, next));
    let caught_up = of(catch_up.id);
    assert_eq!(caught_up.next_run_at, next);
    assert_eq!(
        caught_up.outcome.map(|o| o.occurrence()),
        Some(t0() + Duration::hours(3)),
        "the latest missed occurrence, once"
    );
    assert!(task_keys(store, &acme, skipping.id).await.is_empty());
    assert_eq!(
        task_keys(store, &acme, catching_up.id).await,
        vec![
            occurrence_key(catch_up.id, t0() + Duration::hours(3))
                .expect("key")
                .as_str()
                .to_owned()
        ]
    );

    // Found within the grace, an occurrence is on time under either policy.
    let fired = store
        .fire_due_schedules(
            &acme.ctx,
            t0() + Duration::hours(4) + Duration::seconds(30),
            10,
        )
        .await
        .expect("fire");
    assert_eq!(fired.len(), 2);
    assert!(
        fired
            .iter()
            .all(|f| f.outcome.as_ref().map(ScheduleOutcome::occurrence)
                == Some(t0() + Duration::hours(4)))
    );
    assert_eq!(task_keys(store, &acme, skipping.id).await.len(), 1);
}

pub async fn paused_schedules_do_not_fire<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let project = acme.project(store, "Reports").await;
    let created = store
        .create_schedule(
            &acme.ctx,
            schedule(
                "Every minute",
                "* * * * *",
                MisfirePolicy::CatchUpOne,
                task_target(project.id, "Tick"),
            ),
        )
        .await
        .expect("create");
    store
        .pause_schedule(&acme.ctx, created.id)
        .await
        .expect("pause");
    let mut disabled = schedule(
        "Created paused",
        "* * * * *",
        MisfirePolicy::CatchUpOne,
        task_target(project.id, "Tock"),
    );
    disabled.enabled = false;
    let disabled = store
        .create_schedule(&acme.ctx, disabled)
        .await
        .expect("create");
    assert_eq!(disabled.next_run_at, None);
    assert!(
        store
            .fire_due_schedules(&acme.ctx, t0() + Duration::hours(1), 10)
            .await
            .expect("fire")
            .is_empty()
    );
    assert!(
        store
            .organizations_with_due_schedules(t0() + Duration::hours(1), 10)
            .await
            .expect("organizations")
            .is_empty()
    );
    assert!(task_keys(store, &acme, project.id).await.is_empty());
}

async fn workflow_with_a_version<S: Store + ?Sized>(
    store: &S,
    fixture: &Fixture,
    name: &str,
    versioned: bool,
) -> WorkflowId {
    let workflow = store
        .create_workflow(
            &fixture.ctx,
            NewWorkflow {
                name: Name::parse("name", name).expect("name"),
                description: Description::empty(),
            },
        )
        .await
        .expect("workflow");
    if versioned {
        store
            .create_version(
                &fixture.ctx,
                workflow.id,
                WorkflowDefinition::parse(json!({ "steps": [{ "name": "build" }] }))
                    .expect("definition"),
            )
            .await
            .expect("version");
    }
    workflow.id
}

fn workflow_target(project: ProjectId, workflow: WorkflowId) -> ScheduleTarget {
    ScheduleTarget::Workflow(ScheduledWorkflow {
        workflow_id: workflow,
        version: None,
        project_id: project,
        input: Payload::parse(json!({ "branch": "main" })).expect("input"),
        priority: Priority::default(),
    })
}

pub async fn a_workflow_schedule_starts_an_execution<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let project = acme.project(store, "Builds").await;
    let nightly = workflow_with_a_version(store, &acme, "nightly", true).await;
    let empty = workflow_with_a_version(store, &acme, "empty", false).await;
    let runs = store
        .create_schedule(
            &acme.ctx,
            schedule(
                "Nightly build",
                "0 2 * * *",
                MisfirePolicy::CatchUpOne,
                workflow_target(project.id, nightly),
            ),
        )
        .await
        .expect("create");
    let refused = store
        .create_schedule(
            &acme.ctx,
            schedule(
                "Nothing to run",
                "0 2 * * *",
                MisfirePolicy::CatchUpOne,
                workflow_target(project.id, empty),
            ),
        )
        .await
        .expect("create");
    let now = at("2026-03-02T02:00:01Z");
    let fired = store
        .fire_due_schedules(&acme.ctx, now, 10)
        .await
        .expect("fire");
    assert_eq!(fired.len(), 2);
    let of = |id| {
        fired
            .iter()
            .find(|f| f.schedule_id == id)
            .and_then(|f| f.outcome.clone())
            .expect("an outcome of each")
    };
    let ScheduleOutcome::Execution { execution_id, .. } = of(runs.id) else {
        panic!("expected an execution");
    };
    let execution = store
        .get_execution(&acme.ctx, execution_id)
        .await
        .expect("execution");
    assert_eq!(execution.workflow_id, nightly);
    assert_eq!(execution.version, 1);

    // A workflow without a version refuses: the schedule records why and moves on, and the
    // refused occurrence wrote nothing else.
    let ScheduleOutcome::Failed { error, occurrence } = of(refused.id) else {
        panic!("expected a failure");
    };
    assert_eq!(occurrence, at("2026-03-02T02:00:00Z"));
    assert!(error.contains("no version"), "{error}");
    let after = store
        .get_schedule(&acme.ctx, refused.id)
        .await
        .expect("get");
    assert_eq!(after.next_run_at, Some(at("2026-03-03T02:00:00Z")));
    assert!(matches!(
        after.last_outcome,
        Some(ScheduleOutcome::Failed { .. })
    ));
    let executions = store
        .list_executions(
            &acme.ctx,
            ExecutionFilter {
                workflow_id: Some(empty),
                ..ExecutionFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("executions");
    assert!(executions.items.is_empty());
}

pub async fn bad_schedules_are_refused_and_write_nothing<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Reports").await;
    let foreign_project = other.project(store, "Theirs").await;
    let foreign_workflow = workflow_with_a_version(store, &other, "theirs", true).await;

    for bad in [
        "",
        "every day",
        "60 * * * *",
        "* * * * * * 2030",
        "0 0 31 2 *",
    ] {
        assert!(
            matches!(
                CronSchedule::parse(bad),
                Err(DomainError::Invalid { field: "cron", .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        TimeZone::parse("Atlantis/Capital"),
        Err(DomainError::Invalid {
            field: "time_zone",
            ..
        })
    ));
    assert_reference(
        store
            .create_schedule(
                &acme.ctx,
                schedule(
                    "Foreign project",
                    "* * * * *",
                    MisfirePolicy::Skip,
                    task_target(foreign_project.id, "No"),
                ),
            )
            .await,
        "project_id",
    );
    assert_reference(
        store
            .create_schedule(
                &acme.ctx,
                schedule(
                    "Unknown project",
                    "* * * * *",
                    MisfirePolicy::Skip,
                    task_target(ProjectId::new(), "No"),
                ),
            )
            .await,
        "project_id",
    );
    assert_reference(
        store
            .create_schedule(
                &acme.ctx,
                schedule(
                    "Foreign workflow",
                    "* * * * *",
                    MisfirePolicy::Skip,
                    workflow_target(project.id, foreign_workflow),
                ),
            )
            .await,
        "workflow_id",
    );
    let kept = store
        .create_schedule(
            &acme.ctx,
            schedule(
                "Kept",
                "* * * * *",
                MisfirePolicy::Skip,
                task_target(project.id, "Yes"),
            ),
        )
        .await
        .expect("create");
    assert_reference(
        store
            .update_schedule(
                &acme.ctx,
                kept.id,
                SchedulePatch {
                    target: Some(workflow_target(project.id, WorkflowId::new())),
                    ..SchedulePatch::default()
                },
                None,
            )
            .await,
        "workflow_id",
    );
    assert_eq!(
        store.get_schedule(&acme.ctx, kept.id).await.expect("get"),
        kept,
        "a refused update changes nothing"
    );
    let listed = store
        .list_schedules(&acme.ctx, ScheduleFilter::default(), PageRequest::default())
        .await
        .expect("list");
    assert_eq!(listed.items, vec![kept]);
    assert!(matches!(
        store.get_schedule(&other.ctx, listed.items[0].id).await,
        Err(RepoError::NotFound { .. })
    ));
}

/// Two stores on one database (two pools: two server replicas on PostgreSQL) fire an
/// every-second schedule at the same instants, many times: each occurrence is fired by one of
/// them, once.
pub async fn concurrent_firers_fire_each_occurrence_once<S: Store + ?Sized>(
    store: &S,
    db: &TestDb,
) {
    let second = if db.url().starts_with("sqlite::memory:") {
        // One in-memory database is reached through one pool only.
        db.store().clone()
    } else {
        SeaStore::connect(&DbConfig::new(db.url()))
            .await
            .expect("a second store")
    };
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let project = acme.project(store, "Ticks").await;
    let created = store
        .create_schedule(
            &acme.ctx,
            schedule(
                "Every second",
                "* * * * * *",
                MisfirePolicy::CatchUpOne,
                task_target(project.id, "Tick"),
            ),
        )
        .await
        .expect("create");
    const OCCURRENCES: i64 = 25;
    for second_of in 0..OCCURRENCES {
        let now = t0() + Duration::seconds(second_of);
        let (first, other) = tokio::join!(
            store.fire_due_schedules(&acme.ctx, now, 10),
            second.fire_due_schedules(&acme.ctx, now, 10)
        );
        let fired = first.expect("first firer").len() + other.expect("second firer").len();
        assert_eq!(fired, 1, "occurrence {now} fired {fired} times");
    }
    let keys = task_keys(store, &acme, project.id).await;
    let expected: Vec<String> = (0..OCCURRENCES)
        .map(|s| {
            occurrence_key(created.id, t0() + Duration::seconds(s))
                .expect("key")
                .as_str()
                .to_owned()
        })
        .collect();
    assert_eq!(keys, expected);
}

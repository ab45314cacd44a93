//! The work through the typed client: tasks and their graph, the queue's runs, workflows with
//! their versions, executions, step logs and signals, templates, schedules and rate limits.

use futures_util::TryStreamExt;
use orchestore_client::api::PageQuery;
use orchestore_client::api::PatchField;
use orchestore_client::api::execution_steps::{ListStepsQuery, RecordStepBody};
use orchestore_client::api::projects::CreateProjectBody;
use orchestore_client::api::queue::{
    CancelBody, ClaimBody, ClaimOneBody, CompleteBody, CompleteManyBody, CompletionBody, FailBody,
    HeartbeatBody, ReleaseBody,
};
use orchestore_client::api::rate_limits::{
    CreateRateLimitBody, ListRateLimitsQuery, PatchRateLimitBody,
};
use orchestore_client::api::schedules::{
    CreateScheduleBody, ListSchedulesQuery, NextQuery, PatchScheduleBody, TaskTargetBody,
};
use orchestore_client::api::tasks::{
    AddDependencyBody, BatchBody, CreateTaskBody, ListTasksQuery, PatchTaskBody,
};
use orchestore_client::api::templates::{
    CreateTemplateBody, InstantiateBody, Instantiated, ListTemplatesQuery, PatchTemplateBody,
};
use orchestore_client::api::waits::SignalBody;
use orchestore_client::api::workflows::{
    CreateExecutionBody, CreateVersionBody, CreateWorkflowBody, ListExecutionsQuery,
    PatchExecutionBody, PatchWorkflowBody,
};
use orchestore_client::{Client, Error};
use orchestore_domain::{
    AgentId, ExecutionStatus, ProjectId, RateLimitName, SignalName, TaskStatus, WaitStatus,
};
use serde_json::json;

use crate::helpers::*;

/// A project for the tasks, and an agent to run them (agents through plain HTTP: this file
/// is about the work).
async fn project_and_agent(app: &TestApp, client: &Client) -> (ProjectId, AgentId) {
    let project = client
        .create_project(&CreateProjectBody {
            name: "Work".into(),
            ..Default::default()
        })
        .await
        .expect("a project");
    let token = app.admin_token().await;
    let agent = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "runner", "kind": "bot"}),
        )
        .await;
    let agent = serde_json::from_value(agent.body["id"].clone()).expect("an agent id");
    (project.id, agent)
}

pub async fn tasks_and_their_runs_go_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let (project, agent) = project_and_agent(app, &client).await;

    let first = client
        .create_task(&CreateTaskBody {
            idempotency_key: Some("build-1".into()),
            priority: Some(5),
            ..CreateTaskBody::new(project, "Build")
        })
        .await
        .expect("created");
    assert!(first.created);
    assert_eq!(first.task.status, TaskStatus::Queued);
    let again = client
        .create_task(&CreateTaskBody {
            idempotency_key: Some("build-1".into()),
            ..CreateTaskBody::new(project, "Build")
        })
        .await
        .expect("found by its key");
    assert!(!again.created, "the key names the first task");
    assert_eq!(again.task.id, first.task.id);

    let batch = client
        .create_tasks(&BatchBody {
            tasks: vec![
                CreateTaskBody::new(project, "Test"),
                CreateTaskBody {
                    depends_on_batch: Some(vec![0]),
                    ..CreateTaskBody::new(project, "Ship")
                },
            ],
        })
        .await
        .expect("a batch");
    let (test, ship) = (&batch.items[0].task, &batch.items[1].task);
    assert_eq!(ship.status, TaskStatus::Blocked);
    let waits_for = client
        .list_dependencies(ship.id, &PageQuery::default())
        .await
        .expect("dependencies");
    assert_eq!(waits_for.items[0].id, test.id);
    let waiting: Vec<_> = client
        .list_dependents_stream(test.id, &PageQuery::default())
        .try_collect()
        .await
        .expect("dependents");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id, ship.id);
    let ship = client
        .add_dependency(
            ship.id,
            &AddDependencyBody {
                depends_on: first.task.id,
            },
        )
        .await
        .expect("a second dependency");
    client
        .remove_dependency(ship.id, first.task.id)
        .await
        .expect("removed");
    let page = client
        .list_tasks(&ListTasksQuery {
            project_id: Some(project),
            limit: Some(2),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(page.items.len(), 2);
    let every: Vec<_> = client
        .list_tasks_stream(&ListTasksQuery {
            project_id: Some(project),
            limit: Some(2),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every.len(), 3);

    let renamed = client
        .update_task(
            first.task.id,
            &PatchTaskBody {
                title: PatchField::Value("Build it".into()),
                ..Default::default()
            },
            Some(first.task.revision),
        )
        .await
        .expect("renamed");
    assert_eq!(renamed.title.as_str(), "Build it");
    let stale = client
        .update_task(
            first.task.id,
            &PatchTaskBody {
                title: PatchField::Value("Build".into()),
                ..Default::default()
            },
            Some(first.task.revision),
        )
        .await
        .expect_err("a stale revision");
    assert_eq!(stale.status(), Some(412));

    // The queue: the highest priority first, a heartbeat, a completion; a late worker's
    // completion is refused with the problem saying why.
    let claimed = client
        .claim_tasks(&ClaimBody {
            agent_id: Some(agent),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .expect("a claim");
    let run = &claimed.items[0];
    assert_eq!(run.task.id, first.task.id);
    assert_eq!(run.task.status, TaskStatus::Running);
    let beat = client
        .heartbeat_task(
            run.task.id,
            &HeartbeatBody {
                lease_token: run.lease_token,
                lease_seconds: Some(60),
                progress: Some(50),
            },
        )
        .await
        .expect("a heartbeat");
    assert_eq!(beat.progress.get(), 50);
    let done = client
        .complete_task(
            run.task.id,
            &CompleteBody {
                lease_token: run.lease_token,
                result: Some(json!({"artifact": "app.tar"})),
            },
        )
        .await
        .expect("completed");
    assert_eq!(done.status, TaskStatus::Succeeded);
    let late = client
        .complete_task(
            run.task.id,
            &CompleteBody {
                lease_token: run.lease_token,
                result: None,
            },
        )
        .await
        .expect_err("the run has ended");
    assert_eq!(late.status(), Some(409));
    assert!(late.problem().is_some_and(|p| p.status == 409));

    // Claimed by id, released, claimed again and failed for good, then retried by hand.
    let test_run = client
        .claim_task(
            test.id,
            &ClaimOneBody {
                agent_id: Some(agent),
                lease_seconds: Some(30),
            },
        )
        .await
        .expect("claimed by id");
    let released = client
        .release_task(
            test.id,
            &ReleaseBody {
                lease_token: test_run.lease_token,
            },
        )
        .await
        .expect("released");
    assert_eq!(released.status, TaskStatus::Queued);
    let test_run = client
        .claim_task(
            test.id,
            &ClaimOneBody {
                agent_id: Some(agent),
                lease_seconds: None,
            },
        )
        .await
        .expect("claimed again");
    let failed = client
        .fail_task(
            test.id,
            &FailBody {
                lease_token: test_run.lease_token,
                error: Some(json!("flaky")),
                retry: Some(false),
            },
        )
        .await
        .expect("failed");
    assert_eq!(failed.status, TaskStatus::Failed);
    let ship = client.get_task(ship.id).await.expect("ship");
    assert_eq!(
        ship.status,
        TaskStatus::Cancelled,
        "a dependency failed for good"
    );
    let retried = client.retry_task(test.id).await.expect("retried");
    assert_eq!(retried.status, TaskStatus::Queued);
    let test_run = client
        .claim_task(
            test.id,
            &ClaimOneBody {
                agent_id: Some(agent),
                lease_seconds: None,
            },
        )
        .await
        .expect("claimed once more");
    let outcomes = client
        .complete_tasks(&CompleteManyBody {
            completions: vec![CompletionBody {
                task_id: test.id,
                lease_token: test_run.lease_token,
                result: None,
            }],
        })
        .await
        .expect("completed by the batch");
    assert_eq!(outcomes.items[0].status, 200);
    assert!(
        outcomes.items[0]
            .task
            .as_ref()
            .is_some_and(|t| t.id == test.id)
    );

    let history: Vec<_> = client
        .list_task_events_stream(test.id, &PageQuery::default())
        .try_collect()
        .await
        .expect("the history");
    assert!(history.len() >= 6, "{history:?}");
    assert_eq!(
        client
            .list_task_events(
                test.id,
                &PageQuery {
                    limit: Some(1),
                    ..Default::default()
                }
            )
            .await
            .expect("a page of it")
            .items
            .len(),
        1
    );

    let docs = client
        .create_task(&CreateTaskBody::new(project, "Docs"))
        .await
        .expect("created");
    let cancelled = client
        .cancel_task(
            docs.task.id,
            &CancelBody {
                reason: Some("not this week".into()),
            },
            Some(docs.task.revision),
        )
        .await
        .expect("cancelled");
    assert_eq!(cancelled.task.status, TaskStatus::Cancelled);
    assert_eq!(cancelled.cancelled_descendants.tasks, 0);

    let stats = client.task_stats().await.expect("task stats");
    assert_eq!(stats.total, 4);
    let queue = client.queue_stats().await.expect("queue stats");
    assert_eq!((queue.queued, queue.running), (0, 0));

    client
        .delete_task(ship.id, Some(ship.revision))
        .await
        .expect("deleted");
    let gone = client.get_task(ship.id).await.expect_err("gone");
    assert!(matches!(gone, Error::Problem(ref p) if p.status == 404));
}

pub async fn workflows_run_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let (project, agent) = project_and_agent(app, &client).await;

    let workflow = client
        .create_workflow(&CreateWorkflowBody {
            name: "Release".into(),
            description: Some("build, approve, ship".into()),
        })
        .await
        .expect("a workflow");
    let workflow = client
        .update_workflow(
            workflow.id,
            &PatchWorkflowBody {
                name: PatchField::Value("Release train".into()),
                ..Default::default()
            },
            Some(workflow.revision),
        )
        .await
        .expect("renamed");
    assert_eq!(
        client
            .get_workflow(workflow.id)
            .await
            .expect("read")
            .name
            .as_str(),
        "Release train"
    );
    let all: Vec<_> = client
        .list_workflows_stream(&PageQuery::default())
        .try_collect()
        .await
        .expect("every workflow");
    assert_eq!(all.len(), 1);
    assert_eq!(
        client
            .list_workflows(&PageQuery::default())
            .await
            .expect("a page")
            .items
            .len(),
        1
    );

    let version = client
        .create_workflow_version(
            workflow.id,
            &CreateVersionBody {
                definition: json!({"steps": [
                    {"name": "build"},
                    {"name": "approve", "depends_on": ["build"],
                     "wait": {"signal": "approve", "timeout_seconds": 3600}},
                ]}),
            },
        )
        .await
        .expect("version 1");
    assert_eq!(version.version, 1);
    assert_eq!(
        client
            .get_workflow_version(workflow.id, 1)
            .await
            .expect("read")
            .version,
        1
    );
    let versions: Vec<_> = client
        .list_workflow_versions_stream(workflow.id, &PageQuery::default())
        .try_collect()
        .await
        .expect("versions");
    assert_eq!(versions.len(), 1);
    assert_eq!(
        client
            .list_workflow_versions(workflow.id, &PageQuery::default())
            .await
            .expect("a page")
            .items
            .len(),
        1
    );

    let execution = client
        .start_execution(
            workflow.id,
            &CreateExecutionBody {
                version: None,
                project_id: project,
                input: json!({"tag": "v1"}),
                priority: None,
                parent_task_id: None,
            },
        )
        .await
        .expect("started");
    assert_eq!(execution.status, ExecutionStatus::Running);
    let steps = client
        .list_execution_tasks(workflow.id, execution.id, &PageQuery::default())
        .await
        .expect("its tasks");
    assert_eq!(steps.items.len(), 2);
    let streamed: Vec<_> = client
        .list_execution_tasks_stream(workflow.id, execution.id, &PageQuery::default())
        .try_collect()
        .await
        .expect("its tasks");
    assert_eq!(streamed.len(), 2);

    let build = client
        .claim_tasks(&ClaimBody {
            agent_id: Some(agent),
            ..Default::default()
        })
        .await
        .expect("the build step");
    let build = &build.items[0];
    client
        .complete_task(
            build.task.id,
            &CompleteBody {
                lease_token: build.lease_token,
                result: Some(json!("built")),
            },
        )
        .await
        .expect("built");
    let now = chrono::Utc::now();
    let step = client
        .record_execution_step(
            workflow.id,
            execution.id,
            &RecordStepBody {
                step: "build".into(),
                operation: "compile".into(),
                input_bytes: 10,
                output_bytes: 20,
                outcome: "succeeded".into(),
                started_at: now - chrono::Duration::seconds(2),
                finished_at: now,
            },
        )
        .await
        .expect("a step log entry");
    let log: Vec<_> = client
        .list_execution_steps_stream(workflow.id, execution.id, &ListStepsQuery::default())
        .try_collect()
        .await
        .expect("the step log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].id, step.id);
    assert_eq!(
        client
            .list_execution_steps(workflow.id, execution.id, &ListStepsQuery::default())
            .await
            .expect("a page of it")
            .items
            .len(),
        1
    );

    let waits = client
        .list_execution_waits(execution.id)
        .await
        .expect("the waits");
    assert_eq!(waits.items.len(), 1);
    let approve = SignalName::parse("approve").expect("a signal name");
    let signalled = client
        .signal_execution(
            execution.id,
            &approve,
            &SignalBody {
                payload: json!({"by": "ada"}),
            },
        )
        .await
        .expect("signalled");
    assert_eq!(signalled.status, WaitStatus::Signalled);

    let listed = client
        .list_executions(workflow.id, &ListExecutionsQuery::default())
        .await
        .expect("a page");
    assert_eq!(listed.items.len(), 1);
    let every: Vec<_> = client
        .list_executions_stream(workflow.id, &ListExecutionsQuery::default())
        .try_collect()
        .await
        .expect("every execution");
    assert_eq!(every.len(), 1);

    // A second execution, cancelled both ways the API offers.
    let second = client
        .start_execution(
            workflow.id,
            &CreateExecutionBody {
                version: Some(1),
                project_id: project,
                input: json!(null),
                priority: None,
                parent_task_id: None,
            },
        )
        .await
        .expect("started");
    let cancelled = client
        .update_execution(
            workflow.id,
            second.id,
            &PatchExecutionBody {
                status: "cancelled".into(),
                reason: Some("superseded".into()),
            },
            Some(second.revision),
        )
        .await
        .expect("cancelled");
    assert_eq!(cancelled.status, ExecutionStatus::Cancelled);
    let third = client
        .start_execution(
            workflow.id,
            &CreateExecutionBody {
                version: Some(1),
                project_id: project,
                input: json!(null),
                priority: None,
                parent_task_id: None,
            },
        )
        .await
        .expect("started");
    let cancelled = client
        .cancel_execution(workflow.id, third.id, &CancelBody::default(), None)
        .await
        .expect("cancelled");
    assert_eq!(
        client
            .get_execution(workflow.id, third.id)
            .await
            .expect("read")
            .status,
        cancelled.status
    );

    // It has run, so it stays.
    let refused = client
        .delete_workflow(workflow.id, None)
        .await
        .expect_err("a workflow that ran stays");
    assert_eq!(refused.status(), Some(409));
    let unused = client
        .create_workflow(&CreateWorkflowBody {
            name: "Unused".into(),
            description: None,
        })
        .await
        .expect("a workflow");
    client
        .delete_workflow(unused.id, Some(unused.revision))
        .await
        .expect("deleted");
}

pub async fn templates_schedules_and_rate_limits_go_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let (project, _) = project_and_agent(app, &client).await;

    let template = client
        .create_template(&CreateTemplateBody {
            name: "Review".into(),
            description: None,
            kind: "task".into(),
            parameters: Some(json!([{"name": "repo", "required": true}])),
            body: json!({"tasks": [{"title": "Review {{repo}}"}, {"title": "Merge {{repo}}"}]}),
        })
        .await
        .expect("a template");
    let template = client
        .update_template(
            template.id,
            &PatchTemplateBody {
                description: PatchField::Value("two steps".into()),
                ..Default::default()
            },
            Some(template.revision),
        )
        .await
        .expect("described");
    assert_eq!(
        client.get_template(template.id).await.expect("read"),
        template
    );
    let listed: Vec<_> = client
        .list_templates_stream(&ListTemplatesQuery::default())
        .try_collect()
        .await
        .expect("every template");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        client
            .list_templates(&ListTemplatesQuery::default())
            .await
            .expect("a page")
            .items
            .len(),
        1
    );
    let instantiated = client
        .instantiate_template(
            template.id,
            &InstantiateBody {
                project_id: Some(project),
                arguments: [("repo".to_owned(), json!("orchestore"))]
                    .into_iter()
                    .collect(),
                ..Default::default()
            },
        )
        .await
        .expect("instantiated");
    let Instantiated::Tasks(instantiation) = instantiated else {
        panic!("a task template writes tasks: {instantiated:?}");
    };
    assert_eq!(instantiation.tasks[0].title.as_str(), "Review orchestore");
    let usages: Vec<_> = client
        .list_template_usages_stream(template.id, &PageQuery::default())
        .try_collect()
        .await
        .expect("its usages");
    assert_eq!(usages.len(), 1);
    assert_eq!(
        client
            .list_template_usages(template.id, &PageQuery::default())
            .await
            .expect("a page")
            .items
            .len(),
        1
    );

    let schedule = client
        .create_schedule(&CreateScheduleBody {
            name: "Morning report".into(),
            cron: "0 30 9 * * MON-FRI".into(),
            time_zone: Some("Europe/Paris".into()),
            task: Some(TaskTargetBody {
                project_id: project,
                title: "Write the morning report".into(),
                description: None,
                priority: None,
                payload: None,
                required_capabilities: Vec::new(),
                tags: Vec::new(),
                max_attempts: None,
            }),
            ..Default::default()
        })
        .await
        .expect("a schedule");
    assert!(schedule.next_run_at.is_some());
    let paused = client.pause_schedule(schedule.id).await.expect("paused");
    assert!(paused.next_run_at.is_none());
    let resumed = client.resume_schedule(schedule.id).await.expect("resumed");
    assert!(resumed.next_run_at.is_some());
    let next = client
        .next_occurrences(schedule.id, &NextQuery { count: Some(3) })
        .await
        .expect("its next occurrences");
    assert_eq!(next.occurrences.len(), 3);
    let changed = client
        .update_schedule(
            schedule.id,
            &PatchScheduleBody {
                cron: PatchField::Value("0 0 12 * * *".into()),
                ..Default::default()
            },
            Some(resumed.revision),
        )
        .await
        .expect("changed");
    assert_eq!(
        client.get_schedule(schedule.id).await.expect("read"),
        changed
    );
    let schedules: Vec<_> = client
        .list_schedules_stream(&ListSchedulesQuery::default())
        .try_collect()
        .await
        .expect("every schedule");
    assert_eq!(schedules.len(), 1);
    assert_eq!(
        client
            .list_schedules(&ListSchedulesQuery::default())
            .await
            .expect("a page")
            .items
            .len(),
        1
    );
    client
        .delete_schedule(schedule.id, Some(changed.revision))
        .await
        .expect("deleted");

    // A name with a slash stays one path segment.
    let limit = client
        .create_rate_limit(&CreateRateLimitBody {
            name: "openai/requests".into(),
            capacity: 10,
            period_seconds: 60,
        })
        .await
        .expect("a bucket");
    let name = RateLimitName::parse("name", "openai/requests").expect("a name");
    assert_eq!(
        client.get_rate_limit(&name).await.expect("read").id,
        limit.id
    );
    let limit = client
        .update_rate_limit(
            &name,
            &PatchRateLimitBody {
                capacity: PatchField::Value(20),
                ..Default::default()
            },
            Some(limit.revision),
        )
        .await
        .expect("changed");
    assert_eq!(limit.capacity.get(), 20);
    let limits: Vec<_> = client
        .list_rate_limits_stream(&ListRateLimitsQuery::default())
        .try_collect()
        .await
        .expect("every bucket");
    assert_eq!(limits.len(), 1);
    assert_eq!(
        client
            .list_rate_limits(&ListRateLimitsQuery::default())
            .await
            .expect("a page")
            .items
            .len(),
        1
    );
    client
        .delete_rate_limit(&name, Some(limit.revision))
        .await
        .expect("deleted");
    let gone = client.get_rate_limit(&name).await.expect_err("gone");
    assert_eq!(gone.status(), Some(404));
    client
        .delete_template(template.id, None)
        .await
        .expect("deleted");
}

//! Workflows, their versions and their executions; executions running their steps as tasks
//! in [`runs`].

mod learning;
mod runs;
mod steps;
mod waits;

pub use learning::*;
pub use runs::*;
pub use steps::*;
pub use waits::*;

use orchestore_domain::{
    Description, ExecutionStatus, Name, NewWorkflow, NewWorkflowExecution, Payload, Priority,
    ProjectId, Workflow, WorkflowDefinition, WorkflowExecutionId, WorkflowId, WorkflowPatch,
};
use orchestore_repo::{
    AuditEntry, AuditFilter, AuditSort, ExecutionFilter, ExecutionSort, Limit, PageRequest,
    RepoError, Store, WorkflowSort, WorkflowVersionSort,
};
use serde_json::{Value, json};

use super::{PASSWORD, assert_conflict, assert_not_found, assert_reference};
use crate::Fixture;

fn new_workflow(name: &str) -> NewWorkflow {
    NewWorkflow {
        name: Name::parse("name", name).expect("name"),
        description: Description::empty(),
    }
}

fn definition(steps: Value) -> WorkflowDefinition {
    WorkflowDefinition::parse(json!({ "steps": steps })).expect("definition")
}

fn payload(value: Value) -> Payload {
    Payload::parse(value).expect("payload")
}

fn run(
    workflow: WorkflowId,
    version: Option<u32>,
    project: ProjectId,
    input: Value,
) -> NewWorkflowExecution {
    NewWorkflowExecution {
        workflow_id: workflow,
        version,
        project_id: project,
        input: payload(input),
        priority: Priority::default(),
    }
}

async fn workflow<S: Store + ?Sized>(store: &S, fixture: &Fixture, name: &str) -> Workflow {
    store
        .create_workflow(&fixture.ctx, new_workflow(name))
        .await
        .expect("create workflow")
}

/// The audit rows about `entity`, newest first.
async fn audit_of<S: Store + ?Sized>(
    store: &S,
    fixture: &Fixture,
    entity: &str,
) -> Vec<AuditEntry> {
    store
        .list_audit(
            &fixture.ctx,
            AuditFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")).sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit")
        .items
        .into_iter()
        .filter(|row| row.entity == entity)
        .collect()
}

fn actions(rows: &[AuditEntry]) -> Vec<&str> {
    rows.iter().map(|row| row.action.as_str()).collect()
}

pub async fn workflow_crud_is_scoped_to_the_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let created = workflow(store, &acme, "Release").await;
    assert_eq!(created.latest_version, None);
    assert_eq!(
        store
            .get_workflow(&acme.ctx, created.id)
            .await
            .expect("get"),
        created
    );
    assert_not_found(store.get_workflow(&other.ctx, created.id).await, "workflow");
    assert_not_found(
        store
            .update_workflow(&other.ctx, created.id, WorkflowPatch::default(), None)
            .await,
        "workflow",
    );
    assert_not_found(
        store.delete_workflow(&other.ctx, created.id, None).await,
        "workflow",
    );
    assert!(
        store
            .list_workflows(&other.ctx, PageRequest::default())
            .await
            .expect("list other")
            .items
            .is_empty()
    );

    let patch = WorkflowPatch {
        name: Some(Name::parse("name", "Release train").expect("name")),
        description: Some(Description::parse("description", "ship it").expect("description")),
    };
    let updated = store
        .update_workflow(&acme.ctx, created.id, patch, None)
        .await
        .expect("update");
    assert_eq!(updated.name.as_str(), "Release train");
    assert_eq!(updated.description.as_str(), "ship it");
    assert!(updated.updated_at >= created.updated_at);
    assert_eq!(
        store
            .get_workflow(&acme.ctx, created.id)
            .await
            .expect("get"),
        updated
    );
    // An empty patch changes nothing and writes no audit row.
    assert_eq!(
        store
            .update_workflow(&acme.ctx, created.id, WorkflowPatch::default(), None)
            .await
            .expect("empty patch"),
        updated
    );

    // Pages in either order, each with its own cursor.
    let second = workflow(store, &acme, "Nightly").await;
    let third = workflow(store, &acme, "Hotfix").await;
    let two = PageRequest::first(Limit::parse(2).expect("limit"));
    let oldest = store
        .list_workflows(&acme.ctx, two.clone())
        .await
        .expect("page");
    assert_eq!(
        oldest.items.iter().map(|w| w.id).collect::<Vec<_>>(),
        vec![created.id, second.id]
    );
    let rest = store
        .list_workflows(&acme.ctx, two.clone().next(oldest.next_cursor))
        .await
        .expect("next page");
    assert_eq!(
        rest.items.iter().map(|w| w.id).collect::<Vec<_>>(),
        vec![third.id]
    );
    assert!(rest.next_cursor.is_none());
    let newest = store
        .list_workflows(&acme.ctx, two.sorted(WorkflowSort::CreatedAtDesc))
        .await
        .expect("newest first");
    assert_eq!(
        newest.items.iter().map(|w| w.id).collect::<Vec<_>>(),
        vec![third.id, second.id]
    );

    store
        .delete_workflow(&acme.ctx, created.id, None)
        .await
        .expect("delete");
    assert_not_found(store.get_workflow(&acme.ctx, created.id).await, "workflow");
    assert_not_found(
        store.delete_workflow(&acme.ctx, created.id, None).await,
        "workflow",
    );

    let log = audit_of(store, &acme, "workflow").await;
    assert_eq!(
        actions(&log),
        vec![
            "workflow.delete",
            "workflow.create",
            "workflow.create",
            "workflow.update",
            "workflow.create"
        ]
    );
    assert_eq!(
        log[3].changes["name"],
        json!({"from": "Release", "to": "Release train"})
    );
    assert!(audit_of(store, &other, "workflow").await.is_empty());
}

pub async fn workflow_names_are_unique_per_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    workflow(store, &acme, "Deploy").await;
    workflow(store, &other, "Deploy").await;
    assert_conflict(
        store
            .create_workflow(&acme.ctx, new_workflow("DEPLOY"))
            .await,
        Some("name"),
    );
    let second = workflow(store, &acme, "Rollback").await;
    let rename = WorkflowPatch {
        name: Some(Name::parse("name", "deploy").expect("name")),
        ..WorkflowPatch::default()
    };
    assert_conflict(
        store
            .update_workflow(&acme.ctx, second.id, rename, None)
            .await,
        Some("name"),
    );
    assert_eq!(
        store
            .get_workflow(&acme.ctx, second.id)
            .await
            .expect("get")
            .name
            .as_str(),
        "Rollback"
    );
}

pub async fn versions_are_numbered_from_one_and_read_back<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let release = workflow(store, &acme, "Release").await;
    let first_steps = definition(json!([
        {"name": "build", "payload": {"target": "x86_64", "opt": 3}},
        {"name": "test", "depends_on": ["build"], "required_capabilities": ["rust"]},
    ]));
    let first = store
        .create_version(&acme.ctx, release.id, first_steps.clone())
        .await
        .expect("version 1");
    assert_eq!((first.version, first.workflow_id), (1, release.id));
    assert_eq!(first.definition, first_steps);
    let second = store
        .create_version(&acme.ctx, release.id, definition(json!([{"name": "ship"}])))
        .await
        .expect("version 2");
    assert_eq!(second.version, 2);
    let latest = store
        .get_workflow(&acme.ctx, release.id)
        .await
        .expect("workflow");
    assert_eq!(latest.latest_version, Some(2));
    assert!(latest.updated_at >= release.updated_at);

    assert_eq!(
        store
            .get_version(&acme.ctx, release.id, 1)
            .await
            .expect("get 1"),
        first
    );
    for missing in [0, 3, u32::MAX] {
        assert_not_found(
            store.get_version(&acme.ctx, release.id, missing).await,
            "workflow_version",
        );
    }
    assert_not_found(
        store.get_version(&other.ctx, release.id, 1).await,
        "workflow",
    );
    assert_not_found(
        store.get_version(&acme.ctx, WorkflowId::new(), 1).await,
        "workflow",
    );
    assert_not_found(
        store
            .create_version(&other.ctx, release.id, definition(json!([{"name": "x"}])))
            .await,
        "workflow",
    );
    assert_not_found(
        store
            .list_versions(&other.ctx, release.id, PageRequest::default())
            .await,
        "workflow",
    );

    // Either order, one page at a time.
    let third = store
        .create_version(
            &acme.ctx,
            release.id,
            definition(json!([{"name": "again"}])),
        )
        .await
        .expect("version 3");
    let one = PageRequest::first(Limit::parse(2).expect("limit"));
    let page = store
        .list_versions(&acme.ctx, release.id, one.clone())
        .await
        .expect("versions");
    assert_eq!(page.items, vec![first.clone(), second.clone()]);
    let rest = store
        .list_versions(&acme.ctx, release.id, one.clone().next(page.next_cursor))
        .await
        .expect("rest");
    assert_eq!(rest.items, vec![third.clone()]);
    assert!(rest.next_cursor.is_none());
    let newest = store
        .list_versions(
            &acme.ctx,
            release.id,
            one.clone().sorted(WorkflowVersionSort::VersionDesc),
        )
        .await
        .expect("newest first");
    assert_eq!(newest.items, vec![third, second]);
    let oldest = store
        .list_versions(&acme.ctx, release.id, one.next(newest.next_cursor))
        .await
        .expect("newest first, next page");
    assert_eq!(oldest.items, vec![first.clone()]);

    // Another workflow numbers its own versions.
    let nightly = workflow(store, &acme, "Nightly").await;
    let own = store
        .create_version(&acme.ctx, nightly.id, definition(json!([{"name": "n"}])))
        .await
        .expect("nightly 1");
    assert_eq!(own.version, 1);

    let log = audit_of(store, &acme, "workflow_version").await;
    assert_eq!(log.len(), 4);
    assert_eq!(log[3].action, "workflow_version.create");
    assert_eq!(log[3].entity_id, first.id.to_string());
    assert_eq!(
        log[3].changes,
        json!({"workflow_id": release.id, "version": 1, "step_count": 2})
    );
    assert!(audit_of(store, &other, "workflow_version").await.is_empty());
}

pub async fn executions_run_the_latest_or_a_named_version<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let release = workflow(store, &acme, "Release").await;
    let project = acme.project(store, "Apollo").await.id;

    // Nothing to run yet: the refusal says why and writes nothing.
    match store
        .create_execution(&acme.ctx, run(release.id, None, project, json!({})))
        .await
    {
        Err(RepoError::Conflict {
            field: None,
            reason,
            ..
        }) => assert!(reason.contains("no version yet"), "{reason}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_not_found(
        store
            .create_execution(&acme.ctx, run(WorkflowId::new(), None, project, json!({})))
            .await,
        "workflow",
    );

    let v1 = store
        .create_version(&acme.ctx, release.id, definition(json!([{"name": "a"}])))
        .await
        .expect("v1");
    let v2 = store
        .create_version(&acme.ctx, release.id, definition(json!([{"name": "b"}])))
        .await
        .expect("v2");
    let input = json!({"tag": "v1.2.0", "dry_run": false, "n": 1.5});
    let latest = store
        .create_execution(&acme.ctx, run(release.id, None, project, input.clone()))
        .await
        .expect("run the latest");
    assert_eq!((latest.version, latest.version_id), (2, v2.id));
    assert_eq!(latest.status, ExecutionStatus::Running);
    assert_eq!(latest.input.as_value(), &input);
    assert_eq!(latest.started_at, Some(latest.created_at));
    assert_eq!(
        (&latest.output, &latest.error, latest.finished_at),
        (&None, &None, None)
    );
    let pinned = store
        .create_execution(&acme.ctx, run(release.id, Some(1), project, Value::Null))
        .await
        .expect("run version 1");
    assert_eq!((pinned.version, pinned.version_id), (1, v1.id));
    assert_reference(
        store
            .create_execution(&acme.ctx, run(release.id, Some(7), project, Value::Null))
            .await,
        "version",
    );
    assert_reference(
        store
            .create_execution(&acme.ctx, run(release.id, Some(0), project, Value::Null))
            .await,
        "version",
    );
    assert_not_found(
        store
            .create_execution(&other.ctx, run(release.id, None, project, Value::Null))
            .await,
        "workflow",
    );

    assert_eq!(
        store
            .get_execution(&acme.ctx, latest.id)
            .await
            .expect("get"),
        latest
    );
    assert_not_found(
        store.get_execution(&other.ctx, latest.id).await,
        "workflow_execution",
    );
    assert_not_found(
        store
            .get_execution(&acme.ctx, WorkflowExecutionId::new())
            .await,
        "workflow_execution",
    );

    let log = audit_of(store, &acme, "workflow_execution").await;
    assert_eq!(
        actions(&log),
        vec!["workflow_execution.create", "workflow_execution.create"]
    );
    assert_eq!(log[1].changes["status"], "running");
    assert_eq!(log[1].changes["input"], input);
    assert_eq!(log[1].changes["project_id"], json!(project));
}

pub async fn executions_filter_by_workflow_and_status<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Apollo").await.id;
    let mut executions = Vec::new();
    let mut workflows = Vec::new();
    for name in ["Release", "Nightly"] {
        let flow = workflow(store, &acme, name).await;
        store
            .create_version(&acme.ctx, flow.id, definition(json!([{"name": "a"}])))
            .await
            .expect("version");
        for n in 0..2 {
            executions.push(
                store
                    .create_execution(&acme.ctx, run(flow.id, None, project, json!(n)))
                    .await
                    .expect("execution"),
            );
        }
        workflows.push(flow);
    }
    for cancelled in [0, 2] {
        store
            .cancel_execution(&acme.ctx, executions[cancelled].id, None, None)
            .await
            .expect("cancel");
    }

    let find = async |filter: ExecutionFilter, page: PageRequest<ExecutionSort>| {
        let page = store
            .list_executions(&acme.ctx, filter, page)
            .await
            .expect("list");
        (
            page.items.into_iter().map(|e| e.id).collect::<Vec<_>>(),
            page.next_cursor,
        )
    };
    let ids = |indices: &[usize]| {
        indices
            .iter()
            .map(|&i| executions[i].id)
            .collect::<Vec<_>>()
    };
    let of_release = ExecutionFilter {
        workflow_id: Some(workflows[0].id),
        ..ExecutionFilter::default()
    };
    assert_eq!(
        find(of_release.clone(), PageRequest::default()).await.0,
        ids(&[0, 1])
    );
    let running = ExecutionFilter {
        status: Some(ExecutionStatus::Running),
        ..ExecutionFilter::default()
    };
    assert_eq!(
        find(running.clone(), PageRequest::default()).await.0,
        ids(&[1, 3])
    );
    let cancelled = ExecutionFilter {
        status: Some(ExecutionStatus::Cancelled),
        ..ExecutionFilter::default()
    };
    assert_eq!(
        find(cancelled, PageRequest::default()).await.0,
        ids(&[0, 2])
    );
    let release_running = ExecutionFilter {
        status: Some(ExecutionStatus::Running),
        ..of_release
    };
    assert_eq!(
        find(release_running, PageRequest::default()).await.0,
        ids(&[1])
    );

    let two =
        PageRequest::first(Limit::parse(2).expect("limit")).sorted(ExecutionSort::CreatedAtDesc);
    let (first, cursor) = find(ExecutionFilter::default(), two.clone()).await;
    assert_eq!(first, ids(&[3, 2]));
    let (rest, end) = find(ExecutionFilter::default(), two.next(cursor)).await;
    assert_eq!(rest, ids(&[1, 0]));
    assert!(end.is_none());

    assert!(
        store
            .list_executions(
                &other.ctx,
                ExecutionFilter::default(),
                PageRequest::default()
            )
            .await
            .expect("other")
            .items
            .is_empty()
    );
}

pub async fn deleting_a_workflow_takes_its_versions_unless_it_has_executions<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let project = acme.project(store, "Apollo").await.id;
    let draft = workflow(store, &acme, "Draft").await;
    for step in ["a", "b"] {
        store
            .create_version(&acme.ctx, draft.id, definition(json!([{ "name": step }])))
            .await
            .expect("version");
    }
    store
        .delete_workflow(&acme.ctx, draft.id, None)
        .await
        .expect("delete a workflow that never ran");
    assert_not_found(store.get_workflow(&acme.ctx, draft.id).await, "workflow");
    assert_not_found(store.get_version(&acme.ctx, draft.id, 1).await, "workflow");
    let deletion = &audit_of(store, &acme, "workflow").await[0];
    assert_eq!(deletion.action, "workflow.delete");
    assert_eq!(deletion.changes["deleted_version_count"], json!(2));
    assert_eq!(deletion.changes["name"], "Draft");

    let used = workflow(store, &acme, "Used").await;
    let version = store
        .create_version(&acme.ctx, used.id, definition(json!([{"name": "a"}])))
        .await
        .expect("version");
    let execution = store
        .create_execution(&acme.ctx, run(used.id, None, project, Value::Null))
        .await
        .expect("execution");
    let audit_before = audit_of(store, &acme, "workflow").await.len();
    match store.delete_workflow(&acme.ctx, used.id, None).await {
        Err(RepoError::Conflict {
            field: None,
            reason,
            ..
        }) => assert!(reason.contains("1 execution"), "{reason}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // The refusal changed nothing.
    assert_eq!(
        store
            .get_workflow(&acme.ctx, used.id)
            .await
            .expect("kept")
            .latest_version,
        Some(1)
    );
    assert_eq!(
        store
            .get_version(&acme.ctx, used.id, 1)
            .await
            .expect("version kept"),
        version
    );
    assert_eq!(
        store
            .get_execution(&acme.ctx, execution.id)
            .await
            .expect("execution kept"),
        execution
    );
    assert_eq!(audit_of(store, &acme, "workflow").await.len(), audit_before);
}

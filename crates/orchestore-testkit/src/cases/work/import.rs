//! Importing a task list: tasks written in their final state with their graph in one
//! transaction, updated in place on a re-import, all or nothing.

use orchestore_domain::{
    Description, ExternalKey, ImportAction, ImportReport, ImportedStatus, ImportedTask, Metadata,
    Name, Priority, ProjectId, Tags, Task, TaskId, TaskImport, TaskStatus, Title,
};
use orchestore_repo::{
    Ctx, DependencySort, Limit, PageRequest, ProjectSort, Store, TaskFilter, TaskSort,
};
use serde_json::json;

use super::graph::{audit_actions, reasons, run_to, worker};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_cycle, assert_invalid, task};

fn listed(key: &str, status: ImportedStatus, depends_on: &[usize]) -> ImportedTask {
    ImportedTask {
        key: ExternalKey::parse(key).expect("key"),
        title: Title::parse(&format!("task {key}")).expect("title"),
        description: Description::parse("description", "from the list").expect("description"),
        status,
        priority: Priority::parse(10).expect("priority"),
        metadata: Metadata::parse("metadata", json!({ "source_id": key })).expect("metadata"),
        tags: Tags::parse(&["imported"]).expect("tags"),
        parent: None,
        depends_on: depends_on.iter().copied().collect(),
    }
}

fn import(project: &str, tasks: Vec<ImportedTask>) -> TaskImport {
    TaskImport {
        source: "test".into(),
        project: Name::parse("name", project).expect("name"),
        settings: Metadata::parse("settings", json!({ "list": { "version": 1 } })).expect("set"),
        tasks,
        scopes: vec!["t:".into()],
        dry_run: false,
    }
}

/// done ← open ← open2; deferred; cancelled; a subtask of `open`.
fn the_list() -> Vec<ImportedTask> {
    use ImportedStatus::*;
    let mut subtask = listed("t:2.1", Open, &[]);
    subtask.parent = Some(1);
    vec![
        listed("t:1", Succeeded, &[]),
        listed("t:2", Open, &[0]),
        subtask,
        listed("t:3", Open, &[1]),
        listed("t:4", Held, &[]),
        listed("t:5", Cancelled, &[]),
    ]
}

fn actions(report: &ImportReport) -> Vec<ImportAction> {
    report.tasks.iter().map(|t| t.action.clone()).collect()
}

fn statuses(report: &ImportReport) -> Vec<TaskStatus> {
    report.tasks.iter().map(|t| t.status).collect()
}

async fn project_tasks<S: Store + ?Sized>(store: &S, ctx: &Ctx, project: ProjectId) -> Vec<Task> {
    let filter = TaskFilter {
        project_id: Some(project),
        ..TaskFilter::default()
    };
    let page = PageRequest::<TaskSort>::first(Limit::parse(200).expect("limit"));
    store
        .list_tasks(ctx, filter, page)
        .await
        .expect("tasks")
        .items
}

async fn dependencies<S: Store + ?Sized>(store: &S, ctx: &Ctx, id: TaskId) -> Vec<TaskId> {
    store
        .list_dependencies(ctx, id, PageRequest::<DependencySort>::default())
        .await
        .expect("dependencies")
        .items
        .iter()
        .map(|t| t.id)
        .collect()
}

pub async fn an_import_writes_tasks_in_their_final_state_with_their_graph<S: Store + ?Sized>(
    store: &S,
) {
    use TaskStatus::*;
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;

    let report = store
        .import_tasks(ctx, import("Apollo", the_list()))
        .await
        .expect("import");
    assert!(report.project_created && report.settings_updated);
    assert_eq!(actions(&report), vec![ImportAction::Created; 6]);
    assert_eq!(
        statuses(&report),
        vec![Succeeded, Queued, Queued, Blocked, Blocked, Cancelled]
    );
    let project = store
        .get_project(ctx, report.project_id)
        .await
        .expect("project");
    assert_eq!(project.name.as_str(), "Apollo");
    assert_eq!(
        project.settings.to_value(),
        json!({ "list": { "version": 1 } })
    );

    // What is stored is what the report says, with the parent and the dependencies.
    let ids: Vec<TaskId> = report.tasks.iter().map(|t| t.task_id).collect();
    let stored = project_tasks(store, ctx, project.id).await;
    assert_eq!(stored.len(), 6);
    for outcome in &report.tasks {
        let task = store.get_task(ctx, outcome.task_id).await.expect("task");
        assert_eq!(task.status, outcome.status, "{}", outcome.key);
        assert_eq!(task.priority.get(), 10);
        assert_eq!(task.metadata.to_value()["source_id"], json!(outcome.key));
        assert_eq!(task.tags.to_strings(), vec!["imported".to_owned()]);
    }
    let subtask = store.get_task(ctx, ids[2]).await.expect("subtask");
    assert_eq!(subtask.parent_id, Some(ids[1]));
    assert_eq!(dependencies(store, ctx, ids[1]).await, vec![ids[0]]);
    assert_eq!(dependencies(store, ctx, ids[3]).await, vec![ids[1]]);
    let done = store.get_task(ctx, ids[0]).await.expect("done");
    assert!(done.finished_at.is_some());
    assert_eq!(
        reasons(store, ctx, ids[0]).await,
        vec!["imported from test"]
    );
    let history = store
        .list_task_events(ctx, ids[0], PageRequest::default())
        .await
        .expect("history");
    assert_eq!(history.items[0].actor, ctx.actor().to_string());
    let audited = audit_actions(store, ctx).await;
    assert_eq!(audited.last().map(String::as_str), Some("project.import"));
    assert!(audited.contains(&"project.create".to_owned()));

    // The blocked task is queued when the one it waits for succeeds, as any task.
    let agent = worker(store, ctx, "worker", &[]).await;
    run_to(store, ctx, ids[1], agent.id, Succeeded).await;
    assert_eq!(
        store.get_task(ctx, ids[3]).await.expect("t3").status,
        Queued
    );

    // The same list again changes nothing and writes nothing.
    let before = audit_actions(store, ctx).await.len();
    let mut again = the_list();
    again[1].status = ImportedStatus::Succeeded;
    let report = store
        .import_tasks(ctx, import("apollo", again))
        .await
        .expect("again");
    assert!(!report.project_created && !report.settings_updated);
    assert_eq!(report.project_id, project.id);
    assert_eq!(actions(&report), vec![ImportAction::Unchanged; 6]);
    assert_eq!(audit_actions(store, ctx).await.len(), before);
    assert_eq!(project_tasks(store, ctx, project.id).await.len(), 6);
}

pub async fn a_reimport_updates_in_place_and_reports_what_it_leaves<S: Store + ?Sized>(store: &S) {
    use TaskStatus::*;
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let first = store
        .import_tasks(ctx, import("Apollo", the_list()))
        .await
        .expect("import");
    let ids: Vec<TaskId> = first.tasks.iter().map(|t| t.task_id).collect();
    // An agent runs the subtask; a task outside the list waits for t:2.
    let agent = worker(store, ctx, "worker", &[]).await;
    store
        .claim_task(ctx, ids[2], agent.id, Default::default())
        .await
        .expect("claim");
    let outside = store
        .create_task(
            ctx,
            orchestore_domain::NewTask {
                depends_on: [ids[1]].into(),
                ..task(first.project_id, "outside")
            },
        )
        .await
        .expect("outside");
    assert_eq!(outside.status, Blocked);

    // t:1 leaves the list; t:2 is done and renamed; the running subtask is renamed; the
    // cancelled t:5 would be reopened; t:3 now waits for t:6, a new task.
    let mut list = the_list();
    list[1].status = ImportedStatus::Succeeded;
    list[1].title = Title::parse("renamed").expect("title");
    list[2].title = Title::parse("renamed too").expect("title");
    list[5].status = ImportedStatus::Open;
    list[3].depends_on = [6].into();
    list.push(listed("t:6", ImportedStatus::Open, &[]));
    list.remove(0);
    for item in &mut list {
        item.parent = item.parent.map(|p| p - 1);
        // t:2 waited for t:1, which left.
        item.depends_on = item
            .depends_on
            .iter()
            .filter(|&&d| d > 0)
            .map(|d| d - 1)
            .collect();
    }
    let settings = Metadata::parse("settings", json!({ "list": { "tag": "x" } })).expect("set");
    let dry = store
        .import_tasks(
            ctx,
            TaskImport {
                dry_run: true,
                settings: settings.clone(),
                ..import("Apollo", list.clone())
            },
        )
        .await
        .expect("dry run");
    let report = store
        .import_tasks(
            ctx,
            TaskImport {
                settings,
                ..import("Apollo", list)
            },
        )
        .await
        .expect("re-import");
    assert!(dry.dry_run && !report.dry_run);
    assert_eq!(dry.tasks.len(), report.tasks.len());
    for (would, did) in dry.tasks.iter().zip(&report.tasks) {
        assert_eq!((&would.key, &would.action), (&did.key, &did.action));
    }

    let running = "running: an agent holds it, so it is left as it is".to_owned();
    let finished = "cancelled in Orchestore: a finished task does not change".to_owned();
    assert_eq!(
        actions(&report),
        vec![
            ImportAction::Updated,
            ImportAction::Skipped { reason: running },
            ImportAction::Updated,
            ImportAction::Unchanged,
            ImportAction::Skipped { reason: finished },
            ImportAction::Created,
        ]
    );
    assert_eq!(
        statuses(&report),
        vec![Succeeded, Running, Blocked, Blocked, Cancelled, Queued]
    );
    // Updated in place: the same ids, no duplicate; the one that left is reported, not deleted.
    assert_eq!(report.tasks[0].task_id, ids[1]);
    assert_eq!(report.tasks[2].task_id, ids[3]);
    assert_eq!(report.missing.len(), 1);
    assert_eq!(report.missing[0].task_id, ids[0]);
    assert_eq!(report.missing[0].key.as_str(), "t:1");
    assert_eq!(project_tasks(store, ctx, first.project_id).await.len(), 8);
    let renamed = store.get_task(ctx, ids[1]).await.expect("t:2");
    assert_eq!(
        (renamed.title.as_str(), renamed.status),
        ("renamed", Succeeded)
    );
    assert_eq!(
        reasons(store, ctx, ids[1]).await,
        vec!["imported from test", "imported from test"]
    );
    let subtask = store.get_task(ctx, ids[2]).await.expect("subtask");
    assert_eq!(
        (subtask.title.as_str(), subtask.status),
        ("task t:2.1", Running)
    );
    assert_eq!(
        dependencies(store, ctx, ids[3]).await,
        vec![report.tasks[5].task_id]
    );
    // The task outside the list that waited only for t:2 is queued.
    assert_eq!(
        store
            .get_task(ctx, outside.id)
            .await
            .expect("outside")
            .status,
        Queued
    );
    // Settings merge key by key.
    let project = store
        .get_project(ctx, first.project_id)
        .await
        .expect("project");
    assert_eq!(
        project.settings.to_value(),
        json!({ "list": { "version": 1, "tag": "x" } })
    );
}

pub async fn a_faulty_import_or_a_dry_run_writes_nothing<S: Store + ?Sized>(store: &S) {
    use ImportedStatus::*;
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let projects = async || {
        store
            .list_projects(ctx, PageRequest::<ProjectSort>::default())
            .await
            .expect("projects")
            .items
            .len()
    };
    let audit_before = audit_actions(store, ctx).await.len();

    let cycle = import(
        "Apollo",
        vec![
            listed("t:1", Open, &[2]),
            listed("t:2", Open, &[0]),
            listed("t:3", Open, &[1]),
        ],
    );
    let path = assert_cycle(store.import_tasks(ctx, cycle).await, "depends_on");
    assert_eq!(path, vec!["t:1", "t:3", "t:2", "t:1"]);
    let twice = import(
        "Apollo",
        vec![listed("t:1", Open, &[]), listed("t:1", Open, &[])],
    );
    assert_invalid(store.import_tasks(ctx, twice).await, "external_key");
    let nowhere = import("Apollo", vec![listed("t:1", Open, &[3])]);
    assert_invalid(store.import_tasks(ctx, nowhere).await, "depends_on");

    let dry = store
        .import_tasks(
            ctx,
            TaskImport {
                dry_run: true,
                ..import("Apollo", the_list())
            },
        )
        .await
        .expect("dry run");
    assert!(dry.dry_run && dry.project_created);
    assert_eq!(actions(&dry), vec![ImportAction::Created; 6]);
    assert_eq!(projects().await, 0);
    assert_eq!(audit_actions(store, ctx).await.len(), audit_before);
    assert!(store.get_task(ctx, dry.tasks[0].task_id).await.is_err());
}

//! Templates and their usage.

use orchestore_domain::{
    AuditLogId, Description, ExecutionStatus, Name, NewTemplate, NewWorkflow, NewWorkflowExecution,
    Payload, Priority, ProjectId, TemplateBody, TemplateId, TemplateKind, TemplateParameters,
    TemplatePatch, TemplateUsage, Workflow, WorkflowDefinition, WorkflowExecution, WorkflowId,
    WorkflowVersion,
};
use orchestore_repo::{
    AuditFilter, AuditSort, Ctx, PageRequest, RepoError, RepoResult, Store, TaskFilter,
    TemplateFilter, TemplateUsageSort, WorkflowTarget,
};
use serde_json::{Map, Value, json};

use super::{PASSWORD, assert_conflict, assert_invalid, assert_not_found, assert_reference};
use crate::Fixture;

fn review_template(name: &str) -> NewTemplate {
    let parameters = TemplateParameters::from_json(json!([
        {"name": "repo", "required": true},
        {"name": "priority", "default": 5}
    ]))
    .expect("parameters");
    let body = TemplateBody::parse(
        TemplateKind::Task,
        &parameters,
        json!({"tasks": [
            {"title": "Review {{repo}}", "priority": "{{priority}}", "required_capabilities": ["review"]},
            {"title": "Merge {{repo}}", "payload": {"repo": "{{repo}}"}}
        ]}),
    )
    .expect("body");
    NewTemplate {
        name: Name::parse("name", name).expect("name"),
        description: Description::empty(),
        kind: TemplateKind::Task,
        parameters,
        body,
    }
}

fn workflow_template() -> NewTemplate {
    let parameters = TemplateParameters::from_json(json!([{"name": "step"}])).expect("params");
    let body = TemplateBody::parse(
        TemplateKind::Workflow,
        &parameters,
        json!({"steps": [{"name": "build"}, {"name": "ship", "depends_on": ["build"]}]}),
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

fn arguments(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub async fn template_crud_is_scoped_to_the_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let created = store
        .create_template(&acme.ctx, review_template("Code review"))
        .await
        .expect("create");
    assert_eq!(created.usage_count, 0);
    assert_eq!(
        store
            .get_template(&acme.ctx, created.id)
            .await
            .expect("get"),
        created
    );
    assert_not_found(store.get_template(&other.ctx, created.id).await, "template");
    assert_not_found(
        store.delete_template(&other.ctx, created.id, None).await,
        "template",
    );
    assert_conflict(
        store
            .create_template(&acme.ctx, review_template("CODE REVIEW"))
            .await,
        Some("name"),
    );
    store
        .create_template(&other.ctx, review_template("Code review"))
        .await
        .expect("the same name in another organization");

    let workflow = store
        .create_template(&acme.ctx, workflow_template())
        .await
        .expect("workflow template");
    let tasks_only = store
        .list_templates(
            &acme.ctx,
            TemplateFilter {
                kind: Some(TemplateKind::Task),
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(tasks_only.items, vec![created.clone()]);
    let all = store
        .list_templates(&acme.ctx, TemplateFilter::default(), PageRequest::default())
        .await
        .expect("list");
    assert_eq!(all.items.len(), 2);

    // A patch whose body uses a placeholder the parameters do not declare is refused.
    let bad_body = TemplateBody::parse(
        TemplateKind::Task,
        &TemplateParameters::from_json(json!([{"name": "repo"}, {"name": "team"}]))
            .expect("params"),
        json!({"tasks": [{"title": "Review {{repo}} for {{team}}"}]}),
    )
    .expect("body for other parameters");
    let refused = store
        .update_template(
            &acme.ctx,
            created.id,
            TemplatePatch {
                body: Some(bad_body),
                ..TemplatePatch::default()
            },
            None,
        )
        .await;
    assert!(matches!(refused, Err(RepoError::Invalid(_))), "{refused:?}");
    let renamed = store
        .update_template(
            &acme.ctx,
            created.id,
            TemplatePatch {
                name: Some(Name::parse("name", "Careful review").expect("name")),
                ..TemplatePatch::default()
            },
            None,
        )
        .await
        .expect("rename");
    assert_eq!(renamed.name.as_str(), "Careful review");
    assert_eq!(renamed.body, created.body);

    store
        .delete_template(&acme.ctx, workflow.id, None)
        .await
        .expect("delete");
    assert_not_found(store.get_template(&acme.ctx, workflow.id).await, "template");
}

/// A task template's tasks, its usage row and its count land together, or not at all.
pub async fn instantiating_a_task_template_creates_its_tasks<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let template = store
        .create_template(&acme.ctx, review_template("Code review"))
        .await
        .expect("create");

    let (usage, tasks) = store
        .instantiate_task_template(
            &acme.ctx,
            template.id,
            project.id,
            arguments(json!({"repo": "orchestore"})),
        )
        .await
        .expect("instantiate");
    let titles: Vec<&str> = tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, vec!["Review orchestore", "Merge orchestore"]);
    assert_eq!(tasks[0].priority.get(), 5, "the default applies");
    assert_eq!(tasks[1].payload.as_value(), &json!({"repo": "orchestore"}));
    assert!(tasks.iter().all(|t| t.project_id == project.id));
    assert_eq!(
        usage.created_entities,
        tasks.iter().map(|t| t.id.to_string()).collect::<Vec<_>>()
    );
    assert_eq!(usage.arguments.to_value(), json!({"repo": "orchestore"}));
    assert_eq!(usage.created_by, acme.ctx.actor().to_string());
    assert_eq!(usage.workflow_version, None);
    let listed = store
        .list_tasks(&acme.ctx, TaskFilter::default(), PageRequest::default())
        .await
        .expect("tasks");
    assert_eq!(listed.items, tasks);
    assert_eq!(
        store
            .get_template(&acme.ctx, template.id)
            .await
            .expect("get")
            .usage_count,
        1
    );
    let history = store
        .list_template_usages(&acme.ctx, template.id, PageRequest::default())
        .await
        .expect("usages");
    assert_eq!(history.items, vec![usage.clone()]);
    assert_not_found(
        store
            .list_template_usages(
                &other.ctx,
                template.id,
                PageRequest::<TemplateUsageSort>::default(),
            )
            .await,
        "template",
    );

    // Refusals change nothing: a missing argument, an unknown one, another tenant's project.
    for (args, project_id) in [
        (json!({}), project.id),
        (json!({"repo": "x", "colour": "red"}), project.id),
        (
            json!({"repo": "x"}),
            other.project(store, "Theirs").await.id,
        ),
    ] {
        let refused = store
            .instantiate_task_template(&acme.ctx, template.id, project_id, arguments(args))
            .await;
        assert!(
            matches!(
                refused,
                Err(RepoError::Invalid(_) | RepoError::Reference { .. })
            ),
            "{refused:?}"
        );
    }
    let refused = store
        .instantiate_task_template(
            &acme.ctx,
            template.id,
            other.project(store, "Theirs too").await.id,
            arguments(json!({"repo": "x"})),
        )
        .await;
    assert_reference(refused, "project_id");
    let listed = store
        .list_tasks(&acme.ctx, TaskFilter::default(), PageRequest::default())
        .await
        .expect("tasks");
    assert_eq!(
        listed.items.len(),
        2,
        "no task from a refused instantiation"
    );
    assert_eq!(
        store
            .get_template(&acme.ctx, template.id)
            .await
            .expect("get")
            .usage_count,
        1
    );

    // A workflow template yields no tasks.
    let workflow = store
        .create_template(&acme.ctx, workflow_template())
        .await
        .expect("workflow template");
    let refused = store
        .instantiate_task_template(&acme.ctx, workflow.id, project.id, Map::new())
        .await;
    assert!(matches!(refused, Err(RepoError::Invalid(_))), "{refused:?}");

    // Deleting the template takes its history, not what it created.
    store
        .delete_template(&acme.ctx, template.id, None)
        .await
        .expect("delete");
    assert_eq!(
        store
            .get_task(&acme.ctx, tasks[0].id)
            .await
            .expect("task stays"),
        tasks[0]
    );
    let log = store
        .list_audit(
            &acme.ctx,
            AuditFilter::default(),
            PageRequest::default().sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit");
    assert_eq!(log.items[0].action, "template.delete");
    assert_eq!(log.items[0].changes["deleted_usage_count"], json!(1));
}

/// A workflow template whose placeholders reach a step name, an edge, a number and text.
fn release_template() -> NewTemplate {
    let parameters = TemplateParameters::from_json(json!([
        {"name": "first", "required": true},
        {"name": "attempts", "default": 2},
        {"name": "env"}
    ]))
    .expect("parameters");
    let body = TemplateBody::parse(
        TemplateKind::Workflow,
        &parameters,
        json!({"steps": [
            {"name": "{{first}}", "max_attempts": "{{attempts}}", "payload": {"env": "{{env}}"}},
            {"name": "deploy", "title": "Deploy after {{first}}", "depends_on": ["{{first}}"]}
        ]}),
    )
    .expect("body");
    NewTemplate {
        name: Name::parse("name", "Release").expect("name"),
        description: Description::empty(),
        kind: TemplateKind::Workflow,
        parameters,
        body,
    }
}

fn new_workflow(name: &str) -> NewWorkflow {
    NewWorkflow {
        name: Name::parse("name", name).expect("name"),
        description: Description::empty(),
    }
}

/// A workflow template writes the next version of a workflow, or version 1 of a new one, with
/// the arguments filled in; the usage names the version and the count follows.
pub async fn instantiating_a_workflow_template_writes_a_version<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let template = store
        .create_template(&acme.ctx, release_template())
        .await
        .expect("template");
    let pipeline = store
        .create_workflow(&acme.ctx, new_workflow("Pipeline"))
        .await
        .expect("workflow");
    let first = WorkflowDefinition::parse(json!({"steps": [{"name": "draft"}]})).expect("steps");
    store
        .create_version(&acme.ctx, pipeline.id, first)
        .await
        .expect("version 1");

    let (usage, version) = store
        .instantiate_workflow_template(
            &acme.ctx,
            template.id,
            WorkflowTarget::Existing(pipeline.id),
            arguments(json!({"first": "build", "env": "prod"})),
        )
        .await
        .expect("instantiate");
    let expected = WorkflowDefinition::parse(json!({"steps": [
        {"name": "build", "max_attempts": 2, "payload": {"env": "prod"}},
        {"name": "deploy", "title": "Deploy after build", "depends_on": ["build"]}
    ]}))
    .expect("the filled-in definition");
    assert_eq!((version.workflow_id, version.version), (pipeline.id, 2));
    assert_eq!(version.definition, expected);
    assert_eq!(
        store
            .get_version(&acme.ctx, pipeline.id, 2)
            .await
            .expect("read back"),
        version
    );
    assert_eq!(
        store
            .get_workflow(&acme.ctx, pipeline.id)
            .await
            .expect("workflow")
            .latest_version,
        Some(2)
    );
    assert_eq!(usage.template_id, template.id);
    assert_eq!(usage.workflow_version, Some(version.reference()));
    assert_eq!(usage.created_entities, vec![version.id.to_string()]);
    assert_eq!(
        usage.arguments.to_value(),
        json!({"first": "build", "env": "prod"})
    );
    assert_eq!(usage.created_by, acme.ctx.actor().to_string());

    // A new workflow gets version 1, created with it.
    let (second_usage, created) = store
        .instantiate_workflow_template(
            &acme.ctx,
            template.id,
            WorkflowTarget::New(new_workflow("Nightly")),
            arguments(json!({"first": "fetch"})),
        )
        .await
        .expect("instantiate into a new workflow");
    assert_eq!(created.version, 1);
    assert_eq!(
        created.definition.steps()[1].depends_on[0].as_str(),
        "fetch"
    );
    let nightly = store
        .get_workflow(&acme.ctx, created.workflow_id)
        .await
        .expect("the new workflow");
    assert_eq!(
        (nightly.name.as_str(), nightly.latest_version),
        ("Nightly", Some(1))
    );
    assert_eq!(
        second_usage.created_entities,
        vec![nightly.id.to_string(), created.id.to_string()]
    );
    assert_eq!(second_usage.workflow_version, Some(created.reference()));

    assert_eq!(
        store
            .get_template(&acme.ctx, template.id)
            .await
            .expect("template")
            .usage_count,
        2
    );
    let history = store
        .list_template_usages(&acme.ctx, template.id, PageRequest::default())
        .await
        .expect("usages");
    assert_eq!(history.items, vec![usage, second_usage.clone()]);
    // Each row is written as any other, with its audit row, the usage last.
    let log = store
        .list_audit(
            &acme.ctx,
            AuditFilter::default(),
            PageRequest::default().sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit");
    let actions: Vec<&str> = log.items[..3].iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "template_usage.create",
            "workflow_version.create",
            "workflow.create"
        ]
    );
    assert_eq!(log.items[0].entity_id, second_usage.id.to_string());
}

/// What one organization has written so far: its workflows and the newest audit row.
async fn written<S: Store + ?Sized>(store: &S, fixture: &Fixture) -> (Vec<Workflow>, AuditLogId) {
    let workflows = store
        .list_workflows(&fixture.ctx, PageRequest::default())
        .await
        .expect("workflows")
        .items;
    let log = store
        .list_audit(
            &fixture.ctx,
            AuditFilter::default(),
            PageRequest::default().sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit");
    (workflows, log.items[0].id)
}

/// Every refusal is typed and names its field, and writes nothing: no workflow, no version,
/// no usage, no count, no audit row.
pub async fn a_refused_workflow_instantiation_writes_nothing<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let template = store
        .create_template(&acme.ctx, release_template())
        .await
        .expect("template");
    let tasks = store
        .create_template(&acme.ctx, review_template("Code review"))
        .await
        .expect("task template");
    let pipeline = store
        .create_workflow(&acme.ctx, new_workflow("Pipeline"))
        .await
        .expect("workflow");
    let theirs = store
        .create_workflow(&other.ctx, new_workflow("Theirs"))
        .await
        .expect("their workflow");
    let before = written(store, &acme).await;
    let into = |workflow: WorkflowId| WorkflowTarget::Existing(workflow);
    let good = || arguments(json!({"first": "build"}));

    for (args, why) in [
        (json!({}), "missing required parameter \"first\""),
        (
            json!({"first": "build", "colour": "red"}),
            "unknown parameter \"colour\"",
        ),
        (
            json!({"first": "deploy"}),
            "step name \"deploy\" is used by",
        ),
        (json!({"first": "Build Step"}), "is not a step name"),
        (json!({"first": "build", "attempts": 0}), "max_attempts"),
    ] {
        let refused = store
            .instantiate_workflow_template(
                &acme.ctx,
                template.id,
                into(pipeline.id),
                arguments(args),
            )
            .await;
        match &refused {
            Err(RepoError::Invalid(error)) if error.field() == Some("arguments") => {
                assert!(error.to_string().contains(why), "{why}: {error}");
            }
            other => panic!("expected invalid arguments ({why}), got {other:?}"),
        }
    }
    // Even into a new workflow: the workflow is not left behind.
    assert_invalid(
        store
            .instantiate_workflow_template(
                &acme.ctx,
                template.id,
                WorkflowTarget::New(new_workflow("Left behind")),
                arguments(json!({"first": "deploy"})),
            )
            .await,
        "arguments",
    );
    assert_invalid(
        store
            .instantiate_workflow_template(&acme.ctx, tasks.id, into(pipeline.id), good())
            .await,
        "template",
    );
    for workflow in [theirs.id, WorkflowId::new()] {
        assert_reference(
            store
                .instantiate_workflow_template(&acme.ctx, template.id, into(workflow), good())
                .await,
            "workflow_id",
        );
    }
    assert_conflict(
        store
            .instantiate_workflow_template(
                &acme.ctx,
                template.id,
                WorkflowTarget::New(new_workflow("PIPELINE")),
                good(),
            )
            .await,
        Some("workflow.name"),
    );
    assert_not_found(
        store
            .instantiate_workflow_template(&other.ctx, template.id, into(theirs.id), good())
            .await,
        "template",
    );

    assert_eq!(written(store, &acme).await, before);
    assert_eq!(
        store
            .get_workflow(&acme.ctx, pipeline.id)
            .await
            .expect("workflow")
            .latest_version,
        None
    );
    let template = store
        .get_template(&acme.ctx, template.id)
        .await
        .expect("template");
    assert_eq!(template.usage_count, 0);
    assert!(
        store
            .list_template_usages(&acme.ctx, template.id, PageRequest::default())
            .await
            .expect("usages")
            .items
            .is_empty()
    );
    assert_eq!(
        store
            .list_workflows(&other.ctx, PageRequest::default())
            .await
            .expect("their workflows")
            .items,
        vec![theirs]
    );
}

/// Writes version 1 of a new workflow `name` from `template` and starts an execution of it in
/// `project`, in one transaction.
async fn instantiate_and_run<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    template: TemplateId,
    name: &str,
    project: ProjectId,
) -> RepoResult<(TemplateUsage, WorkflowVersion, WorkflowExecution)> {
    orchestore_repo::transaction(store, async |tx| {
        let (usage, version) = tx
            .instantiate_workflow_template(
                ctx,
                template,
                WorkflowTarget::New(new_workflow(name)),
                arguments(json!({"first": "build"})),
            )
            .await?;
        let run = NewWorkflowExecution {
            workflow_id: version.workflow_id,
            version: Some(version.version),
            project_id: project,
            input: Payload::default(),
            priority: Priority::default(),
        };
        let execution = tx.create_execution(ctx, run).await?;
        Ok((usage, version, execution))
    })
    .await
}

/// A workflow template is run as any workflow: instantiated, then its version executed, in one
/// transaction; a run that is refused leaves no version and no usage behind.
pub async fn a_workflow_template_runs_in_one_transaction<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let template = store
        .create_template(&acme.ctx, release_template())
        .await
        .expect("template");

    let (usage, version, execution) =
        instantiate_and_run(store, &acme.ctx, template.id, "Nightly", project.id)
            .await
            .expect("instantiate and run");
    assert_eq!(usage.workflow_version, Some(version.reference()));
    assert_eq!(
        (execution.version_id, execution.status),
        (version.id, ExecutionStatus::Running)
    );
    let steps = store
        .list_execution_tasks(&acme.ctx, execution.id, PageRequest::default())
        .await
        .expect("steps");
    let names: Vec<&str> = steps.items.iter().map(|s| s.step_name.as_str()).collect();
    assert_eq!(names, ["build", "deploy"]);
    assert_eq!(steps.items[0].task.max_attempts.get(), 2);

    let theirs = other.project(store, "Theirs").await;
    assert_reference(
        instantiate_and_run(store, &acme.ctx, template.id, "Refused", theirs.id).await,
        "project_id",
    );
    let workflows: Vec<String> = store
        .list_workflows(&acme.ctx, PageRequest::default())
        .await
        .expect("workflows")
        .items
        .into_iter()
        .map(|w| w.name.as_str().to_owned())
        .collect();
    assert_eq!(workflows, ["Nightly"]);
    let read = store
        .get_template(&acme.ctx, template.id)
        .await
        .expect("template");
    assert_eq!(read.usage_count, 1);
}

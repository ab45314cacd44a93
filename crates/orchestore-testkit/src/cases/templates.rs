//! Templates and their usage.

use orchestore_domain::{
    Description, Name, NewTemplate, TemplateBody, TemplateKind, TemplateParameters, TemplatePatch,
};
use orchestore_repo::{
    AuditSort, PageRequest, RepoError, Store, TaskFilter, TemplateFilter, TemplateUsageSort,
};
use serde_json::{Map, Value, json};

use super::{PASSWORD, assert_conflict, assert_not_found, assert_reference};
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
        store.delete_template(&other.ctx, created.id).await,
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
        )
        .await
        .expect("rename");
    assert_eq!(renamed.name.as_str(), "Careful review");
    assert_eq!(renamed.body, created.body);

    store
        .delete_template(&acme.ctx, workflow.id)
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
        .delete_template(&acme.ctx, template.id)
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
            PageRequest::default().sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit");
    assert_eq!(log.items[0].action, "template.delete");
    assert_eq!(log.items[0].changes["deleted_usage_count"], json!(1));
}

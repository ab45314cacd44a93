//! Workflows and templates.

use super::*;

pub(super) async fn check_workflows_and_templates<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    c.clean(
        "create_workflow",
        store
            .create_workflow(ctx, new_workflow(a.workflow.name.as_str()))
            .await,
    );
    c.not_found("get_workflow", store.get_workflow(ctx, a.workflow.id).await);
    c.clean("list_workflows", store.list_workflows(ctx, all()).await);
    c.not_found(
        "update_workflow",
        store
            .update_workflow(ctx, a.workflow.id, WorkflowPatch::default(), None)
            .await,
    );
    c.not_found(
        "delete_workflow",
        store.delete_workflow(ctx, a.workflow.id, None).await,
    );
    c.not_found(
        "create_version",
        store
            .create_version(ctx, a.workflow.id, one_step("again"))
            .await,
    );
    c.not_found(
        "get_version",
        store.get_version(ctx, a.workflow.id, 1).await,
    );
    c.not_found(
        "list_versions",
        store.list_versions(ctx, a.workflow.id, all()).await,
    );
    c.not_found(
        "create_execution",
        store
            .create_execution(ctx, execution(a.workflow.id, b.project.id))
            .await,
    );
    c.reference(
        "create_execution",
        "project_id",
        store
            .create_execution(ctx, execution(b.workflow.id, a.project.id))
            .await,
    );
    c.reference(
        "create_child_execution",
        "parent_task_id",
        store
            .create_child_execution(ctx, a.task.id, execution(b.workflow.id, b.project.id))
            .await,
    );
    c.not_found(
        "get_execution",
        store.get_execution(ctx, a.execution.id).await,
    );
    c.not_found(
        "list_execution_waits",
        store.list_execution_waits(ctx, a.execution.id).await,
    );
    c.not_found(
        "signal_execution",
        store
            .signal_execution(
                ctx,
                a.execution.id,
                &orchestore_domain::SignalName::parse("approve").expect("signal"),
                Payload::default(),
            )
            .await,
    );
    // Ends B's own due waits, and none of A's.
    c.clean(
        "fire_due_waits",
        store
            .fire_due_waits(ctx, Utc::now() + chrono::Duration::days(730), 100)
            .await,
    );
    // Names the organizations to sweep, for the server.
    c.unscoped("organizations_with_due_waits");
    let of_a = ExecutionFilter {
        workflow_id: Some(a.workflow.id),
        status: None,
    };
    c.clean(
        "list_executions",
        store.list_executions(ctx, of_a, all()).await,
    );
    c.not_found(
        "list_execution_tasks",
        store.list_execution_tasks(ctx, a.execution.id, all()).await,
    );
    c.not_found(
        "cancel_execution",
        store
            .cancel_execution(ctx, a.execution.id, None, None)
            .await,
    );
    c.not_found(
        "record_execution_step",
        store
            .record_execution_step(ctx, new_step(a.execution.id))
            .await,
    );
    c.not_found(
        "list_execution_steps",
        store
            .list_execution_steps(ctx, a.execution.id, ExecutionStepFilter::default(), all())
            .await,
    );
    // B's own log, for the step A's entry names.
    c.clean(
        "list_execution_steps",
        store
            .list_execution_steps(
                ctx,
                b.execution.id,
                ExecutionStepFilter {
                    step: Some(a.step.step.clone()),
                    outcome: None,
                },
                all(),
            )
            .await,
    );
    c.clean(
        "create_learning_record",
        store
            .create_learning_record(ctx, new_learning("acme"))
            .await,
    );
    c.not_found(
        "get_learning_record",
        store.get_learning_record(ctx, a.learning.id).await,
    );
    let of_a = LearningFilter {
        pattern: Some(PatternQuery::Exact(a.learning.pattern.clone())),
        context: Some(ContextFilter::parse(json!({"organization": "acme"})).expect("filter")),
        outcome: None,
    };
    c.clean(
        "list_learning_records",
        store.list_learning_records(ctx, of_a, all()).await,
    );
    c.clean(
        "workflow_analytics",
        store.workflow_analytics(ctx, today()).await,
    );
    c.not_found(
        "workflow_daily",
        store.workflow_daily(ctx, a.workflow.id, today()).await,
    );
    c.clean(
        "task_kind_analytics",
        store.task_kind_analytics(ctx, today()).await,
    );
    c.clean(
        "template_analytics",
        store.template_analytics(ctx, today()).await,
    );

    c.clean(
        "create_template",
        store
            .create_template(ctx, task_template(a.template.name.as_str()))
            .await,
    );
    c.not_found("get_template", store.get_template(ctx, a.template.id).await);
    c.clean(
        "list_templates",
        store.list_templates(ctx, Default::default(), all()).await,
    );
    c.not_found(
        "update_template",
        store
            .update_template(ctx, a.template.id, TemplatePatch::default(), None)
            .await,
    );
    c.not_found(
        "delete_template",
        store.delete_template(ctx, a.template.id, None).await,
    );
    c.not_found(
        "instantiate_task_template",
        store
            .instantiate_task_template(ctx, a.template.id, b.project.id, Map::new())
            .await,
    );
    c.reference(
        "instantiate_task_template",
        "project_id",
        store
            .instantiate_task_template(ctx, b.template.id, a.project.id, Map::new())
            .await,
    );
    let new_target = || WorkflowTarget::New(new_workflow("Instantiated"));
    c.not_found(
        "instantiate_workflow_template",
        store
            .instantiate_workflow_template(ctx, a.workflow_template.id, new_target(), Map::new())
            .await,
    );
    c.reference(
        "instantiate_workflow_template",
        "workflow_id",
        store
            .instantiate_workflow_template(
                ctx,
                b.workflow_template.id,
                WorkflowTarget::Existing(a.workflow.id),
                Map::new(),
            )
            .await,
    );
    c.not_found(
        "list_template_usages",
        store.list_template_usages(ctx, a.template.id, all()).await,
    );
}

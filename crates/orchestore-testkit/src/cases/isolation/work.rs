//! Projects, tasks and their graph, and the queue.

use super::*;

pub(super) async fn check_work<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    c.clean(
        "create_project",
        store
            .create_project(ctx, project_named(a.project.name.as_str()))
            .await,
    );
    c.not_found("get_project", store.get_project(ctx, a.project.id).await);
    c.clean("list_projects", store.list_projects(ctx, all()).await);
    c.not_found(
        "update_project",
        store
            .update_project(ctx, a.project.id, ProjectPatch::default(), None)
            .await,
    );
    c.not_found(
        "delete_project",
        store.delete_project(ctx, a.project.id, None).await,
    );

    c.reference(
        "create_task",
        "project_id",
        store.create_task(ctx, task(a.project.id, "theirs")).await,
    );
    let mine = || task(b.project.id, "mine");
    let depending = NewTask {
        depends_on: [a.task.id].into(),
        ..mine()
    };
    c.reference(
        "create_task",
        "depends_on",
        store.create_task(ctx, depending).await,
    );
    let parented = NewTask {
        parent_id: Some(a.task.id),
        ..mine()
    };
    c.reference(
        "create_task",
        "parent_id",
        store.create_task(ctx, parented).await,
    );
    let assigned = NewTask {
        assigned_agent_id: Some(a.agent.id),
        ..mine()
    };
    c.reference(
        "create_task",
        "assigned_agent_id",
        store.create_task(ctx, assigned).await,
    );
    c.not_found("get_task", store.get_task(ctx, a.task.id).await);
    for filter in [
        TaskFilter {
            project_id: Some(a.project.id),
            ..TaskFilter::default()
        },
        TaskFilter {
            parent_id: Some(a.task.id),
            ..TaskFilter::default()
        },
        TaskFilter {
            assigned_agent_id: Some(a.agent.id),
            ..TaskFilter::default()
        },
    ] {
        c.clean("list_tasks", store.list_tasks(ctx, filter, all()).await);
    }
    c.not_found(
        "update_task",
        store
            .update_task(ctx, a.task.id, TaskPatch::default(), None)
            .await,
    );
    let reparent = TaskPatch {
        parent_id: Some(Some(a.task.id)),
        ..TaskPatch::default()
    };
    c.reference(
        "update_task",
        "parent_id",
        store.update_task(ctx, b.dependent.id, reparent, None).await,
    );
    c.not_found("delete_task", store.delete_task(ctx, a.task.id, None).await);
    // An import into a project of A's project's name finds B's project of that name (or makes
    // one), never A's.
    let imported = orchestore_domain::TaskImport {
        source: "isolation".into(),
        project: a.project.name.clone(),
        settings: Metadata::default(),
        tasks: vec![orchestore_domain::ImportedTask {
            key: orchestore_domain::ExternalKey::parse("list:1").expect("key"),
            title: a.task.title.clone(),
            description: Description::empty(),
            status: orchestore_domain::ImportedStatus::Open,
            priority: Priority::default(),
            metadata: Metadata::default(),
            tags: orchestore_domain::Tags::default(),
            parent: None,
            depends_on: BTreeSet::new(),
        }],
        scopes: vec!["list:".into()],
        dry_run: false,
    };
    c.clean("import_tasks", store.import_tasks(ctx, imported).await);

    c.not_found(
        "add_dependency",
        store
            .add_dependency(ctx, a.dependent.id, a.dependency.id)
            .await,
    );
    c.reference(
        "add_dependency",
        "depends_on",
        store.add_dependency(ctx, b.dependent.id, a.task.id).await,
    );
    c.not_found(
        "remove_dependency",
        store
            .remove_dependency(ctx, a.task.id, a.dependency.id)
            .await,
    );
    c.not_found(
        "list_dependencies",
        store.list_dependencies(ctx, a.task.id, all()).await,
    );
    c.not_found(
        "list_dependents",
        store.list_dependents(ctx, a.task.id, all()).await,
    );
    c.not_found(
        "list_task_events",
        store.list_task_events(ctx, a.task.id, all()).await,
    );
    c.not_found(
        "task_stats",
        store
            .task_stats(ctx, TaskStatsScope::Project(a.project.id))
            .await,
    );
    c.clean(
        "task_stats",
        store.task_stats(ctx, TaskStatsScope::Organization).await,
    );
}

pub(super) async fn check_queue<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    c.reference(
        "enqueue_task",
        "project_id",
        store.enqueue_task(ctx, task(a.project.id, "theirs")).await,
    );
    let batch = store
        .enqueue_tasks(ctx, vec![task(a.project.id, "theirs").into()])
        .await;
    c.reference_in_batch("enqueue_tasks", "project_id", batch);
    c.reference(
        "claim_tasks",
        "agent_id",
        store.claim_tasks(ctx, ClaimRequest::one(a.agent.id)).await,
    );
    // B's agent takes all B has queued, then finds nothing and sweeps expired leases: none of
    // them A's.
    let everything = ClaimRequest {
        limit: ClaimLimit::parse(100).expect("limit"),
        ..ClaimRequest::one(b.agent.id)
    };
    c.clean("claim_tasks", store.claim_tasks(ctx, everything).await);
    c.clean("claim_tasks", store.claim_tasks(ctx, everything).await);
    c.not_found(
        "claim_task",
        store
            .claim_task(ctx, a.task.id, b.agent.id, LeaseDuration::default())
            .await,
    );
    c.not_found(
        "heartbeat_task",
        store
            .heartbeat_task(ctx, a.task.id, a.lease, LeaseDuration::default(), None)
            .await,
    );
    c.not_found(
        "complete_task",
        store.complete_task(ctx, a.task.id, a.lease, None).await,
    );
    let completions = Completions::parse(vec![Completion {
        task: a.task.id,
        lease_token: a.lease,
        result: None,
    }])
    .expect("completions");
    match store.complete_tasks(ctx, completions).await {
        Ok(outcomes) => {
            let [outcome] = <[_; 1]>::try_from(outcomes).expect("one outcome");
            c.not_found("complete_tasks", outcome);
        }
        Err(error) => c.not_found("complete_tasks", Err::<(), _>(error)),
    }
    c.not_found(
        "fail_task",
        store
            .fail_task(ctx, a.task.id, a.lease, None, Retry::Never)
            .await,
    );
    c.not_found(
        "release_task",
        store.release_task(ctx, a.task.id, a.lease).await,
    );
    c.not_found(
        "cancel_task",
        store.cancel_task(ctx, a.task.id, None, None).await,
    );
    c.not_found("retry_task", store.retry_task(ctx, a.task.id).await);
    c.clean("expire_leases", store.expire_leases(ctx).await);
    // Names the organizations to sweep, for the server.
    c.unscoped("organizations_with_expired_leases");
    // Every organization's depth together, for operators: no context goes in.
    c.unscoped("queue_depth");
    // The shared worker fleet is the deployment's: its operator names the organization (and
    // an agent the organization must own, else a `Reference` error), and a shared claim runs
    // in the chosen organization as its own agent (`cases/work/fairness.rs` checks both).
    c.unscoped("set_queue_share");
    c.unscoped("remove_queue_share");
    c.unscoped("list_queue_shares");
    c.unscoped("claim_shared_tasks");
    c.clean("queue_stats", store.queue_stats(ctx).await);
}

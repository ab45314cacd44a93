//! What each organization holds for the case, what it reads of it, and the values the calls
//! are made of.

use super::*;

/// One of each row an organization holds, live and related as in use: a run past its lease
/// that depends on a succeeded task and has a blocked dependent; an agent with an API key; a
/// message about the run in a thread; a workflow with an execution; a task template used once
/// and a workflow template; a custom role held by a user with a username; a session; a
/// knowledge entry with a vector, and a marketplace item installed and unpublished; and one of
/// each telemetry record ([`Telemetry`]).
pub(super) struct Holdings {
    pub(super) fixture: Fixture,
    pub(super) project: Project,
    pub(super) dependency: Task,
    pub(super) task: Task,
    pub(super) lease: LeaseToken,
    pub(super) dependent: Task,
    pub(super) agent: Agent,
    pub(super) key: IssuedApiKey,
    /// A key of the organization's owner.
    pub(super) user_key: IssuedApiKey,
    pub(super) invitation: IssuedInvitation,
    pub(super) message: Message,
    pub(super) thread: ThreadId,
    pub(super) workflow: Workflow,
    pub(super) execution: WorkflowExecution,
    /// An operation in the execution's step log.
    pub(super) step: ExecutionStep,
    pub(super) learning: LearningRecord,
    pub(super) template: Template,
    pub(super) usage: TemplateUsage,
    pub(super) workflow_template: Template,
    pub(super) role: Role,
    pub(super) user: User,
    pub(super) session: SessionId,
    pub(super) knowledge: KnowledgeHoldings,
    pub(super) telemetry: Telemetry,
    /// Points of the agent, and an open match between it and a rival.
    pub(super) points: CollaborationHoldings,
    /// A brainstorm with a voted idea, and an active mentorship with a session.
    pub(super) brainstorms: BrainstormHoldings,
    /// An open proposal the agent voted on.
    pub(super) proposals: ProposalHoldings,
    /// A yearly schedule of a task in the project.
    pub(super) schedules: ScheduleHoldings,
    /// A rate limit named after the organization.
    pub(super) rate_limits: RateLimitHoldings,
}

impl Holdings {
    /// Creates organization `slug` and all its rows; `lease` is the running task's lease.
    pub(super) async fn create<S: Store + ?Sized>(
        store: &S,
        slug: &str,
        lease: LeaseDuration,
    ) -> Self {
        let fixture = Fixture::create(store, slug, PASSWORD).await;
        let ctx = &fixture.ctx;
        let project = fixture.project(store, &format!("Project {slug}")).await;
        let agent = store
            .create_agent(
                ctx,
                NewAgent::named(name(&format!("Agent {slug}")), AgentKind::Ai),
            )
            .await
            .expect("agent");
        let key = store
            .create_api_key(ctx, new_key(KeyOwner::Agent(agent.id), "worker host"))
            .await
            .expect("key");
        let user_key = store
            .create_api_key(ctx, new_key(KeyOwner::User(fixture.owner.id), "ci service"))
            .await
            .expect("user key");
        let invitation = store
            .create_invitation(
                ctx,
                NewInvitation {
                    email: Email::parse(&format!("invited@{slug}.test")).expect("email"),
                    roles: vec![SystemRole::Developer.into()],
                    expires_at: Utc::now() + chrono::Duration::days(1),
                },
            )
            .await
            .expect("invitation");

        let create = async |new: NewTask| store.create_task(ctx, new).await.expect("task");
        let dependency = create(task(project.id, "first")).await;
        let first_run = store
            .claim_task(ctx, dependency.id, agent.id, LeaseDuration::default())
            .await
            .expect("claim");
        let dependency = store
            .complete_task(ctx, dependency.id, first_run.lease_token, None)
            .await
            .expect("complete");
        let waiting_on = |id| NewTask {
            depends_on: [id].into(),
            ..task(project.id, "waiting")
        };
        let second = create(waiting_on(dependency.id)).await;
        let run = store
            .claim_task(ctx, second.id, agent.id, lease)
            .await
            .expect("claim");
        let dependent = create(waiting_on(second.id)).await;

        let thread = ThreadId::new();
        let about_the_run = NewMessage::new(
            Participant::User(fixture.owner.id),
            Participant::Agent(agent.id),
            content(),
        )
        .expect("a message")
        .with_task(Some(second.id))
        .with_thread(Some(thread));
        let message = store
            .send_message(ctx, about_the_run)
            .await
            .expect("message");

        let workflow = store
            .create_workflow(ctx, new_workflow(&format!("Workflow {slug}")))
            .await
            .expect("workflow");
        store
            .create_version(ctx, workflow.id, one_step("build"))
            .await
            .expect("version");
        let execution = store
            .create_execution(ctx, execution(workflow.id, project.id))
            .await
            .expect("execution");
        let step = store
            .record_execution_step(ctx, new_step(execution.id))
            .await
            .expect("step");
        let learning = store
            .create_learning_record(ctx, new_learning(slug))
            .await
            .expect("learning record");
        let template = store
            .create_template(ctx, task_template(&format!("Template {slug}")))
            .await
            .expect("template");
        let (usage, _) = store
            .instantiate_task_template(ctx, template.id, project.id, Map::new())
            .await
            .expect("instantiate");
        let workflow_template = store
            .create_template(ctx, workflow_template(&format!("Pipeline {slug}")))
            .await
            .expect("workflow template");

        let role = store
            .create_role(
                ctx,
                new_role(&format!("reviewer-{slug}"), &[Permission::TasksRead]),
            )
            .await
            .expect("role");
        let user = store
            .create_user(
                ctx,
                NewUser {
                    username: Some(username(&format!("user-{slug}"))),
                    roles: vec![role.code.clone()],
                    ..new_user(&format!("user@{slug}.test"), vec![])
                },
            )
            .await
            .expect("user");
        let session = store
            .create_session(ctx, fixture.owner.id, opening())
            .await
            .expect("session")
            .session_id;
        let knowledge = KnowledgeHoldings::create(store, &fixture, &project, &workflow).await;
        let telemetry = Telemetry::create(store, ctx, &project, &run.task).await;

        let points =
            collaboration::CollaborationHoldings::create(store, &fixture.ctx, &agent).await;
        let brainstorms =
            BrainstormHoldings::create(store, &fixture.ctx, &fixture, &agent, &project).await;
        let proposals = ProposalHoldings::create(store, &fixture.ctx, &agent).await;
        let schedules = ScheduleHoldings::create(store, &fixture.ctx, &project).await;
        let rate_limits = RateLimitHoldings::create(store, &fixture.ctx, slug).await;
        Self {
            schedules,
            rate_limits,
            points,
            brainstorms,
            proposals,
            fixture,
            project,
            dependency,
            task: run.task,
            lease: run.lease_token,
            dependent,
            agent,
            key,
            user_key,
            invitation,
            message,
            thread,
            workflow,
            execution,
            step,
            learning,
            template,
            usage,
            workflow_template,
            role,
            user,
            session,
            knowledge,
            telemetry,
        }
    }
}

/// What the organization reads of its own rows through every method that reads, each answer
/// as its `Debug` text; the queue's statistics without the last minute, which moves by itself.
pub(super) async fn view<S: Store + ?Sized>(store: &S, h: &Holdings) -> Vec<String> {
    let ctx = &h.fixture.ctx;
    let owner = h.fixture.owner.id;
    let queue = store.queue_stats(ctx).await.expect("queue stats");
    vec![
        format!("{:?}", store.get_organization(ctx).await),
        format!(
            "{:?}",
            store.list_users(ctx, UserFilter::default(), all()).await
        ),
        format!("{:?}", store.get_user(ctx, h.user.id).await),
        format!("{:?}", store.user_roles(ctx, h.user.id).await),
        format!("{:?}", store.user_permissions(ctx, owner).await),
        format!("{:?}", store.list_roles(ctx, all()).await),
        format!("{:?}", store.get_role(ctx, h.role.id).await),
        format!("{:?}", store.list_sessions(ctx, owner, all()).await),
        format!("{:?}", store.session_standing(ctx, h.session).await),
        format!("{:?}", store.list_projects(ctx, all()).await),
        format!("{:?}", store.get_project(ctx, h.project.id).await),
        format!(
            "{:?}",
            store.list_tasks(ctx, TaskFilter::default(), all()).await
        ),
        format!("{:?}", store.get_task(ctx, h.dependency.id).await),
        format!("{:?}", store.get_task(ctx, h.task.id).await),
        format!("{:?}", store.get_task(ctx, h.dependent.id).await),
        format!("{:?}", store.list_dependencies(ctx, h.task.id, all()).await),
        format!("{:?}", store.list_dependents(ctx, h.task.id, all()).await),
        format!("{:?}", store.list_task_events(ctx, h.task.id, all()).await),
        format!(
            "{:?}",
            store.task_stats(ctx, TaskStatsScope::Organization).await
        ),
        format!(
            "{:?}",
            store
                .task_stats(ctx, TaskStatsScope::Project(h.project.id))
                .await
        ),
        format!(
            "{:?}",
            (
                queue.blocked,
                queue.queued,
                queue.scheduled,
                queue.running,
                queue.expired_leases,
                &queue.by_capabilities,
                queue.oldest_queued_at,
            )
        ),
        format!(
            "{:?}",
            store.list_agents(ctx, Default::default(), all()).await
        ),
        format!("{:?}", store.get_agent(ctx, h.agent.id).await),
        collaboration_view(store, h).await,
        format!("{:?}", store.agent_stats(ctx, h.agent.id).await),
        format!(
            "{:?}",
            store
                .list_api_keys(ctx, KeyOwner::Agent(h.agent.id), all())
                .await
        ),
        format!(
            "{:?}",
            store.list_api_keys(ctx, KeyOwner::User(owner), all()).await
        ),
        format!("{:?}", store.list_invitations(ctx, all()).await),
        format!(
            "{:?}",
            store.get_invitation(ctx, h.invitation.invitation.id).await
        ),
        format!(
            "{:?}",
            store
                .list_messages(ctx, MessageFilter::default(), all())
                .await
        ),
        format!("{:?}", store.get_message(ctx, h.message.id).await),
        format!(
            "{:?}",
            store
                .unread_count(ctx, Participant::Agent(h.agent.id))
                .await
        ),
        format!("{:?}", store.list_workflows(ctx, all()).await),
        format!("{:?}", store.get_workflow(ctx, h.workflow.id).await),
        format!("{:?}", store.list_versions(ctx, h.workflow.id, all()).await),
        format!("{:?}", store.get_version(ctx, h.workflow.id, 1).await),
        format!(
            "{:?}",
            store
                .list_executions(ctx, ExecutionFilter::default(), all())
                .await
        ),
        format!("{:?}", store.get_execution(ctx, h.execution.id).await),
        format!(
            "{:?}",
            store.list_execution_tasks(ctx, h.execution.id, all()).await
        ),
        format!(
            "{:?}",
            store
                .list_execution_steps(ctx, h.execution.id, Default::default(), all())
                .await
        ),
        format!(
            "{:?}",
            store
                .list_learning_records(ctx, Default::default(), all())
                .await
        ),
        format!("{:?}", store.get_learning_record(ctx, h.learning.id).await),
        format!("{:?}", store.workflow_analytics(ctx, today()).await),
        format!(
            "{:?}",
            store.workflow_daily(ctx, h.workflow.id, today()).await
        ),
        format!("{:?}", store.task_kind_analytics(ctx, today()).await),
        format!("{:?}", store.template_analytics(ctx, today()).await),
        format!(
            "{:?}",
            store.list_templates(ctx, Default::default(), all()).await
        ),
        format!("{:?}", store.get_template(ctx, h.template.id).await),
        format!(
            "{:?}",
            store.get_template(ctx, h.workflow_template.id).await
        ),
        format!(
            "{:?}",
            store.list_template_usages(ctx, h.template.id, all()).await
        ),
        format!(
            "{:?}",
            store.list_audit(ctx, AuditFilter::default(), all()).await
        ),
        format!("{:?}", store.verify_audit(ctx).await),
    ]
    .into_iter()
    .chain(knowledge_view(store, h).await)
    .chain(telemetry_view(store, ctx, &h.telemetry).await)
    .chain([brainstorms_view(store, h).await])
    .chain(proposals_view(store, h).await)
    .chain(schedules_view(store, h).await)
    .chain(rate_limits_view(store, h).await)
    .collect()
}

pub(super) fn assert_same(before: &[String], after: &[String]) {
    for (before, after) in before.iter().zip(after) {
        assert_eq!(before, after, "a read changed");
    }
}

/// Every id in A's view, its usage and its lease token; less the system roles, which every
/// organization shares.
pub(super) async fn ids_of_a<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    view: &[String],
) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = view
        .iter()
        .flat_map(|text| text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-')))
        .filter(|word| word.len() == 36 && word.matches('-').count() == 4)
        .map(str::to_owned)
        .collect();
    ids.insert(a.lease.to_string());
    assert!(ids.contains(&a.usage.id.to_string()) && ids.contains(&a.session.to_string()));
    let roles = store
        .list_roles(&a.fixture.ctx, all())
        .await
        .expect("roles");
    for role in roles.items.iter().filter(|role| role.is_system) {
        ids.remove(&role.id.to_string());
    }
    ids
}

pub(super) fn all<S: ListSort>() -> PageRequest<S> {
    PageRequest::first(Limit::parse(200).expect("limit"))
}

pub(super) fn new_key(owner: KeyOwner, text: &str) -> NewApiKey {
    NewApiKey {
        owner,
        name: name(text),
        scopes: KeyScopes::owners(),
        expires_at: None,
    }
}

pub(super) fn name(text: &str) -> Name {
    Name::parse("name", text).expect("name")
}

pub(super) fn content() -> MessageContent {
    MessageContent::parse("about the second task").expect("content")
}

pub(super) fn opening() -> NewSession {
    NewSession {
        refresh_token_hash: format!("hash of {}", uuid::Uuid::new_v4()),
        expires_at: Utc::now() + chrono::Duration::days(1),
        client: ClientInfo::default(),
    }
}

pub(super) fn project_named(text: &str) -> orchestore_domain::NewProject {
    orchestore_domain::NewProject {
        name: name(text),
        description: Description::empty(),
        repository_url: None,
        tags: Default::default(),
        settings: Default::default(),
    }
}

pub(super) fn new_workflow(text: &str) -> NewWorkflow {
    NewWorkflow {
        name: name(text),
        description: Description::empty(),
    }
}

/// Yesterday to the end of tomorrow (UTC): the same window for every read of the case.
pub(super) fn today() -> AnalyticsWindow {
    let midnight = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    AnalyticsWindow::parse(
        Some(midnight - chrono::Duration::days(1)),
        Some(midnight + chrono::Duration::days(2)),
        Utc::now(),
    )
    .expect("window")
}

pub(super) fn new_step(execution: orchestore_domain::WorkflowExecutionId) -> NewExecutionStep {
    let now = Utc::now();
    NewExecutionStep {
        execution_id: execution,
        step: StepName::parse("build").expect("step"),
        operation: OperationName::parse("compile").expect("operation"),
        input_bytes: ByteCount::parse("input_bytes", 1).expect("bytes"),
        output_bytes: ByteCount::parse("output_bytes", 2).expect("bytes"),
        outcome: StepOutcome::Succeeded,
        timing: StepTiming::new(now, now).expect("timing"),
    }
}

pub(super) fn new_learning(slug: &str) -> NewLearningRecord {
    NewLearningRecord {
        pattern: Pattern::parse(&format!("pattern.{slug}")).expect("pattern"),
        context: Metadata::parse("context", json!({"organization": slug})).expect("context"),
        outcome: LearningOutcome::Success,
        score: Score::parse(0.5).expect("score"),
    }
}

pub(super) fn one_step(step: &str) -> WorkflowDefinition {
    WorkflowDefinition::parse(json!({"steps": [{"name": step}]})).expect("definition")
}

pub(super) fn execution(
    workflow: orchestore_domain::WorkflowId,
    project: orchestore_domain::ProjectId,
) -> NewWorkflowExecution {
    NewWorkflowExecution {
        workflow_id: workflow,
        version: None,
        project_id: project,
        input: Payload::parse(json!({})).expect("input"),
        priority: Priority::default(),
    }
}

pub(super) fn task_template(text: &str) -> NewTemplate {
    template_of(
        text,
        TemplateKind::Task,
        json!({"tasks": [{"title": "from the template"}]}),
    )
}

pub(super) fn workflow_template(text: &str) -> NewTemplate {
    template_of(
        text,
        TemplateKind::Workflow,
        json!({"steps": [{"name": "ship"}]}),
    )
}

pub(super) fn template_of(text: &str, kind: TemplateKind, body: serde_json::Value) -> NewTemplate {
    let parameters = TemplateParameters::default();
    NewTemplate {
        name: name(text),
        description: Description::empty(),
        kind,
        body: TemplateBody::parse(kind, &parameters, body).expect("body"),
        parameters,
    }
}

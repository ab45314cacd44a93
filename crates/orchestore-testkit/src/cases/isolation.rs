//! Isolation: organization B's context, given organization A's ids, reaches nothing of A's
//! through any repository method, and A's rows change nothing B reads.
//!
//! The case names every method of every repository trait as it checks it, and fails when the
//! traits (read from their sources) have a method it does not name: a new method needs its
//! cross-tenant check here.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::time::Duration;

use chrono::Utc;
use orchestore_domain::{
    Agent, AgentKind, AgentPatch, ClaimLimit, ClaimRequest, ClientInfo, Completion, Completions,
    Description, Email, IssuedApiKey, IssuedInvitation, KeyOwner, KeyScopes, LeaseDuration,
    LeaseToken, Message, MessageContent, MessageIds, Name, NewAgent, NewApiKey, NewMessage,
    NewWorkflow, NewWorkflowExecution, Participant, Password, PasswordHash, Payload, Permission,
    Priority, Project, ProjectPatch, Role, RolePatch, SessionId, SystemRole, Task, TaskPatch,
    Template, TemplateBody, TemplateKind, TemplateParameters, TemplatePatch, TemplateUsage,
    ThreadId, User, UserPatch, Workflow, WorkflowDefinition, WorkflowExecution, WorkflowPatch,
};
use orchestore_domain::{NewTask, NewTemplate, NewUser};
use orchestore_repo::{
    AuditFilter, ExecutionFilter, Limit, ListSort, MarkRead, MessageFilter, NewInvitation,
    NewSession, PageRequest, RepoError, RepoResult, Retry, Store, TaskFilter, TaskStatsScope,
    UserFilter, WorkflowTarget,
};
use serde_json::{Map, json};

use super::tenancy::{new_role, username};
use super::{PASSWORD, new_user, task};
use crate::{Fixture, TEST_BCRYPT_COST};

/// The sources of the repository traits: the methods of every `pub trait` in them are the
/// methods this case must check.
const REPOSITORY_SOURCES: [&str; 9] = [
    include_str!("../../../orchestore-repo/src/agents.rs"),
    include_str!("../../../orchestore-repo/src/messaging.rs"),
    include_str!("../../../orchestore-repo/src/observability.rs"),
    include_str!("../../../orchestore-repo/src/store.rs"),
    include_str!("../../../orchestore-repo/src/templates.rs"),
    include_str!("../../../orchestore-repo/src/tenancy.rs"),
    include_str!("../../../orchestore-repo/src/work.rs"),
    include_str!("../../../orchestore-repo/src/work/queue.rs"),
    include_str!("../../../orchestore-repo/src/workflows.rs"),
];

/// A's run is claimed under this lease, which has expired by the time B's calls run: a sweep
/// or a claim in B's name must still leave it.
const SHORT_LEASE_SECONDS: i64 = 1;

pub async fn another_organization_reaches_nothing_through_any_method<S: Store + ?Sized>(store: &S) {
    let b = Holdings::create(store, "beta", LeaseDuration::default()).await;
    let b_before = view(store, &b).await;
    let short = LeaseDuration::parse_seconds(SHORT_LEASE_SECONDS).expect("lease");
    let a = Holdings::create(store, "acme", short).await;
    tokio::time::sleep(Duration::from_millis(
        1000 * SHORT_LEASE_SECONDS.unsigned_abs() + 200,
    ))
    .await;
    // Every list, count and statistic of B reads as before A had anything.
    assert_same(&b_before, &view(store, &b).await);

    let a_before = view(store, &a).await;
    let mut checks = Checks::new(ids_of_a(store, &a, &a_before).await);
    check_tenancy(store, &a, &b, &mut checks).await;
    check_work(store, &a, &b, &mut checks).await;
    check_queue(store, &a, &b, &mut checks).await;
    check_agents_and_messages(store, &a, &b, &mut checks).await;
    check_workflows_and_templates(store, &a, &b, &mut checks).await;
    check_audit_and_store(store, &a, &b, &mut checks).await;
    checks.finish();

    assert_same(&a_before, &view(store, &a).await);
}

async fn check_tenancy<S: Store + ?Sized>(store: &S, a: &Holdings, b: &Holdings, c: &mut Checks) {
    let ctx = &b.fixture.ctx;
    // Creates the context's own organization.
    c.unscoped("create_organization");
    // Creates the context's own organization.
    c.unscoped("create_organization_with_owner");
    c.clean("get_organization", store.get_organization(ctx).await);

    let offering_a_role = store
        .create_invitation(
            ctx,
            NewInvitation {
                email: Email::parse("invited@beta.test").expect("email"),
                roles: vec![a.role.code.clone()],
                expires_at: Utc::now() + chrono::Duration::days(1),
            },
        )
        .await;
    c.reference("create_invitation", "roles", offering_a_role);
    c.not_found(
        "get_invitation",
        store.get_invitation(ctx, a.invitation.invitation.id).await,
    );
    c.clean("list_invitations", store.list_invitations(ctx, all()).await);
    c.not_found(
        "revoke_invitation",
        store
            .revoke_invitation(ctx, a.invitation.invitation.id)
            .await,
    );
    // A token names its own organization, as a refresh token does.
    c.unscoped("find_pending_invitation");
    c.unscoped("accept_invitation");

    let granted = store
        .create_user(
            ctx,
            NewUser {
                roles: vec![a.role.code.clone()],
                ..new_user("granted@beta.test", vec![])
            },
        )
        .await;
    c.reference("create_user", "roles", granted);
    c.not_found("get_user", store.get_user(ctx, a.user.id).await);
    c.nothing(
        "find_user_by_email",
        store.find_user_by_email(ctx, &a.user.email).await,
    );
    let a_username = a.user.username.clone().expect("a username");
    c.nothing(
        "find_user_by_username",
        store.find_user_by_username(ctx, &a_username).await,
    );
    let by_role = UserFilter {
        role: Some(a.role.id),
        ..UserFilter::default()
    };
    c.clean("list_users", store.list_users(ctx, by_role, all()).await);
    c.clean(
        "list_users",
        store.list_users(ctx, UserFilter::default(), all()).await,
    );
    c.not_found(
        "update_user",
        store
            .update_user(ctx, a.user.id, UserPatch::default())
            .await,
    );
    c.not_found(
        "set_user_active",
        store.set_user_active(ctx, a.user.id, false).await,
    );
    c.not_found("user_roles", store.user_roles(ctx, a.user.id).await);
    c.not_found(
        "assign_role",
        store.assign_role(ctx, a.user.id, b.role.id).await,
    );
    c.reference(
        "assign_role",
        "role_id",
        store.assign_role(ctx, b.user.id, a.role.id).await,
    );
    c.not_found(
        "remove_role",
        store.remove_role(ctx, a.user.id, a.role.id).await,
    );
    c.not_found(
        "remove_role",
        store.remove_role(ctx, b.user.id, a.role.id).await,
    );
    c.not_found(
        "user_permissions",
        store.user_permissions(ctx, a.user.id).await,
    );
    let current = Password::parse(PASSWORD).expect("password");
    let new_hash = PasswordHash::hash(&current, TEST_BCRYPT_COST).expect("hash");
    c.not_found(
        "change_password",
        store
            .change_password(ctx, a.user.id, &current, new_hash, None)
            .await,
    );

    // Found by code before B has a role with A's code, which B may then create.
    c.nothing(
        "find_role_by_code",
        store.find_role_by_code(ctx, &a.role.code).await,
    );
    c.clean(
        "create_role",
        store
            .create_role(
                ctx,
                new_role(a.role.code.as_str(), &[Permission::TasksRead]),
            )
            .await,
    );
    c.not_found("get_role", store.get_role(ctx, a.role.id).await);
    c.clean("list_roles", store.list_roles(ctx, all()).await);
    c.not_found(
        "update_role",
        store
            .update_role(ctx, a.role.id, RolePatch::default())
            .await,
    );
    c.not_found("delete_role", store.delete_role(ctx, a.role.id).await);

    // Counts every organization's, to bootstrap.
    c.unscoped("count_users");
    // A's user is nobody in B's organization, with the right password too.
    let b_slug = b.fixture.org.slug.clone();
    c.nothing(
        "verify_login",
        store.verify_login(&b_slug, &a.user.email, &current).await,
    );
    c.not_found(
        "create_session",
        store.create_session(ctx, a.user.id, opening()).await,
    );
    // A refresh token names its own session.
    c.unscoped("rotate_session");
    c.not_found(
        "session_standing",
        store.session_standing(ctx, a.session).await,
    );
    // A counter of the store, of no row.
    c.unscoped("standing_epoch");
    c.not_found(
        "list_sessions",
        store.list_sessions(ctx, a.fixture.owner.id).await,
    );
    c.not_found(
        "revoke_session",
        store
            .revoke_session(ctx, a.fixture.owner.id, a.session)
            .await,
    );
    c.not_found(
        "revoke_session",
        store
            .revoke_session(ctx, b.fixture.owner.id, a.session)
            .await,
    );
    c.not_found(
        "revoke_user_sessions",
        store
            .revoke_user_sessions(ctx, a.fixture.owner.id, None)
            .await,
    );
    // Settings of the instance, of no organization.
    c.unscoped("instance_setting_or_insert");
}

async fn check_work<S: Store + ?Sized>(store: &S, a: &Holdings, b: &Holdings, c: &mut Checks) {
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
            .update_project(ctx, a.project.id, ProjectPatch::default())
            .await,
    );
    c.not_found(
        "delete_project",
        store.delete_project(ctx, a.project.id).await,
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
            .update_task(ctx, a.task.id, TaskPatch::default())
            .await,
    );
    let reparent = TaskPatch {
        parent_id: Some(Some(a.task.id)),
        ..TaskPatch::default()
    };
    c.reference(
        "update_task",
        "parent_id",
        store.update_task(ctx, b.dependent.id, reparent).await,
    );
    c.not_found("delete_task", store.delete_task(ctx, a.task.id).await);

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

async fn check_queue<S: Store + ?Sized>(store: &S, a: &Holdings, b: &Holdings, c: &mut Checks) {
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
    c.not_found("cancel_task", store.cancel_task(ctx, a.task.id, None).await);
    c.not_found("retry_task", store.retry_task(ctx, a.task.id).await);
    c.clean("expire_leases", store.expire_leases(ctx).await);
    // Names the organizations to sweep, for the server.
    c.unscoped("organizations_with_expired_leases");
    c.clean("queue_stats", store.queue_stats(ctx).await);
}

async fn check_agents_and_messages<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    c.clean(
        "create_agent",
        store
            .create_agent(ctx, NewAgent::named(a.agent.name.clone(), AgentKind::Ai))
            .await,
    );
    c.not_found("get_agent", store.get_agent(ctx, a.agent.id).await);
    c.clean(
        "list_agents",
        store.list_agents(ctx, Default::default(), all()).await,
    );
    c.not_found(
        "update_agent",
        store
            .update_agent(ctx, a.agent.id, AgentPatch::default())
            .await,
    );
    c.not_found("delete_agent", store.delete_agent(ctx, a.agent.id).await);
    c.not_found(
        "record_heartbeat",
        store.record_heartbeat(ctx, a.agent.id).await,
    );
    c.not_found("agent_stats", store.agent_stats(ctx, a.agent.id).await);
    for (a_owner, b_owner) in [
        (KeyOwner::Agent(a.agent.id), KeyOwner::Agent(b.agent.id)),
        (
            KeyOwner::User(a.fixture.owner.id),
            KeyOwner::User(b.fixture.owner.id),
        ),
    ] {
        let field = if a_owner.agent().is_some() {
            "agent_id"
        } else {
            "user_id"
        };
        c.reference(
            "create_api_key",
            field,
            store
                .create_api_key(ctx, new_key(a_owner, "another host"))
                .await,
        );
        c.not_found(
            "list_api_keys",
            store.list_api_keys(ctx, a_owner, all()).await,
        );
        let a_key = match a_owner {
            KeyOwner::Agent(_) => a.key.key.id,
            KeyOwner::User(_) => a.user_key.key.id,
        };
        c.not_found(
            "revoke_api_key",
            store.revoke_api_key(ctx, a_owner, a_key).await,
        );
        c.not_found(
            "revoke_api_key",
            store.revoke_api_key(ctx, b_owner, a_key).await,
        );
    }
    // A key names its own organization, as a login does.
    c.unscoped("authenticate_api_key");

    let from_b = |to: Participant| {
        NewMessage::new(Participant::User(b.fixture.owner.id), to, content()).expect("a message")
    };
    c.reference(
        "send_message",
        "recipient",
        store
            .send_message(ctx, from_b(Participant::Agent(a.agent.id)))
            .await,
    );
    let about_a = from_b(Participant::Agent(b.agent.id)).with_task(Some(a.task.id));
    c.reference(
        "send_message",
        "task_id",
        store.send_message(ctx, about_a).await,
    );
    let as_a = NewMessage::new(
        Participant::Agent(a.agent.id),
        Participant::Agent(b.agent.id),
        content(),
    )
    .expect("a message");
    c.reference(
        "send_message",
        "sender",
        store.send_message(ctx, as_a).await,
    );
    c.not_found("get_message", store.get_message(ctx, a.message.id).await);
    for filter in [
        MessageFilter {
            thread_id: Some(a.thread),
            ..MessageFilter::default()
        },
        MessageFilter {
            task_id: Some(a.task.id),
            ..MessageFilter::default()
        },
        MessageFilter {
            participant: Some(Participant::Agent(a.agent.id)),
            ..MessageFilter::default()
        },
    ] {
        c.clean(
            "list_messages",
            store.list_messages(ctx, filter, all()).await,
        );
    }
    let ids = MessageIds::parse([a.message.id]).expect("ids");
    c.not_found(
        "mark_read",
        store.mark_read(ctx, MarkRead::Messages(ids)).await,
    );
    let their_thread = |recipient| MarkRead::Thread {
        recipient,
        thread_id: a.thread,
    };
    c.reference(
        "mark_read",
        "recipient",
        store
            .mark_read(ctx, their_thread(Participant::Agent(a.agent.id)))
            .await,
    );
    c.clean(
        "mark_read",
        store
            .mark_read(ctx, their_thread(Participant::Agent(b.agent.id)))
            .await,
    );
    c.reference(
        "unread_count",
        "recipient",
        store
            .unread_count(ctx, Participant::Agent(a.agent.id))
            .await,
    );
}

async fn check_workflows_and_templates<S: Store + ?Sized>(
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
            .update_workflow(ctx, a.workflow.id, WorkflowPatch::default())
            .await,
    );
    c.not_found(
        "delete_workflow",
        store.delete_workflow(ctx, a.workflow.id).await,
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
    c.not_found(
        "get_execution",
        store.get_execution(ctx, a.execution.id).await,
    );
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
        store.cancel_execution(ctx, a.execution.id, None).await,
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
            .update_template(ctx, a.template.id, TemplatePatch::default())
            .await,
    );
    c.not_found(
        "delete_template",
        store.delete_template(ctx, a.template.id).await,
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

async fn check_audit_and_store<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    let about_a = AuditFilter {
        entity_id: Some(a.project.id.to_string()),
        ..AuditFilter::default()
    };
    c.clean("list_audit", store.list_audit(ctx, about_a, all()).await);
    c.clean(
        "list_audit",
        store.list_audit(ctx, AuditFilter::default(), all()).await,
    );
    // Sealing B's log seals none of A's rows (A's chain report is in its view).
    c.clean("seal_audit", store.seal_audit(ctx, 10_000).await);
    c.clean("verify_audit", store.verify_audit(ctx).await);
    // Names the organizations to seal, for the server.
    c.unscoped("organizations_with_unsealed_audit");
    // Names the organizations to verify, for the command line.
    c.unscoped("audited_organizations");

    // Says which database, of no row.
    c.unscoped("backend");
    // Reports the database, of no row.
    c.unscoped("health");
    // Calls in a transaction are scoped as calls outside it.
    let tx = store.begin().await.expect("begin");
    c.not_found("begin", tx.get_project(ctx, a.project.id).await);
    c.not_found("begin", tx.get_task(ctx, a.task.id).await);
    tx.rollback().await.expect("rollback");
    // Ends the transaction the calls above ran in.
    c.unscoped("rollback");
    // Ends a transaction, as rollback does.
    c.unscoped("commit");
}

/// The outcomes of the calls, and the methods they covered.
struct Checks {
    /// Every id of A's, and its lease token: B's answers show none of them.
    a_ids: BTreeSet<String>,
    covered: BTreeSet<&'static str>,
    failures: Vec<String>,
}

impl Checks {
    fn new(a_ids: BTreeSet<String>) -> Self {
        Self {
            a_ids,
            covered: BTreeSet::new(),
            failures: Vec::new(),
        }
    }

    fn fail(&mut self, method: &'static str, expected: &str, got: &dyn Debug) {
        let got = format!("{got:?}");
        let got: String = got.chars().take(300).collect();
        self.failures
            .push(format!("{method}: expected {expected}, got {got}"));
    }

    fn not_found<T: Debug>(&mut self, method: &'static str, result: RepoResult<T>) {
        self.covered.insert(method);
        if !matches!(result, Err(RepoError::NotFound { .. })) {
            self.fail(method, "NotFound", &result);
        }
    }

    fn reference<T: Debug>(&mut self, method: &'static str, field: &str, result: RepoResult<T>) {
        self.covered.insert(method);
        match &result {
            Err(RepoError::Reference { field: found, .. }) if *found == field => {}
            _ => self.fail(method, &format!("Reference on {field}"), &result),
        }
    }

    fn reference_in_batch<T: Debug>(
        &mut self,
        method: &'static str,
        field: &str,
        result: RepoResult<T>,
    ) {
        match result {
            Err(RepoError::InBatch { index: 0, error }) => {
                self.reference(method, field, Err::<(), _>(*error))
            }
            other => {
                self.covered.insert(method);
                self.fail(method, &format!("Reference on tasks[0].{field}"), &other);
            }
        }
    }

    /// An answer, with none of A's ids in it.
    fn clean<T: Debug>(&mut self, method: &'static str, result: RepoResult<T>) {
        self.covered.insert(method);
        let text = format!("{result:?}");
        if result.is_err() {
            self.fail(method, "an answer", &result);
        } else if let Some(id) = self.a_ids.iter().find(|id| text.contains(id.as_str())) {
            let expected = format!("none of A's ids, but {id} is there");
            self.fail(method, &expected, &result);
        }
    }

    /// No row: what B looked for is A's.
    fn nothing<T: Debug>(&mut self, method: &'static str, result: RepoResult<Option<T>>) {
        self.covered.insert(method);
        if !matches!(result, Ok(None)) {
            self.fail(method, "None", &result);
        }
    }

    /// A method no organization's context scopes, so no other organization's id goes in.
    fn unscoped(&mut self, method: &'static str) {
        self.covered.insert(method);
    }

    fn finish(self) {
        assert!(self.failures.is_empty(), "\n{}", self.failures.join("\n"));
        let methods = repository_methods();
        let unchecked: Vec<_> = methods.difference(&self.covered).collect();
        let unknown: Vec<_> = self.covered.difference(&methods).collect();
        assert!(
            unchecked.is_empty() && unknown.is_empty(),
            "repository methods without a cross-tenant check in cases/isolation.rs: \
             {unchecked:?}; checks naming no method: {unknown:?}"
        );
    }
}

/// The methods of every `pub trait` in [`REPOSITORY_SOURCES`], each name once. Fails when
/// [`Store`] bundles a trait these sources do not declare.
fn repository_methods() -> BTreeSet<&'static str> {
    let mut traits = BTreeSet::new();
    let mut methods = BTreeSet::new();
    let mut bundled = Vec::new();
    for source in REPOSITORY_SOURCES {
        let mut in_trait = false;
        let mut in_store_header = false;
        for line in source.lines() {
            if let Some(header) = line.strip_prefix("pub trait ") {
                let name = header
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default();
                traits.insert(name);
                in_trait = true;
                in_store_header = name == "Store";
                continue;
            }
            if line == "}" {
                in_trait = false;
            }
            let code = line.trim_start();
            if in_store_header {
                if code.starts_with('{') {
                    in_store_header = false;
                } else {
                    bundled.push(code.trim_start_matches('+').trim());
                }
                continue;
            }
            if !in_trait || code.starts_with("//") {
                continue;
            }
            if let Some(at) = code.find("fn ") {
                let name = code[at + 3..]
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default();
                assert!(methods.insert(name), "two repository traits have {name}");
            }
        }
    }
    for bundled in bundled {
        assert!(
            matches!(bundled, "Send" | "Sync") || traits.contains(bundled),
            "Store bundles {bundled}, whose source is not in REPOSITORY_SOURCES"
        );
    }
    assert!(
        traits.len() > 10,
        "the trait sources were not read: {traits:?}"
    );
    methods
}

/// One of each row an organization holds, live and related as in use: a run past its lease
/// that depends on a succeeded task and has a blocked dependent; an agent with an API key; a
/// message about the run in a thread; a workflow with an execution; a task template used once
/// and a workflow template; a custom role held by a user with a username; a session.
struct Holdings {
    fixture: Fixture,
    project: Project,
    dependency: Task,
    task: Task,
    lease: LeaseToken,
    dependent: Task,
    agent: Agent,
    key: IssuedApiKey,
    /// A key of the organization's owner.
    user_key: IssuedApiKey,
    invitation: IssuedInvitation,
    message: Message,
    thread: ThreadId,
    workflow: Workflow,
    execution: WorkflowExecution,
    template: Template,
    usage: TemplateUsage,
    workflow_template: Template,
    role: Role,
    user: User,
    session: SessionId,
}

impl Holdings {
    /// Creates organization `slug` and all its rows; `lease` is the running task's lease.
    async fn create<S: Store + ?Sized>(store: &S, slug: &str, lease: LeaseDuration) -> Self {
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

        Self {
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
            template,
            usage,
            workflow_template,
            role,
            user,
            session,
        }
    }
}

/// What the organization reads of its own rows through every method that reads, each answer
/// as its `Debug` text; the queue's statistics without the last minute, which moves by itself.
async fn view<S: Store + ?Sized>(store: &S, h: &Holdings) -> Vec<String> {
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
        format!("{:?}", store.list_sessions(ctx, owner).await),
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
}

fn assert_same(before: &[String], after: &[String]) {
    for (before, after) in before.iter().zip(after) {
        assert_eq!(before, after, "a read changed");
    }
}

/// Every id in A's view, its usage and its lease token; less the system roles, which every
/// organization shares.
async fn ids_of_a<S: Store + ?Sized>(store: &S, a: &Holdings, view: &[String]) -> BTreeSet<String> {
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

fn all<S: ListSort>() -> PageRequest<S> {
    PageRequest::first(Limit::parse(200).expect("limit"))
}

fn new_key(owner: KeyOwner, text: &str) -> NewApiKey {
    NewApiKey {
        owner,
        name: name(text),
        scopes: KeyScopes::owners(),
        expires_at: None,
    }
}

fn name(text: &str) -> Name {
    Name::parse("name", text).expect("name")
}

fn content() -> MessageContent {
    MessageContent::parse("about the second task").expect("content")
}

fn opening() -> NewSession {
    NewSession {
        refresh_token_hash: format!("hash of {}", uuid::Uuid::new_v4()),
        expires_at: Utc::now() + chrono::Duration::days(1),
        client: ClientInfo::default(),
    }
}

fn project_named(text: &str) -> orchestore_domain::NewProject {
    orchestore_domain::NewProject {
        name: name(text),
        description: Description::empty(),
        repository_url: None,
        tags: Default::default(),
        settings: Default::default(),
    }
}

fn new_workflow(text: &str) -> NewWorkflow {
    NewWorkflow {
        name: name(text),
        description: Description::empty(),
    }
}

fn one_step(step: &str) -> WorkflowDefinition {
    WorkflowDefinition::parse(json!({"steps": [{"name": step}]})).expect("definition")
}

fn execution(
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

fn task_template(text: &str) -> NewTemplate {
    template_of(
        text,
        TemplateKind::Task,
        json!({"tasks": [{"title": "from the template"}]}),
    )
}

fn workflow_template(text: &str) -> NewTemplate {
    template_of(
        text,
        TemplateKind::Workflow,
        json!({"steps": [{"name": "ship"}]}),
    )
}

fn template_of(text: &str, kind: TemplateKind, body: serde_json::Value) -> NewTemplate {
    let parameters = TemplateParameters::default();
    NewTemplate {
        name: name(text),
        description: Description::empty(),
        kind,
        body: TemplateBody::parse(kind, &parameters, body).expect("body"),
        parameters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trait_sources_list_known_methods() {
        let methods = repository_methods();
        for known in [
            "get_task",
            "standing_epoch",
            "claim_tasks",
            "commit",
            "list_audit",
        ] {
            assert!(methods.contains(known), "{known} in {methods:?}");
        }
        assert!(!methods.contains("sorted"), "a method outside a trait");
    }
}

//! Isolation: organization B's context, given organization A's ids, reaches nothing of A's
//! through any repository method, and A's rows change nothing B reads.
//!
//! The case names every method of every repository trait as it checks it, and fails when the
//! traits (read from their sources) have a method it does not name: a new method needs its
//! cross-tenant check here, in the module of its aggregate ([`tenancy`], [`work`], [`agents`],
//! [`workflows`], [`knowledge`], [`observability`] for the telemetry; the audit log and the
//! store's own calls below). [`holdings`] makes what each
//! organization holds and reads it back.

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
use orchestore_domain::{
    AnalyticsWindow, ByteCount, ContextFilter, ExecutionStep, LearningOutcome, LearningRecord,
    Metadata, NewExecutionStep, NewLearningRecord, NewTask, NewTemplate, NewUser, OperationName,
    Pattern, PatternQuery, Score, StepName, StepOutcome, StepTiming,
};
use orchestore_domain::{PurgeBatch, RetentionAge, RetentionRules, RetentionTarget};
use orchestore_repo::{
    AuditFilter, ExecutionFilter, ExecutionStepFilter, LearningFilter, Limit, ListSort, MarkRead,
    MessageFilter, NewInvitation, NewSession, PageRequest, RepoError, RepoResult, Retry, Store,
    TaskFilter, TaskStatsScope, UserFilter, WorkflowTarget,
};
use serde_json::{Map, json};

use super::tenancy::{new_role, username};
use super::{PASSWORD, new_user, task};
use crate::{Fixture, TEST_BCRYPT_COST};

mod agents;
mod brainstorms;
mod collaboration;
mod holdings;
mod idempotency;
mod knowledge;
mod observability;
mod proposals;
mod rate_limits;
mod schedules;
mod tenancy;
mod work;
mod workflows;

use agents::*;
use brainstorms::*;
use collaboration::*;
use holdings::*;
use idempotency::*;
use knowledge::*;
use observability::*;
use proposals::*;
use rate_limits::*;
use schedules::*;
use tenancy::*;
use work::*;
use workflows::*;

/// The sources of the repository traits: the methods of every `pub trait` in them are the
/// methods this case must check.
const REPOSITORY_SOURCES: [&str; 35] = [
    include_str!("../../../../orchestore-repo/src/agents.rs"),
    include_str!("../../../../orchestore-repo/src/knowledge.rs"),
    include_str!("../../../../orchestore-repo/src/marketplace.rs"),
    include_str!("../../../../orchestore-repo/src/analytics.rs"),
    include_str!("../../../../orchestore-repo/src/collaboration/matches.rs"),
    include_str!("../../../../orchestore-repo/src/collaboration/points.rs"),
    include_str!("../../../../orchestore-repo/src/collaboration/ranks.rs"),
    include_str!("../../../../orchestore-repo/src/collaboration/reputation.rs"),
    include_str!("../../../../orchestore-repo/src/messaging.rs"),
    include_str!("../../../../orchestore-repo/src/observability.rs"),
    include_str!("../../../../orchestore-repo/src/observability/alerts.rs"),
    include_str!("../../../../orchestore-repo/src/observability/components.rs"),
    include_str!("../../../../orchestore-repo/src/observability/events.rs"),
    include_str!("../../../../orchestore-repo/src/observability/metrics.rs"),
    include_str!("../../../../orchestore-repo/src/store.rs"),
    include_str!("../../../../orchestore-repo/src/templates.rs"),
    include_str!("../../../../orchestore-repo/src/tenancy.rs"),
    include_str!("../../../../orchestore-repo/src/work.rs"),
    include_str!("../../../../orchestore-repo/src/work/queue.rs"),
    include_str!("../../../../orchestore-repo/src/work/fairness.rs"),
    include_str!("../../../../orchestore-repo/src/work/schedules.rs"),
    include_str!("../../../../orchestore-repo/src/work/rate_limits.rs"),
    include_str!("../../../../orchestore-repo/src/workflows.rs"),
    include_str!("../../../../orchestore-repo/src/workflows/learning.rs"),
    include_str!("../../../../orchestore-repo/src/workflows/steps.rs"),
    include_str!("../../../../orchestore-repo/src/workflows/waits.rs"),
    include_str!("../../../../orchestore-repo/src/collaboration/rewards.rs"),
    include_str!("../../../../orchestore-repo/src/collaboration/penalties.rs"),
    include_str!("../../../../orchestore-repo/src/collaboration/brainstorms.rs"),
    include_str!("../../../../orchestore-repo/src/collaboration/mentorships.rs"),
    include_str!("../../../../orchestore-repo/src/collaboration/proposals.rs"),
    include_str!("../../../../orchestore-repo/src/collaboration/achievements.rs"),
    include_str!("../../../../orchestore-repo/src/collaboration/boards.rs"),
    include_str!("../../../../orchestore-repo/src/retention.rs"),
    include_str!("../../../../orchestore-repo/src/idempotency.rs"),
];

/// A's run is claimed under this lease, which has expired by the time B's calls run: a sweep
/// or a claim in B's name must still leave it.
const SHORT_LEASE_SECONDS: i64 = 1;

/// Creates organization `slug` holding one of each row an organization holds, live and related
/// as in use (see [`Holdings`]), plus a task whose parent comes after it and a sealed audit
/// chain: a database in use, for the tests that move one. Returns its context.
pub async fn populate_organization<S: Store + ?Sized>(
    store: &S,
    slug: &str,
) -> orchestore_repo::Ctx {
    let holdings = Holdings::create(store, slug, LeaseDuration::default()).await;
    let ctx = holdings.fixture.ctx.clone();
    let child = store
        .create_task(
            &ctx,
            task(holdings.project.id, "child, written before its parent"),
        )
        .await
        .expect("child task");
    let parent = store
        .create_task(&ctx, task(holdings.project.id, "parent"))
        .await
        .expect("parent task");
    store
        .update_task(
            &ctx,
            child.id,
            TaskPatch {
                parent_id: Some(Some(parent.id)),
                ..TaskPatch::default()
            },
            None,
        )
        .await
        .expect("the child's parent");
    // A payload over the default inline limit: a row of `task_bodies`.
    let large = orchestore_domain::Payload::parse(serde_json::json!({
        "text": "a large payload ".repeat(8 * 1024),
    }))
    .expect("a large payload");
    store
        .create_task(
            &ctx,
            orchestore_domain::NewTask {
                payload: large,
                ..task(holdings.project.id, "a large payload")
            },
        )
        .await
        .expect("a task with a large payload");
    store.seal_audit(&ctx, 10_000).await.expect("seal");
    ctx
}

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
    check_knowledge_and_marketplace(store, &a, &b, &mut checks).await;
    check_telemetry(store, &a, &b, &mut checks).await;
    check_collaboration(store, &a, &b, &mut checks).await;
    check_brainstorms_and_mentorships(store, &a, &b, &mut checks).await;
    check_proposals(store, &a, &b, &mut checks).await;
    check_schedules(store, &a, &b, &mut checks).await;
    check_idempotency(store, &a, &b, &mut checks).await;
    check_rate_limits(store, &a, &b, &mut checks).await;
    check_audit_and_store(store, &a, &b, &mut checks).await;
    checks.finish();

    assert_same(&a_before, &view(store, &a).await);
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
    // Counts every organization's unsealed rows together, for operators: no ids in its answer.
    c.unscoped("audit_backlog");
    // B's policy is B's own; B's purge, at a time past every age, leaves A's rows (A's view is
    // compared at the end).
    let hour = RetentionAge::from_seconds("age", RetentionAge::MIN_SECONDS).expect("an hour");
    let everything = RetentionTarget::ALL
        .into_iter()
        .fold(RetentionRules::default(), |rules, target| {
            rules.with(target, Some(hour))
        });
    c.clean(
        "set_retention_policy",
        store.set_retention_policy(ctx, everything, None).await,
    );
    c.clean("retention_policy", store.retention_policy(ctx).await);
    let later = Utc::now() + chrono::Duration::days(1);
    c.clean(
        "purge_retention",
        store
            .purge_retention(ctx, later, PurgeBatch::default(), false)
            .await,
    );
    // Names the organizations to purge, for the server and the command line.
    c.unscoped("organizations_with_retention_policy");

    // Says which database, of no row.
    c.unscoped("backend");
    // Reports the database, of no row.
    c.unscoped("health");
    // Instance-wide figures of the database (sizes, timings), of no organization's row.
    c.unscoped("database_status");
    c.unscoped("pool_status");
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
            "repository methods without a cross-tenant check in cases/isolation/: \
             {unchecked:?}; checks naming no method: {unknown:?}"
        );
    }
}

/// The methods of every `pub trait` in [`REPOSITORY_SOURCES`], each name once (no two traits
/// share a method name). Fails when [`Store`] bundles a trait these sources do not declare.
/// This case checks each has a cross-tenant check; the server's API tests check each has a
/// route, or a reason it has none.
pub fn repository_methods() -> BTreeSet<&'static str> {
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

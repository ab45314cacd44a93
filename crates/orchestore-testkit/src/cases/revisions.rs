//! Revisions: every resource with a `PATCH` route starts at revision 1 and moves one on with
//! every write of its row, as do an organization's settings; a change that expects a revision
//! the row is no longer at is refused, and writes nothing: neither the row nor an audit row.

use orchestore_domain::{
    AgentPatch, Description, EloSettings, LeaderboardWeights, LeaseDuration, Name, NewRateLimit,
    NewRole, NewWorkflow, Permission, ProjectPatch, RankSettings, RateLimitName, RateLimitPatch,
    RefillPeriod, RetentionAge, RetentionRules, RetentionTarget, Revised, Revision, RoleCode,
    RolePatch, TaskPatch, TokenCount, UserPatch, WorkflowPatch,
};
use orchestore_repo::{AuditFilter, Limit, PageRequest, RepoError, Retry, Store};

use super::work::worker;
use super::{PASSWORD, assert_not_found, task};
use crate::Fixture;

fn revision(n: i64) -> Revision {
    Revision::parse(n).expect("revision")
}

/// Asserts a refusal for a stale revision of `entity`, which is at `current`.
fn assert_mismatch<T: std::fmt::Debug>(result: Result<T, RepoError>, entity: &str, current: i64) {
    match result {
        Err(RepoError::RevisionMismatch {
            entity: found,
            current: at,
            ..
        }) => {
            assert_eq!(found, entity);
            assert_eq!(at, revision(current));
        }
        other => panic!("expected a revision mismatch on {entity}, got {other:?}"),
    }
}

fn description(text: &str) -> Description {
    Description::parse("description", text).expect("description")
}

fn name(text: &str) -> Name {
    Name::parse("name", text).expect("name")
}

/// How many audit rows the organization of `fixture` has.
async fn audit_rows<S: Store + ?Sized>(store: &S, fixture: &Fixture) -> usize {
    store
        .list_audit(
            &fixture.ctx,
            AuditFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("audit")
        .items
        .len()
}

pub async fn every_write_moves_the_revision_on<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    assert_eq!(project.revision, Revision::FIRST);
    let renamed = store
        .update_project(
            ctx,
            project.id,
            ProjectPatch {
                description: Some(description("to the moon")),
                ..ProjectPatch::default()
            },
            Some(project.revision),
        )
        .await
        .expect("update");
    assert_eq!(renamed.revision, revision(2));
    let unchanged = store
        .update_project(ctx, project.id, ProjectPatch::default(), Some(revision(2)))
        .await
        .expect("empty patch");
    assert_eq!(unchanged, renamed, "an empty patch writes nothing");

    // A task moves on with every transition, whoever makes it.
    let agent = worker(store, ctx, "worker", &[]).await;
    assert_eq!(agent.revision, Revision::FIRST);
    let created = store
        .create_task(ctx, task(project.id, "fly"))
        .await
        .expect("task");
    assert_eq!(created.revision, Revision::FIRST);
    let lease = LeaseDuration::parse_seconds(60).expect("lease");
    let claimed = store
        .claim_task(ctx, created.id, agent.id, lease)
        .await
        .expect("claim");
    assert_eq!(claimed.task.revision, revision(2));
    let beat = store
        .heartbeat_task(ctx, created.id, claimed.lease_token, lease, None)
        .await
        .expect("heartbeat");
    assert_eq!(beat.revision, revision(3));
    let failed = store
        .fail_task(ctx, created.id, claimed.lease_token, None, Retry::Never)
        .await
        .expect("fail");
    assert_eq!(failed.revision, revision(4));
    let retried = store.retry_task(ctx, created.id).await.expect("retry");
    assert_eq!(retried.revision, revision(5));
    let again = store
        .claim_task(ctx, created.id, agent.id, lease)
        .await
        .expect("claim again");
    assert_eq!(again.task.revision, revision(6));
    let done = store
        .complete_task(ctx, created.id, again.lease_token, None)
        .await
        .expect("complete");
    assert_eq!(done.revision, revision(7));
    assert_eq!(
        store.get_task(ctx, created.id).await.expect("get").revision,
        revision(7)
    );

    // The agent's row was written by the claims (its heartbeat) and the runs' ends (its
    // counters).
    let counted = store.get_agent(ctx, agent.id).await.expect("agent");
    assert!(counted.revision > agent.revision, "{counted:?}");
    assert_eq!(counted.tasks_completed, 1);

    // A cancellation of a queued task moves it on once.
    let other = store
        .create_task(ctx, task(project.id, "land"))
        .await
        .expect("task");
    let cancelled = store
        .cancel_task(ctx, other.id, None, Some(Revision::FIRST))
        .await
        .expect("cancel");
    assert_eq!(cancelled.task.revision, revision(2));
}

pub async fn a_stale_revision_writes_nothing<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let stale = Some(Revision::FIRST);

    let project = acme.project(store, "Apollo").await;
    let moved = store
        .update_project(
            ctx,
            project.id,
            ProjectPatch {
                description: Some(description("first")),
                ..ProjectPatch::default()
            },
            None,
        )
        .await
        .expect("update");
    assert_eq!(moved.revision, revision(2));
    let audited = audit_rows(store, &acme).await;
    let late = ProjectPatch {
        description: Some(description("second")),
        ..ProjectPatch::default()
    };
    assert_mismatch(
        store.update_project(ctx, project.id, late, stale).await,
        "project",
        2,
    );
    assert_mismatch(
        store
            .update_project(ctx, project.id, ProjectPatch::default(), stale)
            .await,
        "project",
        2,
    );
    assert_mismatch(
        store.delete_project(ctx, project.id, stale).await,
        "project",
        2,
    );
    assert_eq!(
        store.get_project(ctx, project.id).await.expect("kept"),
        moved
    );
    assert_eq!(audit_rows(store, &acme).await, audited, "no audit row");

    // Tasks: a patch, a cancellation and a deletion.
    let created = store
        .create_task(ctx, task(project.id, "fly"))
        .await
        .expect("task");
    let patched = store
        .update_task(
            ctx,
            created.id,
            TaskPatch {
                description: Some(description("now")),
                ..TaskPatch::default()
            },
            Some(created.revision),
        )
        .await
        .expect("conditional update");
    assert_eq!(patched.revision, revision(2));
    let audited = audit_rows(store, &acme).await;
    assert_mismatch(
        store
            .update_task(
                ctx,
                created.id,
                TaskPatch {
                    description: Some(description("late")),
                    ..TaskPatch::default()
                },
                stale,
            )
            .await,
        "task",
        2,
    );
    assert_mismatch(
        store.cancel_task(ctx, created.id, None, stale).await,
        "task",
        2,
    );
    assert_mismatch(store.delete_task(ctx, created.id, stale).await, "task", 2);
    assert_eq!(
        store.get_task(ctx, created.id).await.expect("kept"),
        patched
    );
    assert_eq!(audit_rows(store, &acme).await, audited, "no audit row");
    store
        .delete_task(ctx, created.id, Some(revision(2)))
        .await
        .expect("delete at the current revision");
    assert_not_found(store.get_task(ctx, created.id).await, "task");

    // The other resources, each through its own statement.
    let agent = worker(store, ctx, "worker", &[]).await;
    let agent_patch = || AgentPatch {
        name: Some(name("renamed")),
        ..AgentPatch::default()
    };
    store
        .update_agent(ctx, agent.id, agent_patch(), Some(agent.revision))
        .await
        .expect("agent at 1");
    assert_mismatch(
        store
            .update_agent(ctx, agent.id, agent_patch(), stale)
            .await,
        "agent",
        2,
    );
    assert_mismatch(store.delete_agent(ctx, agent.id, stale).await, "agent", 2);

    let workflow = store
        .create_workflow(
            ctx,
            NewWorkflow {
                name: name("pipeline"),
                description: Description::empty(),
            },
        )
        .await
        .expect("workflow");
    let workflow_patch = || WorkflowPatch {
        description: Some(description("moved")),
        ..WorkflowPatch::default()
    };
    store
        .update_workflow(ctx, workflow.id, workflow_patch(), stale)
        .await
        .expect("workflow at 1");
    assert_mismatch(
        store
            .update_workflow(ctx, workflow.id, workflow_patch(), stale)
            .await,
        "workflow",
        2,
    );
    assert_mismatch(
        store.delete_workflow(ctx, workflow.id, stale).await,
        "workflow",
        2,
    );

    let role = store
        .create_role(
            ctx,
            NewRole {
                code: RoleCode::parse("code", "auditor").expect("code"),
                description: Description::empty(),
                permissions: vec![Permission::TasksRead],
            },
        )
        .await
        .expect("role");
    // A change of its grants alone moves the role on too.
    let grants = store
        .update_role(
            ctx,
            role.id,
            RolePatch {
                permissions: Some(vec![Permission::TasksRead, Permission::ProjectsRead]),
                ..RolePatch::default()
            },
            stale,
        )
        .await
        .expect("role at 1");
    assert_eq!(grants.revision, revision(2));
    assert_mismatch(
        store
            .update_role(
                ctx,
                role.id,
                RolePatch {
                    description: Some(description("late")),
                    ..RolePatch::default()
                },
                stale,
            )
            .await,
        "role",
        2,
    );
    assert_mismatch(store.delete_role(ctx, role.id, stale).await, "role", 2);

    let owner = acme.owner.id;
    let user_patch = |text: &str| UserPatch {
        display_name: Some(Name::parse("display_name", text).expect("name")),
        ..UserPatch::default()
    };
    let user = store
        .update_user(ctx, owner, user_patch("Ada"), Some(acme.owner.revision))
        .await
        .expect("user at its revision");
    assert_mismatch(
        store
            .update_user(ctx, owner, user_patch("Late"), Some(acme.owner.revision))
            .await,
        "user",
        user.revision.get(),
    );

    let bucket = RateLimitName::parse("name", "api").expect("name");
    store
        .create_rate_limit(
            ctx,
            NewRateLimit {
                name: bucket.clone(),
                capacity: TokenCount::parse("capacity", 10).expect("capacity"),
                period: RefillPeriod::parse("period_seconds", 60).expect("period"),
            },
        )
        .await
        .expect("bucket");
    let bucket_patch = |capacity: i64| RateLimitPatch {
        capacity: Some(TokenCount::parse("capacity", capacity).expect("capacity")),
        ..RateLimitPatch::default()
    };
    store
        .update_rate_limit(ctx, &bucket, bucket_patch(20), stale)
        .await
        .expect("bucket at 1");
    assert_mismatch(
        store
            .update_rate_limit(ctx, &bucket, bucket_patch(30), stale)
            .await,
        "rate_limit",
        2,
    );
    assert_mismatch(
        store.delete_rate_limit(ctx, &bucket, stale).await,
        "rate_limit",
        2,
    );
    let kept = store.get_rate_limit(ctx, &bucket).await.expect("kept");
    assert_eq!(kept.capacity.get(), 20);
    store
        .delete_rate_limit(ctx, &bucket, Some(revision(2)))
        .await
        .expect("deleted at its revision");
}

/// An organization's settings (the retention policy, the rank settings, the leaderboard
/// weights) read as the defaults at revision 1 until written; the first write makes them 2,
/// and every write one more. A write that expects another revision writes nothing, not even
/// the row of settings never written.
pub async fn settings_are_revised_and_a_stale_write_writes_nothing<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let week = || {
        RetentionRules::default().with(
            RetentionTarget::Events,
            Some(RetentionAge::parse("age", "7d").expect("age")),
        )
    };
    let strict = RankSettings {
        elo: EloSettings::parse(24, 48, 5).expect("elo"),
        ..RankSettings::default()
    };
    let points_only = LeaderboardWeights::parse(1.0, 0.0, 0.0).expect("weights");

    // Never written: the defaults at 1. Expecting a later revision refuses, inserts nothing.
    let policy = store.retention_policy(ctx).await.expect("policy");
    assert_eq!(policy.revision, Revision::FIRST);
    assert_eq!(
        store.get_rank_settings(ctx).await.expect("ranks").revision,
        Revision::FIRST
    );
    assert_eq!(
        store
            .get_leaderboard_weights(ctx)
            .await
            .expect("weights")
            .revision,
        Revision::FIRST
    );
    let audited = audit_rows(store, &acme).await;
    assert_mismatch(
        store
            .set_retention_policy(ctx, week(), Some(revision(2)))
            .await,
        "retention_policy",
        1,
    );
    assert_mismatch(
        store
            .set_rank_settings(ctx, strict.clone(), Some(revision(2)))
            .await,
        "collaboration_settings",
        1,
    );
    assert_mismatch(
        store
            .set_leaderboard_weights(ctx, points_only, Some(revision(2)))
            .await,
        "leaderboard_settings",
        1,
    );
    assert_eq!(store.retention_policy(ctx).await.expect("policy"), policy);
    assert!(
        store
            .organizations_with_retention_policy()
            .await
            .expect("organizations")
            .is_empty(),
        "no row inserted"
    );
    assert_eq!(audit_rows(store, &acme).await, audited, "no audit row");

    // The defaults' revision, then the first write's, then an unconditional write.
    let first = store
        .set_retention_policy(ctx, week(), Some(Revision::FIRST))
        .await
        .expect("first write");
    assert_eq!(first.revision, revision(2));
    let ranks = store
        .set_rank_settings(ctx, strict.clone(), Some(Revision::FIRST))
        .await
        .expect("first write");
    assert_eq!(ranks.revision, revision(2));
    let weights = store
        .set_leaderboard_weights(ctx, points_only, Some(Revision::FIRST))
        .await
        .expect("first write");
    assert_eq!(weights.revision, revision(2));
    let second = store
        .set_retention_policy(ctx, RetentionRules::default(), Some(revision(2)))
        .await
        .expect("second write");
    assert_eq!(second.revision, revision(3));
    let third = store
        .set_retention_policy(ctx, week(), None)
        .await
        .expect("unconditional");
    assert_eq!(third.revision, revision(4));
    assert_eq!(store.retention_policy(ctx).await.expect("policy"), third);
    assert_eq!(
        store.get_rank_settings(ctx).await.expect("ranks"),
        Revised {
            value: strict.clone(),
            revision: revision(2)
        }
    );
    assert_eq!(
        store
            .set_leaderboard_weights(ctx, LeaderboardWeights::default(), None)
            .await
            .expect("unconditional")
            .revision,
        revision(3)
    );

    // Stale: the defaults' revision and a passed one; nothing changes.
    let audited = audit_rows(store, &acme).await;
    for stale in [Revision::FIRST, revision(3)] {
        assert_mismatch(
            store
                .set_retention_policy(ctx, RetentionRules::default(), Some(stale))
                .await,
            "retention_policy",
            4,
        );
    }
    assert_mismatch(
        store
            .set_rank_settings(ctx, RankSettings::default(), Some(Revision::FIRST))
            .await,
        "collaboration_settings",
        2,
    );
    assert_mismatch(
        store
            .set_leaderboard_weights(ctx, points_only, Some(revision(2)))
            .await,
        "leaderboard_settings",
        3,
    );
    assert_eq!(store.retention_policy(ctx).await.expect("policy"), third);
    assert_eq!(
        store.get_rank_settings(ctx).await.expect("ranks").value,
        strict
    );
    assert_eq!(
        store
            .get_leaderboard_weights(ctx)
            .await
            .expect("weights")
            .value,
        LeaderboardWeights::default()
    );
    assert_eq!(audit_rows(store, &acme).await, audited, "no audit row");
}

/// Two first writes of settings never written, both expecting the defaults' revision, at
/// once: one is written, the other is refused, whichever the backend lets go first.
pub async fn two_first_writes_of_settings_at_once_write_one<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let write = |points: f64| {
        store.set_leaderboard_weights(
            ctx,
            LeaderboardWeights::parse(points, 1.0, 1.0).expect("weights"),
            Some(Revision::FIRST),
        )
    };
    let (one, two) = tokio::join!(write(2.0), write(3.0));
    let (won, lost) = match (one, two) {
        (Ok(won), lost @ Err(_)) | (lost @ Err(_), Ok(won)) => (won, lost),
        other => panic!("expected one write and one refusal, got {other:?}"),
    };
    assert_mismatch(lost, "leaderboard_settings", 2);
    assert_eq!(won.revision, revision(2));
    assert_eq!(
        store.get_leaderboard_weights(ctx).await.expect("weights"),
        won
    );
}

/// Writes of settings that expect no revision, made at once, all apply, one after the other;
/// each one's audit row diffs what it replaced, the first's (no row yet) and the later ones' (a
/// row to wait for) alike: the rows chain from the defaults to what is stored.
pub async fn unconditional_writes_of_settings_at_once_each_diff_what_they_replaced<
    S: Store + ?Sized,
>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let write = |points: f64| {
        store.set_leaderboard_weights(
            ctx,
            LeaderboardWeights::parse(points, 1.0, 1.0).expect("weights"),
            None,
        )
    };
    let defaults = store.get_leaderboard_weights(ctx).await.expect("weights");
    // Four rounds: the first has no row to lock, the others one; each race may or may not
    // overlap, the more rounds the likelier it is that some do.
    for (one, two) in [(2.0, 3.0), (4.0, 5.0), (6.0, 7.0), (8.0, 9.0)] {
        let (one, two) = tokio::join!(write(one), write(two));
        let mut revisions = [
            one.expect("written").revision,
            two.expect("written").revision,
        ];
        revisions.sort();
        assert_eq!(revisions[1].get(), revisions[0].get() + 1, "{revisions:?}");
    }
    let stored = store.get_leaderboard_weights(ctx).await.expect("weights");
    assert_eq!(stored.revision, revision(9));
    // The last revision there is: no row is at it, and nothing overflows.
    let last = Revision::parse(i64::MAX).expect("revision");
    assert_mismatch(
        store
            .set_leaderboard_weights(ctx, stored.value, Some(last))
            .await,
        "leaderboard_settings",
        9,
    );

    let rows = store
        .list_audit(
            ctx,
            AuditFilter {
                entity: Some("leaderboard_settings".to_owned()),
                ..AuditFilter::default()
            },
            PageRequest::first(Limit::parse(10).expect("limit")),
        )
        .await
        .expect("audit")
        .items;
    assert_eq!(rows.len(), 8, "{rows:?}");
    let points =
        |side: &str, row: &orchestore_repo::AuditEntry| row.changes["points"][side].as_f64();
    let mut at = Some(defaults.value.points());
    let mut left = rows;
    while !left.is_empty() {
        let next = left
            .iter()
            .position(|row| points("from", row) == at)
            .unwrap_or_else(|| panic!("no audit row replaces points {at:?}: {left:?}"));
        at = points("to", &left.remove(next));
    }
    assert_eq!(at, Some(stored.value.points()));
}

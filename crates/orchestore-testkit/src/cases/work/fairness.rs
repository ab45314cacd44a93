//! The shared worker fleet: organizations on it are served by weighted round robin, each
//! claim running as the organization's own fleet agent, so a tenant with a large backlog
//! cannot starve one with a small one.

use orchestore_domain::{
    Agent, AgentPatch, AgentStatus, BatchTask, ClaimLimit, OrganizationId, QueueShareWeight,
    SharedClaimRequest, TaskStatus,
};
use orchestore_repo::{AuditFilter, PageRequest, RepoError, Store};

use super::graph::worker;
use crate::Fixture;
use crate::cases::{PASSWORD, assert_not_found, assert_reference, task};

fn share(weight: i64) -> QueueShareWeight {
    QueueShareWeight::parse(weight).expect("share")
}

fn shared(limit: i64) -> SharedClaimRequest {
    SharedClaimRequest {
        limit: ClaimLimit::parse(limit).expect("limit"),
        ..SharedClaimRequest::one()
    }
}

/// An organization with `backlog` queued tasks, on the shared fleet with `weight`, and its
/// fleet agent.
async fn member<S: Store + ?Sized>(
    store: &S,
    slug: &str,
    backlog: usize,
    weight: i64,
) -> (Fixture, Agent) {
    let fixture = Fixture::create(store, slug, PASSWORD).await;
    let project = fixture.project(store, "Backlog").await;
    let agent = worker(store, &fixture.ctx, "shared fleet", &[]).await;
    let tasks: Vec<BatchTask> = (0..backlog)
        .map(|n| BatchTask::from(task(project.id, &format!("{slug} {n}"))))
        .collect();
    if !tasks.is_empty() {
        store
            .enqueue_tasks(&fixture.ctx, tasks)
            .await
            .expect("enqueue");
    }
    store
        .set_queue_share(fixture.org.id, agent.id, share(weight))
        .await
        .expect("join the fleet");
    (fixture, agent)
}

/// The organization each of `claims` one-task shared claims served.
async fn served<S: Store + ?Sized>(store: &S, claims: usize) -> Vec<OrganizationId> {
    let mut served = Vec::new();
    for _ in 0..claims {
        let claim = store
            .claim_shared_tasks(shared(1))
            .await
            .expect("shared claim")
            .expect("work to claim");
        assert_eq!(claim.tasks.len(), 1);
        served.push(claim.organization_id);
    }
    served
}

/// Organization A has 10,000 queued tasks and B has 10: B's tasks all start within the first
/// 20 shared claims, and every claimed task runs on its own organization's fleet agent.
pub async fn a_small_backlog_is_not_starved_by_a_large_one<S: Store + ?Sized>(store: &S) {
    let (a, a_agent) = member(store, "big", 10_000, 1).await;
    let (b, b_agent) = member(store, "small", 10, 1).await;

    let mut b_claimed = Vec::new();
    for _ in 0..20 {
        let claim = store
            .claim_shared_tasks(shared(1))
            .await
            .expect("shared claim")
            .expect("work to claim");
        let [claimed] = claim.tasks.as_slice() else {
            panic!("one task: {claim:?}");
        };
        assert_eq!(claimed.task.organization_id, claim.organization_id);
        assert_eq!(claimed.task.status, TaskStatus::Running);
        let fleet_agent = if claim.organization_id == b.org.id {
            b_claimed.push(claimed.task.id);
            b_agent.id
        } else {
            assert_eq!(claim.organization_id, a.org.id);
            a_agent.id
        };
        assert_eq!(claim.agent_id, fleet_agent);
        assert_eq!(claimed.task.assigned_agent_id, Some(fleet_agent));
    }
    b_claimed.sort();
    b_claimed.dedup();
    assert_eq!(b_claimed.len(), 10, "all of B's tasks within 20 claims");
    let b_stats = store.queue_stats(&b.ctx).await.expect("stats");
    assert_eq!(b_stats.queued, 0, "{b_stats:?}");
    // With B's backlog gone, A has the fleet to itself.
    assert_eq!(served(store, 5).await, vec![a.org.id; 5]);
    // B, idle meanwhile, was lifted to within one claim of A: when its work comes back it
    // takes turns with A instead of taking the fleet over to catch up.
    let more = b.project(store, "More").await;
    let tasks: Vec<BatchTask> = (0..10)
        .map(|n| BatchTask::from(task(more.id, &format!("more {n}"))))
        .collect();
    store.enqueue_tasks(&b.ctx, tasks).await.expect("enqueue");
    let rotation = served(store, 4).await;
    assert!(rotation.contains(&a.org.id), "{rotation:?}");
    assert!(rotation.contains(&b.org.id), "{rotation:?}");
}

/// Shares weigh the rotation (3 to 1 gives three tasks in four), a claim of several tasks
/// counts them all, and what a shared claim took is the organization's to end.
pub async fn shared_claims_follow_the_shares_and_stay_in_the_organization<S: Store + ?Sized>(
    store: &S,
) {
    let (heavy, _) = member(store, "heavy", 40, 3).await;
    let (light, _) = member(store, "light", 40, 1).await;

    let rotation = served(store, 16).await;
    let heavy_turns = rotation.iter().filter(|org| **org == heavy.org.id).count();
    assert_eq!(heavy_turns, 12, "{rotation:?}");
    // Interleaved, not in runs: the light organization waits at most four claims.
    for window in rotation.windows(5) {
        assert!(window.contains(&light.org.id), "{rotation:?}");
    }

    // A claim of four tasks takes them from one organization and counts all four.
    let before = store.list_queue_shares().await.expect("shares");
    let claim = store
        .claim_shared_tasks(shared(4))
        .await
        .expect("shared claim")
        .expect("work");
    assert_eq!(claim.tasks.len(), 4);
    let after = store.list_queue_shares().await.expect("shares");
    let pass = |shares: &[orchestore_domain::QueueShare]| {
        shares
            .iter()
            .find(|s| s.organization_id == claim.organization_id)
            .map(|s| (s.pass, s.share.get()))
            .expect("member")
    };
    let ((was, weight), (now, _)) = (pass(&before), pass(&after));
    assert!(
        (now - was - 4.0 / f64::from(weight)).abs() < 1e-9,
        "{was} -> {now}"
    );

    // The worker ends the run in the task's organization, as the fleet agent.
    let owner = if claim.organization_id == heavy.org.id {
        &heavy
    } else {
        &light
    };
    let other = if claim.organization_id == heavy.org.id {
        &light
    } else {
        &heavy
    };
    let run = &claim.tasks[0];
    assert_not_found(
        store
            .complete_task(&other.ctx, run.task.id, run.lease_token, None)
            .await,
        "task",
    );
    let done = store
        .complete_task(&owner.ctx, run.task.id, run.lease_token, None)
        .await
        .expect("complete");
    assert_eq!(done.status, TaskStatus::Succeeded);
}

/// Joining, changing and leaving the fleet: the agent must be the organization's own, each
/// change is audited in the organization, and an organization off the fleet, or whose agent
/// is inactive, is not served.
pub async fn organizations_join_and_leave_the_shared_fleet<S: Store + ?Sized>(store: &S) {
    let (acme, acme_agent) = member(store, "acme", 3, 1).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let theirs = worker(store, &other.ctx, "theirs", &[]).await;

    assert_reference(
        store
            .set_queue_share(acme.org.id, theirs.id, share(2))
            .await,
        "agent_id",
    );
    assert_not_found(
        store
            .set_queue_share(OrganizationId::new(), theirs.id, share(2))
            .await,
        "organization",
    );
    assert!(QueueShareWeight::parse(0).is_err());
    assert!(QueueShareWeight::parse(1001).is_err());

    // A new member starts level with the lowest pass, not owed what others took before.
    served(store, 2).await;
    let mine = store
        .set_queue_share(other.org.id, theirs.id, share(2))
        .await
        .expect("join");
    let members = store.list_queue_shares().await.expect("list");
    assert_eq!(members.len(), 2);
    assert_eq!(mine.pass, 2.0, "{members:?}");
    // Level with acme, and not served yet: it comes first.
    assert_eq!(members[0].organization_id, other.org.id, "{members:?}");
    let changed = store
        .set_queue_share(acme.org.id, acme_agent.id, share(5))
        .await
        .expect("change");
    assert_eq!(changed.share.get(), 5);
    assert_eq!(changed.pass, 2.0);
    let audit = store
        .list_audit(&acme.ctx, AuditFilter::default(), PageRequest::default())
        .await
        .expect("audit");
    let actions: Vec<&str> = audit
        .items
        .iter()
        .map(|row| row.action.as_str())
        .filter(|action| action.starts_with("queue_share."))
        .collect();
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(actions.contains(&"queue_share.create"), "{actions:?}");
    assert!(actions.contains(&"queue_share.update"), "{actions:?}");

    // `other` has no work; an inactive agent's organization is passed over.
    let inactive = AgentPatch {
        status: Some(AgentStatus::Inactive),
        ..AgentPatch::default()
    };
    store
        .update_agent(&acme.ctx, acme_agent.id, inactive, None)
        .await
        .expect("deactivate");
    assert_eq!(
        store.claim_shared_tasks(shared(1)).await.expect("claim"),
        None
    );
    let active = AgentPatch {
        status: Some(AgentStatus::Active),
        ..AgentPatch::default()
    };
    store
        .update_agent(&acme.ctx, acme_agent.id, active, None)
        .await
        .expect("reactivate");
    store.remove_queue_share(acme.org.id).await.expect("leave");
    assert_eq!(
        store.claim_shared_tasks(shared(1)).await.expect("claim"),
        None
    );
    assert_not_found(store.remove_queue_share(acme.org.id).await, "queue_share");
    let left = store.list_queue_shares().await.expect("list");
    assert_eq!(left.len(), 1);
    // Its tasks stay, for its own workers.
    let stats = store.queue_stats(&acme.ctx).await.expect("stats");
    assert_eq!(stats.queued, 1, "{stats:?}");
}

/// Concurrent shared claimers never take one task twice, and every task they take is counted
/// in its organization's pass.
pub async fn concurrent_shared_claims_take_each_task_once<S: Store + ?Sized>(store: &S) {
    member(store, "north", 20, 1).await;
    member(store, "south", 20, 1).await;
    let claim = || store.claim_shared_tasks(shared(3));
    let (a, b, c, d) = tokio::join!(claim(), claim(), claim(), claim());
    let mut ids = Vec::new();
    for claim in [a, b, c, d] {
        let claim = claim.expect("claim").expect("work");
        ids.extend(claim.tasks.iter().map(|t| t.task.id));
    }
    assert_eq!(ids.len(), 12);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "no task claimed twice");
    let passes: f64 = store
        .list_queue_shares()
        .await
        .expect("list")
        .iter()
        .map(|s| s.pass)
        .sum();
    assert!((passes - 12.0).abs() < 1e-9, "{passes}");
    assert!(matches!(
        store.remove_queue_share(OrganizationId::new()).await,
        Err(RepoError::NotFound { .. })
    ));
}

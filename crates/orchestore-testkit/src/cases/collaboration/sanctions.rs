//! Rewards and penalties: redemption once, grants and suspensions the permissions follow,
//! appeals that give back what a penalty took, the sweep, the counts.

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use orchestore_domain::{
    AppealDecision, AppealOutcome, AppealStatus, BadgeName, Evidence, NewAppeal, NewPenalty,
    NewReward, NewViolation, Participant, PenaltyAction, PenaltyStatus, Permission,
    PermissionPeriod, PointAmount, Redemption, RewardStatus, RewardValue, RuleName, SanctionReason,
    Severity, SystemRole,
};
use orchestore_repo::{
    Actor, AppealFilter, Ctx, Limit, PageRequest, PenaltyFilter, PointAwardFilter, Redeemer,
    RepoResult, RewardFilter, Store, ViolationFilter,
};

use super::{Boxed, agent, all_at_once, award};
use crate::Fixture;
use crate::cases::{
    PASSWORD, assert_conflict, assert_invalid, assert_not_found, assert_reference, new_user,
};

fn reason(text: &str) -> SanctionReason {
    SanctionReason::parse(text).expect("reason")
}

fn reward(recipient: impl Into<Participant>, value: RewardValue) -> NewReward {
    NewReward {
        recipient: recipient.into(),
        value,
        reason: reason("shipped the release"),
        expires_at: None,
    }
}

fn points(n: i64) -> RewardValue {
    RewardValue::points(PointAmount::parse(n).expect("points")).expect("positive")
}

fn permission(permission: Permission, seconds: i64) -> RewardValue {
    RewardValue::permission(
        permission,
        PermissionPeriod::parse_seconds(seconds).expect("period"),
    )
}

fn violation(offender: impl Into<Participant>) -> NewViolation {
    NewViolation {
        offender: offender.into(),
        rule: RuleName::parse("no force pushes").expect("rule"),
        severity: Severity::High,
        evidence: Evidence::parse("git log:\nforced update of main").expect("evidence"),
    }
}

fn suspension(permission: Permission, seconds: i64) -> PenaltyAction {
    PenaltyAction::Suspension {
        permission,
        period: PermissionPeriod::parse_seconds(seconds).expect("period"),
    }
}

fn deduction(n: i64) -> PenaltyAction {
    PenaltyAction::points(PointAmount::parse(n).expect("points")).expect("positive")
}

fn decision(outcome: AppealOutcome) -> AppealDecision {
    AppealDecision {
        outcome,
        reason: reason("the log shows a revert, not a force push"),
    }
}

/// The context of `holder` acting itself.
fn as_holder(fixture: &Fixture, holder: Participant) -> Ctx {
    let actor = match holder {
        Participant::Agent(id) => Actor::Agent(id),
        Participant::User(id) => Actor::User(id),
    };
    Ctx::new(fixture.org.id, actor)
}

async fn ledger_len<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> usize {
    store
        .list_point_awards(
            ctx,
            PointAwardFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("ledger")
        .items
        .len()
}

pub async fn a_reward_is_redeemed_once_by_its_recipient<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let as_ada = as_holder(&acme, ada.id.into());
    let bonus = store
        .allocate_reward(ctx, reward(ada.id, points(50)))
        .await
        .expect("allocate");
    assert_eq!(bonus.status, RewardStatus::Allocated);

    // Another holder may not redeem it; the recipient does, once.
    assert_invalid(
        store
            .redeem_reward(ctx, bonus.id, Redeemer::Recipient)
            .await,
        "reward_id",
    );
    let Redemption {
        reward: redeemed,
        point_award,
        grant,
    } = store
        .redeem_reward(&as_ada, bonus.id, Redeemer::Recipient)
        .await
        .expect("redeem");
    assert_eq!(redeemed.status, RewardStatus::Redeemed);
    assert_eq!(
        redeemed.redeemed_by.as_deref(),
        Some(&*format!("agent:{}", ada.id))
    );
    assert_eq!(point_award.map(|a| a.points), Some(50));
    assert!(grant.is_none());
    let entries = ledger_len(store, ctx).await;
    assert_conflict(
        store
            .redeem_reward(&as_ada, bonus.id, Redeemer::Recipient)
            .await,
        None,
    );
    assert_conflict(
        store
            .redeem_reward(ctx, bonus.id, Redeemer::Administrator)
            .await,
        None,
    );
    let standing = store
        .get_standing(ctx, ada.id.into())
        .await
        .expect("standing");
    assert_eq!(standing.points, 50, "the second redemption added nothing");
    assert_eq!(ledger_len(store, ctx).await, entries, "nothing written");

    // Eight redemptions at once: exactly one wins.
    let badge = store
        .allocate_reward(
            ctx,
            reward(
                ada.id,
                RewardValue::badge(BadgeName::parse("first release").expect("badge")),
            ),
        )
        .await
        .expect("allocate");
    let racers: Vec<Boxed<'_, RepoResult<Redemption>>> = (0..8)
        .map(|_| {
            Box::pin(store.redeem_reward(&as_ada, badge.id, Redeemer::Recipient)) as Boxed<'_, _>
        })
        .collect();
    let outcomes = all_at_once(racers).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1);
    for outcome in outcomes.into_iter().filter(Result::is_err) {
        assert_conflict(outcome, None);
    }

    // An allocation must be redeemed by its `expires_at`; the sweep marks it expired.
    let mut late = reward(ada.id, points(5));
    late.expires_at = Some(Utc::now() - Duration::seconds(1));
    assert_invalid(store.allocate_reward(ctx, late.clone()).await, "expires_at");
    late.expires_at = Some(Utc::now() + Duration::milliseconds(700));
    let late = store.allocate_reward(ctx, late).await.expect("allocate");
    tokio::time::sleep(StdDuration::from_millis(900)).await;
    assert_conflict(
        store
            .redeem_reward(&as_ada, late.id, Redeemer::Recipient)
            .await,
        None,
    );
    let swept = store.expire_sanctions(ctx).await.expect("sweep");
    assert_eq!(swept.rewards_expired, 1);
    assert_eq!(
        store.get_reward(ctx, late.id).await.expect("get").status,
        RewardStatus::Expired
    );
    let allocated = store
        .list_rewards(
            ctx,
            RewardFilter {
                recipient: Some(ada.id.into()),
                status: Some(RewardStatus::Redeemed),
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(allocated.items.len(), 2);
    assert_reference(
        store
            .allocate_reward(ctx, reward(orchestore_domain::AgentId::new(), points(1)))
            .await,
        "recipient",
    );
    assert_not_found(
        store
            .get_reward(ctx, orchestore_domain::RewardId::new())
            .await,
        "reward",
    );
}

pub async fn granted_permissions_count_until_they_expire<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let before = store
        .effective_permissions(ctx, ada.id.into())
        .await
        .expect("permissions");
    assert!(!before.permissions.contains(&Permission::CollaborationWrite));
    assert_eq!(before.changes_at, None);

    let long = store
        .allocate_reward(
            ctx,
            reward(ada.id, permission(Permission::AgentsWrite, 3600)),
        )
        .await
        .expect("allocate");
    let short = store
        .allocate_reward(
            ctx,
            reward(ada.id, permission(Permission::CollaborationWrite, 1)),
        )
        .await
        .expect("allocate");
    for id in [long.id, short.id] {
        let grant = store
            .redeem_reward(ctx, id, Redeemer::Administrator)
            .await
            .expect("redeem")
            .grant
            .expect("a grant");
        assert_eq!(grant.holder, Participant::Agent(ada.id));
    }
    let granted = store
        .effective_permissions(ctx, ada.id.into())
        .await
        .expect("permissions");
    assert!(
        granted
            .permissions
            .contains(&Permission::CollaborationWrite)
    );
    assert!(granted.permissions.contains(&Permission::AgentsWrite));
    assert!(
        granted
            .changes_at
            .is_some_and(|at| at < Utc::now() + Duration::seconds(2))
    );

    // Past its end a grant is not honoured, swept or not; the sweep marks it.
    tokio::time::sleep(StdDuration::from_millis(1200)).await;
    let after = store
        .effective_permissions(ctx, ada.id.into())
        .await
        .expect("permissions");
    assert!(!after.permissions.contains(&Permission::CollaborationWrite));
    assert!(after.permissions.contains(&Permission::AgentsWrite));
    let swept = store.expire_sanctions(ctx).await.expect("sweep");
    assert_eq!(swept.grants_expired, 1);
    assert!(store.expire_sanctions(ctx).await.expect("sweep").is_empty());
    let held = store
        .holder_sanctions(ctx, ada.id.into())
        .await
        .expect("sanctions");
    assert_eq!(held.active_grants.len(), 1);
    assert_eq!(held.active_grants[0].permission, Permission::AgentsWrite);

    // A user's grant shows in what their roles give them.
    let viewer = store
        .create_user(ctx, new_user("viewer@acme.test", vec![SystemRole::Viewer]))
        .await
        .expect("viewer");
    let gift = store
        .allocate_reward(
            ctx,
            reward(viewer.id, permission(Permission::TasksWrite, 3600)),
        )
        .await
        .expect("allocate");
    store
        .redeem_reward(
            &as_holder(&acme, viewer.id.into()),
            gift.id,
            Redeemer::Recipient,
        )
        .await
        .expect("redeem");
    let permissions = store
        .user_permissions(ctx, viewer.id)
        .await
        .expect("permissions");
    assert!(permissions.contains(&Permission::TasksWrite));
    assert_not_found(
        store
            .effective_permissions(ctx, orchestore_domain::AgentId::new().into())
            .await,
        "agent",
    );
}

pub async fn an_overturned_appeal_restores_what_the_penalty_took<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let as_ada = as_holder(&acme, ada.id.into());
    store
        .award_points(ctx, award(ada.id, 100))
        .await
        .expect("award");
    let broke = store
        .record_violation(ctx, violation(ada.id))
        .await
        .expect("violation");
    assert_eq!(broke.reported_by, format!("user:{}", acme.owner.id));
    let fine = store
        .apply_penalty(
            ctx,
            NewPenalty {
                violation_id: broke.id,
                action: deduction(30),
                reason: reason("force push"),
            },
        )
        .await
        .expect("penalty");
    let suspended = store
        .apply_penalty(
            ctx,
            NewPenalty {
                violation_id: broke.id,
                action: suspension(Permission::TasksWrite, 3600),
                reason: reason("no pushing for an hour"),
            },
        )
        .await
        .expect("suspension");
    let standing = store
        .get_standing(ctx, ada.id.into())
        .await
        .expect("standing");
    assert_eq!((standing.points, standing.experience), (70, 100));
    let effective = store
        .effective_permissions(ctx, ada.id.into())
        .await
        .expect("permissions");
    assert!(!effective.permissions.contains(&Permission::TasksWrite));
    assert!(effective.changes_at.is_some());

    // Only the penalised holder appeals, once at a time.
    assert_invalid(
        store
            .file_appeal(
                ctx,
                NewAppeal {
                    penalty_id: fine.id,
                    reason: reason("not me"),
                },
            )
            .await,
        "penalty_id",
    );
    let mut appeals = Vec::new();
    for penalty in [fine.id, suspended.id] {
        let appeal = store
            .file_appeal(
                &as_ada,
                NewAppeal {
                    penalty_id: penalty,
                    reason: reason("it was a revert"),
                },
            )
            .await
            .expect("appeal");
        assert_eq!(appeal.status, AppealStatus::Open);
        appeals.push(appeal);
    }
    assert_conflict(
        store
            .file_appeal(
                &as_ada,
                NewAppeal {
                    penalty_id: fine.id,
                    reason: reason("again"),
                },
            )
            .await,
        None,
    );

    // Overturned: the points come back and the permission counts again.
    let entries = ledger_len(store, ctx).await;
    for appeal in &appeals {
        let decided = store
            .decide_appeal(ctx, appeal.id, decision(AppealOutcome::Overturned))
            .await
            .expect("decide");
        assert_eq!(decided.status, AppealStatus::Overturned);
        assert_eq!(decided.reviewer, Some(format!("user:{}", acme.owner.id)));
    }
    let standing = store
        .get_standing(ctx, ada.id.into())
        .await
        .expect("standing");
    assert_eq!(
        standing.points, 100,
        "back to the points before the penalty"
    );
    assert_eq!(ledger_len(store, ctx).await, entries + 1);
    let effective = store
        .effective_permissions(ctx, ada.id.into())
        .await
        .expect("permissions");
    assert!(effective.permissions.contains(&Permission::TasksWrite));
    let fine = store.get_penalty(ctx, fine.id).await.expect("penalty");
    assert_eq!(fine.status, PenaltyStatus::Overturned);
    assert!(fine.restored_award_id.is_some());

    // A decided appeal is not decided again; an overturned penalty is not appealed again.
    assert_conflict(
        store
            .decide_appeal(ctx, appeals[0].id, decision(AppealOutcome::Upheld))
            .await,
        None,
    );
    assert_conflict(
        store
            .file_appeal(
                &as_ada,
                NewAppeal {
                    penalty_id: fine.id,
                    reason: reason("once more"),
                },
            )
            .await,
        None,
    );
    assert_eq!(
        store
            .get_standing(ctx, ada.id.into())
            .await
            .expect("standing")
            .points,
        100,
        "nothing written by the refused calls"
    );

    // Upheld: the penalty stands.
    let again = store
        .apply_penalty(
            ctx,
            NewPenalty {
                violation_id: broke.id,
                action: deduction(10),
                reason: reason("second force push"),
            },
        )
        .await
        .expect("penalty");
    let appeal = store
        .file_appeal(
            &as_ada,
            NewAppeal {
                penalty_id: again.id,
                reason: reason("please"),
            },
        )
        .await
        .expect("appeal");
    store
        .decide_appeal(ctx, appeal.id, decision(AppealOutcome::Upheld))
        .await
        .expect("decide");
    assert_eq!(
        store
            .get_standing(ctx, ada.id.into())
            .await
            .expect("standing")
            .points,
        90
    );
    assert_eq!(
        store
            .get_penalty(ctx, again.id)
            .await
            .expect("penalty")
            .status,
        PenaltyStatus::Applied
    );
    let listed = store
        .list_appeals(
            ctx,
            AppealFilter {
                status: Some(AppealStatus::Overturned),
                ..AppealFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("appeals");
    assert_eq!(listed.items.len(), 2);
    assert_reference(
        store
            .apply_penalty(
                ctx,
                NewPenalty {
                    violation_id: orchestore_domain::ViolationId::new(),
                    action: deduction(1),
                    reason: reason("ghost"),
                },
            )
            .await,
        "violation_id",
    );
    assert_reference(
        store
            .file_appeal(
                &as_ada,
                NewAppeal {
                    penalty_id: orchestore_domain::PenaltyId::new(),
                    reason: reason("ghost"),
                },
            )
            .await,
        "penalty_id",
    );
}

pub async fn suspensions_end_by_themselves_and_are_swept<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let dev = store
        .create_user(ctx, new_user("dev@acme.test", vec![SystemRole::Developer]))
        .await
        .expect("developer");
    let broke = store
        .record_violation(ctx, violation(dev.id))
        .await
        .expect("violation");
    store
        .apply_penalty(
            ctx,
            NewPenalty {
                violation_id: broke.id,
                action: suspension(Permission::TasksWrite, 1),
                reason: reason("cool off"),
            },
        )
        .await
        .expect("suspension");
    let during = store
        .user_permissions(ctx, dev.id)
        .await
        .expect("permissions");
    assert!(!during.contains(&Permission::TasksWrite));
    assert!(during.contains(&Permission::TasksRead));
    let held = store
        .holder_sanctions(ctx, dev.id.into())
        .await
        .expect("sanctions");
    assert_eq!(held.active_suspensions.len(), 1);

    tokio::time::sleep(StdDuration::from_millis(1200)).await;
    let after = store
        .user_permissions(ctx, dev.id)
        .await
        .expect("permissions");
    assert!(
        after.contains(&Permission::TasksWrite),
        "the period is over"
    );
    let orgs = store
        .organizations_with_ended_sanctions(100)
        .await
        .expect("organizations");
    assert!(orgs.contains(&acme.org.id));
    let swept = store.expire_sanctions(ctx).await.expect("sweep");
    assert_eq!(swept.suspensions_ended, 1);
    let penalties = store
        .list_penalties(
            ctx,
            PenaltyFilter {
                holder: Some(dev.id.into()),
                ..PenaltyFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("penalties");
    assert_eq!(penalties.items[0].status, PenaltyStatus::Ended);
    assert!(penalties.items[0].ended_at.is_some());
}

pub async fn sanctions_are_counted_per_organization_and_holder<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    for (holder, value) in [
        (ada.id, points(10)),
        (ada.id, permission(Permission::TasksWrite, 60)),
        (bob.id, points(3)),
    ] {
        store
            .allocate_reward(ctx, reward(holder, value))
            .await
            .expect("allocate");
    }
    let broke = store
        .record_violation(ctx, violation(ada.id))
        .await
        .expect("violation");
    let mut minor = violation(bob.id);
    minor.severity = Severity::Low;
    store.record_violation(ctx, minor).await.expect("violation");
    let fine = store
        .apply_penalty(
            ctx,
            NewPenalty {
                violation_id: broke.id,
                action: deduction(7),
                reason: reason("late"),
            },
        )
        .await
        .expect("penalty");
    let appeal = store
        .file_appeal(
            &as_holder(&acme, ada.id.into()),
            NewAppeal {
                penalty_id: fine.id,
                reason: reason("was not late"),
            },
        )
        .await
        .expect("appeal");
    store
        .decide_appeal(ctx, appeal.id, decision(AppealOutcome::Overturned))
        .await
        .expect("decide");
    store
        .apply_penalty(
            ctx,
            NewPenalty {
                violation_id: broke.id,
                action: deduction(4),
                reason: reason("late again"),
            },
        )
        .await
        .expect("penalty");

    let summary = store.sanctions_summary(ctx).await.expect("summary");
    assert_eq!(summary.rewards_by_kind.get("points"), Some(&2));
    assert_eq!(summary.rewards_by_kind.get("badge"), Some(&0));
    assert_eq!(summary.rewards_by_status.get("allocated"), Some(&3));
    assert_eq!(summary.violations_by_severity.get("high"), Some(&1));
    assert_eq!(summary.violations_by_severity.get("low"), Some(&1));
    assert_eq!(summary.violations_by_severity.get("critical"), Some(&0));
    assert_eq!(summary.penalties_by_kind.get("points"), Some(&2));
    assert_eq!(summary.penalties_by_status.get("overturned"), Some(&1));
    assert_eq!(summary.appeals_by_status.get("overturned"), Some(&1));
    assert_eq!((summary.points_deducted, summary.points_restored), (11, 7));

    let held = store
        .holder_sanctions(ctx, ada.id.into())
        .await
        .expect("sanctions");
    assert_eq!(held.rewards_by_status.get("allocated"), Some(&2));
    assert_eq!(held.violations, 1);
    assert_eq!(held.penalties_by_status.get("applied"), Some(&1));
    assert_eq!((held.points_deducted, held.points_restored), (11, 7));
    assert!(held.active_grants.is_empty() && held.active_suspensions.is_empty());
    let violations = store
        .list_violations(
            ctx,
            ViolationFilter {
                severity: Some(Severity::Low),
                ..ViolationFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("violations");
    assert_eq!(violations.items.len(), 1);
    assert_not_found(
        store
            .holder_sanctions(ctx, orchestore_domain::UserId::new().into())
            .await,
        "user",
    );
}

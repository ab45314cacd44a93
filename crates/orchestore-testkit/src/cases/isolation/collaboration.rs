//! Points, matches and ranks; rewards and penalties; achievements and snapshots.

use std::collections::BTreeMap;

use orchestore_domain::{
    AchievementDefinition, Appeal, AppealDecision, AppealOutcome, BadgeName, Evidence,
    HallOfFameTop, LeaderboardWeights, NewAchievement, NewAppeal, NewPenalty, NewReward,
    NewViolation, Penalty, PenaltyAction, Reward, RewardValue, RuleName, SanctionReason, Severity,
    SnapshotBoard, Violation,
};
use orchestore_domain::{
    LeaderboardKind, LeaderboardPeriod, Match, MatchSubject, NewMatch, NewPointAward,
    NewReputationEvent, Placements, PointAmount, PointAward, PointReason, PointSource,
    RankSettings, ReputationDelta, ReputationDimension, ReputationReason,
};
use orchestore_repo::{
    Actor, AppealFilter, Ctx, LeaderboardQuery, PenaltyFilter, PointAwardFilter, Redeemer,
    RewardFilter, ViolationFilter,
};
use orchestore_repo::{HallOfFameQuery, SnapshotFilter};

use crate::cases::collaboration::definition;

use super::*;

/// What the case's organization holds of this aggregate.
pub(super) struct CollaborationHoldings {
    award: PointAward,
    rival: Agent,
    open_match: Match,
    /// A badge allocated to the agent, a violation of the agent's with a points penalty, and
    /// the agent's open appeal of it.
    reward: Reward,
    violation: Violation,
    penalty: Penalty,
    appeal: Appeal,
    definition: AchievementDefinition,
    snapshot: SnapshotBoard,
}

fn sanction_reason() -> SanctionReason {
    SanctionReason::parse("reviewed").expect("reason")
}

fn badge(holder: Participant) -> NewReward {
    NewReward {
        recipient: holder,
        value: RewardValue::badge(BadgeName::parse("helper").expect("badge")),
        reason: sanction_reason(),
        expires_at: None,
    }
}

fn violation(holder: Participant) -> NewViolation {
    NewViolation {
        offender: holder,
        rule: RuleName::parse("be kind").expect("rule"),
        severity: Severity::Low,
        evidence: Evidence::parse("a rude message").expect("evidence"),
    }
}

fn penalty(violation: Violation) -> NewPenalty {
    NewPenalty {
        violation_id: violation.id,
        action: PenaltyAction::points(PointAmount::parse(1).expect("points")).expect("points"),
        reason: sanction_reason(),
    }
}

fn award(holder: Participant) -> NewPointAward {
    NewPointAward {
        holder,
        points: PointAmount::parse(10).expect("points"),
        reason: PointReason::parse("helped").expect("reason"),
        source: PointSource::parse("review").expect("source"),
    }
}

fn challenge() -> MatchSubject {
    MatchSubject::challenge("sorting").expect("challenge")
}

impl CollaborationHoldings {
    pub(super) async fn create<S: Store + ?Sized>(store: &S, ctx: &Ctx, agent: &Agent) -> Self {
        let award = store
            .award_points(ctx, award(Participant::Agent(agent.id)))
            .await
            .expect("award");
        let rival = store
            .create_agent(
                ctx,
                NewAgent::named(Name::parse("name", "rival").expect("name"), AgentKind::Ai),
            )
            .await
            .expect("rival");
        let open_match = store
            .create_match(
                ctx,
                NewMatch::new(challenge(), vec![agent.id, rival.id]).expect("match"),
            )
            .await
            .expect("match");
        let reward = store
            .allocate_reward(ctx, badge(Participant::Agent(agent.id)))
            .await
            .expect("reward");
        let violation = store
            .record_violation(ctx, violation(Participant::Agent(agent.id)))
            .await
            .expect("violation");
        let penalty = store
            .apply_penalty(ctx, penalty(violation.clone()))
            .await
            .expect("penalty");
        let appeal = store
            .file_appeal(
                &Ctx::new(ctx.org(), Actor::Agent(agent.id)),
                NewAppeal {
                    penalty_id: penalty.id,
                    reason: sanction_reason(),
                },
            )
            .await
            .expect("appeal");
        let definition = store
            .create_achievement_definition(ctx, definition("first-review", 5))
            .await
            .expect("definition");
        store
            .award_achievement(
                ctx,
                NewAchievement {
                    definition_id: definition.id,
                    holder: Participant::Agent(agent.id),
                },
            )
            .await
            .expect("achievement");
        let snapshot = store
            .take_leaderboard_snapshot(ctx, LeaderboardKind::Combined, LeaderboardPeriod::AllTime)
            .await
            .expect("snapshot");
        Self {
            award,
            rival,
            open_match,
            reward,
            violation,
            penalty,
            appeal,
            definition,
            snapshot,
        }
    }
}

/// What the organization reads of this aggregate.
pub(super) async fn collaboration_view<S: Store + ?Sized>(store: &S, h: &Holdings) -> String {
    let ctx = &h.fixture.ctx;
    let board = |kind, period| LeaderboardQuery {
        kind,
        period,
        as_of: Utc::now(),
        limit: Limit::default(),
    };
    format!(
        "{:?}",
        (
            store
                .get_standing(ctx, Participant::Agent(h.agent.id))
                .await,
            store
                .list_point_awards(ctx, PointAwardFilter::default(), all())
                .await,
            store.get_match(ctx, h.points.open_match.id).await,
            store.rating_history(ctx, h.agent.id, all()).await,
            store.get_rank_settings(ctx).await,
            store.list_reputation_events(ctx, h.agent.id, all()).await,
            (
                store.get_reward(ctx, h.points.reward.id).await,
                store
                    .list_rewards(ctx, RewardFilter::default(), all())
                    .await,
                store
                    .effective_permissions(ctx, Participant::Agent(h.agent.id))
                    .await,
                store.get_violation(ctx, h.points.violation.id).await,
                store
                    .list_violations(ctx, ViolationFilter::default(), all())
                    .await,
                store.get_penalty(ctx, h.points.penalty.id).await,
                store
                    .list_penalties(ctx, PenaltyFilter::default(), all())
                    .await,
                store.get_appeal(ctx, h.points.appeal.id).await,
                store
                    .list_appeals(ctx, AppealFilter::default(), all())
                    .await,
                store.sanctions_summary(ctx).await,
                store
                    .holder_sanctions(ctx, Participant::Agent(h.agent.id))
                    .await,
            ),
            store
                .leaderboard(
                    ctx,
                    board(LeaderboardKind::Points, LeaderboardPeriod::AllTime)
                )
                .await,
            store
                .leaderboard(
                    ctx,
                    board(LeaderboardKind::Rating, LeaderboardPeriod::AllTime)
                )
                .await,
        )
    ) + &format!(
        "{:?}",
        (
            store.list_achievement_definitions(ctx, all()).await,
            // The reputation in a summary is read as of now: the rest of it.
            store
                .holder_summary(ctx, Participant::Agent(h.agent.id))
                .await
                .map(|summary| (summary.standing, summary.achievements)),
            store.get_leaderboard_weights(ctx).await,
            store
                .list_leaderboard_snapshots(ctx, SnapshotFilter::default(), all())
                .await,
            store
                .get_leaderboard_snapshot(ctx, h.points.snapshot.snapshot.id)
                .await,
            store.hall_of_fame(ctx, fame()).await,
            store
                .leaderboard(
                    ctx,
                    board(LeaderboardKind::Combined, LeaderboardPeriod::AllTime)
                )
                .await,
        )
    )
}

fn fame() -> HallOfFameQuery {
    HallOfFameQuery {
        kind: LeaderboardKind::Combined,
        period: LeaderboardPeriod::AllTime,
        top: HallOfFameTop::default(),
        limit: Limit::default(),
    }
}

pub(super) async fn check_collaboration<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    c.reference(
        "award_points",
        "holder",
        store
            .award_points(ctx, award(Participant::Agent(a.agent.id)))
            .await,
    );
    c.reference(
        "award_points",
        "holder",
        store
            .award_points(ctx, award(Participant::User(a.fixture.owner.id)))
            .await,
    );
    c.not_found(
        "get_point_award",
        store.get_point_award(ctx, a.points.award.id).await,
    );
    c.clean(
        "list_point_awards",
        store
            .list_point_awards(
                ctx,
                PointAwardFilter {
                    holder: Some(Participant::Agent(a.agent.id)),
                },
                all(),
            )
            .await,
    );
    c.not_found(
        "get_standing",
        store
            .get_standing(ctx, Participant::Agent(a.agent.id))
            .await,
    );
    c.reference(
        "create_match",
        "agents",
        store
            .create_match(
                ctx,
                NewMatch::new(challenge(), vec![a.agent.id, b.agent.id]).expect("match"),
            )
            .await,
    );
    c.not_found(
        "get_match",
        store.get_match(ctx, a.points.open_match.id).await,
    );
    let places = Placements::parse(BTreeMap::from([(a.agent.id, 1), (a.points.rival.id, 2)]))
        .expect("placements");
    c.not_found(
        "record_match_result",
        store
            .record_match_result(ctx, a.points.open_match.id, places)
            .await,
    );
    c.not_found(
        "rating_history",
        store.rating_history(ctx, a.agent.id, all()).await,
    );
    let feedback = NewReputationEvent {
        agent_id: a.agent.id,
        dimension: ReputationDimension::Trust,
        delta: ReputationDelta::parse(5).expect("delta"),
        reason: ReputationReason::parse("helpful").expect("reason"),
        task_id: None,
    };
    c.reference(
        "record_reputation_event",
        "agent_id",
        store.record_reputation_event(ctx, feedback).await,
    );
    c.reference(
        "record_task_outcome",
        "task_id",
        store
            .record_task_outcome(ctx, b.agent.id, a.task.id, true)
            .await,
    );
    c.reference(
        "record_task_outcome",
        "agent_id",
        store
            .record_task_outcome(ctx, a.agent.id, b.task.id, true)
            .await,
    );
    // B's feeder reads B's history only: none of A's endings (or ids) comes back.
    c.clean(
        "feed_task_outcomes",
        store.feed_task_outcomes(ctx, 100).await,
    );
    c.unscoped("organizations_with_task_outcomes_to_feed");
    c.not_found(
        "get_reputation",
        store.get_reputation(ctx, a.agent.id, Utc::now()).await,
    );
    c.not_found(
        "list_reputation_events",
        store.list_reputation_events(ctx, a.agent.id, all()).await,
    );
    let a_agent = Participant::Agent(a.agent.id);
    c.reference(
        "allocate_reward",
        "recipient",
        store.allocate_reward(ctx, badge(a_agent)).await,
    );
    c.not_found(
        "get_reward",
        store.get_reward(ctx, a.points.reward.id).await,
    );
    c.clean(
        "list_rewards",
        store
            .list_rewards(
                ctx,
                RewardFilter {
                    recipient: Some(a_agent),
                    status: None,
                },
                all(),
            )
            .await,
    );
    c.not_found(
        "redeem_reward",
        store
            .redeem_reward(ctx, a.points.reward.id, Redeemer::Administrator)
            .await,
    );
    c.not_found(
        "effective_permissions",
        store.effective_permissions(ctx, a_agent).await,
    );
    // B's sweep ends nothing of A's (A's rows are in its view).
    c.clean("expire_sanctions", store.expire_sanctions(ctx).await);
    // Names the organizations to sweep, for the server.
    c.unscoped("organizations_with_ended_sanctions");
    c.reference(
        "record_violation",
        "offender",
        store.record_violation(ctx, violation(a_agent)).await,
    );
    c.not_found(
        "get_violation",
        store.get_violation(ctx, a.points.violation.id).await,
    );
    c.clean(
        "list_violations",
        store
            .list_violations(
                ctx,
                ViolationFilter {
                    offender: Some(a_agent),
                    severity: None,
                },
                all(),
            )
            .await,
    );
    c.reference(
        "apply_penalty",
        "violation_id",
        store
            .apply_penalty(ctx, penalty(a.points.violation.clone()))
            .await,
    );
    c.not_found(
        "get_penalty",
        store.get_penalty(ctx, a.points.penalty.id).await,
    );
    c.clean(
        "list_penalties",
        store
            .list_penalties(
                ctx,
                PenaltyFilter {
                    holder: Some(a_agent),
                    violation_id: Some(a.points.violation.id),
                },
                all(),
            )
            .await,
    );
    c.reference(
        "file_appeal",
        "penalty_id",
        store
            .file_appeal(
                ctx,
                NewAppeal {
                    penalty_id: a.points.penalty.id,
                    reason: sanction_reason(),
                },
            )
            .await,
    );
    c.not_found(
        "get_appeal",
        store.get_appeal(ctx, a.points.appeal.id).await,
    );
    c.clean(
        "list_appeals",
        store
            .list_appeals(
                ctx,
                AppealFilter {
                    penalty_id: Some(a.points.penalty.id),
                    status: None,
                },
                all(),
            )
            .await,
    );
    c.not_found(
        "decide_appeal",
        store
            .decide_appeal(
                ctx,
                a.points.appeal.id,
                AppealDecision {
                    outcome: AppealOutcome::Overturned,
                    reason: sanction_reason(),
                },
            )
            .await,
    );
    c.clean("sanctions_summary", store.sanctions_summary(ctx).await);
    c.not_found(
        "holder_sanctions",
        store.holder_sanctions(ctx, a_agent).await,
    );
    c.clean("get_rank_settings", store.get_rank_settings(ctx).await);
    c.clean(
        "set_rank_settings",
        store
            .set_rank_settings(ctx, RankSettings::default(), None)
            .await,
    );
    for (kind, period) in [
        (LeaderboardKind::Points, LeaderboardPeriod::AllTime),
        (LeaderboardKind::Points, LeaderboardPeriod::Week),
        (LeaderboardKind::Rating, LeaderboardPeriod::AllTime),
    ] {
        let query = LeaderboardQuery {
            kind,
            period,
            as_of: Utc::now(),
            limit: Limit::default(),
        };
        c.clean("leaderboard", store.leaderboard(ctx, query).await);
    }

    c.clean(
        "create_achievement_definition",
        store
            .create_achievement_definition(ctx, definition("second-review", 5))
            .await,
    );
    c.not_found(
        "get_achievement_definition",
        store
            .get_achievement_definition(ctx, a.points.definition.id)
            .await,
    );
    c.clean(
        "list_achievement_definitions",
        store.list_achievement_definitions(ctx, all()).await,
    );
    c.reference(
        "award_achievement",
        "definition_id",
        store
            .award_achievement(
                ctx,
                NewAchievement {
                    definition_id: a.points.definition.id,
                    holder: Participant::Agent(b.agent.id),
                },
            )
            .await,
    );
    c.reference(
        "award_achievement",
        "holder",
        store
            .award_achievement(
                ctx,
                NewAchievement {
                    definition_id: b.points.definition.id,
                    holder: Participant::Agent(a.agent.id),
                },
            )
            .await,
    );
    c.not_found(
        "holder_summary",
        store
            .holder_summary(ctx, Participant::Agent(a.agent.id))
            .await,
    );
    c.not_found(
        "holder_summary",
        store
            .holder_summary(ctx, Participant::User(a.fixture.owner.id))
            .await,
    );
    c.clean(
        "get_leaderboard_weights",
        store.get_leaderboard_weights(ctx).await,
    );
    c.clean(
        "set_leaderboard_weights",
        store
            .set_leaderboard_weights(ctx, LeaderboardWeights::default(), None)
            .await,
    );
    for kind in [LeaderboardKind::Reputation, LeaderboardKind::Combined] {
        let query = LeaderboardQuery {
            kind,
            period: LeaderboardPeriod::AllTime,
            as_of: Utc::now(),
            limit: Limit::default(),
        };
        c.clean("leaderboard", store.leaderboard(ctx, query).await);
        c.clean(
            "take_leaderboard_snapshot",
            store
                .take_leaderboard_snapshot(ctx, kind, LeaderboardPeriod::AllTime)
                .await,
        );
    }
    c.clean(
        "take_scheduled_snapshots",
        store
            .take_scheduled_snapshots(ctx, std::time::Duration::from_secs(3600))
            .await,
    );
    // Names the organizations due for their scheduled snapshots, for the server.
    c.unscoped("organizations_due_for_snapshots");
    c.clean(
        "list_leaderboard_snapshots",
        store
            .list_leaderboard_snapshots(ctx, SnapshotFilter::default(), all())
            .await,
    );
    c.not_found(
        "get_leaderboard_snapshot",
        store
            .get_leaderboard_snapshot(ctx, a.points.snapshot.snapshot.id)
            .await,
    );
    c.clean("hall_of_fame", store.hall_of_fame(ctx, fame()).await);
}

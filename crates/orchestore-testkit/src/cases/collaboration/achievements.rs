//! Achievements: defined once per code, awarded once per holder with their points; the
//! summary of a holder.

use orchestore_domain::{
    Achievement, AchievementCode, AchievementDefinition, AchievementDefinitionId,
    AchievementDescription, AchievementName, AchievementPoints, AgentId, Metadata, NewAchievement,
    NewAchievementDefinition, NewReputationEvent, Participant, ReputationDelta,
    ReputationDimension, ReputationReason,
};
use orchestore_repo::{Ctx, PageRequest, PointAwardFilter, RepoError, RepoResult, Store};
use serde_json::json;

use super::{Boxed, agent, all_at_once, award};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_conflict, assert_not_found, assert_reference};

pub(crate) fn definition(code: &str, points: i64) -> NewAchievementDefinition {
    NewAchievementDefinition {
        code: AchievementCode::parse(code).expect("code"),
        name: AchievementName::parse("First review").expect("name"),
        description: AchievementDescription::parse("Reviewed a first pull request")
            .expect("description"),
        points: AchievementPoints::parse(points).expect("points"),
        criteria: Some(Metadata::parse("criteria", json!({"reviews": 1})).expect("criteria")),
    }
}

async fn define<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    code: &str,
    points: i64,
) -> AchievementDefinition {
    store
        .create_achievement_definition(ctx, definition(code, points))
        .await
        .expect("definition")
}

pub async fn achievements_are_awarded_once_with_their_points<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let first_review = define(store, ctx, "first-review", 25).await;
    assert_eq!(
        store
            .get_achievement_definition(ctx, first_review.id)
            .await
            .expect("get"),
        first_review
    );
    assert_conflict(
        store
            .create_achievement_definition(ctx, definition("first-review", 5))
            .await,
        Some("code"),
    );
    let badge = define(store, ctx, "badge", 0).await;
    let listed = store
        .list_achievement_definitions(ctx, PageRequest::default())
        .await
        .expect("list");
    assert_eq!(listed.items, vec![first_review.clone(), badge.clone()]);

    let earned = store
        .award_achievement(
            ctx,
            NewAchievement {
                definition_id: first_review.id,
                holder: Participant::Agent(ada.id),
            },
        )
        .await
        .expect("award");
    assert_eq!(
        (earned.code.as_str(), earned.points, earned.holder),
        ("first-review", 25, Participant::Agent(ada.id))
    );
    assert_eq!(earned.awarded_by, format!("user:{}", acme.owner.id));
    let ledger = store
        .list_point_awards(
            ctx,
            PointAwardFilter {
                holder: Some(Participant::Agent(ada.id)),
            },
            PageRequest::default(),
        )
        .await
        .expect("ledger");
    assert_eq!(ledger.items.len(), 1);
    assert_eq!(Some(ledger.items[0].id), earned.point_award_id);
    assert_eq!(
        (ledger.items[0].points, ledger.items[0].source.as_str()),
        (25, "achievement")
    );

    // The second award of the same achievement is a conflict, and writes nothing.
    assert_conflict(
        store
            .award_achievement(
                ctx,
                NewAchievement {
                    definition_id: first_review.id,
                    holder: Participant::Agent(ada.id),
                },
            )
            .await,
        None,
    );
    let standing = store
        .get_standing(ctx, Participant::Agent(ada.id))
        .await
        .expect("standing");
    assert_eq!((standing.points, standing.experience), (25, 25));
    let ledger = store
        .list_point_awards(ctx, PointAwardFilter::default(), PageRequest::default())
        .await
        .expect("ledger");
    assert_eq!(ledger.items.len(), 1);

    // Worth no points: no ledger entry. A user can earn one too.
    let owner = Participant::User(acme.owner.id);
    let plain = store
        .award_achievement(
            ctx,
            NewAchievement {
                definition_id: badge.id,
                holder: owner,
            },
        )
        .await
        .expect("award");
    assert_eq!((plain.points, plain.point_award_id), (0, None));

    assert_reference(
        store
            .award_achievement(
                ctx,
                NewAchievement {
                    definition_id: AchievementDefinitionId::new(),
                    holder: owner,
                },
            )
            .await,
        "definition_id",
    );
    assert_reference(
        store
            .award_achievement(
                ctx,
                NewAchievement {
                    definition_id: badge.id,
                    holder: Participant::Agent(AgentId::new()),
                },
            )
            .await,
        "holder",
    );
    let audit = store
        .list_audit(ctx, Default::default(), Default::default())
        .await
        .expect("audit");
    for entity in ["achievement_definition", "achievement", "point_award"] {
        assert!(
            audit.items.iter().any(|row| row.entity == entity),
            "an audit row of {entity}"
        );
    }
}

pub async fn concurrent_awards_of_one_achievement_give_it_once<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let first_review = define(store, ctx, "first-review", 25).await;
    let new = NewAchievement {
        definition_id: first_review.id,
        holder: Participant::Agent(ada.id),
    };
    let attempts: Vec<Boxed<'_, RepoResult<Achievement>>> = (0..8)
        .map(|_| Box::pin(store.award_achievement(ctx, new)) as Boxed<'_, _>)
        .collect();
    let outcomes = all_at_once(attempts).await;
    let awarded = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(awarded, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|outcome| matches!(outcome, Ok(_) | Err(RepoError::Conflict { .. }))),
        "{outcomes:?}"
    );
    let standing = store
        .get_standing(ctx, Participant::Agent(ada.id))
        .await
        .expect("standing");
    assert_eq!(standing.points, 25);
}

pub async fn a_summary_gathers_standing_achievements_and_reputation<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let first_review = define(store, ctx, "first-review", 25).await;
    store
        .award_points(ctx, award(ada.id, 10))
        .await
        .expect("points");
    let earned = store
        .award_achievement(
            ctx,
            NewAchievement {
                definition_id: first_review.id,
                holder: Participant::Agent(ada.id),
            },
        )
        .await
        .expect("award");
    store
        .record_reputation_event(
            ctx,
            NewReputationEvent {
                agent_id: ada.id,
                dimension: ReputationDimension::Quality,
                delta: ReputationDelta::parse(40).expect("delta"),
                reason: ReputationReason::parse("clean code").expect("reason"),
                task_id: None,
            },
        )
        .await
        .expect("event");

    let summary = store
        .holder_summary(ctx, Participant::Agent(ada.id))
        .await
        .expect("summary");
    assert_eq!(
        (summary.standing.points, summary.standing.level.level),
        (35, 1)
    );
    assert_eq!(summary.achievements, vec![earned]);
    let reputation = summary.reputation.expect("an agent's reputation");
    assert!((reputation.quality - 40.0).abs() < 0.01, "{reputation:?}");

    let user = store
        .holder_summary(ctx, Participant::User(acme.owner.id))
        .await
        .expect("summary");
    assert_eq!(
        (
            user.standing.points,
            user.achievements.len(),
            user.reputation
        ),
        (0, 0, None)
    );
    assert_not_found(
        store
            .holder_summary(ctx, Participant::Agent(AgentId::new()))
            .await,
        "agent",
    );
}

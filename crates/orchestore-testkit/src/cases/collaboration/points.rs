//! The points ledger, standings and levels.

use orchestore_domain::{
    LevelThreshold, LevelThresholds, Participant, PointAmount, PointAward, RankSettings,
};
use orchestore_repo::{
    AuditFilter, AuditSort, Limit, PageRequest, PointAwardFilter, PointAwardSort, RepoResult, Store,
};

use super::{Boxed, agent, all_at_once, award};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_invalid, assert_not_found, assert_reference};

pub async fn points_add_up_to_totals_experience_and_levels<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let owner = Participant::User(acme.owner.id);

    let fresh = store
        .get_standing(ctx, ada.id.into())
        .await
        .expect("standing");
    assert_eq!(
        (
            fresh.points,
            fresh.experience,
            fresh.rating,
            fresh.matches_played
        ),
        (0, 0, 1500, 0)
    );
    assert_eq!(
        (fresh.level.level, fresh.level.tier.as_str()),
        (1, "bronze")
    );
    assert_eq!(fresh.updated_at, None);

    let first = store
        .award_points(ctx, award(ada.id, 150))
        .await
        .expect("award");
    assert_eq!(
        (first.holder, first.points),
        (Participant::Agent(ada.id), 150)
    );
    store
        .award_points(ctx, award(ada.id, -30))
        .await
        .expect("penalty");
    store
        .award_points(ctx, award(owner, 5))
        .await
        .expect("award to a user");

    let standing = store
        .get_standing(ctx, ada.id.into())
        .await
        .expect("standing");
    // A penalty lowers the points, not the experience.
    assert_eq!((standing.points, standing.experience), (120, 150));
    assert_eq!(
        (standing.level.level, standing.level.next_level_at),
        (2, Some(300))
    );
    let user = store.get_standing(ctx, owner).await.expect("user standing");
    assert_eq!((user.points, user.experience, user.level.level), (5, 5, 1));

    // The ledger: per holder, both orders, one entry read back.
    let ledger = store
        .list_point_awards(
            ctx,
            PointAwardFilter {
                holder: Some(ada.id.into()),
            },
            PageRequest::default().sorted(PointAwardSort::AwardedAt),
        )
        .await
        .expect("ledger");
    let amounts: Vec<i64> = ledger.items.iter().map(|a| a.points).collect();
    assert_eq!(amounts, [150, -30]);
    let all = store
        .list_point_awards(
            ctx,
            PointAwardFilter::default(),
            PageRequest::first(Limit::parse(2).expect("limit")),
        )
        .await
        .expect("ledger");
    assert_eq!(all.items.len(), 2);
    assert_eq!(all.items[0].points, 5, "newest first by default");
    assert!(all.next_cursor.is_some());
    assert_eq!(
        store.get_point_award(ctx, first.id).await.expect("get"),
        first
    );

    // A ladder of the organization's own moves the level at once.
    let ladder = LevelThresholds::parse(vec![
        LevelThreshold {
            experience: 0,
            tier: "novice".into(),
        },
        LevelThreshold {
            experience: 100,
            tier: "expert".into(),
        },
    ])
    .expect("ladder");
    store
        .set_rank_settings(
            ctx,
            RankSettings {
                level_thresholds: ladder,
                ..RankSettings::default()
            },
            None,
        )
        .await
        .expect("settings");
    let standing = store
        .get_standing(ctx, ada.id.into())
        .await
        .expect("standing");
    assert_eq!(
        (
            standing.level.level,
            standing.level.tier.as_str(),
            standing.level.next_level_at
        ),
        (2, "expert", None)
    );

    // Each award is audited with its change.
    let audit = store
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")).sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit");
    let awards = audit
        .items
        .iter()
        .filter(|row| row.entity == "point_award")
        .count();
    assert_eq!(awards, 3);
}

pub async fn points_need_a_holder_of_the_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ghost = orchestore_domain::AgentId::new();
    assert_reference(store.award_points(ctx, award(ghost, 10)).await, "holder");
    assert_not_found(store.get_standing(ctx, ghost.into()).await, "agent");
    assert_not_found(
        store
            .get_point_award(ctx, orchestore_domain::PointAwardId::new())
            .await,
        "point_award",
    );
    let ledger = store
        .list_point_awards(ctx, PointAwardFilter::default(), PageRequest::default())
        .await
        .expect("ledger");
    assert!(ledger.items.is_empty(), "nothing written");
    assert_invalid(
        PointAmount::parse(0).map_err(orchestore_repo::RepoError::Invalid),
        "points",
    );
}

/// 32 awards to one holder at once: every one counts.
pub async fn concurrent_point_awards_never_lose_an_update<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let writers: Vec<Boxed<'_, RepoResult<PointAward>>> = (1..=32)
        .map(|n| Box::pin(store.award_points(ctx, award(ada.id, n))) as Boxed<'_, _>)
        .collect();
    for outcome in all_at_once(writers).await {
        outcome.expect("award");
    }
    let standing = store
        .get_standing(ctx, ada.id.into())
        .await
        .expect("standing");
    let expected: i64 = (1..=32).sum();
    assert_eq!((standing.points, standing.experience), (expected, expected));
    let ledger = store
        .list_point_awards(
            ctx,
            PointAwardFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("ledger");
    assert_eq!(ledger.items.len(), 32);
}

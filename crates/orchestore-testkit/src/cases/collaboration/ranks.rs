//! Leaderboards and the organization's rules for ranks.

use chrono::{Duration, Utc};
use orchestore_domain::{
    EloSettings, LeaderboardKind, LeaderboardPeriod, MatchSubject, NewMatch, Participant,
    Placements, RankSettings,
};
use orchestore_repo::{LeaderboardQuery, Limit, Store};

use super::{agent, award};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_invalid};

fn query(kind: LeaderboardKind, period: LeaderboardPeriod, limit: u64) -> LeaderboardQuery {
    LeaderboardQuery {
        kind,
        period,
        as_of: Utc::now(),
        limit: Limit::parse(limit).expect("limit"),
    }
}

pub async fn leaderboards_rank_by_points_and_rating<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    let cy = agent(store, ctx, "cy").await;
    let owner = Participant::User(acme.owner.id);
    for (holder, points) in [
        (Participant::from(ada.id), 50),
        (bob.id.into(), 80),
        (cy.id.into(), 50),
        (owner, 10),
        (bob.id.into(), -5),
    ] {
        store
            .award_points(ctx, award(holder, points))
            .await
            .expect("award");
    }

    let board = store
        .leaderboard(
            ctx,
            query(LeaderboardKind::Points, LeaderboardPeriod::AllTime, 3),
        )
        .await
        .expect("leaderboard");
    let rows: Vec<(u32, f64)> = board.iter().map(|e| (e.rank, e.score)).collect();
    // Equal scores share a rank; ties go by holder id.
    assert_eq!(rows, [(1, 75.0), (2, 50.0), (2, 50.0)]);
    assert_eq!(board[0].holder, Participant::Agent(bob.id));
    let mut tied = [ada.id, cy.id];
    tied.sort();
    assert_eq!(board[1].holder, Participant::Agent(tied[0]));

    // The week and the month sum the ledger of the period.
    for period in [LeaderboardPeriod::Week, LeaderboardPeriod::Month] {
        let board = store
            .leaderboard(ctx, query(LeaderboardKind::Points, period, 10))
            .await
            .expect("leaderboard");
        let scores: Vec<f64> = board.iter().map(|e| e.score).collect();
        assert_eq!(scores, [75.0, 50.0, 50.0, 10.0]);
    }
    // A week that ended before the awards holds none of them.
    let earlier = LeaderboardQuery {
        as_of: Utc::now() - Duration::days(8),
        ..query(LeaderboardKind::Points, LeaderboardPeriod::Week, 10)
    };
    assert!(
        store
            .leaderboard(ctx, earlier)
            .await
            .expect("leaderboard")
            .is_empty()
    );

    // Ratings rank agents only.
    store
        .set_rank_settings(
            ctx,
            RankSettings {
                elo: EloSettings::parse(32, 32, 0).expect("elo"),
                ..RankSettings::default()
            },
            None,
        )
        .await
        .expect("settings");
    let played = store
        .create_match(
            ctx,
            NewMatch::new(
                MatchSubject::challenge("chess").expect("challenge"),
                vec![ada.id, cy.id],
            )
            .expect("match"),
        )
        .await
        .expect("match");
    store
        .record_match_result(
            ctx,
            played.id,
            Placements::parse([(cy.id, 1), (ada.id, 2)].into_iter().collect()).expect("placements"),
        )
        .await
        .expect("result");
    let board = store
        .leaderboard(
            ctx,
            query(LeaderboardKind::Rating, LeaderboardPeriod::AllTime, 10),
        )
        .await
        .expect("leaderboard");
    let rows: Vec<(u32, Participant, f64)> =
        board.iter().map(|e| (e.rank, e.holder, e.score)).collect();
    assert_eq!(
        rows,
        [
            (1, cy.id.into(), 1516.0),
            (2, bob.id.into(), 1500.0),
            (3, ada.id.into(), 1484.0)
        ]
    );
    assert_invalid(
        store
            .leaderboard(
                ctx,
                query(LeaderboardKind::Rating, LeaderboardPeriod::Week, 10),
            )
            .await,
        "period",
    );
}

pub async fn rank_settings_are_kept_and_audited<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    assert_eq!(
        store.get_rank_settings(ctx).await.expect("settings").value,
        RankSettings::default()
    );
    let mine = RankSettings {
        elo: EloSettings::parse(24, 48, 5).expect("elo"),
        ..RankSettings::default()
    };
    store
        .set_rank_settings(ctx, mine.clone(), None)
        .await
        .expect("set");
    assert_eq!(
        store.get_rank_settings(ctx).await.expect("settings").value,
        mine
    );
    let audit = store
        .list_audit(ctx, Default::default(), Default::default())
        .await
        .expect("audit");
    assert!(
        audit
            .items
            .iter()
            .any(|row| row.entity == "collaboration_settings")
    );
}

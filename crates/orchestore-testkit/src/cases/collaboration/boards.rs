//! Leaderboards by reputation and combined, snapshots and the hall of fame.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use orchestore_domain::{
    AgentId, EloSettings, HallOfFameTop, LeaderboardKind, LeaderboardPeriod, LeaderboardWeights,
    MatchSubject, NewMatch, NewReputationEvent, Participant, Placements, RankSettings,
    ReputationDelta, ReputationDimension, ReputationReason, SnapshotTrigger,
};
use orchestore_repo::{
    HallOfFameQuery, LeaderboardQuery, Limit, PageRequest, SnapshotFilter, SnapshotSort, Store,
};

use super::{agent, award};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_invalid, assert_not_found};

fn event(agent: AgentId, dimension: ReputationDimension, delta: i64) -> NewReputationEvent {
    NewReputationEvent {
        agent_id: agent,
        dimension,
        delta: ReputationDelta::parse(delta).expect("delta"),
        reason: ReputationReason::parse("peer review").expect("reason"),
        task_id: None,
    }
}

fn board(kind: LeaderboardKind, as_of: DateTime<Utc>) -> LeaderboardQuery {
    LeaderboardQuery {
        kind,
        period: LeaderboardPeriod::AllTime,
        as_of,
        limit: Limit::parse(10).expect("limit"),
    }
}

pub async fn reputation_ranks_agents_as_their_reputation_reads<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    let cy = agent(store, ctx, "cy").await;
    let mut last = Utc::now();
    for (agent, dimension, delta) in [
        (ada.id, ReputationDimension::Trust, 40),
        (bob.id, ReputationDimension::Quality, 30),
        (cy.id, ReputationDimension::Reliability, -10),
        (bob.id, ReputationDimension::Trust, 20),
        (ada.id, ReputationDimension::Quality, -30),
    ] {
        last = store
            .record_reputation_event(ctx, event(agent, dimension, delta))
            .await
            .expect("event")
            .occurred_at;
    }

    // At a fixed instant no event is later than (the index of the keys), and at one between
    // the events (summed from the events up to it), the board lists the agents in the order of
    // their reputations at that instant, with their overall scores.
    for as_of in [
        last,
        last + Duration::days(45),
        last - Duration::milliseconds(1),
    ] {
        let rows = store
            .leaderboard(ctx, board(LeaderboardKind::Reputation, as_of))
            .await
            .expect("leaderboard");
        let mut expected = Vec::new();
        for id in [ada.id, bob.id, cy.id] {
            let reputation = store.get_reputation(ctx, id, as_of).await.expect("reads");
            expected.push((Participant::Agent(id), reputation.overall));
        }
        expected.sort_by(|a, b| b.1.total_cmp(&a.1));
        let got: Vec<Participant> = rows.iter().map(|e| e.holder).collect();
        let want: Vec<Participant> = expected.iter().map(|(holder, _)| *holder).collect();
        assert_eq!(got, want, "at {as_of}");
        for (entry, (_, overall)) in rows.iter().zip(&expected) {
            assert!((entry.score - overall).abs() < 0.002, "{entry:?} {overall}");
        }
    }
    // Bob 50 / 4, ada 10 / 4, cy −10 / 4 at the last event (less a trace of decay).
    let now = store
        .leaderboard(ctx, board(LeaderboardKind::Reputation, last))
        .await
        .expect("leaderboard");
    let scores: Vec<(u32, f64)> = now.iter().map(|e| (e.rank, e.score)).collect();
    assert_eq!(scores, [(1, 12.5), (2, 2.5), (3, -2.5)]);
    assert_invalid(
        store
            .leaderboard(
                ctx,
                LeaderboardQuery {
                    period: LeaderboardPeriod::Month,
                    ..board(LeaderboardKind::Reputation, last)
                },
            )
            .await,
        "period",
    );
}

pub async fn combined_ranks_by_the_weights_from_its_snapshot<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    let cy = agent(store, ctx, "cy").await;
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
    store
        .award_points(ctx, award(ada.id, 100))
        .await
        .expect("award");
    store
        .award_points(ctx, award(bob.id, 40))
        .await
        .expect("award");
    let played = store
        .create_match(
            ctx,
            NewMatch::new(
                MatchSubject::challenge("chess").expect("challenge"),
                vec![ada.id, bob.id],
            )
            .expect("match"),
        )
        .await
        .expect("match");
    store
        .record_match_result(
            ctx,
            played.id,
            Placements::parse([(bob.id, 1), (ada.id, 2)].into_iter().collect())
                .expect("placements"),
        )
        .await
        .expect("result");
    store
        .record_reputation_event(ctx, event(cy.id, ReputationDimension::Trust, 40))
        .await
        .expect("event");

    assert_eq!(
        store
            .get_leaderboard_weights(ctx)
            .await
            .expect("weights")
            .value,
        LeaderboardWeights::default()
    );
    let weights = LeaderboardWeights::parse(1.0, 2.0, 3.0).expect("weights");
    store
        .set_leaderboard_weights(ctx, weights, None)
        .await
        .expect("set");
    assert_eq!(
        store
            .get_leaderboard_weights(ctx)
            .await
            .expect("weights")
            .value,
        weights
    );

    // No snapshot yet: the combined ranking has no rows.
    let combined = || board(LeaderboardKind::Combined, Utc::now());
    assert!(
        store
            .leaderboard(ctx, combined())
            .await
            .expect("board")
            .is_empty()
    );
    let taken = store
        .take_leaderboard_snapshot(ctx, LeaderboardKind::Combined, LeaderboardPeriod::AllTime)
        .await
        .expect("snapshot");
    // points × 1 + (rating − 1500) × 2 + overall × 3:
    // bob 40 + 16 × 2 = 72; ada 100 − 16 × 2 = 68; cy 40 / 4 × 3 = 30.
    let expected = [
        (1, Participant::Agent(bob.id), 72.0),
        (2, Participant::Agent(ada.id), 68.0),
        (3, Participant::Agent(cy.id), 30.0),
    ];
    let rows = |entries: &[orchestore_domain::LeaderboardEntry]| -> Vec<(u32, Participant, f64)> {
        entries
            .iter()
            .map(|e| (e.rank, e.holder, e.score))
            .collect()
    };
    assert_eq!(rows(&taken.entries), expected);
    assert_eq!(
        (taken.snapshot.trigger, taken.snapshot.size),
        (SnapshotTrigger::OnDemand, 3)
    );
    assert_eq!(
        rows(&store.leaderboard(ctx, combined()).await.expect("board")),
        expected
    );

    // New weights apply from the next snapshot on.
    store
        .set_leaderboard_weights(
            ctx,
            LeaderboardWeights::parse(1.0, 0.0, 0.0).expect("w"),
            None,
        )
        .await
        .expect("set");
    assert_eq!(
        rows(&store.leaderboard(ctx, combined()).await.expect("board")),
        expected
    );
    store
        .take_leaderboard_snapshot(ctx, LeaderboardKind::Combined, LeaderboardPeriod::AllTime)
        .await
        .expect("snapshot");
    let scores: Vec<f64> = store
        .leaderboard(ctx, combined())
        .await
        .expect("board")
        .iter()
        .map(|e| e.score)
        .collect();
    assert_eq!(scores, [100.0, 40.0, 0.0]);
    // As of the first snapshot, the first still reads.
    assert_eq!(
        rows(
            &store
                .leaderboard(
                    ctx,
                    board(LeaderboardKind::Combined, taken.snapshot.taken_at)
                )
                .await
                .expect("board")
        ),
        expected
    );
    let audit = store
        .list_audit(ctx, Default::default(), Default::default())
        .await
        .expect("audit");
    for entity in ["leaderboard_settings", "leaderboard_snapshot"] {
        assert!(audit.items.iter().any(|row| row.entity == entity));
    }
}

pub async fn snapshots_are_kept_and_the_hall_of_fame_counts_them<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    store
        .award_points(ctx, award(ada.id, 50))
        .await
        .expect("award");
    store
        .award_points(ctx, award(bob.id, 30))
        .await
        .expect("award");
    let (points, all_time) = (LeaderboardKind::Points, LeaderboardPeriod::AllTime);
    let first = store
        .take_leaderboard_snapshot(ctx, points, all_time)
        .await
        .expect("snapshot");
    store
        .award_points(ctx, award(bob.id, 40))
        .await
        .expect("award");
    store
        .take_leaderboard_snapshot(ctx, points, all_time)
        .await
        .expect("snapshot");
    let last = store
        .take_leaderboard_snapshot(ctx, points, all_time)
        .await
        .expect("snapshot");
    assert_eq!(
        store
            .get_leaderboard_snapshot(ctx, first.snapshot.id)
            .await
            .expect("get"),
        first
    );
    let holders: Vec<Participant> = last.entries.iter().map(|e| e.holder).collect();
    assert_eq!(holders, [bob.id.into(), ada.id.into()]);
    let listed = store
        .list_leaderboard_snapshots(ctx, SnapshotFilter::default(), PageRequest::default())
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 3);
    assert_eq!(listed.items[0], last.snapshot, "the latest first");
    let oldest = store
        .list_leaderboard_snapshots(
            ctx,
            SnapshotFilter {
                kind: Some(LeaderboardKind::Points),
                period: Some(LeaderboardPeriod::AllTime),
            },
            PageRequest::default().sorted(SnapshotSort::TakenAt),
        )
        .await
        .expect("list");
    assert_eq!(oldest.items[0], first.snapshot);

    let fame = |top: u64| HallOfFameQuery {
        kind: LeaderboardKind::Points,
        period: LeaderboardPeriod::AllTime,
        top: HallOfFameTop::parse(top).expect("top"),
        limit: Limit::default(),
    };
    let firsts = store.hall_of_fame(ctx, fame(1)).await.expect("fame");
    let counted: Vec<(Participant, u32, u32)> = firsts
        .iter()
        .map(|e| (e.holder, e.times, e.best_rank))
        .collect();
    assert_eq!(counted, [(bob.id.into(), 2, 1), (ada.id.into(), 1, 1)]);
    assert_eq!(firsts[1].first_at, first.snapshot.taken_at);
    assert_eq!(firsts[0].last_at, last.snapshot.taken_at);
    let top_two = store.hall_of_fame(ctx, fame(2)).await.expect("fame");
    assert!(top_two.iter().all(|e| e.times == 3), "{top_two:?}");

    // The schedule takes each leaderboard once per slot, whoever asks.
    let hour = StdDuration::from_secs(3600);
    let due = store
        .organizations_due_for_snapshots(hour, 100)
        .await
        .expect("due");
    assert!(due.contains(&acme.org.id));
    let scheduled = store
        .take_scheduled_snapshots(ctx, hour)
        .await
        .expect("scheduled");
    assert_eq!(scheduled.len(), 6);
    assert!(
        scheduled
            .iter()
            .all(|s| s.trigger == SnapshotTrigger::Scheduled)
    );
    assert!(
        store
            .take_scheduled_snapshots(ctx, hour)
            .await
            .expect("scheduled")
            .is_empty()
    );
    let due = store
        .organizations_due_for_snapshots(hour, 100)
        .await
        .expect("due");
    assert!(!due.contains(&acme.org.id));

    assert_not_found(
        store
            .get_leaderboard_snapshot(ctx, orchestore_domain::LeaderboardSnapshotId::new())
            .await,
        "leaderboard_snapshot",
    );
    assert_invalid(
        store
            .take_leaderboard_snapshot(ctx, LeaderboardKind::Rating, LeaderboardPeriod::Week)
            .await,
        "period",
    );
}

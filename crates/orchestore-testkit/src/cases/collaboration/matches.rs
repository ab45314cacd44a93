//! Rated matches: ELO against worked examples, the provisional K, results once.

use std::collections::BTreeMap;

use orchestore_domain::{
    AgentId, EloSettings, MatchStatus, MatchSubject, NewMatch, Placements, RankSettings,
};
use orchestore_repo::{PageRequest, RatingHistorySort, Store};

use super::agent;
use crate::Fixture;
use crate::cases::{
    PASSWORD, assert_conflict, assert_invalid, assert_not_found, assert_reference, task,
};

fn places(of: &[(AgentId, u32)]) -> Placements {
    Placements::parse(of.iter().copied().collect::<BTreeMap<_, _>>()).expect("placements")
}

fn challenge() -> MatchSubject {
    MatchSubject::challenge("sort a million rows").expect("challenge")
}

pub async fn match_results_move_ratings_by_elo<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    // K = 32 throughout, no provisional period: the textbook numbers.
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
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    let cy = agent(store, ctx, "cy").await;

    let project = acme.project(store, "arena").await;
    let on_task = store
        .create_task(ctx, task(project.id, "race"))
        .await
        .expect("task");
    let first = store
        .create_match(
            ctx,
            NewMatch::new(MatchSubject::Task(on_task.id), vec![ada.id, bob.id]).expect("match"),
        )
        .await
        .expect("create");
    assert_eq!(first.status, MatchStatus::Open);
    assert_eq!(first.agents, [ada.id, bob.id]);
    assert_eq!(store.get_match(ctx, first.id).await.expect("get"), first);

    // 1500 vs 1500, ada wins: E = 0.5, 32 × 0.5 = 16.
    let done = store
        .record_match_result(ctx, first.id, places(&[(ada.id, 1), (bob.id, 2)]))
        .await
        .expect("result");
    assert_eq!(done.status, MatchStatus::Finished);
    let after: Vec<(AgentId, i32, i32)> = done
        .changes
        .iter()
        .map(|c| (c.agent_id, c.rating_before, c.rating_after))
        .collect();
    assert_eq!(after, [(ada.id, 1500, 1516), (bob.id, 1500, 1484)]);

    // 1516 vs 1484, bob wins: E(bob) = 1/(1+10^(32/400)) = 0.4540, 32 × 0.5460 = 17.47 → 17.
    let second = store
        .create_match(
            ctx,
            NewMatch::new(challenge(), vec![ada.id, bob.id]).expect("match"),
        )
        .await
        .expect("create");
    let done = store
        .record_match_result(ctx, second.id, places(&[(ada.id, 2), (bob.id, 1)]))
        .await
        .expect("result");
    let after: Vec<i32> = done.changes.iter().map(|c| c.rating_after).collect();
    assert_eq!(after, [1499, 1501]);

    // Three players count as pairs: cy (1500) beats ada (1499) and bob (1501), who draw.
    let third = store
        .create_match(
            ctx,
            NewMatch::new(challenge(), vec![ada.id, bob.id, cy.id]).expect("match"),
        )
        .await
        .expect("create");
    let done = store
        .record_match_result(
            ctx,
            third.id,
            places(&[(ada.id, 2), (bob.id, 2), (cy.id, 1)]),
        )
        .await
        .expect("result");
    // ada: (0.5 − E(1499,1501)) + (0 − E(1499,1500)) = (0.5 − 0.49712) + (0 − 0.49856) = −0.49568;
    // × 32 / 2 = −7.93 → −8. bob: (0.5 − 0.50288) + (0 − 0.50144) = −0.50432 → −8.07 → −8.
    // cy: (1 − 0.50144) + (1 − 0.49856) = 1.0 → 16.
    let after: Vec<(AgentId, i32)> = done
        .changes
        .iter()
        .map(|c| (c.agent_id, c.rating_after))
        .collect();
    assert_eq!(after, [(ada.id, 1491), (bob.id, 1493), (cy.id, 1516)]);

    let standing = store
        .get_standing(ctx, ada.id.into())
        .await
        .expect("standing");
    assert_eq!((standing.rating, standing.matches_played), (1491, 3));
    let history = store
        .rating_history(ctx, ada.id, PageRequest::default())
        .await
        .expect("history");
    let ratings: Vec<(i32, i32)> = history
        .items
        .iter()
        .map(|c| (c.rating_before, c.rating_after))
        .collect();
    assert_eq!(ratings, [(1500, 1516), (1516, 1499), (1499, 1491)]);
    let latest = store
        .rating_history(
            ctx,
            ada.id,
            PageRequest::default().sorted(RatingHistorySort::MatchIdDesc),
        )
        .await
        .expect("history");
    assert_eq!(latest.items[0].match_id, third.id);
}

pub async fn newcomers_move_by_the_provisional_k<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    // K = 20, and 40 for the first 1 match.
    store
        .set_rank_settings(
            ctx,
            RankSettings {
                elo: EloSettings::parse(20, 40, 1).expect("elo"),
                ..RankSettings::default()
            },
            None,
        )
        .await
        .expect("settings");
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    let play = async |winner: AgentId, loser: AgentId| {
        let created = store
            .create_match(
                ctx,
                NewMatch::new(challenge(), vec![winner, loser]).expect("match"),
            )
            .await
            .expect("create");
        store
            .record_match_result(ctx, created.id, places(&[(winner, 1), (loser, 2)]))
            .await
            .expect("result")
    };
    // Both new: 40 × 0.5 = 20.
    let first = play(ada.id, bob.id).await;
    assert_eq!(
        first
            .changes
            .iter()
            .map(|c| c.rating_after)
            .collect::<Vec<_>>(),
        [1520, 1480]
    );
    // Both past the provisional match: 20 × (1 − E(1480, 1520)) = 20 × 0.5575 = 11.15 → 11.
    let second = play(bob.id, ada.id).await;
    let after: Vec<i32> = second.changes.iter().map(|c| c.rating_after).collect();
    assert_eq!(after, [1491, 1509]);
}

pub async fn a_finished_match_takes_no_second_result<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    let created = store
        .create_match(
            ctx,
            NewMatch::new(challenge(), vec![ada.id, bob.id]).expect("match"),
        )
        .await
        .expect("create");
    // Placements that leave a player out, or name another, are refused; nothing is written.
    assert_invalid(
        store
            .record_match_result(ctx, created.id, places(&[(ada.id, 1)]))
            .await,
        "placements",
    );
    let stranger = agent(store, ctx, "cy").await;
    assert_invalid(
        store
            .record_match_result(ctx, created.id, places(&[(ada.id, 1), (stranger.id, 2)]))
            .await,
        "placements",
    );
    assert_eq!(
        store.get_match(ctx, created.id).await.expect("get").status,
        MatchStatus::Open
    );

    let done = store
        .record_match_result(ctx, created.id, places(&[(ada.id, 1), (bob.id, 2)]))
        .await
        .expect("result");
    assert_conflict(
        store
            .record_match_result(ctx, created.id, places(&[(ada.id, 2), (bob.id, 1)]))
            .await,
        None,
    );
    assert_eq!(store.get_match(ctx, created.id).await.expect("get"), done);
    let standing = store
        .get_standing(ctx, ada.id.into())
        .await
        .expect("standing");
    assert_eq!(
        (standing.rating, standing.matches_played),
        (done.changes[0].rating_after, 1)
    );

    // Two results for one open match at once: one lands, the other is a conflict.
    let again = store
        .create_match(
            ctx,
            NewMatch::new(challenge(), vec![ada.id, bob.id]).expect("match"),
        )
        .await
        .expect("create");
    let (first, second) = tokio::join!(
        store.record_match_result(ctx, again.id, places(&[(ada.id, 1), (bob.id, 2)])),
        store.record_match_result(ctx, again.id, places(&[(ada.id, 2), (bob.id, 1)])),
    );
    let lost = match (first, second) {
        (Ok(_), lost) | (lost, Ok(_)) => lost,
        other => panic!("one result must land: {other:?}"),
    };
    assert_conflict(lost, None);
    let standing = store
        .get_standing(ctx, ada.id.into())
        .await
        .expect("standing");
    assert_eq!(standing.matches_played, 2);

    // Unknown agents, tasks and matches.
    assert_reference(
        store
            .create_match(
                ctx,
                NewMatch::new(challenge(), vec![ada.id, AgentId::new()]).expect("match"),
            )
            .await,
        "agents",
    );
    assert_reference(
        store
            .create_match(
                ctx,
                NewMatch::new(
                    MatchSubject::Task(orchestore_domain::TaskId::new()),
                    vec![ada.id, bob.id],
                )
                .expect("match"),
            )
            .await,
        "task_id",
    );
    assert_not_found(
        store
            .get_match(ctx, orchestore_domain::MatchId::new())
            .await,
        "match",
    );
    assert_not_found(
        store
            .rating_history(ctx, AgentId::new(), PageRequest::default())
            .await,
        "agent",
    );
}

//! Points, achievements, reputation, matches, leaderboards and their snapshots through the
//! typed client.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use orchestore_client::api::achievements::{
    AchievementDefinitionBody, AwardAchievementBody, ListDefinitionsQuery,
};
use orchestore_client::api::boards::{
    FameQuery, LeaderboardSnapshotBody, LeaderboardWeightsBody, SnapshotsQuery,
};
use orchestore_client::api::leaderboards::{LeaderboardParams, RankSettingsBody};
use orchestore_client::api::matches::{CreateMatchBody, HistoryQuery, MatchResultBody};
use orchestore_client::api::points::{AwardPointsBody, ListPointsQuery};
use orchestore_client::api::reputation::{
    AsOfQuery, EventsQuery, ReputationEventBody, TaskOutcomeBody,
};
use orchestore_domain::{
    AgentId, LeaderboardKind, LevelThreshold, MatchStatus, Participant, TaskId,
};
use serde_json::json;

use crate::client_collaboration::{admin_id, agent};
use crate::helpers::*;

fn points(holder: AgentId, points: i64) -> AwardPointsBody {
    AwardPointsBody {
        holder: Participant::Agent(holder).into(),
        points,
        reason: "shipped".into(),
        source: "review".into(),
    }
}

fn fields(err: &orchestore_client::Error) -> Vec<&str> {
    err.problem()
        .map(|p| p.errors.iter().map(|e| e.field.as_str()).collect())
        .unwrap_or_default()
}

pub async fn points_and_leaderboards_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let (ada, bob) = (agent(app, "ada").await, agent(app, "bob").await);
    let me = admin_id(app).await;
    let awarded = client
        .award_points(&points(ada, 10))
        .await
        .expect("awarded");
    assert_eq!(awarded.points, 10);
    assert_eq!(awarded.holder, Participant::Agent(ada));
    assert_eq!(
        client.get_point_award(awarded.id).await.expect("read"),
        awarded
    );
    client
        .award_points(&points(bob, 30))
        .await
        .expect("awarded");
    let bad = client
        .award_points(&points(bob, 0))
        .await
        .expect_err("refused");
    assert_eq!(bad.status(), Some(422));
    assert_eq!(fields(&bad), ["points"]);

    let adas = client
        .list_points(&ListPointsQuery {
            holder_kind: Some("agent".into()),
            holder_id: Some(ada.as_uuid()),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(adas.items, [awarded]);
    let every: Vec<_> = client
        .list_points_stream(&ListPointsQuery {
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every.len(), 2);
    let standing = client.agent_standing(bob).await.expect("standing");
    assert_eq!((standing.points, standing.rating), (30, 1500));
    let mine = client.user_standing(me).await.expect("standing");
    assert_eq!(mine.points, 0);

    let board = client
        .leaderboard(&LeaderboardParams {
            kind: Some("points".into()),
            ..Default::default()
        })
        .await
        .expect("a leaderboard");
    assert_eq!(board.kind, LeaderboardKind::Points);
    let ranked: Vec<_> = board.items.iter().map(|e| (e.rank, e.holder)).collect();
    assert_eq!(
        ranked,
        [(1, Participant::Agent(bob)), (2, Participant::Agent(ada))]
    );
    let karma = client
        .leaderboard(&LeaderboardParams {
            kind: Some("karma".into()),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(karma.status(), Some(422));
    assert_eq!(fields(&karma), ["kind"]);

    let standard = client.get_rank_settings().await.expect("settings");
    assert_eq!((standard.k_factor, standard.provisional_k_factor), (32, 64));
    let replaced = client
        .set_rank_settings(
            &RankSettingsBody {
                level_thresholds: vec![
                    LevelThreshold {
                        experience: 0,
                        tier: "novice".into(),
                    },
                    LevelThreshold {
                        experience: 50,
                        tier: "expert".into(),
                    },
                ],
                k_factor: 16,
                provisional_k_factor: 40,
                provisional_matches: 3,
                revision: None,
            },
            Some(standard.revision),
        )
        .await
        .expect("replaced");
    assert_eq!(replaced.k_factor, 16);
    assert_eq!(replaced.revision.get(), standard.revision.get() + 1);
    assert_eq!(
        serde_json::to_value(&replaced.level_thresholds).expect("json"),
        json!([{"experience": 0, "tier": "novice"}, {"experience": 50, "tier": "expert"}])
    );
    assert_eq!(
        client.get_rank_settings().await.expect("settings"),
        replaced
    );
}

pub async fn snapshots_and_the_hall_of_fame_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let (ada, bob) = (agent(app, "ada").await, agent(app, "bob").await);
    for (holder, award) in [(ada, 10), (bob, 30)] {
        client
            .award_points(&points(holder, award))
            .await
            .expect("awarded");
    }
    let standard = client.get_leaderboard_weights().await.expect("weights");
    assert_eq!(standard.points, 1.0);
    let body = LeaderboardWeightsBody {
        points: 1.0,
        rating: 0.0,
        reputation: 5.0,
        revision: None,
    };
    let weights = client
        .set_leaderboard_weights(&body, Some(standard.revision))
        .await
        .expect("replaced");
    assert_eq!((weights.rating, weights.reputation), (0.0, 5.0));
    let stale = client
        .set_leaderboard_weights(&body, Some(standard.revision))
        .await
        .expect_err("stale");
    assert_eq!(stale.status(), Some(412));

    let taken = client
        .take_leaderboard_snapshot(&LeaderboardSnapshotBody {
            kind: "points".into(),
            period: None,
        })
        .await
        .expect("taken");
    assert_eq!(taken.entries[0].holder, Participant::Agent(bob));
    assert_eq!(taken.snapshot.size, 2);
    assert_eq!(
        client
            .get_leaderboard_snapshot(taken.snapshot.id)
            .await
            .expect("read"),
        taken
    );
    let query = SnapshotsQuery {
        kind: Some("points".into()),
        ..Default::default()
    };
    let listed = client
        .list_leaderboard_snapshots(&query)
        .await
        .expect("a page");
    assert_eq!(listed.items, std::slice::from_ref(&taken.snapshot));
    let every: Vec<_> = client
        .list_leaderboard_snapshots_stream(&query)
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every, [taken.snapshot]);

    let fame = client
        .hall_of_fame(&FameQuery {
            kind: Some("points".into()),
            ..Default::default()
        })
        .await
        .expect("a hall of fame");
    assert_eq!(fame.kind, LeaderboardKind::Points);
    let holders: Vec<_> = fame.items.iter().map(|e| (e.holder, e.times)).collect();
    assert_eq!(holders, [(Participant::Agent(bob), 1)]);
}

pub async fn achievements_are_awarded_and_summarised_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let ada = agent(app, "ada").await;
    let me = admin_id(app).await;
    let definition = AchievementDefinitionBody {
        code: "first-review".into(),
        name: "First review".into(),
        description: "Reviewed a first pull request".into(),
        points: 25,
        criteria: Some(json!({"reviews": 1})),
    };
    let defined = client
        .define_achievement(&definition)
        .await
        .expect("defined");
    assert_eq!(defined.code.as_str(), "first-review");
    let again = client
        .define_achievement(&definition)
        .await
        .expect_err("the code is taken");
    assert_eq!(again.status(), Some(409));
    assert_eq!(
        client
            .get_achievement_definition(defined.id)
            .await
            .expect("read"),
        defined
    );
    let listed = client
        .list_achievement_definitions(&ListDefinitionsQuery::default())
        .await
        .expect("a page");
    assert_eq!(listed.items, std::slice::from_ref(&defined));
    let every: Vec<_> = client
        .list_achievement_definitions_stream(&ListDefinitionsQuery::default())
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every, std::slice::from_ref(&defined));

    let award = AwardAchievementBody {
        definition_id: defined.id,
        holder: Participant::Agent(ada).into(),
    };
    let earned = client.award_achievement(&award).await.expect("awarded");
    assert_eq!(earned.points, 25);
    assert!(earned.point_award_id.is_some());
    let twice = client.award_achievement(&award).await.expect_err("once");
    assert_eq!(twice.status(), Some(409));

    let summary = client.agent_summary(ada).await.expect("a summary");
    assert_eq!(summary.standing.points, 25, "awarded once");
    assert_eq!(summary.achievements, [earned]);
    assert!(summary.reputation.is_some());
    let mine = client.user_summary(me).await.expect("a summary");
    assert!(mine.reputation.is_none() && mine.achievements.is_empty());
}

pub async fn reputation_and_matches_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let (ada, bob) = (agent(app, "ada").await, agent(app, "bob").await);
    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "work").await;
    let task: TaskId = app.create_task(&admin, &project, "ship it").await["id"]
        .as_str()
        .expect("the task's id")
        .parse()
        .expect("a task id");

    let event = client
        .record_reputation_event(&ReputationEventBody {
            agent_id: ada,
            dimension: "trust".into(),
            delta: 40,
            reason: "kept its word".into(),
            task_id: None,
        })
        .await
        .expect("recorded");
    assert_eq!(event.delta, 40);
    let failed = client
        .record_task_outcome(
            ada,
            &TaskOutcomeBody {
                task_id: task,
                succeeded: false,
            },
        )
        .await
        .expect("recorded");
    assert_eq!(failed.delta, -10);
    assert_eq!(failed.task_id, Some(task));
    // As of the first event, only it counts, in full.
    let then = client
        .agent_reputation(
            ada,
            &AsOfQuery {
                as_of: Some(event.occurred_at),
            },
        )
        .await
        .expect("a reputation");
    assert_eq!((then.trust, then.reliability), (40.0, 0.0));
    let page = EventsQuery {
        limit: Some(1),
        sort: Some("occurred_at".into()),
        ..Default::default()
    };
    let first = client
        .list_reputation_events(ada, &page)
        .await
        .expect("a page");
    assert_eq!(first.items, std::slice::from_ref(&event));
    let every: Vec<_> = client
        .list_reputation_events_stream(ada, &page)
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every, [event, failed]);

    let created = client
        .create_match(&CreateMatchBody {
            agents: vec![ada, bob],
            challenge: Some("sort a million rows".into()),
            ..Default::default()
        })
        .await
        .expect("open");
    assert_eq!(created.status, MatchStatus::Open);
    assert_eq!(client.get_match(created.id).await.expect("read"), created);
    let result = MatchResultBody {
        placements: BTreeMap::from([(ada, 1), (bob, 2)]),
    };
    let done = client
        .record_match_result(created.id, &result)
        .await
        .expect("finished");
    assert_eq!(done.status, MatchStatus::Finished);
    // The standard K for newcomers is 64: 64 × 0.5 = 32.
    let after: Vec<_> = done
        .changes
        .iter()
        .map(|c| (c.agent_id, c.rating_after))
        .collect();
    assert!(after.contains(&(ada, 1532)) && after.contains(&(bob, 1468)));
    let twice = client
        .record_match_result(created.id, &result)
        .await
        .expect_err("finished already");
    assert_eq!(twice.status(), Some(409));

    let history = client
        .rating_history(ada, &HistoryQuery::default())
        .await
        .expect("a page");
    assert_eq!(history.items.len(), 1);
    assert_eq!(
        (history.items[0].match_id, history.items[0].rating_before),
        (created.id, 1500)
    );
    let every: Vec<_> = client
        .rating_history_stream(bob, &HistoryQuery::default())
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every.len(), 1);
}

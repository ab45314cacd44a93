//! Reputation: events, decay against a fixed clock, task outcomes.

use chrono::{Duration, Utc};
use orchestore_domain::{
    AgentId, LeaderboardKind, LeaderboardPeriod, LeaseDuration, LeaseToken, MaxAttempts,
    NewReputationEvent, NewTask, Participant, ReputationDelta, ReputationDimension,
    ReputationReason, TaskId,
};
use orchestore_repo::{
    Ctx, FedOutcomes, FeedRound, LeaderboardQuery, Limit, MAX_FEED_BATCH, PageRequest, RepoError,
    ReputationEventSort, Retry, Store, feed_every_organization,
};

use super::{Boxed, agent, all_at_once};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_invalid, assert_not_found, assert_reference, task};

fn event(agent: AgentId, dimension: ReputationDimension, delta: i64) -> NewReputationEvent {
    NewReputationEvent {
        agent_id: agent,
        dimension,
        delta: ReputationDelta::parse(delta).expect("delta"),
        reason: ReputationReason::parse("peer review").expect("reason"),
        task_id: None,
    }
}

pub async fn reputation_decays_by_its_half_life<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let before = Utc::now() - Duration::seconds(1);
    store
        .record_reputation_event(ctx, event(ada.id, ReputationDimension::Trust, 40))
        .await
        .expect("event");
    let recorded = store
        .record_reputation_event(ctx, event(ada.id, ReputationDimension::Quality, -20))
        .await
        .expect("event");
    let at = recorded.occurred_at;

    // At the instant of the events they count in full; one half-life later half, two a
    // quarter; before them, nothing.
    let now = store
        .get_reputation(ctx, ada.id, at)
        .await
        .expect("reputation");
    assert_eq!((now.trust, now.quality, now.overall), (40.0, -20.0, 5.0));
    let later = store
        .get_reputation(ctx, ada.id, at + Duration::days(30))
        .await
        .expect("reputation");
    assert!((later.trust - 20.0).abs() < 0.01, "{later:?}");
    assert!((later.quality + 10.0).abs() < 0.01, "{later:?}");
    let much_later = store
        .get_reputation(ctx, ada.id, at + Duration::days(60))
        .await
        .expect("reputation");
    assert!((much_later.trust - 10.0).abs() < 0.01, "{much_later:?}");
    let earlier = store
        .get_reputation(ctx, ada.id, before)
        .await
        .expect("reputation");
    assert_eq!(earlier.overall, 0.0);

    let history = store
        .list_reputation_events(
            ctx,
            ada.id,
            PageRequest::default().sorted(ReputationEventSort::OccurredAt),
        )
        .await
        .expect("history");
    let deltas: Vec<i32> = history.items.iter().map(|e| e.delta).collect();
    assert_eq!(deltas, [40, -20]);
}

pub async fn task_outcomes_feed_reliability<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let project = acme.project(store, "work").await;
    let done = store
        .create_task(ctx, task(project.id, "done"))
        .await
        .expect("task");
    let failed = store
        .create_task(ctx, task(project.id, "failed"))
        .await
        .expect("task");
    store
        .record_task_outcome(ctx, ada.id, done.id, true)
        .await
        .expect("outcome");
    let last = store
        .record_task_outcome(ctx, ada.id, failed.id, false)
        .await
        .expect("outcome");
    assert_eq!(
        (last.dimension, last.delta, last.task_id),
        (ReputationDimension::Reliability, -10, Some(failed.id))
    );
    let score = store
        .get_reputation(ctx, ada.id, last.occurred_at)
        .await
        .expect("reputation");
    assert_eq!((score.reliability, score.trust), (-5.0, 0.0));

    assert_reference(
        store
            .record_task_outcome(ctx, ada.id, TaskId::new(), true)
            .await,
        "task_id",
    );
    assert_reference(
        store
            .record_task_outcome(ctx, AgentId::new(), done.id, true)
            .await,
        "agent_id",
    );
    assert_not_found(
        store.get_reputation(ctx, AgentId::new(), Utc::now()).await,
        "agent",
    );
    assert_not_found(
        store
            .list_reputation_events(ctx, AgentId::new(), PageRequest::default())
            .await,
        "agent",
    );
    let history = store
        .list_reputation_events(ctx, ada.id, PageRequest::default())
        .await
        .expect("history");
    assert_eq!(
        history.items.len(),
        2,
        "nothing written by the refused calls"
    );
}

/// Claims `task` for `agent`, with a lease of `lease`.
async fn claimed<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    task: TaskId,
    agent: AgentId,
    lease: LeaseDuration,
) -> LeaseToken {
    store
        .claim_task(ctx, task, agent, lease)
        .await
        .expect("claim")
        .lease_token
}

/// The task ids of the agent's reputation events, sorted.
async fn fed_tasks<S: Store + ?Sized>(store: &S, ctx: &Ctx, agent: AgentId) -> Vec<TaskId> {
    let page = store
        .list_reputation_events(
            ctx,
            agent,
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("history");
    let mut tasks: Vec<TaskId> = page.items.iter().filter_map(|e| e.task_id).collect();
    tasks.sort();
    tasks
}

fn sorted<const N: usize>(mut ids: [TaskId; N]) -> Vec<TaskId> {
    ids.sort();
    ids.to_vec()
}

pub async fn the_feeder_records_each_ending_once<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let project = acme.project(store, "work").await;
    let create = |title: &'static str, attempts: i64| {
        let new = NewTask {
            max_attempts: MaxAttempts::parse(attempts).expect("attempts"),
            ..task(project.id, title)
        };
        async move { store.create_task(ctx, new).await.expect("task").id }
    };
    let (shipped, dead, dropped, flaky, waiting) = (
        create("shipped", 3).await,
        create("dead", 3).await,
        create("dropped", 3).await,
        create("flaky", 2).await,
        create("waiting", 3).await,
    );
    let lease = LeaseDuration::default();
    let short = LeaseDuration::parse_seconds(1).expect("lease");
    let token = claimed(store, ctx, shipped, ada.id, lease).await;
    store
        .complete_task(ctx, shipped, token, None)
        .await
        .expect("complete");
    let token = claimed(store, ctx, dead, ada.id, lease).await;
    store
        .fail_task(ctx, dead, token, None, Retry::Never)
        .await
        .expect("fail for good");
    claimed(store, ctx, dropped, ada.id, lease).await;
    store
        .cancel_task(ctx, dropped, None, None)
        .await
        .expect("cancel running");
    store
        .cancel_task(ctx, waiting, None, None)
        .await
        .expect("cancel queued");
    // The first of two attempts runs out of its lease: queued again, which is no outcome.
    claimed(store, ctx, flaky, ada.id, short).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    store.expire_leases(ctx).await.expect("expire");

    let fed = store.feed_task_outcomes(ctx, 100).await.expect("feed");
    assert_eq!(
        fed,
        FedOutcomes {
            recorded: 2,
            more: false
        }
    );
    assert_eq!(fed_tasks(store, ctx, ada.id).await, sorted([shipped, dead]));
    let now = Utc::now();
    let score = store
        .get_reputation(ctx, ada.id, now)
        .await
        .expect("reputation");
    assert!((score.reliability + 5.0).abs() < 0.01, "{score:?}");
    // The standing's ranking key moved with the events.
    let board = store
        .leaderboard(
            ctx,
            LeaderboardQuery {
                kind: LeaderboardKind::Reputation,
                period: LeaderboardPeriod::AllTime,
                as_of: now,
                limit: Limit::default(),
            },
        )
        .await
        .expect("leaderboard");
    let entry = board
        .iter()
        .find(|entry| entry.holder == Participant::Agent(ada.id))
        .expect("ada ranked");
    assert!((entry.score - score.overall).abs() < 0.01, "{entry:?}");

    // Fed already: a second run adds nothing, and a client's call for the same ending answers
    // the feeder's event.
    assert_eq!(
        store.feed_task_outcomes(ctx, 100).await.expect("feed"),
        FedOutcomes::default()
    );
    let by_client = store
        .record_task_outcome(ctx, ada.id, shipped, true)
        .await
        .expect("outcome");
    assert_eq!((by_client.task_id, by_client.delta), (Some(shipped), 5));
    assert_eq!(fed_tasks(store, ctx, ada.id).await, sorted([shipped, dead]));

    // The last attempt runs out too: failed for good, one failure.
    claimed(store, ctx, flaky, ada.id, short).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    store.expire_leases(ctx).await.expect("expire");
    let fed = store.feed_task_outcomes(ctx, 1).await.expect("feed");
    assert_eq!(
        fed,
        FedOutcomes {
            recorded: 1,
            more: true
        }
    );
    assert_eq!(
        store.feed_task_outcomes(ctx, 1).await.expect("feed"),
        FedOutcomes::default()
    );
    assert_eq!(
        fed_tasks(store, ctx, ada.id).await,
        sorted([shipped, dead, flaky])
    );

    assert_invalid(store.feed_task_outcomes(ctx, 0).await, "limit");
    assert_invalid(
        store.feed_task_outcomes(ctx, MAX_FEED_BATCH + 1).await,
        "limit",
    );
}

pub async fn an_ending_a_client_recorded_is_not_fed_again<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let project = acme.project(store, "work").await;
    let done = store
        .create_task(ctx, task(project.id, "done"))
        .await
        .expect("task")
        .id;
    let token = claimed(store, ctx, done, ada.id, LeaseDuration::default()).await;
    store
        .complete_task(ctx, done, token, None)
        .await
        .expect("complete");
    let first = store
        .record_task_outcome(ctx, ada.id, done, true)
        .await
        .expect("outcome");
    let again = store
        .record_task_outcome(ctx, ada.id, done, true)
        .await
        .expect("outcome");
    assert_eq!(again.id, first.id, "one ending, one event");
    assert_eq!(
        store.feed_task_outcomes(ctx, 100).await.expect("feed"),
        FedOutcomes::default()
    );
    assert_eq!(fed_tasks(store, ctx, ada.id).await, [done]);
}

pub async fn concurrent_feeders_and_clients_count_each_ending_once<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    let project = acme.project(store, "work").await;
    let mut done = Vec::new();
    for n in 0..12 {
        let id = store
            .create_task(ctx, task(project.id, &format!("task {n}")))
            .await
            .expect("task")
            .id;
        let runner = if n % 2 == 0 { ada.id } else { bob.id };
        let token = claimed(store, ctx, id, runner, LeaseDuration::default()).await;
        store
            .complete_task(ctx, id, token, None)
            .await
            .expect("complete");
        done.push((id, runner));
    }
    let feed_all = || async {
        let mut recorded = 0;
        loop {
            let fed = store.feed_task_outcomes(ctx, 5).await?;
            recorded += fed.recorded;
            if !fed.more {
                return Ok::<u32, RepoError>(recorded);
            }
        }
    };
    let mut racers: Vec<Boxed<'_, Result<u32, RepoError>>> = (0..4)
        .map(|_| Box::pin(feed_all()) as Boxed<'_, _>)
        .collect();
    for &(id, runner) in &done {
        racers.push(Box::pin(async move {
            store
                .record_task_outcome(ctx, runner, id, true)
                .await
                .map(|_| 0)
        }));
    }
    for outcome in all_at_once(racers).await {
        outcome.expect("feeder or client");
    }
    let mut fed: Vec<TaskId> = fed_tasks(store, ctx, ada.id).await;
    fed.extend(fed_tasks(store, ctx, bob.id).await);
    fed.sort();
    let mut expected: Vec<TaskId> = done.iter().map(|(id, _)| *id).collect();
    expected.sort();
    assert_eq!(fed, expected, "every ending exactly once");
    let score = store
        .get_reputation(ctx, ada.id, Utc::now())
        .await
        .expect("reputation");
    assert!((score.reliability - 30.0).abs() < 0.01, "{score:?}");
}

pub async fn the_feeder_keeps_a_watermark_per_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let globex = Fixture::create(store, "globex", PASSWORD).await;
    let idle = Fixture::create(store, "initech", PASSWORD).await;
    let mut agents = Vec::new();
    for fixture in [&acme, &globex] {
        let ctx = &fixture.ctx;
        let runner = agent(store, ctx, "runner").await;
        let project = fixture.project(store, "work").await;
        let id = store
            .create_task(ctx, task(project.id, "done"))
            .await
            .expect("task")
            .id;
        let token = claimed(store, ctx, id, runner.id, LeaseDuration::default()).await;
        store
            .complete_task(ctx, id, token, None)
            .await
            .expect("complete");
        agents.push(runner.id);
    }
    let due = store
        .organizations_with_task_outcomes_to_feed(10)
        .await
        .expect("organizations");
    assert!(due.contains(&acme.org.id) && due.contains(&globex.org.id));
    assert!(!due.contains(&idle.org.id), "no history, nothing to feed");

    let fed = store
        .feed_task_outcomes(&acme.ctx, 100)
        .await
        .expect("feed");
    assert_eq!(fed.recorded, 1);
    assert!(fed_tasks(store, &globex.ctx, agents[1]).await.is_empty());

    // A round over every organization feeds the other one and nothing twice.
    let round = feed_every_organization(store, FeedRound::default())
        .await
        .expect("round");
    let recorded: u32 = round
        .iter()
        .map(|(_, fed)| fed.as_ref().expect("fed").recorded)
        .sum();
    assert_eq!(recorded, 1);
    assert!(
        round
            .iter()
            .any(|(org, fed)| *org == globex.org.id && fed.as_ref().expect("fed").recorded == 1)
    );
    assert_eq!(fed_tasks(store, &globex.ctx, agents[1]).await.len(), 1);
    assert_eq!(fed_tasks(store, &acme.ctx, agents[0]).await.len(), 1);
}

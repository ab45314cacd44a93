//! Reputation: events, decay against a fixed clock, task outcomes.

use chrono::{Duration, Utc};
use orchestore_domain::{
    AgentId, NewReputationEvent, ReputationDelta, ReputationDimension, ReputationReason, TaskId,
};
use orchestore_repo::{PageRequest, ReputationEventSort, Store};

use super::agent;
use crate::Fixture;
use crate::cases::{PASSWORD, assert_not_found, assert_reference, task};

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

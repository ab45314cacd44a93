//! Waiting claims in one process, tasks queued in another: two stores on one PostgreSQL
//! database, each with its own pool, as two processes would be. A store transaction that queues
//! tasks by several calls announces them with its commit, one `NOTIFY` per organization with
//! their number: PostgreSQL delivers identical payloads sent in one transaction once, so a
//! `NOTIFY` per call woke one claim elsewhere for all of them, and the others waited for their
//! recheck. The producer closes right after its commit: an announcement sent after the commit,
//! not with it, could be lost.

use std::time::{Duration, Instant};

use orchestore::{DbConfig, SeaStore};
use orchestore_domain::{AgentKind, ClaimRequest, ClaimWait, Name, NewAgent, NewTask, Title};
use orchestore_repo::{QueueRepo, Store};
use orchestore_testkit::{Fixture, TestDb};

const PASSWORD: &str = "correct horse battery";
const TASKS: usize = 3;

#[tokio::test]
async fn postgres_tasks_queued_in_a_transaction_wake_as_many_claims_elsewhere() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let workers: &dyn Store = db.store();
    let producer = SeaStore::connect(&DbConfig::new(db.url()))
        .await
        .expect("the producer's store");
    let fixture = Fixture::create(workers, "acme", PASSWORD).await;
    let project = fixture.project(workers, "Apollo").await;
    let agent = workers
        .create_agent(
            &fixture.ctx,
            NewAgent::named(Name::parse("name", "worker").expect("name"), AgentKind::Ai),
        )
        .await
        .expect("agent");

    let mut claims = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let (store, ctx) = (db.store().clone(), fixture.ctx.clone());
        claims.spawn(async move {
            let request = ClaimRequest {
                wait: ClaimWait::parse_millis(10_000).expect("wait"),
                ..ClaimRequest::one(agent.id)
            };
            let claimed = store.claim_tasks(&ctx, request).await.expect("claim");
            (claimed.len(), Instant::now())
        });
    }
    // Long enough for each claim to listen and look once: the next look of its own is a
    // recheck, about a second after the first.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let tx = producer.begin().await.expect("begin");
    for i in 0..TASKS {
        let title = Title::parse(&format!("task {i}")).expect("title");
        tx.create_task(&fixture.ctx, NewTask::titled(project.id, title))
            .await
            .expect("create");
    }
    tx.commit().await.expect("commit");
    let committed = Instant::now();
    producer.close().await.expect("close");

    while let Some(claim) = claims.join_next().await {
        let (taken, at) = claim.expect("the claim's task");
        assert_eq!(taken, 1);
        let after = at.saturating_duration_since(committed);
        // Woken by the notification, not found by a recheck (some 800 ms after the commit).
        assert!(
            after < Duration::from_millis(400),
            "a claim took its task {after:?} after the commit"
        );
    }
}

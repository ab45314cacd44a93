//! A store its program closes refuses every call afterwards, with `Unavailable`, on both
//! backends: reads, creates, claims and transactions — on PostgreSQL those run on the store's
//! pool and on the connections it pools itself.

use orchestore_domain::{AgentKind, ClaimRequest, ClaimWait, Name, NewAgent, NewTask, Title};
use orchestore_repo::{RepoError, Store};
use orchestore_testkit::{Fixture, TestDb};

const PASSWORD: &str = "correct horse battery";

fn assert_unavailable<T: std::fmt::Debug>(what: &str, result: Result<T, RepoError>) {
    assert!(
        matches!(result, Err(RepoError::Unavailable(_))),
        "{what} after the store closed: {result:?}"
    );
}

async fn a_closed_store_refuses_every_call(db: &TestDb) {
    let sea = db.store().clone();
    let store: &dyn Store = &sea;
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let project = fixture.project(store, "Apollo").await;
    let titled = |title: &str| NewTask::titled(project.id, Title::parse(title).expect("title"));
    let task = store
        .create_task(&fixture.ctx, titled("before"))
        .await
        .expect("create");
    let agent = store
        .create_agent(
            &fixture.ctx,
            NewAgent::named(Name::parse("name", "worker").expect("name"), AgentKind::Ai),
        )
        .await
        .expect("agent");
    store.get_task(&fixture.ctx, task.id).await.expect("read");
    // A claim that waits for work: on PostgreSQL it starts the listener of `NOTIFY`, which
    // holds a pooled connection that closing must take back.
    let waiting_claim = || ClaimRequest {
        wait: ClaimWait::parse_millis(100).expect("wait"),
        ..ClaimRequest::one(agent.id)
    };
    let waited = store
        .claim_tasks(&fixture.ctx, waiting_claim())
        .await
        .expect("a claim that waits");
    assert_eq!(waited.len(), 1, "the task created before");
    let waited = store
        .claim_tasks(&fixture.ctx, waiting_claim())
        .await
        .expect("a claim that waits");
    assert!(waited.is_empty(), "nothing left: {waited:?}");

    tokio::time::timeout(std::time::Duration::from_secs(10), sea.close())
        .await
        .expect("closing ends")
        .expect("close");
    let clone: &dyn Store = &db.store().clone();
    assert_unavailable("a read", clone.get_task(&fixture.ctx, task.id).await);
    assert_unavailable(
        "a create",
        store.create_task(&fixture.ctx, titled("after")).await,
    );
    assert_unavailable(
        "a claim",
        store
            .claim_tasks(&fixture.ctx, ClaimRequest::one(agent.id))
            .await,
    );
    assert_unavailable("a transaction", store.begin().await.map(|_| ()));
}

#[tokio::test]
async fn sqlite_a_closed_store_refuses_every_call() {
    a_closed_store_refuses_every_call(&TestDb::sqlite().await).await;
}

#[tokio::test]
async fn postgres_a_closed_store_refuses_every_call() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    a_closed_store_refuses_every_call(&db).await;
}

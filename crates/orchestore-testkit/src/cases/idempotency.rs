//! Idempotent requests: a key taken once, answers replayed, other requests refused, and keys
//! that expired or were abandoned taken over. Times are passed in: nothing waits.

use chrono::{DateTime, Duration, Utc};
use orchestore_domain::IdempotencyKey;
use orchestore_repo::{
    Actor, Ctx, IdempotencyWindow, IdempotentStart, RequestFingerprint, Store, StoredResponse,
};

use super::PASSWORD;
use crate::Fixture;

const WINDOW: IdempotencyWindow = IdempotencyWindow {
    keep_for: Duration::hours(24),
    pending_for: Duration::minutes(5),
};

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).expect("a key")
}

fn created(body: &str) -> StoredResponse {
    StoredResponse {
        status: 201,
        content_type: Some("application/json".to_owned()),
        location: Some("/api/v1/projects/1".to_owned()),
        body: body.as_bytes().to_vec(),
    }
}

async fn begin<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    key: &IdempotencyKey,
    fingerprint: &RequestFingerprint,
    at: DateTime<Utc>,
) -> IdempotentStart {
    store
        .begin_idempotent_request(ctx, key, fingerprint, at, WINDOW)
        .await
        .expect("begin")
}

pub async fn a_key_is_taken_once_and_replays_its_answer<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let now = Utc::now();
    let (report, first, second) = (key("report"), [1; 32], [2; 32]);

    assert_eq!(
        begin(store, ctx, &report, &first, now).await,
        IdempotentStart::Started
    );
    // Held without an answer: the same request waits, another is refused.
    assert_eq!(
        begin(store, ctx, &report, &first, now).await,
        IdempotentStart::InProgress
    );
    assert_eq!(
        begin(store, ctx, &report, &second, now).await,
        IdempotentStart::Mismatch
    );

    let answer = created("{\"id\": 1}");
    store
        .finish_idempotent_request(ctx, &report, &first, &answer)
        .await
        .expect("finish");
    let later = now + Duration::hours(23);
    assert_eq!(
        begin(store, ctx, &report, &first, later).await,
        IdempotentStart::Replay(answer.clone())
    );
    assert_eq!(
        begin(store, ctx, &report, &second, later).await,
        IdempotentStart::Mismatch
    );
    // Another request's finish or abandon does not touch the answer.
    store
        .abandon_idempotent_request(ctx, &report, &second)
        .await
        .expect("abandon of another request");
    store
        .abandon_idempotent_request(ctx, &report, &first)
        .await
        .expect("abandon of an answered request");
    assert_eq!(
        begin(store, ctx, &report, &first, later).await,
        IdempotentStart::Replay(answer)
    );

    // Past its window the key is free for any request.
    let expired = now + Duration::hours(25);
    assert_eq!(
        begin(store, ctx, &report, &second, expired).await,
        IdempotentStart::Started
    );
}

pub async fn keys_belong_to_their_caller<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let other = Ctx::new(fixture.org.id, Actor::System);
    let now = Utc::now();
    let (shared, fingerprint) = (key("shared"), [3; 32]);
    assert_eq!(
        begin(store, &fixture.ctx, &shared, &fingerprint, now).await,
        IdempotentStart::Started
    );
    assert_eq!(
        begin(store, &other, &shared, &fingerprint, now).await,
        IdempotentStart::Started
    );
}

pub async fn an_abandoned_key_runs_again<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let now = Utc::now();
    let (refused, stuck, fingerprint, other) = (key("refused"), key("stuck"), [4; 32], [5; 32]);

    // Freed by its request (a conflict, a server error): a retry runs.
    assert_eq!(
        begin(store, ctx, &refused, &fingerprint, now).await,
        IdempotentStart::Started
    );
    store
        .abandon_idempotent_request(ctx, &refused, &fingerprint)
        .await
        .expect("abandon");
    assert_eq!(
        begin(store, ctx, &refused, &fingerprint, now).await,
        IdempotentStart::Started
    );

    // Held without an answer past `pending_for` (its server stopped): the same request takes
    // it over, once; another request is still refused.
    assert_eq!(
        begin(store, ctx, &stuck, &fingerprint, now).await,
        IdempotentStart::Started
    );
    let after = now + Duration::minutes(6);
    assert_eq!(
        begin(store, ctx, &stuck, &other, after).await,
        IdempotentStart::Mismatch
    );
    assert_eq!(
        begin(store, ctx, &stuck, &fingerprint, after).await,
        IdempotentStart::Started
    );
    assert_eq!(
        begin(store, ctx, &stuck, &fingerprint, after).await,
        IdempotentStart::InProgress
    );
}

pub async fn expired_keys_are_purged_in_batches<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let now = Utc::now();
    for n in 0..5 {
        let old = key(&format!("old-{n}"));
        assert_eq!(
            begin(store, ctx, &old, &[6; 32], now).await,
            IdempotentStart::Started
        );
        store
            .finish_idempotent_request(ctx, &old, &[6; 32], &created("{}"))
            .await
            .expect("finish");
    }
    let fresh = key("fresh");
    let later = now + Duration::hours(25);
    assert_eq!(
        begin(store, ctx, &fresh, &[7; 32], later).await,
        IdempotentStart::Started
    );

    assert_eq!(
        store
            .purge_expired_idempotent_requests(later, 3)
            .await
            .expect("purge"),
        3
    );
    assert_eq!(
        store
            .purge_expired_idempotent_requests(later, 3)
            .await
            .expect("purge"),
        2
    );
    assert_eq!(
        store
            .purge_expired_idempotent_requests(later, 3)
            .await
            .expect("purge"),
        0
    );
    // The live key stays.
    assert_eq!(
        begin(store, ctx, &fresh, &[7; 32], later).await,
        IdempotentStart::InProgress
    );
}

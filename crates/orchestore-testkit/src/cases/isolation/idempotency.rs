//! Idempotent requests: a key is its organization's (and caller's) own.

use orchestore_domain::IdempotencyKey;
use orchestore_repo::{IdempotencyWindow, IdempotentStart, StoredResponse};

use super::*;

pub(super) async fn check_idempotency<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let key = IdempotencyKey::parse("create-the-report").expect("key");
    let fingerprint = [7; 32];
    let window = IdempotencyWindow {
        keep_for: chrono::Duration::hours(24),
        pending_for: chrono::Duration::minutes(5),
    };
    let answer = StoredResponse {
        status: 201,
        content_type: Some("application/json".to_owned()),
        location: Some(format!("/api/v1/projects/{}", a.project.id)),
        body: a.project.id.to_string().into_bytes(),
    };
    let (a_ctx, b_ctx) = (&a.fixture.ctx, &b.fixture.ctx);
    let began = store
        .begin_idempotent_request(a_ctx, &key, &fingerprint, Utc::now(), window)
        .await
        .expect("A takes its key");
    assert_eq!(began, IdempotentStart::Started);
    store
        .finish_idempotent_request(a_ctx, &key, &fingerprint, &answer)
        .await
        .expect("A keeps its answer");

    // B's same key, for the same request, is B's own: it starts, and replays none of A's.
    let b_began = store
        .begin_idempotent_request(b_ctx, &key, &fingerprint, Utc::now(), window)
        .await;
    assert!(
        matches!(b_began, Ok(IdempotentStart::Started)),
        "{b_began:?}"
    );
    c.clean("begin_idempotent_request", b_began);
    // B's abandon and finish touch B's key only.
    c.clean(
        "abandon_idempotent_request",
        store
            .abandon_idempotent_request(b_ctx, &key, &fingerprint)
            .await,
    );
    c.clean(
        "finish_idempotent_request",
        store
            .finish_idempotent_request(
                b_ctx,
                &key,
                &fingerprint,
                &StoredResponse {
                    status: 500,
                    content_type: None,
                    location: None,
                    body: Vec::new(),
                },
            )
            .await,
    );
    let a_again = store
        .begin_idempotent_request(a_ctx, &key, &fingerprint, Utc::now(), window)
        .await
        .expect("A's key again");
    assert_eq!(a_again, IdempotentStart::Replay(answer));
    // Deletes what expired, of every organization: the sweep's, for the server.
    c.unscoped("purge_expired_idempotent_requests");
}

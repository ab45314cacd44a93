//! Idempotent requests: the answer to a creating request, kept under the client's
//! `Idempotency-Key` so that a retry of the same request gets the same answer instead of a
//! second creation.

use chrono::{DateTime, Duration, Utc};
use orchestore_domain::IdempotencyKey;

use crate::{Ctx, RepoResult};

/// A request's fingerprint: a digest of its method, path, query and body. A key reused for a
/// request with another fingerprint is refused.
pub type RequestFingerprint = [u8; 32];

/// The answer a request got, as it is replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    /// The `Location` of what a creation made, when it said.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// How long keys live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyWindow {
    /// How long an answer is replayed (24 hours for the API).
    pub keep_for: Duration,
    /// How long a request may hold its key without an answer before a retry may take the key
    /// over: longer than any request runs (the server's request deadline), so that only a
    /// request whose server stopped halfway is taken over.
    pub pending_for: Duration,
}

/// What beginning a request under a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotentStart {
    /// The key is this request's now: run it, then finish or abandon it.
    Started,
    /// The same request was answered before: this is its answer.
    Replay(StoredResponse),
    /// The same request holds the key and has no answer yet.
    InProgress,
    /// The key was used for another request.
    Mismatch,
}

#[async_trait::async_trait]
pub trait IdempotencyRepo: Send + Sync {
    /// Takes `key` for the caller's request with `fingerprint` at `now`, unless a request with
    /// the key holds it or was answered within the window: then says which. An expired key, or
    /// one held without an answer for longer than `window.pending_for`, is taken over.
    async fn begin_idempotent_request(
        &self,
        ctx: &Ctx,
        key: &IdempotencyKey,
        fingerprint: &RequestFingerprint,
        now: DateTime<Utc>,
        window: IdempotencyWindow,
    ) -> RepoResult<IdempotentStart>;

    /// Keeps the answer of the caller's request under `key`, which it began; a no-op when the
    /// key is no longer its (taken over meanwhile).
    async fn finish_idempotent_request(
        &self,
        ctx: &Ctx,
        key: &IdempotencyKey,
        fingerprint: &RequestFingerprint,
        response: &StoredResponse,
    ) -> RepoResult<()>;

    /// Frees `key` of a request that has no answer worth keeping (it failed in a way a retry
    /// may not): a retry runs again.
    async fn abandon_idempotent_request(
        &self,
        ctx: &Ctx,
        key: &IdempotencyKey,
        fingerprint: &RequestFingerprint,
    ) -> RepoResult<()>;

    /// Instance-wide: deletes up to `limit` keys that expired before `now`, oldest first, and
    /// says how many.
    async fn purge_expired_idempotent_requests(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> RepoResult<u64>;
}

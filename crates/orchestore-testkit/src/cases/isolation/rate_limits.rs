//! Rate limits: another organization's buckets are found by no name, and a task cannot name
//! one.

use orchestore_domain::{
    NewRateLimit, RateLimit, RateLimitName, RateLimitPatch, RateLimitUses, RawRateLimitUse,
    RefillPeriod, TokenCount,
};
use orchestore_repo::Ctx;

use super::*;

/// What the case's organization holds of this aggregate: a bucket named after it.
pub(super) struct RateLimitHoldings {
    limit: RateLimit,
}

impl RateLimitHoldings {
    pub(super) async fn create<S: Store + ?Sized>(store: &S, ctx: &Ctx, slug: &str) -> Self {
        let limit = store
            .create_rate_limit(ctx, new_bucket(&format!("{slug}:requests")))
            .await
            .expect("rate limit");
        Self { limit }
    }
}

/// What the organization reads of this aggregate.
pub(super) async fn rate_limits_view<S: Store + ?Sized>(store: &S, h: &Holdings) -> Vec<String> {
    let ctx = &h.fixture.ctx;
    vec![
        format!(
            "{:?}",
            store.get_rate_limit(ctx, &h.rate_limits.limit.name).await
        ),
        format!("{:?}", store.list_rate_limits(ctx, all()).await),
    ]
}

fn new_bucket(name: &str) -> NewRateLimit {
    NewRateLimit {
        name: RateLimitName::parse("name", name).expect("name"),
        capacity: TokenCount::parse("capacity", 10).expect("capacity"),
        period: RefillPeriod::parse("period_seconds", 60).expect("period"),
    }
}

pub(super) async fn check_rate_limits<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    let theirs = a.rate_limits.limit.name.clone();
    c.not_found("get_rate_limit", store.get_rate_limit(ctx, &theirs).await);
    c.not_found(
        "update_rate_limit",
        store
            .update_rate_limit(ctx, &theirs, RateLimitPatch::default(), None)
            .await,
    );
    c.not_found(
        "delete_rate_limit",
        store.delete_rate_limit(ctx, &theirs, None).await,
    );
    let naming_theirs = NewTask {
        rate_limits: RateLimitUses::parse(&[RawRateLimitUse {
            name: theirs.as_str().to_owned(),
            units: 1,
        }])
        .expect("uses"),
        ..task(b.project.id, "calls their bucket")
    };
    c.reference(
        "create_task",
        "rate_limits",
        store.create_task(ctx, naming_theirs).await,
    );
    c.clean("list_rate_limits", store.list_rate_limits(ctx, all()).await);
    // The name is B's to take too.
    c.clean(
        "create_rate_limit",
        store
            .create_rate_limit(ctx, new_bucket(theirs.as_str()))
            .await,
    );
}

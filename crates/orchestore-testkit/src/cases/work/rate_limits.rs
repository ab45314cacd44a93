//! Rate limits: named token buckets that tasks consume, taken by claims and refilled by time.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use orchestore_domain::{
    ClaimLimit, ClaimRequest, NewRateLimit, NewTask, Priority, ProjectId, RateLimitName,
    RateLimitPatch, RateLimitUses, RawRateLimitUse, RefillPeriod, TaskStatus, TokenCount,
};
use orchestore_repo::{
    AuditFilter, AuditSort, PageRequest, QueueRepo, RateLimitRepo, RepoError, Store, TaskRepo,
};

use super::graph::worker;
use crate::cases::{PASSWORD, assert_conflict, assert_invalid, assert_not_found, task};
use crate::{Fixture, TestDb};

fn name(raw: &str) -> RateLimitName {
    RateLimitName::parse("name", raw).expect("rate limit name")
}

fn bucket(raw: &str, capacity: i64, period_seconds: i64) -> NewRateLimit {
    NewRateLimit {
        name: name(raw),
        capacity: TokenCount::parse("capacity", capacity).expect("capacity"),
        period: RefillPeriod::parse("period_seconds", period_seconds).expect("period"),
    }
}

/// A task of `priority` that consumes `uses` (bucket, units) at each claim.
fn limited(project: ProjectId, title: &str, priority: i64, uses: &[(&str, i64)]) -> NewTask {
    let raw: Vec<RawRateLimitUse> = uses
        .iter()
        .map(|&(name, units)| RawRateLimitUse {
            name: name.to_owned(),
            units,
        })
        .collect();
    NewTask {
        priority: Priority::parse(priority).expect("priority"),
        rate_limits: RateLimitUses::parse(&raw).expect("rate limits"),
        ..task(project, title)
    }
}

fn request(agent: orchestore_domain::AgentId, limit: i64) -> ClaimRequest {
    ClaimRequest {
        limit: ClaimLimit::parse(limit).expect("limit"),
        ..ClaimRequest::one(agent)
    }
}

/// Refusals of the batch's only task come wrapped with its index: the error itself.
fn unwrapped<T>(result: Result<T, RepoError>) -> Result<T, RepoError> {
    result.map_err(|e| match e {
        RepoError::InBatch { error, .. } => *error,
        other => other,
    })
}

pub async fn rate_limits_are_created_listed_changed_and_deleted<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let created = store
        .create_rate_limit(ctx, bucket("openai:requests", 500, 60))
        .await
        .expect("create");
    assert_eq!(created.name.as_str(), "openai:requests");
    assert_eq!(
        (created.capacity.get(), created.period_seconds.seconds()),
        (500, 60)
    );
    assert_eq!(created.tokens, 500, "a new bucket is full");
    assert_conflict(
        store
            .create_rate_limit(ctx, bucket("openai:requests", 1, 1))
            .await,
        Some("name"),
    );
    // Names are the organization's own.
    store
        .create_rate_limit(&other.ctx, bucket("openai:requests", 1, 1))
        .await
        .expect("the same name elsewhere");
    store
        .create_rate_limit(ctx, bucket("search", 10, 1))
        .await
        .expect("second");

    let read = store
        .get_rate_limit(ctx, &name("openai:requests"))
        .await
        .expect("get");
    assert_eq!(read, created);
    let listed = store
        .list_rate_limits(ctx, PageRequest::default())
        .await
        .expect("list");
    let names: Vec<&str> = listed.items.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["openai:requests", "search"]);

    let changed = store
        .update_rate_limit(
            ctx,
            &name("openai:requests"),
            RateLimitPatch {
                capacity: Some(TokenCount::parse("capacity", 100).expect("capacity")),
                period: None,
            },
            None,
        )
        .await
        .expect("update");
    assert_eq!(changed.capacity.get(), 100);
    assert_eq!(
        changed.tokens, 100,
        "the balance is kept within the new capacity"
    );
    assert_eq!(changed.period_seconds.seconds(), 60);

    store
        .delete_rate_limit(ctx, &name("search"), None)
        .await
        .expect("delete");
    assert_not_found(
        store.get_rate_limit(ctx, &name("search")).await,
        "rate_limit",
    );
    assert_not_found(
        store.delete_rate_limit(ctx, &name("search"), None).await,
        "rate_limit",
    );
    let audited = store
        .list_audit(
            ctx,
            AuditFilter {
                entity: Some("rate_limit".to_owned()),
                ..AuditFilter::default()
            },
            PageRequest::<AuditSort>::default(),
        )
        .await
        .expect("audit");
    let mut actions: Vec<&str> = audited.items.iter().map(|a| a.action.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "rate_limit.create",
            "rate_limit.create",
            "rate_limit.delete",
            "rate_limit.update"
        ]
    );
}

pub async fn tasks_name_buckets_that_exist_and_can_serve_them<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Calls").await;
    store
        .create_rate_limit(ctx, bucket("openai", 3, 60))
        .await
        .expect("bucket");
    store
        .create_rate_limit(&other.ctx, bucket("theirs", 3, 60))
        .await
        .expect("their bucket");
    let refused = store
        .create_task(ctx, limited(project.id, "missing", 0, &[("theirs", 1)]))
        .await;
    match unwrapped(refused) {
        Err(RepoError::Reference { field, .. }) => assert_eq!(field, "rate_limits"),
        other => panic!("expected a reference error on rate_limits, got {other:?}"),
    }
    assert_invalid(
        unwrapped(
            store
                .create_task(ctx, limited(project.id, "too big", 0, &[("openai", 4)]))
                .await,
        ),
        "rate_limits",
    );
    let created = store
        .create_task(ctx, limited(project.id, "call", 0, &[("openai", 3)]))
        .await
        .expect("create");
    let uses: Vec<(String, u32)> = created
        .rate_limits
        .iter()
        .map(|u| (u.name.as_str().to_owned(), u.units.get()))
        .collect();
    assert_eq!(uses, [("openai".to_owned(), 3)]);
    assert_eq!(store.get_task(ctx, created.id).await.expect("get"), created);
}

pub async fn claims_take_tokens_and_pass_over_tasks_whose_bucket_is_empty<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Calls").await;
    let agent = worker(store, ctx, "caller", &[]).await;
    // Refilling takes hours: the test sees none of it.
    store
        .create_rate_limit(ctx, bucket("openai", 2, 36_000))
        .await
        .expect("openai");
    store
        .create_rate_limit(ctx, bucket("search", 3, 36_000))
        .await
        .expect("search");
    store
        .create_rate_limit(ctx, bucket("gone", 1, 36_000))
        .await
        .expect("gone");
    let mut ids = std::collections::BTreeMap::new();
    for (title, priority, uses) in [
        ("top, two units", 9, &[("openai", 2)][..]),
        ("top, both buckets", 8, &[("openai", 1), ("search", 1)][..]),
        ("search", 7, &[("search", 2)][..]),
        ("search again", 6, &[("search", 1)][..]),
        ("plain", 1, &[][..]),
        ("deleted bucket", 0, &[("gone", 1)][..]),
    ] {
        let created = store
            .create_task(ctx, limited(project.id, title, priority, uses))
            .await
            .expect("create");
        ids.insert(title, created.id);
    }
    store
        .delete_rate_limit(ctx, &name("gone"), None)
        .await
        .expect("delete gone");

    let claimed = store
        .claim_tasks(ctx, request(agent.id, 10))
        .await
        .expect("claim");
    let titles: Vec<&str> = claimed.iter().map(|c| c.task.title.as_str()).collect();
    // openai holds 2: the top task takes both, so the next one, which also needs search,
    // waits; search's 3 go to the next two. A deleted bucket holds nothing back.
    assert_eq!(
        titles,
        [
            "top, two units",
            "search",
            "search again",
            "plain",
            "deleted bucket"
        ],
        "claim order, passing over what its buckets cannot serve"
    );
    let waiting = store
        .get_task(ctx, ids["top, both buckets"])
        .await
        .expect("get");
    assert_eq!(waiting.status, TaskStatus::Queued);
    for (bucket, left) in [("openai", 0), ("search", 0)] {
        let read = store.get_rate_limit(ctx, &name(bucket)).await.expect("get");
        assert_eq!(read.tokens, left, "{bucket}");
    }
    assert!(
        store
            .claim_tasks(ctx, request(agent.id, 10))
            .await
            .expect("claim again")
            .is_empty()
    );
    match store
        .claim_task(
            ctx,
            ids["top, both buckets"],
            agent.id,
            orchestore_domain::LeaseDuration::default(),
        )
        .await
    {
        Err(RepoError::Conflict { reason, .. }) => {
            assert!(reason.contains("openai"), "{reason}");
            assert!(reason.contains("search"), "{reason}");
        }
        other => panic!("expected a conflict naming the buckets, got {other:?}"),
    }
}

pub async fn concurrent_claims_never_overdraw_a_bucket<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Calls").await;
    let agent = worker(store, ctx, "caller", &[]).await;
    store
        .create_rate_limit(ctx, bucket("openai", 7, 36_000))
        .await
        .expect("bucket");
    for n in 0..30 {
        store
            .create_task(
                ctx,
                limited(project.id, &format!("t{n}"), 0, &[("openai", 1)]),
            )
            .await
            .expect("create");
    }
    let claim = || store.claim_tasks(ctx, request(agent.id, 3));
    let (a, b, c, d) = tokio::join!(claim(), claim(), claim(), claim());
    let mut ids: Vec<_> = [a, b, c, d]
        .into_iter()
        .flat_map(|claimed| claimed.expect("claim"))
        .map(|c| c.task.id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7, "exactly the bucket's tokens, each task once");
    let read = store
        .get_rate_limit(ctx, &name("openai"))
        .await
        .expect("get");
    assert_eq!(read.tokens, 0);
}

/// With the store's clock fixed: a bucket emptied by claims gives back exactly the share of its
/// capacity that the time moved on earned, whole tokens only.
pub async fn a_bucket_refills_by_the_time_elapsed_on_a_fixed_clock<S: Store + ?Sized>(
    _store: &S,
    db: &TestDb,
) {
    let now = Arc::new(Mutex::new(Utc::now().trunc_subsecs(6)));
    let clock = Arc::clone(&now);
    let store = db
        .store()
        .clone()
        .with_clock(move || *clock.lock().expect("clock"));
    let advance = |by: Duration| {
        let mut at = now.lock().expect("clock");
        *at += by;
    };
    let acme = Fixture::create(&store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(&store, "Calls").await;
    let agent = worker(&store, ctx, "caller", &[]).await;
    // 10 per minute: a token every 6 seconds.
    store
        .create_rate_limit(ctx, bucket("openai", 10, 60))
        .await
        .expect("bucket");
    for n in 0..20 {
        store
            .create_task(
                ctx,
                limited(project.id, &format!("t{n}"), 0, &[("openai", 1)]),
            )
            .await
            .expect("create");
    }
    let claim = async |expected: usize, why: &str| {
        let claimed = store
            .claim_tasks(ctx, request(agent.id, 100))
            .await
            .expect("claim");
        assert_eq!(claimed.len(), expected, "{why}");
    };
    claim(10, "a full bucket").await;
    claim(0, "an empty one").await;
    advance(Duration::seconds(30));
    claim(5, "half a period: half the capacity").await;
    advance(Duration::seconds(5));
    claim(0, "5 s: not a whole token").await;
    advance(Duration::seconds(1));
    claim(1, "6 s in all: one token").await;
    advance(Duration::hours(1));
    claim(4, "a full bucket again, for the 4 tasks left").await;
    let read = store
        .get_rate_limit(ctx, &name("openai"))
        .await
        .expect("get");
    assert_eq!(read.tokens, 6);
    let at: DateTime<Utc> = *now.lock().expect("clock");
    advance(Duration::seconds(12));
    let later = store
        .get_rate_limit(ctx, &name("openai"))
        .await
        .expect("get");
    assert_eq!(later.tokens, 8, "read at {at} + 12 s");
}

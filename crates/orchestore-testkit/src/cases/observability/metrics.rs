//! Metric samples: recorded by the thousand in one call, read back in buckets with min, max,
//! mean, count and the 95th percentile — the same figures on both backends.

use chrono::Duration;
use orchestore_domain::{Bucket, MetricBucket, MetricName, MetricQuery, Records};
use orchestore_repo::{RepoError, Store};

use super::telemetry::{at, audit_rows, component, sample};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_not_found};

fn query(
    component: &orchestore_domain::Component,
    name: &str,
    since: &str,
    until: &str,
    bucket: Bucket,
) -> MetricQuery {
    MetricQuery::new(
        component.id,
        MetricName::parse(name).expect("name"),
        at(since),
        at(until),
        bucket,
    )
    .expect("query")
}

fn close(got: f64, expected: f64) -> bool {
    (got - expected).abs() <= 1e-9 * expected.abs().max(1.0)
}

fn assert_bucket(
    got: &MetricBucket,
    start: &str,
    count: u64,
    min: f64,
    max: f64,
    mean: f64,
    p95: f64,
) {
    assert_eq!(got.start, at(start), "{got:?}");
    assert_eq!(got.count, count, "{got:?}");
    assert!(close(got.min, min) && close(got.max, max), "{got:?}");
    assert!(close(got.mean, mean), "mean {got:?}");
    assert!(close(got.p95, p95), "p95 {got:?}, expected {p95}");
}

pub async fn metrics_are_bucketed_with_min_max_mean_count_and_p95<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let api = component(store, ctx, "api").await;
    let worker = component(store, ctx, "worker").await;
    let base = at("2020-01-01T10:00:00Z");
    let mut samples = Vec::new();
    // 10:00: 1 to 100, spread over the minute and shuffled.
    for i in 0..100u32 {
        let value = f64::from((i * 37) % 100 + 1);
        samples.push(sample(
            &api,
            "latency_ms",
            value,
            base + Duration::milliseconds(i64::from(i) * 500),
        ));
    }
    // 10:01: two values; 10:03: one.
    samples.push(sample(
        &api,
        "latency_ms",
        20.0,
        base + Duration::seconds(61),
    ));
    samples.push(sample(
        &api,
        "latency_ms",
        10.0,
        base + Duration::seconds(119),
    ));
    samples.push(sample(
        &api,
        "latency_ms",
        7.0,
        base + Duration::seconds(180),
    ));
    // Not in the series: another metric, another component, and outside the range.
    samples.push(sample(&api, "errors", 1000.0, base + Duration::seconds(30)));
    samples.push(sample(
        &worker,
        "latency_ms",
        1000.0,
        base + Duration::seconds(30),
    ));
    samples.push(sample(
        &api,
        "latency_ms",
        1000.0,
        base + Duration::minutes(5),
    ));
    samples.push(sample(
        &api,
        "latency_ms",
        1000.0,
        base - Duration::microseconds(1),
    ));
    let written = store
        .record_metrics(ctx, Records::parse("samples", samples).expect("batch"))
        .await
        .expect("record");
    assert_eq!(written, 107);

    let minutes = store
        .query_metrics(
            ctx,
            query(
                &api,
                "latency_ms",
                "2020-01-01T10:00:00Z",
                "2020-01-01T10:05:00Z",
                Bucket::Minute,
            ),
        )
        .await
        .expect("by minute");
    assert_eq!(minutes.len(), 3, "empty buckets are left out: {minutes:?}");
    // p95 of 1..=100: rank 0.95 · 99 = 94.05 → 95 + 0.05 · (96 − 95).
    assert_bucket(
        &minutes[0],
        "2020-01-01T10:00:00Z",
        100,
        1.0,
        100.0,
        50.5,
        95.05,
    );
    // p95 of [10, 20]: 10 + 0.95 · 10.
    assert_bucket(
        &minutes[1],
        "2020-01-01T10:01:00Z",
        2,
        10.0,
        20.0,
        15.0,
        19.5,
    );
    assert_bucket(&minutes[2], "2020-01-01T10:03:00Z", 1, 7.0, 7.0, 7.0, 7.0);

    let hours = store
        .query_metrics(
            ctx,
            query(
                &api,
                "latency_ms",
                "2020-01-01T10:00:00Z",
                "2020-01-01T10:05:00Z",
                Bucket::Hour,
            ),
        )
        .await
        .expect("by hour");
    assert_eq!(hours.len(), 1);
    let all: Vec<f64> = {
        let mut values: Vec<f64> = (1..=100).map(f64::from).collect();
        values.extend([20.0, 10.0, 7.0]);
        values.sort_by(f64::total_cmp);
        values
    };
    let p95 = orchestore_domain::percentile_95(&all).expect("p95");
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    assert_bucket(
        &hours[0],
        "2020-01-01T10:00:00Z",
        103,
        1.0,
        100.0,
        mean,
        p95,
    );

    // A day bucket starts at midnight UTC and holds the sample before 10:00 too.
    let days = store
        .query_metrics(
            ctx,
            query(
                &api,
                "latency_ms",
                "2020-01-01T00:00:00Z",
                "2020-01-02T00:00:00Z",
                Bucket::Day,
            ),
        )
        .await
        .expect("by day");
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].start, at("2020-01-01T00:00:00Z"));
    assert_eq!(days[0].count, 105);
    assert_eq!(days[0].max, 1000.0);

    assert_not_found(
        store
            .query_metrics(
                &other.ctx,
                query(
                    &api,
                    "latency_ms",
                    "2020-01-01T10:00:00Z",
                    "2020-01-01T11:00:00Z",
                    Bucket::Minute,
                ),
            )
            .await,
        "component",
    );
}

pub async fn a_batch_of_thousands_of_samples_is_recorded_in_one_call<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let api = component(store, ctx, "api").await;
    let theirs = component(store, &other.ctx, "theirs").await;
    let base = at("2020-01-01T00:00:00Z");
    let max = Records::<()>::MAX;
    let batch: Vec<_> = (0..max)
        .map(|i| {
            let i = i64::try_from(i).expect("index");
            sample(
                &api,
                "queue_depth",
                (i % 10) as f64,
                base + Duration::seconds(i),
            )
        })
        .collect();
    let written = store
        .record_metrics(ctx, Records::parse("samples", batch).expect("batch"))
        .await
        .expect("record");
    assert_eq!(written, max as u64);
    let day = store
        .query_metrics(
            ctx,
            query(
                &api,
                "queue_depth",
                "2020-01-01T00:00:00Z",
                "2020-01-02T00:00:00Z",
                Bucket::Day,
            ),
        )
        .await
        .expect("by day");
    assert_eq!(day.len(), 1);
    assert_eq!(day[0].count, max as u64);
    assert_eq!((day[0].min, day[0].max, day[0].mean), (0.0, 9.0, 4.5));
    let hours = store
        .query_metrics(
            ctx,
            query(
                &api,
                "queue_depth",
                "2020-01-01T00:00:00Z",
                "2020-01-02T00:00:00Z",
                Bucket::Hour,
            ),
        )
        .await
        .expect("by hour");
    // 10,000 seconds from midnight: two full hours and 2,800 seconds of the third.
    let counts: Vec<u64> = hours.iter().map(|b| b.count).collect();
    assert_eq!(counts, [3600, 3600, 2800]);
    // Samples write no audit row.
    assert!(audit_rows(store, ctx, "metric").await.is_empty());

    // A sample of another organization's component refuses the whole batch.
    let refused = store
        .record_metrics(
            ctx,
            Records::parse(
                "samples",
                vec![
                    sample(&api, "refused", 1.0, base),
                    sample(&api, "refused", 2.0, base),
                    sample(&theirs, "refused", 3.0, base),
                ],
            )
            .expect("batch"),
        )
        .await;
    match refused {
        Err(RepoError::InBatch { index: 2, error }) => assert!(
            matches!(
                *error,
                RepoError::Reference {
                    field: "component_id",
                    ..
                }
            ),
            "{error:?}"
        ),
        other => panic!("expected a reference error on samples[2], got {other:?}"),
    }
    let nothing = store
        .query_metrics(
            ctx,
            query(
                &api,
                "refused",
                "2020-01-01T00:00:00Z",
                "2020-01-02T00:00:00Z",
                Bucket::Day,
            ),
        )
        .await
        .expect("query");
    assert!(nothing.is_empty());
}

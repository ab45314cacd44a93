use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::values::text_enum;
use super::{Measure, MetricName, MetricTags, MetricUnit};
use crate::{ComponentId, DomainError};

/// One measured value of a component's metric. Samples are appended and never changed; they
/// are read back aggregated ([`MetricBucket`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewMetricSample {
    pub component_id: ComponentId,
    pub name: MetricName,
    pub value: Measure,
    pub unit: Option<MetricUnit>,
    pub tags: MetricTags,
    /// `None`: now.
    pub recorded_at: Option<DateTime<Utc>>,
}

text_enum!(
    /// The width of the buckets a metric query groups samples into, aligned on UTC (a day
    /// runs from midnight UTC).
    Bucket, "bucket" {
        Minute = "minute",
        Hour = "hour",
        Day = "day",
    }
);

impl Bucket {
    pub const fn seconds(self) -> i64 {
        match self {
            Self::Minute => 60,
            Self::Hour => 3_600,
            Self::Day => 86_400,
        }
    }

    /// The start of the bucket that holds `at`.
    pub fn start_of(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let width = self.seconds();
        let start = at.timestamp().div_euclid(width) * width;
        DateTime::from_timestamp(start, 0).unwrap_or(at)
    }
}

/// Which samples a metric query aggregates: one metric of one component, recorded at or after
/// `since` and before `until`, in buckets of `bucket`. The range spans at most
/// [`MetricQuery::MAX_BUCKETS`] buckets, so that one query cannot ask for an unbounded answer.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    component_id: ComponentId,
    name: MetricName,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    bucket: Bucket,
}

impl MetricQuery {
    /// A day by the minute (1,440) fits; a week by the minute does not.
    pub const MAX_BUCKETS: i64 = 1_500;

    pub fn new(
        component_id: ComponentId,
        name: MetricName,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        bucket: Bucket,
    ) -> Result<Self, DomainError> {
        if until <= since {
            return Err(DomainError::invalid("until", "must be after since"));
        }
        let last = until - TimeDelta::microseconds(1);
        let buckets =
            (bucket.start_of(last) - bucket.start_of(since)).num_seconds() / bucket.seconds() + 1;
        if buckets > Self::MAX_BUCKETS {
            return Err(DomainError::invalid(
                "bucket",
                format!(
                    "the range spans {buckets} buckets of a {bucket}; at most {} are answered: \
                     take a wider bucket or a shorter range",
                    Self::MAX_BUCKETS
                ),
            ));
        }
        Ok(Self {
            component_id,
            name,
            since,
            until,
            bucket,
        })
    }

    pub fn component_id(&self) -> ComponentId {
        self.component_id
    }

    pub fn name(&self) -> &MetricName {
        &self.name
    }

    pub fn since(&self) -> DateTime<Utc> {
        self.since
    }

    pub fn until(&self) -> DateTime<Utc> {
        self.until
    }

    pub fn bucket(&self) -> Bucket {
        self.bucket
    }
}

/// The samples of one bucket, aggregated. Buckets without samples are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MetricBucket {
    /// The bucket's first instant.
    pub start: DateTime<Utc>,
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// The 95th percentile: see [`percentile_95`].
    pub p95: f64,
}

/// The 95th percentile of sorted values, by linear interpolation between the two closest
/// ranks (PostgreSQL's `percentile_cont(0.95)`, NumPy's default): at 0-based rank
/// `r = 0.95 · (n − 1)`, `v[⌊r⌋] + (r − ⌊r⌋) · (v[⌊r⌋ + 1] − v[⌊r⌋])`. `None` when empty.
///
/// It needs only the values at ranks `⌊r⌋` and `⌊r⌋ + 1`: [`p95_ranks`] names them, and
/// [`p95_between`] interpolates, so a database can hand over just those two.
pub fn percentile_95(sorted: &[f64]) -> Option<f64> {
    let n = u64::try_from(sorted.len()).ok().filter(|n| *n > 0)?;
    let (low, high) = p95_ranks(n);
    let at = |rank: u64| {
        usize::try_from(rank)
            .ok()
            .and_then(|i| sorted.get(i))
            .copied()
    };
    Some(p95_between(n, at(low)?, at(high).or(at(low))?))
}

/// The 0-based ranks whose values the 95th percentile of `n` sorted values lies between:
/// `(⌊0.95 · (n − 1)⌋, that + 1)`, computed in integers so that no rounding moves them.
pub const fn p95_ranks(n: u64) -> (u64, u64) {
    let low = 95 * n.saturating_sub(1) / 100;
    (low, low + 1)
}

/// The 95th percentile of `n` values from the values at its two ranks ([`p95_ranks`]); `high`
/// is `low` when `n` is 1 (no second rank).
pub fn p95_between(n: u64, low: f64, high: f64) -> f64 {
    let fraction = (95 * n.saturating_sub(1) % 100) as f64 / 100.0;
    low + fraction * (high - low)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("a time")
    }

    #[test]
    fn p95_interpolates_between_the_closest_ranks() {
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile_95(&hundred), Some(95.05));
        assert_eq!(percentile_95(&[10.0, 20.0]), Some(19.5));
        assert_eq!(percentile_95(&[7.0]), Some(7.0));
        assert_eq!(percentile_95(&[]), None);
        let twenty_one: Vec<f64> = (0..=20).map(f64::from).collect();
        assert_eq!(percentile_95(&twenty_one), Some(19.0));
    }

    #[test]
    fn buckets_align_on_utc() {
        let t = at("2026-11-27T10:22:40.5Z");
        assert_eq!(Bucket::Minute.start_of(t), at("2026-11-27T10:22:00Z"));
        assert_eq!(Bucket::Hour.start_of(t), at("2026-11-27T10:00:00Z"));
        assert_eq!(Bucket::Day.start_of(t), at("2026-11-27T00:00:00Z"));
    }

    #[test]
    fn a_query_spans_a_bounded_number_of_buckets() {
        let query = |since: &str, until: &str, bucket| {
            MetricQuery::new(
                ComponentId::new(),
                MetricName::parse("latency").expect("name"),
                at(since),
                at(until),
                bucket,
            )
        };
        assert!(
            query(
                "2026-11-27T00:00:00Z",
                "2026-11-28T00:00:00Z",
                Bucket::Minute
            )
            .is_ok()
        );
        let week = query(
            "2026-11-20T00:00:00Z",
            "2026-11-27T00:00:00Z",
            Bucket::Minute,
        );
        assert_eq!(week.unwrap_err().field(), Some("bucket"));
        assert!(query("2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z", Bucket::Hour).is_ok());
        let backwards = query("2026-11-27T00:00:00Z", "2026-11-27T00:00:00Z", Bucket::Hour);
        assert_eq!(backwards.unwrap_err().field(), Some("until"));
    }
}

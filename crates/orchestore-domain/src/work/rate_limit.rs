//! Rate limits: named token buckets (`openai:requests`, 500 per minute) that a task declares it
//! consumes. A claim hands a task out only when each of its buckets holds the units it needs,
//! and takes them; a bucket refills evenly with time, from empty to full in its period.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::{DomainError, OrganizationId, RateLimitId, Revision};

/// The name of a rate limit: 1 to 100 ASCII letters, digits and `_ . : / -`, e.g.
/// `openai:requests`. Names compare exactly (case included): tasks name their buckets by it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct RateLimitName(String);

deserialize_by_parse!(RateLimitName, String, |raw| RateLimitName::parse(
    "name", &raw
));

impl RateLimitName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(DomainError::invalid(
                field,
                format!("a rate limit name is 1 to {} characters", Self::MAX_LEN),
            ));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "_.:/-".contains(*c)))
        {
            return Err(DomainError::invalid(
                field,
                format!("{bad:?} is not allowed: use ASCII letters, digits and _ . : / -"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RateLimitName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The most tokens a bucket holds, and the most units a task may take of one: 1 to one billion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct TokenCount(u32);

deserialize_by_parse!(TokenCount, i64, |raw| TokenCount::parse("capacity", raw));

impl TokenCount {
    pub const MAX: u32 = 1_000_000_000;

    pub fn parse(field: &'static str, raw: i64) -> Result<Self, DomainError> {
        match u32::try_from(raw) {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(DomainError::invalid(
                field,
                format!("must be 1 to {}", Self::MAX),
            )),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// How long an empty bucket takes to fill: 1 second to 30 days, in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct RefillPeriod(u32);

deserialize_by_parse!(RefillPeriod, i64, |raw| {
    RefillPeriod::parse("period_seconds", raw)
});

impl RefillPeriod {
    pub const MAX_SECONDS: u32 = 30 * 24 * 3600;

    pub fn parse(field: &'static str, seconds: i64) -> Result<Self, DomainError> {
        match u32::try_from(seconds) {
            Ok(s) if (1..=Self::MAX_SECONDS).contains(&s) => Ok(Self(s)),
            _ => Err(DomainError::invalid(
                field,
                format!("must be 1 to {} seconds", Self::MAX_SECONDS),
            )),
        }
    }

    pub fn seconds(self) -> u32 {
        self.0
    }
}

/// A token bucket's balance: `tokens` as of `refilled_at`. Pure arithmetic in whole tokens and
/// microseconds, so that two servers reading the same row compute the same balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    pub capacity: TokenCount,
    pub period: RefillPeriod,
    pub tokens: u32,
    pub refilled_at: DateTime<Utc>,
}

impl TokenBucket {
    /// A full bucket at `at`.
    pub fn full(capacity: TokenCount, period: RefillPeriod, at: DateTime<Utc>) -> Self {
        Self {
            capacity,
            period,
            tokens: capacity.get(),
            refilled_at: at,
        }
    }

    /// The balance at `at`: the tokens the time since `refilled_at` earned are added (whole
    /// tokens only; the time of a partial token carries over, since `refilled_at` moves on by
    /// exactly the time the whole ones took, rounded up so that nothing is granted twice). A
    /// full bucket earns nothing, so its `refilled_at` is `at`. A time before `refilled_at` (a
    /// clock that went back) changes nothing.
    pub fn refilled(self, at: DateTime<Utc>) -> Self {
        let capacity = i128::from(self.capacity.get());
        if i128::from(self.tokens) >= capacity {
            return Self {
                tokens: self.capacity.get(),
                refilled_at: at.max(self.refilled_at),
                ..self
            };
        }
        let period_us = i128::from(self.period.seconds()) * 1_000_000;
        let elapsed_us = match (at - self.refilled_at).num_microseconds() {
            Some(us) if us <= 0 => return self,
            Some(us) => i128::from(us),
            // Longer than any period: the bucket is full.
            None => period_us,
        };
        let earned = elapsed_us * capacity / period_us;
        if i128::from(self.tokens) + earned >= capacity {
            return Self {
                tokens: self.capacity.get(),
                refilled_at: at,
                ..self
            };
        }
        // Rounded up; both are positive.
        let spent_us = (earned * period_us + capacity - 1) / capacity;
        // Both fit: `earned` is below the capacity, `spent_us` at most `elapsed_us`.
        let earned = u32::try_from(earned).unwrap_or(0);
        let spent_us = i64::try_from(spent_us).unwrap_or(0);
        Self {
            tokens: self.tokens + earned,
            refilled_at: self.refilled_at + Duration::microseconds(spent_us),
            ..self
        }
    }

    /// Takes `units` when the bucket holds them; whether it did.
    pub fn take(&mut self, units: u32) -> bool {
        if units > self.tokens {
            return false;
        }
        self.tokens -= units;
        true
    }
}

/// A rate limit as read: its balance is refilled to the time of the read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RateLimit {
    pub id: RateLimitId,
    pub organization_id: OrganizationId,
    pub name: RateLimitName,
    /// The most tokens the bucket holds (its burst).
    pub capacity: TokenCount,
    /// How long the bucket takes to refill from empty to full, evenly.
    pub period_seconds: RefillPeriod,
    /// The tokens available when it was read.
    pub tokens: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

/// A new rate limit; it starts full.
#[derive(Debug, Clone)]
pub struct NewRateLimit {
    pub name: RateLimitName,
    pub capacity: TokenCount,
    pub period: RefillPeriod,
}

/// What an update may change; `None` leaves a field as it is. The balance is refilled under the
/// old terms up to the update, then kept (at most the new capacity).
#[derive(Debug, Clone, Default)]
pub struct RateLimitPatch {
    pub capacity: Option<TokenCount>,
    pub period: Option<RefillPeriod>,
}

/// What a task takes of one bucket each time it is claimed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RateLimitUse {
    pub name: RateLimitName,
    pub units: TokenCount,
}

/// A use as written: what the API and the store read, before it is parsed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimitUse {
    pub name: String,
    /// 1 when left out.
    #[serde(default = "one")]
    pub units: i64,
}

fn one() -> i64 {
    1
}

/// The buckets a task consumes, each named once, in name order; none by default. At most
/// [`RateLimitUses::MAX`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct RateLimitUses(Vec<RateLimitUse>);

deserialize_by_parse!(RateLimitUses, Vec<RawRateLimitUse>, |raw| {
    RateLimitUses::parse(&raw)
});

impl RateLimitUses {
    pub const MAX: usize = 16;
    const FIELD: &'static str = "rate_limits";

    pub fn parse(raw: &[RawRateLimitUse]) -> Result<Self, DomainError> {
        if raw.len() > Self::MAX {
            return Err(DomainError::invalid(
                Self::FIELD,
                format!("at most {} rate limits", Self::MAX),
            ));
        }
        let mut uses = BTreeMap::new();
        for item in raw {
            let name = RateLimitName::parse(Self::FIELD, &item.name)?;
            let units = TokenCount::parse(Self::FIELD, item.units)?;
            if uses.insert(name.clone(), units).is_some() {
                return Err(DomainError::invalid(
                    Self::FIELD,
                    format!("{name} is named twice"),
                ));
            }
        }
        Ok(Self(
            uses.into_iter()
                .map(|(name, units)| RateLimitUse { name, units })
                .collect(),
        ))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &RateLimitUse> {
        self.0.iter()
    }

    /// The uses as written, for storage.
    pub fn to_raw(&self) -> Vec<RawRateLimitUse> {
        self.0
            .iter()
            .map(|u| RawRateLimitUse {
                name: u.name.as_str().to_owned(),
                units: i64::from(u.units.get()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(capacity: i64, period: i64, tokens: u32) -> TokenBucket {
        TokenBucket {
            capacity: TokenCount::parse("capacity", capacity).expect("capacity"),
            period: RefillPeriod::parse("period", period).expect("period"),
            tokens,
            refilled_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    fn after(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::milliseconds(ms)
    }

    #[test]
    fn a_bucket_earns_whole_tokens_and_keeps_the_partial_time() {
        // 10 per minute: a token every 6 seconds.
        let b = bucket(10, 60, 0);
        assert_eq!(b.refilled(after(5_999)).tokens, 0);
        let half = b.refilled(after(30_000));
        assert_eq!((half.tokens, half.refilled_at), (5, after(30_000)));
        // 9 s: one token, and the 3 s left count towards the next.
        let one = b.refilled(after(9_000));
        assert_eq!((one.tokens, one.refilled_at), (1, after(6_000)));
        assert_eq!(one.refilled(after(12_000)).tokens, 2);
    }

    #[test]
    fn a_bucket_never_exceeds_its_capacity_nor_goes_back() {
        let b = bucket(10, 60, 4);
        let full = b.refilled(after(3_600_000));
        assert_eq!((full.tokens, full.refilled_at), (10, after(3_600_000)));
        let later = bucket(10, 60, 4).refilled(after(-1_000));
        assert_eq!(later, bucket(10, 60, 4));
    }

    #[test]
    fn taking_never_leaves_a_negative_balance() {
        let mut b = bucket(3, 60, 3);
        assert!(b.take(2));
        assert!(!b.take(2));
        assert!(b.take(1));
        assert_eq!(b.tokens, 0);
    }

    #[test]
    fn uses_are_named_once_in_name_order() {
        let raw = |name: &str, units| RawRateLimitUse {
            name: name.to_owned(),
            units,
        };
        let uses = RateLimitUses::parse(&[raw("b", 2), raw("a:x", 1)]).expect("uses");
        let names: Vec<&str> = uses.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["a:x", "b"]);
        assert!(RateLimitUses::parse(&[raw("a", 1), raw("a", 2)]).is_err());
        assert!(RateLimitUses::parse(&[raw("a", 0)]).is_err());
        assert!(RateLimitUses::parse(&[raw("a b", 1)]).is_err());
    }
}

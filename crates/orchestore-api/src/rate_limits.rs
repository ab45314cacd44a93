//! `/api/v1/rate-limits`: named token buckets that tasks consume (`rate_limits` on a task).

use orchestore_domain::{NewRateLimit, RateLimitName, RateLimitPatch, RefillPeriod, TokenCount};
use orchestore_repo::RateLimitSort;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PatchField};

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRateLimitBody {
    /// Unique in the organization; tasks name the bucket by it (case counts).
    #[schema(pattern = "^[A-Za-z0-9_.:/-]{1,100}$", examples("openai:requests"))]
    pub name: String,
    /// The most tokens the bucket holds.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub capacity: i64,
    /// How long the bucket takes to refill from empty to full (at most 30 days).
    #[schema(minimum = 1, maximum = 2_592_000)]
    pub period_seconds: i64,
}

impl CreateRateLimitBody {
    pub fn into_new_rate_limit(self) -> Result<NewRateLimit, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(RateLimitName::parse("name", &self.name));
        let capacity = errors.check(TokenCount::parse("capacity", self.capacity));
        let period = errors.check(RefillPeriod::parse("period_seconds", self.period_seconds));
        let (Some(name), Some(capacity), Some(period)) = (name, capacity, period) else {
            return Err(errors.into_error());
        };
        Ok(NewRateLimit {
            name,
            capacity,
            period,
        })
    }
}

/// Absent fields stay as they are; the balance earned under the old terms is kept, at most the
/// new capacity.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRateLimitBody {
    /// The most tokens the bucket holds.
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = i64, minimum = 1, maximum = 1_000_000_000)]
    pub capacity: PatchField<i64>,
    /// How long the bucket takes to refill from empty to full (at most 30 days).
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = i64, minimum = 1, maximum = 2_592_000)]
    pub period_seconds: PatchField<i64>,
}

impl PatchRateLimitBody {
    pub fn into_patch(self) -> Result<RateLimitPatch, Invalid> {
        let mut errors = FieldErrors::default();
        let capacity = errors.check(
            self.capacity
                .parse_required("capacity", |c| TokenCount::parse("capacity", c)),
        );
        let period = errors.check(self.period_seconds.parse_required("period_seconds", |p| {
            RefillPeriod::parse("period_seconds", p)
        }));
        let (Some(capacity), Some(period)) = (capacity, period) else {
            return Err(errors.into_error());
        };
        Ok(RateLimitPatch { capacity, period })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListRateLimitsQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<RateLimitSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

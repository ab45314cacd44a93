//! `/api/v1/leaderboards/settings`, `/api/v1/leaderboards/snapshots` and
//! `/api/v1/leaderboards/hall-of-fame`.

use orchestore_domain::{
    HallOfFameEntry, HallOfFameTop, LeaderboardKind, LeaderboardPeriod, LeaderboardWeights,
    Revised, Revision,
};
use orchestore_repo::{HallOfFameQuery, Limit, PageRequest, SnapshotFilter, SnapshotSort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, page_request};

/// The weights of the combined ranking, as `GET` shows them (its `revision` included or left
/// out): each from 0 to 1,000, not all three 0.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaderboardWeightsBody {
    /// The weight of a holder's points.
    #[schema(minimum = 0, maximum = 1000)]
    pub points: f64,
    /// The weight of an agent's rating above or below the initial 1,500.
    #[schema(minimum = 0, maximum = 1000)]
    pub rating: f64,
    /// The weight of an agent's overall reputation.
    #[schema(minimum = 0, maximum = 1000)]
    pub reputation: f64,
    /// The revision read: when given, the weights are replaced only if still at it, as with
    /// `If-Match`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<Revision>,
}

impl LeaderboardWeightsBody {
    pub fn into_weights(self) -> Result<LeaderboardWeights, Invalid> {
        LeaderboardWeights::parse(self.points, self.rating, self.reputation).map_err(Invalid::from)
    }
}

/// The weights of the combined ranking, as they read, with their revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeaderboardWeightsReply {
    /// The weight of a holder's points.
    pub points: f64,
    /// The weight of an agent's rating above or below the initial 1,500.
    pub rating: f64,
    /// The weight of an agent's overall reputation.
    pub reputation: f64,
    /// 1 until the weights are first set, one more with every `PUT`; sent as the `ETag`.
    pub revision: Revision,
}

impl From<Revised<LeaderboardWeights>> for LeaderboardWeightsReply {
    fn from(Revised { value, revision }: Revised<LeaderboardWeights>) -> Self {
        Self {
            points: value.points(),
            rating: value.rating(),
            reputation: value.reputation(),
            revision,
        }
    }
}

// `POST /api/v1/leaderboards/snapshots`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaderboardSnapshotBody {
    #[schema(value_type = LeaderboardKind)]
    pub kind: String,
    /// `all_time` when left out; `month` and `week` for points only.
    #[schema(value_type = Option<LeaderboardPeriod>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

impl LeaderboardSnapshotBody {
    pub fn into_kind_and_period(self) -> Result<(LeaderboardKind, LeaderboardPeriod), Invalid> {
        let mut errors = FieldErrors::default();
        let (kind, period) = kind_and_period(&mut errors, Some(&self.kind), self.period.as_deref());
        let (Some(kind), Some(period)) = (kind, period) else {
            return Err(errors.into_error());
        };
        Ok((kind, period))
    }
}

/// `GET /api/v1/leaderboards/snapshots`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SnapshotsQuery {
    /// Only snapshots of this kind of leaderboard.
    #[param(value_type = Option<LeaderboardKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Only snapshots over this period.
    #[param(value_type = Option<LeaderboardPeriod>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<SnapshotSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl SnapshotsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(SnapshotFilter, PageRequest<SnapshotSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(self.kind.as_deref().map(str::parse).transpose());
        let period = errors.check(self.period.as_deref().map(str::parse).transpose());
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(kind), Some(period), Some(page)) = (kind, period, page) else {
            return Err(errors.into_error());
        };
        Ok((SnapshotFilter { kind, period }, page))
    }
}

/// `GET /api/v1/leaderboards/hall-of-fame`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FameQuery {
    /// `points` (the default), `rating`, `reputation` or `combined`.
    #[param(value_type = Option<LeaderboardKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `all_time` (the default), `month` or `week` (points only).
    #[param(value_type = Option<LeaderboardPeriod>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Count the ranks from 1 to `top`.
    #[param(minimum = 1, maximum = 100, default = 1)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<u64>,
    /// How many holders.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl FameQuery {
    pub fn into_hall_of_fame_query(self) -> Result<HallOfFameQuery, Invalid> {
        let mut errors = FieldErrors::default();
        let (kind, period) =
            kind_and_period(&mut errors, self.kind.as_deref(), self.period.as_deref());
        let top = errors.check(
            self.top
                .map_or(Ok(HallOfFameTop::default()), HallOfFameTop::parse),
        );
        let limit = errors.check(self.limit.map_or(Ok(Limit::default()), Limit::parse));
        let (Some(kind), Some(period), Some(top), Some(limit)) = (kind, period, top, limit) else {
            return Err(errors.into_error());
        };
        Ok(HallOfFameQuery {
            kind,
            period,
            top,
            limit,
        })
    }
}

/// A leaderboard's kind and period: `points` and `all_time` when left out.
fn kind_and_period(
    errors: &mut FieldErrors,
    kind: Option<&str>,
    period: Option<&str>,
) -> (Option<LeaderboardKind>, Option<LeaderboardPeriod>) {
    let kind = errors.check(kind.map_or(Ok(LeaderboardKind::Points), str::parse));
    let period = errors.check(period.map_or(Ok(LeaderboardPeriod::AllTime), str::parse));
    (kind, period)
}

/// A hall of fame as read: what was asked for, and its holders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HallOfFame {
    pub kind: LeaderboardKind,
    pub period: LeaderboardPeriod,
    pub top: HallOfFameTop,
    pub items: Vec<HallOfFameEntry>,
}

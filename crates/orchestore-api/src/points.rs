//! `/api/v1/points`, the ledger.

use orchestore_domain::{
    NewPointAward, Participant, ParticipantKind, PointAmount, PointReason, PointSource,
};
use orchestore_repo::{PageRequest, PointAwardFilter, PointAwardSort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{FieldErrors, Invalid, ParticipantBody, page_request, participant_param};

// `POST /api/v1/points`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardPointsBody {
    /// Who gets the points.
    #[schema(value_type = Participant)]
    pub holder: ParticipantBody,
    /// Not 0; a negative amount lowers the total but not the experience.
    #[schema(minimum = -1_000_000, maximum = 1_000_000)]
    pub points: i64,
    /// Why: 1 to 500 characters, trimmed.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// What awarded them (`task`, `review`, `match`, …): 1 to 100 characters, trimmed.
    #[schema(min_length = 1, max_length = 100)]
    pub source: String,
}

impl AwardPointsBody {
    pub fn into_new_award(self) -> Result<NewPointAward, Invalid> {
        let mut errors = FieldErrors::default();
        let holder = errors.check(self.holder.parse("holder.kind"));
        let points = errors.check(PointAmount::parse(self.points));
        let reason = errors.check(PointReason::parse(&self.reason));
        let source = errors.check(PointSource::parse(&self.source));
        let (Some(holder), Some(points), Some(reason), Some(source)) =
            (holder, points, reason, source)
        else {
            return Err(errors.into_error());
        };
        Ok(NewPointAward {
            holder,
            points,
            reason,
            source,
        })
    }
}

/// `GET /api/v1/points`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPointsQuery {
    /// Only this holder's awards: given with `holder_id`.
    #[param(value_type = Option<ParticipantKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_kind: Option<String>,
    /// Given with `holder_kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_id: Option<Uuid>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<PointAwardSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListPointsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(PointAwardFilter, PageRequest<PointAwardSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let holder = errors.check(participant_param(
            "holder_kind",
            "holder_id",
            self.holder_kind,
            self.holder_id,
        ));
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(holder), Some(page)) = (holder, page) else {
            return Err(errors.into_error());
        };
        Ok((PointAwardFilter { holder }, page))
    }
}

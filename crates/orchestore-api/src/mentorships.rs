//! `/api/v1/mentorships` and each mentor's record.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    Description, MentorshipGoals, MentorshipProgress, MentorshipStatus, NewMentorship,
    NewMentorshipSession, Participant, ParticipantKind, SessionMinutes,
};
use orchestore_repo::{MentorshipFilter, MentorshipSort, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{FieldErrors, Invalid, ParticipantBody, page_request, participant_param};

// `POST /api/v1/mentorships`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMentorshipBody {
    #[schema(value_type = Participant)]
    pub mentor: ParticipantBody,
    /// Another participant than the mentor.
    #[schema(value_type = Participant)]
    pub mentee: ParticipantBody,
    /// 1 to 20 distinct goals, each 1 to 500 characters.
    #[schema(min_items = 1, max_items = 20)]
    pub goals: Vec<String>,
}

impl CreateMentorshipBody {
    pub fn into_new_mentorship(self) -> Result<NewMentorship, Invalid> {
        let mut errors = FieldErrors::default();
        let mentor = errors.check(self.mentor.parse("mentor.kind"));
        let mentee = errors.check(self.mentee.parse("mentee.kind"));
        let goals = errors.check(MentorshipGoals::parse(&self.goals));
        let (Some(mentor), Some(mentee), Some(goals)) = (mentor, mentee, goals) else {
            return Err(errors.into_error());
        };
        NewMentorship::new(mentor, mentee, goals).map_err(Invalid::from)
    }
}

/// `GET /api/v1/mentorships`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListMentorshipsQuery {
    /// Only this mentor's mentorships: given with `mentor_id`.
    #[param(value_type = Option<ParticipantKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentor_kind: Option<String>,
    /// Given with `mentor_kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentor_id: Option<Uuid>,
    /// Only this mentee's mentorships: given with `mentee_id`.
    #[param(value_type = Option<ParticipantKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentee_kind: Option<String>,
    /// Given with `mentee_kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentee_id: Option<Uuid>,
    /// Only mentorships in this status.
    #[param(value_type = Option<MentorshipStatus>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<MentorshipSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListMentorshipsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(MentorshipFilter, PageRequest<MentorshipSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let mentor = errors.check(participant_param(
            "mentor_kind",
            "mentor_id",
            self.mentor_kind,
            self.mentor_id,
        ));
        let mentee = errors.check(participant_param(
            "mentee_kind",
            "mentee_id",
            self.mentee_kind,
            self.mentee_id,
        ));
        let status = errors.check(
            self.status
                .map(|s| s.parse::<MentorshipStatus>())
                .transpose(),
        );
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(mentor), Some(mentee), Some(status), Some(page)) = (mentor, mentee, status, page)
        else {
            return Err(errors.into_error());
        };
        Ok((
            MentorshipFilter {
                mentor,
                mentee,
                status,
            },
            page,
        ))
    }
}

// `POST /api/v1/mentorships/{id}/status`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MentorshipStatusBody {
    /// The status to move to: `proposed` → `active` → `completed`, or `cancelled` from either
    /// of the first two.
    #[schema(value_type = MentorshipStatus)]
    pub status: String,
}

impl MentorshipStatusBody {
    pub fn into_status(self) -> Result<MentorshipStatus, Invalid> {
        self.status
            .parse::<MentorshipStatus>()
            .map_err(Invalid::from)
    }
}

// `POST /api/v1/mentorships/{id}/sessions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MentorshipSessionBody {
    /// Now when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_at: Option<DateTime<Utc>>,
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: i64,
    /// Up to 20,000 characters.
    #[schema(max_length = 20_000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// How far the mentee has come, in percent.
    #[schema(minimum = 0, maximum = 100)]
    pub progress: i64,
}

impl MentorshipSessionBody {
    /// The session to record, held at `now` when the body leaves `held_at` out.
    pub fn into_new_session(self, now: DateTime<Utc>) -> Result<NewMentorshipSession, Invalid> {
        let mut errors = FieldErrors::default();
        let duration = errors.check(SessionMinutes::parse(self.duration_minutes));
        let notes = errors.check(self.notes.map_or(Ok(Description::empty()), |n| {
            Description::parse("notes", &n)
        }));
        let progress = errors.check(MentorshipProgress::parse(self.progress));
        let (Some(duration), Some(notes), Some(progress)) = (duration, notes, progress) else {
            return Err(errors.into_error());
        };
        Ok(NewMentorshipSession {
            held_at: self.held_at.unwrap_or(now),
            duration,
            notes,
            progress,
        })
    }
}

//! `/api/v1/learning-records`.

use orchestore_domain::{
    ContextFilter, DomainError, LearningOutcome, Metadata, NewLearningRecord, Pattern,
    PatternPrefix, PatternQuery, Score,
};
use orchestore_repo::{LearningFilter, LearningSort, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, page_request};

// `POST /api/v1/learning-records`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRecordBody {
    /// What the record is about, e.g. `deploy.rollback` or `review/rust/unsafe`.
    #[schema(min_length = 1, max_length = 200)]
    pub pattern: String,
    /// A JSON object: the circumstances, which lists can filter on.
    #[schema(value_type = Option<Object>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    #[schema(value_type = LearningOutcome)]
    pub outcome: String,
    #[schema(value_type = Score)]
    pub score: f64,
}

impl CreateRecordBody {
    pub fn into_new_record(self) -> Result<NewLearningRecord, Invalid> {
        let mut errors = FieldErrors::default();
        let pattern = errors.check(Pattern::parse(&self.pattern));
        let context = errors.check(
            self.context
                .map_or(Ok(Metadata::default()), |c| Metadata::parse("context", c)),
        );
        let outcome = errors.check(self.outcome.parse::<LearningOutcome>());
        let score = errors.check(Score::parse(self.score));
        let (Some(pattern), Some(context), Some(outcome), Some(score)) =
            (pattern, context, outcome, score)
        else {
            return Err(errors.into_error());
        };
        Ok(NewLearningRecord {
            pattern,
            context,
            outcome,
            score,
        })
    }
}

/// `context` is a JSON object in the query string, e.g. `context={"model":"m1"}` (URL-encoded).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListRecordsQuery {
    /// Only records of exactly this pattern.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Only records whose pattern starts with this (not with `pattern`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_prefix: Option<String>,
    /// A JSON object: only records whose context holds each of its fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[param(value_type = Option<LearningOutcome>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<LearningSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListRecordsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(LearningFilter, PageRequest<LearningSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let pattern = errors.check(match (self.pattern, self.pattern_prefix) {
            (None, None) => Ok(None),
            (Some(exact), None) => Pattern::parse(&exact).map(|p| Some(PatternQuery::Exact(p))),
            (None, Some(prefix)) => {
                PatternPrefix::parse(&prefix).map(|p| Some(PatternQuery::Prefix(p)))
            }
            (Some(_), Some(_)) => Err(DomainError::invalid(
                "pattern_prefix",
                "give pattern or pattern_prefix, not both",
            )),
        });
        let context = errors.check(
            self.context
                .map(|raw| {
                    serde_json::from_str(&raw)
                        .map_err(|_| DomainError::invalid("context", "must be a JSON object"))
                        .and_then(ContextFilter::parse)
                })
                .transpose(),
        );
        let outcome = errors.check(self.outcome.as_deref().map(str::parse).transpose());
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(pattern), Some(context), Some(outcome), Some(page)) =
            (pattern, context, outcome, page)
        else {
            return Err(errors.into_error());
        };
        Ok((
            LearningFilter {
                pattern,
                context,
                outcome,
            },
            page,
        ))
    }
}

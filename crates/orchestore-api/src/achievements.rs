//! `/api/v1/achievement-definitions` and `/api/v1/achievements`.

use orchestore_domain::{
    AchievementCode, AchievementDefinitionId, AchievementDescription, AchievementName,
    AchievementPoints, Metadata, NewAchievement, NewAchievementDefinition, Participant,
};
use orchestore_repo::{AchievementDefinitionSort, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PageQuery, ParticipantBody};

// `POST /api/v1/achievement-definitions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AchievementDefinitionBody {
    /// Unique in the organization: 1 to 64 characters of `a`–`z`, `0`–`9`, `_`, `-` and `.`.
    #[schema(min_length = 1, max_length = 64, pattern = "^[a-z0-9_.-]+$")]
    pub code: String,
    /// 1 to 200 characters, trimmed.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// What the achievement is for: 1 to 2,000 characters, trimmed.
    #[schema(min_length = 1, max_length = 2000)]
    pub description: String,
    /// The points the achievement brings with it; 0 (none) when left out.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub points: i64,
    /// What earns it, in the organization's own terms: a JSON object.
    #[schema(value_type = Option<Object>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria: Option<serde_json::Value>,
}

impl AchievementDefinitionBody {
    pub fn into_new_definition(self) -> Result<NewAchievementDefinition, Invalid> {
        let mut errors = FieldErrors::default();
        let code = errors.check(AchievementCode::parse(&self.code));
        let name = errors.check(AchievementName::parse(&self.name));
        let description = errors.check(AchievementDescription::parse(&self.description));
        let points = errors.check(AchievementPoints::parse(self.points));
        let criteria = errors.check(
            self.criteria
                .map(|json| Metadata::parse("criteria", json))
                .transpose(),
        );
        let (Some(code), Some(name), Some(description), Some(points), Some(criteria)) =
            (code, name, description, points, criteria)
        else {
            return Err(errors.into_error());
        };
        Ok(NewAchievementDefinition {
            code,
            name,
            description,
            points,
            criteria,
        })
    }
}

// `POST /api/v1/achievements`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardAchievementBody {
    pub definition_id: AchievementDefinitionId,
    #[schema(value_type = Participant)]
    pub holder: ParticipantBody,
}

impl AwardAchievementBody {
    pub fn into_new_achievement(self) -> Result<NewAchievement, Invalid> {
        let holder = self.holder.parse("holder.kind")?;
        Ok(NewAchievement {
            definition_id: self.definition_id,
            holder,
        })
    }
}

/// `GET /api/v1/achievement-definitions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDefinitionsQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<AchievementDefinitionSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListDefinitionsQuery {
    pub fn into_page_request(self) -> Result<PageRequest<AchievementDefinitionSort>, Invalid> {
        PageQuery {
            limit: self.limit,
            cursor: self.cursor,
            sort: self.sort,
        }
        .into_page_request()
    }
}

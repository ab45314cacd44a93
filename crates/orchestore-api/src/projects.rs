//! `/api/v1/projects`.

use orchestore_domain::{
    Description, Metadata, Name, NewProject, ProjectPatch, Tags, parse_repository_url,
};
use orchestore_repo::{PageRequest, ProjectSort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PatchField, page_request};

/// `POST /api/v1/projects`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectBody {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<serde_json::Value>,
}

impl CreateProjectBody {
    pub fn into_new_project(self) -> Result<NewProject, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(Name::parse("name", &self.name));
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let repository_url = errors.check(
            self.repository_url
                .map(|url| parse_repository_url(&url))
                .transpose(),
        );
        let tags = errors.check(self.tags.map_or(Ok(Tags::default()), |t| Tags::parse(&t)));
        let settings = errors.check(
            self.settings
                .map_or(Ok(Metadata::default()), |s| Metadata::parse("settings", s)),
        );
        let (Some(name), Some(description), Some(repository_url), Some(tags), Some(settings)) =
            (name, description, repository_url, tags, settings)
        else {
            return Err(errors.into_error());
        };
        Ok(NewProject {
            name,
            description,
            repository_url,
            tags,
            settings,
        })
    }
}

/// `PATCH /api/v1/projects/{id}`: absent fields stay as they are; `repository_url: null`
/// clears the URL.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchProjectBody {
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub name: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub description: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<String>)]
    pub repository_url: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Vec<String>)]
    pub tags: PatchField<Vec<String>>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Object)]
    pub settings: PatchField<serde_json::Value>,
}

impl PatchProjectBody {
    pub fn into_patch(self) -> Result<ProjectPatch, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            self.name
                .parse_required("name", |n| Name::parse("name", &n)),
        );
        let description = errors.check(
            self.description
                .parse_required("description", |d| Description::parse("description", &d)),
        );
        let repository_url = errors.check(
            self.repository_url
                .parse_nullable(|url| parse_repository_url(&url)),
        );
        let tags = errors.check(self.tags.parse_required("tags", |t| Tags::parse(&t)));
        let settings = errors.check(
            self.settings
                .parse_required("settings", |s| Metadata::parse("settings", s)),
        );
        let (Some(name), Some(description), Some(repository_url), Some(tags), Some(settings)) =
            (name, description, repository_url, tags, settings)
        else {
            return Err(errors.into_error());
        };
        Ok(ProjectPatch {
            name,
            description,
            repository_url,
            tags,
            settings,
        })
    }
}

/// `GET /api/v1/projects`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListProjectsQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<ProjectSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListProjectsQuery {
    pub fn into_page_request(self) -> Result<PageRequest<ProjectSort>, Invalid> {
        let mut errors = FieldErrors::default();
        page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        )
        .ok_or_else(|| errors.into_error())
    }
}

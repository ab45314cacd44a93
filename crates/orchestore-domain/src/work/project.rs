use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Description, Metadata, Name, OrganizationId, ProjectId, Revision, Tags};

/// A body of work that tasks belong to. Names are unique within an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Project {
    pub id: ProjectId,
    pub organization_id: OrganizationId,
    pub name: Name,
    pub description: Description,
    pub repository_url: Option<String>,
    pub tags: Tags,
    pub settings: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

#[derive(Debug, Clone)]
pub struct NewProject {
    pub name: Name,
    pub description: Description,
    pub repository_url: Option<String>,
    pub tags: Tags,
    pub settings: Metadata,
}

/// The fields a PATCH may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    pub name: Option<Name>,
    pub description: Option<Description>,
    /// `Some(None)` clears the URL.
    pub repository_url: Option<Option<String>>,
    pub tags: Option<Tags>,
    pub settings: Option<Metadata>,
}

impl ProjectPatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.repository_url.is_none()
            && self.tags.is_none()
            && self.settings.is_none()
    }
}

/// Checks a repository URL: an absolute http(s), ssh or git URL of at most 2,048 characters.
pub fn parse_repository_url(raw: &str) -> Result<String, crate::DomainError> {
    let value = raw.trim();
    let scheme_ok = ["https://", "http://", "ssh://", "git://", "git@"]
        .iter()
        .any(|prefix| value.starts_with(prefix));
    if !scheme_ok
        || value.len() > 2048
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(crate::DomainError::invalid(
            "repository_url",
            "must be an http(s), ssh or git URL of at most 2048 characters",
        ));
    }
    Ok(value.to_owned())
}

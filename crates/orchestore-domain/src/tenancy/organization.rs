use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Name, OrganizationId, Slug};

/// A tenant. Every other row belongs to exactly one organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Organization {
    pub id: OrganizationId,
    pub slug: Slug,
    pub name: Name,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub slug: Slug,
    pub name: Name,
}

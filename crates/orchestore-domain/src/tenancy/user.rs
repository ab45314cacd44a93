use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Email, Name, OrganizationId, PasswordHash, SystemRole, UserId};

/// A person who logs in. The password hash is not part of it: it never leaves the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub organization_id: OrganizationId,
    pub email: Email,
    pub display_name: Name,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub display_name: Name,
    pub password_hash: PasswordHash,
    pub roles: Vec<SystemRole>,
}

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Email, Name, OrganizationId, PasswordHash, UserId};

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

/// The roles every organization has, seeded by migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemRole {
    Owner,
    Admin,
    Developer,
    Viewer,
    Agent,
}

impl SystemRole {
    pub const ALL: [SystemRole; 5] = [
        Self::Owner,
        Self::Admin,
        Self::Developer,
        Self::Viewer,
        Self::Agent,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Developer => "developer",
            Self::Viewer => "viewer",
            Self::Agent => "agent",
        }
    }
}

/// A permission code such as `tasks:write`. Routes name the one they need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Permission {
    OrganizationsRead,
    OrganizationsWrite,
    UsersRead,
    UsersWrite,
    ProjectsRead,
    ProjectsWrite,
    TasksRead,
    TasksWrite,
    AuditRead,
}

impl Permission {
    pub const ALL: [Permission; 9] = [
        Self::OrganizationsRead,
        Self::OrganizationsWrite,
        Self::UsersRead,
        Self::UsersWrite,
        Self::ProjectsRead,
        Self::ProjectsWrite,
        Self::TasksRead,
        Self::TasksWrite,
        Self::AuditRead,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Self::OrganizationsRead => "organizations:read",
            Self::OrganizationsWrite => "organizations:write",
            Self::UsersRead => "users:read",
            Self::UsersWrite => "users:write",
            Self::ProjectsRead => "projects:read",
            Self::ProjectsWrite => "projects:write",
            Self::TasksRead => "tasks:read",
            Self::TasksWrite => "tasks:write",
            Self::AuditRead => "audit:read",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }
}

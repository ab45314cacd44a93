use serde::Serialize;

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

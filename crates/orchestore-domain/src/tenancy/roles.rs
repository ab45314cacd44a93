use serde::Serialize;

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

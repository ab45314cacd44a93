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

    /// The role with this code (`owner`, `admin`, …); `None` for a role that is not a system
    /// role.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for role in SystemRole::ALL {
            assert_eq!(SystemRole::from_code(role.code()), Some(role));
            assert_eq!(
                serde_json::to_value(role).expect("serialize"),
                serde_json::json!(role.code())
            );
        }
        assert_eq!(SystemRole::from_code("Owner"), None);
        assert_eq!(SystemRole::from_code("superuser"), None);
    }
}

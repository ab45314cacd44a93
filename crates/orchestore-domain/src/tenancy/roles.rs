use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Description, DomainError, OrganizationId, Permission, Revision, RoleId};

/// The roles every organization has, seeded by migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

/// A role's code, e.g. `developer` or `release-manager`: 1 to 64 of `a-z`, `0-9`, `-` and `_`,
/// starting and ending with a letter or a digit. Codes name roles in requests; a custom role's
/// code is unique in its organization and differs from every system role's.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct RoleCode(String);

impl RoleCode {
    pub const MAX_CHARS: usize = 64;

    /// Parses `raw` (trimmed) as the input `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim();
        let inner = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_';
        let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let valid = !value.is_empty()
            && value.len() <= Self::MAX_CHARS
            && value.bytes().all(inner)
            && value.as_bytes().first().is_some_and(edge)
            && value.as_bytes().last().is_some_and(edge);
        if !valid {
            return Err(DomainError::invalid(
                field,
                format!(
                    "must be 1 to {} of a-z, 0-9, '-' and '_', starting and ending with a letter \
                     or a digit",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<SystemRole> for RoleCode {
    fn from(role: SystemRole) -> Self {
        Self(role.code().to_owned())
    }
}

impl fmt::Display for RoleCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for RoleCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for RoleCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

deserialize_by_parse!(RoleCode, String, |raw| RoleCode::parse("code", &raw));

/// A bundle of permissions that users hold. A system role (`organization_id` is `None`,
/// `is_system`) is shared by every organization and only migrations change it; a custom role
/// belongs to one organization, which may change and delete it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Role {
    pub id: RoleId,
    /// `None` for a system role.
    pub organization_id: Option<OrganizationId>,
    pub code: RoleCode,
    pub description: Description,
    pub is_system: bool,
    /// What the role grants, sorted by code.
    pub permissions: Vec<Permission>,
    pub created_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

impl Role {
    /// The system role this is, if it is one.
    pub fn system_role(&self) -> Option<SystemRole> {
        if self.is_system {
            SystemRole::from_code(self.code.as_str())
        } else {
            None
        }
    }

    /// Whether this role may be changed or deleted: an organization's own roles may, the
    /// system roles may not (they are shared by every organization).
    pub fn ensure_changeable(&self) -> Result<(), DomainError> {
        if self.is_system {
            Err(DomainError::SystemRole {
                code: self.code.as_str().to_owned(),
            })
        } else {
            Ok(())
        }
    }
}

/// A custom role to create in the context's organization.
#[derive(Debug, Clone)]
pub struct NewRole {
    pub code: RoleCode,
    pub description: Description,
    /// Stored as a set: order and repeats do not matter.
    pub permissions: Vec<Permission>,
}

/// The fields of a custom role a PATCH may change; `None` leaves a field as it is. The code
/// does not change: requests and grants name the role by it.
#[derive(Debug, Clone, Default)]
pub struct RolePatch {
    pub description: Option<Description>,
    /// Replaces the whole set of permissions.
    pub permissions: Option<Vec<Permission>>,
}

impl RolePatch {
    pub fn is_empty(&self) -> bool {
        self.description.is_none() && self.permissions.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(is_system: bool) -> Role {
        Role {
            id: RoleId::new(),
            organization_id: (!is_system).then(OrganizationId::new),
            code: RoleCode::from(SystemRole::Owner),
            description: Description::empty(),
            is_system,
            permissions: vec![Permission::TasksRead],
            created_at: Utc::now(),
            revision: Revision::FIRST,
        }
    }

    #[test]
    fn codes_round_trip() {
        for role in SystemRole::ALL {
            assert_eq!(SystemRole::from_code(role.code()), Some(role));
            assert_eq!(
                serde_json::to_value(role).expect("serialize"),
                serde_json::json!(role.code())
            );
            assert_eq!(RoleCode::from(role).as_str(), role.code());
        }
        assert_eq!(SystemRole::from_code("Owner"), None);
        assert_eq!(SystemRole::from_code("superuser"), None);
    }

    #[test]
    fn role_codes_are_slug_like() {
        for good in ["qa", "release-manager", "ops_2", "a", &"x".repeat(64)] {
            assert_eq!(
                RoleCode::parse("code", good).map(RoleCode::into_string),
                Ok(good.to_owned())
            );
        }
        assert_eq!(
            RoleCode::parse("code", "  qa ").map(RoleCode::into_string),
            Ok("qa".into())
        );
        for bad in [
            "",
            "QA",
            "-qa",
            "qa_",
            "q a",
            "qa.lead",
            "é",
            &"x".repeat(65),
        ] {
            let err = RoleCode::parse("role", bad).expect_err(bad);
            assert_eq!(err.field(), Some("role"), "{bad:?}");
        }
        assert!(serde_json::from_str::<RoleCode>("\"Bad Code\"").is_err());
    }

    #[test]
    fn system_roles_cannot_change() {
        let system = role(true);
        assert_eq!(system.system_role(), Some(SystemRole::Owner));
        let err = system.ensure_changeable().expect_err("system role");
        assert_eq!(
            err,
            DomainError::SystemRole {
                code: "owner".into()
            }
        );
        assert!(err.to_string().contains("cannot be changed or deleted"));
        let custom = role(false);
        assert_eq!(custom.system_role(), None);
        assert_eq!(custom.ensure_changeable(), Ok(()));
        assert!(RolePatch::default().is_empty());
    }
}

//! `/api/v1/roles`: the system roles every organization shares and the organization's own.

use orchestore_domain::{Description, DomainError, NewRole, Permission, RoleCode, RolePatch};
use orchestore_repo::{PageRequest, RoleSort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PatchField, page_request};

/// Parses permission codes, naming the `permissions` field.
fn permissions(codes: &[String]) -> Result<Vec<Permission>, DomainError> {
    codes
        .iter()
        .map(|code| {
            code.parse::<Permission>().map_err(|_| {
                DomainError::invalid("permissions", format!("{code:?} is not a permission"))
            })
        })
        .collect()
}

// `POST /api/v1/roles`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleBody {
    /// Unique in the organization, and not a system role's.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Permission codes such as `tasks:read`.
    #[schema(value_type = Option<Vec<Permission>>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

impl CreateRoleBody {
    pub fn into_new_role(self) -> Result<NewRole, Invalid> {
        let mut errors = FieldErrors::default();
        let code = errors.check(RoleCode::parse("code", &self.code));
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let permissions =
            errors.check(self.permissions.map_or(Ok(Vec::new()), |p| permissions(&p)));
        let (Some(code), Some(description), Some(permissions)) = (code, description, permissions)
        else {
            return Err(errors.into_error());
        };
        Ok(NewRole {
            code,
            description,
            permissions,
        })
    }
}

/// Absent fields stay as they are; `permissions` replaces the whole set.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRoleBody {
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub description: PatchField<String>,
    /// Permission codes such as `tasks:read`: the role's whole new set.
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Vec<Permission>)]
    pub permissions: PatchField<Vec<String>>,
}

impl PatchRoleBody {
    pub fn into_patch(self) -> Result<RolePatch, Invalid> {
        let mut errors = FieldErrors::default();
        let description = errors.check(
            self.description
                .parse_required("description", |d| Description::parse("description", &d)),
        );
        let permissions = errors.check(
            self.permissions
                .parse_required("permissions", |p| permissions(&p)),
        );
        let (Some(description), Some(permissions)) = (description, permissions) else {
            return Err(errors.into_error());
        };
        Ok(RolePatch {
            description,
            permissions,
        })
    }
}

// `GET /api/v1/roles`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListRolesQuery {
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<RoleSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListRolesQuery {
    pub fn into_page_request(self) -> Result<PageRequest<RoleSort>, Invalid> {
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

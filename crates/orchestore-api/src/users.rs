//! `/api/v1/users` and the roles each user holds.

use orchestore_domain::{Email, Name, Password, Role, RoleCode, RoleId, UserPatch, Username};
use orchestore_repo::UserSort;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PatchField};

// `POST /api/v1/users`. No `Debug`: it holds a password.
#[derive(Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserBody {
    pub email: String,
    pub display_name: String,
    /// Unique in the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// It must meet the password policy.
    #[schema(format = Password)]
    pub password: String,
    /// Role codes: system roles (`developer`, …) or the organization's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

/// A valid new user whose password is not hashed yet.
pub struct UserToCreate {
    pub email: Email,
    pub username: Option<Username>,
    pub display_name: Name,
    pub password: Password,
    pub roles: Vec<RoleCode>,
}

impl CreateUserBody {
    pub fn into_user_to_create(self) -> Result<UserToCreate, Invalid> {
        let mut errors = FieldErrors::default();
        let email = errors.check(Email::parse(&self.email));
        let display_name = errors.check(Name::parse("display_name", &self.display_name));
        let username = errors.check(self.username.as_deref().map(Username::parse).transpose());
        let password = match &email {
            Some(email) => errors.check(Password::for_account(&self.password, email)),
            None => errors.check(Password::parse(&self.password)),
        };
        let roles = errors.check(
            self.roles
                .unwrap_or_default()
                .iter()
                .map(|code| RoleCode::parse("roles", code))
                .collect::<Result<Vec<_>, _>>(),
        );
        let (Some(email), Some(display_name), Some(username), Some(password), Some(roles)) =
            (email, display_name, username, password, roles)
        else {
            return Err(errors.into_error());
        };
        Ok(UserToCreate {
            email,
            username,
            display_name,
            password,
            roles,
        })
    }
}

/// Absent fields stay as they are; `username: null` clears it; `active: false` deactivates.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUserBody {
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub display_name: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<String>)]
    pub username: PatchField<String>,
    /// `false` deactivates the user (their sessions and keys stop working), `true` reactivates.
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = bool)]
    pub active: PatchField<bool>,
}

impl PatchUserBody {
    /// The fields' patch, and the activation to set when the body changes it.
    pub fn into_patch(self) -> Result<(UserPatch, Option<bool>), Invalid> {
        let mut errors = FieldErrors::default();
        let display_name = errors.check(
            self.display_name
                .parse_required("display_name", |n| Name::parse("display_name", &n)),
        );
        let username = errors.check(self.username.parse_nullable(|u| Username::parse(&u)));
        let active = errors.check(self.active.parse_required("active", Ok));
        let (Some(display_name), Some(username), Some(active)) = (display_name, username, active)
        else {
            return Err(errors.into_error());
        };
        Ok((
            UserPatch {
                display_name,
                username,
            },
            active,
        ))
    }
}

// `GET /api/v1/users`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Only active users, or only deactivated ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// A role's id or code: the users who hold it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<UserSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

/// The one user to find: by e-mail address or by username, not both.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LookupUserQuery {
    /// The user's e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// A role to grant: by id or by code, not both.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRoleBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<RoleId>,
    /// The role's code: a system role (`developer`, …) or the organization's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The roles a user holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoleList {
    pub items: Vec<Role>,
}

//! `/api/v1/me`: the caller, and their password.

use orchestore_domain::{Email, Password, Permission, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Invalid;

/// The caller and what they may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    pub user: User,
    /// The permission codes the user's roles grant now (a token carries those of its issue);
    /// for an API key, what the key grants now.
    #[schema(value_type = Vec<String>)]
    pub permissions: Vec<Permission>,
}

// `POST /api/v1/me/password`. No `Debug`: it holds passwords.
#[derive(Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    #[schema(format = Password)]
    pub current_password: String,
    /// Must meet the password policy.
    #[schema(format = Password)]
    pub new_password: String,
}

impl ChangePasswordBody {
    /// The new password, checked against the policy for the account at `email`.
    pub fn new_password_for(&self, email: &Email) -> Result<Password, Invalid> {
        Ok(Password::for_account(&self.new_password, email)
            .map_err(|e| e.for_field("new_password"))?)
    }
}
